# SPDX-License-Identifier: LGPL-2.1-or-later
# Once for the e2e suites as a whole (bats reads this file before the first .bats file
# of tests/e2e). An exited pod keeps its cgroup, like its directory, until gc removes
# both (Documentation/pod-lifecycle.md); most tests do not gc their own pods, and the
# cgroups would outlive the test directories that bats deletes: so, once every file has
# run, every store of every test and file is collected.

setup_suite() {
  :
}

teardown_suite() {
  local podrun=${PODRUN:-$BATS_TEST_DIRNAME/../../build/bin/podrun} run
  [[ -n "${BATS_RUN_TMPDIR:-}" && -x "$podrun" ]] || return 0
  # every store, whatever its directory's name (as teardown_pods finds them)
  find "$BATS_RUN_TMPDIR" -mindepth 3 -maxdepth 8 -type d -path '*/pods/run' 2>/dev/null |
    while read -r run; do
      "$podrun" --dir="${run%/pods/run}" gc --grace-period=0 --expire-prepared=0s >/dev/null 2>&1 || true
    done
  return 0
}
