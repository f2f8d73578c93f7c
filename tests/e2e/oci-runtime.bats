#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# podrun-oci as the OCI runtime of a real containerd (Debian's, started here with a
# private root, state and socket, and the CRI handlers of Documentation/oci-runtime.md)
# and of podman; bad bundles given to podrun-oci itself.

load helpers
load registry

OCI=${OCI:-$BUILD/bin/podrun-oci}

setup_file() {
  command -v containerd >/dev/null && command -v ctr >/dev/null || return 0
  command -v umoci >/dev/null && command -v skopeo >/dev/null || return 0
  local d=$BATS_FILE_TMPDIR
  oci_image_busybox --config.cmd='echo hello from the image' "$d/layout" bb
  skopeo copy --quiet "oci:$d/layout:bb" "oci-archive:$d/bb.tar:podrun.test/bb:1"
  # the CRI handlers as the documentation gives them, BinaryName this build's
  sed -n '/^```toml$/,/^```$/p' "$E2E_ROOT/Documentation/oci-runtime.md" | sed '1d;$d' |
    sed "s|/usr/local/bin/podrun-oci|$OCI|; s|Root = \"/run/podrun-oci\"|Root = \"$d/cri-root\"|; s|Root = \"/run/podrun-oci-kvm\"|Root = \"$d/cri-root-kvm\"|" \
      >"$d/cri.toml"
  {
    sed -n '1p' "$d/cri.toml"
    echo "root = \"$d/root\""
    echo "state = \"$d/state\""
    echo "[grpc]"
    echo "  address = \"$d/c.sock\""
    echo "[ttrpc]"
    echo "  address = \"$d/t.sock\""
    sed '1d' "$d/cri.toml"
  } >"$d/config.toml"
  containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
  echo $! >"$d/containerd.pid"
  for _ in $(seq 100); do
    ctr --address "$d/c.sock" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  ctr --address "$d/c.sock" -n podrun images import --all-platforms "$d/bb.tar" >/dev/null
  export IMAGE
  IMAGE=$(ctr --address "$d/c.sock" -n podrun images ls -q | head -1)
}

teardown_file() {
  local d=$BATS_FILE_TMPDIR
  [[ -f "$d/containerd.pid" ]] || return 0
  kill "$(cat "$d/containerd.pid")" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$(cat "$d/containerd.pid")" 2>/dev/null || break
    sleep 0.1
  done
  # what a failed test left mounted below the temporary directory
  grep -o " $d/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}

setup() {
  requires root nspawn
  command -v containerd >/dev/null || skip "needs containerd and ctr (package containerd)"
  command -v umoci >/dev/null && command -v skopeo >/dev/null || skip "needs umoci and skopeo"
  [[ -x "$OCI" ]] || fail "$OCI missing: make all"
  [[ -n ${IMAGE:-} ]] || fail "setup_file did not import the image: $(tail -5 "$BATS_FILE_TMPDIR/containerd.log")"
  # the shim's --root is <--runc-root>/<namespace>; by hand, the same
  RUNC_ROOT=$BATS_TEST_TMPDIR/runc-root
  ROOT=$RUNC_ROOT/podrun
}

teardown() {
  local id
  for id in $(ctr_ task ls -q 2>/dev/null); do ctr_ task kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  sleep 0.2
  for id in $(ctr_ task ls -q 2>/dev/null); do ctr_ task delete --force "$id" >/dev/null 2>&1 || true; done
  for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers rm "$id" >/dev/null 2>&1 || true; done
  # containers a failed test made by hand (a created one waits for start, holding bats' output)
  if [[ -n ${ROOT:-} && -d $ROOT ]]; then
    for id in $("$OCI" --root "$ROOT" list --quiet 2>/dev/null); do "$OCI" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true; done
  fi
  # what a hook test's failure would have left on the host: its tmpfs, its link
  ! grep -q " $BATS_TEST_TMPDIR/mnt " /proc/self/mountinfo || umount -l "$BATS_TEST_TMPDIR/mnt" || true
  [[ ! -s $BATS_TEST_TMPDIR/hook-if ]] || ip link del "$(cat "$BATS_TEST_TMPDIR/hook-if")" 2>/dev/null || true
  for f in uts ipc net; do
    ! grep -q " $BATS_TEST_TMPDIR/$f " /proc/self/mountinfo || umount -l "$BATS_TEST_TMPDIR/$f" || true
  done
  # podman's storage mounts (its overlay directory is a mount of its own)
  grep -o " $BATS_TEST_TMPDIR/podman/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  if [[ -n ${PM_RUNROOT:-} ]]; then
    grep -o " $PM_RUNROOT/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$PM_RUNROOT"
  fi
  teardown_pods
}

ctr_() { ctr --address "$BATS_FILE_TMPDIR/c.sock" -n podrun "$@"; }

# crun FLAVOR ARGS…: ctr run with podrun-oci on FLAVOR (fly: the host's network).
crun() {
  local flavor=$1
  shift
  local net=()
  [[ $flavor != fly ]] || net=(--net-host)
  log_run ctr_ run --runc-binary="$OCI" --runc-root="$RUNC_ROOT" --annotation podrun.io/stage1="$flavor" "${net[@]}" "$@"
}

# nothing_left: no pod, state, mount, process or cgroup of podrun-oci under $ROOT.
nothing_left() {
  local left
  left=$(find "$ROOT" -mindepth 1 -maxdepth 1 ! -name .podrun 2>/dev/null || true)
  [[ -z "$left" ]] || fail "state left: $left" || return 1
  left=$(find "$ROOT/.podrun/pods" -mindepth 2 -maxdepth 2 2>/dev/null || true)
  [[ -z "$left" ]] || fail "pods left: $left" || return 1
  ! grep -q " $ROOT/" /proc/self/mountinfo || fail "mounts left: $(grep " $ROOT/" /proc/self/mountinfo)" || return 1
  ! pgrep -f "$ROOT" >/dev/null || fail "processes left: $(pgrep -af "$ROOT")" || return 1
  local uuids
  uuids=$(cat "$BATS_TEST_TMPDIR/uuids" 2>/dev/null || true)
  for u in $uuids; do
    [[ ! -e /sys/fs/cgroup/unified/podrun/$u && ! -e /sys/fs/cgroup/podrun/$u && ! -e /sys/fs/cgroup/memory/podrun/$u ]] ||
      fail "cgroup of pod $u left" || return 1
  done
}

# the uuid of the pod of container ID (while it exists)
remember_pod() {
  local u
  u=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pod"])' "$ROOT/$1/state.json")
  echo "$u" >>"$BATS_TEST_TMPDIR/uuids"
  echo "$u"
}

wait_stopped() {
  for _ in $(seq 100); do
    ctr_ task ls | grep -q "^$1 .*STOPPED" && return 0
    sleep 0.1
  done
  fail "task $1 did not stop: $(ctr_ task ls)"
}

@test "oci-runtime: the CRI plugin loads the documented handlers podrun and podrun-kvm" {
  log_run ctr_ plugins ls
  grep -Eq 'io\.containerd\.grpc\.v1 +cri +[^ ]+ +ok' <<<"$output" || fail "the CRI plugin did not load"
  grep -q 'podrun-kvm' "$BATS_FILE_TMPDIR/containerd.log" || fail "no podrun-kvm runtime in the CRI config it started with"
  grep -o "BinaryName:$OCI" "$BATS_FILE_TMPDIR/containerd.log" | head -1 | grep -q . ||
    fail "the CRI config does not name $OCI: $(grep -o 'Runtimes:map[^]]*' "$BATS_FILE_TMPDIR/containerd.log" | head -1)"
}

@test "oci-runtime: --version, features and a bad command" {
  log_run "$OCI" --version
  [[ $status -eq 0 && ${lines[0]} == "podrun-oci version "* ]]
  log_run "$OCI" features
  [[ $status -eq 0 ]]
  json_valid <<<"$output"
  [[ $(python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["linux"]["namespaces"]))' <<<"$output") == *network* ]]
  [[ $(json_query '" ".join(j["hooks"])' <<<"$output") == "prestart createRuntime poststart poststop" ]] || fail "features: hooks"
  run --separate-stderr "$OCI" pause x
  [[ $status -eq 254 && $stderr == "podrun-oci: pause: not supported"* && ${#stderr_lines[@]} -eq 1 ]]
  run --separate-stderr "$OCI" bogus
  [[ $status -eq 254 && $stderr == 'podrun-oci: unknown command "bogus"'* && ${#stderr_lines[@]} -eq 1 ]]
  run --separate-stderr "$OCI" --root "$ROOT" kill nosuch 9
  [[ $status -eq 254 && $stderr == *"does not exist"* && ${#stderr_lines[@]} -eq 1 ]]
}

@test "oci-runtime: nspawn: ctr run --rm: the app's output, its exit code, nothing left" {
  crun nspawn --rm "$IMAGE" t1
  [[ $status -eq 0 && $output == *"hello from the image"* ]] || fail "status $status"
  crun nspawn --rm "$IMAGE" t2 sh -c 'echo "host=$(hostname) pid=$$"; exit 7'
  [[ $status -eq 7 ]] || fail "exit code $status, not 7"
  [[ $output == *"pid=1"* || $output == *"pid=2"* ]] || fail "not in a pid namespace of its own: $output"
  # containerd's default seccomp profile (argument conditions: Kubernetes' RuntimeDefault)
  # is taken, not refused, and the app runs under it (its enforcement: the podman test)
  crun nspawn --rm --seccomp "$IMAGE" t3 sh -c 'grep ^Seccomp: /proc/self/status; echo profile-ok'
  [[ $status -eq 0 && $output == *profile-ok* && $output == *"Seccomp:"*2* ]] || fail "under containerd's profile: $output"
  nothing_left
}

@test "oci-runtime: fly: ctr run --rm: the app's output, its exit code, the host's pid namespace" {
  crun fly --rm "$IMAGE" f1 sh -c 'echo "pid=$$"; exit 3'
  [[ $status -eq 3 ]] || fail "exit code $status, not 3"
  [[ $output =~ pid=([0-9]+) && ${BASH_REMATCH[1]} -gt 2 ]] || fail "fly has the host's pids: $output"
  nothing_left
}

@test "oci-runtime: fly without the host's network is refused with one line" {
  log_run ctr_ run --runc-binary="$OCI" --runc-root="$RUNC_ROOT" --annotation podrun.io/stage1=fly --rm "$IMAGE" f2 true
  [[ $status -ne 0 && $output == *"not a network of stage1"* ]] || fail "not refused"
  ctr_ containers rm f2 >/dev/null 2>&1 || true
  nothing_left
}

@test "oci-runtime: nspawn: ctr task kill, state, ps and exec, then delete leaves nothing" {
  crun nspawn -d "$IMAGE" k1 sh -c 'trap "echo got TERM; exit 42" TERM; while :; do sleep 0.1; done'
  [[ $status -eq 0 ]]
  for _ in $(seq 100); do ctr_ task ls | grep -q '^k1 .*RUNNING' && break; sleep 0.1; done
  local uuid
  uuid=$(remember_pod k1)
  log_run "$OCI" --root "$ROOT" state k1
  [[ $(json_query 'j["status"]' <<<"$output") == running ]] || fail "not running"
  log_run ctr_ task exec --exec-id e1 k1 sh -c 'echo "exec in $(cat /proc/1/comm)"; exit 5'
  [[ $status -eq 5 && $output == *"exec in"* ]] || fail "exec: status $status"
  log_run ctr_ task ps k1
  [[ ${#lines[@]} -ge 2 ]]
  log_run ctr_ task kill k1
  wait_stopped k1
  log_run ctr_ task delete k1
  [[ $status -eq 0 && $output == *"42"* ]] || fail "the exit code of the TERM'd app: $output"
  ctr_ containers rm k1
  nothing_left
}

@test "oci-runtime: fly: ctr task exec, ctr task kill --all -s SIGKILL, then delete leaves nothing" {
  crun fly -d "$IMAGE" k2 sleep 60
  for _ in $(seq 100); do ctr_ task ls | grep -q '^k2 .*RUNNING' && break; sleep 0.1; done
  remember_pod k2 >/dev/null
  log_run ctr_ task exec --exec-id e1 k2 echo exec-ok
  [[ $status -eq 0 && $output == *exec-ok* ]]
  log_run ctr_ task kill --all -s SIGKILL k2
  wait_stopped k2
  log_run ctr_ task delete k2
  [[ $output == *137* ]] || fail "not 137: $output"
  ctr_ containers rm k2
  nothing_left
}

@test "oci-runtime: nspawn: a memory limit is the pod's and a hog is killed; a read-only root" {
  crun nspawn -d --memory-limit 33554432 "$IMAGE" m1 sleep 60
  for _ in $(seq 100); do ctr_ task ls | grep -q '^m1 .*RUNNING' && break; sleep 0.1; done
  local uuid limit
  uuid=$(remember_pod m1)
  limit=$(cat /sys/fs/cgroup/podrun/"$uuid"/app/memory.max /sys/fs/cgroup/unified/podrun/"$uuid"/app/memory.max \
    /sys/fs/cgroup/memory/podrun/"$uuid"/app/memory.limit_in_bytes 2>/dev/null | head -1)
  [[ $limit == 33554432 ]] || fail "the app's memory limit: ${limit:-none}"
  ctr_ task kill -s SIGKILL m1
  wait_stopped m1
  ctr_ task delete m1 >/dev/null
  ctr_ containers rm m1
  crun nspawn --rm --memory-limit 33554432 "$IMAGE" m2 /bin/busybox tail -n 1 /dev/zero
  [[ $status -eq 137 ]] || fail "the hog: $status"
  crun nspawn --rm --read-only "$IMAGE" r1 sh -c 'touch /x && echo wrote'
  [[ $status -ne 0 && $output != *wrote* ]] || fail "wrote on a read-only root"
  crun nspawn --rm "$IMAGE" r2 sh -c 'touch /x && echo wrote'
  [[ $status -eq 0 && $output == *wrote* ]]
  nothing_left
}

@test "oci-runtime: ctr run -t gives the app a terminal (nspawn and fly), ctr task exec -t the process" {
  requires python3
  log_run python3 "$E2E_ROOT/tests/tools/ptyrun.py" 24x80 -- ctr --address "$BATS_FILE_TMPDIR/c.sock" -n podrun run -t --rm \
    --runc-binary="$OCI" --runc-root="$RUNC_ROOT" --annotation podrun.io/stage1=nspawn "$IMAGE" t3 sh -c 'test -t 0 && test -t 1 && echo a-tty'
  [[ $status -eq 0 && $output == *a-tty* ]] || fail "nspawn: no terminal"
  log_run python3 "$E2E_ROOT/tests/tools/ptyrun.py" 24x80 -- ctr --address "$BATS_FILE_TMPDIR/c.sock" -n podrun run -t --rm \
    --runc-binary="$OCI" --runc-root="$RUNC_ROOT" --annotation podrun.io/stage1=fly --net-host "$IMAGE" t4 sh -c 'test -t 0 && test -t 1 && echo a-tty'
  [[ $status -eq 0 && $output == *a-tty* ]] || fail "fly: no terminal"
  # ctr task exec -t: a terminal of its own for the process
  crun nspawn -d "$IMAGE" t5 sleep 60
  for _ in $(seq 100); do ctr_ task ls | grep -q '^t5 .*RUNNING' && break; sleep 0.1; done
  remember_pod t5 >/dev/null
  log_run python3 "$E2E_ROOT/tests/tools/ptyrun.py" 24x80 -- ctr --address "$BATS_FILE_TMPDIR/c.sock" -n podrun task exec -t \
    --exec-id e1 t5 sh -c 'test -t 0 && test -t 1 && echo exec-tty'
  [[ $status -eq 0 && $output == *exec-tty* ]] || fail "exec -t: no terminal"
  ctr_ task kill -s SIGKILL t5
  wait_stopped t5
  ctr_ task delete t5 >/dev/null
  ctr_ containers rm t5
  nothing_left
}

# bad BUNDLE WORDS: podrun-oci create refuses it: one line on stderr, the same as the
# last error of the JSON log, exit 254, nothing left.
bad() {
  local b=$1 words=$2
  run --separate-stderr "$OCI" --root "$ROOT" --log "$BATS_TEST_TMPDIR/log.json" --log-format json create --bundle "$b" bad1
  echo "status=$status stderr=$stderr"
  [[ $status -eq 254 && ${#stderr_lines[@]} -eq 1 && $stderr == "podrun-oci: "*"$words"* ]] || fail "not refused so: $stderr"
  local last
  last=$(python3 -c 'import json,sys
m=[json.loads(l) for l in open(sys.argv[1])]
assert all(set(x) == {"level","msg","time"} for x in m)
print([x["msg"] for x in m if x["level"] == "error"][-1])' "$BATS_TEST_TMPDIR/log.json")
  [[ "podrun-oci: $last" == "$stderr" ]] || fail "the log says: $last"
  [[ ! -e "$ROOT/bad1" ]] || fail "state left"
  nothing_left
}

# a bundle of busybox with config.json from `podrun-oci`'s own tests: CONFIG's python edit
bundle() {
  local b=$BATS_TEST_TMPDIR/bundle edit=$1
  mkdir -p "$b/rootfs/bin"
  cp /bin/busybox "$b/rootfs/bin/"
  python3 - "$b/config.json" "$edit" <<'EOF'
import json, sys
c = {"ociVersion": "1.0.2", "root": {"path": "rootfs"},
     "process": {"args": ["/bin/busybox", "true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"]},
     "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]}}
exec(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(c))
EOF
  echo "$b"
}

@test "oci-runtime: bad bundles are refused with one line, in the JSON log too, and leave nothing" {
  requires python3
  local b
  b=$(bundle 'c["root"]["path"] = "nothere"')
  bad "$b" 'root.path "nothere"'
  b=$(bundle 'pass')
  echo '{"ociVersion": ' >"$b/config.json"
  bad "$b" "config.json: line"
  b=$(bundle 'c["linux"]["namespaces"].append({"type": "bogus"})')
  bad "$b" 'unknown namespace type "bogus"'
  b=$(bundle 'c["root"]["path"] = "../.."')
  bad "$b" "escapes the bundle"
  b=$(bundle 'c["mounts"] = [{"destination": "/x/../../etc", "type": "bind", "source": "/tmp"}]')
  bad "$b" "not an absolute path inside the container"
  b=$(bundle 'c["annotations"] = {"podrun.io/stage1": "bogus"}')
  bad "$b" "not a bundled flavor"
  # the host's own network namespace (a sandbox's /proc/PID/ns/net whose PID is on the
  # host's network), and a file that is no namespace
  b=$(bundle 'c["linux"]["namespaces"].append({"type": "network", "path": "/proc/self/ns/net"})')
  bad "$b" "is the host's own, not a pod's"
  b=$(bundle 'c["linux"]["namespaces"].append({"type": "network", "path": "/etc/hostname"})')
  bad "$b" "not a network namespace"
  b=$(bundle 'c["hooks"] = {"createContainer": [{"path": "/bin/true"}]}')
  bad "$b" "hooks.createContainer: not supported"
  b=$(bundle 'c["hooks"] = {"startContainer": [{"path": "/bin/true"}]}')
  bad "$b" "hooks.startContainer: not supported"
  b=$(bundle 'c["process"]["user"]["umask"] = 63')
  bad "$b" "process.user.umask"
}

@test "oci-runtime: create waits for start; state, kill and delete --force by hand; hooks run" {
  requires python3
  local b
  b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "sh", "-c", "echo started >/started; exec /bin/busybox sleep 60"]
c["hooks"] = {"poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "cat >'"$BATS_TEST_TMPDIR"'/hook-state"]}],
  "poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "echo stopped >'"$BATS_TEST_TMPDIR"'/poststop"]}]}')
  # (the container's process keeps create's stdio: not bats' pipe)
  "$OCI" --root "$ROOT" create --bundle "$b" --pid-file "$BATS_TEST_TMPDIR/pid" h1 >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null
  status=$?
  cat "$BATS_TEST_TMPDIR/out"
  [[ $status -eq 0 ]]
  local pid
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  alive "$pid" || fail "the pid of the pid file is gone"
  [[ ! -e "$BATS_TEST_TMPDIR/hook-state" ]] || fail "the poststart hook ran at create"
  log_run "$OCI" --root "$ROOT" state h1
  [[ $(json_query 'j["status"]' <<<"$output") == created && $(json_query 'str(j["pid"])' <<<"$output") == "$pid" ]]
  sleep 0.3
  [[ ! -e "$b/rootfs/started" ]] || fail "the app ran before start"
  remember_pod h1 >/dev/null
  log_run "$OCI" --root "$ROOT" start h1
  [[ $status -eq 0 ]]
  wait_for_file "$b/rootfs/started"
  [[ $(json_query 'j["status"]' <"$BATS_TEST_TMPDIR/hook-state") == running ]] || fail "poststart hook: $(cat "$BATS_TEST_TMPDIR/hook-state")"
  # the pod is podrun's: podrun list shows it running
  log_run "$PODRUN" --dir="$ROOT/.podrun" list --no-legend
  [[ $output == *running* ]] || fail "podrun list does not show the pod"
  log_run "$OCI" --root "$ROOT" state h1
  [[ $(json_query 'j["status"]' <<<"$output") == running && $(json_query 'str(j["pid"])' <<<"$output") == "$pid" ]]
  log_run "$OCI" --root "$ROOT" delete h1
  [[ $status -eq 254 && $output == *"running: stop it first"* ]]
  log_run "$OCI" --root "$ROOT" delete --force h1
  [[ $status -eq 0 ]]
  wait_gone "$pid"
  [[ $(cat "$BATS_TEST_TMPDIR/poststop") == stopped ]] || fail "no poststop hook"
  log_run "$OCI" --root "$ROOT" state h1
  [[ $status -eq 254 && $output == *"does not exist"* ]]
  nothing_left
}

# hook_script NAME BODY: an executable sh script $BATS_TEST_TMPDIR/NAME that first
# records when it ran (ns since the epoch) in t-NAME and its stdin (the state) in
# state-NAME, then runs BODY with $pid the state's pid.
hook_script() {
  local f=$BATS_TEST_TMPDIR/$1
  cat >"$f" <<EOF
#!/bin/sh
date +%s%N >"$BATS_TEST_TMPDIR/t-$1"
cat >"$BATS_TEST_TMPDIR/state-$1"
pid=\$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$BATS_TEST_TMPDIR/state-$1")
$2
EOF
  chmod +x "$f"
  echo "$f"
}

# wait_stopped_oci ID: until podrun-oci's state of ID says stopped
wait_stopped_oci() {
  for _ in $(seq 100); do
    [[ $("$OCI" --root "$ROOT" state "$1" | json_query 'j["status"]') == stopped ]] && return 0
    sleep 0.1
  done
  fail "container $1 did not stop"
}

@test "oci-runtime: createRuntime and prestart hooks get the created state; the network and mount namespaces they enter by its pid are the pod's, never the host's" {
  requires python3
  command -v nsenter >/dev/null && command -v ip >/dev/null || skip "needs nsenter and ip"
  local d=$BATS_TEST_TMPDIR if="hk$RANDOM" cr pre post stop b
  ! ip link show "$if" >/dev/null 2>&1 || skip "the host has a link $if already"
  echo "$if" >"$d/hook-if"
  mkdir -p "$d/mnt"
  # the hook adds a link in the container's network namespace (dummy where the kernel
  # has it, else a veth pair), and mounts a tmpfs in its mount namespace: a hook given
  # the host's namespaces would change the host
  cr=$(hook_script createRuntime "nsenter --net=/proc/\$pid/ns/net ip link add $if type dummy 2>/dev/null ||
  nsenter --net=/proc/\$pid/ns/net ip link add $if type veth peer name ${if}p || exit 3
nsenter --mount=/proc/\$pid/ns/mnt mount -t tmpfs hooktmpfs '$d/mnt' || exit 4")
  # (a hook may ask the runtime for the state meanwhile: it is not kept waiting)
  pre=$(hook_script prestart '[ "$X" = y ] || exit 5
"'"$OCI"'" --root "'"$ROOT"'" state hk1 >"'"$d"'/state-asked" || exit 6')
  post=$(hook_script poststart "")
  stop=$(hook_script poststop "")
  b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "sh", "-c", "/bin/busybox cat /proc/net/dev >/netdev; /bin/busybox ip link show lo >/lo"]
c["linux"]["namespaces"].append({"type": "network"})
c["hooks"] = {"createRuntime": [{"path": "'"$cr"'", "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}],
  "prestart": [{"path": "/bin/sh", "args": ["sh", "'"$pre"'"], "env": ["X=y", "PATH=/usr/bin:/bin"], "timeout": 10}],
  "poststart": [{"path": "'"$post"'", "env": ["PATH=/usr/bin:/bin"]}],
  "poststop": [{"path": "'"$stop"'", "env": ["PATH=/usr/bin:/bin"]}]}')
  "$OCI" --root "$ROOT" create --bundle "$b" --pid-file "$d/pid" hk1 >"$d/out" 2>&1 </dev/null
  status=$?
  cat "$d/out"
  [[ $status -eq 0 ]]
  remember_pod hk1 >/dev/null
  local pid h
  pid=$(cat "$d/pid")
  # the state on their stdin: creating, the container's pid, its id and bundle
  for h in createRuntime prestart; do
    [[ -s $d/state-$h ]] || fail "no $h hook ran"
    [[ $(json_query 'j["status"]' <"$d/state-$h") == creating && $(json_query 'j["pid"]' <"$d/state-$h") == "$pid" ]] ||
      fail "$h: $(cat "$d/state-$h")"
    [[ $(json_query 'j["id"]' <"$d/state-$h") == hk1 && $(json_query 'j["bundle"]' <"$d/state-$h") == "$b" &&
      $(json_query 'j["ociVersion"]' <"$d/state-$h") == 1.* ]] || fail "$h: $(cat "$d/state-$h")"
  done
  [[ $(json_query 'j["status"]' <"$d/state-asked") == creating && $(json_query 'j["pid"]' <"$d/state-asked") == "$pid" ]] ||
    fail "state asked by the hook: $(cat "$d/state-asked")"
  [[ ! -e $d/t-poststart ]] || fail "poststart ran at create"
  log_run "$OCI" --root "$ROOT" state hk1
  [[ $(json_query 'j["status"]' <<<"$output") == created ]] || fail "not created: $output"
  # the host has neither the link nor the mount; the container's process has both
  ! ip link show "$if" >/dev/null 2>&1 || fail "the hook's link $if is on the host"
  ! grep -q " $d/mnt " /proc/self/mountinfo || fail "the hook's tmpfs is on the host"
  nsenter --net="/proc/$pid/ns/net" ip link show "$if" >/dev/null || fail "no $if in the container's network namespace"
  grep -q " $d/mnt .*hooktmpfs" "/proc/$pid/mountinfo" || fail "no tmpfs in the container's mount namespace"
  log_run "$OCI" --root "$ROOT" start hk1
  [[ $status -eq 0 ]]
  wait_for_file "$b/rootfs/lo"
  wait_stopped_oci hk1
  # the pod's network is the namespace the hook changed: lo (up) and the hook's
  # link(s), nothing of the host's
  local ifs want
  ifs=$(sed -n 's/^ *\([^: ]*\):.*/\1/p' "$b/rootfs/netdev" | sort | tr '\n' ' ')
  want=$(printf '%s\n' lo "$if" | sort | tr '\n' ' ')
  [[ $ifs == "$want" || $ifs == "$(printf '%s\n' lo "$if" "${if}p" | sort | tr '\n' ' ')" ]] ||
    fail "the app's links: $ifs"
  grep -q 'LOOPBACK,UP' "$b/rootfs/lo" || fail "lo is not up: $(cat "$b/rootfs/lo")"
  log_run "$OCI" --root "$ROOT" delete hk1
  [[ $status -eq 0 ]]
  # in the spec's order
  local t1 t2 t3 t4
  t1=$(cat "$d/t-createRuntime") t2=$(cat "$d/t-prestart") t3=$(cat "$d/t-poststart") t4=$(cat "$d/t-poststop")
  ((t1 <= t2 && t2 <= t3 && t3 <= t4)) || fail "order: createRuntime $t1 prestart $t2 poststart $t3 poststop $t4"
  ! ip link show "$if" >/dev/null 2>&1 || fail "the link $if is on the host after delete"
  nothing_left
}

@test "oci-runtime: fly: a createRuntime hook's mount in the container's mount namespace stays off the host" {
  requires python3
  command -v nsenter >/dev/null && command -v ip >/dev/null || skip "needs nsenter and ip"
  local d=$BATS_TEST_TMPDIR cr b
  mkdir -p "$d/mnt"
  cr=$(hook_script createRuntime "nsenter --mount=/proc/\$pid/ns/mnt mount -t tmpfs hooktmpfs '$d/mnt' || exit 4")
  b=$(bundle 'c["annotations"] = {"podrun.io/stage1": "fly"}
c["linux"]["namespaces"] = [{"type": "mount"}]
c["process"]["args"] = ["/bin/busybox", "sh", "-c", "echo ran >/ran"]
c["hooks"] = {"createRuntime": [{"path": "'"$cr"'", "env": ["PATH=/usr/bin:/bin"]}]}')
  "$OCI" --root "$ROOT" create --bundle "$b" --pid-file "$d/pid" hf1 >"$d/out" 2>&1 </dev/null
  status=$?
  cat "$d/out"
  [[ $status -eq 0 ]]
  remember_pod hf1 >/dev/null
  [[ $(json_query 'j["status"]' <"$d/state-createRuntime") == creating ]] || fail "$(cat "$d/state-createRuntime")"
  ! grep -q " $d/mnt " /proc/self/mountinfo || fail "the hook's tmpfs is on the host"
  grep -q " $d/mnt .*hooktmpfs" "/proc/$(cat "$d/pid")/mountinfo" || fail "no tmpfs in the container's mount namespace"
  log_run "$OCI" --root "$ROOT" start hf1
  [[ $status -eq 0 ]]
  wait_for_file "$b/rootfs/ran"
  wait_stopped_oci hf1
  log_run "$OCI" --root "$ROOT" delete hf1
  [[ $status -eq 0 ]]
  nothing_left
}

@test "oci-runtime: fly joins the network, IPC and UTS namespaces config.json names by path (the hooks see them too); nspawn says it does not" {
  requires python3
  command -v nsenter >/dev/null && command -v unshare >/dev/null && command -v ip >/dev/null || skip "needs nsenter, unshare and ip"
  local d=$BATS_TEST_TMPDIR if="hk$RANDOM" cr b
  touch "$d/uts" "$d/ipc" "$d/net"
  unshare --uts="$d/uts" --ipc="$d/ipc" --net="$d/net" hostname hk-inner || skip "cannot make persistent namespaces here"
  nsenter --net="$d/net" ip link add "$if" type veth peer name "${if}p"
  cr=$(hook_script createRuntime "[ \"\$(nsenter --uts=/proc/\$pid/ns/uts hostname)\" = hk-inner ] || exit 3")
  b=$(bundle 'c["annotations"] = {"podrun.io/stage1": "fly"}
c["linux"]["namespaces"] = [{"type": "mount"}, {"type": "network", "path": "'"$d/net"'"},
  {"type": "uts", "path": "'"$d/uts"'"}, {"type": "ipc", "path": "'"$d/ipc"'"}]
c["process"]["args"] = ["/bin/busybox", "sh", "-c", "/bin/busybox hostname >/h; /bin/busybox cat /proc/net/dev >/netdev; /bin/busybox readlink /proc/self/ns/ipc >/ipc"]
c["hooks"] = {"createRuntime": [{"path": "'"$cr"'", "env": ["PATH=/usr/bin:/bin"]}]}')
  "$OCI" --root "$ROOT" create --bundle "$b" hn1 >"$d/out" 2>&1 </dev/null
  status=$?
  cat "$d/out"
  [[ $status -eq 0 ]]
  remember_pod hn1 >/dev/null
  log_run "$OCI" --root "$ROOT" start hn1
  [[ $status -eq 0 ]]
  wait_for_file "$b/rootfs/ipc"
  wait_stopped_oci hn1
  [[ $(cat "$b/rootfs/h") == hk-inner ]] || fail "the app's hostname: $(cat "$b/rootfs/h")"
  grep -q "^ *$if:" "$b/rootfs/netdev" || fail "the app is not in the namespace of the path: $(cat "$b/rootfs/netdev")"
  [[ $(cat "$b/rootfs/ipc") == "ipc:[$(stat -L -c %i "$d/ipc")]" ]] || fail "the app's IPC namespace: $(cat "$b/rootfs/ipc")"
  [[ $(hostname) != hk-inner ]] || fail "the host's hostname changed"
  log_run "$OCI" --root "$ROOT" delete hn1
  [[ $status -eq 0 ]]
  nothing_left
  # nspawn makes its own UTS and IPC namespaces: said, not silently ignored
  b=$(bundle 'c["linux"]["namespaces"] = [{"type": "mount"}, {"type": "uts", "path": "'"$d/uts"'"}]')
  "$OCI" --root "$ROOT" create --bundle "$b" hn2 >"$d/out" 2>"$d/err" </dev/null
  status=$?
  [[ $status -eq 0 && $(cat "$d/err") == *"the UTS namespace \"$d/uts\" is not joined"* ]] || fail "status $status: $(cat "$d/err")"
  log_run "$OCI" --root "$ROOT" delete --force hn2
  [[ $status -eq 0 ]]
  umount "$d/uts" "$d/ipc" "$d/net"
  nothing_left
}

@test "oci-runtime: a create hook that fails or outlives its timeout fails create with one line and leaves nothing (pod, netns, state, process)" {
  requires python3
  local d=$BATS_TEST_TMPDIR b
  # createRuntime fails: prestart never runs
  b=$(bundle 'c["linux"]["namespaces"].append({"type": "network"})
c["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}],
  "prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "touch '"$d"'/prestart-ran"]}]}')
  bad "$b" 'hooks.createRuntime[0] "/bin/sh": exited with status 3'
  [[ $stderr == 'podrun-oci: hooks.createRuntime[0] "/bin/sh": exited with status 3' ]] || fail "$stderr"
  [[ ! -e $d/prestart-ran ]] || fail "prestart ran after createRuntime failed"
  b=$(bundle 'c["linux"]["namespaces"].append({"type": "network"})
c["hooks"] = {"prestart": [{"path": "/bin/true"}, {"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}')
  bad "$b" 'hooks.prestart[1] "/bin/sh": exited with status 3'
  b=$(bundle 'c["hooks"] = {"prestart": [{"path": "/nonexistent/hook"}]}')
  bad "$b" 'hooks.prestart[0] "/nonexistent/hook": cannot be run'
  # a hook past its timeout is killed with what it started (its process group)
  b=$(bundle 'c["linux"]["namespaces"].append({"type": "network"})
c["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 30 & echo $! >'"$d"'/sleep.pid; echo $$ >'"$d"'/hook.pid; wait"], "timeout": 1}]}')
  local t0=$SECONDS
  bad "$b" 'hooks.createRuntime[0] "/bin/sh": killed after its timeout of 1s'
  ((SECONDS - t0 < 10)) || fail "the timeout took $((SECONDS - t0))s"
  ! alive "$(cat "$d/hook.pid")" || fail "the hook is alive"
  wait_gone "$(cat "$d/sleep.pid")"
}

@test "oci-runtime: podman --runtime=podrun-oci run --rm, with --network=none and its default network, under podman's seccomp profile" {
  command -v podman >/dev/null || skip "needs podman (package podman)"
  local p=$BATS_TEST_TMPDIR/podman
  mkdir -p "$p"
  printf '[containers]\ndefault_sysctls = []\n' >"$p/containers.conf"
  # podman refuses a runroot of more than 50 characters, which make check's temporary
  # directories are: a short one of its own, which teardown removes
  PM_RUNROOT=$(mktemp -d /tmp/podrun-pm.XXXXXX)
  pm() {
    CONTAINERS_CONF=$p/containers.conf podman --runtime-flag=log=$p/oci.log --root "$p/root" --runroot "$PM_RUNROOT" --runtime "$OCI" \
      --cgroup-manager cgroupfs --events-backend file "$@"
  }
  # (this machine cannot raise a hard limit, even as root: podman's defaults are above it)
  pmrun() {
    pm run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "$@"
  }
  # an image of busybox and its links, by podman import
  mkdir -p "$p/rootfs/bin"
  cp /bin/busybox "$p/rootfs/bin/"
  for l in sh ls echo cat tr; do ln -s busybox "$p/rootfs/bin/$l"; done
  cp "$BUILD/attack/seccomp-args" "$p/rootfs/bin/"
  tar -C "$p/rootfs" -c . | pm import - localhost/podrun-bb:1 >/dev/null
  log_run pmrun --network=none localhost/podrun-bb:1 \
    sh -c 'echo "podman-ok $(ls /sys/class/net | tr "\n" " ")"; exit 4'
  [[ $status -eq 4 && $output == *podman-ok* ]] || fail "status $status: $(cat $p/oci.log)"
  [[ $output != *eth0* ]] || fail "--network=none has an interface"
  # /proc/net/dev is the reader's network namespace (a /sys of the host's shows the
  # host's interfaces): eth0 of podman's network, not the host's bridge podman0
  log_run pmrun localhost/podrun-bb:1 sh -c 'echo "net $(cat /proc/net/dev | tr "\n" " ")"'
  [[ $status -eq 0 && $output == *eth0:* && $output != *podman0* ]] || fail "the default network is not joined"
  # podman's default profile (argument conditions, defaultErrnoRet ENOSYS) is the
  # app's filter: personality is allowed only with the arguments it lists (podman's
  # allows clone whatever its flags); without it (seccomp=unconfined: the flavor's
  # own filter) personality is not ENOSYS
  log_run pmrun --network=none localhost/podrun-bb:1 /bin/seccomp-args personality-query personality-odd clone-plain
  [[ $status -eq 0 ]] || fail "status $status: $(cat $p/oci.log)"
  [[ $output == *personality-query=ok* && $output == *personality-odd=ENOSYS* && $output == *clone-plain=ok* ]] ||
    fail "not podman's profile"
  log_run pmrun --network=none --security-opt seccomp=unconfined localhost/podrun-bb:1 /bin/seccomp-args personality-odd
  [[ $status -eq 0 && $output == *personality-odd=ok* ]] || fail "unconfined still has podman's profile"
  pm rm -af >/dev/null 2>&1 || true
}

@test "oci-runtime: a symlink the rootfs holds at /etc/hostname is replaced, never followed" {
  requires python3
  local b victim=$BATS_TEST_TMPDIR/victim
  echo untouched >"$victim"
  b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "cat", "/etc/hostname"]
c["hostname"] = "planted"
c["linux"]["namespaces"].append({"type": "uts"})')
  mkdir -p "$b/rootfs/etc"
  ln -s "$victim" "$b/rootfs/etc/hostname"
  "$OCI" --root "$ROOT" create --bundle "$b" s1 >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null || fail "$(cat "$BATS_TEST_TMPDIR/out")"
  remember_pod s1 >/dev/null
  log_run "$OCI" --root "$ROOT" start s1
  wait_gone "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$ROOT/s1/state.json")"
  [[ $(cat "$victim") == untouched ]] || fail "the host file was written: $(cat "$victim")"
  [[ ! -L "$b/rootfs/etc/hostname" ]] || fail "the symlink is still there"
  log_run "$OCI" --root "$ROOT" delete s1
  [[ $status -eq 0 ]]
  nothing_left
}

@test "oci-runtime: config.json's seccomp filter, capabilities, user, rlimits and noNewPrivileges reach the app" {
  requires python3
  local b out=$BATS_TEST_TMPDIR/app.out
  b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "sh", "-c",
  "/bin/busybox mkdir /m && echo made; /bin/busybox chown 1 /bin && echo chowned; echo uid=$(/bin/busybox id -u) groups=$(/bin/busybox id -G); /bin/busybox grep -E \"^(NoNewPrivs|CapBnd)\" /proc/self/status; echo nofile=$(ulimit -n)"]
c["process"]["user"] = {"uid": 0, "gid": 0, "additionalGids": [7]}
c["process"]["noNewPrivileges"] = True
c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 321}]
c["process"]["capabilities"] = {"bounding": ["CAP_DAC_OVERRIDE", "CAP_FOWNER"]}
c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}')
  "$OCI" --root "$ROOT" create --bundle "$b" c1 >"$out" 2>&1 </dev/null || fail "$(cat "$out")"
  remember_pod c1 >/dev/null
  local pid
  pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$ROOT/c1/state.json")
  log_run "$OCI" --root "$ROOT" start c1
  wait_gone "$pid"
  cat "$out"
  ! grep -q made "$out" || fail "mkdir passed the seccomp filter"
  ! grep -q chowned "$out" || fail "chown without CAP_CHOWN"
  grep -q 'uid=0 groups=0 7' "$out" || fail "user or additional gids"
  grep -Eq 'NoNewPrivs:[[:space:]]+1' "$out" || fail "no_new_privs"
  grep -Eq 'CapBnd:[[:space:]]+0+a$' "$out" || fail "the bounding set is not CAP_DAC_OVERRIDE and CAP_FOWNER"
  grep -q 'nofile=321' "$out" || fail "the rlimit"
  log_run "$OCI" --root "$ROOT" delete c1
  nothing_left
}

@test "oci-runtime: a seccomp profile's argument conditions are enforced in the app (personality, clone), on nspawn and fly" {
  requires python3
  busybox --list | grep -qx linux32 || skip "this busybox has no linux32"
  local b out=$BATS_TEST_TMPDIR/app.out flavor pid
  # personality(PER_LINUX32) refused with errnoRet 13 (two conditions on
  # arguments 0 and 1: AND), personality(0xffffffff), the query linux32 makes
  # first, allowed; uname refused (EPERM: no errnoRet); clone with
  # CLONE_NEWUSER in its flags (MASKED_EQ) refused, a plain one not; a name no
  # libseccomp knows left out
  for flavor in nspawn fly; do
    b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "sh", "-c",
  "/bin/busybox linux32 /bin/busybox echo linux32-ran; /bin/busybox uname -s; /bin/seccomp-args clone-newuser clone-plain; /bin/busybox echo end"]
c["annotations"] = {"podrun.io/stage1": "'$flavor'"}
c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {"names": ["uname", "no_such_syscall_anywhere"], "action": "SCMP_ACT_ERRNO"},
    {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
     "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 0, "op": "SCMP_CMP_GE"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 75,
     "args": [{"index": 0, "value": 268435456, "valueTwo": 268435456, "op": "SCMP_CMP_MASKED_EQ"}]}]}')
    cp "$BUILD/attack/seccomp-args" "$b/rootfs/bin/"
    "$OCI" --root "$ROOT" create --bundle "$b" sa-$flavor >"$out" 2>&1 </dev/null || fail "$flavor: $(cat "$out")"
    remember_pod sa-$flavor >/dev/null
    pid=$(json_query 'j["pid"]' <"$ROOT/sa-$flavor/state.json")
    log_run "$OCI" --root "$ROOT" start sa-$flavor
    wait_gone "$pid"
    cat "$out"
    grep -q '^end' "$out" || fail "$flavor: the app did not run to its end"
    ! grep -q linux32-ran "$out" || fail "$flavor: personality(PER_LINUX32) passed the filter"
    grep -q 'Permission denied' "$out" || fail "$flavor: personality(PER_LINUX32) not refused with errnoRet 13 (EACCES)"
    ! grep -q '^Linux' "$out" || fail "$flavor: uname passed the filter"
    grep -q 'clone-newuser=EOVERFLOW' "$out" || fail "$flavor: clone(CLONE_NEWUSER) passed the MASKED_EQ rule"
    grep -q 'clone-plain=ok' "$out" || fail "$flavor: a plain clone was refused"
    log_run "$OCI" --root "$ROOT" delete sa-$flavor
    [[ $status -eq 0 ]]
  done
  nothing_left
}

@test "oci-runtime: maskedPaths and readonlyPaths hold in the app on nspawn and fly; a symlink the rootfs plants on one is not followed" {
  requires python3
  local b out=$BATS_TEST_TMPDIR/app.out flavor pid
  for flavor in nspawn fly; do
    b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "sh", "-c",
  "echo kcore=$(/bin/busybox cat /proc/kcore | /bin/busybox wc -c) secret=$(/bin/busybox cat /secret) firmware=$(/bin/busybox ls /sys/firmware | /bin/busybox wc -l) vault=$(/bin/busybox ls /vault | /bin/busybox wc -l); v=$(/bin/busybox cat /proc/sys/vm/stat_interval); echo $v > /proc/sys/vm/stat_interval && echo wrote-sys; echo x > /data/f && echo wrote-data; echo end"]
c["process"]["capabilities"] = {"bounding": ["CAP_DAC_OVERRIDE"]}
c["annotations"] = {"podrun.io/stage1": "'$flavor'"}
c["linux"]["maskedPaths"] = ["/proc/kcore", "/sys/firmware", "/secret", "/vault", "/not/there"]
c["linux"]["readonlyPaths"] = ["/proc/sys", "/data"]')
    echo the-secret >"$b/rootfs/secret"
    mkdir -p "$b/rootfs/vault" "$b/rootfs/data"
    touch "$b/rootfs/vault/key"
    "$OCI" --root "$ROOT" create --bundle "$b" mp-$flavor >"$out" 2>&1 </dev/null || fail "$flavor: $(cat "$out")"
    remember_pod mp-$flavor >/dev/null
    pid=$(json_query 'j["pid"]' <"$ROOT/mp-$flavor/state.json")
    log_run "$OCI" --root "$ROOT" start mp-$flavor
    wait_gone "$pid"
    cat "$out"
    grep -q '^end' "$out" || fail "$flavor: the app did not run to its end"
    grep -q 'kcore=0 secret= firmware=0 vault=0' "$out" || fail "$flavor: a masked path shows through"
    ! grep -q wrote "$out" || fail "$flavor: a read-only path was written"
    [[ $(grep -c 'Read-only file system' "$out") -eq 2 ]] || fail "$flavor: not EROFS"
    [[ ! -e "$b/rootfs/data/f" && $(cat "$b/rootfs/secret") == the-secret ]]
    log_run "$OCI" --root "$ROOT" delete mp-$flavor
    [[ $status -eq 0 ]]
  done
  # the rootfs plants /evil -> / (and a config names /evil/secret): the app does
  # not start, the path is named, nothing is mounted over the host's or the image's files
  b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "echo", "app-ran"]
c["linux"]["maskedPaths"] = ["/evil/secret"]
c["linux"]["readonlyPaths"] = ["/evil2/etc"]')
  ln -s / "$b/rootfs/evil"
  echo the-secret >"$b/rootfs/secret"
  "$OCI" --root "$ROOT" create --bundle "$b" mp-evil >"$out" 2>&1 </dev/null || fail "$(cat "$out")"
  remember_pod mp-evil >/dev/null
  pid=$(json_query 'j["pid"]' <"$ROOT/mp-evil/state.json")
  log_run "$OCI" --root "$ROOT" start mp-evil
  wait_gone "$pid"
  cat "$out"
  ! grep -q app-ran "$out" || fail "the app ran with a masked path unmasked"
  grep -q '"/evil/secret": a symlink on the way (not followed)' "$out" || fail "the symlink is not named"
  [[ $(cat "$b/rootfs/secret") == the-secret ]]
  log_run "$OCI" --root "$ROOT" delete mp-evil
  [[ $status -eq 0 ]]
  nothing_left
}

@test "oci-runtime: kill delivers any signal, by name or number, to the app's own process (USR1, USR2 trapped) on nspawn and fly" {
  requires python3
  local b flavor pid
  for flavor in nspawn fly; do
    b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "sh", "-c",
  "trap \"echo usr2 >>/got\" USR2; trap \"echo usr1 >>/got; exit 7\" USR1; echo ready >/ready; while :; do /bin/busybox sleep 0.1; done"]
c["annotations"] = {"podrun.io/stage1": "'$flavor'"}')
    "$OCI" --root "$ROOT" create --bundle "$b" k-$flavor >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null || fail "$(cat "$BATS_TEST_TMPDIR/out")"
    remember_pod k-$flavor >/dev/null
    pid=$(json_query 'j["pid"]' <"$ROOT/k-$flavor/state.json")
    log_run "$OCI" --root "$ROOT" start k-$flavor
    for _ in $(seq 100); do [[ -e "$b/rootfs/ready" ]] && break; sleep 0.1; done
    [[ -e "$b/rootfs/ready" ]] || fail "$flavor: the app did not start: $(cat "$BATS_TEST_TMPDIR/out")"
    log_run "$OCI" --root "$ROOT" kill k-$flavor 12
    [[ $status -eq 0 ]] || fail "$flavor: kill 12"
    for _ in $(seq 50); do grep -q usr2 "$b/rootfs/got" 2>/dev/null && break; sleep 0.1; done
    grep -q usr2 "$b/rootfs/got" || fail "$flavor: USR2 did not reach the app"
    log_run "$OCI" --root "$ROOT" state k-$flavor
    [[ $(json_query 'j["status"]' <<<"$output") == running ]] || fail "$flavor: USR2 ended the pod"
    log_run "$OCI" --root "$ROOT" kill k-$flavor 99
    [[ $status -eq 254 && $output == *'signal 99: not a signal'* ]]
    log_run "$OCI" --root "$ROOT" kill k-$flavor SIGUSR1
    [[ $status -eq 0 ]] || fail "$flavor: kill SIGUSR1"
    wait_gone "$pid"
    grep -q usr1 "$b/rootfs/got" || fail "$flavor: USR1 did not reach the app"
    log_run "$OCI" --root "$ROOT" kill k-$flavor USR1
    [[ $status -eq 254 && $output == *"container not running"* ]]
    log_run "$OCI" --root "$ROOT" delete k-$flavor
    [[ $status -eq 0 ]]
    rm -rf "$b"
  done
  nothing_left
}

@test "oci-runtime: tmpfs mounts are real tmpfs with their options on nspawn and fly; a planted symlink is not followed; an unknown option is refused" {
  requires python3
  local b out=$BATS_TEST_TMPDIR/app.out flavor pid
  for flavor in nspawn fly; do
    b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "sh", "-c",
  "/bin/busybox grep -E \" /(t|new/deep) \" /proc/self/mounts; /bin/busybox dd if=/dev/zero of=/t/big bs=1024 count=2048 2>&1 | /bin/busybox grep -o \"No space left on device\"; echo x > /new/deep/f || echo deep-ro; echo end"]
c["annotations"] = {"podrun.io/stage1": "'$flavor'"}
c["mounts"] = [{"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700", "nosuid", "noexec", "rprivate"]},
  {"destination": "/new/deep", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "nodev"]}]')
    "$OCI" --root "$ROOT" create --bundle "$b" tf-$flavor >"$out" 2>&1 </dev/null || fail "$flavor: $(cat "$out")"
    remember_pod tf-$flavor >/dev/null
    pid=$(json_query 'j["pid"]' <"$ROOT/tf-$flavor/state.json")
    log_run "$OCI" --root "$ROOT" start tf-$flavor
    wait_gone "$pid"
    cat "$out"
    grep -q '^end' "$out" || fail "$flavor: the app did not run to its end"
    grep -Eq '^tmpfs /t tmpfs rw,nosuid,noexec(,[a-z]+)*,size=1024k,mode=700' "$out" || fail "$flavor: /t is not the tmpfs asked for"
    grep -Eq '^tmpfs /new/deep tmpfs ro,nodev' "$out" || fail "$flavor: /new/deep is not a read-only tmpfs"
    grep -q 'No space left on device' "$out" || fail "$flavor: the size is not applied"
    grep -q deep-ro "$out" || fail "$flavor: the read-only tmpfs was written"
    [[ ! -e "$b/rootfs/t/big" ]] || fail "$flavor: the tmpfs's file landed in the rootfs"
    log_run "$OCI" --root "$ROOT" delete tf-$flavor
    [[ $status -eq 0 ]]
    rm -rf "$b"
  done
  # /evil -> / planted in the rootfs, a tmpfs at /evil/tmp: the app does not start
  b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "echo", "app-ran"]
c["mounts"] = [{"destination": "/evil/tmp", "type": "tmpfs", "source": "tmpfs"}]')
  ln -s / "$b/rootfs/evil"
  "$OCI" --root "$ROOT" create --bundle "$b" tf-evil >"$out" 2>&1 </dev/null || fail "$(cat "$out")"
  remember_pod tf-evil >/dev/null
  pid=$(json_query 'j["pid"]' <"$ROOT/tf-evil/state.json")
  log_run "$OCI" --root "$ROOT" start tf-evil
  wait_gone "$pid"
  cat "$out"
  ! grep -q app-ran "$out" || fail "the app ran"
  grep -q '"/evil/tmp": a symlink or a file on the way (not followed)' "$out" || fail "the symlink is not named"
  log_run "$OCI" --root "$ROOT" delete tf-evil
  [[ $status -eq 0 ]]
  b=$(bundle 'c["mounts"] = [{"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}]')
  bad "$b" 'mounts[0]: tmpfs "/t": option "tmpcopyup": not one podrun applies'
  # a read-only root: the destination is made at create, and the tmpfs is there
  rm -rf "$b"
  b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "sh", "-c", "/bin/busybox grep \" /made/here \" /proc/self/mounts; echo end"]
c["root"]["readonly"] = True
c["mounts"] = [{"destination": "/made/here", "type": "tmpfs", "source": "tmpfs"}]')
  "$OCI" --root "$ROOT" create --bundle "$b" tf-ro >"$out" 2>&1 </dev/null || fail "$(cat "$out")"
  remember_pod tf-ro >/dev/null
  pid=$(json_query 'j["pid"]' <"$ROOT/tf-ro/state.json")
  log_run "$OCI" --root "$ROOT" start tf-ro
  wait_gone "$pid"
  cat "$out"
  grep -q '^tmpfs /made/here tmpfs' "$out" || fail "no tmpfs on the read-only root"
  log_run "$OCI" --root "$ROOT" delete tf-ro
  # and a symlink on the way there, planted: refused at create, nothing made outside
  rm -rf "$b"
  b=$(bundle 'c["root"]["readonly"] = True
c["mounts"] = [{"destination": "/evil/made", "type": "tmpfs", "source": "tmpfs"}]')
  mkdir -p "$BATS_TEST_TMPDIR/outside"
  ln -s "$BATS_TEST_TMPDIR/outside" "$b/rootfs/evil"
  bad "$b" '"/evil/made": a symlink or a file on the way (not followed)'
  [[ ! -e "$BATS_TEST_TMPDIR/outside/made" ]] || fail "a directory was made through the symlink"
  nothing_left
}

@test "oci-runtime: a bind's nosuid, nodev and noexec hold in the app on nspawn and fly" {
  requires python3
  local b out=$BATS_TEST_TMPDIR/app.out flavor pid hd=$BATS_TEST_TMPDIR/hostdir
  mkdir -p "$hd"
  cp /bin/busybox "$hd/bb"
  for flavor in nspawn fly; do
    b=$(bundle 'c["process"]["args"] = ["/bin/busybox", "sh", "-c",
  "/bin/busybox grep \" /hd \" /proc/self/mounts; /hd/bb echo exec-ran; /bin/busybox grep \" /plain \" /proc/self/mounts; echo end"]
c["annotations"] = {"podrun.io/stage1": "'$flavor'"}
c["mounts"] = [{"destination": "/hd", "type": "bind", "source": "'"$hd"'", "options": ["rbind", "nosuid", "noexec", "nodev", "rprivate"]},
  {"destination": "/plain", "type": "bind", "source": "'"$hd"'", "options": ["rbind", "rprivate"]}]')
    "$OCI" --root "$ROOT" create --bundle "$b" ba-$flavor >"$out" 2>&1 </dev/null || fail "$flavor: $(cat "$out")"
    remember_pod ba-$flavor >/dev/null
    pid=$(json_query 'j["pid"]' <"$ROOT/ba-$flavor/state.json")
    log_run "$OCI" --root "$ROOT" start ba-$flavor
    wait_gone "$pid"
    cat "$out"
    grep -q '^end' "$out" || fail "$flavor: the app did not run to its end"
    grep -Eq ' /hd [^ ]+ rw,nosuid,nodev,noexec' "$out" || fail "$flavor: /hd is not nosuid,nodev,noexec"
    ! grep -q exec-ran "$out" || fail "$flavor: a program ran from a noexec bind"
    grep -q ' /plain ' "$out" && ! grep -Eq ' /plain [^ ]+ [^ ]*noexec' "$out" || fail "$flavor: the other bind got the options"
    log_run "$OCI" --root "$ROOT" delete ba-$flavor
    [[ $status -eq 0 ]]
    rm -rf "$b"
  done
  nothing_left
}

@test "oci-runtime: kvm: ctr run --rm: the guest app's output and exit code; ctr task kill ends the VM; nothing left" {
  requires stage1-kvm
  crun kvm --rm "$IMAGE" v1 sh -c 'echo "in the vm: $(cat /proc/1/comm)"; exit 9'
  [[ $status -eq 9 && $output == *"in the vm"* ]] || fail "status $status"
  crun kvm -d "$IMAGE" v2 sleep 60
  for _ in $(seq 300); do ctr_ task ls | grep -q '^v2 .*RUNNING' && break; sleep 0.1; done
  remember_pod v2 >/dev/null
  # a signal the VM does not pass on: refused with one line, the VM still runs
  log_run ctr_ task kill -s SIGUSR1 v2
  [[ $status -ne 0 && $output == *"a kvm pod's app is in its VM"* ]] || fail "SIGUSR1 to a kvm pod: $output"
  ctr_ task ls | grep -q '^v2 .*RUNNING' || fail "the VM stopped"
  log_run ctr_ task kill -s SIGKILL v2
  wait_stopped v2
  log_run ctr_ task delete v2
  [[ $output == *137* ]] || fail "not 137: $output"
  ctr_ containers rm v2
  ! pgrep -f "$ROOT/.*qemu" >/dev/null || fail "qemu left"
  nothing_left
}

@test "oci-runtime: the stage1 policy chooses by io.kubernetes.cri.image-name, and its minimum holds against podrun.io/stage1" {
  requires python3
  local etc=$BATS_TEST_TMPDIR/etc b
  mkdir -p "$etc/stage1.d"
  cat >"$etc/stage1.d/50-test.json" <<'JSON'
{ "rules": [
  { "name": "tools-in-fly", "match": { "name": "podrun.test/tools/*" }, "stage1": "fly" },
  { "name": "the-rest", "stage1": "nspawn", "minimum": "nspawn" } ] }
JSON
  b=$(bundle 'c["annotations"] = {"io.kubernetes.cri.image-name": "podrun.test/tools/ls:1"}')
  "$OCI" --root "$ROOT" --local-config "$etc" create --bundle "$b" p1 >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null ||
    fail "$(cat "$BATS_TEST_TMPDIR/out")"
  remember_pod p1 >/dev/null
  [[ $(json_query 'j["stage1"]' <"$ROOT/p1/state.json") == fly ]] || fail "not fly: $(cat "$ROOT/p1/state.json")"
  log_run "$OCI" --root "$ROOT" delete p1
  [[ $status -eq 0 ]]
  b=$(bundle 'c["annotations"] = {"io.kubernetes.cri.image-name": "podrun.test/app:1", "podrun.io/stage1": "fly"}')
  run --separate-stderr "$OCI" --root "$ROOT" --local-config "$etc" create --bundle "$b" p2
  [[ $status -eq 254 && $stderr == *'"podrun.test/app:1" must run in nspawn or heavier'*the-rest* ]] || fail "not refused: $stderr"
  [[ ${#stderr_lines[@]} -eq 1 ]]
  nothing_left
}
