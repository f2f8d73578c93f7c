#!/usr/bin/env bats
# The kvm stage1 (Documentation/stage1-kvm.md): each pod a qemu microvm, KVM when it
# works and TCG (software emulation) otherwise. A TCG boot takes seconds, so the suite
# is a few boots with many assertions each, the facts read from inside the guest by
# the probe. On these machines /dev/kvm exists but KVM does not work: the pods run
# under TCG and the probe's fallback is what is tested; a host where KVM works runs
# the same tests with KVM.

load helpers
load booted

setup() {
  requires root python3
  command -v qemu-system-x86_64 >/dev/null || skip "needs qemu-system-x86_64 (package qemu-system-x86)"
  [[ -x "$BUILD/probe" && -f "$BUILD/stage1-kvm.aci" ]] || fail "build the probe and stage1-kvm first (make all tests)"
  make_probe_aci
}

# the accelerator this machine gives a pod under PODRUN_KVM=auto (the stage1's own
# probe decides; this only says what to expect in the tests' assertions)
expected_accel() {
  if grep -q "KVM does not work here" <<<"${stderr:-}"; then echo tcg; else echo kvm; fi
}

no_pod_mounts() {
  ! grep -q "$STORE/pods" /proc/self/mountinfo || fail "still mounted: $(grep "$STORE/pods" /proc/self/mountinfo)"
}

no_qemu_of() {
  ! pgrep -f "podrun-$1" >/dev/null || fail "processes of the pod are left: $(pgrep -af "podrun-$1")"
}

IPAM=/run/podrun/cni/networks

teardown() {
  [[ -z "${SERVER_PID:-}" ]] || kill "$SERVER_PID" 2>/dev/null || true
  teardown_pods
  # the booted systemd of the Type=notify test, if it booted one
  [[ ! -f "$BATS_FILE_TMPDIR/nspawn" ]] || md_shutdown
}

# no_net_of UUID: none of the pod's networks is left: no address reserved for it, no
# iptables rule naming it, no netns mount below the store (its tap and veth ends were
# in that namespace)
no_net_of() {
  ! grep -rqs "$1" "$IPAM" || fail "host-local still holds an address for $1: $(grep -rls "$1" "$IPAM")"
  ! iptables-save -t nat 2>/dev/null | grep -q "$1" || fail "iptables rules of $1 are left"
  ! grep -q " ${STORE}/pods/[a-z-]*/$1/netns " /proc/self/mountinfo || fail "the netns of $1 is still mounted"
}

# gc_leaves_nothing UUID: gc removes the pod, nothing of it is mounted or running
gc_leaves_nothing() {
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $1"
  [[ ! -e "$STORE/pods/exited-garbage/$1" && ! -e "$STORE/pods/garbage/$1" && ! -e "$STORE/pods/run/$1" ]] ||
    fail "the pod directory is left"
  no_pod_mounts
  no_qemu_of "$1"
  no_net_of "$1"
  local cg
  for cg in /sys/fs/cgroup/unified/podrun/$1 /sys/fs/cgroup/podrun/$1; do
    [[ ! -e $cg ]] || fail "cgroup $cg is left"
  done
}

@test "kvm: a pod boots under the guest kernel; the probe sees the VM's hostname, its NIC, /etc files; status says the accelerator" {
  run_podrun run --stage1=kvm --hostname=box --dns=192.0.2.53 --hosts-entry=192.0.2.7=db \
    --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe --exec=/bin/sh -- -c \
    'uname -r; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\n" " "; echo;
     grep -c "^nameserver 192.0.2.53" /etc/resolv.conf; grep -c "^192.0.2.7.db" /etc/hosts; /probe; exit 3' ---
  assert_status 3
  local accel uuid
  accel=$(expected_accel)
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  # the guest's own kernel (Debian's linux-image), not the host's
  [[ ${lines[0]} != "$(uname -r)" && ${lines[0]} == *-amd64 ]] || fail "kernel: ${lines[0]} (host: $(uname -r))"
  [[ ${lines[1]} == "eth0 lo " ]] || fail "interfaces: ${lines[1]}"
  [[ ${lines[2]} == 1 && ${lines[3]} == 1 ]] || fail "--dns, --hosts-entry not in the app's /etc"
  output=${lines[4]}
  [[ $(probe 'j["hostname"]') == box ]]
  [[ $(probe 'j["uid"]') == 0 ]]
  # TCG fallback: one notice, and the pod's status says which ran it
  if [[ $accel == tcg ]]; then
    [[ ${#stderr_lines[@]} -eq 1 && ${stderr_lines[0]} == "podrun-stage1: KVM does not work here ("*"): the pod runs under TCG, software emulation" ]] ||
      fail "the fallback notice is not one line"
  fi
  run_podrun status "$uuid"
  assert_output_contains "accelerator=$accel"
  assert_output_contains "app-probe=3"
  # the guest's console went to the pod's console log, not to podrun's output
  [[ -s "$STORE/pods/run/$uuid/kvm/console.log" ]] || fail "no console log"
  local first
  first=$(grep -m1 . "$STORE/pods/run/$uuid/kvm/console.log")
  [[ -n $first && "$output$stderr" != *"$first"* ]] || fail "the console reached podrun's output"
  # run ended qemu once the guest said the pod was over, before the guest kernel's
  # power-off (whose "reboot: Power down" the kernel prints even when quiet)
  ! grep -q "Power down" "$STORE/pods/run/$uuid/kvm/console.log" || fail "run waited for the guest's power-off"
  gc_leaves_nothing "$uuid"
}

@test "kvm: run ends qemu once the pod is over, and not before what the apps wrote reached podrun: a big last write to stdout and to stderr, then exit" {
  run_podrun run --stage1=kvm --net=none --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe --exec=/bin/sh -- -c \
    'head -c 400000 /dev/zero | tr "\0" o; head -c 100000 /dev/zero | tr "\0" % >&2; echo last-line >&2; exit 5' ---
  assert_status 5
  local uuid pct
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  [[ $output == "$(head -c 400000 /dev/zero | tr '\0' o)" ]] || fail "stdout: ${#output} bytes of 400000"
  # stderr: its 100,000 bytes then its last line, after the TCG notice if any
  pct=$(head -c 100000 /dev/zero | tr '\0' %)
  [[ $stderr == *"$pct"last-line && $(tr -cd % <<<"$stderr" | wc -c) -eq 100000 ]] ||
    fail "stderr: $(tr -cd % <<<"$stderr" | wc -c) bytes of 100000, then last-line"
  ! grep -q "Power down" "$STORE/pods/run/$uuid/kvm/console.log" || fail "run waited for the guest's power-off"
  gc_leaves_nothing "$uuid"
}

@test "kvm: --net=none has no NIC; --memory and --cpu size the VM and bind each app inside it too" {
  run_podrun run --stage1=kvm --net=none --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe --memory=200M \
    --cpu=1500m --exec=/bin/sh -- -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " "; echo;
      grep -c ^processor /proc/cpuinfo; grep MemTotal /proc/meminfo | tr -s " " | cut -d" " -f2; cat /proc/self/cgroup' ---
  assert_status 0
  [[ ${lines[0]} == "lo " ]] || fail "interfaces: ${lines[0]}"
  [[ ${lines[1]} == 2 ]] || fail "vCPUs for 1.5 cores: ${lines[1]}"
  # 200 MB for the app plus the guest's own 96 MiB: more than 200 MB, less than 300 MiB
  (( ${lines[2]} > 200000000 / 1024 && ${lines[2]} < 300 * 1024 )) || fail "MemTotal: ${lines[2]} kB"
  # inside, the app is in a cgroup of its own, where the limits are
  [[ ${lines[3]} == "0::/probe" ]] || fail "the app's cgroup in the guest: ${lines[3]}"
  run_podrun status "$(cat "$BATS_TEST_TMPDIR/uuid")"
  assert_output_contains "network=none"
}

# podrun.test/kvm-httpd: busybox's httpd, wget and ip, serving /www ("hello from
# the guest") on its port "http" (80/tcp)
make_httpd_aci() {
  httpd_aci podrun.test/kvm-httpd "hello from the guest" '[{"name": "http", "protocol": "tcp", "port": 80}]'
}

@test "kvm: CNI networks (the default, as nspawn, and one of net.d): the guest has each network's address, routes and DNS, reaches the host and is reached, serves through --port; nothing is left at exit" {
  [[ -x /usr/lib/cni/ptp && -x /usr/lib/cni/host-local && -x /usr/lib/cni/portmap ]] ||
    skip "needs the CNI plugins (package containernetworking-plugins)"
  command -v iptables-save >/dev/null || skip "needs iptables"
  make_httpd_aci
  local conf=$BATS_TEST_TMPDIR/config hport pport www=$BATS_TEST_TMPDIR/host-www uuid pod addr addr2
  mkdir -p "$conf/net.d" "$www"
  cat >"$conf/net.d/10-kvmnet.conf" <<JSON
{"cniVersion": "1.0.0", "name": "kvmnet", "type": "ptp", "dns": {"nameservers": ["192.0.2.53"], "search": ["pods.test"]},
 "ipam": {"type": "host-local", "dataDir": "$BATS_TEST_TMPDIR/ipam", "ranges": [[{"subnet": "10.99.8.0/24"}]]}}
JSON
  echo "hello from the host" >"$www/index.html"
  hport=$(free_port)
  pport=$(free_port)
  busybox httpd -f -p "0.0.0.0:$hport" -h "$www" >/dev/null 2>&1 3>&- &
  SERVER_PID=$!
  # the checks, then the image's httpd in the foreground, until stop
  "$PODRUN" --dir="$STORE" --local-config="$conf" run --stage1=kvm --net=default,kvmnet --port="http:$pport" \
    --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/kvm-httpd --exec=/bin/sh -- -c "
      ip -4 -o addr show | grep -v ' lo '; ip -4 route; cat /etc/resolv.conf
      echo host-page: \$(timeout 20 wget -q -O - http://172.16.28.1:$hport/)
      exec httpd -f -p 80 -h /www" --- >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" </dev/null 3>&- &
  local run=$!
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  pod=$STORE/pods/run/$uuid
  for _ in $(seq 600); do [[ -s "$pod/pid" ]] && break; sleep 0.1; done
  [[ -s "$pod/pid" ]] || fail "the pod did not start: $(cat "$BATS_TEST_TMPDIR/err")"
  run_podrun status "$uuid"
  assert_output_contains "network=default,kvmnet"
  addr=$(sed -n 's/^networks=default:ip4=\([0-9.]*\).*/\1/p' <<<"$output")
  addr2=$(grep -o 'kvmnet:ip4=[0-9.]*' <<<"$output" | cut -d= -f2)
  [[ $addr == 172.16.28.* && $addr2 == 10.99.8.* ]] || fail "addresses in status: $output"
  # the NICs are taps in the pod's netns, each joined to its veth end by tc redirects
  log_run nsenter --net="$pod/netns" ip -o link show
  [[ $output == *" tap0: "* && $output == *" tap1: "* && $output == *" eth0@"* && $output == *" eth1@"* ]] ||
    fail "the pod's netns: $output"
  log_run nsenter --net="$pod/netns" tc filter show dev eth0 ingress
  [[ $output == *"Egress Redirect to device tap0"* ]] || fail "eth0's ingress: $output"
  log_run nsenter --net="$pod/netns" tc filter show dev tap1 ingress
  [[ $output == *"Egress Redirect to device eth1"* ]] || fail "tap1's ingress: $output"
  # the host reaches the guest at its address, on each network (the guest's kernel answers)
  log_run busybox ping -c 1 -W 10 "$addr"
  assert_status 0
  log_run busybox ping -c 1 -W 10 "$addr2"
  assert_status 0
  # --port reaches the guest's server (its httpd starts after the checks)
  local page=
  for _ in $(seq 120); do
    page=$(curl -s -m 2 "http://127.0.0.1:$pport/") && [[ $page == "hello from the guest" ]] && break
    sleep 0.5
  done
  [[ $page == "hello from the guest" ]] || fail "--port=http:$pport: '$page'; the pod said: $(cat "$BATS_TEST_TMPDIR/out")"
  run_podrun --local-config="$conf" stop "$uuid"
  wait "$run" || true
  kill "$SERVER_PID" 2>/dev/null || true
  log_run cat "$BATS_TEST_TMPDIR/out"
  # each NIC has its network's address (the guest found it by the veth's MAC), the
  # default route of the default network, the subnet of each through its gateway
  assert_output_contains "inet $addr/32"
  assert_output_contains "inet $addr2/32"
  assert_output_contains "default via 172.16.28.1"
  assert_output_contains "172.16.28.0/24 via 172.16.28.1"
  assert_output_contains "10.99.8.0/24 via 10.99.8.1"
  # the apps' resolv.conf: the networks' DNS (kvmnet's, and the host's non-loopback ones)
  assert_output_contains "nameserver 192.0.2.53"
  assert_output_contains "search pods.test"
  assert_output_contains "host-page: hello from the host"
  # DEL at the pod's exit: nothing of its networks is left, before any gc
  no_net_of "$uuid"
  ! grep -rqs "$uuid" "$BATS_TEST_TMPDIR/ipam" || fail "kvmnet still holds an address for $uuid"
  [[ -z "$(ip -4 route show "$addr/32")" ]] || fail "a route to the pod is left: $(ip -4 route show "$addr/32")"
  run curl -s -m 2 "http://127.0.0.1:$pport/"
  [[ $output != "hello from the guest" ]] || fail "the port is still forwarded after the pod"
  gc_leaves_nothing "$uuid"
}

@test "kvm: several apps: the first to fail gives the pod its code and stops the others; status/<app>; logs" {
  run_podrun run --stage1=kvm --net=host --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --name=quick --exec=/bin/sh -- -c 'echo quick-out; echo quick-err >&2
      grep -qx "nameserver 10.0.2.3" /etc/resolv.conf && echo nat-dns; sleep 1; exit 4' --- \
    podrun.test/probe --name=slow --exec=/bin/sh -- -c 'echo slow-out; exec sleep 60' ---
  assert_status 4
  assert_output_contains "quick-out"
  assert_output_contains "slow-out"
  assert_stderr_contains "quick-err"
  assert_output_contains "nat-dns" # --net=host: without --dns, the resolver of qemu's user-mode network
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  run_podrun status "$uuid"
  assert_output_contains "app-quick=4"
  assert_output_contains "app-slow=143" # SIGTERM from the pod init, not the 60 s sleep
  run_podrun logs --app=quick "$uuid"
  assert_status 0
  assert_output_contains "quick-out"
  assert_output_contains "quick-err"
}

@test "kvm: event handlers in order; host, read-only and empty volumes keep their flags from inside the guest; no device node reaches the host" {
  mkdir -p "$BATS_TEST_TMPDIR/log" "$BATS_TEST_TMPDIR/ro"
  echo "host file" >"$BATS_TEST_TMPDIR/ro/file"
  local id
  id=$(podrun image list --full --no-legend | awk '/probe/ {print $1}')
  cat >"$BATS_TEST_TMPDIR/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "volumes": [{"name": "log", "kind": "host", "source": "$BATS_TEST_TMPDIR/log"},
             {"name": "ro", "kind": "host", "source": "$BATS_TEST_TMPDIR/ro", "readOnly": true},
             {"name": "scratch", "kind": "empty", "mode": "0700"}],
 "apps": [{"name": "probe", "image": {"name": "podrun.test/probe", "id": "$id"},
   "mounts": [{"volume": "log", "path": "/log"}, {"volume": "ro", "path": "/ro"}, {"volume": "scratch", "path": "/scratch"}],
   "app": {"exec": ["/bin/sh", "-c", "echo app >>/log/order; cat /ro/file; if echo x >/ro/file; then echo ro-written; fi; mkdir /scratch/d && echo scratch-ok; if mknod /blk b 8 0 2>/dev/null || mknod /scratch/blk b 8 0 2>/dev/null; then echo made-node; fi; /probe try-mkdir /ro/new"],
     "user": "0", "group": "0",
     "eventHandlers": [{"name": "pre-start", "exec": ["/bin/sh", "-c", "echo pre-start >>/log/order"]},
                       {"name": "post-stop", "exec": ["/bin/sh", "-c", "echo post-stop >>/log/order"]}]}}]}
JSON
  run_podrun run --stage1=kvm --pod-manifest="$BATS_TEST_TMPDIR/pod.json"
  assert_status 0
  [[ "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/log/order")" == "pre-start app post-stop " ]] ||
    fail "order: $(cat "$BATS_TEST_TMPDIR/log/order")"
  [[ ${lines[0]} == "host file" ]] || fail "the read-only volume's file: ${lines[0]}"
  [[ $output != *ro-written* && "$(cat "$BATS_TEST_TMPDIR/ro/file")" == "host file" ]] || fail "the read-only volume was written"
  assert_output_contains "scratch-ok"
  # root in the app has CAP_MKNOD, but a node made through 9p would be the host's: qemu may not make one
  [[ $output != *made-node* ]] || fail "the guest made a device node on the host"
  [[ -z "$(find "$STORE/pods" -type b 2>/dev/null)" ]] || fail "a device node in the pod directory: $(find "$STORE/pods" -type b)"
  output=${lines[-1]}
  [[ $(probe 'j["try_errno"]') == 30 ]] || fail "mkdir in the read-only volume: errno $(probe 'j["try_errno"]'), not EROFS"
  [[ ! -e "$BATS_TEST_TMPDIR/ro/new" ]]
}

@test "kvm: enter runs in the app as the app, through the control channel only, with stdin, a tty, several at once; stop is graceful; qemu has no monitor, no display, a sandbox" {
  "$PODRUN" --dir="$STORE" run --stage1=kvm --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe \
    --user=app --group=app --exec=/bin/sh -- -c 'grep CapEff /proc/self/status | cut -f2 >/dev/shm/app-caps
      trap "echo got-term; exit 9" TERM; while :; do sleep 0.2; done' --- \
    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  local run=$! uuid pod qemu
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  for _ in $(seq 600); do [[ -s "$STORE/pods/run/$uuid/pid" ]] && break; sleep 0.1; done
  pod=$STORE/pods/run/$uuid
  qemu=$(cat "$pod/pid")
  # the pid is qemu's; its command line: the fixed devices, nothing to reach it by
  local args
  args=$(tr '\0' '\n' <"/proc/$qemu/cmdline")
  [[ $(head -1 <<<"$args") == */qemu-system-x86_64 ]] || fail "pid is not qemu's: $(head -1 <<<"$args")"
  grep -qx -- "-nodefaults" <<<"$args" && grep -qx -- "-no-user-config" <<<"$args"
  grep -A1 -x -- "-monitor" <<<"$args" | grep -qx none || fail "a monitor"
  grep -A1 -x -- "-display" <<<"$args" | grep -qx none || fail "a display"
  grep -A1 -x -- "-sandbox" <<<"$args" | grep -q "^on," || fail "no seccomp sandbox"
  ! grep -q -- "-qmp\|-gdb\|-vnc\|-spice" <<<"$args" || fail "a way into qemu: $args"
  # the 9p shares are the pod's own directories, none else
  local path
  while read -r path; do
    [[ $path == "$pod/"* ]] || fail "a share outside the pod: $path"
  done < <(grep -o "path=[^,]*" <<<"$(grep -A1 -x -- "-fsdev" <<<"$args")" | cut -d= -f2)
  # rt/ carries meta/, status/ and logs/, bound in qemu's own mount namespace (the
  # host's are empty directories): meta/ read-only for qemu itself, status/ written
  [[ $(grep -c -- "-fsdev" <<<"$args") == 2 ]] || fail "shares: $(grep -A1 -x -- "-fsdev" <<<"$args")"
  [[ -z $(ls -A "$pod/kvm/rt/meta") && -s "$pod/kvm/meta/pod" ]] || fail "meta/ bound in the host's namespace"
  [[ $(nsenter -t "$qemu" -m cat "$pod/kvm/rt/meta/pod") == "$(cat "$pod/kvm/meta/pod")" ]] || fail "no meta/ in rt/"
  ! nsenter -t "$qemu" -m sh -c ": >'$pod/kvm/rt/meta/hostname'" 2>"$BATS_TEST_TMPDIR/ro" || fail "qemu writes meta/"
  grep -q "Read-only file system" "$BATS_TEST_TMPDIR/ro" || fail "meta/: $(cat "$BATS_TEST_TMPDIR/ro")"
  local d
  for d in status logs; do
    [[ $(nsenter -t "$qemu" -m stat -c %i "$pod/kvm/rt/$d") == "$(stat -c %i "$pod/$d")" &&
       $(stat -c %i "$pod/kvm/rt/$d") != "$(stat -c %i "$pod/$d")" ]] || fail "$d/ is not bound into rt/ for qemu alone"
  done
  [[ $(stat -c %a "$pod/kvm") == 700 ]] || fail "kvm/ is $(stat -c %a "$pod/kvm")"
  [[ -S "$pod/kvm/ctl.sock" && -S "$pod/kvm/enter0.sock" && -S "$pod/kvm/enter3.sock" ]]
  # qemu keeps no capability to make a device node, load a module or mount
  local bnd
  bnd=$(awk '/^CapBnd/ {print $2}' "/proc/$qemu/status")
  (( (0x$bnd & (1 << 27)) == 0 && (0x$bnd & (1 << 16)) == 0 && (0x$bnd & (1 << 21)) == 0 )) || fail "qemu's CapBnd $bnd"
  grep -q "^NoNewPrivs:.1" "/proc/$qemu/status" || fail "qemu may gain privileges"
  # enter: as the app (uid 1000, the app's capabilities, its seccomp filter), in its root
  run_podrun enter "$uuid" /bin/sh -c 'id -u; grep CapEff /proc/self/status | cut -f2; cat /dev/shm/app-caps
    cat /etc/image-marker; grep Seccomp: /proc/self/status | cut -f2; echo err >&2; exit 6' </dev/null
  assert_status 6
  [[ ${lines[0]} == 1000 ]] || fail "enter runs as uid ${lines[0]}"
  [[ ${lines[1]} == "${lines[2]}" ]] || fail "enter's capabilities ${lines[1]}, the app's ${lines[2]}"
  [[ ${lines[3]} == "only in the image" ]]
  [[ ${lines[4]} == 2 ]] || fail "enter without the app's seccomp filter"
  assert_stderr_contains "err"
  run_podrun enter --app=nosuch "$uuid" /bin/true </dev/null
  assert_status 254
  # stdin reaches the command, to its end, and a lot of it; a command that reads none
  # leaves nothing behind for the next enter
  echo hello-stdin >"$BATS_TEST_TMPDIR/in-small"
  head -c 3000000 /dev/zero >"$BATS_TEST_TMPDIR/in-big"
  log_run timeout 120 "$PODRUN" --dir="$STORE" enter "$uuid" /bin/cat <"$BATS_TEST_TMPDIR/in-small"
  [[ $status -eq 0 && $output == hello-stdin ]] || fail "stdin: $output"
  log_run timeout 120 "$PODRUN" --dir="$STORE" enter "$uuid" /bin/busybox wc -c <"$BATS_TEST_TMPDIR/in-big"
  [[ $status -eq 0 && $(echo $output) == 3000000 ]] || fail "3 MB of stdin: $output"
  log_run timeout 120 "$PODRUN" --dir="$STORE" enter "$uuid" /bin/sleep 0 <"$BATS_TEST_TMPDIR/in-big"
  assert_status 0
  log_run timeout 120 "$PODRUN" --dir="$STORE" enter "$uuid" /bin/sh -c 'echo next-ok' </dev/null
  [[ $status -eq 0 && $output == next-ok ]] || fail "the enter after unread stdin: $output"
  # a caller that goes away ends its command in the guest, and frees its port
  "$PODRUN" --dir="$STORE" enter "$uuid" /bin/sleep 313 </dev/null >/dev/null 2>&1 3>&- &
  local gone=$!
  sleep 3
  kill -9 "$gone"
  wait "$gone" || true
  local left=
  for _ in $(seq 50); do
    left=$(timeout 60 "$PODRUN" --dir="$STORE" enter "$uuid" /bin/busybox ps -o args </dev/null 2>&1)
    [[ $left != *"sleep 313"* ]] && break
    sleep 0.2
  done
  [[ $left == *PID* || $left == *COMMAND* || $left == *ARGS* || -n $left ]] || fail "ps in the app: '$left'"
  [[ $left != *"sleep 313"* ]] || fail "the command of an enter killed on the host still runs: $left"
  # several at once, each on a port of its own; one more than there are ports is refused
  local i pids=()
  for i in 1 2 3 4; do
    timeout 120 "$PODRUN" --dir="$STORE" enter "$uuid" /bin/sh -c "sleep 5; echo session-$i" \
      >"$BATS_TEST_TMPDIR/enter-$i" 2>&1 </dev/null &
    pids+=($!)
  done
  for _ in $(seq 50); do
    [[ $(find "$pod/kvm" -name 'enter*.lock' | wc -l) -eq 4 ]] && sleep 0.5 && break
    sleep 0.1
  done
  run_podrun enter "$uuid" /bin/sleep 0 </dev/null # (refused on the host: no port to wait for)
  assert_status 254
  [[ ${#stderr_lines[@]} -eq 1 && $stderr == *"enter: 4 enters are running in the pod already"* ]] ||
    fail "a fifth enter: $stderr"
  for i in 1 2 3 4; do
    wait "${pids[$((i - 1))]}" || fail "enter $i failed: $(cat "$BATS_TEST_TMPDIR/enter-$i")"
    [[ $(cat "$BATS_TEST_TMPDIR/enter-$i") == "session-$i" ]] || fail "enter $i: $(cat "$BATS_TEST_TMPDIR/enter-$i")"
  done
  # on a terminal: a pty in the guest of the caller's size, which follows a resize;
  # what is typed reaches the command
  run timeout 120 python3 "$E2E_ROOT/tests/tools/ptyrun.py" 24x80 --resize-after=3:40x120 '--type-after=2:typed-line\n' -- \
    "$PODRUN" --dir="$STORE" enter "$uuid" /bin/sh -c \
    '[ -t 0 ] && [ -t 1 ] && echo on-a-tty; /bin/busybox stty size; sleep 4; /bin/busybox stty size; read l; echo "got $l"'
  echo "$output"
  [[ $status -eq 0 ]] || fail "status $status: $output"
  output=${output//$'\r'/}
  [[ $output == *on-a-tty* ]] || fail "no tty in the guest: $output"
  [[ $output == *$'\n24 80\n'* || $output == *$'on-a-tty\n24 80'* ]] || fail "size at start: $output"
  [[ $output == *"40 120"* ]] || fail "size after the resize: $output"
  [[ $output == *"got typed-line"* ]] || fail "what was typed: $output"
  # the guest trusts the request for nothing more: an app name it does not have is refused there too
  cat >"$BATS_TEST_TMPDIR/ask.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
os.chdir(os.path.dirname(sys.argv[1]))  # a socket's path has room for 107 bytes
s.connect(os.path.basename(sys.argv[1]))
s.sendall(sys.argv[2].encode() + b"\n")
s.settimeout(30)
data = b""
while b"\n" not in data[5:]:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data)
PY
  log_run python3 "$BATS_TEST_TMPDIR/ask.py" "$pod/kvm/enter0.sock" '{"app": "../../etc", "cmd": ["/bin/true"]}'
  [[ $output == *"no such app"* ]] || fail "the guest took an app name it does not have: $output"
  # a caller gone and the next one come before the guest saw the hang-up (both at once
  # on virtio-serial): a request where the session expects a frame ends the session's
  # command and runs the new request. Here one connection plays both.
  cat >"$BATS_TEST_TMPDIR/twice.py" <<'PY'
import os, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
os.chdir(os.path.dirname(sys.argv[1]))
s.connect(os.path.basename(sys.argv[1]))
s.sendall(b'{"app": "probe", "cmd": ["/bin/sleep", "317"]}\n')
time.sleep(3)
s.sendall(b'{"app": "probe", "cmd": ["/bin/sh", "-c", "echo second"]}\n' + b"e\0\0\0\0")
s.settimeout(60)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
    out, code = b"", None
    i = 0
    while i + 5 <= len(data):
        n = struct.unpack(">I", data[i + 1:i + 5])[0]
        if i + 5 + n > len(data):
            break
        if data[i:i + 1] == b"1":
            out += data[i + 5:i + 5 + n]
        if data[i:i + 1] == b"x":
            code = data[i + 5]
        i += 5 + n
    if code is not None:
        print(out.decode().strip(), code)
        break
PY
  log_run timeout 90 python3 "$BATS_TEST_TMPDIR/twice.py" "$pod/kvm/enter1.sock"
  [[ $output == "second 0" ]] || fail "the second request on one port: $output"
  log_run timeout 120 "$PODRUN" --dir="$STORE" enter "$uuid" /bin/busybox ps -o args </dev/null
  [[ $output != *"sleep 317"* ]] || fail "the first request's command still runs: $output"
  # stop: SIGTERM to the app through the guest init, the pod exits with the app's code
  run_podrun stop "$uuid"
  assert_status 0
  wait "$run" || true
  grep -q got-term "$BATS_TEST_TMPDIR/out" || fail "the app did not get SIGTERM: $(cat "$BATS_TEST_TMPDIR/out")"
  run_podrun status "$uuid"
  assert_output_contains "app-probe=9"
  wait_gone "$qemu" || fail "qemu outlived the pod"
  gc_leaves_nothing "$uuid"
}

@test "kvm: stop --force and kill -9 of the stage1 end qemu, before and after the apps started; gc leaves nothing" {
  local when uuid run qemu
  for when in booting started force; do
    rm -f "$BATS_TEST_TMPDIR/uuid"
    "$PODRUN" --dir="$STORE" run --stage1=kvm --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe \
      --exec=/bin/sleep -- 600 --- >/dev/null 2>&1 &
    run=$!
    if [[ $when == booting ]]; then
      # as soon as qemu runs, before the guest is up
      for _ in $(seq 100); do uuid=$(cat "$BATS_TEST_TMPDIR/uuid" 2>/dev/null) && qemu=$(pgrep -f "podrun-$uuid") && break; sleep 0.1; done
    else
      uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
      for _ in $(seq 600); do [[ -s "$STORE/pods/run/$uuid/pid" ]] && break; sleep 0.1; done
      qemu=$(cat "$STORE/pods/run/$uuid/pid")
    fi
    [[ $qemu =~ ^[0-9]+$ ]] || fail "$when: no qemu: '$qemu'"
    if [[ $when == force ]]; then
      run_podrun stop --force "$uuid"
      assert_status 0
    else
      kill -9 "$run"
    fi
    wait "$run" || true
    wait_gone "$qemu" || fail "$when: qemu outlived the stage1"
    run_podrun status "$uuid"
    assert_output_contains "state=exited"
    # killed by stop --force, qemu took the app with it; run, still there, says so
    [[ $when != force ]] || assert_output_contains "app-probe=137"
    gc_leaves_nothing "$uuid"
  done
}

@test "kvm: the accelerator: PODRUN_KVM=on where KVM does not work and a bad value are refused in one line; off is TCG without a notice" {
  PODRUN_KVM=bogus run_podrun run --stage1=kvm --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe
  assert_status 254
  [[ ${#stderr_lines[@]} -eq 1 && $stderr == *'PODRUN_KVM="bogus": not auto, on or off'* ]] || fail "one line: $stderr"
  ! pgrep -f "podrun-$(cat "$BATS_TEST_TMPDIR/uuid")" >/dev/null
  if [[ -r /dev/kvm ]] && PODRUN_KVM=on "$PODRUN" --dir="$STORE" run --stage1=kvm podrun.test/probe --exec=/bin/true >/dev/null 2>&1; then
    skip "KVM works here: the refusal cannot be tested (the pod ran under KVM)"
  fi
  PODRUN_KVM=on run_podrun run --stage1=kvm podrun.test/probe --exec=/bin/true
  assert_status 254
  [[ ${#stderr_lines[@]} -eq 1 && $stderr == "podrun-stage1: PODRUN_KVM=on: KVM does not work here: "* ]] || fail "one line: $stderr"
}

@test "kvm: socket activation's LISTEN_FDS is refused with one line before any boot, nothing left" {
  # LISTEN_PID is podrun's own: sh execs it
  run --separate-stderr sh -c 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"' sh "$PODRUN" --dir="$STORE" run --stage1=kvm \
    podrun.test/probe --exec=/bin/true 3</dev/null
  assert_one_line_error "LISTEN_FDS=1" "supports-socket-activation"
  ! pgrep -x qemu-system-x86_64 >/dev/null || fail "a qemu runs: $(pgrep -a qemu-system-x86_64)"
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2) ]] || fail "a pod was left: $(ls -R "$STORE/pods")"
}

@test "kvm: --interactive: the app's terminal is podrun's (a virtio console on qemu's stdio) of its size, which follows a resize; what is typed and ^C reach the app; without a terminal it is refused" {
  run python3 "$E2E_ROOT/tests/tools/ptyrun.py" 30x100 '--type-after-output=ready-to-read:typed-line\n' \
    --resize-after-output=resize-me:40x120 '--type-after-output=sleeping:^C' -- env PODRUN_KVM=off "$PODRUN" \
    --dir="$STORE" run --stage1=kvm --net=none --interactive podrun.test/probe --exec=/bin/sh -- -c \
    '[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo on-a-tty; /bin/busybox stty size; echo ready-to-read; read l
      echo "got $l"; trap "echo got-winch" WINCH; echo resize-me
      for i in $(seq 100); do [ "$(/bin/busybox stty size)" = "40 120" ] && break; sleep 0.1; done
      /bin/busybox stty size; echo sleeping; exec sleep 60' ---
  echo "$output"
  output=${output//$'\r'/}
  [[ $output == *on-a-tty* ]] || fail "no tty: $output"
  [[ $output == *$'\n30 100\n'* ]] || fail "the terminal's size: $output"
  [[ $output == *"got typed-line"* ]] || fail "what was typed: $output"
  # a resize of podrun's terminal reaches the app's, with its SIGWINCH
  [[ $output == *$'\n40 120\n'* ]] || fail "the size after a resize: $output"
  [[ $output == *got-winch* ]] || fail "no SIGWINCH for the app: $output"
  [[ $status -eq 130 ]] || fail "status $status after ^C: $output"
  run_podrun run --stage1=kvm --interactive podrun.test/probe </dev/null
  assert_one_line_error "not a terminal"
}

# fails_with_stage1 ACI WHAT PATTERN: a pod on the stage1 image ACI fails with one line
# that matches PATTERN (a glob), and leaves nothing
fails_with_stage1() {
  PODRUN_KVM=off run_podrun run --stage1-path="$1" --insecure-options=image --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --exec=/bin/true
  assert_status 254
  # shellcheck disable=SC2053 # $3 is a glob
  [[ ${#stderr_lines[@]} -eq 1 && $stderr == $3 ]] || fail "$2: $stderr"
  gc_leaves_nothing "$(cat "$BATS_TEST_TMPDIR/uuid")"
}

# a copy of the kvm stage1 image with FILE (in its rootfs) replaced by what stdin
# gives, or removed when stdin is empty; or by the file SOURCE when given
stage1_with() {
  local dir=$BATS_TEST_TMPDIR/stage1-edit
  rm -rf "$dir" && mkdir -p "$dir"
  tar -xf "$BUILD/stage1-kvm.aci" -C "$dir"
  rm -f "$dir/rootfs/$1"
  local content
  if [[ -n ${2:-} ]]; then
    cp "$2" "$dir/rootfs/$1"
  else
    content=$(cat)
    [[ -z $content ]] || printf '%s' "$content" >"$dir/rootfs/$1"
  fi
  # another version: the store keeps each image once per name and version
  sed -i 's/"value": "0.1.0"/"value": "0.1.0-edit'$RANDOM'"/' "$dir/manifest"
  tar -cf "$BATS_TEST_TMPDIR/stage1-edit.aci" -C "$dir" manifest rootfs
  echo "$BATS_TEST_TMPDIR/stage1-edit.aci"
}

@test "kvm: bad input: a missing kernel, a corrupt initramfs, a module the guest refuses, a symlink where qemu binds, a qemu that cannot start: one line each, nothing left" {
  local uuid
  fails_with_stage1 "$(stage1_with kvm/vmlinux </dev/null)" "missing kernel" \
    "podrun-stage1: the kvm stage1's kvm/vmlinux: No such file or directory"
  fails_with_stage1 "$(stage1_with kvm/initrd.img <<<"not a cpio archive at all")" "corrupt initramfs" \
    "podrun-stage1: the guest kernel: Kernel panic - not syncing: *"

  # a module of the initramfs the guest kernel refuses: virtio-console's, which a
  # child of the guest init loads while the shares mount; the guest says so
  local initrd=$BATS_TEST_TMPDIR/initrd
  mkdir -p "$initrd" && bsdtar -xf "$BUILD/kvm/initrd.img" -C "$initrd"
  [[ -f $initrd/lib/modules/virtio_console.ko ]] || fail "no virtio_console.ko in the initramfs"
  head -c 4096 /dev/urandom >"$initrd/lib/modules/virtio_console.ko"
  (cd "$initrd" && find . -mindepth 1 | sed 's|^\./||' | bsdtar --format newc -cf "$BATS_TEST_TMPDIR/initrd.img" -T -)
  fails_with_stage1 "$(stage1_with kvm/initrd.img "$BATS_TEST_TMPDIR/initrd.img")" "corrupt module" \
    "podrun-stage1: the guest: load module virtio_console.ko: *"

  # qemu's own binds (rt/ in its mount namespace) refuse a mount point that is a
  # symlink: qemu fails before it starts, in one line
  PODRUN_KVM=off run_podrun prepare --stage1=kvm --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe \
    --exec=/bin/true
  assert_status 0
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  mkdir -p "$BATS_TEST_TMPDIR/elsewhere" "$STORE/pods/prepared/$uuid/kvm/rt"
  ln -s "$BATS_TEST_TMPDIR/elsewhere" "$STORE/pods/prepared/$uuid/kvm/rt/meta"
  PODRUN_KVM=off run_podrun run-prepared "$uuid"
  assert_status 254
  [[ ${#stderr_lines[@]} -eq 1 && $stderr == "podrun-stage1: qemu failed: open \"kvm/rt/meta\": Not a directory" ]] ||
    fail "a symlink at rt/meta: $stderr"
  [[ -z $(ls -A "$BATS_TEST_TMPDIR/elsewhere") ]] || fail "something went through the symlink"
  gc_leaves_nothing "$uuid"

  # more memory than this host could ever map: qemu itself fails
  PODRUN_KVM=off run_podrun run --stage1=kvm --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe --memory=900Gi \
    --exec=/bin/true
  assert_status 254
  [[ ${#stderr_lines[@]} -eq 1 && $stderr == "podrun-stage1: qemu failed: "* ]] || fail "qemu failing: $stderr"
  gc_leaves_nothing "$(cat "$BATS_TEST_TMPDIR/uuid")"
}

@test "kvm: the apps' volumes are mount points in the guest, as on nspawn (the ACE validator looks): read-only ones read-only there too" {
  mkdir -p "$BATS_TEST_TMPDIR/rw" "$BATS_TEST_TMPDIR/ro"
  local id
  id=$(podrun image list --full --no-legend | awk '/probe/ {print $1}')
  cat >"$BATS_TEST_TMPDIR/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "volumes": [{"name": "rw", "kind": "host", "source": "$BATS_TEST_TMPDIR/rw"},
             {"name": "ro", "kind": "host", "source": "$BATS_TEST_TMPDIR/ro", "readOnly": true},
             {"name": "scratch", "kind": "empty"}],
 "apps": [{"name": "probe", "image": {"name": "podrun.test/probe", "id": "$id"},
   "mounts": [{"volume": "rw", "path": "/rw"}, {"volume": "ro", "path": "/ro"}, {"volume": "scratch", "path": "/data/scratch"}],
   "app": {"exec": ["/bin/sh", "-c", "awk '\$5 ~ /^\\\\/(rw|ro|data\\\\/scratch)\$/ {split(\$6, o, \",\"); print \$5, o[1]}' /proc/self/mountinfo | sort; awk '\$5 == \"/data\"' /proc/self/mountinfo | wc -l"],
     "user": "0", "group": "0"}}]}
JSON
  run_podrun run --stage1=kvm --pod-manifest="$BATS_TEST_TMPDIR/pod.json"
  assert_status 0
  [[ ${lines[0]} == "/data/scratch rw" && ${lines[1]} == "/ro ro" && ${lines[2]} == "/rw rw" ]] ||
    fail "the volumes in the app's mountinfo: $output"
  [[ ${lines[3]} == 0 ]] || fail "a mount on the way to a volume (/data): $output"
}

# notify_listen SOCKET LOG: a datagram socket at SOCKET (systemd's side of NOTIFY_SOCKET)
# that logs each datagram to LOG as "PID<TAB>READY-RECORD<TAB>TEXT" (the sender's pid by
# SO_PASSCRED; READY-RECORD: whether a pod's kvm/rt/ready existed when it came), in the
# background ($NOTIFY_PID).
notify_listen() {
  python3 - "$1" "$2" "$STORE" <<'PY' &
import glob, socket, struct, sys
path, log, store = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
open(log + ".up", "w").close()
while True:
    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = next((struct.unpack("iII", d)[0] for l, t, d in anc if t == socket.SCM_CREDENTIALS), 0)
    ready = bool(glob.glob(store + "/pods/run/*/kvm/rt/ready"))
    with open(log, "a") as f:
        f.write("%d\t%s\t%s\n" % (pid, ready, data.decode().replace("\n", "|")))
PY
  NOTIFY_PID=$!
  local i
  for i in $(seq 100); do [[ -e $2.up ]] && return 0; sleep 0.05; done
  fail "the notify socket did not come up"
}

@test "kvm: under a Type=notify service (NOTIFY_SOCKET) run says READY=1 with its own MAINPID once the apps started, STATUS= lines, STOPPING=1 when told to stop; an app that speaks sd_notify is refused" {
  local sock=$BATS_TEST_TMPDIR/notify.sock log=$BATS_TEST_TMPDIR/notify.log i
  notify_listen "$sock" "$log"
  NOTIFY_SOCKET=$sock WATCHDOG_USEC=100000000 "$PODRUN" --dir="$STORE" run --stage1=kvm --net=none --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe --exec=/bin/sh -- -c 'echo "socket=$NOTIFY_SOCKET watchdog=$WATCHDOG_USEC"; exec sleep 600' --- \
    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  local pid=$!
  for i in $(seq 1200); do
    grep -q "READY=1" "$log" 2>/dev/null && [[ -s $BATS_TEST_TMPDIR/out ]] && break
    kill -0 "$pid" || break
    sleep 0.1
  done
  kill -TERM "$pid"
  wait "$pid" || true
  kill "$NOTIFY_PID" 2>/dev/null || true
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  echo "notify log:"; cat "$log"
  [[ $(sed -n 1p "$log") == "$pid"$'\t'False$'\t'"STATUS=pod $uuid: starting 1 app" ]] || fail "the first datagram: $(sed -n 1p "$log")"
  [[ $(sed -n 2p "$log") == "$pid"$'\t'True$'\t'"READY=1|MAINPID=$pid|STATUS=pod $uuid: 1 app running" ]] ||
    fail "READY=1 from run, with MAINPID run, once the apps started: $(sed -n 2p "$log")"
  [[ $(sed -n 3p "$log") == "$pid"$'\t'*$'\t'"STOPPING=1|STATUS=pod $uuid: stopping" ]] || fail "STOPPING=1 on SIGTERM: $(sed -n 3p "$log")"
  # the app has neither the socket nor the watchdog: nothing in the VM speaks for run
  [[ $(cat "$BATS_TEST_TMPDIR/out") == "socket= watchdog=" ]] || fail "the app's environment: $(cat "$BATS_TEST_TMPDIR/out")"
  # an app that says it speaks sd_notify: no socket of its own reaches the VM, so refused
  # (the stage1's refusal, before qemu starts: the pod is left exited for gc)
  NOTIFY_SOCKET=$sock run_podrun run --stage1=kvm --net=none --uuid-file-save="$BATS_TEST_TMPDIR/uuid2" podrun.test/probe \
    --annotation=appc.io/executor/supports-systemd-notify=true --exec=/bin/true
  assert_status 254
  [[ ${#stderr_lines[@]} -eq 1 && $stderr == 'podrun-stage1: app "probe" speaks sd_notify ('*'nspawn)' ]] || fail "one line: $stderr"
  [[ ! -e $(find "$STORE/pods" -mindepth 2 -maxdepth 2 -name "$(cat "$BATS_TEST_TMPDIR/uuid2")")/kvm/console.log ]] || fail "a VM was started"
  NOTIFY_SOCKET=relative run_podrun run --stage1=kvm --net=none podrun.test/probe --exec=/bin/true
  assert_status 254
  [[ ${#stderr_lines[@]} -eq 1 && $stderr == 'podrun-stage1: NOTIFY_SOCKET="relative": not a socket'* ]] || fail "one line: $stderr"
  gc_leaves_nothing "$(cat "$BATS_TEST_TMPDIR/uuid2")"
}

@test "kvm: under the host's systemd (booted in a container), a Type=notify unit of a kvm pod is active once its app runs, MainPID the stage1's run; systemctl stop ends it" {
  md_boot
  md_setup
  local unit=podrun-e2e-kvm
  cp "$BUILD/stage1-kvm.aci" "$BATS_TEST_TMPDIR/probe.aci" "$MD_ROOT$IN_DIR/"
  # no /dev/kvm in the container: TCG, without the probe's notice
  inside systemd-run --unit="$unit" --quiet --no-block -p Type=notify -p TimeoutStartSec=180 -E PODRUN_KVM=off \
    "$IN_DIR/bin/podrun" --dir="$IN_STORE" --insecure-options=image run --stage1=kvm --net=none \
    --uuid-file-save="$IN_DIR/uuid-kvm" "$IN_DIR/probe.aci" --exec=/bin/sleep -- 600 ---
  local i state uuid main
  for i in $(seq 1800); do
    state=$(inside systemctl show "$unit" -p ActiveState --value)
    [[ $state == activating ]] || break
    sleep 0.1
  done
  [[ $state == active ]] || fail "the unit is $state: $(inside journalctl -u "$unit" --no-pager | tail -n 20)"
  uuid=$(cat "$MD_ROOT$IN_DIR/uuid-kvm")
  # active means started: the pod init's ready record is there
  [[ -f "$STORE/pods/run/$uuid/kvm/rt/ready" ]] || fail "active before the pod's app started"
  main=$(inside systemctl show "$unit" -p MainPID --value)
  [[ $(tr '\0' ' ' <"$MD_ROOT/proc/$main/cmdline") == *"/stage1/rootfs/kvm/run "*"$uuid"* ]] ||
    fail "MainPID $main is $(tr '\0' ' ' <"$MD_ROOT/proc/$main/cmdline")"
  [[ $(inside systemctl show "$unit" -p StatusText --value) == "pod $uuid: 1 app running" ]] || fail "StatusText"
  inside systemctl stop "$unit"
  [[ $(inside systemctl show "$unit" -p ActiveState --value) != active ]] || fail "still active after stop"
  ! pgrep -f "podrun-$uuid" >/dev/null || fail "qemu of the pod is left: $(pgrep -af "podrun-$uuid")"
}
