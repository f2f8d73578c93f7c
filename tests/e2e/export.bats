#!/usr/bin/env bats
# podrun export: an exited pod's app as a new ACI, with every change the app made.

load helpers

setup() {
  requires root
  [[ -f "$BUILD/stage1-fly.aci" ]] || fail "build stage1-fly first (make all)"
  fetch_busybox
}

# run_changes: a fly pod whose app adds a file, a hardlink to it, and deletes one;
# its UUID is left in $BATS_TEST_TMPDIR/uuid.
run_changes() {
  run_podrun run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$BUSYBOX_NAME" \
    --exec=/bin/sh -- -c 'echo made-by-app >/made; mkdir /x; ln /made /x/hard; rm /bin/cat; exit 5' ---
  assert_status 5
}

@test "export: the exited app's rootfs with its changes, as an ACI actool accepts and podrun runs" {
  run_changes
  run_podrun export --uuid-file="$BATS_TEST_TMPDIR/uuid" "$BATS_TEST_TMPDIR/out.aci"
  assert_status 0
  [[ -z "$output" ]]
  log_run tar -tvf "$BATS_TEST_TMPDIR/out.aci"
  [[ "${lines[0]}" == *" manifest" ]] || fail "manifest is not the first entry"
  assert_output_contains " rootfs/made"
  assert_output_contains "rootfs/x/hard link to rootfs/made"
  [[ "$output" != *" rootfs/bin/cat"* ]] || fail "the file the app removed is still there"
  [[ "$output" == *" rootfs/bin/sh"* ]] || fail "the image's own files are missing"
  [[ $(grep -c ' rootfs/$' <<<"$output") -eq 1 ]]
  [[ "$output" == *"drwxr-xr-x"*" rootfs/"* ]] || fail "rootfs/ lost the image's mode"
  log_run actool validate "$BATS_TEST_TMPDIR/out.aci"
  assert_status 0

  # as an image of its own: same name, newest import wins
  fetch_ok "$BATS_TEST_TMPDIR/out.aci"
  local id=$output
  [[ "$id" == "$(aci_id "$BATS_TEST_TMPDIR/out.aci")" ]]
  [[ "$id" != "$BUSYBOX_ID" ]]
  run_podrun run --stage1=fly "$id" --exec=/bin/sh -- -c 'cat /x/hard; test ! -e /bin/cat' ---
  assert_status 0
  [[ "$output" == made-by-app ]]
  ! grep -q "$STORE" /proc/self/mountinfo || fail "a mount of the store is left"
}

@test "export: an untouched read-only rootfs exports the image's files; the manifest loses dependencies" {
  local root=$BATS_TEST_TMPDIR/dep
  mkdir -p "$root/etc"
  echo top >"$root/etc/top"
  make_aci "$BATS_TEST_TMPDIR/top.aci" "$(aci_manifest podrun.test/top 1 \
    "\"app\": {\"exec\": [\"/bin/true\"], \"user\": \"0\", \"group\": \"0\"},
  \"dependencies\": [{\"imageName\": \"$BUSYBOX_NAME\"}]")" "$root"
  fetch_ok "$BATS_TEST_TMPDIR/top.aci"
  run_podrun run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/top --readonly-rootfs
  assert_status 0
  run_podrun export --uuid-file="$BATS_TEST_TMPDIR/uuid" "$BATS_TEST_TMPDIR/flat.aci"
  assert_status 0
  log_run tar -xOf "$BATS_TEST_TMPDIR/flat.aci" manifest
  json_valid <<<"$output"
  [[ $(json_query 'j["name"]' <<<"$output") == podrun.test/top ]]
  [[ $(json_query '"dependencies" in j' <<<"$output") == False || \
     $(json_query '"dependencies" in j' <<<"$output") == false ]]
  log_run tar -tf "$BATS_TEST_TMPDIR/flat.aci"
  assert_output_contains "rootfs/etc/top"
  assert_output_contains "rootfs/bin/busybox" # flattened: the dependency's files are in
}

@test "export: refuses a running pod, an existing output, an unknown app and a missing pod" {
  run_changes
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  echo keep >"$BATS_TEST_TMPDIR/exists.aci"
  run_podrun export "$uuid" "$BATS_TEST_TMPDIR/exists.aci"
  assert_one_line_error "exists.aci" "--overwrite"
  [[ $(cat "$BATS_TEST_TMPDIR/exists.aci") == keep ]]
  run_podrun export --overwrite "$uuid" "$BATS_TEST_TMPDIR/exists.aci"
  assert_status 0
  log_run actool validate "$BATS_TEST_TMPDIR/exists.aci"
  assert_status 0

  run_podrun export --app=nosuch "$uuid" "$BATS_TEST_TMPDIR/x.aci"
  assert_one_line_error 'no app "nosuch"'
  run_podrun export 00000000-0000-0000-0000-000000000000 "$BATS_TEST_TMPDIR/x.aci"
  assert_status 254
  run_podrun export "$BATS_TEST_TMPDIR/x.aci"
  assert_one_line_error "give the pod"
  [[ ! -e "$BATS_TEST_TMPDIR/x.aci" ]]

  "$PODRUN" --dir="$STORE" run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/running" "$BUSYBOX_NAME" \
    --exec=/bin/sleep -- 30 &
  local running=
  running=$(wait_pod_file "$BATS_TEST_TMPDIR/running" pid)
  run_podrun export "$running" "$BATS_TEST_TMPDIR/x.aci"
  assert_one_line_error "running" "only an exited pod"
  run_podrun stop --force "$running"
  wait || true
  [[ ! -e "$BATS_TEST_TMPDIR/x.aci" ]]
  [[ -z $(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name '*.tmp-*') ]] || fail "a temporary output was left"
}

@test "export: a collected pod is gone, and its export fails without leaving a file" {
  run_changes
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
  run_podrun export "$uuid" "$BATS_TEST_TMPDIR/gone.aci"
  assert_status 254
  [[ ! -e "$BATS_TEST_TMPDIR/gone.aci" ]]
}
