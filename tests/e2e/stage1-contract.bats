#!/usr/bin/env bats
# The stage1 contract from a third party's side: a stage1 written in shell,
# built here from Documentation/stage1-contract.md alone, driven by podrun's pod
# verbs. It checks what podrun promises a stage1 (cwd, PODRUN_LOCK_FD, the pod
# manifest, the app rootfs mounted in a private namespace) and what podrun makes of
# what the stage1 does (pid, status/<app>, exit code, states, gc).

load helpers

# The stage1: run records what it was given into $OUT (the "report" file next to the
# pod dir cannot be used: the pod dir is its cwd), runs the app's exec with chroot,
# writes status/<app> and exits with the app's code.
# make_sh_stage1 [all|bare|partial [EXTRA]]: all: the entrypoints, and that it supports
# --net=host, none and default; bare: the entrypoints only (it declares no support);
# partial: the interface version only. EXTRA: more annotations, as JSON members.
make_sh_stage1() {
  local root=$BATS_TEST_TMPDIR/s1root annotations=${1:-all} extra=${2:-}
  mkdir -p "$root/sh1" "$root/opt/stage2"
  cat >"$root/sh1/run" <<'SH'
#!/bin/bash
set -u
uuid=$(for a; do :; done; echo "$a")
{
  echo "cwd=$(pwd)"
  echo "lockfd=${PODRUN_LOCK_FD:-}"
  echo "lockfd_is_dir=$( [ -d "/proc/self/fd/${PODRUN_LOCK_FD:-x}" ] && echo yes || echo no)"
  echo "uuid=$uuid"
  echo "args=$*"
  echo "pod_manifest=$( [ -f pod ] && echo yes || echo no)"
  echo "mnt_ns=$(readlink /proc/self/ns/mnt)"
} >"$SH1_REPORT"
app=$(ls apps | head -n 1)
root=stage1/rootfs/opt/stage2/$app/rootfs
grep -q " $(pwd)/$root " /proc/self/mountinfo && echo "app_mounted=yes" >>"$SH1_REPORT"
echo $$ >"${SH1_PIDFILE:-pid}"
# the app must not hold the pod's lock: the pod is exited when the stage1 is
( eval "exec ${PODRUN_LOCK_FD}<&-"; exec chroot "$root" /bin/sh -c "$SH1_CMD" ) &
echo $! >app-pid
wait $!
code=$?
echo "$code" >"status/$app"
exit "$code"
SH
  # SH1_GC_FAIL, SH1_STOP_FAIL: gc, stop fail, saying so on stderr (when not empty)
  printf '#!/bin/sh\n[ -z "${SH1_GC_FAIL:-}" ] || { echo "warming up" >&2; echo "gc: $SH1_GC_FAIL" >&2; exit 1; }\nexit 0\n' \
    >"$root/sh1/gc"
  printf '#!/bin/sh\n[ -z "${SH1_STOP_FAIL:-}" ] || { echo "$SH1_STOP_FAIL" >&2; exit 3; }\nkill -TERM "$(cat app-pid)"\n' \
    >"$root/sh1/stop"
  cat >"$root/sh1/enter" <<'SH'
#!/bin/sh
pid=${1#--pid=} app=${2#--app=}
shift 3
exec nsenter -t "$pid" -m chroot "$(pwd)/stage1/rootfs/opt/stage2/$app/rootfs" "$@"
SH
  chmod 0755 "$root/sh1/"*
  local ann='{"name": "podrun/stage1/interface-version", "value": "1"},
    {"name": "podrun/stage1/run", "value": "/sh1/run"},
    {"name": "podrun/stage1/enter", "value": "/sh1/enter"},
    {"name": "podrun/stage1/stop", "value": "/sh1/stop"},
    {"name": "podrun/stage1/gc", "value": "/sh1/gc"}'
  [[ $annotations != all ]] || ann+=', {"name": "podrun/stage1/supports-net", "value": "host,none,default"}'
  [[ $annotations != partial ]] || ann='{"name": "podrun/stage1/interface-version", "value": "1"}'
  ann+=${extra:+, $extra}
  make_aci "$BATS_TEST_TMPDIR/stage1-sh.aci" \
    "$(aci_manifest example.com/stage1-sh 1.0 "\"annotations\": [$ann]")" "$root"
}

setup() {
  requires root
  export SH1_REPORT=$BATS_TEST_TMPDIR/report SH1_CMD='echo hello from the app; exit 7'
  fetch_busybox
}

@test "stage1 contract: run execs the stage1 with the pod dir, the lock fd and the app mounted" {
  make_sh_stage1
  run_podrun --insecure-options=image run --stage1-path="$BATS_TEST_TMPDIR/stage1-sh.aci" \
    --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$BUSYBOX_NAME"
  assert_status 7
  assert_output_contains "hello from the app"
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  cat "$SH1_REPORT"
  grep -qx "cwd=$STORE/pods/run/$uuid" "$SH1_REPORT"
  grep -qx "lockfd_is_dir=yes" "$SH1_REPORT"
  grep -qx "uuid=$uuid" "$SH1_REPORT"
  grep -qx "pod_manifest=yes" "$SH1_REPORT"
  grep -qx "app_mounted=yes" "$SH1_REPORT"
  # the pod's mounts lived in its own namespace: nothing is left on the host
  ! grep -q "$STORE/pods" /proc/self/mountinfo || fail "a pod mount is left on the host"
  [[ "$(readlink /proc/self/ns/mnt)" != "$(sed -n 's/^mnt_ns=//p' "$SH1_REPORT")" ]]
}

@test "stage1 contract: list, status, rm and gc see the exited pod and its app's code" {
  make_sh_stage1
  run_podrun --insecure-options=image run --stage1-path="$BATS_TEST_TMPDIR/stage1-sh.aci" \
    --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$BUSYBOX_NAME"
  assert_status 7
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  run_podrun list --no-legend --full
  assert_status 0
  assert_output_contains "$uuid"
  assert_output_contains "exited"
  run_podrun status "${uuid:0:8}"
  assert_status 0
  assert_output_contains "state=exited"
  assert_output_contains "exited=true"
  assert_output_contains "app-busybox=7"
  run_podrun status --format=json "$uuid"
  [[ $(json_query 'j["app_exit_codes"]["busybox"]' <<<"$output") == 7 ]]
  run_podrun gc --grace-period=0
  assert_status 0
  assert_output_contains "removed pod $uuid"
  [[ ! -e "$STORE/pods/run/$uuid" && ! -e "$STORE/pods/exited-garbage/$uuid" ]]
  run_podrun status "$uuid"
  assert_one_line_error "not found"
}

@test "stage1 contract: a running pod is running, cannot be removed, and gc leaves it alone" {
  make_sh_stage1
  export SH1_CMD='sleep 30'
  "$PODRUN" --dir="$STORE" --insecure-options=image run --stage1-path="$BATS_TEST_TMPDIR/stage1-sh.aci" \
    --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$BUSYBOX_NAME" &
  local pid=$! uuid=
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  run_podrun status "$uuid"
  assert_output_contains "state=running"
  run_podrun rm "$uuid"
  assert_one_line_error "running"
  run_podrun gc --grace-period=0
  assert_status 0
  [[ -d "$STORE/pods/run/$uuid" ]]
  # SIGKILL of the stage1: the pod is exited at once, and gc collects it, ending the
  # app the stage1 left running (in the pod's cgroup): this test's own, by its pid
  local app_pid
  app_pid=$(cat "$STORE/pods/run/$uuid/app-pid")
  alive "$app_pid" || fail "the app is not running"
  kill -KILL "$pid"
  wait "$pid" || true
  run_podrun status --wait=10s "$uuid"
  assert_output_contains "state=exited"
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
  wait_gone "$app_pid" || { kill -KILL "$app_pid"; fail "the app outlived gc of its pod"; }
  ! grep -q "$STORE/pods" /proc/self/mountinfo || fail "a pod mount is left on the host"
}

@test "stage1 contract: a stage1 that writes ppid: the pod's pid is its first child, for status and enter" {
  make_sh_stage1
  export SH1_CMD='sleep 30' SH1_PIDFILE=ppid
  "$PODRUN" --dir="$STORE" --insecure-options=image run --stage1-path="$BATS_TEST_TMPDIR/stage1-sh.aci" \
    --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$BUSYBOX_NAME" &
  local uuid= dir
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" app-pid)
  dir=$STORE/pods/run/$uuid
  [[ ! -e "$dir/pid" && -s "$dir/ppid" ]]
  run_podrun status "$uuid"
  assert_output_contains "pid=$(cat "$dir/app-pid")"
  run_podrun enter "$uuid" /bin/sh -c 'echo inside; exit 3'
  assert_status 3
  assert_output_contains "inside"
  run_podrun stop "$uuid"
  assert_status 0
  wait || true
  run_podrun status --wait=10s "$uuid"
  assert_output_contains "state=exited"
}

@test "stage1 contract: prepare + run-prepared, and run-prepared of a non-prepared pod" {
  make_sh_stage1
  run_podrun --insecure-options=image prepare --stage1-path="$BATS_TEST_TMPDIR/stage1-sh.aci" \
    --hostname=prep-host --net=none "$BUSYBOX_NAME"
  assert_status 0
  local uuid=$output
  [[ $uuid =~ ^[0-9a-f-]{36}$ ]]
  run_podrun status "$uuid"
  assert_output_contains "state=prepared"
  run_podrun run-prepared "$uuid"
  assert_status 7
  # the pod flags given to prepare reach the stage1 at run-prepared
  grep -qx "args=--net=none --hostname=prep-host $uuid" "$SH1_REPORT"
  run_podrun run-prepared "$uuid"
  assert_one_line_error "not prepared"
}

@test "stage1 contract: a stage1 image without the entrypoint annotations is refused" {
  make_sh_stage1 partial
  run_podrun --insecure-options=image run --stage1-path="$BATS_TEST_TMPDIR/stage1-sh.aci" "$BUSYBOX_NAME"
  assert_one_line_error "podrun/stage1/run"
  [[ -z $(ls "$STORE/pods/run" 2>/dev/null) ]]
}

@test "run: bad input is refused before any pod exists" {
  make_sh_stage1
  local s1=--stage1-path=$BATS_TEST_TMPDIR/stage1-sh.aci
  # (a name the store lacks would be looked for by discovery: the store only here)
  run_podrun run "$s1" --pull-policy=never no.such/image
  assert_one_line_error "no.such/image"
  run_podrun run "$s1" --volume 'data,kind=bogus' "$BUSYBOX_NAME"
  assert_one_line_error
  run_podrun run "$s1" --volume 'data' "$BUSYBOX_NAME"
  assert_one_line_error "kind"
  run_podrun run "$s1" "$BUSYBOX_NAME" --mount volume=nope,target=/x
  assert_one_line_error "nope"
  run_podrun run "$s1" --supplementary-gids=1,x "$BUSYBOX_NAME"
  assert_one_line_error "supplementary-gids"
  run_podrun run "$s1"
  assert_one_line_error "no image"
  run_podrun run --stage1=bogus "$BUSYBOX_NAME"
  assert_one_line_error "bogus"
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2 2>/dev/null) ]] || fail "a pod was left behind"
}

@test "stage1 contract: enter runs in the app's root, stop stops it, cat-manifest shows the pod" {
  make_sh_stage1
  export SH1_CMD='sleep 30'
  "$PODRUN" --dir="$STORE" --insecure-options=image run --stage1-path="$BATS_TEST_TMPDIR/stage1-sh.aci" \
    --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$BUSYBOX_NAME" --set-env=GREETING=hi &
  local pid=$! uuid=
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" app-pid)
  # the host's path of this test does not exist inside the app's root
  run_podrun enter "$uuid" /bin/sh -c "ls /bin/busybox; test -e $BATS_TEST_TMPDIR || echo isolated"
  assert_status 0
  assert_output_contains "/bin/busybox"
  assert_output_contains "isolated"
  run_podrun enter --app=nope "$uuid" /bin/true
  assert_one_line_error 'no app "nope"'
  run_podrun cat-manifest --pretty-print=false "$uuid"
  assert_status 0
  [[ $(json_query '[e["value"] for e in j["apps"][0]["app"]["environment"] if e["name"] == "GREETING"][0]' <<<"$output") == hi ]]
  run_podrun stop "$uuid"
  assert_status 0
  run_podrun status --wait=10s "$uuid"
  assert_output_contains "state=exited"
  assert_output_contains "app-busybox=143"
  wait "$pid" || true
  run_podrun stop "$uuid"
  assert_one_line_error "not running"
  run_podrun enter "$uuid" /bin/true
  assert_one_line_error "not running"
}

@test "stage1 contract: a pod is started when its stage1 is, even one that never writes a pid" {
  make_sh_stage1
  export SH1_PIDFILE=/dev/null SH1_CMD='exit 0'
  run_podrun --insecure-options=image run --stage1-path="$BATS_TEST_TMPDIR/stage1-sh.aci" \
    --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$BUSYBOX_NAME"
  assert_status 0
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  [[ ! -e $STORE/pods/run/$uuid/pid && -s $STORE/pods/run/$uuid/started ]]
  run_podrun status "$uuid"
  assert_output_contains "state=exited"
  [[ -n $(sed -n 's/^started=//p' <<<"$output") ]] || fail "started= is empty"
  run_podrun status --format=json "$uuid"
  [[ $(json_query 'j["started_at"]' <<<"$output") == 20* ]]
}

@test "stage1 contract: the pod flags are checked against what the stage1 declares, before any pod exists" {
  # it declares --net=host, none and default: --net alone is default, and reaches it so
  make_sh_stage1
  local s1=--stage1-path=$BATS_TEST_TMPDIR/stage1-sh.aci
  run_podrun --insecure-options=image prepare "$s1" --net "$BUSYBOX_NAME"
  assert_status 0
  local uuid=$output
  run_podrun run-prepared "$uuid"
  assert_status 7
  grep -qx "args=--net=default $uuid" "$SH1_REPORT"
  # it declares nothing it supports: the contract's minimum, the host's network and no more
  make_sh_stage1 bare
  run_podrun --insecure-options=image run "$s1" --net=none "$BUSYBOX_NAME"
  assert_one_line_error '--net=none: not a network of stage1 "example.com/stage1-sh" (it has host)'
  run_podrun run "$s1" --private-users "$BUSYBOX_NAME"
  assert_one_line_error "--private-users" "podrun/stage1/supports-private-users=true"
  run_podrun run "$s1" --dns=192.0.2.53 "$BUSYBOX_NAME"
  assert_one_line_error "--dns=192.0.2.53" "podrun/stage1/supports-dns=true"
  run_podrun run "$s1" --dns-search=example.com "$BUSYBOX_NAME"
  assert_one_line_error "--dns-search=example.com" "podrun/stage1/supports-dns=true"
  run_podrun run "$s1" --hosts-entry=host "$BUSYBOX_NAME"
  assert_one_line_error "--hosts-entry=host" "podrun/stage1/supports-hosts-entry=true"
  run_podrun prepare "$s1" --interactive "$BUSYBOX_NAME"
  assert_one_line_error "--interactive" "podrun/stage1/supports-interactive=true"
  # what it declares, it gets; and no limit of apps unless it says one
  make_sh_stage1 bare '{"name": "podrun/stage1/supports-dns", "value": "true"},
    {"name": "podrun/stage1/max-apps", "value": "2"}'
  run_podrun prepare "$s1" --dns=192.0.2.53 "$BUSYBOX_NAME" "$BUSYBOX_NAME" --name=b
  assert_status 0
  grep -qx -- "--dns=192.0.2.53" "$STORE/pods/prepared/$output/stage1/run-flags"
  rm -rf "$STORE/pods/prepared/$output"
  run_podrun prepare "$s1" "$BUSYBOX_NAME" "$BUSYBOX_NAME" --name=b "$BUSYBOX_NAME" --name=c
  assert_one_line_error 'stage1 "example.com/stage1-sh" runs at most 2 apps' "this pod has 3"
  # what it declares must be a value podrun knows
  local bad
  for bad in supports-dns=yes max-apps=0 supports-net=, "supports-net=host none"; do
    make_sh_stage1 bare "{\"name\": \"podrun/stage1/${bad%%=*}\", \"value\": \"${bad#*=}\"}"
    run_podrun run "$s1" "$BUSYBOX_NAME"
    assert_one_line_error 'stage1 image "example.com/stage1-sh": annotation podrun/stage1/'
  done
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2 ! -path "*/run/*" 2>/dev/null) ]] ||
    fail "a refused run left a pod: $(ls -R "$STORE/pods")"
}

@test "stage1 contract: a stop or gc entrypoint that fails is one error line, with the stage1's own reason" {
  make_sh_stage1
  export SH1_CMD='sleep 30'
  "$PODRUN" --dir="$STORE" --insecure-options=image run --stage1-path="$BATS_TEST_TMPDIR/stage1-sh.aci" \
    --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$BUSYBOX_NAME" &
  local pid=$! uuid=
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" app-pid)
  SH1_STOP_FAIL="stop: the apps are busy" run_podrun stop "$uuid"
  assert_one_line_error "pod $uuid: stage1 stop: the apps are busy"
  SH1_STOP_FAIL=" " run_podrun stop "$uuid" # says nothing
  assert_one_line_error "pod $uuid: stage1 stop exited with 3"
  run_podrun status "$uuid"
  assert_output_contains "state=running"
  run_podrun stop "$uuid"
  assert_status 0
  wait "$pid" || true
  run_podrun status --wait=10s "$uuid"
  assert_output_contains "state=exited"
  # gc: its last line is the reason; the pod is kept for the next gc
  SH1_GC_FAIL="the network is not released" run_podrun gc --grace-period=0
  assert_one_line_error "remove pod $uuid: stage1 gc: the network is not released"
  [[ -d "$STORE/pods/exited-garbage/$uuid" ]] || fail "the pod is not kept"
  run_podrun gc --grace-period=0
  assert_status 0
  assert_output_contains "removed pod $uuid"
}
