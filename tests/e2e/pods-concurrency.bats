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
  flock "$e/$held" sleep 30 &
  local holder=$!
  sleep 0.2
  run_podrun gc --grace-period=0
  assert_status 0
  assert_output_contains "removed pod $abandoned"
  kill "$holder"
  [[ ! -e "$e/$abandoned" && ! -e "$e/$old" ]] || fail "abandoned embryos left: $(ls -a "$e")"
  [[ -d "$e/$fresh" && -d "$e/$held" ]] || fail "gc removed an embryo that may still be born: $(ls -a "$e")"
}
