#!/usr/bin/env bats
# What only the nspawn stage1 (systemd-nspawn over the pod's stage1 rootfs, podrun's pod
# init as pid 1, every app through stage2) does: its own network, several apps, event
# handlers, logs, cgroups, the apps' /etc files. What fly and nspawn both do is tested
# against both in pods.bats. Facts are read from inside the pod by the probe.

load helpers

setup() {
  requires root python3 nspawn
  [[ -x "$BUILD/probe" && -f "$BUILD/stage1-nspawn.aci" ]] || fail "build the probe and stage1-nspawn first (make tests)"
  make_probe_aci
}

@test "nspawn: --net=none is a private network with loopback only, CAP_NET_RAW kept there; --hostname" {
  run_podrun run --stage1=nspawn --net=none --hostname=box --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --exec=/bin/sh -- -c 'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "; /probe' ---
  assert_status 0
  [[ "${lines[0]}" == lo && "${#lines[@]}" -eq 2 ]] || fail "interfaces: ${lines[*]}"
  output=${lines[1]}
  [[ $(probe 'j["ns"]["net"]') != "$(readlink /proc/self/ns/net)" ]]
  [[ $(probe 'j["hostname"]') == box ]]
  # a private network keeps appc's whole default set, CAP_NET_RAW (bit 13) included;
  # on the host's network it is not in it (pods.bats), unless the app names it
  [[ $(probe 'j["CapEff"]') == 00000000a80425fb ]]
  run_podrun run --stage1=nspawn --net=host podrun.test/probe --caps-retain=CAP_NET_RAW,CAP_CHOWN --exec=/bin/sh -- -c \
    'grep CapEff /proc/self/status' ---
  assert_status 0
  [[ $output == *0000000000002001 ]] || fail "a named CAP_NET_RAW was not kept: $output"
  run_podrun status "$(cat "$BATS_TEST_TMPDIR/uuid")"
  assert_output_contains "network=none"
  # without --net, nspawn's pod is on the default CNI network (net.bats tests it in full):
  # a namespace of its own with eth0, CAP_NET_RAW kept as on none
  run_podrun run --stage1=nspawn podrun.test/probe --exec=/bin/sh -- -c \
    'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " " | sort | tr "\n" " "; echo; grep CapEff /proc/self/status' ---
  assert_status 0
  [[ "${lines[0]% }" == "eth0 lo" ]] || fail "interfaces on the default network: ${lines[0]}"
  [[ "${lines[1]}" == *00000000a80425fb ]] || fail "capabilities on the default network: ${lines[1]}"
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

@test "nspawn: --readonly-rootfs before the images makes every app's root read-only; after an image, that app's alone" {
  local try='if touch /written 2>/dev/null; then echo "$0 rw"; else echo "$0 ro"; fi'
  run_podrun run --stage1=nspawn --readonly-rootfs --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --name=one --exec=/bin/sh -- -c "$try" one --- \
    podrun.test/probe --name=two --exec=/bin/sh -- -c "$try" two ---
  assert_status 0
  assert_output_contains "one ro"
  assert_output_contains "two ro"
  run_podrun cat-manifest "$(cat "$BATS_TEST_TMPDIR/uuid")"
  [[ $(json_query '[a["readOnlyRootFS"] for a in j["apps"]]' <<<"$output") == "[true, true]" ]]
  run_podrun run --stage1=nspawn podrun.test/probe --name=one --readonly-rootfs --exec=/bin/sh -- -c "$try" one --- \
    podrun.test/probe --name=two --exec=/bin/sh -- -c "$try" two ---
  assert_status 0
  assert_output_contains "one ro"
  assert_output_contains "two rw"
}

@test "nspawn: stop --force of a multi-app pod: an app still running is recorded 137 (SIGKILL), one that exited keeps its code" {
  "$PODRUN" --dir="$STORE" run --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --name=done --exec=/bin/sh -- -c 'exit 0' --- \
    podrun.test/probe --name=busy --exec=/bin/sleep -- 60 --- >/dev/null 2>&1 &
  local run_pid=$! uuid code=0
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  [[ -n "$uuid" && $(wait_pod_file "$BATS_TEST_TMPDIR/uuid" status/done) == "$uuid" ]] || fail "the pod did not start"
  run_podrun stop --force "$uuid"
  assert_status 0
  wait "$run_pid" || code=$?
  [[ $code -eq 137 ]] || fail "run exited $code"
  run_podrun status "$uuid"
  assert_output_contains "app-done=0"
  assert_output_contains "app-busy=137"
}

@test "nspawn: a failing pre-start handler gives its app and the pod its code; the apps after it never start and have none" {
  local id
  id=$(podrun image list --full --no-legend | awk '/probe/ {print $1}')
  cat >"$BATS_TEST_TMPDIR/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "apps": [{"name": "first", "image": {"name": "podrun.test/probe", "id": "$id"},
   "app": {"exec": ["/bin/sleep", "60"], "user": "0", "group": "0",
     "eventHandlers": [{"name": "pre-start", "exec": ["/bin/sh", "-c", "exit 5"]}]}},
  {"name": "second", "image": {"name": "podrun.test/probe", "id": "$id"},
   "app": {"exec": ["/bin/sleep", "60"], "user": "0", "group": "0"}}]}
JSON
  run_podrun run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid" --pod-manifest="$BATS_TEST_TMPDIR/pod.json"
  assert_status 5
  run_podrun status "$(cat "$BATS_TEST_TMPDIR/uuid")"
  assert_output_contains "app-first=5"
  [[ "$output" != *app-second=* ]] || fail "an app that never started has a code"
}

@test "nspawn: stop of a pod that never gets a pid (a pre-start handler hangs) says so; stop --force ends it" {
  local id pid uuid code=0
  id=$(podrun image list --full --no-legend | awk '/probe/ {print $1}')
  cat >"$BATS_TEST_TMPDIR/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "apps": [{"name": "stuck", "image": {"name": "podrun.test/probe", "id": "$id"},
   "app": {"exec": ["/bin/sleep", "60"], "user": "0", "group": "0",
     "eventHandlers": [{"name": "pre-start", "exec": ["/bin/sleep", "60"]}]}}]}
JSON
  "$PODRUN" --dir="$STORE" run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    --pod-manifest="$BATS_TEST_TMPDIR/pod.json" >/dev/null 2>&1 &
  pid=$!
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" started)
  # the one without --force gives up after 10 s; the other, a second later, ends the pod's cgroup
  "$PODRUN" --dir="$STORE" stop "$uuid" >"$BATS_TEST_TMPDIR/plain.out" 2>&1 &
  local plain=$! plain_code=0
  sleep 1
  run_podrun stop --force "$uuid"
  [[ $status -eq 0 ]] || { kill -9 "$pid"; fail "stop --force exited $status"; } # the pod dies with its run
  wait "$plain" || plain_code=$?
  cat "$BATS_TEST_TMPDIR/plain.out"
  [[ $plain_code -eq 254 ]] || fail "stop without --force exited $plain_code"
  [[ $(cat "$BATS_TEST_TMPDIR/plain.out") == "podrun: pod $uuid is still starting after 10s (no pid yet); stop --force ends it" ]]
  wait "$pid" || code=$?
  [[ $code -eq 137 ]] || fail "run exited $code, not 137 (SIGKILL)"
  run_podrun status "$uuid"
  assert_output_contains "state=exited"
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
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
  # the app is in it, as its own cgroup, with its stage2 (pid 1 of the app's pid
  # namespace): the other app is not. The app's stage2 joins it before it execs the
  # app, which can be after the pod is ready.
  local app_pid= p procs
  for _ in $(seq 50); do
    procs=$(cat "$cg/cgroup.procs")
    for p in $procs; do
      [[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" != "/bin/sleep 30 " ]] || app_pid=$p
    done
    [[ -z $app_pid ]] || break
    sleep 0.1
  done
  [[ -n "$app_pid" ]] || fail "the app is not in $cg: $procs"
  [[ $(wc -l <"$cg/cgroup.procs") -eq 2 ]] || fail "not only the app and its stage2: $procs"
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
  run_podrun gc --grace-period=0 # its cgroups are the host's until then

  run_podrun run --stage1=nspawn podrun.test/probe --memory=lots
  assert_one_line_error "--memory"
  run_podrun run --stage1=nspawn podrun.test/probe --cpu-shares=1
  assert_one_line_error "--cpu-shares=1"
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
  # fly refuses these flags: fly.bats
}

@test "nspawn: /proc and /sys: Docker's masked paths are empty, the kernel's knobs read-only" {
  run_podrun run podrun.test/probe --exec=/bin/sh -- -c \
    'for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats; do
       [ -e $f ] && echo "$f $(/bin/busybox wc -c <$f)"; done
     for d in /proc/acpi /proc/scsi /sys/firmware; do [ -d $d ] && echo "$d $(ls -A $d | /bin/busybox wc -l)"; done
     echo 1 2>/dev/null >/proc/sys/kernel/panic || echo sys-refused
     [ -e /proc/sysrq-trigger ] && { echo h 2>/dev/null >/proc/sysrq-trigger || echo sysrq-refused; }
     /probe' ---
  assert_status 0
  local line path
  for line in "${lines[@]}"; do
    [[ $line == /* ]] || continue
    read -r path n <<<"$line"
    [[ $n == 0 ]] || fail "$path is not masked: $line"
  done
  # what exists on this host is checked; /sys/firmware always does
  assert_output_contains "/sys/firmware 0"
  assert_output_contains "sys-refused"
  if [[ -e /proc/sysrq-trigger ]]; then assert_output_contains "sysrq-refused"; fi
  output=${lines[-1]}
  local ro
  for ro in /proc/sys /proc/bus /proc/fs /proc/irq; do
    [[ -e $ro ]] || continue
    [[ $(probe "any(m['path'] == '$ro' and m['options'].startswith('ro,') for m in j['mounts'])") == true ]] ||
      fail "$ro is not read-only"
  done
  [[ $(probe "any(m['path'] == '/sys/firmware' and m['options'].startswith('ro,') for m in j['mounts'])") == true ]]
  # what the app sees at /proc/sys and below it is read-only, on the host's network and
  # on a network of the pod's own (whose /proc/sys/net knobs would be its own to change)
  local net p
  for net in host none; do
    run_podrun run --net="$net" podrun.test/probe
    assert_status 0
    for p in /proc/sys /proc/sys/net /proc/sys/net/ipv4 /proc/sys/kernel; do
      [[ $(visible_mount "$p") == ro,* ]] || fail "--net=$net: $p is seen through a writable mount: $(visible_mount "$p")"
    done
  done
}

@test "nspawn: kill -9 of systemd-nspawn or of the pod init: the pod shows exited, gc collects it, no process, mount or cgroup is left" {
  local victim uuid init nspawn app run_pid code
  for victim in nspawn init; do
    "$PODRUN" --dir="$STORE" run --uuid-file-save="$BATS_TEST_TMPDIR/uuid-$victim" podrun.test/probe --memory=64M \
      --exec=/bin/sleep -- 60 --- >/dev/null 2>&1 &
    run_pid=$!
    uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid-$victim" pid)
    [[ -n "$uuid" ]] || fail "the pod did not start"
    init=$(cat "$STORE/pods/run/$uuid/pid")
    nspawn=$(ps -o ppid= -p "$init" | tr -d ' ')
    app=$(pgrep -P "$init")
    [[ $(cat "/proc/$nspawn/comm") == systemd-nspawn && -n "$app" ]] || fail "init $init, nspawn $nspawn, app $app"
    [[ -d /sys/fs/cgroup/memory/podrun/$uuid || -d /sys/fs/cgroup/podrun/$uuid ]] || fail "no cgroup for the pod"
    if [[ $victim == nspawn ]]; then kill -9 "$nspawn"; else kill -9 "$init"; fi
    run_podrun status --wait=10s "$uuid"
    assert_output_contains "state=exited"
    # the init recorded nothing: the app went with it, by SIGKILL, and run says so
    assert_output_contains "app-probe=137"
    code=0
    wait "$run_pid" || code=$?
    [[ $code -eq 137 ]] || fail "run exited $code after kill -9 of the $victim"
    for p in "$init" "$nspawn" "$app"; do
      for _ in $(seq 50); do [[ -d /proc/$p ]] || break; sleep 0.1; done
      [[ ! -d /proc/$p ]] || fail "after kill -9 of the $victim, $p is left: $(cat /proc/$p/cmdline | tr '\0' ' ')"
    done
    run_podrun gc --grace-period=0
    assert_output_contains "removed pod $uuid"
    ! grep -q "$STORE/pods" /proc/self/mountinfo || fail "a pod mount is left"
    [[ ! -e /sys/fs/cgroup/memory/podrun/$uuid && ! -e /sys/fs/cgroup/cpu/podrun/$uuid &&
      ! -e /sys/fs/cgroup/podrun/$uuid ]] || fail "the pod's cgroup is left"
  done
}

@test "nspawn: ^C to podrun's process group stops the pod through the init, the apps' codes recorded" {
  command -v setsid >/dev/null || skip "needs setsid (package util-linux)"
  setsid "$PODRUN" --dir="$STORE" run --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe \
    --exec=/bin/sleep -- 60 --- >/dev/null 2>&1 &
  local leader=$! uuid
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  [[ -n "$uuid" ]] || fail "the pod did not start"
  # what a terminal's ^C does: SIGINT to every process of the foreground group (podrun's
  # stage1 and systemd-nspawn alike)
  kill -INT -- "-$leader"
  run_podrun status --wait=15s "$uuid"
  assert_output_contains "state=exited"
  # the app was asked (SIGINT from the init, or SIGTERM from nspawn's own), not killed
  [[ "$output" == *"app-probe=130"* || "$output" == *"app-probe=143"* ]] || fail "not a graceful stop: $output"
  wait || true
}

@test "nspawn: --interactive: the app's terminal follows a resize of podrun's" {
  run python3 "$E2E_ROOT/tests/tools/ptyrun.py" 24x80 --resize-after=2:40x120 -- "$PODRUN" --dir="$STORE" run \
    --interactive podrun.test/probe --exec=/bin/sh -- -c '/bin/busybox stty size; sleep 4; /bin/busybox stty size' ---
  [[ $status -eq 0 ]] || fail "status $status: $output"
  [[ "${lines[0]}" == $'24 80\r' || "${lines[0]}" == "24 80" ]] || fail "size at start: ${lines[0]}"
  [[ "${lines[1]}" == $'40 120\r' || "${lines[1]}" == "40 120" ]] || fail "size after the resize: ${lines[1]}"
}

@test "nspawn: the apps' lines reach podrun's stdout whole, never mixed with another app's" {
  # each app writes every line in two pieces, a while apart
  run_podrun run podrun.test/probe --name=a --exec=/bin/sh -- -c \
    'for i in $(seq 40); do printf "a-begins "; sleep 0.01; echo a-ends; done' --- podrun.test/probe --name=b \
    --exec=/bin/sh -- -c 'for i in $(seq 40); do printf "b-begins "; sleep 0.01; echo b-ends; done' ---
  assert_status 0
  [[ ${#lines[@]} -eq 80 ]] || fail "${#lines[@]} lines"
  local bad
  bad=$(grep -cvxE "a-begins a-ends|b-begins b-ends" <<<"$output") || true
  [[ $bad -eq 0 ]] || fail "$bad lines are mixed"
  # the log of each app has its own lines only
  run_podrun logs --app=a "$(ls "$STORE/pods/run")"
  [[ $(grep -cx "a-begins a-ends" <<<"$output") -eq 40 ]]
}

# nspawn's default seccomp filter sets no_new_privs (a filter needs it), hiding what the
# isolator does; without a filter (--insecure-options=seccomp), the isolator alone
# decides. fly.bats tests the isolator on fly, which has no default filter.
@test "nspawn: with --insecure-options=seccomp, the no-new-privileges isolator alone sets no_new_privs" {
  local value want
  for value in true false none; do
    nnp_pod_manifest "$value"
    run_podrun --insecure-options=image,seccomp run --stage1=nspawn --pod-manifest="$BATS_TEST_TMPDIR/pod.json"
    assert_status 0
    [[ $(probe 'j["Seccomp"]') == 0 ]] || fail "--insecure-options=seccomp still loads a seccomp filter"
    want=0
    [[ $value != true ]] || want=1
    [[ $(probe 'j["no_new_privs"]') == "$want" ]] || fail "isolator $value: no_new_privs is $(probe 'j["no_new_privs"]')"
  done
}

# The init's nspawn/<app>.pid is a file of the pod directory's: enter takes a pid from it
# only if the kernel says it is a child of the pod's init, so a pid planted there (this
# shell's, or host pid 1) is refused, and so is an app that has exited.
@test "nspawn: enter refuses an app that has exited, and a pid that is not the init's child" {
  "$PODRUN" --dir="$STORE" run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --name=quick --exec=/bin/sh -- -c true --- podrun.test/probe --name=slow --exec=/bin/sleep -- 30 --- &
  local pid=$! uuid
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  local dir=$STORE/pods/run/$uuid
  for _ in $(seq 50); do [[ -e $dir/nspawn/quick.pid ]] || break; sleep 0.1; done
  run_podrun enter --app=quick "$uuid" /bin/true
  assert_status 254
  [[ $stderr == 'podrun-stage1: app "quick" is not running' ]] || fail "not the one line expected"
  run_podrun enter --app=slow "$uuid" /bin/sh -c 'echo in-slow'
  assert_status 0
  assert_output_contains in-slow
  local forged
  for forged in $$ 1 garbage; do
    echo "$forged" >"$dir/nspawn/slow.pid"
    run_podrun enter --app=slow "$uuid" /bin/true
    assert_status 254
    [[ $stderr == 'podrun-stage1: app "slow" is not running' ]] || fail "$forged: not refused"
  done
  run_podrun stop "$uuid"
  wait "$pid" || true
}
