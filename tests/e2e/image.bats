#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# podrun image list, rm, cat-manifest, export, extract, render, gc.

load helpers

# rootfs_listing DIR: every path under DIR with its type, sorted (stable facts to compare).
rootfs_listing() {
  (cd "$1" && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort)
}

# aci_rootfs_listing ACI: the same for the rootfs/ entries of an ACI.
aci_rootfs_listing() {
  local d
  d=$(mktemp -d "$BATS_TEST_TMPDIR/aci-x.XXXXXX")
  tar -xf "$1" -C "$d"
  rootfs_listing "$d/rootfs"
  rm -rf "$d"
}

# ---- list ----

@test "image list shows the legend and one row per image" {
  run_podrun image list
  assert_status 0
  [[ "${lines[0]}" =~ ^ID\ +NAME\ +SIZE\ +SHARED\ +IMPORT\ TIME\ +LAST\ USED$ ]] || fail "bad legend: ${lines[0]}"
  [[ ${#lines[@]} -eq 1 ]] || fail "an empty store lists something"
  fetch_busybox
  local v
  v=$(busybox_version)
  [[ -n "$v" ]]
  run_podrun image list
  assert_status 0
  [[ ${#lines[@]} -eq 2 ]]
  [[ "${lines[0]}" =~ ^ID\ +NAME ]]
  # Short id: sha512- and 12 hex digits, the start of the full id; NAME:VERSION.
  read -r id name _ <<<"${lines[1]}"
  [[ "$id" =~ ^sha512-[0-9a-f]{12}$ ]] || fail "short id \"$id\""
  [[ "$BUSYBOX_ID" == "$id"* ]] || fail "short id is not a prefix of $BUSYBOX_ID"
  [[ "$name" == "$BUSYBOX_NAME:$v" ]] || fail "name \"$name\" is not $BUSYBOX_NAME:$v"
  # Columns line up with the legend.
  local col=${lines[0]%%NAME*}
  [[ "${lines[1]:${#col}:${#BUSYBOX_NAME}}" == "$BUSYBOX_NAME" ]] || fail "NAME column not aligned"
}

@test "image list --no-legend and --full" {
  fetch_busybox
  make_small_aci "$BATS_TEST_TMPDIR/nover.aci" podrun.test/nover
  fetch_ok "$BATS_TEST_TMPDIR/nover.aci"
  local nover_id=$output
  run_podrun image list --no-legend
  assert_status 0
  [[ ${#lines[@]} -eq 2 ]] || fail "expected two rows and no legend"
  [[ "$output" != *"IMPORT TIME"* ]]
  run_podrun image list --no-legend --full
  assert_status 0
  [[ ${#lines[@]} -eq 2 ]]
  local ids names
  ids=$(awk '{ print $1 }' <<<"$output" | LC_ALL=C sort)
  [[ "$ids" == "$(printf '%s\n' "$BUSYBOX_ID" "$nover_id" | LC_ALL=C sort)" ]] || fail "full ids differ"
  # An image without a version label is listed by its bare name.
  names=$(awk '{ print $2 }' <<<"$output" | LC_ALL=C sort)
  grep -qx "podrun.test/nover" <<<"$names" || fail "unversioned image not listed by its bare name"
}

@test "image list --format=json is valid JSON with the image's facts" {
  requires python3
  fetch_busybox
  run_podrun image list --format=json
  assert_status 0
  json_valid <<<"$output"
  [[ ${#lines[@]} -eq 1 ]] || fail "json is not on one line"
  [[ $(json_query 'len(j)' <<<"$output") == 1 ]]
  [[ $(json_query 'j[0]["id"]' <<<"$output") == "$BUSYBOX_ID" ]]
  [[ $(json_query 'j[0]["name"]' <<<"$output") == "$BUSYBOX_NAME" ]]
  [[ $(json_query 'j[0]["version"]' <<<"$output") == "$(busybox_version)" ]]
  [[ $(json_query 'j[0]["os"]' <<<"$output") == linux ]]
  [[ $(json_query 'j[0]["arch"]' <<<"$output") == "$ACI_ARCH" ]]
  # The size is a number at least that of the busybox binary.
  local size bb_size
  size=$(json_query 'j[0]["size"]' <<<"$output")
  bb_size=$(tar -xOf "$BUSYBOX_ACI" rootfs/bin/busybox | wc -c)
  [[ "$size" =~ ^[0-9]+$ ]] && [[ $size -ge $bb_size ]] || fail "size $size < $bb_size"
  # RFC 3339 UTC times, the import within the last ten minutes.
  local t now when
  for t in import_time last_used_time; do
    when=$(json_query "j[0][\"$t\"]" <<<"$output")
    [[ "$when" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]] || fail "$t \"$when\""
    now=$(date +%s)
    [[ $(( now - $(date -d "$when" +%s) )) -lt 600 ]] || fail "$t $when is not recent"
  done
  # An empty store is an empty array.
  rm -rf "$STORE"
  run_podrun image list --format=json
  assert_status 0
  [[ $(json_query 'j' <<<"$output") == "[]" ]]
}

@test "image list --format=json-pretty is the same JSON, indented" {
  requires python3
  fetch_busybox
  run_podrun image list --format=json
  local compact=$output
  run_podrun image list --format=json-pretty
  assert_status 0
  json_valid <<<"$output"
  [[ ${#lines[@]} -gt 5 ]] || fail "json-pretty is not indented"
  [[ "$(json_query 'j' <<<"$output")" == "$(json_query 'j' <<<"$compact")" ]] || fail "json and json-pretty differ"
}

# ---- rm ----

# rm_and_check REF: removes the busybox image by REF and checks it is gone, files too.
# Its layer is extracted into cas/layer/<id> when a pod needs it (prepare here); a
# squashed tree in cas/tree/<id> only for a pathWhitelist: this one is put there by
# `image render` (the same contents) so that rm has one to remove.
rm_and_check() {
  fetch_busybox
  [[ -f "$(blob_path "$BUSYBOX_ID")" ]]
  run_podrun prepare --stage1=fly "$BUSYBOX_ID"
  assert_status 0
  run_podrun rm "$output"
  assert_status 0
  [[ -d "$STORE/cas/layer/$BUSYBOX_ID/rootfs/bin" ]] || fail "prepare did not extract the layer"
  run_podrun image render "$BUSYBOX_ID" "$STORE/cas/tree/$BUSYBOX_ID"
  assert_status 0
  [[ -d "$STORE/cas/tree/$BUSYBOX_ID/rootfs" ]]
  run_podrun image rm "$1"
  assert_status 0
  [[ "$output" == "$BUSYBOX_ID" ]] || fail "rm did not print the removed id"
  [[ ! -e "$(blob_path "$BUSYBOX_ID")" ]] || fail "blob left behind"
  [[ ! -e "$STORE/cas/tree/$BUSYBOX_ID" ]] || fail "tree left behind"
  [[ ! -e "$STORE/cas/layer/$BUSYBOX_ID" ]] || fail "layer left behind"
  ! store_ids | grep -qxF "$BUSYBOX_ID" || fail "image still listed"
  run_podrun image cat-manifest "$BUSYBOX_ID"
  assert_one_line_error
}

@test "image rm by full id removes the blob and the tree" {
  local aci
  aci=$(busybox_aci)
  rm_and_check "$(aci_id "$aci")"
}

@test "image rm by id prefix" {
  local aci id
  aci=$(busybox_aci)
  id=$(aci_id "$aci")
  rm_and_check "${id:0:19}"
}

@test "image rm by name" {
  rm_and_check "$BUSYBOX_NAME"
}

@test "image rm by name:version" {
  rm_and_check "$BUSYBOX_NAME:$(busybox_version)"
}

@test "image rm of an unknown image exits 254 naming it" {
  fetch_busybox
  run_podrun image rm podrun.test/nothing
  assert_one_line_error podrun.test/nothing
  run_podrun image rm "$BUSYBOX_NAME:0.0.0"
  assert_one_line_error "$BUSYBOX_NAME:0.0.0"
  run_podrun image rm sha512-00000000000000
  assert_one_line_error sha512-00000000000000
  # Nothing was removed.
  [[ $(store_ids) == "$BUSYBOX_ID" ]]
}

@test "image rm of an ambiguous id prefix exits 254 and removes nothing" {
  fetch_busybox
  make_small_aci "$BATS_TEST_TMPDIR/other.aci" podrun.test/other 1.0
  fetch_ok "$BATS_TEST_TMPDIR/other.aci"
  run_podrun image rm sha512-
  assert_one_line_error sha512-
  [[ $(store_ids | wc -l) -eq 2 ]] || fail "an image was removed"
  run_podrun image cat-manifest sha512-
  assert_one_line_error sha512-
}

@test "image rm of several images removes the good ones and fails for the bad" {
  fetch_busybox
  make_small_aci "$BATS_TEST_TMPDIR/other.aci" podrun.test/other 1.0
  fetch_ok "$BATS_TEST_TMPDIR/other.aci"
  local other=$output
  run_podrun image rm podrun.test/nothing "$BUSYBOX_NAME" "$other"
  assert_one_line_error podrun.test/nothing
  [[ "$output" == "$BUSYBOX_ID"$'\n'"$other" ]] || fail "removed ids not printed"
  [[ -z "$(store_ids)" ]] || fail "images left"
  assert_store_clean
}

@test "image rm of several unknown images prints one line per image, in order" {
  fetch_busybox
  run_podrun image rm podrun.test/nosuch "$BUSYBOX_NAME" podrun.test/other
  assert_error_lines 2
  [[ ${stderr_lines[0]} == 'podrun: image "podrun.test/nosuch": not found in the store' ]] || fail "first line"
  [[ ${stderr_lines[1]} == 'podrun: image "podrun.test/other": not found in the store' ]] || fail "second line"
  [[ "$output" == "$BUSYBOX_ID" ]] || fail "the image that exists is not removed"
}

@test "a name resolves to its newest import; name:version to that version" {
  make_small_aci "$BATS_TEST_TMPDIR/v1.aci" podrun.test/multi 1.0
  make_small_aci "$BATS_TEST_TMPDIR/v2.aci" podrun.test/multi 2.0
  fetch_ok "$BATS_TEST_TMPDIR/v1.aci"
  local id1=$output
  sleep 1.1 # distinct import times even at second resolution
  fetch_ok "$BATS_TEST_TMPDIR/v2.aci"
  local id2=$output
  [[ "$id1" != "$id2" ]]
  run_podrun image cat-manifest --pretty-print=false podrun.test/multi
  assert_status 0
  [[ "$output" == *'"2.0"'* ]] || fail "the name does not resolve to the newest import"
  run_podrun image cat-manifest --pretty-print=false podrun.test/multi:1.0
  assert_status 0
  [[ "$output" == *'"1.0"'* ]]
  run_podrun image rm podrun.test/multi
  assert_status 0
  [[ "$output" == "$id2" ]]
  [[ $(store_ids) == "$id1" ]]
}

# ---- cat-manifest ----

@test "image cat-manifest prints the manifest of the ACI" {
  requires python3
  fetch_busybox
  local want
  want=$(tar -xOf "$BUSYBOX_ACI" manifest | json_query 'j')
  local ref
  for ref in "$BUSYBOX_ID" "${BUSYBOX_ID:0:20}" "$BUSYBOX_NAME" "$BUSYBOX_NAME:$(busybox_version)"; do
    run_podrun image cat-manifest "$ref"
    assert_status 0
    json_valid <<<"$output"
    [[ $(json_query 'j' <<<"$output") == "$want" ]] || fail "manifest of $ref differs from the ACI's"
  done
  [[ ${#lines[@]} -gt 5 ]] || fail "not pretty-printed by default"
  run_podrun image cat-manifest --pretty-print=false "$BUSYBOX_NAME"
  assert_status 0
  [[ ${#lines[@]} -eq 1 ]] || fail "--pretty-print=false is not one line"
  [[ $(json_query 'j' <<<"$output") == "$want" ]]
  run_podrun image cat-manifest podrun.test/nothing
  assert_one_line_error podrun.test/nothing
}

# ---- export ----

@test "image export writes an ACI whose sha512 is the id" {
  fetch_busybox
  local out=$BATS_TEST_TMPDIR/out.aci
  run_podrun image export "$BUSYBOX_NAME" "$out"
  assert_status 0
  [[ "sha512-$(sha512sum "$out" | cut -d' ' -f1)" == "$BUSYBOX_ID" ]] || fail "export's sha512 is not the id"
  # A compressed import exports the uncompressed ACI.
  rm -rf "$STORE"
  compress_aci "$BUSYBOX_ACI" "$BATS_TEST_TMPDIR/bb.aci.xz" xz
  fetch_ok "$BATS_TEST_TMPDIR/bb.aci.xz"
  run_podrun image export "$output" "$BATS_TEST_TMPDIR/out2.aci"
  assert_status 0
  cmp "$BUSYBOX_ACI" "$BATS_TEST_TMPDIR/out2.aci"
  # Re-importing the export gives the same id.
  rm -rf "$STORE"
  fetch_ok "$out"
  [[ "$output" == "$BUSYBOX_ID" ]]
}

@test "image export refuses an existing file without --overwrite" {
  fetch_busybox
  local out=$BATS_TEST_TMPDIR/out.aci
  echo precious >"$out"
  run_podrun image export "$BUSYBOX_NAME" "$out"
  assert_one_line_error "$out"
  [[ $(cat "$out") == precious ]] || fail "the existing file was changed"
  run_podrun image export --overwrite "$BUSYBOX_NAME" "$out"
  assert_status 0
  cmp "$BUSYBOX_ACI" "$out"
  run_podrun image export podrun.test/nothing "$BATS_TEST_TMPDIR/x.aci"
  assert_one_line_error podrun.test/nothing
  [[ ! -e "$BATS_TEST_TMPDIR/x.aci" ]]
  [[ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name '*tmp*')" ]] || fail "temporary files left"
}

# ---- extract ----

@test "image extract writes manifest and rootfs/" {
  fetch_busybox
  local d=$BATS_TEST_TMPDIR/x
  run_podrun image extract "$BUSYBOX_NAME" "$d"
  assert_status 0
  [[ $(cd "$d" && ls -A | LC_ALL=C sort | tr '\n' ' ') == "manifest rootfs " ]] || fail "not manifest + rootfs"
  cmp "$d/manifest" <(tar -xOf "$BUSYBOX_ACI" manifest)
  [[ $(rootfs_listing "$d/rootfs") == "$(aci_rootfs_listing "$BUSYBOX_ACI")" ]] || fail "rootfs differs from the ACI"
  cmp "$d/rootfs/bin/busybox" <(tar -xOf "$BUSYBOX_ACI" rootfs/bin/busybox)
  [[ $(readlink "$d/rootfs/bin/sh") == busybox ]]
  [[ -x "$d/rootfs/bin/busybox" ]]
  # It runs: the extracted busybox is the real one.
  [[ $("$d/rootfs/bin/busybox" echo works) == works ]]
}

@test "image extract --rootfs-only writes the rootfs contents" {
  fetch_busybox
  local d=$BATS_TEST_TMPDIR/x
  run_podrun image extract --rootfs-only "$BUSYBOX_ID" "$d"
  assert_status 0
  [[ ! -e "$d/manifest" && ! -e "$d/rootfs" ]]
  [[ $(rootfs_listing "$d") == "$(aci_rootfs_listing "$BUSYBOX_ACI")" ]] || fail "contents differ from the ACI's rootfs"
}

@test "image extract refuses a non-empty directory without --overwrite" {
  fetch_busybox
  local d=$BATS_TEST_TMPDIR/x
  mkdir -p "$d"
  # An existing empty directory is fine.
  run_podrun image extract "$BUSYBOX_NAME" "$d"
  assert_status 0
  echo mine >"$d/mine"
  run_podrun image extract "$BUSYBOX_NAME" "$d"
  assert_one_line_error "$d"
  [[ $(cat "$d/mine") == mine ]]
  run_podrun image extract --overwrite --rootfs-only "$BUSYBOX_NAME" "$d"
  assert_status 0
  [[ $(rootfs_listing "$d") == "$(aci_rootfs_listing "$BUSYBOX_ACI")" ]] || fail "--overwrite did not replace the contents"
  [[ ! -e "$d/mine" ]]
  run_podrun image extract podrun.test/nothing "$BATS_TEST_TMPDIR/y"
  assert_one_line_error podrun.test/nothing
  [[ ! -e "$BATS_TEST_TMPDIR/y" ]]
}

# ---- render ----

# make_app_aci OUT: an image that depends on busybox by name, adds etc/app.conf and
# bin/hello, overrides etc/passwd, and whitelists a few paths.
make_app_aci() {
  local root=$BATS_TEST_TMPDIR/app-root
  mkdir -p "$root/etc" "$root/bin"
  echo "app config" >"$root/etc/app.conf"
  echo "not whitelisted" >"$root/etc/junk"
  printf '#!/bin/sh\necho hello from app\n' >"$root/bin/hello"
  chmod 0755 "$root/bin/hello"
  echo 'app:x:1000:1000::/:/bin/sh' >"$root/etc/passwd"
  make_aci "$1" "$(aci_manifest podrun.test/app 1.0 "\"dependencies\": [{\"imageName\": \"$BUSYBOX_NAME\"}],
  \"pathWhitelist\": [\"/bin/busybox\", \"/bin/sh\", \"/bin/hello\", \"/etc/app.conf\", \"/etc/passwd\"]")" "$root"
}

@test "image render layers the dependency under the image and applies pathWhitelist" {
  fetch_busybox
  make_app_aci "$BATS_TEST_TMPDIR/app.aci"
  fetch_ok "$BATS_TEST_TMPDIR/app.aci"
  local app_id=$output d=$BATS_TEST_TMPDIR/r
  run_podrun image render podrun.test/app "$d"
  assert_status 0
  [[ -f "$d/manifest" ]]
  # The image's own files, over the dependency's.
  [[ $(cat "$d/rootfs/etc/app.conf") == "app config" ]]
  [[ $(cat "$d/rootfs/etc/passwd") == 'app:x:1000:1000::/:/bin/sh' ]] || fail "the image does not override its dependency"
  [[ -x "$d/rootfs/bin/hello" ]]
  # The dependency's whitelisted files.
  cmp "$d/rootfs/bin/busybox" <(tar -xOf "$BUSYBOX_ACI" rootfs/bin/busybox)
  [[ $(readlink "$d/rootfs/bin/sh") == busybox ]]
  # What the whitelist leaves out, from both layers.
  local p
  for p in bin/cat bin/ls bin/echo etc/group etc/junk; do
    [[ ! -e "$d/rootfs/$p" && ! -L "$d/rootfs/$p" ]] || fail "$p is not in pathWhitelist but was rendered"
  done
  # The rendered files are exactly the whitelist.
  [[ $(cd "$d/rootfs" && find . ! -type d -printf '/%P\n' | LC_ALL=C sort | tr '\n' ' ') == \
    "/bin/busybox /bin/hello /bin/sh /etc/app.conf /etc/passwd " ]] || fail "rendered files differ from the whitelist"
  # --rootfs-only gives the same tree without the manifest.
  run_podrun image render --rootfs-only "$app_id" "$BATS_TEST_TMPDIR/r2"
  assert_status 0
  [[ $(rootfs_listing "$BATS_TEST_TMPDIR/r2") == "$(rootfs_listing "$d/rootfs")" ]]
  # extract, by contrast, gives the image alone.
  run_podrun image extract --rootfs-only podrun.test/app "$BATS_TEST_TMPDIR/x"
  assert_status 0
  [[ ! -e "$BATS_TEST_TMPDIR/x/bin/busybox" ]] || fail "extract layered the dependency"
  [[ -f "$BATS_TEST_TMPDIR/x/etc/junk" ]] || fail "extract applied the whitelist"
}

@test "image render without a whitelist keeps every file of both layers" {
  fetch_busybox
  local root=$BATS_TEST_TMPDIR/app-root
  mkdir -p "$root/etc"
  echo extra >"$root/etc/extra"
  make_aci "$BATS_TEST_TMPDIR/app.aci" \
    "$(aci_manifest podrun.test/app2 1.0 "\"dependencies\": [{\"imageName\": \"$BUSYBOX_NAME\"}]")" "$root"
  fetch_ok "$BATS_TEST_TMPDIR/app.aci"
  run_podrun image render --rootfs-only podrun.test/app2 "$BATS_TEST_TMPDIR/r"
  assert_status 0
  local want
  want=$( (aci_rootfs_listing "$BUSYBOX_ACI"; echo "etc/extra f") | LC_ALL=C sort)
  [[ $(rootfs_listing "$BATS_TEST_TMPDIR/r") == "$want" ]] || fail "render is not busybox + etc/extra"
}

@test "image render of an image whose dependency is missing exits 254 naming it" {
  make_app_aci "$BATS_TEST_TMPDIR/app.aci"
  fetch_ok "$BATS_TEST_TMPDIR/app.aci"
  run_podrun image render podrun.test/app "$BATS_TEST_TMPDIR/r"
  assert_one_line_error "$BUSYBOX_NAME"
  [[ ! -e "$BATS_TEST_TMPDIR/r" ]] || [[ -z "$(ls -A "$BATS_TEST_TMPDIR/r")" ]] || fail "a partial render was left"
  # Once the dependency is fetched, it renders.
  fetch_busybox
  run_podrun image render podrun.test/app "$BATS_TEST_TMPDIR/r"
  assert_status 0
  [[ -f "$BATS_TEST_TMPDIR/r/rootfs/etc/app.conf" ]]
}

# kill_blocked_render GLOB ARGS…: runs `podrun ARGS…` with the busybox blob replaced
# by a FIFO, so that its render blocks opening the blob, its temporary directory made;
# once one more name matches GLOB, kills it (SIGKILL) and puts the blob back.
kill_blocked_render() {
  local glob=$1 blob pid before
  shift
  blob=$(blob_path "$BUSYBOX_ID")
  before=$(compgen -G "$glob" | wc -l)
  mv "$blob" "$blob.saved"
  mkfifo "$blob"
  "$PODRUN" --dir="$STORE" "$@" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    [[ $(compgen -G "$glob" | wc -l) -gt $before ]] && break
    sleep 0.05
  done
  kill -9 "$pid"
  wait "$pid" || true
  rm "$blob"
  mv "$blob.saved" "$blob"
  [[ $(compgen -G "$glob" | wc -l) -gt $before ]] || fail "podrun $* made no temporary directory $glob"
}

@test "image render: a killed render leaves a directory of an unguessable name, which the next render of that DIR removes; image gc removes a killed pod's" {
  fetch_busybox
  local out=$BATS_TEST_TMPDIR/out left
  mkdir "$out"
  kill_blocked_render "$out/.*tmp-*" image render "$BUSYBOX_ID" "$out/r1"
  kill_blocked_render "$out/.*tmp-*" image render "$BUSYBOX_ID" "$out/r2"
  mapfile -t left < <(cd "$out" && compgen -G ".*tmp-*")
  echo "left: ${left[*]}"
  [[ ${#left[@]} -eq 2 ]] || fail "expected two leftovers"
  [[ ${left[0]##*-} != "${left[1]##*-}" ]] || fail "two processes chose the same random name"
  run_podrun image render "$BUSYBOX_ID" "$out/r1"
  assert_status 0
  [[ $(cd "$out" && compgen -G ".*tmp-*" | wc -l) -eq 1 ]] || fail "the render of r1 did not remove its leftover alone"
  run_podrun image render "$BUSYBOX_ID" "$out/r2"
  assert_status 0
  [[ -z $(cd "$out" && compgen -G ".*tmp-*") ]] || fail "left: $(ls -A "$out")"
  [[ $(ls "$out") == "r1"$'\n'"r2" ]]
  # a pod's extraction of a layer into the store, killed: image gc removes what it left
  kill_blocked_render "$STORE/cas/layer/.tmp-*" prepare --stage1=fly "$BUSYBOX_ID"
  run_podrun image gc
  assert_status 0
  [[ -z $(leftovers) ]] || fail "image gc left: $(leftovers)"
}

# ---- gc ----

@test "image gc --grace-period=0s removes unused images" {
  fetch_busybox
  make_small_aci "$BATS_TEST_TMPDIR/other.aci" podrun.test/other 1.0
  fetch_ok "$BATS_TEST_TMPDIR/other.aci"
  local other=$output
  # The default grace period (24h) keeps fresh images.
  run_podrun image gc
  assert_status 0
  [[ $(store_ids | wc -l) -eq 2 ]] || fail "default gc removed a fresh image"
  run_podrun image gc --grace-period=1h30m
  assert_status 0
  [[ $(store_ids | wc -l) -eq 2 ]]
  run_podrun image gc --grace-period=0s
  assert_status 0
  assert_output_contains "$BUSYBOX_ID"
  assert_output_contains "$other"
  [[ -z "$(store_ids)" ]] || fail "images left after gc"
  [[ ! -e "$(blob_path "$BUSYBOX_ID")" && ! -e "$STORE/cas/tree/$BUSYBOX_ID" ]]
  assert_store_clean
}

@test "image gc removes leftovers and keeps complete images" {
  fetch_busybox
  local hex=${BUSYBOX_ID#sha512-} stray
  stray=$(head -c 64 /dev/urandom | sha512sum | cut -d' ' -f1)
  # Planted: a temporary tree, a stray blob without an index row, temporary blobs,
  # and a tree without an index row.
  mkdir -p "$STORE/cas/tree/.tmp-12345/rootfs/bin"
  echo x >"$STORE/cas/tree/.tmp-12345/rootfs/bin/x"
  mkdir -p "$STORE/cas/blob/sha512/${stray:0:2}"
  head -c 1000 /dev/urandom >"$STORE/cas/blob/sha512/${stray:0:2}/$stray"
  echo partial >"$STORE/cas/blob/sha512/.tmp-999-abc"
  echo partial >"$STORE/cas/blob/sha512/${hex:0:2}/$hex.tmp-999"
  mkdir -p "$STORE/cas/tree/sha512-$stray/rootfs"
  # and a layer of no image, a killed layer extraction, a killed download
  mkdir -p "$STORE/cas/layer/sha512-$stray/rootfs" "$STORE/cas/layer/.tmp-54321/rootfs"
  echo partial >"$STORE/cas/blob/partial/sha256-${stray:0:64}"
  run_podrun image gc
  assert_status 0
  [[ ! -e "$STORE/cas/layer/sha512-$stray" ]] || fail "layer without index row kept"
  [[ ! -e "$STORE/cas/layer/.tmp-54321" ]] || fail "temporary layer kept"
  [[ ! -e "$STORE/cas/blob/partial/sha256-${stray:0:64}" ]] || fail "partial download kept"
  [[ ! -e "$STORE/cas/tree/.tmp-12345" ]] || fail "temporary tree kept"
  [[ ! -e "$STORE/cas/blob/sha512/${stray:0:2}/$stray" ]] || fail "stray blob kept"
  [[ ! -e "$STORE/cas/blob/sha512/.tmp-999-abc" ]] || fail "temporary blob kept"
  [[ ! -e "$STORE/cas/blob/sha512/${hex:0:2}/$hex.tmp-999" ]] || fail "temporary blob in fan-out dir kept"
  [[ ! -e "$STORE/cas/tree/sha512-$stray" ]] || fail "tree without index row kept"
  # The complete image is intact and usable.
  [[ $(store_ids) == "$BUSYBOX_ID" ]]
  cmp "$BUSYBOX_ACI" "$(blob_path "$BUSYBOX_ID")"
  assert_store_clean
  run_podrun image render --rootfs-only "$BUSYBOX_NAME" "$BATS_TEST_TMPDIR/r"
  assert_status 0
  [[ -x "$BATS_TEST_TMPDIR/r/bin/busybox" ]]
}

@test "image gc on an empty or missing store succeeds" {
  run_podrun image gc --grace-period=0s
  assert_status 0
  fetch_busybox
  run_podrun image rm "$BUSYBOX_ID"
  run_podrun image gc --grace-period=0s
  assert_status 0
  assert_store_clean
}

@test "image render into a full filesystem: one line naming the entry, nothing left, the store intact" {
  # 300 small files: the writing thread takes them from its queue in batches, and the
  # first write that fails there must be the render's error
  local src=$BATS_TEST_TMPDIR/small full=$BATS_TEST_TMPDIR/full
  mkdir -p "$src/rootfs/data" "$full"
  printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"podrun.test/small-files"}' >"$src/manifest"
  for i in $(seq 300); do head -c 8192 /dev/urandom >"$src/rootfs/data/f$i"; done
  (cd "$src" && bsdtar --format=pax -cf "$BATS_TEST_TMPDIR/small.aci" manifest rootfs)
  run_podrun --insecure-options=image fetch "$BATS_TEST_TMPDIR/small.aci"
  assert_status 0
  local id=$output
  mount -t tmpfs -o size=512k tmpfs "$full"
  run_podrun image render --rootfs-only "$id" "$full/t"
  local left
  left=$(find "$full" -mindepth 1 | head -n 3)
  umount "$full"
  assert_one_line_error 'entry "data/f' 'No space left on device'
  [[ -z $left ]] || fail "left behind: $left"
  run_podrun image render --rootfs-only "$id" "$BATS_TEST_TMPDIR/r"
  assert_status 0
  [[ $(find "$BATS_TEST_TMPDIR/r/data" -type f | wc -l) == 300 ]] || fail "a later render is not whole"
  cmp "$src/rootfs/data/f300" "$BATS_TEST_TMPDIR/r/data/f300"
}
