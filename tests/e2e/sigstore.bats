#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Registry images verified (store/trust-sign.c, store/policy.c, store/lookaside.c):
# images pushed to Debian's docker-registry (TLS, its CA in certs.d) and signed there
# with `skopeo copy --sign-by` into a lookaside directory, served by a web server of
# the tests' own (tests/tools/sig-server.py); policy.json and registries.d written per
# test. Every refusal is one line, leaves nothing in the store and no gpg running.

load helpers
load registry

SIG_SERVER=$REGISTRY_TOOLS/sig-server.py

# sign_push SRC REPO:TAG KEY-EMAIL: skopeo pushes SRC to $REGISTRY and signs it with
# the publisher's key, the signature going to $SIGS (sigstore-staging).
sign_push() {
  local fpr
  fpr=$(GNUPGHOME=$PUB gpg --with-colons --list-keys "$3" | awk -F: '/^fpr/ { print $10; exit }')
  GNUPGHOME=$PUB skopeo copy --quiet --dest-tls-verify=false --registries.d "$BATS_FILE_TMPDIR/skopeo.d" \
    --sign-by "$fpr" "$1" "docker://$REGISTRY/$2" >"$BATS_FILE_TMPDIR/skopeo.out" 2>&1 ||
    fail "skopeo copy --sign-by: $(cat "$BATS_FILE_TMPDIR/skopeo.out")"
}

# digest_of REPO:TAG: the manifest digest the registry serves.
digest_of() {
  echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/$1" | sha256sum | cut -d' ' -f1)"
}

# sigdir REPO DIGEST: the lookaside directory of REPO's manifest DIGEST.
sigdir() {
  echo "$SIGS/$1@sha256=${2#sha256:}"
}

# server_start MODE ARGS…: sig-server.py; its port in SERVER_PORT.
server_start() {
  local d
  d=$(mktemp -d "$BATS_FILE_TMPDIR/hostile.XXXXXX")
  python3 "$SIG_SERVER" "$d/port" "$d/log" "$@" >"$d/out" 2>&1 3>&- &
  echo $! >"$d/pid"
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $d/port ]] && break
    sleep 0.1
  done
  [[ -s $d/port ]] || fail "sig-server.py did not start: $(cat "$d/out")"
  SERVER_PORT=$(cat "$d/port")
  SERVER_LOG=$d/log
}

# standalone_sign REPO:TAG DIGEST: the trusted key's signature of REPO's manifest DIGEST
# (as the registry serves it) for the reference $REGISTRY/REPO:TAG, into the lookaside.
standalone_sign() {
  local repo=${1%%:*} m=$BATS_FILE_TMPDIR/manifest.json
  skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/$repo@$2" >"$m" || fail "skopeo inspect $repo@$2"
  mkdir -p "$(sigdir "$repo" "$2")"
  GNUPGHOME=$PUB skopeo standalone-sign "$m" "$REGISTRY/$1" "$FPR_TRUSTED" \
    --output "$(sigdir "$repo" "$2")/signature-1" >"$BATS_FILE_TMPDIR/skopeo.out" 2>&1 ||
    fail "skopeo standalone-sign: $(cat "$BATS_FILE_TMPDIR/skopeo.out")"
}

setup_file() {
  command -v docker-registry >/dev/null || return 0
  command -v skopeo >/dev/null || return 0
  command -v umoci >/dev/null || return 0
  command -v gpg >/dev/null || return 0
  [[ -x /bin/busybox ]] || return 0
  export PUB=$BATS_FILE_TMPDIR/gnupg SIGS=$BATS_FILE_TMPDIR/sigs
  mkdir -m 0700 "$PUB"
  mkdir -p "$SIGS" "$BATS_FILE_TMPDIR/skopeo.d"
  local k
  for k in trusted other; do
    GNUPGHOME=$PUB gpg --batch --quiet --passphrase '' --quick-gen-key "${k^} <$k@podrun.test>" ed25519 sign never \
      2>/dev/null
    GNUPGHOME=$PUB gpg --armor --export "$k@podrun.test" >"$BATS_FILE_TMPDIR/$k.asc"
  done
  export FPR_TRUSTED
  FPR_TRUSTED=$(GNUPGHOME=$PUB gpg --with-colons --list-keys trusted@podrun.test | awk -F: '/^fpr/ { print tolower($10); exit }')
  printf 'default-docker:\n  sigstore-staging: file://%s\n' "$SIGS" >"$BATS_FILE_TMPDIR/skopeo.d/default.yaml"

  local l=$BATS_FILE_TMPDIR/layout
  oci_image_busybox "$l" bb
  oci_image_busybox "$l" bb2 txt:/etc/second:two
  registry_start --tls
  export REGISTRY REGISTRY_CA LAYOUT=$l
  sign_push "oci:$l:bb" test/busybox:1 trusted@podrun.test
  image_push "oci:$l:bb" "$REGISTRY/test/busybox:2"
  sign_push "oci:$l:bb" test/other:1 other@podrun.test
  image_push "oci:$l:bb" "$REGISTRY/test/unsigned:1"
  # the good signature, put where another repository's image (the same manifest) is looked for
  image_push "oci:$l:bb" "$REGISTRY/test/moved:1"
  export DIGEST
  DIGEST=$(digest_of test/busybox:1)
  [[ $(digest_of test/moved:1) == "$DIGEST" ]] || fail "skopeo pushed another manifest to test/moved"
  mkdir -p "$(sigdir test/moved "$DIGEST")"
  cp "$(sigdir test/busybox "$DIGEST")/signature-1" "$(sigdir test/moved "$DIGEST")/"
  # the good signature, for another manifest's digest
  image_push "oci:$l:bb2" "$REGISTRY/test/busybox:other"
  local d2
  d2=$(digest_of test/busybox:other)
  mkdir -p "$(sigdir test/busybox "$d2")"
  cp "$(sigdir test/busybox "$DIGEST")/signature-1" "$(sigdir test/busybox "$d2")/"
  # 1 MB of garbage as the signature of an image
  image_push "oci:$l:bb" "$REGISTRY/test/garbage:1"
  mkdir -p "$(sigdir test/garbage "$DIGEST")"
  head -c 1000000 /dev/urandom >"$(sigdir test/garbage "$DIGEST")/signature-1"
  # a key where a signature should be
  image_push "oci:$l:bb" "$REGISTRY/test/key:1"
  mkdir -p "$(sigdir test/key "$DIGEST")"
  cp "$BATS_FILE_TMPDIR/trusted.asc" "$(sigdir test/key "$DIGEST")/signature-1"
  # a good signature by the trusted key whose text inflates to 8 MiB (a few KiB signed, compressed)
  image_push "oci:$l:bb" "$REGISTRY/test/bomb:1"
  mkdir -p "$(sigdir test/bomb "$DIGEST")"
  { printf '{"critical": {"type": "atomic container signature", "image": {"docker-manifest-digest": "%s"}, ' "$DIGEST"
    printf '"identity": {"docker-reference": "%s/test/bomb:1"}}, "optional": {}}' "$REGISTRY"
    head -c 8388608 /dev/zero | tr '\0' ' '; } >"$BATS_FILE_TMPDIR/bomb.json"
  GNUPGHOME=$PUB gpg --batch --quiet --yes --local-user "$FPR_TRUSTED!" --compress-level 9 --sign \
    --output "$(sigdir test/bomb "$DIGEST")/signature-1" "$BATS_FILE_TMPDIR/bomb.json"
  # manifest lists: one signed as a list, one only on its host platform's manifest
  # (skopeo standalone-sign: a claim for a manifest file and a reference)
  manifest_list_push test/list:1
  export LIST1_HOST_ID=$LIST_HOST_ID
  standalone_sign test/list:1 "$LIST_DIGEST"
  manifest_list_push test/list2:1
  export LIST2_HOST_ID=$LIST_HOST_ID
  local instance
  instance=$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/list2:1" |
    json_query '[m["digest"] for m in j["manifests"] if m["platform"]["architecture"] == "'"$OCI_ARCH"'"][0]')
  standalone_sign test/list2:1 "$instance"
  GNUPGHOME=$PUB gpgconf --kill all
  server_start lookaside "$SIGS"
  export LOOKASIDE_PORT=$SERVER_PORT LOOKASIDE_LOG=$SERVER_LOG
}

teardown_file() {
  GNUPGHOME=$PUB gpgconf --kill all 2>/dev/null || true
  registry_stop_all "$BATS_FILE_TMPDIR"
}

setup() {
  requires registry
  command -v gpg >/dev/null || skip "needs gpg (package gnupg)"
  [[ -n ${DIGEST:-} ]] || skip "setup_file could not push the images"
  CONF=$BATS_TEST_TMPDIR/conf
  SYSCONF=$BATS_TEST_TMPDIR/sysconf
  T_HOME=$BATS_TEST_TMPDIR/home
  T_TMP=$BATS_TEST_TMPDIR/tmp
  mkdir -p "$CONF/certs.d/$REGISTRY" "$CONF/registries.d" "$SYSCONF" "$T_HOME" "$T_TMP"
  cp "$REGISTRY_CA" "$CONF/certs.d/$REGISTRY/ca.crt"
  printf 'docker:\n  %s:\n    lookaside: http://127.0.0.1:%s\n' "$REGISTRY" "$LOOKASIDE_PORT" \
    >"$CONF/registries.d/test.yaml"
  APPC_PREFIX=${REGISTRY/:/-}/test
}

teardown() {
  teardown_pods
}

# podrun on this test's store and configuration, the publisher's keyring as GNUPGHOME
# (podrun must not look at it).
podrun() {
  GNUPGHOME=$PUB HOME=$T_HOME TMPDIR=$T_TMP "$PODRUN" --dir="$STORE" --local-config="$CONF" \
    --system-config="$SYSCONF" "$@"
}

trust_key() {
  run_podrun trust --prefix="$1" --skip-fingerprint-review "$BATS_FILE_TMPDIR/$2.asc"
  assert_status 0
}

policy() {
  printf '%s\n' "$1" >"$CONF/policy.json"
}

nothing_left() {
  run_podrun image list --no-legend
  [[ -z "$output" ]] || fail "an image entered the store: $output"
  local left
  left=$(find "$STORE/cas/blob" "$STORE/cas/layer" -mindepth 1 -not -type d 2>/dev/null)
  [[ -z $left ]] || fail "left in the store: $left"
  no_gpg_left
}

no_gpg_left() {
  [[ -z "$(ls -A "$T_TMP")" ]] || fail "left in TMPDIR: $(ls -A "$T_TMP")"
  ! pgrep -f "$T_TMP/podrun-gpg" >/dev/null || fail "a gpg process is left: $(pgrep -af "$T_TMP/podrun-gpg")"
  [[ ! -e "$T_HOME/.gnupg" ]] || fail "~/.gnupg was made"
}

refused() {
  assert_one_line_error "$@"
  nothing_left
}

@test "sigstore: a signed registry image whose key is trusted is fetched and runs without --insecure-options" {
  trust_key "$APPC_PREFIX" trusted
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  [[ $output =~ ^sha256-[0-9a-f]{64}$ ]] || fail "not an id: $output"
  no_gpg_left
  grep -q "GET /test/busybox@sha256=${DIGEST#sha256:}/signature-1 200" "$LOOKASIDE_LOG" ||
    fail "the lookaside was not asked: $(cat "$LOOKASIDE_LOG")"
  run_podrun image list --format=json
  assert_status 0
  [[ $(json_query 'j[0]["signer_fingerprint"]' <<<"$output") == "$FPR_TRUSTED" ]] || fail "signer"
  [[ $(json_query 'j[0]["signer_prefix"]' <<<"$output") == "$APPC_PREFIX" ]] || fail "prefix"
  [[ $(json_query 'j[0]["verified_time"]' <<<"$output") == 20* ]] || fail "verified_time"
  run_podrun run --stage1=fly "docker://$REGISTRY/test/busybox:1" --exec=/bin/echo -- signed hello ---
  assert_status 0
  assert_output_contains "signed hello"
  run_podrun prepare --stage1=fly "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  # by digest: the claim's tag does not matter, its repository does
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox@$DIGEST"
  assert_status 0
  # a file:// lookaside, the signature verified again (--pull-policy=update)
  printf 'docker:\n  %s/test:\n    sigstore: file://%s\n' "$REGISTRY" "$SIGS" >"$CONF/registries.d/test.yaml"
  : >"$LOOKASIDE_LOG"
  run_podrun fetch --quiet --pull-policy=update "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  [[ ! -s $LOOKASIDE_LOG ]] || fail "the http lookaside was asked: $(cat "$LOOKASIDE_LOG")"
  run_podrun fetch --quiet --pull-policy=update "docker://$REGISTRY/test/unsigned:1"
  assert_one_line_error "unsigned: the lookaside \"file://$SIGS\""
  no_gpg_left
}

@test "sigstore: the signature of another digest, of another repository, of another tag is refused" {
  trust_key "$APPC_PREFIX" trusted
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:other"
  refused "signs manifest \"$DIGEST\", not sha256:"
  run_podrun fetch --quiet "docker://$REGISTRY/test/moved:1"
  refused "signs \"$REGISTRY/test/busybox:1\", not $REGISTRY/test/moved:1"
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:2"
  refused "signs \"$REGISTRY/test/busybox:1\", not $REGISTRY/test/busybox:2"
}

@test "sigstore: a missing signature is refused naming --insecure-options=image, which fetches it unverified" {
  trust_key "$APPC_PREFIX" trusted
  run_podrun fetch --quiet "docker://$REGISTRY/test/unsigned:1"
  refused "unsigned" "http://127.0.0.1:$LOOKASIDE_PORT" "--insecure-options=image"
  run_podrun --insecure-options=image fetch --quiet "docker://$REGISTRY/test/unsigned:1"
  assert_status 0
  run_podrun image list --format=json
  [[ $(json_query 'j[0]["signer_fingerprint"]' <<<"$output") == null ]] || fail "an unverified image has a signer"
  # the store's unverified copy is no verified image later
  run_podrun fetch --quiet "docker://$REGISTRY/test/unsigned:1"
  assert_one_line_error "fetched unverified"
  no_gpg_left
}

@test "sigstore: a signature by an untrusted key, with no key trusted, garbage, a key, a compression bomb is refused" {
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  refused "no key is trusted for \"$APPC_PREFIX/busybox\""
  trust_key "$APPC_PREFIX" trusted
  run_podrun fetch --quiet "docker://$REGISTRY/test/other:1"
  refused "signed by key" "which is not trusted"
  run_podrun fetch --quiet "docker://$REGISTRY/test/garbage:1"
  refused "not a signature"
  run_podrun fetch --quiet "docker://$REGISTRY/test/key:1"
  refused "not a signature"
  # signed by the trusted key, but its text is cut off at 64 KiB as gpg writes it
  [[ $(stat -c %s "$(sigdir test/bomb "$DIGEST")/signature-1") -lt 100000 ]] || fail "the bomb is no bomb"
  run_podrun fetch --quiet "docker://$REGISTRY/test/bomb:1"
  refused "its text is larger than 64 KiB"
  # a key trusted for another prefix is no key for this one
  run_podrun trust --remove "$FPR_TRUSTED"
  trust_key "$APPC_PREFIX/busybox-elsewhere" trusted
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  refused "no key is trusted"
}

@test "sigstore: policy reject refuses even with --insecure-options=image; insecureAcceptAnything needs no flag" {
  trust_key "$APPC_PREFIX" trusted
  policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys"}],
           "transports": {"docker": {"'"$REGISTRY"'/test/busybox": [{"type": "reject"}],
                                     "'"$REGISTRY"'/test/unsigned": [{"type": "insecureAcceptAnything"}]}}}'
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  refused "rejected by policy \"$CONF/policy.json\" ($REGISTRY/test/busybox)"
  run_podrun --insecure-options=image fetch --quiet "docker://$REGISTRY/test/busybox:1"
  refused "rejected by policy"
  # the most specific scope wins: a tag of the rejected repository may be allowed
  policy '{"default": [{"type": "reject"}],
           "transports": {"docker": {"'"$REGISTRY"'/test/busybox": [{"type": "reject"}],
                                     "'"$REGISTRY"'/test/busybox:1": [{"type": "signedBy", "keyType": "GPGKeys"}],
                                     "'"$REGISTRY"'/test/unsigned": [{"type": "insecureAcceptAnything"}]}}}'
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  run_podrun fetch --quiet "docker://$REGISTRY/test/unsigned:1"
  assert_status 0
  run_podrun image list --format=json
  # (the same image under both names: one image)
  [[ $(json_query 'len(j)' <<<"$output") == 1 ]] || fail "one image expected"
  # an unlisted repository gets the default (here: reject)
  run_podrun --insecure-options=image fetch --quiet "docker://$REGISTRY/test/other:1"
  assert_one_line_error "rejected by policy" "(default)"
  no_gpg_left
}

@test "sigstore: signedBy with keyPath or keyData verifies with the policy's keys, not the trust store" {
  local keydata
  keydata=$(base64 -w0 "$BATS_FILE_TMPDIR/trusted.asc")
  policy '{"default": [{"type": "reject"}],
           "transports": {"docker": {"'"$REGISTRY"'/test": [{"type": "signedBy", "keyType": "GPGKeys",
                                                             "keyPath": "'"$BATS_FILE_TMPDIR/trusted.asc"'"}]}}}'
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  run_podrun image list --format=json
  [[ $(json_query 'j[0]["signer_fingerprint"]' <<<"$output") == "$FPR_TRUSTED" ]] || fail "signer"
  [[ $(json_query 'j[0]["signer_prefix"]' <<<"$output") == "$REGISTRY/test" ]] || fail "prefix"
  run_podrun fetch --quiet "docker://$REGISTRY/test/other:1"
  assert_one_line_error "not one of the keys policy.json gives for \"$REGISTRY/test\""
  run_podrun image rm "$(store_ids)"
  policy '{"default": [{"type": "reject"}],
           "transports": {"docker": {"'"$REGISTRY"'": [{"type": "signedBy", "keyType": "GPGKeys",
                                                        "keyData": "'"$keydata"'"}]}}}'
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  # matchRepository lets the other tag's claim do
  policy '{"default": [{"type": "reject"}],
           "transports": {"docker": {"'"$REGISTRY"'": [{"type": "signedBy", "keyType": "GPGKeys",
              "keyData": "'"$keydata"'", "signedIdentity": {"type": "matchRepository"}}]}}}'
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:2"
  assert_status 0
  no_gpg_left
}

@test "sigstore: a malformed policy.json or registries.d file is one line naming the file" {
  policy '{"default": [{"type": "signedBy"}]}'
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  refused "policy \"$CONF/policy.json\"" "GPGKeys"
  policy '{"default": [{"type": "accept"}]}'
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  refused "policy \"$CONF/policy.json\": default[0]" "\"accept\""
  policy '{"default": [{"type": "reject"}], "transports": {"docker": {"no such/Scope!": [{"type": "reject"}]}}}'
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  refused "not a scope"
  policy '{"default": [{"type": "reject"}'
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  refused "policy \"$CONF/policy.json\"" "invalid JSON"
  rm "$CONF/policy.json"
  printf 'docker:\n  - a list\n' >"$CONF/registries.d/bad.yaml"
  trust_key "$APPC_PREFIX" trusted
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  refused "registries.d \"$CONF/registries.d/bad.yaml\": line"
  printf 'docker:\n  x: [unclosed\n' >"$CONF/registries.d/bad.yaml"
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  refused "registries.d \"$CONF/registries.d/bad.yaml\": line"
}

@test "sigstore: the registry's signature extension is used when no lookaside is configured" {
  server_start registry "$LAYOUT" "$SIGS"
  local ext=127.0.0.1:$SERVER_PORT
  rm "$CONF/registries.d/test.yaml"
  trust_key "${ext/:/-}/test" trusted
  # the claim names $REGISTRY/test/busybox:1: for this registry's name it is another image
  run_podrun --insecure-options=http fetch --quiet "docker://$ext/test/busybox:bb"
  refused "signs \"$REGISTRY/test/busybox:1\", not $ext/test/busybox:bb"
  grep -q "GET /extensions/v2/test/busybox/signatures/$DIGEST 200" "$SERVER_LOG" ||
    fail "the extension was not asked: $(cat "$SERVER_LOG")"
  # exactReference says which name the publisher signed
  policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys",
           "signedIdentity": {"type": "exactReference", "dockerReference": "'"$REGISTRY"'/test/busybox:1"}}]}'
  run_podrun --insecure-options=http fetch --quiet "docker://$ext/test/busybox:bb"
  assert_status 0
  # no signature there: unsigned
  run_podrun --insecure-options=http fetch --quiet "docker://$ext/test/unsigned:bb"
  assert_one_line_error "unsigned" "the registry"
  no_gpg_left
}

@test "sigstore: the installed system policy (conf/policy.json) is used when the local configuration has none" {
  cp "$E2E_ROOT/conf/policy.json" "$SYSCONF/policy.json"
  trust_key "$APPC_PREFIX" trusted
  run_podrun fetch --quiet "docker://$REGISTRY/test/unsigned:1"
  refused "unsigned"
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  # a local policy.json replaces it whole
  policy '{"default": [{"type": "reject"}]}'
  run_podrun fetch --quiet --pull-policy=update "docker://$REGISTRY/test/busybox:1"
  assert_one_line_error "rejected by policy \"$CONF/policy.json\" (default)"
  printf '{"default": []}\n' >"$SYSCONF/policy.json"
  rm "$CONF/policy.json"
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  assert_one_line_error "policy \"$SYSCONF/policy.json\": default: must be a non-empty list"
}

@test "sigstore: a manifest list is verified by the list's signature or by its platform manifest's" {
  trust_key "$APPC_PREFIX" trusted
  run_podrun fetch --quiet "docker://$REGISTRY/test/list:1"
  assert_status 0
  [[ $output == "$LIST1_HOST_ID" ]] || fail "not the host platform's image: $output"
  run_podrun fetch --quiet "docker://$REGISTRY/test/list2:1"
  assert_status 0
  [[ $output == "$LIST2_HOST_ID" ]] || fail "not the host platform's image: $output"
  grep -q "GET /test/list2@sha256=[0-9a-f]*/signature-1 200" "$LOOKASIDE_LOG" || fail "the instance's signature was not read"
  # another platform of list2: neither the list nor that manifest is signed
  run_podrun fetch --quiet --arch="$LIST_OTHER_ARCH" "docker://$REGISTRY/test/list2:1"
  assert_one_line_error "unsigned"
  no_gpg_left
}

# sig_blob FILE: where the store keeps FILE's bytes as a blob (cas/blob/sha256).
sig_blob() {
  local hex
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  echo "$STORE/cas/blob/sha256/${hex:0:2}/$hex"
}

# verify_ok ID WANT: image verify of ID succeeds, its line on stdout is "ID NAME WANT".
verify_ok() {
  run_podrun image verify "$1"
  assert_status 0
  [[ ${lines[0]} == "$1 "*" $2" ]] || fail "image verify: not \"$2\": ${lines[0]}"
}

# no_blobs: the store has no blob at all (nor layer tree) once its images are gone.
no_blobs() {
  local left
  left=$(find "$STORE/cas/blob" "$STORE/cas/layer" -mindepth 1 -not -type d 2>/dev/null)
  [[ -z $left ]] || fail "left in the store: $left"
}

@test "sigstore: image verify checks the kept signature again: a removed key, a reject, a tampered blob fail it; rm and gc leave none" {
  trust_key "$APPC_PREFIX" trusted
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  local id=$output sig manifest
  sig=$(sig_blob "$(sigdir test/busybox "$DIGEST")/signature-1")
  [[ -f $sig ]] || fail "the signature is not kept as a blob ($sig)"
  manifest=$STORE/cas/blob/sha256/${DIGEST:7:2}/${DIGEST#sha256:}
  [[ -f $manifest ]] || fail "no manifest blob"
  # from the store alone: the lookaside is not asked
  : >"$LOOKASIDE_LOG"
  verify_ok "$id" "ok"
  [[ ! -s $LOOKASIDE_LOG ]] || fail "image verify asked the lookaside: $(cat "$LOOKASIDE_LOG")"
  no_gpg_left
  # what the listing and --signer show is unchanged
  run_podrun image cat-manifest --signer "$id"
  [[ $(json_query 'j["signer_fingerprint"]' <<<"$output") == "$FPR_TRUSTED" ]] || fail "signer: $output"
  # today's policy: a reject fails it whatever the flags
  policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys"}],
           "transports": {"docker": {"'"$REGISTRY"'/test/busybox": [{"type": "reject"}]}}}'
  run_podrun --insecure-options=image image verify "$id"
  assert_one_line_error "image \"$id\"" "rejected by policy \"$CONF/policy.json\" ($REGISTRY/test/busybox)"
  [[ ${lines[0]} == "$id $REGISTRY/test/busybox:1 rejected by policy"* ]] || fail "stdout: ${lines[0]}"
  # keys given by the policy instead of the trust store: the other key's are no keys for it
  policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "'"$BATS_FILE_TMPDIR/other.asc"'"}]}'
  run_podrun image verify "$id"
  assert_one_line_error "image \"$id\"" "not one of the keys policy.json gives"
  rm "$CONF/policy.json"
  # today's trust store: the key removed fails it, trusted again passes it
  run_podrun trust --remove "$FPR_TRUSTED"
  assert_status 0
  run_podrun image verify "$id"
  assert_one_line_error "image \"$id\"" "signature" "no key is trusted for \"$APPC_PREFIX/busybox\""
  trust_key "$APPC_PREFIX" trusted
  verify_ok "$id" "ok"
  # a changed byte of the kept signature, of the manifest
  cp "$sig" "$BATS_TEST_TMPDIR/sig"
  printf 'x' | dd of="$sig" bs=1 seek=20 conv=notrunc status=none
  run_podrun image verify "$id"
  assert_one_line_error "image \"$id\"" "signature sha256-" "digest mismatch"
  cp "$BATS_TEST_TMPDIR/sig" "$sig"
  cp "$manifest" "$BATS_TEST_TMPDIR/manifest"
  printf ' ' >>"$manifest"
  run_podrun image verify "$id"
  assert_one_line_error "image \"$id\"" "manifest sha256-" "digest mismatch"
  cp "$BATS_TEST_TMPDIR/manifest" "$manifest"
  verify_ok "$id" "ok"
  # the kept bytes are what is verified: the index made to name another key's
  # signature of the same manifest (a blob of its own) fails it
  local other ohex
  other=$(sigdir test/other "$DIGEST")/signature-1
  ohex=$(sha256sum "$other" | cut -d' ' -f1)
  mkdir -p "$STORE/cas/blob/sha256/${ohex:0:2}"
  cp "$other" "$STORE/cas/blob/sha256/${ohex:0:2}/$ohex"
  python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE image_signatures SET digest = ?", ("sha256-" + sys.argv[2],))
db.commit()' "$STORE/cas/index.db" "$ohex" || fail "cannot edit the index"
  run_podrun image verify "$id"
  assert_one_line_error "image \"$id\"" "signature kept as sha256-$ohex" "signed by key" "which is not trusted"
  python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE image_signatures SET digest = ?", ("sha256-" + sys.argv[2],))
db.commit()' "$STORE/cas/index.db" "$(basename "$sig")" || fail "cannot edit the index"
  rm "$STORE/cas/blob/sha256/${ohex:0:2}/$ohex"
  verify_ok "$id" "ok"
  no_gpg_left
  # the signature goes with the image: rm, then gc
  run_podrun image rm "$id"
  assert_status 0
  no_blobs
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  [[ -f $sig ]] || fail "the signature is not kept again"
  run_podrun image gc --grace-period=0
  assert_status 0
  no_blobs
}

@test "sigstore: image verify of a list's signature, of images let in unsigned, and of one fetched before signatures were kept" {
  trust_key "$APPC_PREFIX" trusted
  # signed as a list: the list is kept, and must still name the image's manifest
  run_podrun fetch --quiet "docker://$REGISTRY/test/list:1"
  assert_status 0
  local id=$output ld list
  ld=$(digest_of test/list:1)
  list=$STORE/cas/blob/sha256/${ld:7:2}/${ld#sha256:}
  [[ -f $list ]] || fail "the manifest list is not kept"
  verify_ok "$id" "ok"
  printf ' ' >>"$list"
  run_podrun image verify "$id"
  assert_one_line_error "image \"$id\"" "manifest list sha256-" "digest mismatch"
  run_podrun image rm "$id"
  no_blobs
  # signed on its platform's manifest only
  run_podrun fetch --quiet "docker://$REGISTRY/test/list2:1"
  assert_status 0
  id=$output
  verify_ok "$id" "ok"
  run_podrun image rm "$id"
  no_blobs
  # let in unsigned: by policy, by --insecure-options=image; a reject fails it still
  policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys"}],
           "transports": {"docker": {"'"$REGISTRY"'/test/unsigned": [{"type": "insecureAcceptAnything"}]}}}'
  run_podrun fetch --quiet "docker://$REGISTRY/test/unsigned:1"
  assert_status 0
  id=$output
  verify_ok "$id" "ok (unsigned: policy.json accepts it (insecureAcceptAnything))"
  rm "$CONF/policy.json"
  verify_ok "$id" "ok (unsigned: let in by policy.json's insecureAcceptAnything)"
  run_podrun image rm "$id"
  run_podrun --insecure-options=image fetch --quiet "docker://$REGISTRY/test/unsigned:1"
  assert_status 0
  verify_ok "$id" "ok (unsigned: fetched with --insecure-options=image)"
  policy '{"default": [{"type": "reject"}]}'
  run_podrun image verify "$id"
  assert_one_line_error "image \"$id\"" "rejected by policy" "(default)"
  rm "$CONF/policy.json"
  run_podrun image rm "$id"
  no_blobs
  # a signed image whose signature a policy no longer asks for
  run_podrun fetch --quiet "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  id=$output
  policy '{"default": [{"type": "insecureAcceptAnything"}]}'
  verify_ok "$id" "ok (signature not checked: policy.json accepts it unsigned now (insecureAcceptAnything))"
  rm "$CONF/policy.json"
  # as an older podrun left it (a signer, nothing kept): not a failure, and said
  python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("UPDATE images SET policy_reference = NULL, policy_decision = NULL; DELETE FROM image_signatures;")
db.close()' "$STORE/cas/index.db" || fail "cannot edit the index"
  verify_ok "$id" "ok (no signature kept: fetched by an older podrun; fetch it again with --pull-policy=update)"
  run_podrun fetch --quiet --pull-policy=update "docker://$REGISTRY/test/busybox:1"
  assert_status 0
  verify_ok "$id" "ok"
  no_gpg_left
}

@test "sigstore: remapIdentity lets a mirror's name stand for the name signed, by whole components, the tag kept" {
  local port=${REGISTRY##*:}
  local mirror=localhost:$port
  mkdir -p "$CONF/certs.d/$mirror"
  cp "$REGISTRY_CA" "$CONF/certs.d/$mirror/ca.crt"
  printf 'docker:\n  %s:\n    lookaside: http://127.0.0.1:%s\n' "$mirror" "$LOOKASIDE_PORT" >"$CONF/registries.d/mirror.yaml"
  trust_key "localhost-$port/test" trusted
  run_podrun fetch --quiet "docker://$mirror/test/busybox:1"
  refused "signs \"$REGISTRY/test/busybox:1\", not $mirror/test/busybox:1"
  # a prefix that is no prefix by whole components remaps nothing
  policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "signedIdentity":
           {"type": "remapIdentity", "prefix": "'"$mirror"'/tes", "signedPrefix": "'"$REGISTRY"'/tes"}}]}'
  run_podrun fetch --quiet "docker://$mirror/test/busybox:1"
  refused "signs \"$REGISTRY/test/busybox:1\", not $mirror/test/busybox:1"
  policy '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "signedIdentity":
           {"type": "remapIdentity", "prefix": "'"$mirror"'/test", "signedPrefix": "'"$REGISTRY"'/test"}}]}'
  run_podrun fetch --quiet "docker://$mirror/test/busybox:1"
  assert_status 0
  verify_ok "$output" "ok"
  # the tag is kept: the claim of :1 is none of :2
  run_podrun fetch --quiet "docker://$mirror/test/busybox:2"
  assert_one_line_error "signs \"$REGISTRY/test/busybox:1\", not $mirror/test/busybox:2"
  no_gpg_left
}
