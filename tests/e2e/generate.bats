#!/usr/bin/env bats
# podrun generate unit, outside a systemd (systemd.bats runs the units under one): a pod
# file's every error one line, nothing on stdout; the unit of a good one, and of a
# prepared pod.

load helpers

@test "generate unit: every error of a pod file is one line FILE:LINE: reason, exit 254, nothing on stdout" {
  printf '[Pod]\nFoo=1\nName=web\n[Service]\nExecStart=/bin/true\n[Bogus]\n' >"$BATS_TEST_TMPDIR/web.pod"
  run_podrun generate unit --from-file="$BATS_TEST_TMPDIR/web.pod"
  assert_error_lines 5 "web.pod:2: [Pod] has no key \"Foo\"" \
    "web.pod:3: Name= before any Image=: an app's key belongs to the Image= above it" \
    "web.pod:5: [Service] ExecStart= is podrun's to set" "web.pod:6: unknown section \"[Bogus]\"" \
    "web.pod: no Image=: a pod needs an app"
  [[ -z $output ]] || fail "stdout: $output"
}

@test "generate unit: a pod file's unit runs podrun itself, Type=notify, every word quoted for systemd" {
  cat >"$BATS_TEST_TMPDIR/web.pod" <<'POD'
[Pod]
Volume=data,kind=empty
Image=podrun.test/busybox
Exec=/bin/sh -c "echo $HOME 100%"
Mount=volume=data,target=/data
[Service]
Restart=always
POD
  run_podrun generate unit --from-file="$BATS_TEST_TMPDIR/web.pod"
  [[ $status -eq 0 ]] || fail "status $status"
  assert_output_contains "Type=notify"
  assert_output_contains "ExecStart=$(readlink -f "$PODRUN") run --volume=data,kind=empty podrun.test/busybox --exec=/bin/sh --mount=volume=data,target=/data -- -c \"echo \$\$HOME 100%%\" ---"
  assert_output_contains "Restart=always"
  # systemd's own parser takes the unit, with no setting ignored
  command -v systemd-analyze >/dev/null || skip "needs systemd-analyze (package systemd)"
  mkdir -p "$BATS_TEST_TMPDIR/units"
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/units/web.service"
  log_run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/units/web.service"
  assert_status 0
  [[ $output != *ignoring* ]] || fail "systemd ignores a setting"
}

@test "generate unit: a prepared pod's unit runs it with run-prepared; a pod not prepared is refused" {
  requires root
  fetch_busybox
  podrun prepare --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/busybox >/dev/null
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  run_podrun generate unit "$uuid"
  [[ $status -eq 0 ]] || fail "status $status"
  assert_output_contains "ExecStart=$(readlink -f "$PODRUN") --dir=$STORE run-prepared $uuid"
  assert_output_contains "Type=notify"
  run_podrun rm "$uuid"
  run_podrun generate unit "$uuid"
  [[ $status -eq 254 ]] || fail "status $status"
}
