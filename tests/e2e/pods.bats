#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# What an app sees and what podrun does with a pod, for every behaviour both bundled
# stage1 flavors have: each test runs its body once per flavor, fly then nspawn, and
# asserts facts from inside the app with the probe ($BUILD/probe, tests/probe/probe.c).
# Where the flavors differ by design (fly: the host's namespaces and every capability,
# no default seccomp filter; nspawn: the pod's own namespaces, a pod init as pid 1,
# appc's default capabilities and filter), a `case $flavor` asserts each one's value.
# What only one flavor has is in fly.bats or nspawn.bats.

load helpers

setup() {
  requires root python3
  [[ -x "$BUILD/probe" && -f "$BUILD/stage1-fly.aci" && -f "$BUILD/stage1-nspawn.aci" ]] ||
    fail "build the probe and both stage1s first (make all tests)"
  make_probe_aci # builds $BATS_TEST_TMPDIR/probe.aci, which every pass fetches into its own store
  LEFTOVERS=
}

# start_pass FLAVOR: starts the test's pass for one flavor, on a store and a directory
# of its own: STORE=$PASS/store with the probe image fetched, PASS=$BATS_TEST_TMPDIR/FLAVOR.
# It marks the output with "=== pass: FLAVOR" (bats shows the output of a failed test,
# so the commands after the mark are that flavor's). The nspawn pass skips the test,
# with the reason, on a machine without systemd-nspawn: the fly pass has run by then.
start_pass() {
  flavor=$1
  echo "=== pass: $flavor"
  if [[ $flavor == nspawn ]] && ! command -v systemd-nspawn >/dev/null; then
    skip "the nspawn pass needs systemd-nspawn (package systemd-container); the fly pass passed"
  fi
  PASS=$BATS_TEST_TMPDIR/$flavor
  STORE=$PASS/store
  mkdir -p "$PASS"
  fetch_ok "$BATS_TEST_TMPDIR/probe.aci"
}

# A failed test says which flavor's pass failed, and what it left running is ended (its
# pods, stopped and collected by teardown_pods, and the pids in LEFTOVERS) so that it
# does not hold the suite's output open until a `sleep 60` ends, nor leave a cgroup.
teardown() {
  [[ -z "${BATS_TEST_COMPLETED:-}" && -z "${BATS_TEST_SKIPPED:-}" ]] || return 0
  [[ -z "${flavor:-}" ]] || echo "FAIL: in the $flavor pass (--stage1=$flavor)"
  local pid
  teardown_pods
  for pid in ${LEFTOVERS:-}; do
    ! alive "$pid" || kill -9 "$pid" 2>/dev/null || true
  done
}

# no_pod_mounts: nothing of the store's pods is mounted on the host.
no_pod_mounts() {
  ! grep -q "$STORE/pods" /proc/self/mountinfo || fail "still mounted: $(grep "$STORE/pods" /proc/self/mountinfo)"
}

# load_probe: reads the probe's report (the JSON in $output) into PROBE[KEY] with one
# python run, not one per fact: its fields (PROBE[uid], PROBE[CapEff], PROBE[groups] as
# "[7, 8]"…), PROBE[ns.NAME] and PROBE[env.NAME]; the mounts stay for `probe`.
load_probe() {
  declare -gA PROBE=()
  local kv
  while IFS= read -r -d '' kv; do
    PROBE[${kv%%=*}]=${kv#*=}
  done < <(python3 -c '
import json, sys
j = json.load(sys.stdin)
for k, v in j.items():
    if k in ("ns", "env"):
        for n, x in v.items():
            print(f"{k}.{n}={x}", end="\0")
    elif k != "mounts":
        print(f"{k}={v if isinstance(v, str) else json.dumps(v)}", end="\0")' <<<"$output")
  [[ -n "${PROBE[uid]:-}" ]] || fail "no probe report in: $output"
}

# host_status_field NAME: this shell's NAME from /proc/self/status (CapBnd…).
host_status_field() { awk -v f="$1:" '$1 == f {print $2}' /proc/self/status; }

@test "pods: the app's exit code is podrun's, and status records it" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    run_podrun run --stage1="$flavor" --uuid-file-save="$PASS/uuid" podrun.test/probe -- exit 7
    assert_status 7
    run_podrun status "$(cat "$PASS/uuid")"
    assert_output_contains "state=exited"
    assert_output_contains "app-probe=7"
  done
}

# run_code ARGS…: `podrun run --uuid-file-save=$PASS/uuid ARGS…`, quietly; prints
# "RUN_EXIT STATUS_LINE" (the app-probe=… line of status, "none" without one).
run_code() {
  local code=0 line
  "$PODRUN" --dir="$STORE" run --uuid-file-save="$PASS/uuid" "$@" >/dev/null 2>&1 || code=$?
  line=$("$PODRUN" --dir="$STORE" status "$(cat "$PASS/uuid")" | grep '^app-probe=' || echo none)
  echo "$code $line"
}

@test "pods: every exit code and every terminating signal is run's exit and status's record, exactly; stop --force gives 137" {
  # the signals whose default action ends a process: not SIGCHLD, SIGCONT, SIGSTOP,
  # SIGTSTP, SIGTTIN, SIGTTOU, SIGURG or SIGWINCH (17–23, 28), nor glibc's own 32 and 33
  local sigs=($(seq 1 16) $(seq 24 27) $(seq 29 31) $(seq 34 64)) c got bad
  for flavor in fly nspawn; do
    start_pass "$flavor"
    bad=
    for c in $(seq 0 255); do
      got=$(run_code --stage1="$flavor" podrun.test/probe --exec=/bin/sh -- -c "exit $c" ---)
      [[ $got == "$c app-probe=$c" ]] || bad+=" exit $c: $got;"
    done
    for c in "${sigs[@]}"; do
      got=$(run_code --stage1="$flavor" podrun.test/probe --exec=/probe -- raise "$c" ---)
      [[ $got == "$((128 + c)) app-probe=$((128 + c))" ]] || bad+=" signal $c: $got;"
    done
    [[ -z $bad ]] || fail "$flavor: run's exit and status's record, where they are not the app's:$bad"
    # stop --force: SIGKILL (nspawn: of the pod init, which takes the apps with it)
    "$PODRUN" --dir="$STORE" run --stage1="$flavor" --uuid-file-save="$PASS/uuid-killed" podrun.test/probe \
      --exec=/bin/sleep -- 60 --- >/dev/null 2>&1 &
    local pid=$! uuid code=0
    LEFTOVERS+=" $pid"
    uuid=$(wait_pod_file "$PASS/uuid-killed" pid)
    run_podrun stop --force "$uuid"
    assert_status 0
    wait "$pid" || code=$?
    [[ $code -eq 137 ]] || fail "$flavor: run exited $code after stop --force"
    run_podrun status "$uuid"
    assert_output_contains "app-probe=137"
  done
}

@test "pods: the app's own rootfs and mount namespace; pid 1, namespaces, hostname, capabilities and /proc/sys as each flavor gives them" {
  local -A host_ns
  local ns
  for ns in mnt pid net uts ipc; do host_ns[$ns]=$(readlink /proc/self/ns/$ns); done
  for flavor in fly nspawn; do
    start_pass "$flavor"
    # the host's network: fly's only one, nspawn's when asked (its default is a CNI
    # network of the pod's own: nspawn.bats, net.bats)
    local net=()
    [[ $flavor != nspawn ]] || net=(--net=host)
    run_podrun run --stage1="$flavor" "${net[@]}" --uuid-file-save="$PASS/uuid" podrun.test/probe --exec=/bin/sh -- -c \
      'cat /etc/image-marker; cat /proc/1/cmdline | tr "\0" " "; echo; /probe' ---
    assert_status 0
    local uuid pid1 proc_sys_ro
    uuid=$(cat "$PASS/uuid")
    [[ "${lines[0]}" == "only in the image" ]]
    pid1=${lines[1]}
    output=${lines[2]}
    load_probe
    proc_sys_ro=$(probe 'any(m["path"] == "/proc/sys" and m["options"].startswith("ro,") for m in j["mounts"])')
    [[ ${PROBE[ns.mnt]} != "${host_ns[mnt]}" ]]
    [[ ${PROBE[ns.net]} == "${host_ns[net]}" ]] # the host's network (above)
    case $flavor in
      fly)
        # a privileged host tool, as rkt's fly: the host's pid, uts and ipc namespaces
        # (so its pid 1 and hostname), every capability the host gives podrun (the app
        # has no capability isolator), the host's /proc as it is
        for ns in pid uts ipc; do
          [[ ${PROBE[ns.$ns]} == "${host_ns[$ns]}" ]] || fail "fly: not the host's $ns namespace"
        done
        [[ "$pid1" == "$(tr '\0' ' ' </proc/1/cmdline)" ]] || fail "fly: pid 1 is \"$pid1\", not the host's"
        [[ ${PROBE[hostname]} == "$(cat /proc/sys/kernel/hostname)" ]]
        [[ ${PROBE[CapBnd]} == "$(host_status_field CapBnd)" ]]
        [[ ${PROBE[CapEff]} == "$(host_status_field CapEff)" ]]
        [[ $proc_sys_ro == false ]] || fail "fly: /proc/sys is read-only"
        ;;
      nspawn)
        # the pod's own pid, uts and ipc namespaces with podrun's pod init as pid 1, the
        # pod's hostname, appc's default capability set, a read-only /proc/sys
        for ns in pid uts ipc; do
          [[ ${PROBE[ns.$ns]} != "${host_ns[$ns]}" ]] || fail "nspawn: the app shares the host's $ns namespace"
        done
        # pid 1 of the app's own pid namespace is its stage2 (its reaper); the app sees
        # only its own processes, not the pod init's nor another app's
        [[ "$pid1" == "/stage2 --pod-manifest=/podrun/pod --app=probe "*" --pid-init "* ]] ||
          fail "nspawn: pid 1 is \"$pid1\""
        [[ ${PROBE[pid]} -gt 1 ]]
        [[ ${PROBE[hostname]} == "podrun-$uuid" ]]
        # appc's default set: CAP_CHOWN and the others, never CAP_SYS_ADMIN; on the
        # host's network not CAP_NET_RAW either (no raw sockets on the host's interfaces)
        [[ ${PROBE[CapEff]} == 00000000a80405fb ]]
        [[ ${PROBE[CapBnd]} == 00000000a80405fb ]]
        [[ $proc_sys_ro == true ]] ||
          fail "/proc/sys: $(probe '[m for m in j["mounts"] if m["path"].startswith("/proc/sys")]')"
        ;;
    esac
    run_podrun status "$uuid"
    assert_output_contains "app-probe=0"
    # nspawn records the pod's network (fly has no choice but the host's and records none)
    [[ $flavor != nspawn ]] || assert_output_contains "network=host"
  done
}

@test "pods: user and group by name from the image, supplementary gids, working dir, environment; a non-root app can use /" {
  export PODRUN_TEST_HOST_VAR=leaked
  for flavor in fly nspawn; do
    start_pass "$flavor"
    run_podrun run --stage1="$flavor" podrun.test/probe --user=app --group=staff --supplementary-gids=7,8 \
      --working-dir=/work --set-env=GREETING=hello --exec=/bin/sh -- -c 'stat -c "%a %u" /; /probe' ---
    assert_status 0
    # the app's root keeps the image's mode and owner, not the pod directory's
    [[ "${lines[0]}" == "$(stat -c '%a %u' "$BATS_TEST_TMPDIR/proot")" ]]
    output=${lines[1]}
    load_probe
    [[ ${PROBE[uid]} == 1000 ]]
    [[ ${PROBE[gid]} == 50 ]]
    [[ ${PROBE[groups]} == "[7, 8]" ]]
    [[ ${PROBE[cwd]} == /work ]]
    [[ ${PROBE[env.GREETING]} == hello ]]
    [[ ${PROBE[env.AC_APP_NAME]} == probe ]]
    [[ -z "${PROBE[env.PODRUN_TEST_HOST_VAR]+set}" ]]
  done
}

@test "pods: capability and no-new-privileges isolators of a pod manifest are applied" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    cat >"$PASS/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "apps": [{"name": "probe", "image": {"name": "podrun.test/probe", "id": "$(podrun image list --full --no-legend | awk '/probe/ {print $1}')"},
   "app": {"exec": ["/probe"], "user": "0", "group": "0", "isolators": [
     {"name": "os/linux/capabilities-retain-set", "value": {"set": ["CAP_NET_BIND_SERVICE"]}},
     {"name": "os/linux/no-new-privileges", "value": true}]}}]}
JSON
    run_podrun run --stage1="$flavor" --pod-manifest="$PASS/pod.json"
    assert_status 0
    load_probe
    [[ ${PROBE[CapEff]} == 0000000000000400 ]]
    [[ ${PROBE[CapBnd]} == 0000000000000400 ]]
    [[ ${PROBE[no_new_privs]} == 1 ]]
  done
}

@test "pods: --caps-retain, --caps-remove, --seccomp with its errno, the default filter, --oom-score-adj; bad values are refused" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    run_podrun run --stage1="$flavor" podrun.test/probe --caps-retain=CAP_NET_BIND_SERVICE,CAP_CHOWN
    assert_status 0
    load_probe
    [[ ${PROBE[CapEff]} == 0000000000000401 ]]
    # removed from appc's default set, on fly too (a capability isolator replaces fly's "all")
    run_podrun run --stage1="$flavor" podrun.test/probe --caps-remove=CAP_CHOWN --oom-score-adj=500 \
      --exec=/bin/sh -- -c 'cat /proc/self/oom_score_adj; /probe' ---
    assert_status 0
    [[ "${lines[0]}" == 500 ]]
    output=${lines[1]}
    load_probe
    [[ ${PROBE[CapEff]} == 00000000a80425fa ]]
    # a syscall outside the filter fails with the chosen errno
    run_podrun run --stage1="$flavor" podrun.test/probe --seccomp=mode=remove,errno=ENOTSUP,mkdir,mkdirat \
      --exec=/probe -- try-mkdir /tmp/x ---
    assert_status 0
    load_probe
    [[ ${PROBE[try_errno]} == 95 ]]
    [[ ${PROBE[Seccomp]} == 2 ]]
    # with no filter asked for: nspawn's default one refuses unshare and mount with
    # EPERM; fly has none (and every capability): unshare works
    run_podrun run --stage1="$flavor" podrun.test/probe --exec=/bin/sh -- -c \
      '/bin/busybox unshare -m true 2>&1; echo "rc=$?"; /probe' ---
    assert_status 0
    case $flavor in
      fly)
        [[ "${lines[0]}" == rc=0 ]] || fail "fly: unshare: ${lines[*]}"
        output=${lines[-1]}
        load_probe
        [[ ${PROBE[Seccomp]} == 0 ]]
        ;;
      nspawn)
        assert_output_contains "Operation not permitted"
        output=${lines[-1]}
        load_probe
        [[ ${PROBE[Seccomp]} == 2 ]]
        ;;
    esac
    run_podrun run --stage1="$flavor" podrun.test/probe --seccomp=mode=remove,nosuchcall
    assert_one_line_error "nosuchcall"
    run_podrun run --stage1="$flavor" podrun.test/probe --caps-retain=CAP_FLY
    assert_one_line_error "CAP_FLY"
    run_podrun run --stage1="$flavor" podrun.test/probe --oom-score-adj=2000
    assert_one_line_error "--oom-score-adj=2000"
  done
}

@test "pods: host, read-only and empty volumes; --readonly-rootfs makes the root read-only but not the volumes" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    mkdir "$PASS/data"
    echo from-host >"$PASS/data/f"
    run_podrun run --stage1="$flavor" --volume "data,kind=host,source=$PASS/data" \
      --volume "ro,kind=host,source=$PASS/data,readOnly=true" --volume "scratch,kind=empty,mode=0700" \
      podrun.test/probe --readonly-rootfs --mount volume=data,target=/data --mount volume=ro,target=/ro \
      --mount volume=scratch,target=/scratch --exec=/bin/sh -- -c \
      'echo written >/data/w && cat /ro/w /ro/f && { echo x 2>/dev/null >/ro/g || echo ro-refused; } &&
       echo s >/scratch/s && stat -c %a /scratch && touch /new 2>&1; /probe try-mkdir /ro/d' ---
    assert_status 0
    [[ $(cat "$PASS/data/w") == written ]]
    [[ "${lines[0]}" == written ]]   # the same directory, read-only
    [[ "${lines[1]}" == from-host ]]
    [[ "${lines[2]}" == ro-refused ]]
    [[ "${lines[3]}" == 700 ]]       # the empty volume, with its mode
    [[ "${lines[4]}" == *"Read-only file system"* ]] || fail "touch /new: ${lines[4]}"
    output=${lines[5]}
    load_probe
    [[ ${PROBE[try_errno]} == 30 ]] # EROFS
    no_pod_mounts
  done
}

@test "pods: a volume target through a symlink out of the rootfs is refused" {
  local root=$BATS_TEST_TMPDIR/evilroot
  mkdir -p "$root/bin" "$BATS_TEST_TMPDIR/outside" "$BATS_TEST_TMPDIR/src"
  cp /bin/busybox "$root/bin/sh"
  ln -s "$BATS_TEST_TMPDIR/outside" "$root/escape"
  make_aci "$BATS_TEST_TMPDIR/evil.aci" \
    "$(aci_manifest podrun.test/evil 1.0 '"app": {"exec": ["/bin/sh"], "user": "0", "group": "0"}')" "$root"
  for flavor in fly nspawn; do
    start_pass "$flavor"
    fetch_ok "$BATS_TEST_TMPDIR/evil.aci"
    run_podrun run --stage1="$flavor" --volume "v,kind=host,source=$BATS_TEST_TMPDIR/src" podrun.test/evil \
      --mount volume=v,target=/escape/x
    assert_status 254
    [[ "$stderr" == "podrun-stage1: "*"mount target"* ]]
    [[ -z $(ls "$BATS_TEST_TMPDIR/outside") ]]
  done
}

@test "pods: --ulimit sets the app's resource limits (every app's, then its own); bad ones are refused" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    run_podrun run --stage1="$flavor" --ulimit=nofile=100:200 podrun.test/probe --ulimit=core=0 \
      --ulimit=nofile=150 --exec=/bin/sh -- -c 'ulimit -Sn; ulimit -Hn; ulimit -c' ---
    assert_status 0
    [[ "${lines[*]}" == "150 150 0" ]]
    local pods_before
    pods_before=$(ls "$STORE/pods/run" | wc -l)
    run_podrun run --stage1="$flavor" podrun.test/probe --ulimit=nofile=300:200
    assert_one_line_error "--ulimit" "soft limit is above the hard one"
    run_podrun run --stage1="$flavor" podrun.test/probe --ulimit=stack=abc
    assert_one_line_error "--ulimit" "numbers or \"unlimited\""
    run_podrun run --stage1="$flavor" podrun.test/probe --ulimit=bogus=1
    assert_one_line_error 'unknown resource "bogus"'
    [[ $(ls "$STORE/pods/run" | wc -l) -eq $pods_before && -z $(ls "$STORE/pods/prepared" 2>/dev/null) ]] ||
      fail "a refused run left a pod"
  done
}

@test "pods: resource isolators are checked the same for every flavor, before any pod exists" {
  local id root=$BATS_TEST_TMPDIR/iso-root iso
  mkdir -p "$root"
  make_aci "$BATS_TEST_TMPDIR/iso.aci" "$(aci_manifest podrun.test/iso 1.0 \
    '"app": {"exec": ["/probe"], "user": "0", "group": "0", "isolators": [{"name": "resource/cpu", "value": {"limit": "0x2"}}]}')" "$root"
  for flavor in fly nspawn; do
    start_pass "$flavor"
    id=$(podrun image list --full --no-legend | awk '/probe/ {print $1}')
    for iso in '{"name": "resource/memory", "value": {"limit": "lots"}}' '{"name": "resource/cpu", "value": {"limit": 2}}' \
      '{"name": "os/linux/cpu-shares", "value": 1}'; do
      cat >"$PASS/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "apps": [{"name": "probe", "image": {"name": "podrun.test/probe", "id": "$id"},
   "app": {"exec": ["/probe"], "user": "0", "group": "0", "isolators": [$iso]}}]}
JSON
      run_podrun run --stage1="$flavor" --pod-manifest="$PASS/pod.json"
      assert_one_line_error 'app "probe": isolator'
    done
    # an image's own isolators too
    fetch_ok "$BATS_TEST_TMPDIR/iso.aci"
    run_podrun run --stage1="$flavor" podrun.test/iso
    assert_one_line_error 'app "iso": isolator resource/cpu' '"0x2" is not a CPU amount'
    [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2) ]] || fail "a pod was made: $(ls -R "$STORE/pods")"
  done
}

@test "pods: enter runs in the app's root with its identity and restrictions; stop ends the pod" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    "$PODRUN" --dir="$STORE" run --stage1="$flavor" --uuid-file-save="$PASS/uuid" podrun.test/probe \
      --user=app --group=app --exec=/bin/sleep -- 60 --- &
    local uuid
    uuid=$(wait_pod_file "$PASS/uuid" pid)
    run_podrun enter "$uuid" /probe
    assert_status 0
    load_probe
    [[ ${PROBE[uid]} == 1000 ]]
    case $flavor in
      fly) # the host's pid and uts namespaces; every capability, as the app has
        [[ ${PROBE[ns.pid]} == "$(readlink /proc/self/ns/pid)" ]]
        [[ ${PROBE[ns.uts]} == "$(readlink /proc/self/ns/uts)" ]]
        [[ ${PROBE[CapBnd]} == "$(host_status_field CapBnd)" ]]
        ;;
      nspawn) # the pod's namespaces; appc's default set, as the app has, not the init's all
        # (CAP_NET_RAW in it: the pod is on the default network, a namespace of its own)
        [[ ${PROBE[ns.pid]} != "$(readlink /proc/self/ns/pid)" ]]
        [[ ${PROBE[ns.uts]} != "$(readlink /proc/self/ns/uts)" ]]
        [[ ${PROBE[ns.net]} != "$(readlink /proc/self/ns/net)" ]]
        [[ ${PROBE[CapBnd]} == 00000000a80425fb ]]
        ;;
    esac
    # fly sees the host's processes (this shell's among them); nspawn only the pod's few
    run_podrun enter "$uuid" /bin/sh -c "test -d /proc/$$ && echo sees-host; ls /proc | grep -c '^[0-9]'"
    assert_status 0
    case $flavor in
      fly) [[ "${lines[0]}" == sees-host ]] || fail "fly: the host's processes are not visible" ;;
      nspawn)
        [[ "${#lines[@]}" -eq 1 ]] || fail "nspawn: sees the host's processes"
        [[ "${lines[0]}" -lt 10 ]] || fail "nspawn: sees ${lines[0]} processes"
        ;;
    esac
    run_podrun enter "$uuid" /bin/sh -c 'cat /etc/image-marker; exit 4'
    assert_status 4
    assert_output_contains "only in the image"
    run_podrun enter --uuid-file="$PASS/uuid" /bin/sh -c 'exit 6'
    assert_status 6
    local start=$SECONDS
    run_podrun stop "$uuid"
    assert_status 0
    run_podrun status --wait=20s "$uuid"
    assert_output_contains "state=exited"
    assert_output_contains "app-probe=143"
    (( SECONDS - start < 10 )) || fail "stop took $((SECONDS - start)) s"
    wait || true
    run_podrun gc --grace-period=0
    assert_output_contains "removed pod $uuid"
    no_pod_mounts
  done
}

@test "pods: kill -9 of the stage1 ends the pod: its processes die, it shows exited, gc collects it, nothing leaks" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    # a non-root app: a change of uid clears the parent-death signal, which stage2 sets again
    "$PODRUN" --dir="$STORE" run --stage1="$flavor" --uuid-file-save="$PASS/uuid" podrun.test/probe \
      --user=app --group=app --exec=/bin/sleep -- 60 --- &
    local stage1=$! uuid pid procs=() nspawn=
    uuid=$(wait_pod_file "$PASS/uuid" pid)
    # the pod's processes: the one its pid file names (fly: the app; nspawn: the pod
    # init) and that one's children (nspawn: the app)
    pid=$(cat "$STORE/pods/run/$uuid/pid")
    mapfile -t procs < <(echo "$pid"; pgrep -P "$pid")
    if [[ $flavor == nspawn ]]; then
      nspawn=$(pgrep -f -- "--machine=podrun-$uuid")
      [[ "$nspawn" =~ ^[0-9]+$ ]] || fail "no systemd-nspawn process for the pod: '$nspawn'"
      [[ ${#procs[@]} -ge 2 ]] || fail "nspawn: the pod init $pid has no child (the app)"
    fi
    LEFTOVERS+=" ${procs[*]}"
    kill -9 "$stage1"
    wait || true
    [[ -z "$nspawn" ]] || wait_gone "$nspawn" || fail "systemd-nspawn outlived its stage1"
    run_podrun status "$uuid"
    assert_output_contains "state=exited"
    run_podrun gc --grace-period=0
    assert_output_contains "removed pod $uuid"
    no_pod_mounts
    ! pgrep -f "podrun-$uuid" >/dev/null || fail "processes of the pod are left: $(pgrep -af "podrun-$uuid")"
    wait_gone "${procs[@]}" ||
      fail "processes of the pod outlived its stage1: $(ps -o pid,ppid,args -p "$(IFS=,; echo "${procs[*]}")")"
  done
}

@test "pods: --interactive gives the one app a real terminal; ^C reaches it; without a terminal it is refused" {
  command -v script >/dev/null || skip "needs script (package bsdutils)"
  for flavor in fly nspawn; do
    start_pass "$flavor"
    local cmd="$PODRUN --dir=$STORE run --stage1=$flavor --interactive"
    log_run script -qec "$cmd podrun.test/probe --exec=/bin/sh -- -c 'test -t 0 && test -t 1 && test -t 2 && echo on-a-tty' ---" /dev/null
    [[ $status -eq 0 ]] || fail "status $status: $output"
    [[ "$output" == *on-a-tty* ]] || fail "no tty: $output"
    # ^C on the terminal, once the app runs (it says so in a volume), interrupts it: 128 + SIGINT
    mkdir "$PASS/v"
    log_run bash -c "(for _ in \$(seq 100); do [ -e $PASS/v/running ] && break; sleep 0.05; done; printf '\003') |
      script -qec \"$cmd --volume=v,kind=host,source=$PASS/v podrun.test/probe --mount=volume=v,target=/v \
        --exec=/bin/sh -- -c 'touch /v/running; exec sleep 30' ---\" /dev/null"
    [[ -e "$PASS/v/running" ]] || fail "the app never ran"
    [[ $status -eq 130 ]] || fail "status $status after ^C: $output"
    run_podrun run --stage1="$flavor" --interactive podrun.test/probe </dev/null
    assert_one_line_error "not a terminal"
    log_run script -qec "$cmd podrun.test/probe podrun.test/probe --name=second" /dev/null
    [[ $status -eq 254 && "$output" == *"one app"* ]] || fail "two apps: $status $output"
  done
}

@test "pods: a rebuilt bundled stage1 of the same version is imported again, an untouched one is not" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    local sys=$PASS/sys stage=$PASS/s1
    mkdir "$sys" "$stage"
    cp "$BUILD/stage1-$flavor.aci" "$sys/stage1-$flavor.aci"
    run_podrun --system-config="$sys" run --stage1="$flavor" podrun.test/probe -- exit 0
    assert_status 0
    run_podrun --system-config="$sys" run --stage1="$flavor" podrun.test/probe -- exit 0
    assert_status 0
    run_podrun image list --no-legend
    [[ $(grep -c "stage1-$flavor" <<<"$output") -eq 1 ]]
    # the same stage1 with one byte more in its manifest: a different image, same name and version
    tar -xf "$BUILD/stage1-$flavor.aci" -C "$stage"
    echo " " >>"$stage/manifest"
    tar -cf "$sys/stage1-$flavor.aci" -C "$stage" manifest rootfs
    run_podrun --system-config="$sys" run --stage1="$flavor" --uuid-file-save="$PASS/uuid" \
      podrun.test/probe -- exit 0
    assert_status 0
    run_podrun image list --no-legend
    [[ $(grep -c "stage1-$flavor" <<<"$output") -eq 2 ]]
    [[ $(cat "$STORE/pods/run/$(cat "$PASS/uuid")/stage1/image-id") == "$(aci_id "$sys/stage1-$flavor.aci")" ]]
  done
}

@test "pods: image gc and image rm keep the images a pod on disk uses, until gc removes the pod" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    run_podrun run --stage1="$flavor" --uuid-file-save="$PASS/uuid" podrun.test/probe -- exit 0
    assert_status 0
    local uuid probe_id
    uuid=$(cat "$PASS/uuid")
    probe_id=$(cat "$STORE/pods/run/$uuid/apps/probe/image-id")
    run_podrun image rm podrun.test/probe
    assert_one_line_error "used by pod $uuid"
    run_podrun image gc --grace-period=0
    assert_status 0
    [[ "$output" != *"removed image"* ]] || fail "image gc removed an image a pod uses"
    run_podrun image list --no-legend
    [[ $(wc -l <<<"$output") -eq 2 ]] # the probe and the stage1
    run_podrun gc --grace-period=0
    assert_output_contains "removed pod $uuid"
    run_podrun image gc --grace-period=0
    assert_output_contains "removed image $probe_id"
    run_podrun image list --no-legend
    [[ -z "$output" ]]
  done
}

@test "pods: an exec that is missing exits 127, one that cannot be run 126, as shells say it, naming the file" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    run_podrun -127 run --stage1="$flavor" --uuid-file-save="$PASS/uuid" podrun.test/probe --exec=/no/such/file
    assert_status 127
    assert_stderr_contains 'exec "/no/such/file": No such file or directory'
    run_podrun status "$(cat "$PASS/uuid")"
    assert_output_contains "app-probe=127"
    run_podrun -127 run --stage1="$flavor" podrun.test/probe --exec=no-such-command-in-path
    assert_status 127
    run_podrun run --stage1="$flavor" podrun.test/probe --exec=/etc/passwd
    assert_status 126
    assert_stderr_contains 'exec "/etc/passwd": Permission denied'
  done
}

@test "pods: a pod that ran is recorded as started, however short its life: list, status and JSON" {
  local uuid created started
  for flavor in fly nspawn; do
    start_pass "$flavor"
    for i in 1 2 3 4 5 6; do
      run_podrun run --stage1="$flavor" --uuid-file-save="$PASS/uuid" podrun.test/probe -- exit 0
      assert_status 0
      uuid=$(cat "$PASS/uuid")
      run_podrun status "$uuid"
      started=$(sed -n 's/^started=//p' <<<"$output")
      created=$(sed -n 's/^created=//p' <<<"$output")
      [[ -n $started ]] || fail "$flavor: pod $i has started= empty"
      [[ ! $started < $created ]] || fail "$flavor: started $started before created $created"
      run_podrun status --format=json "$uuid"
      [[ $(json_query 'j["started_at"]' <<<"$output") == "$started" ]] || fail "$flavor: JSON started_at of pod $i"
      run_podrun list --no-legend --full --format=json
      [[ $(json_query "[p['started_at'] for p in j if p['name'] == '$uuid'][0]" <<<"$output") == "$started" ]] ||
        fail "$flavor: list's started_at of pod $i"
    done
    run_podrun list --no-legend
    [[ $(awk '$6 == "-"' <<<"$output") == "" ]] || fail "$flavor: pods listed as never started: $output"
    # a prepared pod has not started
    run_podrun prepare --stage1="$flavor" podrun.test/probe
    run_podrun status "$output"
    assert_output_contains $'\nstarted=\n'
  done
}

@test "pods: stop and enter of a pod that is just starting wait until it can be stopped or entered" {
  local pid uuid code
  for flavor in fly nspawn; do
    start_pass "$flavor"
    for verb in stop enter; do
      rm -f "$PASS/uuid"
      "$PODRUN" --dir="$STORE" run --stage1="$flavor" --uuid-file-save="$PASS/uuid" podrun.test/probe \
        --exec=/bin/sleep -- 10 --- >/dev/null 2>&1 &
      pid=$!
      LEFTOVERS+=" $pid"
      # at once, as the UUID is there: the pod is being prepared, or its stage1 is setting it up
      for _ in $(seq 1000); do [[ -s $PASS/uuid ]] && break; sleep 0.01; done
      if [[ $verb == stop ]]; then
        run_podrun stop --uuid-file="$PASS/uuid"
        assert_status 0
      else
        run_podrun enter --uuid-file="$PASS/uuid" /bin/sh -c 'echo entered'
        assert_status 0
        assert_output_contains entered
        run_podrun stop --uuid-file="$PASS/uuid"
        assert_status 0
      fi
      code=0
      wait "$pid" || code=$?
      [[ $code -eq 143 ]] || fail "$flavor: run exited $code after $verb and stop, not 143 (SIGTERM)"
      run_podrun status --uuid-file="$PASS/uuid"
      assert_output_contains "app-probe=143"
    done
  done
}

@test "pods: --set-env-file takes '#' and ';' comment lines, as rkt does" {
  printf '# a comment\n; another, as rkt has them\n  ; indented\nGREETING=hello\n\nNAME=a;b\n' >"$BATS_TEST_TMPDIR/env"
  for flavor in fly nspawn; do
    start_pass "$flavor"
    run_podrun run --stage1="$flavor" podrun.test/probe --set-env-file="$BATS_TEST_TMPDIR/env"
    assert_status 0
    load_probe
    [[ ${PROBE[env.GREETING]} == hello && ${PROBE[env.NAME]} == 'a;b' ]] || fail "$flavor: env ${PROBE[env.GREETING]:-} ${PROBE[env.NAME]:-}"
  done
}

@test "pods: an error the stage1 finds in an app's setup is one line that names the app once" {
  local root=$BATS_TEST_TMPDIR/mproot
  mkdir -p "$root/bin"
  cp /bin/busybox "$root/bin/sh"
  make_aci "$BATS_TEST_TMPDIR/mp.aci" "$(aci_manifest podrun.test/mp 1.0 \
    '"app": {"exec": ["/bin/sh", "-c", "true"], "user": "0", "group": "0", "mountPoints": [{"name": "data", "path": "/data"}]}')" "$root"
  for flavor in fly nspawn; do
    start_pass "$flavor"
    # a host volume's source that is gone by the time the pod starts
    mkdir "$PASS/src"
    run_podrun prepare --stage1="$flavor" --volume "v,kind=host,source=$PASS/src" podrun.test/probe \
      --mount volume=v,target=/mnt
    assert_status 0
    rmdir "$PASS/src"
    run_podrun run-prepared "$output"
    assert_status 254
    [[ ${#stderr_lines[@]} -eq 1 ]] || fail "${#stderr_lines[@]} lines"
    [[ $stderr == "podrun-stage1: app \"probe\": volume \"v\": source \"$PASS/src\": No such file or directory" ]] ||
      fail "not the error expected"
    # an image's mount point without a volume (should the stage1 refuse it: once the
    # spec's implicit empty volume is there, it runs)
    fetch_ok "$BATS_TEST_TMPDIR/mp.aci"
    run_podrun run --stage1="$flavor" podrun.test/mp
    if [[ $status -ne 0 ]]; then
      [[ ${#stderr_lines[@]} -eq 1 ]] || fail "${#stderr_lines[@]} lines"
      said_once "$stderr"
      [[ $stderr == *'app "mp"'* ]] || fail "the app is not named"
    fi
  done
}

# The paths podrun masks or makes read-only (lib/volumes.c), as the app's mount table
# would show them.
PODRUN_KERNEL_PATHS='["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats", "/sys/firmware",
  "/sys/devices/virtual/powercap", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]'

# assert_insecure_report: the probe's report (in $output, loaded) shows every capability
# the host gives podrun, in the bounding and the effective set, and no seccomp filter.
assert_insecure_report() {
  [[ ${PROBE[CapBnd]} == "$(host_status_field CapBnd)" ]] || fail "CapBnd ${PROBE[CapBnd]}"
  [[ ${PROBE[CapEff]} == "$(host_status_field CapBnd)" ]] || fail "CapEff ${PROBE[CapEff]}"
  [[ ${PROBE[Seccomp]} == 0 ]] || fail "Seccomp ${PROBE[Seccomp]}"
}

@test "pods: --insecure-options=capabilities,paths,seccomp: every capability, nothing masked or read-only in /proc and /sys, no filter, whatever the app asks; enter gets the same; they are fixed at prepare" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    # the app's own capability set and filter are overridden
    run_podrun --insecure-options=capabilities,paths,seccomp run --stage1="$flavor" podrun.test/probe \
      --caps-retain=CAP_CHOWN --seccomp=mode=remove,mkdir
    assert_status 0
    load_probe
    assert_insecure_report
    [[ ${PROBE[no_new_privs]} == 0 ]] # no filter that needs it, and the app does not ask
    [[ $(probe "[m['path'] for m in j['mounts'] if m['path'] in $PODRUN_KERNEL_PATHS]") == "[]" ]] ||
      fail "masked: $(probe "[m for m in j['mounts'] if m['path'] in $PODRUN_KERNEL_PATHS]")"
    [[ $(probe 'any(m["path"] in ("/sys", "/proc") and m["options"].startswith("ro") for m in j["mounts"])') == false ]] ||
      fail "read-only: $(probe '[m for m in j["mounts"] if m["path"] in ("/sys", "/proc")]')"
    # "all" has them all; the no-new-privileges an app asks for stays (nspawn's default filter
    # set it for every app before, so only this shows that it is applied on its own)
    cat >"$PASS/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "apps": [{"name": "probe", "image": {"name": "podrun.test/probe", "id": "$(podrun image list --full --no-legend | awk '/probe/ {print $1}')"},
   "app": {"exec": ["/probe"], "user": "0", "group": "0", "isolators": [
     {"name": "os/linux/no-new-privileges", "value": true}]}}]}
JSON
    run_podrun --insecure-options=all run --stage1="$flavor" --pod-manifest="$PASS/pod.json"
    assert_status 0
    load_probe
    assert_insecure_report
    [[ ${PROBE[no_new_privs]} == 1 ]]
    # enter: what the app has, no more and no less
    "$PODRUN" --dir="$STORE" --insecure-options=capabilities,seccomp run --stage1="$flavor" \
      --uuid-file-save="$PASS/uuid" podrun.test/probe --caps-retain=CAP_CHOWN --exec=/bin/sleep -- 60 --- &
    local uuid
    uuid=$(wait_pod_file "$PASS/uuid" pid)
    run_podrun enter "$uuid" /probe
    assert_status 0
    load_probe
    assert_insecure_report
    run_podrun stop --force "$uuid"
    wait || true
    # pod flags, fixed at prepare: run-prepared keeps them, and refuses one the pod lacks
    run_podrun --insecure-options=seccomp prepare --stage1="$flavor" podrun.test/probe
    assert_status 0
    uuid=$output
    run_podrun --insecure-options=capabilities run-prepared "$uuid"
    assert_one_line_error "--insecure-options=capabilities" "$uuid"
    run_podrun run-prepared "$uuid"
    assert_status 0
    load_probe
    [[ ${PROBE[Seccomp]} == 0 ]]
    case $flavor in
      fly) [[ ${PROBE[CapBnd]} == "$(host_status_field CapBnd)" ]] ;;
      # appc's default set: capabilities were not given (CAP_NET_RAW in it: the default network)
      nspawn) [[ ${PROBE[CapBnd]} == 00000000a80425fb ]] ;;
    esac
  done
}

# make_mount_points_aci: podrun.test/mp, the probe image's files with two mount points,
# data at /data and conf at /conf (read-only), fetched into $STORE.
make_mount_points_aci() {
  make_aci "$BATS_TEST_TMPDIR/mp.aci" "$(aci_manifest podrun.test/mp 1.0 '"app": {"exec": ["/probe"],
    "user": "0", "group": "0", "mountPoints": [{"name": "data", "path": "/data"},
    {"name": "conf", "path": "/conf", "readOnly": true}]}')" "$BATS_TEST_TMPDIR/proot"
  fetch_ok "$BATS_TEST_TMPDIR/mp.aci"
}

@test "pods: an image's mount points get the pod's volume of their name, else an implicit empty one; two apps share a volume by name" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    make_mount_points_aci
    mkdir "$PASS/data"
    echo from-host >"$PASS/data/f"
    # by name: a host volume, and an empty one; conf, which the image wants read-only, stays so
    run_podrun run --stage1="$flavor" --volume="data,kind=host,source=$PASS/data" --volume=conf,kind=empty \
      podrun.test/mp --exec=/bin/sh -- -c 'cat /data/f && echo w >/data/w && { echo x 2>/dev/null >/conf/x || echo conf-ro; }' ---
    assert_status 0
    [[ "${lines[0]}" == from-host && "${lines[1]}" == conf-ro ]] || fail "got: ${lines[*]}"
    [[ $(cat "$PASS/data/w") == w ]]
    # without volumes: an implicit empty one for each, which the pod manifest lists
    run_podrun run --stage1="$flavor" --uuid-file-save="$PASS/uuid" podrun.test/mp --exec=/bin/sh -- -c \
      'echo s >/data/s && cat /data/s' ---
    assert_status 0
    [[ "${lines[0]}" == s ]]
    run_podrun cat-manifest "$(cat "$PASS/uuid")"
    [[ $(json_query '[(v["name"], v["kind"]) for v in j["volumes"]]' <<<"$output") == '[["data", "empty"], ["conf", "empty"]]' ]]
    [[ $(json_query '[(m["volume"], m["path"]) for m in j["apps"][0]["mounts"]]' <<<"$output") == \
      '[["data", "/data"], ["conf", "/conf"]]' ]]
    # a --mount at the mount point's path wins over the name
    run_podrun run --stage1="$flavor" --volume="other,kind=host,source=$PASS/data" podrun.test/mp \
      --mount=volume=other,target=/data --exec=/bin/cat -- /data/f ---
    assert_status 0
    [[ "$output" == from-host ]]
    [[ $flavor == nspawn ]] || continue # fly runs one app
    # two apps, one kind=empty volume by name: each sees what the other wrote
    for vol in --volume=data,kind=empty ""; do
      run_podrun run --stage1=nspawn $vol podrun.test/mp --name=writer --exec=/bin/sh -- -c \
        'echo from-writer >/data/w.tmp && mv /data/w.tmp /data/w; i=0; while [ ! -e /data/r ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; cat /data/r' --- \
        podrun.test/mp --name=reader --exec=/bin/sh -- -c \
        'i=0; while [ ! -e /data/w ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; cat /data/w; echo from-reader >/data/r' ---
      assert_status 0
      assert_output_contains from-writer
      assert_output_contains from-reader
    done
  done
}

@test "pods: --seccomp takes rkt's, Docker's, systemd's and appc's groups; an unknown group is refused before any pod exists" {
  for flavor in fly nspawn; do
    start_pass "$flavor"
    # the issue's example: rkt's default allow list runs the app (and a shell and its children)
    run_podrun run --stage1="$flavor" podrun.test/probe --seccomp=mode=retain,@rkt/default-whitelist \
      --exec=/bin/sh -- -c 'cat /etc/image-marker && /probe' ---
    assert_status 0
    [[ "${lines[0]}" == "only in the image" ]]
    output=${lines[1]}
    load_probe
    [[ ${PROBE[Seccomp]} == 2 ]]
    # a group in a remove set: its calls fail with the errno given (not nspawn's EPERM, not fly's none)
    run_podrun run --stage1="$flavor" podrun.test/probe --seccomp=mode=remove,errno=ENOTSUP,@systemd/mount \
      --exec=/bin/busybox -- mount -t tmpfs none /tmp ---
    [[ $status -ne 0 ]] || fail "mount worked"
    assert_stderr_contains "Operation not supported"
    # a retain set of one small group: the app cannot even start (SIGSYS)
    run_podrun run --stage1="$flavor" podrun.test/probe --seccomp=mode=retain,@systemd/basic-io
    assert_status 159
    # appc's: all in a retain set is no filter at all (not nspawn's default either);
    # empty in a remove set is podrun's default filter (on fly too)
    run_podrun run --stage1="$flavor" podrun.test/probe --seccomp=mode=retain,@appc.io/all
    assert_status 0
    load_probe
    [[ ${PROBE[Seccomp]} == 0 ]]
    run_podrun run --stage1="$flavor" podrun.test/probe --seccomp=mode=remove,@appc.io/empty --exec=/bin/sh -- -c \
      '/bin/busybox unshare -m true 2>&1; /probe' ---
    assert_status 0
    assert_output_contains "Operation not permitted"
    output=${lines[-1]}
    load_probe
    [[ ${PROBE[Seccomp]} == 2 ]]
    local bad pods
    pods=$(ls "$STORE/pods/run" | wc -l)
    for bad in mode=remove,@systemd/nosuch mode=retain,@nope mode=remove,@appc.io/all mode=retain,@appc.io/empty; do
      run_podrun run --stage1="$flavor" podrun.test/probe --seccomp="$bad"
      assert_one_line_error "--seccomp" "\"${bad#*,}\""
    done
    [[ $(ls "$STORE/pods/run" | wc -l) == "$pods" && -z "$(ls -A "$STORE/pods/prepared")" ]] || fail "a pod was made"
  done
}
