#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The e2e harness itself: what a failing test leaves is ended by its teardown
# (teardown_pods in helpers.bash). The suite runs a small bats file of its own that
# fails while its pod runs, and looks at what is left afterwards.

load helpers

setup() {
  requires root
  [[ -f "$BUILD/stage1-fly.aci" ]] || fail "build the stage1s first (make all)"
}

@test "harness: a test that fails while its pod runs leaves no pod process and no cgroup of its pod" {
  local nested=$BATS_TEST_TMPDIR/nested out=$BATS_TEST_TMPDIR/out at=@ # not a test of this file
  mkdir -p "$nested/tmp" "$out"
  cat >"$nested/fails.bats" <<BATS
load "$BATS_TEST_DIRNAME/helpers"

${at}test "fails while its pod runs" {
  fetch_busybox
  "\$PODRUN" --dir="\$STORE" run --stage1=fly --uuid-file-save="$out/uuid" "\$BUSYBOX_NAME" \\
    --exec=/bin/sleep -- 60 >/dev/null 2>&1 3>&- &
  [[ -n "\$(wait_pod_file "$out/uuid" pid)" ]]
  cat "\$STORE/pods/run/\$(cat "$out/uuid")/pid" >"$out/pid"
  false
}
BATS
  # its own TMPDIR, kept (--no-tempdir-cleanup): this test's teardown collects its
  # store too, should this test fail; none of this bats run's variables
  local unset=() v
  for v in $(compgen -e | grep '^BATS_'); do unset+=(-u "$v"); done
  log_run timeout 50 env "${unset[@]}" TMPDIR="$nested/tmp" BUILD="$BUILD" PODRUN="$PODRUN" \
    bats --tap --no-tempdir-cleanup "$nested/fails.bats"
  [[ $status -eq 1 ]] || fail "the nested test did not fail (alone): status $status"
  local uuid pid
  uuid=$(cat "$out/uuid")
  pid=$(cat "$out/pid")
  [[ -n $uuid && -n $pid ]] || fail "the nested test started no pod"
  wait_gone "$pid" || fail "the pod's stage1 ($pid) outlived its failed test"
  local left
  left=$(find /sys/fs/cgroup -mindepth 1 -type d -name "*$uuid*" 2>/dev/null)
  [[ -z $left ]] || fail "cgroups of the failed test's pod are left: $left"
  [[ -z $(find "$nested/tmp" -mindepth 3 -maxdepth 10 -type d -path "*/pods/*/$uuid") ]] ||
    fail "the failed test's pod was not collected"
}
