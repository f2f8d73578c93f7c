#!/usr/bin/env bats
# A corpus of hostile ACIs (build/tests/mkhostile), one per attack: each must be
# refused by `podrun fetch` with one line naming the file and the reason, and must
# leave nothing behind: no blob, no tree, no index row, nothing outside the store.

load helpers

setup_file() {
  CORPUS=$BATS_FILE_TMPDIR/corpus
  "$BUILD/tests/mkhostile" "$CORPUS"
  export CORPUS
}

teardown() {
  rm -f /tmp/podrun-hostile-evil
  teardown_pods
}

# refused FILE REASON: fetch fails with 254, one "podrun: " line naming FILE and
# containing REASON, and the store and /tmp hold nothing of it.
refused() {
  local file=$1 reason=$2
  run_podrun --insecure-options=image fetch "$CORPUS/$file.aci"
  assert_status 254
  [[ -z "$output" ]] || fail "stdout should be empty"
  assert_one_line_error
  assert_stderr_contains "$file.aci"
  assert_stderr_contains "$reason"
  log_run "$PODRUN" --dir="$STORE" image list --no-legend
  [[ -z "$output" ]] || fail "an image was indexed"
  local left
  left=$(find "$STORE/cas/blob" "$STORE/cas/tree" "$STORE/cas/layer" -mindepth 1 -not -type d)
  [[ -z "$left" ]] || fail "left behind: $left"
  [[ ! -e /tmp/podrun-hostile-evil && ! -e "$BATS_TEST_TMPDIR/evil" ]] || fail "wrote outside the store"
}

@test "hostile: absolute path" { refused abs-path "absolute path"; }
@test "hostile: .. in a path" { refused dotdot 'leaves the image'; }
@test "hostile: .. inside a path" { refused dotdot-inner 'leaves the image'; }
@test "hostile: entry outside rootfs/" { refused outside-rootfs "only manifest and rootfs"; }
@test "hostile: rootfs itself a symlink to the host's /" { refused rootfs-symlink '"rootfs": not a directory'; }
@test "hostile: symlink climbing out of the rootfs" { refused symlink-escape "symlink target"; }
@test "hostile: writing through a symlink the archive planted" { refused symlink-write-through "written through the symlink"; }
@test "hostile: hardlink with .. to a host file" { refused hardlink-escape "leaves the image"; }
@test "hostile: hardlink to an absolute host path" { refused hardlink-absolute "absolute path"; }
@test "hostile: hardlink to a symlink" { refused hardlink-to-symlink "not a file earlier in the image"; }
@test "hostile: character device" { refused device-char "device nodes"; }
@test "hostile: block device" { refused device-block "device nodes"; }
@test "hostile: setuid file" { refused setuid "setuid"; }
@test "hostile: setgid file" { refused setgid "setgid"; }
@test "hostile: entry declaring 1 TiB" { refused huge-entry "larger than"; }
@test "hostile: path over 4096 bytes" { refused long-path "longer than 4096"; }
@test "hostile: path component over 255 bytes" { refused long-component "longer than 255"; }
@test "hostile: duplicate entry" { refused duplicate "appears twice"; }
@test "hostile: no manifest" { refused no-manifest "no manifest"; }
@test "hostile: two manifests" { refused two-manifests "appears twice"; }
@test "hostile: manifest over 1 MiB" { refused manifest-huge "larger than 1048576"; }
@test "hostile: manifest that is a symlink" { refused manifest-symlink "not a regular file"; }
@test "hostile: truncated gzip" { refused truncated-gzip "truncated gzip"; }
@test "hostile: corrupt xz" { refused corrupt-xz "Corrupted input"; }
@test "hostile: not an archive at all" { refused not-an-archive "Unrecognized archive format"; }

@test "hostile: every file of the corpus has a test" {
  local n
  n=$(find "$CORPUS" -name '*.aci' | wc -l)
  [[ $n -eq 25 ]] || fail "corpus has $n files, this suite tests 25"
}
