#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# podrun fetch/run of local OCI images: oci:DIR[:TAG] (an OCI image layout, made with
# umoci), oci-archive:FILE[:TAG] and docker-archive:FILE (made from it with skopeo).

load helpers
load registry

REPORT='echo "uid=$(id -u) gid=$(id -g) pwd=$(pwd) foo=$FOO"'

setup_file() {
  command -v umoci >/dev/null || return 0
  command -v skopeo >/dev/null || return 0
  [[ -x /bin/busybox ]] || return 0
  local l=$BATS_FILE_TMPDIR/layout
  oci_image_busybox --config.user=app --config.workingdir=/work --config.env=FOO=bar --config.cmd="$REPORT" "$l" bb
  oci_image_busybox --config.cmd='echo "work=$(ls /work | tr "\n" ,) gone=$(test -e /etc/gone && echo yes || echo no)"' \
    "$l" wh txt:/work/old:old txt:/etc/gone:gone
  oci_image_remove "$l" wh /etc/gone
  oci_image_opaque "$l" wh /work txt:/new:new
  # A layout of one image (no tag needed), archives of bb.
  oci_image_busybox --config.cmd="$REPORT" "$BATS_FILE_TMPDIR/single" only
  skopeo copy --quiet "oci:$l:bb" "oci-archive:$BATS_FILE_TMPDIR/bb.oci.tar:bb"
  skopeo copy --quiet "oci:$l:bb" "docker-archive:$BATS_FILE_TMPDIR/bb.docker.tar:podrun.test/bb:1"
  LAYOUT=$l
  export LAYOUT
}

setup() {
  requires python3
  command -v umoci >/dev/null || skip "needs umoci (package umoci)"
  command -v skopeo >/dev/null || skip "needs skopeo (package skopeo)"
  [[ -x /bin/busybox ]] || skip "needs /bin/busybox (package busybox-static)"
  [[ -n ${LAYOUT:-} ]] || fail "setup_file did not build the images"
}

# ofetch REF…: fetch with --insecure-options=image; asserts one id, sha256-HEX, in $ID.
ofetch() {
  run_podrun --insecure-options=image fetch "$@"
  assert_status 0 || return 1
  [[ ${#lines[@]} -eq 1 && $output =~ ^sha256-[0-9a-f]{64}$ ]] || fail "not one image id: $output" || return 1
  ID=$output
}

# orun REF: runs it on fly (the report line of the app in REPORT_LINE).
orun() {
  requires root
  [[ -f "$BUILD/stage1-fly.aci" ]] || fail "build stage1-fly first (make all)" || return 1
  run_podrun --insecure-options=image run --stage1=fly "$1"
  assert_status 0 || return 1
  REPORT_LINE=$(grep -E '^(uid|work)=' <<<"$output" | tail -1)
}

# docker_archive_id FILE: sha256- and the digest of the config a docker save tarball names.
docker_archive_id() {
  local cfg
  cfg=$(tar -xOf "$1" manifest.json | json_query 'j[0]["Config"]')
  echo "sha256-$(tar -xOf "$1" "$cfg" | sha256sum | cut -d' ' -f1)"
}

@test "oci: fetch oci:DIR:TAG prints the config digest as the id; the image runs with its config" {
  ofetch "oci:$LAYOUT:bb"
  [[ $ID == $(oci_image_id "$LAYOUT" bb) ]] || fail "id $ID, not $(oci_image_id "$LAYOUT" bb)"
  local layer
  layer=$(oci_image_layers "$LAYOUT" bb)
  [[ -d $STORE/cas/layer/sha256-${layer#sha256:}/rootfs ]] || fail "no layer tree for $layer"
  # Again: the same id, nothing new.
  local before
  before=$(find "$STORE/cas" -path "$STORE/cas/index.db*" -prune -o -print | LC_ALL=C sort | sha256sum)
  ofetch "oci:$LAYOUT:bb"
  [[ $ID == $(oci_image_id "$LAYOUT" bb) ]]
  [[ $(find "$STORE/cas" -path "$STORE/cas/index.db*" -prune -o -print | LC_ALL=C sort | sha256sum) == "$before" ]] ||
    fail "a second fetch changed the store"
  orun "oci:$LAYOUT:bb"
  [[ $REPORT_LINE == "uid=1000 gid=1000 pwd=/work foo=bar" ]] || fail "the app reported: $REPORT_LINE"
}

@test "oci: whiteouts and an opaque directory of later layers are honoured" {
  ofetch "oci:$LAYOUT:wh"
  [[ $ID == $(oci_image_id "$LAYOUT" wh) ]]
  [[ $(find "$STORE/cas/layer" -mindepth 1 -maxdepth 1 | wc -l) -eq 3 ]]
  orun "oci:$LAYOUT:wh"
  [[ $REPORT_LINE == "work=new, gone=no" ]] || fail "the app reported: $REPORT_LINE"
}

@test "oci: the layered image on nspawn, alone and with --private-users: whiteouts honoured, root's files root's inside, what the app writes in the pod's range" {
  requires root nspawn
  [[ -f "$BUILD/stage1-nspawn.aci" ]] || fail "build stage1-nspawn first (make all)"
  ofetch "oci:$LAYOUT:wh"
  local flags uuid upper
  for flags in "" --private-users; do
    rm -f "$BATS_TEST_TMPDIR/uuid"
    # shellcheck disable=SC2086
    run_podrun --insecure-options=image run $flags --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "oci:$LAYOUT:wh" \
      --exec=/bin/sh -- -c 'echo "work=$(ls /work | tr "\n" ,) gone=$(test -e /etc/gone && echo yes || echo no) owner=$(stat -c %u:%g /bin/busybox)"; echo x >/work/written' ---
    assert_status 0
    assert_output_contains "work=new, gone=no owner=0:0"
    uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
    upper=$(find "$STORE/pods" -path "*/$uuid/overlay/*/upper/work/written" | head -1)
    [[ -n $upper ]] || fail "the app's write is not in its pod's upper directory"
    if [[ -n $flags ]]; then
      [[ $(stat -c %u "$upper") -ge 65536 ]] || fail "with --private-users the app's file is owned by $(stat -c %u "$upper") on the host"
    else
      [[ $(stat -c %u "$upper") -eq 0 ]]
    fi
    # the store's layers are untouched by either pod
    [[ -z $(find "$STORE/cas/layer" -name written) ]] || fail "a pod wrote into a layer of the store"
  done
}

@test "oci: oci:DIR of a layout with one image needs no tag; a tag it lacks is refused naming it" {
  ofetch "oci:$BATS_FILE_TMPDIR/single"
  [[ $ID == $(oci_image_id "$BATS_FILE_TMPDIR/single" only) ]]
  run_podrun --insecure-options=image fetch "oci:$LAYOUT:nosuchtag"
  assert_one_line_error nosuchtag
  run_podrun --insecure-options=image fetch "oci:$BATS_TEST_TMPDIR/no-such-dir:x"
  assert_one_line_error no-such-dir
}

@test "oci: without --insecure-options=image, oci: is refused naming it" {
  run_podrun fetch "oci:$LAYOUT:bb"
  assert_one_line_error "--insecure-options=image"
  [[ -z $(find "$STORE/cas/blob" -type f 2>/dev/null) ]]
}

@test "oci: oci-archive:FILE and oci-archive:FILE:TAG give the layout's id and run" {
  ofetch "oci-archive:$BATS_FILE_TMPDIR/bb.oci.tar"
  [[ $ID == $(oci_image_id "$LAYOUT" bb) ]]
  ofetch "oci-archive:$BATS_FILE_TMPDIR/bb.oci.tar:bb"
  [[ $ID == $(oci_image_id "$LAYOUT" bb) ]]
  orun "oci-archive:$BATS_FILE_TMPDIR/bb.oci.tar"
  [[ $REPORT_LINE == "uid=1000 gid=1000 pwd=/work foo=bar" ]] || fail "the app reported: $REPORT_LINE"
  run_podrun --insecure-options=image fetch "oci-archive:$BATS_FILE_TMPDIR/bb.oci.tar:nosuchtag"
  assert_one_line_error nosuchtag
}

@test "oci: docker-archive:FILE (a docker save tarball) gives its config's digest and runs" {
  local want
  want=$(docker_archive_id "$BATS_FILE_TMPDIR/bb.docker.tar")
  ofetch "docker-archive:$BATS_FILE_TMPDIR/bb.docker.tar"
  [[ $ID == "$want" ]] || fail "id $ID, the archive's config is $want"
  orun "docker-archive:$BATS_FILE_TMPDIR/bb.docker.tar"
  [[ $REPORT_LINE == "uid=1000 gid=1000 pwd=/work foo=bar" ]] || fail "the app reported: $REPORT_LINE"
}

@test "oci: a layout whose layer does not match its digest is refused and nothing is kept" {
  local l=$BATS_TEST_TMPDIR/bad layer f
  cp -a "$LAYOUT" "$l"
  layer=$(oci_image_layers "$l" bb)
  f=$l/blobs/sha256/${layer#sha256:}
  python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0xff; open(p, "wb").write(b)' "$f"
  run_podrun --insecure-options=image fetch "oci:$l:bb"
  assert_one_line_error "digest mismatch"
  [[ -z $(find "$STORE/cas/blob" "$STORE/cas/layer" -mindepth 1 -not -type d 2>/dev/null) ]] || fail "something was kept"
  [[ -z $(find "$STORE/cas/layer" -mindepth 1 -maxdepth 1 2>/dev/null) ]] || fail "a layer tree was kept"
  run_podrun image list --no-legend
  [[ -z $output ]]
  # A docker-archive whose layer was altered: its diff_id no longer matches.
  local d=$BATS_TEST_TMPDIR/darch
  mkdir -p "$d"
  tar -xf "$BATS_FILE_TMPDIR/bb.docker.tar" -C "$d"
  f=$(cd "$d" && json_query 'j[0]["Layers"][0]' <manifest.json)
  # A byte in the middle of busybox's data: still a valid tar, another digest.
  python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0xff; open(p, "wb").write(b)' "$d/$f"
  tar -tf "$d/$f" >/dev/null
  tar -cf "$BATS_TEST_TMPDIR/bad.docker.tar" -C "$d" .
  run_podrun --insecure-options=image fetch "docker-archive:$BATS_TEST_TMPDIR/bad.docker.tar"
  assert_one_line_error "digest mismatch"
  run_podrun image list --no-legend
  [[ -z $output ]]
}

@test "oci: image verify checks the config, manifest and layer blobs and each layer tree, whiteouts and opaque markers included" {
  ofetch "oci:$LAYOUT:wh"
  run_podrun image verify "$ID"
  assert_status 0
  [[ ${lines[0]} == "$ID "*" ok (unsigned: fetched with --insecure-options=image)" ]] || fail "not ok"
  local d trees=() wh="" opq=""
  for d in $(oci_image_layers "$LAYOUT" wh); do
    trees+=("$STORE/cas/layer/sha256-${d#sha256:}")
  done
  for d in "${trees[@]}"; do
    [[ -f $d/tree-v1 ]] || fail "no record of $d"
    [[ -c $d/rootfs/etc/gone ]] && wh=$d
    python3 -c 'import os, sys; os.getxattr(sys.argv[1], "trusted.overlay.opaque")' "$d/rootfs/work" 2>/dev/null && opq=$d
  done
  [[ -n $wh && -n $opq ]] || fail "no layer with the whiteout or the opaque directory"
  rm "$wh/rootfs/etc/gone"
  run_podrun image verify "$ID"
  assert_one_line_error 'character device "etc/gone": missing'
  mknod -m 0000 "$wh/rootfs/etc/gone" c 0 0
  python3 -c 'import os, sys; os.removexattr(sys.argv[1], "trusted.overlay.opaque")' "$opq/rootfs/work"
  run_podrun image verify "$ID"
  assert_one_line_error 'directory "work": extended attributes changed'
  python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")' "$opq/rootfs/work"
  run_podrun image verify "$ID"
  assert_status 0
  local m="$STORE/cas/blob/sha256/$(cut -c8-9 <<<"${trees[0]##*/}")/${trees[0]##*/sha256-}"
  [[ -f $m ]] || fail "no blob $m"
  cp -a "$m" "$BATS_TEST_TMPDIR/blob"
  printf 'X' | dd of="$m" bs=1 seek=10 conv=notrunc status=none
  run_podrun image verify "$ID"
  assert_one_line_error "layer sha256-" "digest mismatch"
  cp -a "$BATS_TEST_TMPDIR/blob" "$m"
  run_podrun image verify "$ID"
  assert_status 0
}
