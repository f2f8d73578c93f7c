# SPDX-License-Identifier: LGPL-2.1-or-later
# Once for the e2e suites as a whole (bats reads this file before the first .bats file
# of tests/e2e). An exited pod keeps its cgroup, like its directory, until gc removes
# both (Documentation/pod-lifecycle.md); most tests do not gc their own pods, and the
# cgroups would outlive the test directories that bats deletes: so, once every file has
# run, every store of every test is collected.

setup_suite() {
  :
}

teardown_suite() {
  local podrun=${PODRUN:-$BATS_TEST_DIRNAME/../../build/bin/podrun} pods
  [[ -n "${BATS_RUN_TMPDIR:-}" && -x "$podrun" ]] || return 0
  find "$BATS_RUN_TMPDIR/test" -mindepth 3 -maxdepth 5 -type d -path '*/store/pods' 2>/dev/null |
    while read -r pods; do
      "$podrun" --dir="${pods%/pods}" gc --grace-period=0 --expire-prepared=0s >/dev/null 2>&1 || true
    done
  return 0
}
