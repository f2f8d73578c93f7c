#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# podrun fetch of local ACIs: ids, compression, file:// URLs, errors.

load helpers

@test "fetch prints sha512- and the sha512 of the uncompressed ACI" {
  local aci want
  aci=$(busybox_aci)
  want="sha512-$(sha512sum "$aci" | cut -d' ' -f1)"
  fetch_ok "$aci"
  [[ ${#lines[@]} -eq 1 ]] || fail "expected one line"
  is_image_id "$output" || fail "not an image id: $output"
  [[ "$output" == "$want" ]] || fail "id $output is not the sha512 of $aci ($want)"
  # The blob is the ACI itself, indexed; trees are rendered later, when a pod needs one.
  cmp "$aci" "$(blob_path "$want")"
  [[ -f "$STORE/cas/index.db" ]]
  [[ -d "$STORE/locks" ]]
  assert_store_clean
  run_podrun image list --no-legend --full
  [[ "$output" == "$want "* ]]
}

@test "plain, gzip, bzip2, xz and file:// give the same id and one blob" {
  local aci dir=$BATS_TEST_TMPDIR want c
  aci=$(busybox_aci)
  want=$(aci_id "$aci")
  cp "$aci" "$dir/bb.aci"
  for c in gzip bzip2 xz; do
    compress_aci "$aci" "$dir/bb-$c.aci" "$c"
    [[ $(aci_id "$dir/bb-$c.aci") == "$want" ]]
    ! cmp -s "$aci" "$dir/bb-$c.aci" || fail "$c: not compressed" # really compressed
  done
  fetch_ok "$dir/bb.aci" "$dir/bb-gzip.aci" "$dir/bb-bzip2.aci" "$dir/bb-xz.aci" "file://$dir/bb-xz.aci" \
    "file://$aci"
  [[ ${#lines[@]} -eq 6 ]] || fail "expected six ids"
  local l
  for l in "${lines[@]}"; do
    [[ "$l" == "$want" ]] || fail "id $l differs from $want"
  done
  [[ $(count_blobs) -eq 1 ]] || fail "expected one blob, found $(count_blobs)"
  cmp "$aci" "$(blob_path "$want")" # the uncompressed ACI is stored
  assert_store_clean
  run_podrun image list --no-legend --full
  assert_status 0
  [[ ${#lines[@]} -eq 1 ]] || fail "expected one image listed"
  [[ "${lines[0]}" == "$want "* ]]
}

@test "fetching the same image twice changes nothing" {
  fetch_busybox
  local before
  before=$(cd "$STORE/cas" && find blob tree -print | LC_ALL=C sort | sha256sum)
  fetch_busybox
  [[ $(cd "$STORE/cas" && find blob tree -print | LC_ALL=C sort | sha256sum) == "$before" ]] || fail "store changed"
  run_podrun image list --no-legend
  [[ ${#lines[@]} -eq 1 ]]
}

@test "fetch without --insecure-options=image is refused and stores nothing" {
  local aci
  aci=$(busybox_aci)
  run_podrun fetch "$aci"
  assert_one_line_error "--insecure-options=image"
  [[ -z "$output" ]]
  [[ $(count_blobs) -eq 0 ]]
  # "none" does not allow it either; "all" does.
  run_podrun --insecure-options=none fetch "$aci"
  assert_one_line_error "--insecure-options=image"
  run_podrun --insecure-options=all fetch "$aci"
  assert_status 0
  is_image_id "$output"
}

@test "fetch of a missing file exits 254 naming it" {
  run_podrun --insecure-options=image fetch "$BATS_TEST_TMPDIR/no-such.aci"
  assert_one_line_error "$BATS_TEST_TMPDIR/no-such.aci"
  run_podrun --insecure-options=image fetch "file://$BATS_TEST_TMPDIR/gone.aci"
  assert_one_line_error "gone.aci"
}

@test "fetch of an ACI with an invalid manifest exits 254 naming the field" {
  local d=$BATS_TEST_TMPDIR
  mkdir -p "$d/root/etc"
  echo hi >"$d/root/etc/hello"
  # acKind wrong.
  make_aci "$d/kind.aci" '{"acKind": "PodManifest", "acVersion": "0.8.11", "name": "podrun.test/bad"}' "$d/root"
  run_podrun --insecure-options=image fetch "$d/kind.aci"
  assert_one_line_error acKind
  # name not an AC identifier.
  make_aci "$d/name.aci" '{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "Not A Name!"}' "$d/root"
  run_podrun --insecure-options=image fetch "$d/name.aci"
  assert_one_line_error name
  # name missing.
  make_aci "$d/noname.aci" '{"acKind": "ImageManifest", "acVersion": "0.8.11"}' "$d/root"
  run_podrun --insecure-options=image fetch "$d/noname.aci"
  assert_one_line_error name
  # labels of the wrong type.
  make_aci "$d/labels.aci" '{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "podrun.test/bad", "labels": {"os": "linux"}}' "$d/root"
  run_podrun --insecure-options=image fetch "$d/labels.aci"
  assert_one_line_error labels
  # Not JSON at all.
  make_aci "$d/json.aci" '{"acKind": "ImageManifest",' "$d/root"
  run_podrun --insecure-options=image fetch "$d/json.aci"
  assert_one_line_error manifest
  # No manifest entry.
  mkdir -p "$d/nomf/rootfs"
  tar --create --file="$d/nomf.aci" --directory="$d/nomf" --numeric-owner --owner=0 --group=0 rootfs
  run_podrun --insecure-options=image fetch "$d/nomf.aci"
  assert_one_line_error manifest
  # Nothing of any of them was kept.
  [[ $(count_blobs) -eq 0 ]] || fail "a rejected image left $(count_blobs) blobs"
  run_podrun image list --no-legend
  [[ -z "$output" ]]
}

@test "fetch of a file that is not an ACI exits 254" {
  head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/random.aci"
  run_podrun --insecure-options=image fetch "$BATS_TEST_TMPDIR/random.aci"
  assert_one_line_error random.aci
  : >"$BATS_TEST_TMPDIR/empty.aci"
  run_podrun --insecure-options=image fetch "$BATS_TEST_TMPDIR/empty.aci"
  assert_one_line_error empty.aci
  run_podrun --insecure-options=image fetch "$BATS_TEST_TMPDIR"
  assert_one_line_error
  [[ $(count_blobs) -eq 0 ]]
}

@test "fetch of an unsupported URL scheme exits 254 naming the scheme" {
  run_podrun --insecure-options=image fetch "ftp://example.com/x.aci"
  assert_one_line_error ftp
  run_podrun --insecure-options=image fetch "file://relative/x.aci"
  assert_one_line_error "file://relative/x.aci"
}

@test "fetch of several images stops at the first bad one with its name" {
  local aci
  aci=$(busybox_aci)
  run_podrun --insecure-options=image fetch "$aci" "$BATS_TEST_TMPDIR/missing.aci"
  assert_one_line_error missing.aci
  [[ "${lines[0]}" == "$(aci_id "$aci")" ]] || fail "the good image's id was not printed first"
}

@test "actool validate accepts the busybox ACI and what image export writes" {
  requires actool
  local aci
  aci=$(busybox_aci)
  log_run actool validate "$aci"
  assert_status 0
  fetch_busybox
  run_podrun image export "$BUSYBOX_ID" "$BATS_TEST_TMPDIR/out.aci"
  assert_status 0
  log_run actool validate "$BATS_TEST_TMPDIR/out.aci"
  assert_status 0
  # actool is an independent check: it must also reject a broken ACI.
  make_aci "$BATS_TEST_TMPDIR/bad.aci" '{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "Bad Name"}' ""
  log_run actool validate "$BATS_TEST_TMPDIR/bad.aci"
  [[ $status -ne 0 ]]
}

# blob_write_order TRACE: from an strace of a fetch, checks that the blob's data is
# synced before its name is linked into place, and its directory after: a crash never
# leaves a named blob whose bytes are not on disk. Prints what it found.
blob_write_order() {
  python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
blob = synced = linked = dir_fd = dir_synced = None
for n, l in enumerate(lines):
    m = re.search(r'openat\(.*"cas/blob/sha512(/\.tmp-[^"]*)?", [^)]*(O_TMPFILE|O_CREAT)[^)]*\) = (\d+)$', l)
    if m and blob is None:
        blob, tmp = m.group(3), m.group(1)
        continue
    if blob is None:
        continue
    if synced is None and linked is None and re.search(r'\bf(data)?sync\(%s\)' % blob, l):
        synced = n
    if linked is None and re.search(r'(linkat\(AT_FDCWD, "/proc/self/fd/%s"|renameat2?\(.*\.tmp-).*"cas/blob/sha512/../[0-9a-f]{128}"' % blob, l):
        linked = n
    m = re.search(r'openat\(.*"cas/blob/sha512/..", [^)]*O_DIRECTORY[^)]*\) = (\d+)$', l)
    if linked is not None and m:
        dir_fd = m.group(1)
    if dir_fd and re.search(r'\bfsync\(%s\)' % dir_fd, l):
        dir_synced = n
        break
print(f"blob fd {blob}, synced at {synced}, linked at {linked}, its directory synced at {dir_synced}")
ok = blob is not None and linked is not None and synced is not None and synced < linked and dir_synced is not None
sys.exit(0 if ok else 1)
PY
}

@test "fetch syncs a blob before it links it into place, and the blob's directory after (strace)" {
  requires strace python3
  local trace=$BATS_TEST_TMPDIR/trace
  # LeakSanitizer's exit check cannot run under ptrace (a SANITIZE=1 build)
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    log_run strace -f -qq -o "$trace" -e trace=openat,fsync,fdatasync,linkat,renameat,renameat2 \
    "$PODRUN" --dir="$STORE" --insecure-options=image fetch "$(busybox_aci)"
  assert_status 0
  grep -E 'blob|sync|link|rename' "$trace"
  blob_write_order "$trace" || fail "the blob is not synced before it is linked"
}
