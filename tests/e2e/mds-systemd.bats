#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The metadata service's shipped units for real (Documentation/metadata-service.md): the
# host's own systemd booted in a container (booted.bash), podrun-metadata.socket started
# there as make install ships it, and `podrun run --mds-register` on its default socket.

load helpers
load booted

setup_file() {
  md_boot
  [[ -s "$BATS_FILE_TMPDIR/skip" ]] && return 0
  [[ -x "$BUILD/bin/podrun-metadata" ]] || { md_skip "build podrun-metadata first (make all)"; return 0; }
  cp "$BUILD/bin/podrun-metadata" "/proc/$(cat "$BATS_FILE_TMPDIR/pid1")/root$IN_DIR/bin/"
}

teardown_file() {
  md_shutdown
}

setup() {
  md_setup
}

@test "mds-systemd: podrun-metadata.socket starts the service on the first registration; it runs as podrun-metadata with no capability; the pod is served and unregistered" {
  local dest=$BATS_FILE_TMPDIR/install
  log_run make -s -C "$BATS_TEST_DIRNAME/../.." install-systemd DESTDIR="$dest" PREFIX="$IN_DIR"
  assert_status 0
  cp "$dest$IN_DIR/lib/systemd/system/"podrun-metadata.* "$MD_ROOT/run/systemd/system/"
  cp "$dest$IN_DIR/lib/sysusers.d/podrun.conf" "$MD_ROOT/tmp/podrun-sysusers.conf"
  log_run inside systemd-sysusers /tmp/podrun-sysusers.conf
  assert_status 0
  inside getent passwd podrun-metadata >/dev/null || fail "no user podrun-metadata"
  inside systemctl daemon-reload
  log_run inside systemctl start podrun-metadata.socket
  assert_status 0
  [[ $(inside stat -c '%a %U' /run/podrun/mds.sock) == "600 root" ]] || fail "the registration socket's mode"
  log_run inside systemctl is-active podrun-metadata.service
  [[ $output != active ]] || fail "the service runs before its socket is used"
  log_run inside_podrun run --insecure-options=image --mds-register --net=host --uuid-file-save="$IN_DIR/uuid-m" \
    "$IN_DIR/busybox.aci" --exec=/bin/sh -- -c \
    'echo "$AC_METADATA_URL"; wget -q -O - "$AC_METADATA_URL/acMetadata/v1/pod/uuid"; echo' ---
  assert_status 0
  local uuid
  uuid=$(cat "$MD_ROOT$IN_DIR/uuid-m")
  [[ ${lines[0]} =~ ^http://127\.0\.0\.1:18112/[0-9a-f]{64}$ ]] || fail "AC_METADATA_URL: ${lines[0]}"
  [[ ${lines[1]} == "$uuid" ]] || fail "the pod's uuid from the service: ${lines[1]}"
  # started by its socket (Type=notify: active once it said READY=1), as its own user, no capability
  [[ $(inside systemctl show -P ActiveState podrun-metadata.service) == active ]] || fail "the service is not active"
  local pid
  pid=$(inside systemctl show -P MainPID podrun-metadata.service)
  [[ $pid -gt 0 ]] || fail "no MainPID"
  [[ $(inside ps -o user= -p "$pid") == podrun-metadata ]] || fail "the service's user: $(inside ps -o user= -p "$pid")"
  [[ $(inside awk '/^CapEff:/ {print $2}' "/proc/$pid/status") == 0000000000000000 ]] || fail "capabilities kept"
  # the pod ended: unregistered
  local i
  for i in $(seq 50); do
    inside journalctl -u podrun-metadata.service -o cat --no-pager | grep -q "pod $uuid unregistered" && break
    sleep 0.1
  done
  log_run inside journalctl -u podrun-metadata.service -o cat --no-pager
  assert_output_contains "pod $uuid registered"
  assert_output_contains "pod $uuid unregistered: its podrun exited"
  log_run inside curl -s --unix-socket /run/podrun/mds.sock http://mds/v1/pods
  [[ $output == '{"pods":[]}'* ]] || fail "still registered: $output"
  inside systemctl stop podrun-metadata.socket podrun-metadata.service
}
