#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Many pods at once while gc runs without pause, and pods whose stage1 dies: every pod
# keeps its own exit code, and everything ends collected with nothing left mounted or
# locked.

load helpers

setup() {
  requires root
  [[ -f "$BUILD/stage1-fly.aci" ]] || fail "build stage1-fly first (make all)"
  fetch_busybox
}

# no_leftovers: nothing of $STORE is mounted, no process has it open or locked.
no_leftovers() {
  ! grep -q "$STORE" /proc/self/mountinfo || fail "still mounted: $(grep "$STORE" /proc/self/mountinfo)"
  local pid
  for pid in /proc/[0-9]*; do
    if ls -l "$pid/fd" 2>/dev/null | grep -q "$STORE/pods"; then
      fail "process ${pid#/proc/} still holds a pod open: $(tr '\0' ' ' <"$pid/cmdline")"
    fi
  done
  local left
  left=$(find "$STORE/pods" -mindepth 2 -maxdepth 2)
  [[ -z "$left" ]] || fail "pods left: $left"
}

@test "pods: 20 pods started in parallel while gc --grace-period=0 runs in a loop" {
  local t=$BATS_TEST_TMPDIR i pids=()
  (
    while [[ ! -e "$t/stop" ]]; do
      "$PODRUN" --dir="$STORE" gc --grace-period=0 >>"$t/gc.out" 2>>"$t/gc.err" || echo "gc exited $?" >>"$t/gc.fail"
    done
  ) &
  local gc_pid=$!
  for i in $(seq 1 20); do
    ( rc=0
      "$PODRUN" --dir="$STORE" run --stage1=fly --uuid-file-save="$t/uuid.$i" "$BUSYBOX_NAME" \
        --exec=/bin/sh -- -c "sleep 0.$((i % 5)); echo pod-$i; exit $i" --- >"$t/out.$i" 2>"$t/err.$i" || rc=$?
      echo $rc >"$t/rc.$i" ) &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  touch "$t/stop"
  wait "$gc_pid" || true
  for i in $(seq 1 20); do
    [[ $(cat "$t/rc.$i") == "$i" ]] || fail "pod $i exited $(cat "$t/rc.$i"): $(cat "$t/err.$i")"
    [[ $(cat "$t/out.$i") == "pod-$i" ]] || fail "pod $i printed $(cat "$t/out.$i")"
  done
  [[ ! -s "$t/gc.fail" ]] || fail "gc failed: $(cat "$t/gc.fail") $(cat "$t/gc.err")"
  # whatever the loop did not get yet, one more gc does; every pod was removed once
  run_podrun gc --grace-period=0
  assert_status 0
  cat "$t/gc.out" >>"$t/all.out"
  printf '%s\n' "$output" >>"$t/all.out"
  for i in $(seq 1 20); do
    [[ $(grep -c "removed pod $(cat "$t/uuid.$i")" "$t/all.out") -eq 1 ]] || fail "pod $i not removed exactly once"
  done
  run_podrun list --no-legend
  [[ -z "$output" ]]
  no_leftovers
}

@test "pods: a pod whose stage1 is killed with SIGKILL shows exited and is collected" {
  "$PODRUN" --dir="$STORE" run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$BUSYBOX_NAME" \
    --exec=/bin/sleep -- 300 &
  local uuid= pid=
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  run_podrun status "$uuid"
  assert_output_contains "state=running"
  # fly's own process (the pod's lock holder) is podrun run's process after exec
  kill -9 $!
  wait || true
  # the app dies with its stage1 (PR_SET_PDEATHSIG)
  for _ in $(seq 50); do
    kill -0 "$(cat "$STORE/pods/run/$uuid/pid")" 2>/dev/null || break
    sleep 0.1
  done
  run_podrun status "$uuid"
  assert_output_contains "state=exited"
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
  no_leftovers
}

@test "pods: gc removes abandoned embryos and half-made ones, but not one still held" {
  local e=$STORE/pods/embryo
  local abandoned=11111111-1111-4111-8111-111111111111 old=.22222222-2222-4222-8222-222222222222
  local fresh=.33333333-3333-4333-8333-333333333333 held=.44444444-4444-4444-8444-444444444444
  mkdir -p "$e/$abandoned" "$e/$old" "$e/$fresh" "$e/$held"
  touch -d '-1 hour' "$e/$old" "$e/$held"
  local holder # held by this shell, not by a process left to end
  exec {holder}<"$e/$held"
  flock "$holder"
  run_podrun gc --grace-period=0
  exec {holder}<&-
  assert_status 0
  assert_output_contains "removed pod $abandoned"
  [[ ! -e "$e/$abandoned" && ! -e "$e/$old" ]] || fail "abandoned embryos left: $(ls -a "$e")"
  [[ -d "$e/$fresh" && -d "$e/$held" ]] || fail "gc removed an embryo that may still be born: $(ls -a "$e")"
}

# exited_pods N: runs N pods (fly, /bin/true) to their end; their UUIDs in $UUIDS.
exited_pods() {
  local i
  UUIDS=()
  for ((i = 0; i < $1; i++)); do
    "$PODRUN" --dir="$STORE" run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/u" "$BUSYBOX_NAME" \
      --exec=/bin/true >/dev/null || fail "pod $i failed"
    UUIDS+=("$(cat "$BATS_TEST_TMPDIR/u")")
  done
}

@test "pods: gc leaves alone an exited pod whose lock another process holds shared (as export does)" {
  local uuid holder state
  exited_pods 1
  uuid=${UUIDS[0]}
  for state in run exited-garbage; do # exited, then marked for collection
    exec {holder}<"$STORE/pods/$state/$uuid"
    flock -s "$holder"
    run_podrun gc --grace-period=0
    assert_status 0
    [[ $output != *"$uuid"* ]] || fail "gc took a pod whose lock is held: $output"
    [[ -d $STORE/pods/$state/$uuid ]] || fail "the held pod left $state/"
    exec {holder}<&-
    if [[ $state == run ]]; then
      run_podrun gc --mark-only
      assert_output_contains "moved pod $uuid to exited-garbage"
    fi
  done
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
}

@test "pods: two gcs at once collect each exited pod once, and neither fails" {
  local round uuid
  for round in 1 2 3; do
    exited_pods 6
    [[ $round == 1 ]] || "$PODRUN" --dir="$STORE" gc --mark-only >/dev/null # both find them marked
    ( "$PODRUN" --dir="$STORE" gc --grace-period=0 >"$BATS_TEST_TMPDIR/a.out" 2>&1; echo $? >"$BATS_TEST_TMPDIR/a.rc" ) &
    ( "$PODRUN" --dir="$STORE" gc --grace-period=0 >"$BATS_TEST_TMPDIR/b.out" 2>&1; echo $? >"$BATS_TEST_TMPDIR/b.rc" ) &
    wait
    cat "$BATS_TEST_TMPDIR"/a.out "$BATS_TEST_TMPDIR"/b.out
    [[ $(cat "$BATS_TEST_TMPDIR/a.rc") == 0 && $(cat "$BATS_TEST_TMPDIR/b.rc") == 0 ]] || fail "round $round: a gc failed"
    ! grep -q "^podrun:" "$BATS_TEST_TMPDIR"/a.out "$BATS_TEST_TMPDIR"/b.out || fail "round $round: an error"
    for uuid in "${UUIDS[@]}"; do
      [[ $(cat "$BATS_TEST_TMPDIR"/a.out "$BATS_TEST_TMPDIR"/b.out | grep -c "removed pod $uuid") == 1 ]] ||
        fail "round $round: pod $uuid not removed exactly once"
    done
  done
  no_leftovers
}
