#!/usr/bin/env bats
# Pods as systemd services, for real (Documentation/systemd.md): the host's own systemd
# booted in a container (booted.bash), podrun run by its units there. Readiness
# (Type=notify), the apps' lines in the journal, socket activation, the shipped gc units.
# One boot for the whole file.

load helpers
load booted

SD_UNIT=podrun-e2e-sd

# In the booted system: two probe images. notify.aci's app speaks sd_notify (the appc
# annotation); web.aci's declares a port named "web".
sd_images() {
  local root=$BATS_FILE_TMPDIR/sdroot
  mkdir -p "$root/bin" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  ln -sf busybox "$root/bin/sh"
  ln -sf busybox "$root/bin/sleep"
  cp "$BUILD/probe" "$root/probe"
  printf 'root:x:0:0::/:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR make_aci "$BATS_FILE_TMPDIR/notify.aci" \
    "$(aci_manifest podrun.test/notify 1.0 '"app": {"exec": ["/probe", "notify", "3", "READY=1"], "user": "0", "group": "0"},
  "annotations": [{"name": "appc.io/executor/supports-systemd-notify", "value": "true"}]')" "$root"
  BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR make_aci "$BATS_FILE_TMPDIR/web.aci" \
    "$(aci_manifest podrun.test/web 1.0 '"app": {"exec": ["/probe", "accept"], "user": "0", "group": "0",
    "ports": [{"name": "web", "protocol": "tcp", "port": 8080}]}')" "$root"
}

setup_file() {
  md_boot
  [[ -s "$BATS_FILE_TMPDIR/skip" ]] && return 0
  [[ -x "$BUILD/probe" ]] || { md_skip "build the probe first (make tests)"; return 0; }
  local root
  root=/proc/$(cat "$BATS_FILE_TMPDIR/pid1")/root
  sd_images
  cp "$BATS_FILE_TMPDIR/notify.aci" "$BATS_FILE_TMPDIR/web.aci" "$root$IN_DIR/"
}

teardown_file() {
  md_shutdown
}

setup() {
  md_setup
}

teardown() {
  [[ -n "${MD_PID1:-}" && -d /proc/$MD_PID1 ]] || return 0
  local u
  for u in "$SD_UNIT" "$SD_UNIT-web.socket" "$SD_UNIT-web.service" podrun-gc.timer e2e-gen.service; do
    inside systemctl stop "$u" 2>/dev/null || true
    inside systemctl reset-failed "$u" 2>/dev/null || true
  done
  return 0
}

# sd_run ARGS…: podrun run ARGS as the main process of transient service $SD_UNIT
# (systemd-run's own flags first, up to --).
sd_run() {
  local flags=()
  while [[ $# -gt 0 && $1 != -- ]]; do
    flags+=("$1")
    shift
  done
  shift
  inside systemd-run --unit="$SD_UNIT" --quiet --no-block "${flags[@]}" \
    "$IN_DIR/bin/podrun" --dir="$IN_STORE" --insecure-options=image run "$@"
}

# unit_prop UNIT PROP: a property of UNIT's.
unit_prop() {
  inside systemctl show "$1" -p "$2" --value
}

# wait_unit UNIT STATE SECONDS: until UNIT's ActiveState is STATE.
wait_unit() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [[ $(unit_prop "$1" ActiveState) == "$2" ]] && return 0
    sleep 0.1
  done
  fail "$1 is $(unit_prop "$1" ActiveState), not $2, after $3 s: $(inside journalctl -u "$1" --no-pager | tail -n 20)"
}

# main_is_run UNIT UUID: UNIT's MainPID is the pod's stage1 run (podrun, exec()ed).
main_is_run() {
  local main
  main=$(unit_prop "$1" MainPID)
  [[ $(tr '\0' ' ' <"$MD_ROOT/proc/$main/cmdline") =~ /stage1/rootfs/nspawn/run\ (--[^ ]+\ )*$2\  ]] ||
    fail "MainPID $main is $(tr '\0' ' ' <"$MD_ROOT/proc/$main/cmdline")"
}

@test "systemd: Type=notify: the unit is active only once the app that speaks sd_notify says READY=1; MAINPID from the app is not taken" {
  sd_run -p Type=notify -p TimeoutStartSec=30 -- --uuid-file-save="$IN_DIR/uuid-n" "$IN_DIR/notify.aci" \
    --exec=/probe -- notify 3 "MAINPID=1" "STATUS=warming up" "READY=1" ---
  local uuid
  uuid=$(wait_pod_file "$MD_ROOT$IN_DIR/uuid-n" pid)
  [[ -n "$uuid" ]] || fail "the pod did not start: $(inside journalctl -u "$SD_UNIT" --no-pager | tail)"
  # the pod runs, its app has not said READY=1 yet (it sleeps 3 s first)
  [[ $(unit_prop "$SD_UNIT" ActiveState) == activating ]] ||
    fail "$SD_UNIT is $(unit_prop "$SD_UNIT" ActiveState) before the app said READY=1"
  wait_unit "$SD_UNIT" active 15
  main_is_run "$SD_UNIT" "$uuid"
  log_run unit_prop "$SD_UNIT" StatusText
  assert_output_contains "$uuid: 1 app running"
  log_run inside journalctl -u "$SD_UNIT" -o cat --no-pager
  assert_output_contains '"notify_errno":0'
  log_run inside systemctl stop "$SD_UNIT"
  assert_status 0
  log_run inside_podrun status --wait=20s "$uuid"
  assert_output_contains "state=exited"
}

@test "systemd: Type=notify: in a two-app pod with --private-users, ready once the app that speaks sd_notify says so" {
  sd_run -p Type=notify -p TimeoutStartSec=30 -- --private-users --uuid-file-save="$IN_DIR/uuid-n2" \
    "$IN_DIR/busybox.aci" --exec=/bin/sleep -- 60 --- "$IN_DIR/notify.aci" --exec=/probe -- notify 3 READY=1 ---
  local uuid
  uuid=$(wait_pod_file "$MD_ROOT$IN_DIR/uuid-n2" pid)
  [[ -n "$uuid" ]] || fail "the pod did not start: $(inside journalctl -u "$SD_UNIT" --no-pager | tail)"
  # both apps run; the one that speaks sd_notify has not said READY=1 yet
  for _ in $(seq 25); do
    [[ -f "$STORE/pods/run/$uuid/nspawn/ready" ]] && break
    sleep 0.1
  done
  [[ -f "$STORE/pods/run/$uuid/nspawn/ready" ]] || fail "the apps did not start"
  [[ $(unit_prop "$SD_UNIT" ActiveState) == activating ]] ||
    fail "$SD_UNIT is $(unit_prop "$SD_UNIT" ActiveState) before the app said READY=1"
  wait_unit "$SD_UNIT" active 15
  log_run unit_prop "$SD_UNIT" StatusText
  assert_output_contains "pod $uuid: 2 apps running"
  # the app's user is the pod's root, a shifted host uid: it could send all the same
  log_run inside journalctl -u "$SD_UNIT" -t notify -o cat --no-pager
  assert_output_contains '"notify_errno":0'
  assert_output_contains '"uid":0'
  inside systemctl stop "$SD_UNIT"
  log_run inside_podrun status --wait=20s "$uuid"
  assert_output_contains "state=exited"
}

@test "systemd: WatchdogSec=: the pings of an app that speaks sd_notify keep the unit alive; without them the watchdog fires" {
  sd_run -p Type=notify -p WatchdogSec=3 -p TimeoutStartSec=30 -- --uuid-file-save="$IN_DIR/uuid-w1" \
    "$IN_DIR/notify.aci" --exec=/probe -- notify-every 1 READY=1 WATCHDOG=1 ---
  wait_unit "$SD_UNIT" active 15
  log_run inside journalctl -u "$SD_UNIT" -t notify -o cat --no-pager
  # the app was told the interval (no WATCHDOG_PID: it is its own)
  assert_output_contains '"WATCHDOG_USEC":"3000000"'
  sleep 7
  [[ $(unit_prop "$SD_UNIT" ActiveState) == active && $(unit_prop "$SD_UNIT" NRestarts) == 0 ]] ||
    fail "the pings did not keep it: $(unit_prop "$SD_UNIT" ActiveState) $(unit_prop "$SD_UNIT" Result)"
  inside systemctl stop "$SD_UNIT"
  inside systemctl reset-failed "$SD_UNIT" 2>/dev/null || true

  # READY=1 and no ping: the watchdog fires within its interval
  sd_run -p Type=notify -p WatchdogSec=2 -p TimeoutStartSec=30 -- --uuid-file-save="$IN_DIR/uuid-w2" \
    "$IN_DIR/notify.aci" --exec=/probe -- notify 0 READY=1 ---
  wait_unit "$SD_UNIT" active 15
  local i
  for ((i = 0; i < 100; i++)); do
    [[ $(unit_prop "$SD_UNIT" Result) == watchdog ]] && break
    sleep 0.1
  done
  [[ $(unit_prop "$SD_UNIT" Result) == watchdog ]] || fail "the watchdog did not fire: $(unit_prop "$SD_UNIT" Result)"
  local uuid
  uuid=$(cat "$MD_ROOT$IN_DIR/uuid-w2")
  log_run inside_podrun status --wait=20s "$uuid"
  assert_output_contains "state=exited"
}

@test "systemd: Type=notify: a pod whose apps do not speak sd_notify is ready once they have started" {
  sd_run -p Type=notify -p TimeoutStartSec=30 -- --uuid-file-save="$IN_DIR/uuid-r" "$IN_DIR/busybox.aci" \
    --exec=/bin/sleep -- 30 ---
  wait_unit "$SD_UNIT" active 15
  local uuid
  uuid=$(cat "$MD_ROOT$IN_DIR/uuid-r")
  # ready means started: the init's ready record is there
  [[ -f "$STORE/pods/run/$uuid/nspawn/ready" ]] || fail "active before the pod's apps started"
  main_is_run "$SD_UNIT" "$uuid"
  log_run unit_prop "$SD_UNIT" StatusText
  assert_output_contains "pod $uuid: 1 app running"
}

@test "systemd: an app whose image does not say it speaks sd_notify gets no notify socket and no NOTIFY_SOCKET" {
  local mark=checked-$RANDOM
  sd_run -p Type=notify -p TimeoutStartSec=30 -- --uuid-file-save="$IN_DIR/uuid-x" "$IN_DIR/busybox.aci" \
    --exec=/bin/sh -- -c "env | grep -q ^NOTIFY_SOCKET= && echo has-env; test -e /run/podrun/notify && echo has-socket; echo $mark; sleep 30" ---
  wait_unit "$SD_UNIT" active 15
  for _ in $(seq 50); do
    inside journalctl -u "$SD_UNIT" -t busybox -o cat --no-pager | grep -qx "$mark" && break
    sleep 0.1
  done
  # the app's lines alone (the unit's own messages quote its command line)
  log_run inside journalctl -u "$SD_UNIT" -t busybox -o cat --no-pager
  assert_output_contains "$mark"
  [[ $output != *has-socket* && $output != *has-env* ]] || fail "an app without the annotation got a notify socket"
}

@test "systemd: the apps' lines are in the journal once, with SYSLOG_IDENTIFIER=<app>, PODRUN_POD_UUID and PODRUN_APP" {
  local mark=line-$RANDOM
  sd_run -- --uuid-file-save="$IN_DIR/uuid-j" "$IN_DIR/busybox.aci" \
    --exec=/bin/sh -- -c "echo out-$mark; echo err-$mark >&2; echo PODRUN_APP=forged-$mark; sleep 30" ---
  local uuid
  uuid=$(wait_pod_file "$MD_ROOT$IN_DIR/uuid-j" pid)
  [[ -n "$uuid" ]] || fail "the pod did not start"
  for _ in $(seq 50); do
    inside journalctl -u "$SD_UNIT" -o cat --no-pager | grep -qx "err-$mark" && break
    sleep 0.1
  done
  log_run inside journalctl -u "$SD_UNIT" -o cat --no-pager
  assert_output_contains "out-$mark"
  assert_output_contains "err-$mark"
  [[ $(grep -cx "out-$mark" <<<"$output") -eq 1 ]] || fail "the line is not in the journal exactly once"
  log_run inside journalctl "PODRUN_POD_UUID=$uuid" -o json --no-pager
  assert_status 0
  local fields
  fields=$(python3 -c '
import json, sys
for l in sys.stdin:
    j = json.loads(l)
    if j.get("MESSAGE", "").endswith(sys.argv[1]):
        print(j["MESSAGE"], j.get("SYSLOG_IDENTIFIER"), j.get("PODRUN_APP"), j.get("PRIORITY"), j.get("_SYSTEMD_UNIT"))
' "$mark" <<<"$output")
  echo "$fields"
  grep -qx "out-$mark busybox busybox 6 $SD_UNIT.service" <<<"$fields" || fail "stdout's line: $fields"
  grep -qx "err-$mark busybox busybox 3 $SD_UNIT.service" <<<"$fields" || fail "stderr's line: $fields"
  # a line is a MESSAGE, never a field of the app's
  grep -qx "PODRUN_APP=forged-$mark busybox busybox 6 $SD_UNIT.service" <<<"$fields" || fail "the forged line: $fields"
  # podrun logs has them too, without the journal
  log_run inside_podrun logs "$uuid"
  assert_output_contains "out-$mark"
}

@test "systemd: journalctl -M podrun-<uuid> shows the apps' lines with their fields; no app reaches the machine's journal; nothing of it outlives the pod" {
  [[ -x $MD_ROOT/lib/systemd/systemd-journal-remote ]] ||
    skip "needs systemd-journal-remote in the booted system (package systemd-journal-remote)"
  local mark=m-$RANDOM$RANDOM
  # the app looks for the machine's journal in its own root and through the root of
  # every process it sees (the pod init, whose root has it, is not one of them: the
  # app's pid 1 is its stage2), and tries to write there
  sd_run -- --uuid-file-save="$IN_DIR/uuid-m" "$IN_DIR/busybox.aci" --exec=/bin/sh -- -c "
    echo out-$mark; echo err-$mark >&2; echo PODRUN_APP=forged-$mark
    for d in /run/log/journal /var/log/journal /proc/[0-9]*/root/run/log/journal; do
      ls -A \$d 2>/dev/null | grep -q . && echo seen-\$d
    done
    for d in /proc/[0-9]*/root/run/log/journal /proc/[0-9]*/root/run/log/journal/*; do
      touch \$d/forged.journal 2>/dev/null && echo wrote-\$d
    done
    echo \"pid1=\$(cat /proc/1/comm) \$(ls /proc/1/root/ 2>&1 | head -n 1)\"
    echo probed-$mark; sleep 30" ---
  local uuid mid init
  uuid=$(wait_pod_file "$MD_ROOT$IN_DIR/uuid-m" pid)
  [[ -n "$uuid" ]] || fail "the pod did not start: $(inside journalctl -u "$SD_UNIT" --no-pager | tail)"
  mid=${uuid//-/}
  for _ in $(seq 50); do
    inside journalctl -M "podrun-$uuid" -o cat --no-pager 2>/dev/null | grep -qx "probed-$mark" && break
    sleep 0.1
  done
  # machined's machine id is the pod's uuid, the name of the journal's directory
  log_run inside machinectl show "podrun-$uuid" -p Id --value
  assert_output_contains "$mid"
  log_run inside journalctl -M "podrun-$uuid" -o json --no-pager
  assert_status 0
  local fields
  fields=$(python3 -c '
import json, sys
for l in sys.stdin:
    j = json.loads(l)
    print(j.get("MESSAGE"), j.get("SYSLOG_IDENTIFIER"), j.get("PODRUN_POD_UUID"), j.get("PODRUN_APP"), j.get("PRIORITY"))
' <<<"$output")
  echo "$fields"
  grep -qx "out-$mark busybox $uuid busybox 6" <<<"$fields" || fail "stdout's line is not in the machine's journal"
  grep -qx "err-$mark busybox $uuid busybox 3" <<<"$fields" || fail "stderr's line is not in the machine's journal"
  grep -qx "probed-$mark busybox $uuid busybox 6" <<<"$fields" || fail "the app's probe did not finish"
  # a line is a MESSAGE, never a field of the app's
  grep -qx "PODRUN_APP=forged-$mark busybox $uuid busybox 6" <<<"$fields" || fail "the forged line: $fields"
  # its pid 1 is its stage2, whose root it may not enter
  grep -q "^pid1=stage2 .*Permission denied busybox" <<<"$fields" || fail "the app's view of pid 1: $fields"
  [[ $fields != *seen-* && $fields != *wrote-* ]] || fail "the app reached the machine's journal: $fields"
  # the files are there, in the pod init's root, where the app looked for them
  init=$(cat "$STORE/pods/run/$uuid/pid")
  log_run inside ls -A "/proc/$init/root/run/log/journal/$mid"
  assert_output_contains "system.journal"
  [[ $output != *forged* ]] || fail "the app wrote in the machine's journal: $output"
  log_run inside cat "/proc/$init/root/etc/machine-id"
  assert_output_contains "$mid"
  # journal-remote writes them while the pod runs
  log_run inside pgrep -f "journal/$mid/system.journal"
  assert_status 0
  log_run inside systemctl stop "$SD_UNIT"
  log_run inside_podrun status --wait=20s "$uuid"
  assert_output_contains "state=exited"
  # journal-remote ended with the pod, and its files are gone with the machine
  log_run inside pgrep -f "journal/$mid/system.journal"
  assert_status 1
  [[ ! -e $STORE/pods/exited-garbage/$uuid/journal && ! -e $STORE/pods/run/$uuid/journal ]] ||
    fail "the machine's journal outlived the pod: $(ls -R "$STORE"/pods/*/"$uuid"/journal)"
  # without journal-remote (or machined) the pod runs all the same, and logs
  log_run inside unshare --mount sh -c "mount --bind /dev/null /lib/systemd/systemd-journal-remote && \
    $IN_DIR/bin/podrun --dir=$IN_STORE --insecure-options=image run $IN_DIR/busybox.aci --exec=/bin/echo -- no-remote-$mark ---"
  assert_status 0
  assert_output_contains "no-remote-$mark"
}

@test "systemd: with --private-users, journalctl -M shows the lines, and the pod's root can neither write nor unmount the machine's journal" {
  [[ -x $MD_ROOT/lib/systemd/systemd-journal-remote ]] ||
    skip "needs systemd-journal-remote in the booted system (package systemd-journal-remote)"
  local mark=u-$RANDOM$RANDOM uuid init
  sd_run -- --private-users --uuid-file-save="$IN_DIR/uuid-mu" "$IN_DIR/busybox.aci" --exec=/bin/sh -- \
    -c "echo userns-$mark; sleep 30" ---
  uuid=$(wait_pod_file "$MD_ROOT$IN_DIR/uuid-mu" pid)
  [[ -n "$uuid" ]] || fail "the pod did not start: $(inside journalctl -u "$SD_UNIT" --no-pager | tail)"
  for _ in $(seq 50); do
    inside journalctl -M "podrun-$uuid" -o cat --no-pager 2>/dev/null | grep -qx "userns-$mark" && break
    sleep 0.1
  done
  log_run inside journalctl -M "podrun-$uuid" -t busybox -o cat --no-pager
  assert_output_contains "userns-$mark"
  # the pod init's powers (root of the pod's user namespace, its mount namespace), with a
  # shell put where the init may run it: the kernel keeps the read-only bind as it is
  init=$(cat "$STORE/pods/run/$uuid/pid")
  cp /bin/busybox "$STORE/pods/run/$uuid/nspawn/busybox"
  # shellcheck disable=SC2016 # expanded by the shell in the pod
  log_run inside nsenter -t "$init" -U -m /podrun/nspawn/busybox sh -c '
    b=/podrun/nspawn/busybox
    $b ls /run/log/journal
    for f in /run/log/journal/*/system.journal; do
      echo >>"$f" && echo "wrote $f"
    done
    for d in /run/log/journal /run/log/journal/*; do
      $b touch "$d/forged.journal" && echo "wrote $d"
    done
    $b umount /run/log/journal && echo unmounted
    $b ls /run/log/journal'
  echo "$output" | grep -qx "${uuid//-/}" || fail "the pod's root did not see the machine's journal"
  [[ $output != *wrote* && $output != *unmounted* && $output == *"can't unmount"* ]] ||
    fail "the pod's root changed the machine's journal"
  inside systemctl stop "$SD_UNIT"
  log_run inside_podrun status --wait=20s "$uuid"
  assert_output_contains "state=exited"
}

@test "systemd: without a journal the pod runs and podrun logs has its lines" {
  # a run outside any unit, the journal's socket hidden from it
  log_run inside unshare --mount sh -c "mount -t tmpfs none /run/systemd/journal && \
    $IN_DIR/bin/podrun --dir=$IN_STORE --insecure-options=image run --uuid-file-save=$IN_DIR/uuid-nj \
    $IN_DIR/busybox.aci --exec=/bin/echo -- no-journal-line ---"
  assert_status 0
  assert_output_contains "no-journal-line"
  log_run inside_podrun logs "$(cat "$MD_ROOT$IN_DIR/uuid-nj")"
  assert_output_contains "no-journal-line"
}

# sd_web_units: a socket unit on 127.0.0.1:18080 whose socket is named "web", and its
# service, podrun running web.aci.
sd_web_units() {
  cat >"$MD_ROOT/run/systemd/system/$SD_UNIT-web.socket" <<EOF
[Socket]
ListenStream=127.0.0.1:18080
FileDescriptorName=web
EOF
  cat >"$MD_ROOT/run/systemd/system/$SD_UNIT-web.service" <<EOF
[Service]
ExecStart=$IN_DIR/bin/podrun --dir=$IN_STORE --insecure-options=image run --uuid-file-save=$IN_DIR/uuid-w $IN_DIR/web.aci
EOF
  inside systemctl daemon-reload
}

@test "systemd: a socket unit starts the pod on the first connection; the app that declares the port answers on fd 3" {
  sd_web_units
  log_run inside systemctl start "$SD_UNIT-web.socket"
  assert_status 0
  [[ $(unit_prop "$SD_UNIT-web.service" ActiveState) == inactive ]] || fail "the service runs before any connection"
  log_run inside timeout 30 bash -c 'exec 5<>/dev/tcp/127.0.0.1/18080 && cat <&5'
  assert_status 0
  [[ $(unit_prop "$SD_UNIT-web.service" ActiveState) == active ]] || fail "the service is not active"
  local report all=$output
  report=$(head -n 1 <<<"$output")
  [[ $(sed -n 2p <<<"$all") == '{"fd3_listening": 1}' ]] || fail "fd 3 is not a listening socket: $all"
  output=$report
  [[ $(probe 'j["env"].get("LISTEN_FDS")') == 1 ]] || fail "LISTEN_FDS: $report"
  [[ $(probe 'j["env"].get("LISTEN_FDNAMES")') == web ]] || fail "LISTEN_FDNAMES: $report"
  [[ $(probe 'j["env"].get("LISTEN_PID")') == $(probe 'j["pid"]') ]] || fail "LISTEN_PID is not the app's pid: $report"
  log_run inside timeout 10 bash -c 'exec 5<>/dev/tcp/127.0.0.1/18080 && cat <&5'
  assert_status 0
  assert_output_contains '{"fd3_listening": 1}'
  # the same pod answered both: one pod
  local uuid
  uuid=$(cat "$MD_ROOT$IN_DIR/uuid-w")
  log_run inside_podrun status "$uuid"
  assert_output_contains "state=running"
  inside systemctl stop "$SD_UNIT-web.service" "$SD_UNIT-web.socket"
  log_run inside_podrun status --wait=20s "$uuid"
  assert_output_contains "state=exited"
}

@test "systemd: a socket whose name no app of a two-app pod declares is refused, one line, nothing left" {
  cat >"$MD_ROOT/run/systemd/system/$SD_UNIT-web.socket" <<EOF
[Socket]
ListenStream=127.0.0.1:18081
FileDescriptorName=other
EOF
  cat >"$MD_ROOT/run/systemd/system/$SD_UNIT-web.service" <<EOF
[Service]
ExecStart=$IN_DIR/bin/podrun --dir=$IN_STORE --insecure-options=image run $IN_DIR/web.aci $IN_DIR/busybox.aci --exec=/bin/sleep -- 30 ---
EOF
  inside systemctl daemon-reload
  local before since
  before=$(find "$STORE/pods" -mindepth 2 -maxdepth 2 | sort)
  since=$(inside date +%s)
  inside systemctl start "$SD_UNIT-web.socket"
  inside timeout 10 bash -c 'exec 5<>/dev/tcp/127.0.0.1/18081 && cat <&5' || true
  for _ in $(seq 50); do
    [[ $(unit_prop "$SD_UNIT-web.service" ActiveState) == failed ]] && break
    sleep 0.1
  done
  [[ $(unit_prop "$SD_UNIT-web.service" ExecMainStatus) == 254 ]] ||
    fail "exit $(unit_prop "$SD_UNIT-web.service" ExecMainStatus)"
  log_run inside journalctl -u "$SD_UNIT-web.service" --since=@"$since" -o cat --no-pager
  assert_output_contains 'no app of the pod declares a port named "other"'
  # (each connection started the service again: each run said that one line, nothing else)
  [[ $(grep -c '^podrun: ' <<<"$output") -eq $(grep -c 'status=254' <<<"$output") ]] || fail "not one line a run"
  # refused by stage0 before any pod existed
  [[ $(find "$STORE/pods" -mindepth 2 -maxdepth 2 | sort) == "$before" ]] || fail "a pod is left"
  inside systemctl stop "$SD_UNIT-web.socket"
}

@test "systemd: the shipped podrun-gc.service collects exited pods; podrun-gc.timer is a daily timer; tmpfiles.d and sysusers.d entries apply" {
  local dest=$BATS_FILE_TMPDIR/install
  log_run make -s -C "$BATS_TEST_DIRNAME/../.." install-systemd DESTDIR="$dest" PREFIX="$IN_DIR"
  assert_status 0
  cp "$dest$IN_DIR/lib/systemd/system/"podrun-gc.* "$MD_ROOT/run/systemd/system/"
  [[ -f "$dest$IN_DIR/lib/tmpfiles.d/podrun.conf" && -f "$dest$IN_DIR/lib/sysusers.d/podrun.conf" ]] ||
    fail "no tmpfiles.d or sysusers.d entry installed"
  # the tmpfiles.d and sysusers.d entries, as systemd-tmpfiles and systemd-sysusers apply them
  cp "$dest$IN_DIR/lib/tmpfiles.d/podrun.conf" "$MD_ROOT/tmp/podrun-tmpfiles.conf"
  cp "$dest$IN_DIR/lib/sysusers.d/podrun.conf" "$MD_ROOT/tmp/podrun-sysusers.conf"
  log_run inside systemd-sysusers /tmp/podrun-sysusers.conf
  assert_status 0
  inside getent group podrun >/dev/null || fail "no group podrun"
  log_run inside systemd-tmpfiles --create /tmp/podrun-tmpfiles.conf
  assert_status 0
  [[ $(inside stat -c '%a %U' /var/lib/podrun) == "755 root" ]] || fail "/var/lib/podrun: $(inside stat -c '%a %U' /var/lib/podrun)"
  inside test -d /etc/podrun/pods || fail "no /etc/podrun/pods"
  # the default store is the test's
  inside mkdir -p /var/lib/podrun
  inside mount --bind "$IN_STORE" /var/lib/podrun
  log_run inside_podrun run --insecure-options=image --uuid-file-save="$IN_DIR/uuid-g" "$IN_DIR/busybox.aci" --exec=/bin/true
  assert_status 0
  local uuid
  uuid=$(cat "$MD_ROOT$IN_DIR/uuid-g")
  inside systemctl daemon-reload
  log_run inside systemctl start podrun-gc.service
  assert_status 0
  [[ $(unit_prop podrun-gc.service Result) == success ]] || fail "podrun-gc.service: $(unit_prop podrun-gc.service Result)"
  log_run inside journalctl -u podrun-gc.service -o cat --no-pager
  assert_output_contains "moved pod $uuid to exited-garbage"
  log_run inside systemctl start podrun-gc.timer
  assert_status 0
  log_run unit_prop podrun-gc.timer TimersCalendar
  assert_output_contains "OnCalendar=*-*-* 00:00:00"
  inside umount /var/lib/podrun
}

# sd_generator: podrun-generator in the booted system's generators, as make install puts it.
sd_generator() {
  local dest=$BATS_FILE_TMPDIR/install-gen
  make -s -C "$BATS_TEST_DIRNAME/../.." install-systemd DESTDIR="$dest" PREFIX="$IN_DIR" ||
    fail "make install-systemd failed"
  [[ $(readlink "$dest$IN_DIR/lib/systemd/system-generators/podrun-generator") == "$IN_DIR/bin/podrun" ]] ||
    fail "the generator is not a link to podrun"
  mkdir -p "$MD_ROOT/usr/local/lib/systemd/system-generators" "$MD_ROOT/etc/podrun/pods"
  cp -P "$dest$IN_DIR/lib/systemd/system-generators/podrun-generator" "$MD_ROOT/usr/local/lib/systemd/system-generators/"
}

@test "systemd: the generator turns a .pod file into a unit that starts (ready), stops, and restarts on failure" {
  sd_generator
  local pods=$MD_ROOT/etc/podrun/pods
  cat >"$pods/e2e-gen.pod" <<POD
[Unit]
Description=e2e generated pod

[Pod]
Dir=$IN_STORE
InsecureOptions=image
Image=$IN_DIR/busybox.aci
Name=gen
Exec=/bin/sh -c "echo gen-started; sleep 3; exit 3"

[Service]
Restart=on-failure
RestartSec=1

[Install]
WantedBy=multi-user.target
POD
  # a bad file beside it: logged, skipped, the good one still made
  printf '[Pod]\nImage=x\nBogus=1\n' >"$pods/e2e-bad.pod"
  log_run inside systemctl daemon-reload
  assert_status 0
  log_run inside systemctl cat e2e-gen.service
  assert_status 0
  assert_output_contains "SourcePath=/etc/podrun/pods/e2e-gen.pod"
  assert_output_contains "Type=notify"
  [[ -L $MD_ROOT/run/systemd/generator/multi-user.target.wants/e2e-gen.service ]] || fail "not wanted by multi-user.target"
  [[ $(unit_prop e2e-bad.service LoadState) == not-found ]] || fail "a unit was made of the bad file"
  # what the generator says of the bad file, run by hand as systemd runs it
  log_run inside sh -c 'd=$(mktemp -d) && /usr/local/lib/systemd/system-generators/podrun-generator "$d" "$d" "$d"; echo "status=$?"; ls "$d"; rm -rf "$d"'
  assert_output_contains 'podrun-generator: /etc/podrun/pods/e2e-bad.pod:3: [Pod] has no key "Bogus"'
  assert_output_contains "status=1"
  assert_output_contains "e2e-gen.service"
  [[ $output != *e2e-bad.service* ]] || fail "a unit was made of the bad file"

  log_run inside systemctl start e2e-gen.service
  assert_status 0
  # start returned: the unit is active, so the pod runs
  [[ $(unit_prop e2e-gen.service ActiveState) == active ]] || fail "not active after start"
  # the app fails after 3 s: systemd restarts the unit, a new pod
  local i
  for ((i = 0; i < 150; i++)); do
    [[ $(unit_prop e2e-gen.service NRestarts) -ge 1 && $(unit_prop e2e-gen.service ActiveState) == active ]] && break
    sleep 0.1
  done
  [[ $(unit_prop e2e-gen.service NRestarts) -ge 1 ]] || fail "no restart: $(inside journalctl -u e2e-gen.service --no-pager | tail)"
  log_run inside journalctl -u e2e-gen.service -t gen -o cat --no-pager
  [[ $(grep -cx gen-started <<<"$output") -ge 2 ]] || fail "the pod did not start twice"
  log_run inside systemctl stop e2e-gen.service
  assert_status 0
  [[ $(unit_prop e2e-gen.service ActiveState) == inactive || $(unit_prop e2e-gen.service ActiveState) == failed ]] ||
    fail "still $(unit_prop e2e-gen.service ActiveState) after stop"
  rm -f "$pods/e2e-gen.pod" "$pods/e2e-bad.pod"
  inside systemctl daemon-reload
}
