#!/usr/bin/env bats
# The nspawn stage1: systemd-nspawn over the pod's stage1 rootfs, podrun's pod init as
# pid 1, every app through stage2. Facts are read from inside the pod by the probe.

load helpers

setup() {
  requires root python3
  command -v systemd-nspawn >/dev/null || skip "needs systemd-nspawn (package systemd-container)"
  [[ -x "$BUILD/probe" && -f "$BUILD/stage1-nspawn.aci" ]] || fail "build the probe and stage1-nspawn first (make tests)"
  make_probe_aci
}

@test "nspawn: pid 1 is the pod init; own pid, uts, ipc and mount namespaces; the hostname; host network" {
  run_podrun run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe \
    --exec=/bin/sh -- -c 'cat /proc/1/cmdline | tr "\0" " "; echo; /probe' ---
  assert_status 0
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  [[ "${lines[0]}" == "/nspawn/init " ]]
  output=${lines[1]}
  for ns in pid uts ipc mnt; do
    [[ $(probe "j['ns']['$ns']") != "$(readlink /proc/self/ns/$ns)" ]] || fail "the app shares the host's $ns namespace"
  done
  [[ $(probe 'j["ns"]["net"]') == "$(readlink /proc/self/ns/net)" ]]
  [[ $(probe 'j["hostname"]') == "podrun-$uuid" ]]
  [[ $(probe 'j["pid"]') -gt 1 ]]
  run_podrun status "$uuid"
  assert_output_contains "network=host"
  assert_output_contains "app-probe=0"
}

@test "nspawn: --net=none is a private network with loopback only; --hostname" {
  run_podrun run --stage1=nspawn --net=none --hostname=box --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --exec=/bin/sh -- -c 'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "; /probe' ---
  assert_status 0
  [[ "${lines[0]}" == lo && "${#lines[@]}" -eq 2 ]] || fail "interfaces: ${lines[*]}"
  output=${lines[1]}
  [[ $(probe 'j["ns"]["net"]') != "$(readlink /proc/self/ns/net)" ]]
  [[ $(probe 'j["hostname"]') == box ]]
  run_podrun status "$(cat "$BATS_TEST_TMPDIR/uuid")"
  assert_output_contains "network=none"
  run_podrun run --stage1=nspawn --net=default podrun.test/probe
  assert_status 254
  assert_stderr_contains "--net=default"
}

@test "nspawn: the apps get appc's default capabilities, their isolators and identity; /proc/sys is read-only" {
  run_podrun run --stage1=nspawn podrun.test/probe --user=app --group=staff --working-dir=/work
  assert_status 0
  [[ $(probe 'j["uid"]') == 1000 && $(probe 'j["gid"]') == 50 && $(probe 'j["cwd"]') == /work ]]
  run_podrun run --stage1=nspawn podrun.test/probe
  assert_status 0
  local eff=$((16#$(probe 'j["CapEff"]')))
  (( eff & (1 << 0) )) || fail "CAP_CHOWN missing: $(probe 'j["CapEff"]')"
  (( !(eff & (1 << 21)) )) || fail "CAP_SYS_ADMIN kept: $(probe 'j["CapEff"]')"
  [[ $(probe 'any(m["path"] == "/proc/sys" and m["options"].startswith("ro,") for m in j["mounts"])') == true ]] ||
    fail "/proc/sys: $(probe '[m for m in j["mounts"] if m["path"].startswith("/proc/sys")]')"
}

@test "nspawn: a multi-app pod: the first app to fail gives the pod its code and stops the others" {
  run_podrun run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --name=quick --exec=/bin/sh -- -c 'echo quick; exit 3' --- \
    podrun.test/probe --name=slow --exec=/bin/sleep -- 60 ---
  assert_status 3
  assert_output_contains "quick"
  run_podrun status "$(cat "$BATS_TEST_TMPDIR/uuid")"
  assert_output_contains "app-quick=3"
  assert_output_contains "app-slow=143" # SIGTERM from the init, not the 60 s sleep
  run_podrun run --stage1=nspawn podrun.test/probe --name=a --exec=/bin/sh -- -c 'exit 0' --- podrun.test/probe --name=b \
    --exec=/bin/sh -- -c 'sleep 0.2; exit 0' ---
  assert_status 0
}

@test "nspawn: host, read-only and empty volumes; --readonly-rootfs" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  echo from-host >"$BATS_TEST_TMPDIR/data/f"
  run_podrun run --stage1=nspawn --volume "data,kind=host,source=$BATS_TEST_TMPDIR/data" \
    --volume "ro,kind=host,source=$BATS_TEST_TMPDIR/data,readOnly=true" --volume "scratch,kind=empty" \
    podrun.test/probe --readonly-rootfs --mount volume=data,target=/data --mount volume=ro,target=/ro \
    --mount volume=scratch,target=/scratch --exec=/bin/sh -- -c \
    'echo written >/data/w && cat /ro/f && echo s >/scratch/s && touch /new 2>/dev/null || /probe try-mkdir /ro/d' ---
  assert_status 0
  [[ $(cat "$BATS_TEST_TMPDIR/data/w") == written ]]
  [[ "${lines[0]}" == from-host ]]
  output=${lines[1]}
  [[ $(probe 'j["try_errno"]') == 30 ]]
  ! grep -q "$STORE/pods" /proc/self/mountinfo
}

@test "nspawn: event handlers run in order, pre-start before the app and post-stop after it" {
  mkdir -p "$BATS_TEST_TMPDIR/log"
  local id
  id=$(podrun image list --full --no-legend | awk '/probe/ {print $1}')
  cat >"$BATS_TEST_TMPDIR/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "volumes": [{"name": "log", "kind": "host", "source": "$BATS_TEST_TMPDIR/log"}],
 "apps": [{"name": "probe", "image": {"name": "podrun.test/probe", "id": "$id"},
   "mounts": [{"volume": "log", "path": "/log"}],
   "app": {"exec": ["/bin/sh", "-c", "echo app >>/log/order"], "user": "0", "group": "0",
     "eventHandlers": [{"name": "pre-start", "exec": ["/bin/sh", "-c", "echo pre-start >>/log/order"]},
                       {"name": "post-stop", "exec": ["/bin/sh", "-c", "echo post-stop >>/log/order"]}]}}]}
JSON
  run_podrun run --stage1=nspawn --pod-manifest="$BATS_TEST_TMPDIR/pod.json"
  assert_status 0
  [[ "$(cat "$BATS_TEST_TMPDIR/log/order" | tr '\n' ' ')" == "pre-start app post-stop " ]] ||
    fail "order: $(cat "$BATS_TEST_TMPDIR/log/order")"
}

@test "nspawn: enter joins the app's namespaces and root with its restrictions; stop ends the pod" {
  "$PODRUN" --dir="$STORE" run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe \
    --user=app --group=app --exec=/bin/sleep -- 60 --- &
  local uuid
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  run_podrun enter "$uuid" /probe
  assert_status 0
  [[ $(probe 'j["uid"]') == 1000 ]]
  [[ $(probe 'j["ns"]["pid"]') != "$(readlink /proc/self/ns/pid)" ]]
  [[ $(probe 'j["ns"]["uts"]') != "$(readlink /proc/self/ns/uts)" ]]
  [[ $(probe 'j["CapBnd"]') == 00000000a80425fb ]] # appc's default set, as the app has, not the init's all
  # the host's processes are not visible from inside
  run_podrun enter "$uuid" /bin/sh -c 'ls /proc | grep -c "^[0-9]"'
  assert_status 0
  [[ "$output" -lt 10 ]] || fail "sees $output processes"
  run_podrun enter "$uuid" /bin/sh -c 'exit 6'
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
  ! grep -q "$STORE/pods" /proc/self/mountinfo
}

@test "nspawn: kill -9 of the stage1 ends the pod; it shows exited and gc collects it, nothing leaks" {
  "$PODRUN" --dir="$STORE" run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe \
    --exec=/bin/sleep -- 60 --- &
  local stage1=$! uuid
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  local nspawn
  nspawn=$(pgrep -f -- "--machine=podrun-$uuid")
  [[ "$nspawn" =~ ^[0-9]+$ ]] || fail "no systemd-nspawn process for the pod: '$nspawn'"
  kill -9 "$stage1"
  wait || true
  for _ in $(seq 100); do
    kill -0 "$nspawn" 2>/dev/null || break
    sleep 0.1
  done
  ! kill -0 "$nspawn" 2>/dev/null || fail "systemd-nspawn outlived its stage1"
  run_podrun status "$uuid"
  assert_output_contains "state=exited"
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
  ! grep -q "$STORE/pods" /proc/self/mountinfo
  ! pgrep -f "podrun-$uuid" >/dev/null || fail "processes of the pod are left: $(pgrep -af "podrun-$uuid")"
}

@test "nspawn: --caps-retain, --caps-remove, --seccomp with its errno, the default filter, --oom-score-adj" {
  run_podrun run --stage1=nspawn podrun.test/probe --caps-retain=CAP_NET_BIND_SERVICE,CAP_CHOWN
  assert_status 0
  [[ $(probe 'j["CapEff"]') == 0000000000000401 ]]
  run_podrun run --stage1=nspawn podrun.test/probe --caps-remove=CAP_CHOWN
  assert_status 0
  [[ $(probe 'j["CapEff"]') == 00000000a80425fa ]]
  # a syscall outside the filter fails with the chosen errno
  run_podrun run --stage1=nspawn podrun.test/probe --seccomp=mode=remove,errno=ENOTSUP,mkdir,mkdirat \
    --exec=/probe -- try-mkdir /tmp/x ---
  assert_status 0
  [[ $(probe 'j["try_errno"]') == 95 ]]
  [[ $(probe 'j["Seccomp"]') == 2 ]]
  # with no filter asked for, the default one: unshare and mount are refused with EPERM
  run_podrun run --stage1=nspawn podrun.test/probe --exec=/bin/sh -- -c \
    '/bin/busybox unshare -m true 2>&1; echo "rc=$?"; cat /proc/self/oom_score_adj' ---
  assert_status 0
  assert_output_contains "Operation not permitted"
  run_podrun run --stage1=nspawn podrun.test/probe --oom-score-adj=500 --exec=/bin/cat -- /proc/self/oom_score_adj ---
  assert_status 0
  [[ "$output" == 500 ]]
  run_podrun run --stage1=nspawn podrun.test/probe --seccomp=mode=remove,nosuchcall
  assert_one_line_error "nosuchcall"
  run_podrun run --stage1=nspawn podrun.test/probe --caps-retain=CAP_FLY
  assert_one_line_error "CAP_FLY"
  run_podrun run --stage1=nspawn podrun.test/probe --oom-score-adj=2000
  assert_one_line_error "--oom-score-adj=2000"
}

@test "nspawn: apps' output reaches podrun's and is kept per app; logs --app, --tail, --follow; the cap" {
  run_podrun run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --name=one --exec=/bin/sh -- -c 'echo one-out; echo one-err >&2' --- \
    podrun.test/probe --name=two --exec=/bin/sh -- -c 'sleep 0.3; for i in 1 2 3; do echo "two $i"; done' ---
  assert_status 0
  assert_output_contains "one-out"
  assert_output_contains "two 3"
  assert_stderr_contains "one-err"
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  run_podrun logs "$uuid"
  assert_one_line_error "choose one with --app"
  run_podrun logs --app=one "$uuid"
  assert_status 0
  assert_output_contains "one-out"
  assert_output_contains "one-err"
  run_podrun logs --app=two --tail=2 "$uuid"
  assert_status 0
  [[ "$output" == "two 2"$'\n'"two 3" ]] || fail "tail: $output"
  run_podrun logs --app=three "$uuid"
  assert_one_line_error "no app \"three\""

  # --follow prints what comes until the pod exits
  "$PODRUN" --dir="$STORE" run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid2" podrun.test/probe \
    --exec=/bin/sh -- -c 'for i in 1 2 3 4; do echo "tick $i"; sleep 0.3; done' --- >/dev/null &
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid2" pid)
  run_podrun logs --follow "$uuid"
  assert_status 0
  [[ "$(grep -c '^tick' <<<"$output")" -eq 4 ]] || fail "followed: $output"
  wait

  # a chatty app's log is capped: the current file and the one before it
  run_podrun run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid3" podrun.test/probe \
    --exec=/bin/sh -- -c '/bin/busybox yes 0123456789abcdef | /bin/busybox head -c 9999995 >&2' ---
  assert_status 0
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid3")
  local dir=$STORE/pods/run/$uuid/logs
  [[ -f "$dir/probe.log.1" ]] || fail "no rotation: $(ls -l "$dir")"
  (( $(stat -c %s "$dir/probe.log") <= 4194304 && $(stat -c %s "$dir/probe.log.1") <= 4194304 )) ||
    fail "over the cap: $(ls -l "$dir")"
  run_podrun logs --tail=1 "$uuid"
  [[ "$output" == 0123456789* ]]
}

@test "fly: logs says that fly keeps none" {
  run_podrun run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe
  assert_status 0
  run_podrun logs "$(cat "$BATS_TEST_TMPDIR/uuid")"
  assert_one_line_error "keeps no logs"
}

@test "nspawn: --memory, --cpu and --cpu-shares are written to each app's cgroup; a memory hog is OOM-killed and reported" {
  local v2=0
  [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]] && v2=1
  "$PODRUN" --dir="$STORE" run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --name=limited --memory=64M --cpu=500m --cpu-shares=512 --exec=/bin/sleep -- 30 --- \
    podrun.test/probe --name=free --exec=/bin/sleep -- 30 --- &
  local uuid
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  if (( v2 )); then
    local cg=/sys/fs/cgroup/podrun/$uuid/limited
    [[ $(cat "$cg/memory.max") == 64000000 ]]
    [[ $(cat "$cg/cpu.max") == "50000 100000" ]]
  else
    local cg=/sys/fs/cgroup/memory/podrun/$uuid/limited
    [[ $(cat "$cg/memory.limit_in_bytes") == $((64000000 / 4096 * 4096)) ]] ||
      fail "memory.limit_in_bytes: $(cat "$cg/memory.limit_in_bytes")"
    [[ $(cat "/sys/fs/cgroup/cpu/podrun/$uuid/limited/cpu.cfs_quota_us") == 50000 ]]
    [[ $(cat "/sys/fs/cgroup/cpu/podrun/$uuid/limited/cpu.shares") == 512 ]]
  fi
  # the app is in it, as its own cgroup: the other app is not
  local app_pid
  app_pid=$(cat "$cg/cgroup.procs")
  [[ -n "$app_pid" ]] || fail "no process in $cg"
  [[ "$(tr '\0' ' ' <"/proc/$app_pid/cmdline")" == "/bin/sleep 30 " ]]
  [[ $(wc -l <"$cg/cgroup.procs") -eq 1 ]]
  # enter runs in the app's cgroups too
  run_podrun enter --app=limited "$uuid" /bin/cat /proc/self/cgroup
  assert_status 0
  assert_output_contains "podrun/$uuid/limited"
  run_podrun stop "$uuid"
  wait || true
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
  [[ ! -e "/sys/fs/cgroup/memory/podrun/$uuid" && ! -e "/sys/fs/cgroup/podrun/$uuid" ]] || fail "cgroups left"

  # enforced: an app that keeps allocating is killed, and podrun says why
  run_podrun run --stage1=nspawn podrun.test/probe --memory=32M --exec=/bin/busybox -- tail -n 1 /dev/zero ---
  assert_status 137
  assert_stderr_contains "killed by the OOM killer"

  run_podrun run --stage1=nspawn podrun.test/probe --memory=lots
  assert_one_line_error "--memory"
  run_podrun run --stage1=nspawn podrun.test/probe --cpu-shares=1
  assert_one_line_error "--cpu-shares=1"
}

@test "nspawn: --interactive gives the one app a real terminal; ^C reaches it; without a terminal it is refused" {
  command -v script >/dev/null || skip "needs script (package bsdutils)"
  local cmd="$PODRUN --dir=$STORE run --interactive podrun.test/probe --exec=/bin/sh -- -c"
  run script -qec "$cmd 'test -t 0 && test -t 1 && test -t 2 && echo on-a-tty' ---" /dev/null
  [[ $status -eq 0 ]] || fail "status $status: $output"
  [[ "$output" == *on-a-tty* ]] || fail "no tty: $output"
  # ^C on the terminal interrupts the app: 128 + SIGINT
  run bash -c "(sleep 2; printf '\003') | script -qec \"$PODRUN --dir=$STORE run --interactive podrun.test/probe --exec=/bin/sleep -- 30 ---\" /dev/null"
  [[ $status -eq 130 ]] || fail "status $status after ^C: $output"
  run_podrun run --interactive podrun.test/probe </dev/null
  assert_one_line_error "not a terminal"
  run script -qec "$PODRUN --dir=$STORE run --interactive podrun.test/probe podrun.test/probe --name=second" /dev/null
  [[ $status -eq 254 && "$output" == *"one app"* ]] || fail "two apps: $status $output"
}

@test "nspawn: --dns, --dns-search, --dns-opt and --hosts-entry write the apps' resolv.conf and hosts; /etc/hostname" {
  run_podrun run --stage1=nspawn --hostname=web --dns=192.0.2.53 --dns=2001:db8::53 --dns-search=example.com \
    --dns-search=corp.example --dns-opt=ndots:2 --hosts-entry=192.0.2.10=db.local podrun.test/probe \
    --readonly-rootfs --exec=/bin/sh -- -c 'cat /etc/resolv.conf /etc/hosts /etc/hostname' ---
  assert_status 0
  assert_output_contains "nameserver 192.0.2.53"
  assert_output_contains "nameserver 2001:db8::53"
  assert_output_contains "search example.com corp.example"
  assert_output_contains "options ndots:2"
  assert_output_contains $'192.0.2.10\tdb.local'
  assert_output_contains $'127.0.0.1\tlocalhost web'
  [[ "${lines[-1]}" == web ]]
  run_podrun run --stage1=nspawn --dns=host --hosts-entry=host podrun.test/probe --exec=/bin/sh -- -c \
    'cat /etc/resolv.conf; echo ---; cat /etc/hosts' ---
  assert_status 0
  [[ "$output" == "$(cat /etc/resolv.conf; echo ---; cat /etc/hosts)" ]] || fail "not the host's files: $output"
  # the image's own files stay when no flag says otherwise
  run_podrun run --stage1=nspawn podrun.test/probe --exec=/bin/cat -- /etc/image-marker ---
  assert_output_contains "only in the image"
  local before
  before=$(find "$STORE/pods" -mindepth 2 -maxdepth 2 | wc -l)
  for bad in "--hostname=\$'a\\n--net=none'" --hostname=under_score --dns=not-an-ip "--dns=host --dns=192.0.2.1" "--dns-search=a\ b" --hosts-entry=db.local \
    --hosts-entry=192.0.2.1=bad_name; do
    eval "run_podrun run --stage1=nspawn $bad podrun.test/probe"
    assert_one_line_error "--"
  done
  [[ $(find "$STORE/pods" -mindepth 2 -maxdepth 2 | wc -l) -eq $before ]] || fail "a refused run left a pod"
  run_podrun run --stage1=fly --dns=192.0.2.53 podrun.test/probe
  assert_status 254
  assert_stderr_contains "the fly stage1 shares the host's network"
}
