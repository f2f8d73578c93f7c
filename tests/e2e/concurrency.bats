#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Concurrent podrun invocations on one store, and podrun killed mid-way: the store
# stays consistent and `image gc` repairs what a killed command left.

load helpers

# A large image (a few random files, ~200 MB, and 10240 small ones) so that a fetch
# or a render lasts long enough (about 1.5 s each) to be killed in the middle.
# Built once for the file.
setup_file() {
  BIG_ACI=$BATS_FILE_TMPDIR/big.aci
  export BIG_ACI
  local stage=$BATS_FILE_TMPDIR/big-stage i
  mkdir -p "$stage/rootfs/data" "$stage/rootfs/many"
  for i in 1 2 3 4; do
    head -c $((50 * 1024 * 1024)) /dev/urandom >"$stage/rootfs/data/blob$i"
  done
  for i in 1 2 3 4 5 6 7 8 9 10; do
    mkdir "$stage/rootfs/many/$i"
    head -c $((1024 * 1024)) /dev/urandom | (cd "$stage/rootfs/many/$i" && split -b 1024 -a 3 - f)
  done
  aci_manifest podrun.test/big 1.0 >"$stage/manifest"
  tar_aci "$BIG_ACI" "$stage"
  rm -rf "$stage"
}

# bg NAME CMD…: runs podrun on $STORE in the background; stdout, stderr and exit
# status go to $BATS_TEST_TMPDIR/NAME.{out,err,rc}.
bg() {
  local name=$1
  shift
  # (bats runs with set -e: the status is caught, or a failure would leave no .rc)
  ( rc=0
    "$PODRUN" --dir="$STORE" "$@" >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" || rc=$?
    echo $rc >"$BATS_TEST_TMPDIR/$name.rc" ) &
}

# check_bg NAME: the background command NAME succeeded.
check_bg() {
  local rc
  rc=$(cat "$BATS_TEST_TMPDIR/$1.rc")
  if [[ "$rc" != 0 ]]; then
    echo "$1 failed with $rc:"
    cat "$BATS_TEST_TMPDIR/$1.err"
    fail "$1 failed"
  fi
}

@test "8 concurrent fetches of the same image: one id, one blob, one index row" {
  local aci i
  aci=$(busybox_aci)
  for i in 1 2 3 4 5 6 7 8; do
    bg "f$i" --insecure-options=image fetch "$aci"
  done
  wait
  for i in 1 2 3 4 5 6 7 8; do
    check_bg "f$i"
    [[ $(cat "$BATS_TEST_TMPDIR/f$i.out") == "$(aci_id "$aci")" ]] || fail "fetch $i printed another id"
  done
  [[ $(count_blobs) -eq 1 ]] || fail "$(count_blobs) blobs"
  run_podrun image list --no-legend --full
  assert_status 0
  [[ ${#lines[@]} -eq 1 ]] || fail "${#lines[@]} index rows"
  assert_store_clean
  run_podrun image render --rootfs-only "$BUSYBOX_NAME" "$BATS_TEST_TMPDIR/r"
  assert_status 0
  cmp "$BATS_TEST_TMPDIR/r/bin/busybox" <(tar -xOf "$aci" rootfs/bin/busybox)
}

@test "8 concurrent fetches of 8 different images: all stored and listed" {
  local i want=
  for i in 1 2 3 4 5 6 7 8; do
    make_small_aci "$BATS_TEST_TMPDIR/img$i.aci" "podrun.test/img$i" "1.$i"
    want+="$(aci_id "$BATS_TEST_TMPDIR/img$i.aci")"$'\n'
  done
  for i in 1 2 3 4 5 6 7 8; do
    bg "f$i" --insecure-options=image fetch "$BATS_TEST_TMPDIR/img$i.aci"
  done
  wait
  for i in 1 2 3 4 5 6 7 8; do
    check_bg "f$i"
    [[ $(cat "$BATS_TEST_TMPDIR/f$i.out") == "$(aci_id "$BATS_TEST_TMPDIR/img$i.aci")" ]]
  done
  [[ "$(store_ids)" == "$(printf '%s' "$want" | LC_ALL=C sort)" ]] || fail "listed ids differ from the fetched ones"
  run_podrun image list --no-legend
  for i in 1 2 3 4 5 6 7 8; do
    assert_output_contains "podrun.test/img$i:1.$i"
  done
  [[ $(count_blobs) -eq 8 ]]
  assert_store_clean
}

# loop NAME SECONDS CMD…: runs a podrun command again and again for SECONDS; every
# failure's stderr is appended to NAME.err, and the number of runs and failures are
# written to NAME.count. "{}" in the arguments becomes the iteration number.
loop() {
  local name=$1 secs=$2
  shift 2
  (
    local end=$((SECONDS + secs)) n=0 bad=0 a args
    while [[ $SECONDS -lt $end ]]; do
      n=$((n + 1))
      args=()
      for a in "$@"; do args+=("${a//\{\}/$n}"); done
      if ! "$PODRUN" --dir="$STORE" "${args[@]}" >/dev/null 2>"$BATS_TEST_TMPDIR/$name.last"; then
        bad=$((bad + 1))
        cat "$BATS_TEST_TMPDIR/$name.last" >>"$BATS_TEST_TMPDIR/$name.err"
      fi
    done
    echo "$n $bad" >"$BATS_TEST_TMPDIR/$name.count"
  ) &
}

@test "fetch, render, list and rm running concurrently fail only with not-found errors" {
  local aci
  aci=$(busybox_aci)
  mkdir -p "$BATS_TEST_TMPDIR/renders"
  fetch_busybox
  loop fetch 5 --insecure-options=image fetch "$aci"
  loop render 5 image render --rootfs-only "$BUSYBOX_NAME" "$BATS_TEST_TMPDIR/renders/{}"
  loop list 5 image list --full
  loop cat 5 image cat-manifest "$BUSYBOX_NAME"
  loop rm 5 image rm "$BUSYBOX_NAME"
  wait
  local l name
  for name in fetch render list cat rm; do
    echo "$name: runs, failures: $(cat "$BATS_TEST_TMPDIR/$name.count")"
    [[ $(cut -d' ' -f1 "$BATS_TEST_TMPDIR/$name.count") -ge 3 ]] || fail "$name ran less than 3 times"
  done
  # fetch and list never fail; the others only because rm won a race.
  [[ ! -s "$BATS_TEST_TMPDIR/fetch.err" ]] || { cat "$BATS_TEST_TMPDIR/fetch.err"; fail "fetch failed"; }
  [[ ! -s "$BATS_TEST_TMPDIR/list.err" ]] || { cat "$BATS_TEST_TMPDIR/list.err"; fail "list failed"; }
  for name in render cat rm; do
    [[ -s "$BATS_TEST_TMPDIR/$name.err" ]] || continue
    while IFS= read -r l; do
      [[ "$l" == "podrun: "*"not found"* ]] || fail "$name failed with: $l"
    done <"$BATS_TEST_TMPDIR/$name.err"
  done
  # Every render that succeeded is complete.
  local d
  for d in "$BATS_TEST_TMPDIR"/renders/*; do
    [[ -d "$d" ]] || continue
    [[ -z "$(ls -A "$d")" ]] && continue # a render that lost the race may leave DIR empty
    cmp "$d/bin/busybox" <(tar -xOf "$aci" rootfs/bin/busybox) || fail "incomplete render in $d"
  done
  # The store is consistent: what is listed is complete, and gc leaves it clean.
  run_podrun image gc
  assert_status 0
  assert_store_clean
  fetch_busybox
  run_podrun image render --rootfs-only "$BUSYBOX_NAME" "$BATS_TEST_TMPDIR/final"
  assert_status 0
}

@test "a fetch that imports again (the file was touched) races image rm and never fails" {
  # Each touch changes the file's identity, so every fetch imports and records
  # the path; an image rm between the two once left the record naming a gone
  # image ("FOREIGN KEY constraint failed").
  local aci="$BATS_TEST_TMPDIR/b.aci"
  cp "$(busybox_aci)" "$aci"
  fetch_busybox
  loop fetch1 5 --insecure-options=image fetch "$aci"
  loop fetch2 5 --insecure-options=image fetch "$aci"
  loop rm 5 image rm "$BUSYBOX_ID"
  local end=$((SECONDS + 5))
  while [[ $SECONDS -lt $end ]]; do touch "$aci"; sleep 0.01; done
  wait
  local name
  for name in fetch1 fetch2 rm; do
    echo "$name: runs, failures: $(cat "$BATS_TEST_TMPDIR/$name.count")"
  done
  [[ $(cut -d' ' -f2 "$BATS_TEST_TMPDIR/rm.count") -lt $(cut -d' ' -f1 "$BATS_TEST_TMPDIR/rm.count") ]] ||
    fail "no image rm removed the image: nothing raced"
  for name in fetch1 fetch2; do
    [[ ! -s "$BATS_TEST_TMPDIR/$name.err" ]] || { cat "$BATS_TEST_TMPDIR/$name.err"; fail "$name failed"; }
  done
  run_podrun image gc
  assert_status 0
  assert_store_clean
}

# kill_after SECONDS CMD…: starts podrun on $STORE, SIGKILLs it after SECONDS and
# fails the test if it had already finished (the kill must land mid-way).
kill_after() {
  local secs=$1
  shift
  "$PODRUN" --dir="$STORE" "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$secs"
  kill -9 "$pid" 2>/dev/null || fail "podrun $* finished before the kill after ${secs}s"
  local st=0
  wait "$pid" || st=$?
  echo "podrun $* killed after ${secs}s: status $st"
  [[ $st -eq 137 ]] || fail "podrun $* was not killed (status $st)"
}

# recovers: after a kill, list, gc, fetch and render all work and the store is clean.
recovers() {
  run_podrun image list --full
  assert_status 0
  run_podrun image gc
  assert_status 0
  assert_store_clean
  fetch_ok "$BIG_ACI"
  local id=$output
  [[ "$id" == "$(aci_id "$BIG_ACI")" ]]
  rm -rf "$BATS_TEST_TMPDIR/again"
  run_podrun image render --rootfs-only podrun.test/big "$BATS_TEST_TMPDIR/again"
  assert_status 0
  cmp "$BATS_TEST_TMPDIR/again/data/blob4" <(tar -xOf "$BIG_ACI" rootfs/data/blob4)
  run_podrun image gc
  assert_status 0
  assert_store_clean
  grep -qxF "$id" <<<"$(store_ids)" || fail "the big image is not listed"
}

@test "SIGKILL during fetch leaves a store that gc repairs" {
  # An initialised store with another image in it, so the kill hits a live store.
  fetch_busybox
  local t
  for t in 0.2 0.4; do
    kill_after "$t" --insecure-options=image fetch "$BIG_ACI"
    run_podrun image list --no-legend --full
    assert_status 0
    # A half-fetched image is never listed: a listed one has its whole blob.
    if [[ "$output" == *podrun.test/big* ]]; then
      cmp "$BIG_ACI" "$(blob_path "$(aci_id "$BIG_ACI")")" || fail "an incomplete image is listed"
    fi
  done
  recovers
  [[ -z "$(find "$STORE/cas" -name '.tmp-*')" ]]
  run_podrun image list --no-legend
  assert_output_contains "$BUSYBOX_NAME"
}

@test "SIGKILL during render leaves a store that gc repairs" {
  fetch_ok "$BIG_ACI"
  local t
  for t in 0.2 0.4; do
    rm -rf "$BATS_TEST_TMPDIR/out"
    kill_after "$t" image render podrun.test/big "$BATS_TEST_TMPDIR/out"
  done
  # A killed render never leaves a DIR that looks complete.
  if [[ -e "$BATS_TEST_TMPDIR/out/rootfs/data/blob4" ]]; then
    cmp "$BATS_TEST_TMPDIR/out/rootfs/data/blob4" <(tar -xOf "$BIG_ACI" rootfs/data/blob4) ||
      fail "a killed render left a truncated file under its final name"
  fi
  recovers
  # The interrupted render's target can be rendered into afterwards.
  run_podrun image render --overwrite podrun.test/big "$BATS_TEST_TMPDIR/out"
  assert_status 0
  [[ -f "$BATS_TEST_TMPDIR/out/manifest" ]]
}
