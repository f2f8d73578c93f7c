#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# podrun fetch/run of docker:// images against real registries started here
# (registry.bash: Debian's docker-registry with TLS, htpasswd and token auth; images
# built with umoci, pushed with skopeo) and against the hostile registry of the tests'
# own (tests/tools/hostile-registry.py). Every podrun runs with --local-config=$CONF,
# a directory made per test: registries.json (defaultRegistry), certs.d/, auth.d/.

load helpers
load registry

# The images of the file, built and pushed once (setup_file):
#   $REGISTRY/test/busybox:1       OCI; User app (1000:1000 in its /etc/passwd),
#                                  WorkingDir /work, Env FOO=bar, a port and a volume,
#                                  /work/owned (1000:1000, 0600), a setuid /bin/suid-test
#   $REGISTRY/test/busybox-v2s2:1  the same image as Docker schema2
#   $REGISTRY/library/busybox:1    the same layers, another config (a label), for
#                                  short names (defaultRegistry)
#   $REGISTRY/test/uid:1           the same layers, User 1000:50
#   $REGISTRY/test/wh:1            busybox + a layer removing /etc/gone + an opaque /work
#   $REGISTRY/test/a:1, test/b:1   busybox + one layer each (a shared base)
#   $REGISTRY/test/list:1          an index: linux/$OCI_ARCH, $LIST_OTHER_ARCH, $LIST_THIRD_ARCH
#   $TLS_REGISTRY/test/busybox:1   over TLS, CA $TLS_CA
#   $AUTH_REGISTRY/test/busybox:1  htpasswd ($AUTH_USER:$AUTH_PASS)
#   $TOKEN_REGISTRY/test/busybox:1 Bearer tokens for $TOKEN_USER:$TOKEN_PASS only
#   $ANON_REGISTRY/test/busybox:1  Bearer tokens, anonymous ones too
REPORT='echo "uid=$(id -u) gid=$(id -g) pwd=$(pwd) foo=$FOO owned=$(cat /work/owned)"'

setup_file() {
  command -v docker-registry >/dev/null || return 0
  command -v skopeo >/dev/null || return 0
  command -v umoci >/dev/null || return 0
  [[ -x /bin/busybox ]] || return 0
  local l=$BATS_FILE_TMPDIR/layout
  LAYOUT=$l
  oci_image_busybox --config.user=app --config.workingdir=/work --config.env=FOO=bar \
    --config.cmd="$REPORT" --config.exposedports=8080/tcp --config.volume=/data \
    --config.label=org.podrun.test=yes "$l" bb \
    txt:/work/owned:mine chown:/work/owned:1000:1000 chmod:/work/owned:0600 \
    txt:/bin/suid-test:x chmod:/bin/suid-test:4755
  oci_image_tag "$l" bb uid
  oci_image_tag "$l" bb lib
  oci_image_config "$l" lib --config.label=org.podrun.test.library=yes
  oci_image_config "$l" uid --config.user=1000:50
  oci_image_busybox --config.cmd='echo "work=$(ls /work | tr "\n" ,) gone=$(test -e /etc/gone && echo yes || echo no)"' \
    "$l" wh txt:/work/old:old txt:/etc/gone:gone
  oci_image_remove "$l" wh /etc/gone
  oci_image_opaque "$l" wh /work txt:/new:new
  oci_image_busybox "$l" base
  oci_image_tag "$l" base a
  oci_image_tag "$l" base b
  oci_image_tag "$l" base a2
  oci_image_add_layer "$l" a rand:/etc/a:200000
  oci_image_add_layer "$l" b rand:/etc/b:200000
  oci_image_add_layer "$l" a2 rand:/etc/a:300000
  export LAYOUT

  local who
  for who in TLS AUTH TOKEN ANON PLAIN; do
    case $who in
      TLS) registry_start --tls ;;
      AUTH) registry_start --htpasswd=podrun-user:Zq8-secret-w0rd ;;
      TOKEN) registry_start --token --htpasswd=token-user:Tk9-secret-w0rd ;;
      ANON) registry_start --token ;;
      PLAIN) registry_start ;;
    esac
    [[ $who == PLAIN ]] || image_push "oci:$l:bb" "$REGISTRY/test/busybox:1"
    eval "${who}_REGISTRY=\$REGISTRY ${who}_DIR=\$REGISTRY_DIR ${who}_CA=\$REGISTRY_CA ${who}_USER=\$REGISTRY_USER ${who}_PASS=\$REGISTRY_PASS"
    export "${who}_REGISTRY" "${who}_DIR" "${who}_CA" "${who}_USER" "${who}_PASS"
  done
  image_push "oci:$l:bb" "$REGISTRY/test/busybox:1"
  image_push "oci:$l:bb" "$REGISTRY/test/busybox-v2s2:1" --format v2s2
  image_push "oci:$l:lib" "$REGISTRY/library/busybox:1"
  image_push "oci:$l:uid" "$REGISTRY/test/uid:1"
  image_push "oci:$l:wh" "$REGISTRY/test/wh:1"
  image_push "oci:$l:a" "$REGISTRY/test/a:1"
  image_push "oci:$l:b" "$REGISTRY/test/b:1"
  manifest_list_push test/list:1
  hostile_start
}

teardown_file() {
  registry_stop_all
}

setup() {
  requires registry python3
  command -v skopeo >/dev/null || skip "needs skopeo (package skopeo)"
  command -v umoci >/dev/null || skip "needs umoci (package umoci)"
  [[ -x /bin/busybox ]] || skip "needs /bin/busybox (package busybox-static)"
  [[ -n ${PLAIN_REGISTRY:-} ]] || fail "setup_file did not start the registries"
  make_conf "$PLAIN_REGISTRY"
  rm -rf /tmp/podrun-docker-evil /tmp/podrun-docker-victim
  mkdir -p /tmp/podrun-docker-victim
  echo victim >/tmp/podrun-docker-victim/victim
  PASSWD_SUM=$(sha256sum /etc/passwd)
}

teardown() {
  teardown_pods
  registry_stop_all
  rm -rf /tmp/podrun-docker-evil /tmp/podrun-docker-victim
}

# make_conf DEFAULT_REGISTRY: CONF (local config: registries.json, certs.d/, auth.d/)
# and SYSCONF (an empty system config) for this test.
make_conf() {
  CONF=$BATS_TEST_TMPDIR/conf
  SYSCONF=$BATS_TEST_TMPDIR/sysconf
  mkdir -p "$CONF/certs.d" "$CONF/auth.d" "$SYSCONF"
  printf '{"defaultRegistry": "%s"}\n' "$1" >"$CONF/registries.json"
}

# dk ARGS…: run_podrun with this test's configuration directories.
dk() {
  run_podrun --local-config="$CONF" --system-config="$SYSCONF" "$@"
}

# dfetch REF… [FETCH-FLAGS]: fetch with --insecure-options=$INSECURE (image,http).
dfetch() {
  dk --insecure-options="${INSECURE:-image,http}" fetch "$@"
}

# fetch_killed_after SECONDS REF: a fetch of REF into $STORE, killed (SIGKILL) after
# SECONDS; waits for it.
fetch_killed_after() {
  local pid
  "$PODRUN" --dir="$STORE" --local-config="$CONF" --system-config="$SYSCONF" --insecure-options=image,http \
    fetch "$2" >/dev/null 2>&1 &
  pid=$!
  sleep "$1"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# fetched_id REF [FLAGS…]: fetches, asserts one line of stdout, an image id
# sha256-HEX; leaves it in $ID.
fetched_id() {
  dfetch "$@"
  assert_status 0 || return 1
  [[ ${#lines[@]} -eq 1 ]] || fail "fetch printed ${#lines[@]} lines" || return 1
  [[ $output =~ ^sha256-[0-9a-f]{64}$ ]] || fail "not an image id: $output" || return 1
  ID=$output
}

# auth_d NAME REGISTRY USER PASS: an rkt-style credentials file in $CONF/auth.d.
auth_d() {
  cat >"$CONF/auth.d/$1.json" <<EOF
{"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["$2"],
 "credentials": {"user": "$3", "password": "$4"}}
EOF
}

# authfile FILE REGISTRY USER PASS: a containers-style auth.json.
authfile() {
  printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$2" "$(printf '%s:%s' "$3" "$4" | base64 -w0)" >"$1"
}

# secret_nowhere SECRET…: no SECRET (nor its base64 with the user) in podrun's last
# stdout and stderr, in the store (pods included) or in the test's directory but $CONF.
secret_nowhere() {
  local s
  for s in "$@"; do
    [[ $output != *"$s"* && ${stderr:-} != *"$s"* ]] || fail "podrun printed a secret" || return 1
    ! grep -r -l -F -e "$s" "$STORE" 2>/dev/null || fail "a secret is in the store" || return 1
    ! grep -r -l -F -e "$s" --exclude-dir=conf --exclude=authfile.json "$BATS_TEST_TMPDIR" 2>/dev/null ||
      fail "a secret is written in the test's directory" || return 1
  done
}

# assert_listed ID NAME:VERSION: the store lists one image, ID, as NAME:VERSION.
assert_listed() {
  local id name
  run_podrun image list --no-legend --full
  assert_status 0 || return 1
  [[ ${#lines[@]} -eq 1 ]] || fail "expected one image listed" || return 1
  read -r id name _ <<<"${lines[0]}"
  [[ $id == "$1" && $name == "$2" ]] || fail "listed as $id $name, not $1 $2"
}

# sha256_blobs: the number of files under cas/blob/sha256.
sha256_blobs() {
  find "$STORE/cas/blob/sha256" -type f 2>/dev/null | wc -l
}

# layer_trees: the layer trees, cas/layer/<alg>-<hex>, one per line.
layer_trees() {
  find "$STORE/cas/layer" -mindepth 1 -maxdepth 1 2>/dev/null | sed 's@.*/@@' | LC_ALL=C sort
}

# layer_tree DIGEST: the path of a layer's tree (sha256:HEX -> cas/layer/sha256-HEX).
layer_tree() {
  echo "$STORE/cas/layer/${1/:/-}"
}

# index_rows: rows of the index's layer tables (layers, image_layers, refs), summed.
index_rows() {
  [[ -f $STORE/cas/index.db ]] || { echo 0; return 0; }
  python3 - "$STORE/cas/index.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
names = {r[0] for r in db.execute("select name from sqlite_master where type = 'table'")}
print(sum(db.execute("select count(*) from %s" % t).fetchone()[0] for t in ("layers", "image_layers", "refs") if t in names))
PY
}

# assert_nothing_kept: the store holds nothing of a refused fetch: no blob (partial
# included), no layer tree, no temporary file, no image listed, no index row.
assert_nothing_kept() {
  local left
  left=$(find "$STORE/cas/blob" "$STORE/cas/layer" -mindepth 1 -not -type d 2>/dev/null)
  [[ -z $left ]] || fail "left in the store: $left" || return 1
  [[ -z $(layer_trees) ]] || fail "layer trees left: $(layer_trees)" || return 1
  [[ -z $(leftovers) ]] || fail "temporary files left: $(leftovers)" || return 1
  log_run "$PODRUN" --dir="$STORE" image list --no-legend
  [[ $status -eq 0 && -z $output ]] || fail "an image is listed" || return 1
  [[ $(index_rows) -eq 0 ]] || fail "the index has $(index_rows) layer/ref rows" || return 1
}

# assert_nothing_outside: no file written, removed or marked outside the store.
assert_nothing_outside() {
  [[ ! -e /tmp/podrun-docker-evil && ! -L /tmp/podrun-docker-evil ]] || fail "/tmp/podrun-docker-evil was written" || return 1
  [[ -z $(find "$BATS_TEST_TMPDIR" -name podrun-docker-evil -not -path "$STORE/cas/layer/*" 2>/dev/null) ]] ||
    fail "podrun-docker-evil written outside the layer trees" || return 1
  [[ $(cat /tmp/podrun-docker-victim/victim 2>/dev/null) == victim ]] || fail "the victim file was removed" || return 1
  [[ $(ls -A /tmp/podrun-docker-victim) == victim ]] || fail "something was added to the victim dir" || return 1
  [[ -z $(python3 -c 'import os, sys; print(" ".join(os.listxattr(sys.argv[1])))' /tmp/podrun-docker-victim) ]] ||
    fail "the victim dir got xattrs" || return 1
  [[ $(sha256sum /etc/passwd) == "$PASSWD_SUM" ]] || fail "/etc/passwd changed" || return 1
}

# hostile_fetch SCENARIO [ENV=VALUE…]: fetch docker://$HOSTILE/SCENARIO/image:1 under
# `timeout 60`, into $output/$stderr; ELAPSED = the seconds it took.
hostile_fetch() {
  local s=$1 start
  shift
  hostile_good_first || return 1
  start=$SECONDS
  run --separate-stderr env "$@" timeout 60 "$PODRUN" --dir="$STORE" --local-config="$CONF" \
    --system-config="$SYSCONF" --insecure-options=image,http fetch "docker://$HOSTILE/$s/image:1"
  ELAPSED=$((SECONDS - start))
  echo "\$ podrun fetch docker://$HOSTILE/$s/image:1 (status=$status, ${ELAPSED}s)"
  [[ -z "$output" ]] || printf '%s\n' "$output" | sed 's/^/  stdout: /'
  [[ -z "$stderr" ]] || printf '%s\n' "$stderr" | sed 's/^/  stderr: /'
  echo "  the server saw:"
  sed 's/^/    /' "$HOSTILE_LOG" | grep -F "/$s/" | tail -n 8
  return 0
}

# hostile_good_first: the hostile registry's good image is fetched (once per file, in
# a store of its own): a refusal of a hostile image means something only from a
# podrun that fetches the good one.
hostile_good_first() {
  [[ ! -e $BATS_FILE_TMPDIR/hostile-good-fetched ]] || return 0
  run --separate-stderr "$PODRUN" --dir="$BATS_FILE_TMPDIR/good-store" --local-config="$CONF" \
    --system-config="$SYSCONF" --insecure-options=image,http fetch "docker://$HOSTILE/good/image:1"
  [[ $status -eq 0 && $output =~ ^sha256-[0-9a-f]{64}$ ]] ||
    fail "the hostile registry's good image is not fetched ($status: $stderr): a refusal would prove nothing" || return 1
  touch "$BATS_FILE_TMPDIR/hostile-good-fetched"
}

# hostile_refused SCENARIO SUBSTRING [MAX_SECONDS [ENV=VALUE…]]: refused with 254, one
# line naming SUBSTRING (none if ""), nothing on stdout, within MAX_SECONDS (20), and
# nothing kept in the store nor written outside it.
hostile_refused() {
  local s=$1 want=$2 max=${3:-20}
  shift 3 2>/dev/null || shift $#
  hostile_fetch "$s" "$@" || return 1
  assert_one_line_error || return 1
  # The reason, not the scenario's name in the quoted reference ("redirect-loop").
  [[ ${stderr//"$s/image"/} == *"$want"* ]] || fail "error does not mention \"$want\"" || return 1
  [[ -z $output ]] || fail "stdout is not empty" || return 1
  [[ $ELAPSED -le $max ]] || fail "took ${ELAPSED}s (at most ${max}s)" || return 1
  assert_nothing_kept || return 1
  assert_nothing_outside
}

# hostile_safe SCENARIO: refused (one line, nothing kept) or fetched; either way
# nothing was written outside the store.
hostile_safe() {
  hostile_fetch "$1" || return 1
  if [[ $status -ne 0 ]]; then
    assert_one_line_error || return 1
    assert_nothing_kept || return 1
  else
    [[ $output =~ ^sha256-[0-9a-f]{64}$ ]] || fail "fetched, but printed no id" || return 1
  fi
  assert_nothing_outside
}

# ---- fetch: forms, ids, names ----

@test "docker: fetch of an OCI image by tag prints its config digest as the id and stores its blobs and layer" {
  local want layer
  want=$(registry_image_id "$PLAIN_REGISTRY/test/busybox:1")
  fetched_id "docker://$PLAIN_REGISTRY/test/busybox:1"
  [[ $ID == "$want" ]] || fail "id $ID, the config digest is $want"
  # Not on a terminal: no progress.
  [[ -z $stderr ]] || fail "fetch wrote to stderr (not a terminal)"
  # The manifest, the config and the layer, as fetched, and one layer tree.
  [[ $(sha256_blobs) -eq 3 ]] || fail "expected 3 sha256 blobs, found $(sha256_blobs)"
  local hex=${want#sha256-}
  [[ -f $STORE/cas/blob/sha256/${hex:0:2}/$hex ]] || fail "no config blob"
  layer=$(oci_image_layers "$LAYOUT" bb)
  [[ -f $STORE/cas/blob/sha256/${layer:7:2}/${layer#sha256:} ]] || fail "no layer blob"
  [[ $(layer_trees) == "sha256-${layer#sha256:}" ]] || fail "layer trees: $(layer_trees)"
  [[ -x $(layer_tree "$layer")/rootfs/bin/busybox && -L $(layer_tree "$layer")/rootfs/bin/sh ]]
  # Owners and modes as the layer has them, setuid included (OCI images have setuid
  # files: not refused as in an ACI)...
  [[ $(stat -c %u:%g:%a "$(layer_tree "$layer")/rootfs/work/owned") == 1000:1000:600 ]] || fail "owned: $(stat -c %u:%g:%a "$(layer_tree "$layer")/rootfs/work/owned")"
  [[ $(stat -c %a "$(layer_tree "$layer")/rootfs/bin/suid-test") == 4755 ]] || fail "setuid bit lost"
  # ...and no other host user reaches a layer's files.
  local p ok= d
  for d in "$STORE/cas/layer" "$(layer_tree "$layer")" "$(layer_tree "$layer")/rootfs"; do
    p=$(stat -c %a "$d")
    [[ $((8#$p & 1)) -eq 0 ]] && ok=1
  done
  [[ -n $ok ]] || fail "others can traverse into the layer tree"
  [[ -z $(find "$STORE/cas/blob/partial" -mindepth 1 2>/dev/null) ]] || fail "a partial download is left"
  # Listed under its normalised name, the tag as its version.
  assert_listed "$ID" "$PLAIN_REGISTRY/test/busybox:1"
}

@test "docker: v2s2 by tag, by digest, and the OCI form by digest give the same id" {
  local want digest
  want=$(registry_image_id "$PLAIN_REGISTRY/test/busybox:1")
  fetched_id "docker://$PLAIN_REGISTRY/test/busybox-v2s2:1"
  [[ $ID == "$want" ]] || fail "v2s2: id $ID, not $want"
  digest=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$PLAIN_REGISTRY/test/busybox-v2s2:1" | sha256sum | cut -d' ' -f1)
  fetched_id "docker://$PLAIN_REGISTRY/test/busybox-v2s2@$digest"
  [[ $ID == "$want" ]]
  digest=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$PLAIN_REGISTRY/test/busybox:1" | sha256sum | cut -d' ' -f1)
  fetched_id "docker://$PLAIN_REGISTRY/test/busybox@$digest"
  [[ $ID == "$want" ]]
  # One layer tree: both forms carry the same layer.
  [[ $(layer_trees | wc -l) -eq 1 ]] || fail "layer trees: $(layer_trees)"
  # A digest the repository does not have: not found.
  dfetch "docker://$PLAIN_REGISTRY/test/busybox@sha256:$(printf '0%.0s' {1..64})"
  assert_one_line_error "not found"
}

@test "docker: a short name uses defaultRegistry and library/; without one it is refused naming defaultRegistry" {
  local want
  want=$(registry_image_id "$PLAIN_REGISTRY/library/busybox:1")
  fetched_id docker://busybox:1
  [[ $ID == "$want" ]]
  assert_listed "$ID" "$PLAIN_REGISTRY/library/busybox:1"
  # Two components: no library/.
  fetched_id docker://test/busybox:1
  [[ $ID == $(registry_image_id "$PLAIN_REGISTRY/test/busybox:1") && $ID != "$want" ]] || fail "test/busybox:1 gave $ID"
  # busybox:1 (no docker://) is that image of the store, for prepare as for run.
  local mark
  REGISTRY_LOG=$PLAIN_DIR/access.log
  mark=$(registry_log_mark)
  dk --insecure-options=image,http prepare --stage1=fly busybox:1
  assert_status 0
  [[ $(registry_requests "$mark") -eq 0 ]] || fail "prepare of busybox:1 asked the registry"
  dk cat-manifest "${lines[-1]}"
  assert_status 0
  [[ $output == *"${want#sha256-}"* ]] || fail "the pod of busybox:1 is not of $PLAIN_REGISTRY/library/busybox:1 ($want)"
  # From the system config when the local one has none.
  mv "$CONF/registries.json" "$SYSCONF/registries.json"
  STORE=$BATS_TEST_TMPDIR/store2
  fetched_id docker://busybox:1
  [[ $ID == "$want" ]]
  rm "$SYSCONF/registries.json"
  STORE=$BATS_TEST_TMPDIR/store3
  dfetch docker://busybox:1
  assert_one_line_error defaultRegistry
  [[ $(sha256_blobs) -eq 0 ]]
}

@test "docker: a tag or repository the registry lacks is refused as not found" {
  dfetch "docker://$PLAIN_REGISTRY/test/busybox:nosuchtag"
  assert_one_line_error "not found"
  dfetch "docker://$PLAIN_REGISTRY/test/nosuchrepo:1"
  assert_one_line_error "not found"
  assert_nothing_kept
}

@test "docker: without --insecure-options=image an unsigned image is refused naming it" {
  local i
  for i in http tls,http; do
    INSECURE=$i dfetch "docker://$PLAIN_REGISTRY/test/busybox:1"
    assert_one_line_error "unsigned" "--insecure-options=image"
    [[ -z $output ]]
  done
  assert_nothing_kept
  # run and prepare say the same.
  dk --insecure-options=http run "docker://$PLAIN_REGISTRY/test/busybox:1"
  assert_one_line_error "--insecure-options=image"
  dk --insecure-options=http prepare "docker://$PLAIN_REGISTRY/test/busybox:1"
  assert_one_line_error "--insecure-options=image"
  assert_nothing_kept
}

@test "docker: a plain-http registry needs --insecure-options=http" {
  INSECURE=image dfetch "docker://$PLAIN_REGISTRY/test/busybox:1"
  assert_one_line_error "--insecure-options=http"
  assert_nothing_kept
  INSECURE=all dfetch "docker://$PLAIN_REGISTRY/test/busybox:1"
  assert_status 0
}

@test "docker: TLS with the CA in certs.d works; without it, refused naming --insecure-options=tls" {
  INSECURE=image dfetch "docker://$TLS_REGISTRY/test/busybox:1"
  assert_one_line_error "--insecure-options=tls"
  assert_nothing_kept
  # http does not stand in for tls.
  INSECURE=image,http dfetch "docker://$TLS_REGISTRY/test/busybox:1"
  assert_one_line_error "--insecure-options=tls"
  # A CA for another registry does not help.
  mkdir -p "$CONF/certs.d/127.0.0.1:1"
  cp "$TLS_CA" "$CONF/certs.d/127.0.0.1:1/ca.crt"
  INSECURE=image dfetch "docker://$TLS_REGISTRY/test/busybox:1"
  assert_one_line_error "--insecure-options=tls"
  mkdir -p "$CONF/certs.d/$TLS_REGISTRY"
  cp "$TLS_CA" "$CONF/certs.d/$TLS_REGISTRY/ca.crt"
  INSECURE=image fetched_id "docker://$TLS_REGISTRY/test/busybox:1"
  [[ $ID == $(registry_image_id "$PLAIN_REGISTRY/test/busybox:1") ]]
  # Without the CA but with tls allowed.
  rm -rf "$CONF/certs.d/$TLS_REGISTRY"
  STORE=$BATS_TEST_TMPDIR/store2
  INSECURE=image,tls fetched_id "docker://$TLS_REGISTRY/test/busybox:1"
}

@test "docker: basic auth from auth.d and from --authfile; anonymous and a wrong password refused; the password is never shown nor stored" {
  local ref=docker://$AUTH_REGISTRY/test/busybox:1 b64
  b64=$(printf '%s:%s' "$AUTH_USER" "$AUTH_PASS" | base64 -w0)
  dfetch "$ref"
  assert_one_line_error unauthorized
  assert_nothing_kept
  auth_d wrong "$AUTH_REGISTRY" "$AUTH_USER" not-the-password
  dfetch "$ref"
  assert_one_line_error unauthorized
  secret_nowhere not-the-password
  rm "$CONF/auth.d/wrong.json"
  # Credentials for another registry are not sent here.
  auth_d other 127.0.0.1:1 "$AUTH_USER" "$AUTH_PASS"
  dfetch "$ref"
  assert_one_line_error unauthorized
  auth_d mine "$AUTH_REGISTRY" "$AUTH_USER" "$AUTH_PASS"
  dk --debug --insecure-options=image,http fetch "$ref"
  assert_status 0
  [[ ${lines[-1]} == $(registry_image_id "$PLAIN_REGISTRY/test/busybox:1") ]]
  secret_nowhere "$AUTH_PASS" "$b64"
  # auth.d of the system config, into another store.
  mv "$CONF/auth.d/mine.json" "$SYSCONF/auth.d.mine.json"
  rm -f "$CONF/auth.d/"*.json
  mkdir -p "$SYSCONF/auth.d"
  mv "$SYSCONF/auth.d.mine.json" "$SYSCONF/auth.d/mine.json"
  STORE=$BATS_TEST_TMPDIR/store-sys
  fetched_id "$ref"
  rm -rf "$SYSCONF/auth.d"
  # --authfile, into another store.
  rm -f "$CONF/auth.d/"*.json
  STORE=$BATS_TEST_TMPDIR/store2
  authfile "$BATS_TEST_TMPDIR/authfile.json" "$AUTH_REGISTRY" "$AUTH_USER" "$AUTH_PASS"
  fetched_id --authfile="$BATS_TEST_TMPDIR/authfile.json" "$ref"
  secret_nowhere "$AUTH_PASS" "$b64"
  # A pod of it: nothing of the credentials in its directories either.
  dk --insecure-options=image,http prepare "$AUTH_REGISTRY/test/busybox:1"
  assert_status 0
  secret_nowhere "$AUTH_PASS" "$b64"
}

@test "docker: Bearer tokens: with credentials from auth.d, anonymous refused; an anonymous token registry" {
  local ref=docker://$TOKEN_REGISTRY/test/busybox:1
  dfetch "$ref"
  assert_one_line_error unauthorized
  assert_nothing_kept
  auth_d tok "$TOKEN_REGISTRY" "$TOKEN_USER" "$TOKEN_PASS"
  dk --debug --insecure-options=image,http fetch "$ref"
  assert_status 0
  [[ ${lines[-1]} == $(registry_image_id "$PLAIN_REGISTRY/test/busybox:1") ]]
  secret_nowhere "$TOKEN_PASS" "$(printf '%s:%s' "$TOKEN_USER" "$TOKEN_PASS" | base64 -w0)"
  # The token server saw the user; the registry, tokens.
  grep -q "user=$TOKEN_USER status=200" "$TOKEN_DIR/token.log" || fail "no token was issued to $TOKEN_USER"
  # Tokens are not stored either: the start of every token the server signs.
  local jwt
  jwt=$(printf '{"typ": "JWT", "alg": "RS256", "x5c": ["' | base64 -w0 | tr '+/' '-_' | cut -c1-40)
  ! grep -r -l -F -e "$jwt" "$STORE" 2>/dev/null || fail "a token is in the store"
  [[ ${stderr:-} != *"$jwt"* ]] || fail "a token was printed"
  STORE=$BATS_TEST_TMPDIR/store2
  fetched_id "docker://$ANON_REGISTRY/test/busybox:1"
  grep -q "user=- status=200" "$ANON_DIR/token.log" || fail "no anonymous token was asked for"
}

@test "docker: on a terminal, progress then the id; with --quiet, the id only" {
  local ref=docker://$PLAIN_REGISTRY/test/a:1 want plain
  want=$(oci_image_id "$LAYOUT" a)
  run python3 "$E2E_ROOT/tests/tools/ptyrun.py" 24x160 -- "$PODRUN" --dir="$STORE" --local-config="$CONF" \
    --system-config="$SYSCONF" --insecure-options=image,http fetch "$ref"
  echo "status=$status"$'\n'"$output" | cat -v
  [[ $status -eq 0 ]] || fail "status $status"
  plain=$(printf '%s' "$output" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tr '\r' '\n' | grep -v '^ *$')
  grep -qxF "$want" <<<"$plain" || fail "no id line"
  [[ $(grep -cvxF "$want" <<<"$plain") -ge 2 ]] || fail "no progress lines (the image has 2 layers)"
  STORE=$BATS_TEST_TMPDIR/store2
  run python3 "$E2E_ROOT/tests/tools/ptyrun.py" 24x160 -- "$PODRUN" --dir="$STORE" --local-config="$CONF" \
    --system-config="$SYSCONF" --insecure-options=image,http fetch --quiet "$ref"
  echo "status=$status"$'\n'"$output" | cat -v
  [[ $status -eq 0 ]] || fail "status $status"
  plain=$(printf '%s' "$output" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tr '\r' '\n' | grep -v '^ *$')
  [[ $plain == "$want" ]] || fail "--quiet printed more than the id"
}

# ---- manifest lists ----

@test "docker: a manifest list resolves to the host's platform, --arch picks another, an absent one is refused listing those on offer" {
  fetched_id "docker://$PLAIN_REGISTRY/test/list:1"
  [[ $ID == "$LIST_HOST_ID" ]] || fail "picked $ID, not linux/$OCI_ARCH's $LIST_HOST_ID"
  fetched_id --arch="$LIST_OTHER_ARCH" "docker://$PLAIN_REGISTRY/test/list:1"
  [[ $ID == "$LIST_OTHER_ID" ]] || fail "--arch=$LIST_OTHER_ARCH picked $ID"
  fetched_id --os=linux --arch="$LIST_THIRD_ARCH" "docker://$PLAIN_REGISTRY/test/list@$LIST_DIGEST"
  [[ $ID == "$LIST_THIRD_ID" ]]
  STORE=$BATS_TEST_TMPDIR/store2
  dfetch --arch=mips "docker://$PLAIN_REGISTRY/test/list:1"
  assert_one_line_error "linux/$OCI_ARCH" "linux/$LIST_OTHER_ARCH" "linux/$LIST_THIRD_ARCH"
  dfetch --os=windows "docker://$PLAIN_REGISTRY/test/list:1"
  assert_one_line_error "linux/$OCI_ARCH" "linux/$LIST_OTHER_ARCH"
  assert_nothing_kept
}

@test "docker: a Docker manifest list (schema2) resolves by platform too" {
  manifest_list_push test/list-v2s2:1 --format v2s2
  fetched_id "docker://$PLAIN_REGISTRY/test/list-v2s2:1"
  [[ $ID == "$LIST_HOST_ID" ]] || fail "picked $ID, not linux/$OCI_ARCH's $LIST_HOST_ID"
  fetched_id --arch="$LIST_OTHER_ARCH" "docker://$PLAIN_REGISTRY/test/list-v2s2:1"
  [[ $ID == "$LIST_OTHER_ID" ]]
  dfetch --arch=mips "docker://$PLAIN_REGISTRY/test/list-v2s2:1"
  assert_one_line_error "linux/$OCI_ARCH" "linux/$LIST_OTHER_ARCH" "linux/$LIST_THIRD_ARCH"
}

# ---- layers: sharing, updates, pull policies ----

@test "docker: two images on one base store the base layer once and download it once" {
  local mark base
  base=$(oci_image_layers "$LAYOUT" a | head -1)
  mark=$(PLAIN_log_mark)
  fetched_id "docker://$PLAIN_REGISTRY/test/a:1"
  [[ $ID == $(oci_image_id "$LAYOUT" a) ]]
  fetched_id "docker://$PLAIN_REGISTRY/test/b:1"
  [[ $ID == $(oci_image_id "$LAYOUT" b) ]]
  # 2 manifests, 2 configs, 3 layers; 3 trees.
  [[ $(sha256_blobs) -eq 7 ]] || fail "expected 7 blobs, found $(sha256_blobs)"
  [[ $(layer_trees | wc -l) -eq 3 ]] || fail "expected 3 layer trees: $(layer_trees)"
  [[ -d $(layer_tree "$base")/rootfs ]]
  REGISTRY_LOG=$PLAIN_DIR/access.log
  [[ $(registry_log_since "$mark" | grep -c "GET /v2/test/[ab]/blobs/$base .* 200 ") -eq 1 ]] ||
    fail "the base layer was downloaded $(registry_log_since "$mark" | grep -c "GET /v2/test/[ab]/blobs/$base .* 200 ") times"
  [[ $(registry_blob_gets "$mark") -eq 5 ]] || fail "expected 5 blob GETs, counted $(registry_blob_gets "$mark")"
}

# PLAIN_log_mark: registry_log_mark of the plain registry.
PLAIN_log_mark() {
  REGISTRY_LOG=$PLAIN_DIR/access.log registry_log_mark
}

@test "docker: --pull-policy: update downloads only the changed layer, new and never do not ask the registry" {
  local ref=$PLAIN_REGISTRY/test/upd:1 mark old new top size
  REGISTRY=$PLAIN_REGISTRY REGISTRY_USER= image_push "oci:$LAYOUT:a" "$ref"
  fetched_id "docker://$ref"
  old=$ID
  [[ $old == $(oci_image_id "$LAYOUT" a) ]]
  # The tag moves to a2: same base, another top layer.
  image_push "oci:$LAYOUT:a2" "$ref"
  top=$(oci_image_layers "$LAYOUT" a2 | tail -1)
  size=$(stat -c %s "$LAYOUT/blobs/sha256/${top#sha256:}")
  REGISTRY_LOG=$PLAIN_DIR/access.log
  # new (the default): the store's image of that reference, no request at all.
  mark=$(registry_log_mark)
  fetched_id "docker://$ref"
  [[ $ID == "$old" ]] || fail "the default policy fetched $ID"
  fetched_id --pull-policy=new "docker://$ref"
  [[ $ID == "$old" ]]
  [[ $(registry_requests "$mark") -eq 0 ]] || fail "new asked the registry: $(registry_log_since "$mark")"
  # update: the new manifest, its config and only the changed layer.
  mark=$(registry_log_mark)
  fetched_id --pull-policy=update "docker://$ref"
  new=$ID
  [[ $new == $(oci_image_id "$LAYOUT" a2) ]] || fail "update gave $new"
  [[ $(registry_blob_gets "$mark") -eq 2 ]] || fail "update made $(registry_blob_gets "$mark") blob GETs: $(registry_log_since "$mark")"
  [[ $(registry_blob_bytes "$mark" "$top") -eq $size ]] || fail "the changed layer: $(registry_blob_bytes "$mark" "$top") bytes served, it has $size"
  [[ $(registry_blob_bytes "$mark") -lt $((size + 4096)) ]] || fail "update downloaded $(registry_blob_bytes "$mark") bytes"
  # update again: the manifest only.
  mark=$(registry_log_mark)
  fetched_id --pull-policy=update "docker://$ref"
  [[ $ID == "$new" ]]
  [[ $(registry_blob_gets "$mark") -eq 0 ]]
  # never: the store only; an image the store lacks is refused.
  mark=$(registry_log_mark)
  fetched_id --pull-policy=never "docker://$ref"
  [[ $ID == "$new" ]]
  dfetch --pull-policy=never "docker://$PLAIN_REGISTRY/test/b:1"
  assert_one_line_error "$PLAIN_REGISTRY/test/b"
  [[ $(registry_requests "$mark") -eq 0 ]] || fail "never asked the registry"
  # Both images are kept (the old one is not the tag's any more): 3 layer trees.
  run_podrun image list --no-legend --full
  [[ ${#lines[@]} -eq 2 ]]
  [[ $(layer_trees | wc -l) -eq 3 ]] || fail "expected 3 layer trees: $(layer_trees)"
}

@test "docker: two fetches of one image at once both succeed and store it once" {
  local p1 p2
  "$PODRUN" --dir="$STORE" --local-config="$CONF" --system-config="$SYSCONF" --insecure-options=image,http \
    fetch "docker://$HOSTILE/throttled/image:1" >"$BATS_TEST_TMPDIR/1.out" 2>"$BATS_TEST_TMPDIR/1.err" &
  p1=$!
  "$PODRUN" --dir="$STORE" --local-config="$CONF" --system-config="$SYSCONF" --insecure-options=image,http \
    fetch "docker://$HOSTILE/throttled/image:1" >"$BATS_TEST_TMPDIR/2.out" 2>"$BATS_TEST_TMPDIR/2.err" &
  p2=$!
  wait "$p1" || fail "the first fetch failed: $(cat "$BATS_TEST_TMPDIR/1.err")"
  wait "$p2" || fail "the second fetch failed: $(cat "$BATS_TEST_TMPDIR/2.err")"
  [[ $(cat "$BATS_TEST_TMPDIR/1.out") == $(cat "$BATS_TEST_TMPDIR/2.out") ]]
  [[ $(sha256_blobs) -eq 3 && $(layer_trees | wc -l) -eq 1 ]]
  [[ -z $(find "$STORE/cas/blob/partial" -mindepth 1 2>/dev/null) ]]
}

# ---- hostile registries ----

@test "docker: hostile registry: its good image is fetched (the other refusals are not the server's fault)" {
  fetched_id "docker://$HOSTILE/good/image:1"
  fetched_id "docker://$HOSTILE/redirect-ok/image:1"
}

@test "docker: hostile: a layer whose bytes do not match its digest" { hostile_refused digest-mismatch "digest mismatch"; }
@test "docker: hostile: a config whose bytes do not match its digest" { hostile_refused config-mismatch "digest mismatch"; }
@test "docker: hostile: a manifest fetched by digest that has another" {
  local s=manifest-digest-mismatch
  hostile_good_first
  run --separate-stderr timeout 60 "$PODRUN" --dir="$STORE" --local-config="$CONF" --system-config="$SYSCONF" \
    --insecure-options=image,http fetch "docker://$HOSTILE/$s/image@sha256:$(printf 'ab%.0s' {1..32})"
  echo "status=$status stderr=$stderr"
  assert_one_line_error "digest mismatch"
  assert_nothing_kept
}
# Beyond the spec's list: a config whose diff_ids lie about its layers.
@test "docker: hostile: a config whose diff_ids do not match the layers" { hostile_refused diffid-mismatch ""; }
# The layers are extracted several at once: the third's failure is the fetch's, and
# neither the trees built beside it nor their temporary directories are kept.
@test "docker: hostile: the third of four layers does not match its diff_id" {
  hostile_refused diffid-mismatch-deep "digest mismatch"
}
@test "docker: hostile: a 100 MiB manifest" { hostile_refused huge-manifest "manifest too large" 10; }
@test "docker: hostile: a 100 MiB manifest without Content-Length" { hostile_refused huge-manifest-nolength "manifest too large" 10; }
@test "docker: hostile: a manifest of a media type that is no manifest's" { hostile_refused wrong-media-type "unsupported media type"; }
@test "docker: hostile: a layer of a media type that is no layer's" { hostile_refused wrong-layer-media-type "unsupported media type"; }
@test "docker: hostile: a redirect loop on the manifest" { hostile_refused redirect-loop redirect; }
@test "docker: hostile: a redirect loop on a layer" { hostile_refused redirect-blob-loop redirect; }
@test "docker: hostile: a server sending one byte a second (PODRUN_LOW_SPEED_TIME=3)" {
  hostile_refused slow "too slow" 15 PODRUN_LOW_SPEED_TIME=3
}
@test "docker: hostile: a layer cut short" { hostile_refused truncated-layer truncated; }
@test "docker: hostile: a layer the registry lacks" { hostile_refused missing-blob "not found"; }
@test "docker: hostile: a layer entry climbing out with .." { hostile_refused escaping-layer "leaves the image"; }
@test "docker: hostile: a hard link climbing out with .." { hostile_refused escaping-hardlink "leaves the image"; }
@test "docker: hostile: a file written through a symlink climbing out with .." { hostile_refused escaping-symlink ""; }
@test "docker: hostile: a file written through an absolute symlink stays in the image or is refused" {
  hostile_safe absolute-symlink
}
@test "docker: hostile: a symlink in one layer, a file through it in the next" {
  hostile_safe symlink-cross-layer
  if [[ $status -eq 0 ]]; then
    local l
    l=$(layer_trees | while read -r t; do [[ ! -e $STORE/cas/layer/$t/rootfs/lnk/podrun-docker-evil ]] || echo "$t"; done)
    [[ -n $l ]] || fail "the second layer's file is nowhere in the layer trees"
  fi
}
@test "docker: hostile: a gzip bomb (PODRUN_MAX_LAYER_SIZE=10 MiB)" {
  hostile_refused gzip-bomb "larger than" 30 PODRUN_MAX_LAYER_SIZE=10485760
}
@test "docker: hostile: a whiteout of ." { hostile_refused whiteout-dot ".wh."; }
@test "docker: hostile: a whiteout of .." { hostile_refused whiteout-dotdot ".wh."; }
@test "docker: hostile: a whiteout climbing out with .." { hostile_refused whiteout-escape "leaves the image"; }
@test "docker: hostile: a whiteout through a symlink of the same layer" { hostile_safe whiteout-symlink; }
@test "docker: hostile: an opaque marker through a symlink of the same layer" { hostile_safe opaque-odd; }
@test "docker: hostile: PAX headers setting trusted.overlay xattrs are refused or dropped" {
  hostile_safe trusted-xattr
  if [[ $status -eq 0 ]]; then
    local found
    found=$(python3 - "$STORE/cas/layer" <<'PY'
import os, sys
for root, dirs, files in os.walk(sys.argv[1]):
    for n in [root] + [os.path.join(root, f) for f in files]:
        try:
            xs = os.listxattr(n, follow_symlinks=False)
        except OSError:
            continue
        for x in xs:
            if x.startswith("trusted."):
                print(n, x)
PY
)
    [[ -z $found ]] || fail "trusted xattrs from the archive were applied: $found"
  fi
}

@test "docker: hostile: a layer digest that is a path" { hostile_refused bad-digest "digest"; }
@test "docker: hostile: an index nesting an index that is served for any digest" { hostile_refused index-loop ""; }

@test "docker: credentials are not sent to the host a layer redirects to" {
  hostile_good_first
  hostile_start --auth hostile-user:hostile-pass
  local ref=docker://$HOSTILE/auth-redirect/image:1
  dfetch "$ref"
  assert_one_line_error unauthorized
  auth_d hostile "$HOSTILE" hostile-user hostile-pass
  fetched_id "$ref"
  grep -q "GET /v2/auth-redirect/image/blobs/sha256:[0-9a-f]*?moved=1 range=[^ ]* status=200 bytes=[0-9]* auth=- host=localhost:" "$HOSTILE_LOG" ||
    fail "the credentials went to the other host: $(grep moved=1 "$HOSTILE_LOG")"
  secret_nowhere hostile-pass
  hostile_stop
}

@test "docker: kill -9 during a layer download, several times; fetch again succeeds and image gc leaves no partial" {
  local ref=docker://$HOSTILE/throttled/image:1 delay want layer
  layer=$(curl -s "http://$HOSTILE/v2/throttled/image/manifests/1" | json_query 'j["layers"][0]["digest"]')
  for delay in 0.4 1.1 1.9; do
    fetch_killed_after "$delay" "$ref"
    # Killed: not an image, no index row, and nothing of it runs on.
    log_run "$PODRUN" --dir="$STORE" image list --no-legend
    [[ -z $output ]] || fail "a killed fetch left an image listed"
    [[ -z $(pgrep -f -- "--dir=$STORE " 2>/dev/null) ]] || fail "a process of the killed fetch is left"
  done
  echo "partial after the kills: $(ls -l "$STORE/cas/blob/partial" 2>/dev/null)"
  fetched_id "$ref"
  want=$ID
  [[ -z $(find "$STORE/cas/blob/partial" -mindepth 1 2>/dev/null) ]] || fail "a partial is left after the fetch"
  [[ $(stat -c %s "$(layer_tree "$layer")/rootfs/etc/data") -eq 1048576 ]]
  # Another killed download, in another store, then gc: no partial.
  STORE=$BATS_TEST_TMPDIR/store2
  fetch_killed_after 1.5 "$ref"
  run_podrun image gc
  assert_status 0
  [[ -z $(find "$STORE/cas/blob/partial" -mindepth 1 2>/dev/null) ]] || fail "image gc left a partial: $(ls "$STORE/cas/blob/partial")"
  [[ -z $(leftovers) ]]
  fetched_id "$ref"
  [[ $ID == "$want" ]]
}

@test "docker: kill -9 while layers download and extract, at several moments; the next fetch has every file and gc leaves only the image's layers" {
  local l=$BATS_TEST_TMPDIR/layout src=$BATS_TEST_TMPDIR/many ref delay layers n want
  mkdir -p "$src"
  for ((n = 0; n < 2000; n++)); do echo "$n" >"$src/f$n"; done
  oci_image_busybox "$l" many "$src=/many"
  oci_image_random_layers "$l" many 2 8000000
  ref=$PLAIN_REGISTRY/test/many:1
  image_push "oci:$l:many" "$ref"
  want=$(oci_image_id "$l" many)
  layers=$(oci_image_layers "$l" many)
  for delay in 0.1 0.3 0.6 0.9 1.3; do
    fetch_killed_after "$delay" "docker://$ref"
    log_run "$PODRUN" --dir="$STORE" image list --no-legend
    [[ -z $output ]] || [[ $output == sha256-* ]] || fail "image list: $output"
  done
  fetched_id "docker://$ref"
  [[ $ID == "$want" ]]
  local first
  first=$(head -1 <<<"$layers")
  [[ $(find "$(layer_tree "$first")/rootfs/many" -type f | wc -l) -eq 2000 ]] || fail "the layer tree lacks files"
  [[ $(cat "$(layer_tree "$first")/rootfs/many/f1999") == 1999 ]]
  local d
  for d in $(tail -2 <<<"$layers"); do
    [[ $(find "$(layer_tree "$d")/rootfs/random" -type f -size 8000000c | wc -l) -eq 1 ]] || fail "layer $d incomplete"
  done
  run_podrun image gc
  assert_status 0
  [[ $(layer_trees) == $(sed 's/:/-/' <<<"$layers" | LC_ALL=C sort) ]] || fail "cas/layer holds: $(layer_trees)"
  [[ -z $(find "$STORE/cas/blob/partial" -mindepth 1 2>/dev/null) ]] || fail "partials left"
  [[ -z $(leftovers) ]]
  [[ $(sha256_blobs) -eq 5 ]] || fail "expected 5 blobs (manifest, config, 3 layers), found $(sha256_blobs)"
}

@test "docker: a resumed download asks for the rest with a Range request" {
  local ref=docker://$HOSTILE/throttled/image:1 layer
  layer=$(curl -s "http://$HOSTILE/v2/throttled/image/manifests/1" | json_query 'j["layers"][0]["digest"]')
  fetch_killed_after 2 "$ref"
  [[ -n $(find "$STORE/cas/blob/partial" -mindepth 1 -size +1k 2>/dev/null) ]] || fail "no partial download kept after the kill"
  local n
  n=$(wc -l <"$HOSTILE_LOG")
  fetched_id "$ref"
  # the server logs a request once it has answered it: give it a moment
  local i
  for ((i = 0; i < 50; i++)); do
    ! tail -n +"$((n + 1))" "$HOSTILE_LOG" | grep -q "GET /v2/throttled/image/blobs/$layer range=bytes=[1-9][0-9]*- status=206" || break
    sleep 0.1
  done
  tail -n +"$((n + 1))" "$HOSTILE_LOG" | grep -q "GET /v2/throttled/image/blobs/$layer range=bytes=[1-9][0-9]*- status=206" ||
    fail "no Range request for the rest: $(tail -n +"$((n + 1))" "$HOSTILE_LOG")"
}

@test "docker: a server that ignores Range: the fetch after a kill starts the layer over and gets it right" {
  local ref=docker://$HOSTILE/throttled-norange/image:1
  hostile_good_first
  fetch_killed_after 2 "$ref"
  fetched_id "$ref"
  [[ $ID == sha256-$(curl -s "http://$HOSTILE/v2/throttled-norange/image/manifests/1" | json_query 'j["config"]["digest"]' | cut -d: -f2) ]]
  [[ -z $(find "$STORE/cas/blob/partial" -mindepth 1 2>/dev/null) ]] || fail "a partial is left"
}

# ---- pods of docker images ----

# pod_report FLAVOR REF: runs REF on FLAVOR; the app's report line in REPORT_LINE.
pod_report() {
  dk --insecure-options=image,http run --stage1="$1" "$2"
  assert_status 0 || return 1
  REPORT_LINE=$(grep -E '^(uid|work)=' <<<"$output" | tail -1)
  [[ -n $REPORT_LINE ]] || fail "no report from the app"
}

@test "docker: a pod of a docker image sees its Entrypoint+Cmd, Env, WorkingDir and User, on fly and nspawn" {
  requires root
  [[ -f "$BUILD/stage1-fly.aci" && -f "$BUILD/stage1-nspawn.aci" ]] || fail "build both stage1s first (make all)"
  local flavor
  for flavor in fly nspawn; do
    echo "=== pass: $flavor"
    if [[ $flavor == nspawn ]] && ! command -v systemd-nspawn >/dev/null; then
      skip "the nspawn pass needs systemd-nspawn (package systemd-container); the fly pass passed"
    fi
    STORE=$BATS_TEST_TMPDIR/$flavor/store
    # User "app": resolved in the image's /etc/passwd (1000:1000).
    pod_report "$flavor" "docker://$PLAIN_REGISTRY/test/busybox:1"
    [[ $REPORT_LINE == "uid=1000 gid=1000 pwd=/work foo=bar owned=mine" ]] || fail "$flavor: $REPORT_LINE"
    # User 1000:50.
    pod_report "$flavor" "docker://$PLAIN_REGISTRY/test/uid:1"
    [[ $REPORT_LINE == "uid=1000 gid=50 pwd=/work foo=bar owned=mine" ]] || fail "$flavor: $REPORT_LINE"
    # Whiteouts and an opaque directory across layers.
    pod_report "$flavor" "docker://$PLAIN_REGISTRY/test/wh:1"
    [[ $REPORT_LINE == "work=new, gone=no" ]] || fail "$flavor: $REPORT_LINE"
    # By its stored name, from the store, with no registry at all.
    REGISTRY_LOG=$PLAIN_DIR/access.log
    local mark
    mark=$(registry_log_mark)
    pod_report "$flavor" "$PLAIN_REGISTRY/test/busybox:1"
    [[ $REPORT_LINE == "uid=1000 gid=1000 pwd=/work foo=bar owned=mine" ]]
    [[ $(registry_requests "$mark") -eq 0 ]] || fail "running by name asked the registry"
    # docker:// again: the store's image (--pull-policy=new, the default).
    pod_report "$flavor" "docker://$PLAIN_REGISTRY/test/busybox:1"
    [[ $(registry_requests "$mark") -eq 0 ]] || fail "running docker:// again asked the registry"
  done
}

@test "docker: prepare of a docker:// image fetches it; the pod runs it" {
  requires root
  dk --insecure-options=image,http prepare --stage1=fly "docker://$PLAIN_REGISTRY/test/busybox:1"
  assert_status 0
  local uuid=${lines[-1]}
  store_ids | grep -qxF "$(registry_image_id "$PLAIN_REGISTRY/test/busybox:1")" || fail "prepare did not fetch the image"
  dk run-prepared "$uuid"
  assert_status 0
  assert_output_contains "uid=1000 gid=1000 pwd=/work foo=bar owned=mine"
}

# ---- image commands on OCI images ----

@test "docker: image list shows SIZE and SHARED" {
  fetched_id "docker://$PLAIN_REGISTRY/test/a:1"
  fetched_id "docker://$PLAIN_REGISTRY/test/b:1"
  run_podrun image list
  assert_status 0
  [[ ${lines[0]} =~ ^ID\ +NAME\ .*\ SIZE\ .*\ SHARED(\ |$) ]] || fail "bad legend: ${lines[0]}"
  local col=${lines[0]%%SHARED*} line shared
  for line in "${lines[@]:1}"; do
    shared=${line:${#col}}
    shared=${shared%%  *}
    [[ $shared =~ [1-9] ]] || fail "SHARED of a and b, which share a ~1 MB layer, is \"$shared\""
  done
  # Alone, an image shares nothing.
  STORE=$BATS_TEST_TMPDIR/store2
  fetched_id "docker://$PLAIN_REGISTRY/test/busybox:1"
  run_podrun image list
  line=${lines[1]}
  shared=${line:${#col}}
  shared=${shared%%  *}
  [[ ! $shared =~ [1-9] ]] || fail "SHARED of a lone image is \"$shared\""
  run_podrun image list --format=json
  json_valid <<<"$output"
}

@test "docker: image cat-manifest of an OCI image is the appc manifest derived from its config" {
  fetched_id "docker://$PLAIN_REGISTRY/test/busybox:1"
  run_podrun image cat-manifest "${ID:0:19}" # a short id: sha256- and 12 hex digits
  assert_status 0
  json_valid <<<"$output"
  local m=$output
  [[ $(json_query 'j["acKind"]' <<<"$m") == ImageManifest ]]
  python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[2])["app"]["exec"] != ["/bin/sh", "-c", sys.argv[1]])' \
    "$REPORT" "$m" || fail "exec is not Entrypoint+Cmd: $(json_query 'j["app"]["exec"]' <<<"$m")"
  [[ $(json_query '{e["name"]: e["value"] for e in j["app"]["environment"]}["FOO"]' <<<"$m") == bar ]]
  [[ $(json_query 'j["app"]["workingDirectory"]' <<<"$m") == /work ]]
  [[ $(json_query '{l["name"]: l["value"] for l in j["labels"]}["version"]' <<<"$m") == 1 ]]
  [[ $(json_query '{l["name"]: l["value"] for l in j["labels"]}["os"]' <<<"$m") == linux ]]
  # ExposedPorts and Volumes as docker2aci names them.
  [[ $(json_query '[p["name"] for p in j["app"]["ports"]]' <<<"$m") == '["8080-tcp"]' ]]
  [[ $(json_query '[(p["port"], p["protocol"]) for p in j["app"]["ports"]]' <<<"$m") == '[[8080, "tcp"]]' ]]
  [[ $(json_query '[p["path"] for p in j["app"]["mountPoints"]]' <<<"$m") == '["/data"]' ]]
}

@test "docker: image export of an OCI image writes a squashed ACI that actool validates" {
  requires actool
  fetched_id "docker://$PLAIN_REGISTRY/test/wh:1"
  run_podrun image export "$ID" "$BATS_TEST_TMPDIR/wh.aci"
  assert_status 0
  log_run actool validate "$BATS_TEST_TMPDIR/wh.aci"
  assert_status 0
  local list
  list=$(tar -tf "$BATS_TEST_TMPDIR/wh.aci")
  grep -qx 'rootfs/bin/busybox' <<<"$list" || fail "no busybox in the export"
  grep -qx 'rootfs/work/new' <<<"$list" || fail "no /work/new in the export"
  ! grep -q 'rootfs/work/old\|rootfs/etc/gone\|\.wh\.' <<<"$list" || fail "whiteouts not applied: $(grep 'old\|gone\|\.wh\.' <<<"$list")"
  # It imports back as an ACI.
  fetch_ok "$BATS_TEST_TMPDIR/wh.aci"
  is_image_id "$output"
}

@test "docker: image rm of one of two images sharing a layer keeps the layer; removing both and gc removes it" {
  local base atop btop
  base=$(oci_image_layers "$LAYOUT" a | head -1)
  atop=$(oci_image_layers "$LAYOUT" a | tail -1)
  btop=$(oci_image_layers "$LAYOUT" b | tail -1)
  fetched_id "docker://$PLAIN_REGISTRY/test/a:1"
  local a=$ID
  fetched_id "docker://$PLAIN_REGISTRY/test/b:1"
  local b=$ID
  run_podrun image rm "$a"
  assert_status 0
  run_podrun image gc
  assert_status 0
  [[ -d $(layer_tree "$base") ]] || fail "the shared layer was removed with a"
  [[ -d $(layer_tree "$btop") ]]
  [[ ! -e $(layer_tree "$atop") ]] || fail "a's own layer is kept"
  [[ $(store_ids) == "$b" ]]
  run_podrun image rm "$PLAIN_REGISTRY/test/b:1" # by name
  assert_status 0
  run_podrun image gc
  assert_status 0
  [[ -z $(layer_trees) ]] || fail "layer trees left: $(layer_trees)"
  [[ $(sha256_blobs) -eq 0 ]] || fail "$(sha256_blobs) blobs left"
  [[ $(index_rows) -eq 0 ]] || fail "index rows left"
}
