#!/usr/bin/env bats
# The nspawn stage1 on a real systemd host: with a system bus it registers the pod with
# systemd-machined as machine podrun-<uuid>. The test machines have no systemd pid 1, so
# the file boots one (booted.bash): the host's own OS in a container, podrun inside it.

load helpers
load booted

MD_UNIT=podrun-e2e-svc

setup_file() {
  md_boot
}

teardown_file() {
  md_shutdown
}

setup() {
  md_setup
}

# A test that failed half-way leaves no pod running: a pod whose stage1 is outside the
# booted system's units holds its poweroff for 90 s (systemd asks the pod's nspawn, the
# machine scope's controller, to stop it over D-Bus, which is gone by then).
teardown() {
  [[ -n "${MD_PID1:-}" && -d /proc/$MD_PID1 ]] || return 0
  inside systemctl stop "$MD_UNIT" 2>/dev/null || true
  local f uuid
  for f in "$MD_ROOT$IN_DIR"/uuid-*; do
    [[ -s "$f" ]] || continue
    uuid=$(cat "$f")
    if inside_podrun status "$uuid" 2>/dev/null | grep -qx "state=running"; then
      inside_podrun stop "$uuid" >/dev/null 2>&1
      inside_podrun status --wait=10s "$uuid" >/dev/null 2>&1
    fi
  done
  return 0
}

# machines: the machine names machined lists in the booted system.
machines() {
  inside machinectl list --no-legend --no-pager | awk '{ print $1 }'
}

# machine_gone NAME: waits (5 s at most) until machined no longer lists NAME.
machine_gone() {
  for _ in $(seq 50); do
    machines | grep -qxF "$1" || return 0
    sleep 0.1
  done
  fail "machined still lists $1: $(machines | tr '\n' ' ')"
}

# assert_registered UUID: machined lists podrun-UUID as a running nspawn container whose
# root is the pod's stage1 rootfs and whose leader is the pod's init, the pid podrun
# records; the pod shows running.
assert_registered() {
  local uuid=$1 m=podrun-$1 pid leader
  machines | grep -qxF "$m" || fail "machinectl list does not show $m: $(machines | tr '\n' ' ')"
  log_run inside machinectl show "$m" --no-pager
  assert_status 0
  assert_output_contains "Name=$m"
  assert_output_contains "Class=container"
  assert_output_contains "Service=systemd-nspawn"
  assert_output_contains "RootDirectory=$IN_STORE/pods/run/$uuid/stage1/rootfs"
  assert_output_contains "State=running"
  pid=$(cat "$STORE/pods/run/$uuid/pid")
  leader=$(inside machinectl show "$m" -p Leader --value)
  [[ -n "$pid" && "$leader" == "$pid" ]] || fail "machine leader \"$leader\", pod pid \"$pid\""
  # (its arguments: the journal's fd under a journald, Documentation/systemd.md; the pod is
  # on the default network, a namespace of its own: no --host-network)
  [[ $(tr '\0' ' ' <"$MD_ROOT/proc/$leader/cmdline") =~ ^/nspawn/init\ (--journal-fd=[0-9]+\ (--journal-only\ )?)?$ ]] ||
    fail "the leader is not the pod init: $(tr '\0' ' ' <"$MD_ROOT/proc/$leader/cmdline")"
  log_run inside_podrun status "$uuid"
  assert_output_contains "state=running"
  assert_output_contains "pid=$pid"
}

@test "machined: a running pod is machine podrun-<uuid>, its leader the pod init; stop unregisters it" {
  inside_podrun --insecure-options=image run --uuid-file-save="$IN_DIR/uuid-1" "$IN_DIR/busybox.aci" \
    --exec=/bin/sleep -- 30 --- >"$BATS_TEST_TMPDIR/run.log" 2>&1 3>&- &
  local job=$! uuid
  uuid=$(wait_pod_file "$MD_ROOT$IN_DIR/uuid-1" pid)
  [[ -n "$uuid" ]] || { cat "$BATS_TEST_TMPDIR/run.log"; fail "the pod did not start"; }
  assert_registered "$uuid"
  # machined made the pod a scope of its own, and systemd runs it
  local unit
  unit=$(inside machinectl show "podrun-$uuid" -p Unit --value)
  [[ "$unit" == "machine-$(inside systemd-escape "podrun-$uuid").scope" ]] || fail "machine unit \"$unit\""
  inside systemctl -q is-active "$unit" || fail "$unit is not active"
  # stage1 and nspawn stay in the pod's cgroup, made by stage0 at the top of the tree
  local record nspawn run run_cg
  record=$(cat "$STORE/pods/run/$uuid/cgroup")
  nspawn=$(inside awk '$1 == "PPid:" { print $2 }' "/proc/$(cat "$STORE/pods/run/$uuid/pid")/status")
  run=$(inside awk '$1 == "PPid:" { print $2 }' "/proc/$nspawn/status")
  run_cg=$(inside grep '^0::' "/proc/$run/cgroup")
  echo "pod cgroup $record; run ($run) in $run_cg"
  [[ $record == /sys/fs/cgroup*/podrun/$uuid ]] || fail "pod cgroup \"$record\""
  [[ $run_cg == "0::/podrun/$uuid/_stage1" ]] || fail "run is in $run_cg"

  log_run inside_podrun stop "$uuid"
  assert_status 0
  log_run inside_podrun status --wait=20s "$uuid"
  assert_output_contains "state=exited"
  assert_output_contains "app-busybox=143"
  machine_gone "podrun-$uuid"
  wait "$job" || true
  log_run inside_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
  inside test ! -e "$record" || fail "$record is left"
}

@test "machined: podrun run as a systemd service's main process; the pod is a machine; systemctl stop ends it" {
  log_run inside systemd-run --unit="$MD_UNIT" --collect --quiet \
    "$IN_DIR/bin/podrun" --dir="$IN_STORE" --insecure-options=image run --uuid-file-save="$IN_DIR/uuid-2" \
    "$IN_DIR/busybox.aci" --exec=/bin/sleep -- 30 ---
  assert_status 0
  local uuid main
  uuid=$(wait_pod_file "$MD_ROOT$IN_DIR/uuid-2" pid)
  [[ -n "$uuid" ]] || { inside journalctl -u "$MD_UNIT" --no-pager; fail "the pod did not start"; }
  assert_registered "$uuid"
  # the service's main process is podrun, replaced by the stage1 holding the pod
  inside systemctl -q is-active "$MD_UNIT" || fail "$MD_UNIT is not active"
  main=$(inside systemctl show "$MD_UNIT" -p MainPID --value)
  # (stage0 passes the pod's network, the default one too)
  [[ $(tr '\0' ' ' <"$MD_ROOT/proc/$main/cmdline") == *"/stage1/rootfs/nspawn/run --net=default $uuid "* ]] ||
    fail "the main process $main is $(tr '\0' ' ' <"$MD_ROOT/proc/$main/cmdline")"
  # the pod stays in the service (--keep-unit, as rkt did): the machine's unit is the
  # service, and the pod init is in the service's cgroup
  local unit
  unit=$(inside machinectl show "podrun-$uuid" -p Unit --value)
  [[ "$unit" == "$MD_UNIT.service" || "$unit" == "$MD_UNIT" ]] || fail "machine unit \"$unit\""
  grep -q "${MD_UNIT%.service}.service" "$MD_ROOT/proc/$(cat "$STORE/pods/run/$uuid/pid")/cgroup" ||
    fail "the pod init left the service's cgroup: $(cat "$MD_ROOT/proc/$(cat "$STORE/pods/run/$uuid/pid")/cgroup")"
  # the pod's cgroup, made by stage0, is below the service's
  local record
  record=$(cat "$STORE/pods/run/$uuid/cgroup")
  echo "pod cgroup $record; init in $(cat "$MD_ROOT/proc/$(cat "$STORE/pods/run/$uuid/pid")/cgroup" | tr '\n' ' ')"
  [[ $record == */"${MD_UNIT%.service}.service/podrun/$uuid" ]] || fail "pod cgroup \"$record\""

  log_run inside systemctl stop "$MD_UNIT"
  assert_status 0
  log_run inside_podrun status --wait=20s "$uuid"
  assert_output_contains "state=exited"
  assert_output_contains "app-busybox=143" # stopped through the init, not killed by nspawn
  machine_gone "podrun-$uuid"
  if inside systemctl -q is-active "$MD_UNIT"; then fail "$MD_UNIT is still active"; fi
}

@test "machined: after kill -9 of podrun run, gc ends what is left in the machine's scope" {
  inside_podrun --insecure-options=image run --uuid-file-save="$IN_DIR/uuid-3" "$IN_DIR/busybox.aci" \
    --exec=/bin/sleep -- 30 --- >"$BATS_TEST_TMPDIR/run.log" 2>&1 3>&- &
  local job=$! uuid unit cg nspawn run mark=podrun-machined-$$-$RANDOM stray=
  uuid=$(wait_pod_file "$MD_ROOT$IN_DIR/uuid-3" pid)
  [[ -n "$uuid" ]] || { cat "$BATS_TEST_TMPDIR/run.log"; fail "the pod did not start"; }
  assert_registered "$uuid"
  # a process in the machine's scope, as a pod init that outlived its stage1 would be
  unit=$(inside machinectl show "podrun-$uuid" -p Unit --value)
  cg=$(inside systemctl show "$unit" -p ControlGroup --value)
  local d
  for d in "/sys/fs/cgroup/unified$cg" "/sys/fs/cgroup$cg" ""; do
    [[ -z "$d" ]] || ! inside test -d "$d" || break
  done
  [[ -n "$d" ]] || fail "no cgroup for $unit ($cg)"
  cg=$d
  inside sh -c "echo \$\$ >'$cg/cgroup.procs' && exec env PODRUN_TEST_MARK=$mark sleep 1000" \
    </dev/null >/dev/null 2>&1 3>&- &
  for _ in $(seq 50); do
    stray=$(grep -lzx "PODRUN_TEST_MARK=$mark" /proc/[0-9]*/environ 2>/dev/null | head -n 1 | cut -d/ -f3)
    [[ -z "$stray" ]] || break
    sleep 0.1
  done
  [[ -n "$stray" ]] || fail "the process in $cg did not start"

  # kill -9 of run (nspawn's parent, the pod init's grandparent)
  nspawn=$(inside awk '$1 == "PPid:" { print $2 }' "/proc/$(cat "$STORE/pods/run/$uuid/pid")/status")
  run=$(inside awk '$1 == "PPid:" { print $2 }' "/proc/$nspawn/status")
  inside kill -9 "$run"
  log_run inside_podrun status --wait=10s "$uuid"
  assert_output_contains "state=exited"
  kill -0 "$stray" || fail "the process in the scope is gone before gc: this test tests nothing"
  log_run inside_podrun gc --grace-period=0
  assert_status 0
  assert_output_contains "removed pod $uuid"
  for _ in $(seq 30); do
    kill -0 "$stray" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$stray" 2>/dev/null; then
    kill -9 "$stray"
    fail "gc left the process in $cg running"
  fi
  machine_gone "podrun-$uuid"
  wait "$job" || true
}

@test "machined: podrun-api under its shipped socket unit: socket activation, group podrun's socket, the service as nobody" {
  [[ -x "$BUILD/bin/podrun-api" ]] || fail "build podrun-api first (make all)"
  cp "$BUILD/bin/podrun-api" "$MD_ROOT$IN_DIR/bin/podrun-api"
  # the shipped units, the service pointed at this copy and the test's store
  sed "s|@BINDIR@/podrun-api|$IN_DIR/bin/podrun-api --dir=$IN_STORE|" "$E2E_ROOT/conf/systemd/podrun-api.service.in" \
    >"$MD_ROOT/etc/systemd/system/podrun-api.service"
  sed "s|ReadOnlyPaths=/var/lib/podrun|ReadOnlyPaths=$IN_STORE|" -i "$MD_ROOT/etc/systemd/system/podrun-api.service"
  cp "$E2E_ROOT/conf/systemd/podrun-api.socket" "$MD_ROOT/etc/systemd/system/podrun-api.socket"
  inside sh -c 'getent group podrun >/dev/null || groupadd --system podrun'
  inside systemctl daemon-reload
  log_run inside systemctl start podrun-api.socket
  assert_status 0
  [[ $(inside stat -c '%a %G' /run/podrun/api.sock) == "660 podrun" ]] || fail "the socket: $(inside stat -c '%a %G' /run/podrun/api.sock)"
  inside systemctl -q is-active podrun-api.service && fail "the service ran before the first connection"
  log_run inside curl -sf --unix-socket /run/podrun/api.sock http://podrun/v1/info
  assert_status 0
  [[ $(json_query 'j["dir"]' <<<"$output") == "$IN_STORE" ]] || fail "info: $output"
  inside systemctl -q is-active podrun-api.service || fail "the service is not active after a connection"
  local pid
  pid=$(inside systemctl show -p MainPID --value podrun-api.service)
  [[ $(awk '/^Uid:/ {print $2}' "$MD_ROOT/proc/$pid/status") != 0 ]] || fail "the service runs as root"
  [[ $(awk '/^Groups:/ {print $2}' "$MD_ROOT/proc/$pid/status") == "$(inside getent group podrun | cut -d: -f3)" ]] ||
    fail "the service's group is not podrun"
  log_run inside curl -sf --unix-socket /run/podrun/api.sock http://podrun/v1/pods
  assert_status 0
  inside systemctl stop podrun-api.socket podrun-api.service
  rm -f "$MD_ROOT/etc/systemd/system/podrun-api.service" "$MD_ROOT/etc/systemd/system/podrun-api.socket"
  inside systemctl daemon-reload
}
