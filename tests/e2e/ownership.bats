#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# A pod owns every process it starts, on every flavor (DESIGN §5): kill -9 of `podrun run`
# at any point, stop, stop --force and gc end all of them, the app's orphans included,
# and gc never removes a pod whose processes it could not end.
#
# Every app of this file runs with PODRUN_TEST_MARK=<a mark of the test's own> in its
# environment and leaves an orphan behind (a `sleep` whose parent has exited), so that
# what is left is found by the mark (/proc/<pid>/environ), not by the mechanism under
# test; the stage1 processes (run, systemd-nspawn, the pod init) are found by what they
# hold open or name: the test's directory.

load helpers

setup() {
  requires root python3
  [[ -f "$BUILD/stage1-fly.aci" && -f "$BUILD/stage1-nspawn.aci" ]] || fail "build both stage1s first (make all)"
  fetch_busybox
  MARK=podrun-ownership-$$-$BATS_TEST_NUMBER-$RANDOM
}

# Whatever a failed test left running is ended, by pid, so that it does not hold the
# suite's output open.
teardown() {
  local pid f cg
  for f in "$BATS_TEST_TMPDIR"/frozen-*; do
    [[ -d "$f" ]] && cg=$(cat "$f/cgroup") || continue
    echo THAWED >"$cg/freezer.state" 2>/dev/null || true
  done
  for pid in $(pod_procs); do
    kill -9 "$pid" 2>/dev/null || true
  done
  for f in "$BATS_TEST_TMPDIR"/frozen-*; do
    [[ -d "$f" ]] && cg=$(cat "$f/cgroup") || continue
    for _ in $(seq 20); do
      [[ -d $cg ]] || break
      rmdir "$cg" 2>/dev/null || sleep 0.1
    done
  done
  teardown_pods
  return 0
}

# An app that leaves an orphan: a subshell starts `sleep` in the background and exits.
APP_SH='(sleep 1000 &); exec sleep 1000'

# pod_procs: the pids of what this test's pods left: processes with the mark in their
# environment, or whose command line, working directory or open files name the test's
# directory (its store, its output files). Zombies have ended already (only their
# parent can reap them); this shell and its subshells are not the pods'.
pod_procs() {
  python3 - "$MARK" "$BATS_TEST_TMPDIR" "$$" "$BASHPID" <<'PY'
import os, sys
mark, tmp = ("PODRUN_TEST_MARK=" + sys.argv[1]).encode(), sys.argv[2]
skip = set(sys.argv[3:]) | {str(os.getpid()), str(os.getppid())}
def ours(pid):
    d = "/proc/" + pid
    with open(d + "/stat", "rb") as f:
        if f.read().rsplit(b") ", 1)[1][:1] == b"Z":
            return False
    with open(d + "/environ", "rb") as f:
        if mark in f.read().split(b"\0"):
            return True
    with open(d + "/cmdline", "rb") as f:
        if tmp.encode() in f.read():
            return True
    links = [d + "/cwd"] + [d + "/fd/" + n for n in os.listdir(d + "/fd")]
    return any(os.readlink(l).startswith(tmp) for l in links if os.path.lexists(l))
for pid in os.listdir("/proc"):
    if pid.isdigit() and pid not in skip:
        try:
            if ours(pid):
                print(pid)
        except OSError:
            pass
PY
}

# describe PID…: one line per process, for failure messages.
describe() {
  local pid
  for pid in "$@"; do
    echo "  $pid: $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") (cgroup $(grep '^0::' 2>/dev/null "/proc/$pid/cgroup"))"
  done
}

# wait_no_procs SECONDS: waits until pod_procs is empty; fails listing them.
wait_no_procs() {
  local left
  for _ in $(seq $(($1 * 10))); do
    left=$(pod_procs)
    [[ -n "$left" ]] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  fail "processes left: "$'\n'"$(describe $left)"
}

# pod_cgroups UUID…: every cgroup directory named after one of the pods (a pod's own,
# its apps', a machined scope's), in any hierarchy.
pod_cgroups() {
  local all u
  all=$(find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null)
  for u in "$@"; do
    grep -F "${u:0:8}" <<<"$all" || true
  done
}

# assert_nothing_left UUID…: no process, cgroup or mount of these pods is left, and no
# pod directory (an empty embryo/.<uuid> that a kill left between mkdir and rename is
# gc's after ten minutes, see pod-lifecycle.md).
assert_nothing_left() {
  wait_no_procs 3
  local cg
  cg=$(pod_cgroups "$@")
  [[ -z "$cg" ]] || fail "cgroups left:"$'\n'"$cg"
  ! grep -F "$STORE" /proc/self/mountinfo || fail "still mounted here"
  ! grep -F "$STORE" /proc/1/mountinfo || fail "still mounted on the host"
  local left
  left=$(find "$STORE/pods" -mindepth 2 -maxdepth 2 ! -name '.*' 2>/dev/null || true)
  [[ -z "$left" ]] || fail "pods left: $left"
  left=$(find "$STORE/pods/embryo" -mindepth 2 2>/dev/null || true)
  [[ -z "$left" ]] || fail "files in an unborn embryo: $left"
}

# start_pod FLAVOR NAME [RUN FLAGS…]: `podrun run` of the orphan-leaving app in the
# background, its pid in $POD_JOB, its UUID saved to $BATS_TEST_TMPDIR/NAME.uuid.
start_pod() {
  local flavor=$1 name=$2
  shift 2
  "$PODRUN" --dir="$STORE" run --stage1="$flavor" --uuid-file-save="$BATS_TEST_TMPDIR/$name.uuid" "$@" \
    "$BUSYBOX_NAME" --set-env=PODRUN_TEST_MARK="$MARK" --exec=/bin/sh -- -c "$APP_SH" --- \
    >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" </dev/null &
  POD_JOB=$!
}

# wait_orphan: waits (10 s at most) until the app's orphan runs: two marked sleeps.
wait_orphan() {
  for _ in $(seq 100); do
    [[ $(grep -lzx "PODRUN_TEST_MARK=$MARK" /proc/[0-9]*/environ 2>/dev/null | wc -l) -ge 2 ]] && return 0
    sleep 0.1
  done
  fail "the app and its orphan did not start"
}

# start_ms FLAVOR: how long (ms) a pod of FLAVOR takes here from `podrun run` until it
# writes its pid (a slow machine, a sanitizer build), its images already rendered; the
# pod is then killed and collected.
start_ms() {
  local t0=${EPOCHREALTIME/./} ms f=$BATS_TEST_TMPDIR/calibrate.uuid
  start_pod "$1" calibrate
  for _ in $(seq 5000); do
    [[ -s $f && -s $STORE/pods/run/$(cat "$f")/pid ]] && break
    sleep 0.002
  done
  ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
  kill -9 "$POD_JOB"
  wait "$POD_JOB" 2>/dev/null || true
  "$PODRUN" --dir="$STORE" gc --grace-period=0 >/dev/null
  echo "$ms"
}

# campaign FLAVOR LANES ROUNDS MAX_DELAY_MS [RUN FLAGS…]: LANES concurrent loops, each
# ROUNDS times: `podrun run` of the orphan-leaving app, kill -9 after a random delay
# (0 to MAX_DELAY_MS, or to twice the time a pod takes to start here if that is more:
# from stage0's first steps to well after the apps started), then gc --grace-period=0
# (the other lanes' pods are running meanwhile). Every 2nd lane passes the run flags.
# Then: nothing of any pod is left.
campaign() {
  local flavor=$1 lanes=$2 rounds=$3 max=$4 lane start
  shift 4
  local t=$BATS_TEST_TMPDIR
  start_ms "$flavor" >/dev/null # renders the images
  start=$(start_ms "$flavor")
  ((2 * start <= max)) || max=$((2 * start))
  ((max <= 999)) || max=999
  echo "a pod starts in $start ms here: kills within 0…$max ms"
  for lane in $(seq "$lanes"); do
    (
      local round job delay flags=()
      ((lane % 2)) || flags=("$@")
      for round in $(seq "$rounds"); do
        "$PODRUN" --dir="$STORE" run --stage1="$flavor" --uuid-file-save="$t/uuid.$lane.$round" "${flags[@]}" \
          "$BUSYBOX_NAME" --set-env=PODRUN_TEST_MARK="$MARK" --exec=/bin/sh -- -c "$APP_SH" --- \
          >"$t/out.$lane.$round" 2>&1 </dev/null &
        job=$!
        delay=$(((RANDOM * 32768 + RANDOM) % (max + 1)))
        sleep "$(printf '0.%03d' "$delay")"
        kill -9 "$job"
        wait "$job" 2>/dev/null || true
        echo "$delay" >>"$t/delays"
        "$PODRUN" --dir="$STORE" gc --grace-period=0 >>"$t/gc.$lane.out" 2>&1 || echo "lane $lane round $round: gc exited $?" >>"$t/gc.fail"
      done
    ) &
  done
  wait
  [[ ! -s "$t/gc.fail" ]] || fail "$(cat "$t/gc.fail"): $(cat "$t"/gc.*.out)"
  # and the pods a kill left prepared (between prepare and the stage1 exec): nothing of
  # them ran, but they are on disk
  run_podrun gc --grace-period=0 --expire-prepared=0s
  assert_status 0
  local uuids
  uuids=$(for f in "$t"/uuid.* "$t"/calibrate.uuid; do [[ ! -s $f ]] || echo "$(cat "$f")"; done | sort -u)
  echo "$(wc -l <"$t/delays") kills, $(wc -w <<<"$uuids") pods made, delays $(sort -n "$t/delays" | head -n 1)…$(sort -n "$t/delays" | tail -n 1) ms"
  # shellcheck disable=SC2086
  assert_nothing_left $uuids
}

@test "ownership: fly: 60 kill -9 of run at random points, each followed by gc: nothing is left" {
  campaign fly 6 10 40
}

@test "ownership: nspawn: 60 kill -9 of run at random points (--memory on half), each followed by gc: nothing is left" {
  requires nspawn
  campaign nspawn 6 10 250 --memory=64M
}

@test "ownership: stop and stop --force end the app's orphans too, on both flavors" {
  local flavor how uuid
  for flavor in fly nspawn; do
    [[ $flavor == fly ]] || command -v systemd-nspawn >/dev/null || break
    for how in "" --force; do
      echo "=== $flavor stop $how"
      start_pod "$flavor" "$flavor$how"
      uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/$flavor$how.uuid" pid)
      [[ -n "$uuid" ]] || fail "the pod did not start: $(cat "$BATS_TEST_TMPDIR/$flavor$how.err")"
      wait_orphan
      run_podrun stop $how "$uuid"
      assert_status 0
      run_podrun status --wait=10s "$uuid"
      assert_output_contains "state=exited"
      wait "$POD_JOB" || true
      wait_no_procs 3
      run_podrun gc --grace-period=0
      assert_output_contains "removed pod $uuid"
      assert_nothing_left "$uuid"
    done
  done
}

@test "ownership: gc of an exited pod whose orphans still run ends them, then removes it" {
  # kill -9 of fly's run: the app dies with it (its parent-death signal), its orphan
  # does not: only the pod's cgroup holds it
  start_pod fly orphan
  local uuid
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/orphan.uuid" pid)
  [[ -n "$uuid" ]] || fail "the pod did not start: $(cat "$BATS_TEST_TMPDIR/orphan.err")"
  wait_orphan
  kill -9 "$POD_JOB"
  wait "$POD_JOB" || true
  run_podrun status "$uuid"
  assert_output_contains "state=exited"
  [[ -n "$(pod_procs)" ]] || fail "the orphan did not outlive the stage1: this test tests nothing"
  run_podrun gc --grace-period=0
  assert_status 0
  assert_output_contains "removed pod $uuid"
  assert_nothing_left "$uuid"
}

@test "ownership: gc refuses to remove a pod whose processes it cannot end, and removes it once they end" {
  # A process frozen by the cgroup v1 freezer does not die of SIGKILL until it is thawed:
  # the pod's orphan, moved into a frozen v1 cgroup of the test's own, is one that gc's
  # kill cannot end. That needs the pod's cgroup in cgroup2 and a v1 freezer beside it.
  local v2
  v2=$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) || true
  [[ $v2 == cgroup2fs && $(stat -f -c %T /sys/fs/cgroup/freezer 2>/dev/null) == cgroupfs ]] ||
    skip "needs a hybrid cgroup host (cgroup2 at /sys/fs/cgroup/unified, the v1 freezer beside it)"
  start_pod fly frozen
  local uuid
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/frozen.uuid" pid)
  [[ -n "$uuid" ]] || fail "the pod did not start: $(cat "$BATS_TEST_TMPDIR/frozen.err")"
  wait_orphan
  kill -9 "$POD_JOB"
  wait "$POD_JOB" || true
  local orphan f=/sys/fs/cgroup/freezer/podrun-test-$MARK
  orphan=$(pod_procs)
  [[ $(wc -w <<<"$orphan") -eq 1 ]] || fail "expected the orphan alone, got: $(describe $orphan)"
  mkdir -p "$BATS_TEST_TMPDIR/frozen-1" "$f"
  echo "$f" >"$BATS_TEST_TMPDIR/frozen-1/cgroup"
  echo "$orphan" >"$f/cgroup.procs"
  echo FROZEN >"$f/freezer.state"

  run_podrun gc --grace-period=0
  assert_status 254
  assert_stderr_contains "$uuid"
  [[ ${#stderr_lines[@]} -eq 1 ]] || fail "expected one line on stderr"
  [[ "$output" != *"removed pod $uuid"* ]] || fail "gc removed the pod"
  [[ -d "$STORE/pods/exited-garbage/$uuid" ]] || fail "the pod directory is gone"
  kill -0 "$orphan" || fail "the orphan is gone: this test tests nothing"

  echo THAWED >"$f/freezer.state" # the pending SIGKILL ends it
  run_podrun gc --grace-period=0
  assert_status 0
  assert_output_contains "removed pod $uuid"
  rmdir "$f"
  assert_nothing_left "$uuid"
}

@test "ownership: nspawn on a host whose /run is a tmpfs: what nspawn keeps there goes with the pod" {
  requires nspawn
  # the host's /run, as on a systemd host: a tmpfs (this test's own, in a mount namespace
  # of its own), which nspawn writes its per-machine directory and lock files into
  # shellcheck disable=SC2016
  log_run unshare --mount --propagation private bash -c '
    mount -t tmpfs -o mode=0755 podrun-test-run /run || exit 1
    for i in 1 2 3 4 5; do
      "$1" --dir="$2" run --stage1=nspawn --uuid-file-save="$3/run-uuid.$i" "$4" \
        --set-env=PODRUN_TEST_MARK="$5" --exec=/bin/sleep -- 1000 --- >/dev/null 2>&1 </dev/null &
      job=$!
      for _ in $(seq 100); do
        [[ -s "$3/run-uuid.$i" && -s "$2/pods/run/$(cat "$3/run-uuid.$i")/pid" ]] && break
        sleep 0.1
      done
      kill -9 "$job"
      wait "$job"
    done
    echo "before gc:"; find /run/systemd/nspawn -mindepth 2
    "$1" --dir="$2" gc --grace-period=0 >/dev/null || exit 1
    left=$(find /run/systemd/nspawn -mindepth 2)
    [[ -z "$left" ]] || { echo "left in /run/systemd/nspawn: $left"; exit 1; }
  ' bash "$PODRUN" "$STORE" "$BATS_TEST_TMPDIR" "$BUSYBOX_NAME" "$MARK"
  assert_status 0
  assert_output_contains "propagate/podrun-" # what there was to remove
  local uuids
  uuids=$(for f in "$BATS_TEST_TMPDIR"/run-uuid.*; do echo "$(cat "$f")"; done)
  # shellcheck disable=SC2086
  assert_nothing_left $uuids
}
