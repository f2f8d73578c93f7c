#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# podrun fetch/run of appc images over https: a URL, and a name by appc meta
# discovery. nginx on loopback, started by this file with a CA made here: on port
# 443 of 127.0.0.1 (discovery asks https://NAME/…, so the name is localhost/…) and on
# a free port for plain http. The building blocks (http.c, discovery.c,
# fetch-aci.c) have discovery.bats; this is what the command line makes of them.

load helpers

setup_file() {
  command -v nginx >/dev/null && command -v openssl >/dev/null && [[ $(id -u) -eq 0 ]] || return 0
  # discovery has no port: the server must be https://localhost/
  python3 -c 'import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 443))' \
    2>/dev/null || return 0
  local d=$BATS_FILE_TMPDIR/srv
  mkdir -p "$d/root" "$d/tmp" "$d/conf/certs.d/localhost" "$d/conf/certs.d/127.0.0.1"
  make_test_ca "$d" || return 1
  cp "$d/ca.crt" "$d/conf/certs.d/localhost/ca.crt"
  cp "$d/ca.crt" "$d/conf/certs.d/127.0.0.1/ca.crt"
  export HTTP_PORT=$(free_port) SRV=$d
  nginx_conf "$d" '$server_port $request_method $request_uri $status' "
  server { listen 127.0.0.1:443 ssl; }
  server { listen 127.0.0.1:$HTTP_PORT; }"
  # a publisher's key, and another one
  export PUB=$BATS_FILE_TMPDIR/gnupg
  mkdir -m 0700 "$PUB"
  GNUPGHOME=$PUB gpg --batch --quiet --passphrase '' --quick-gen-key 'Publisher <pub@podrun.test>' ed25519 sign never 2>/dev/null
  GNUPGHOME=$PUB gpg --batch --quiet --passphrase '' --quick-gen-key 'Other <other@podrun.test>' ed25519 sign never 2>/dev/null
  GNUPGHOME=$PUB gpg --armor --export pub@podrun.test >"$d/pub.asc"
  GNUPGHOME=$PUB gpg --armor --export other@podrun.test >"$d/other.asc"
  nginx_start "$d" 443 "$HTTP_PORT"
}

teardown_file() {
  [[ -z ${PUB:-} ]] || GNUPGHOME=$PUB gpgconf --kill all 2>/dev/null || true
  [[ -z ${SRV:-} ]] || nginx_stop "$SRV"
}

setup() {
  requires root python3
  command -v nginx >/dev/null || skip "needs nginx (package nginx-light)"
  [[ -n ${SRV:-} ]] || skip "port 443 of 127.0.0.1 is taken (appc discovery asks https://NAME/ on it)"
  T=t$BATS_TEST_NUMBER
  ROOT=$SRV/root/$T
  mkdir -p "$ROOT"
}

teardown() {
  teardown_pods
}

# hp ARGS…: podrun with the test's configuration (its CA in certs.d).
hp() {
  run_podrun --local-config="$SRV/conf" --system-config="$BATS_TEST_TMPDIR/sysconf" "$@"
}

# sign FILE [USER]: FILE.asc, signed by the publisher (or USER).
sign() {
  GNUPGHOME=$PUB gpg --batch --yes --quiet --local-user "${2:-pub@podrun.test}" --armor --detach-sign --output "$1.asc" "$1"
}

# busybox_named OUT NAME VERSION: the busybox ACI under another name and version.
busybox_named() {
  local d=$BATS_TEST_TMPDIR/named
  rm -rf "$d"
  mkdir -p "$d" "$(dirname "$1")"
  bsdtar -xf "$BUSYBOX_ACI" -C "$d"
  python3 - "$d/manifest" "$2" "$3" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["name"] = sys.argv[2]
m["labels"] = [l for l in m.get("labels", []) if l["name"] != "version"] + [{"name": "version", "value": sys.argv[3]}]
json.dump(m, open(sys.argv[1], "w"))
PY
  (cd "$d" && bsdtar --format=pax -cf "$1" manifest rootfs)
}

# requests PATH: how many requests nginx logged for PATH (any port).
requests() {
  grep -c " GET $1 " "$SRV/access.log" || true
}

@test "https: fetch of an unsigned ACI by URL needs --insecure-options=image; then stored, again without a request, --pull-policy=update asks with its ETag" {
  cp "$BUSYBOX_ACI" "$ROOT/bb.aci"
  local url=https://127.0.0.1/$T/bb.aci want
  want=$(aci_id "$BUSYBOX_ACI")
  hp fetch "$url"
  assert_one_line_error "unsigned"
  assert_stderr_contains "--insecure-options=image"
  [[ -z $(ls "$STORE/cas/blob/sha512" 2>/dev/null) ]] || fail "an unverified image entered the store"
  # (the refusal came after the download: the signature is checked against what came)
  [[ $(requests "/$T/bb.aci") -eq 1 ]]
  hp --insecure-options=image fetch "$url"
  assert_status 0
  [[ $output == "$want" ]] || fail "fetched $output, not $want"
  [[ $(requests "/$T/bb.aci") -eq 2 ]]
  hp --insecure-options=image fetch "$url"
  assert_status 0
  [[ $output == "$want" ]]
  [[ $(requests "/$T/bb.aci") -eq 2 ]] || fail "a second fetch asked the server again"
  hp --insecure-options=image fetch --pull-policy=update "$url"
  assert_status 0
  [[ $output == "$want" ]]
  [[ $(requests "/$T/bb.aci") -eq 3 ]] || fail "--pull-policy=update did not ask once"
  grep -q " GET /$T/bb.aci 304" "$SRV/access.log" || fail "the update was not answered 304 (no ETag sent?)"
  [[ -z $(ls "$STORE/cas/blob/partial") ]] || fail "a partial is left"
}

@test "https: a URL the server lacks, plain http without --insecure-options=http, and --pull-policy=never are refused with one line" {
  hp --insecure-options=image fetch "https://127.0.0.1/$T/none.aci"
  assert_one_line_error "not found"
  cp "$BUSYBOX_ACI" "$ROOT/bb.aci"
  hp --insecure-options=image fetch "http://127.0.0.1:$HTTP_PORT/$T/bb.aci"
  assert_one_line_error "--insecure-options=http"
  hp --insecure-options=image,http fetch "http://127.0.0.1:$HTTP_PORT/$T/bb.aci"
  assert_status 0
  hp --insecure-options=image fetch --pull-policy=never "https://127.0.0.1/$T/bb.aci"
  assert_one_line_error "--pull-policy=never"
  run_podrun image list --no-legend
  [[ ${#lines[@]} -eq 1 ]] || fail "expected the one image fetched over http"
}

@test "https: run NAME:VERSION finds the image by appc discovery, runs it, and then uses the store's" {
  local name=localhost/$T/app arch
  arch=$ACI_ARCH
  mkdir -p "$ROOT/aci"
  printf '<html><head><meta name="ac-discovery" content="localhost/%s https://localhost/%s/aci/{name}-{version}-{os}-{arch}.{ext}"></head></html>\n' \
    "$T" "$T" >"$ROOT/app"
  mkdir -p "$ROOT/aci/localhost/$T"
  busybox_named "$ROOT/aci/localhost/$T/app-1.0-linux-$arch.aci" "$name" 1.0
  hp --insecure-options=image fetch "$name:1.0"
  assert_status 0
  [[ $output == "$(aci_id "$ROOT/aci/localhost/$T/app-1.0-linux-$arch.aci")" ]] || fail "not the discovered ACI"
  local n
  n=$(requests "/$T/app?ac-discovery=1")
  [[ $n -eq 1 ]] || fail "discovery asked $n times"
  # in the store now: the name resolves without the server
  hp --insecure-options=image run --stage1=fly "$name:1.0" --exec=/bin/echo -- ran from the store ---
  assert_status 0
  assert_output_contains "ran from the store"
  [[ $(requests "/$T/app?ac-discovery=1") -eq 1 ]] || fail "run asked the server again"
  # a version the server does not have: refused with one line, nothing stored
  hp --insecure-options=image fetch "$name:2.0"
  assert_status 254
  assert_one_line_error
  run_podrun image list --no-legend
  [[ $(grep -c "$name" <<<"$output") -eq 1 ]] || fail "a second image of the name was stored"
  # --pull-policy=never: a name the store lacks is not looked for
  hp --insecure-options=image fetch --pull-policy=never "localhost/$T/other"
  assert_one_line_error "--pull-policy=never"
}

@test "https: a signed image fetched by name over https runs without any --insecure-options" {
  local name=localhost/$T/app aci
  printf '<html><head><meta name="ac-discovery" content="localhost/%s https://localhost/%s/{name}-{version}-{os}-{arch}.{ext}"></head></html>\n' \
    "$T" "$T" >"$ROOT/app"
  aci=$ROOT/localhost/$T/app-1.0-linux-$ACI_ARCH.aci
  busybox_named "$aci" "$name" 1.0
  sign "$aci"
  # no key trusted yet: refused, naming the prefix, nothing stored
  hp fetch "$name:1.0"
  assert_one_line_error "podrun trust --prefix"
  [[ -z $(ls "$STORE/cas/blob/sha512" 2>/dev/null) ]] || fail "an unverified image entered the store"
  hp trust --prefix="localhost/$T" --skip-fingerprint-review "$SRV/pub.asc"
  assert_status 0
  hp run --stage1=fly "$name:1.0" --exec=/bin/echo -- signed and run ---
  assert_status 0
  assert_output_contains "signed and run"
  run_podrun image list --format=json
  assert_output_contains '"signer_prefix":"localhost/'"$T"'"'
}

@test "https: a signature by another key, of another image, or none, is refused and nothing is stored; an unverified copy in the store is not passed off as verified" {
  local url=https://127.0.0.1/$T/bb.aci
  cp "$BUSYBOX_ACI" "$ROOT/bb.aci"
  hp trust --prefix=podrun.test --skip-fingerprint-review "$SRV/pub.asc"
  assert_status 0
  hp fetch "$url"
  assert_one_line_error "unsigned"
  sign "$ROOT/bb.aci" other@podrun.test
  hp fetch "$url"
  assert_status 254
  assert_one_line_error
  cp "$BUSYBOX_ACI" "$BATS_TEST_TMPDIR/x" && echo tampered >>"$BATS_TEST_TMPDIR/x" && sign "$BATS_TEST_TMPDIR/x"
  cp "$BATS_TEST_TMPDIR/x.asc" "$ROOT/bb.aci.asc"
  hp fetch "$url"
  assert_status 254
  assert_one_line_error
  [[ -z $(ls "$STORE/cas/blob/sha512" 2>/dev/null) ]] || fail "an unverified image entered the store"
  [[ -z $(ls "$STORE/cas/blob/partial" 2>/dev/null) ]] || fail "a partial is left"
  # fetched unverified on purpose, then asked for verified: refused, not taken from the store
  hp --insecure-options=image fetch "$url"
  assert_status 0
  sign "$ROOT/bb.aci"
  hp fetch "$url"
  assert_one_line_error "fetched unverified"
}

# discovery_page NAME TEMPLATE-PATH [PUBKEY-URL…]: the page of localhost/$T
# naming a template and keys.
discovery_page() {
  local out=$ROOT/$1 k
  {
    printf '<html><head><meta name="ac-discovery" content="localhost/%s https://localhost/%s/{name}-{version}-{os}-{arch}.{ext}">\n' "$T" "$T"
    for k in "${@:2}"; do
      printf '<meta name="ac-discovery-pubkeys" content="localhost/%s %s">\n' "$T" "$k"
    done
    printf '</head></html>\n'
  } >"$out"
}

key_file() {
  echo "$SRV/conf/trustedkeys/prefix.d/${1//\//,}/$2"
}

fpr_of() {
  GNUPGHOME=$PUB gpg --with-colons --list-keys "$1" | awk -F: '/^fpr/ { print tolower($10); exit }'
}

@test "https: trust KEY by URL: https, http only with --insecure-options=http, a 404 and an oversized key refused with one line" {
  cp "$SRV/pub.asc" "$ROOT/pub.asc"
  local fpr
  fpr=$(fpr_of pub@podrun.test)
  hp trust --prefix="localhost/$T" --skip-fingerprint-review "https://localhost/$T/pub.asc"
  assert_status 0
  assert_output_contains "Added key $fpr for prefix \"localhost/$T\""
  cmp "$SRV/pub.asc" "$(key_file "localhost/$T" "$fpr")"
  hp trust --prefix="localhost/$T/b" --skip-fingerprint-review "http://127.0.0.1:$HTTP_PORT/$T/pub.asc"
  assert_one_line_error "plain http needs --insecure-options=http"
  [[ ! -e $SRV/conf/trustedkeys/prefix.d/localhost,$T,b ]] || fail "a key was added"
  hp --insecure-options=http trust --prefix="localhost/$T/b" --skip-fingerprint-review "http://127.0.0.1:$HTTP_PORT/$T/pub.asc"
  assert_status 0
  hp trust --prefix="localhost/$T/c" --skip-fingerprint-review "https://localhost/$T/none.asc"
  assert_one_line_error "https://localhost/$T/none.asc" "not found"
  head -c 2000000 /dev/zero >"$ROOT/big.asc"
  hp trust --prefix="localhost/$T/c" --skip-fingerprint-review "https://localhost/$T/big.asc"
  assert_one_line_error "too large"
  # on no terminal, the review refuses
  hp trust --prefix="localhost/$T/c" "https://localhost/$T/pub.asc" </dev/null
  assert_one_line_error "not a terminal"
  [[ ! -e $SRV/conf/trustedkeys/prefix.d/localhost,$T,c ]] || fail "a key was added"
}

@test "https: trust --prefix without KEY trusts the keys the prefix's discovery names (ac-discovery-pubkeys), reviewed; none named is an error" {
  cp "$SRV/pub.asc" "$ROOT/pub.asc"
  cp "$SRV/other.asc" "$ROOT/other.asc"
  discovery_page app "https://localhost/$T/pub.asc" "https://localhost/$T/other.asc"
  hp trust --prefix="localhost/$T/app" </dev/null
  assert_error_lines 2 "key \"https://localhost/$T/pub.asc\": stdin is not a terminal" "key \"https://localhost/$T/other.asc\": stdin"
  hp trust --prefix="localhost/$T/app" --skip-fingerprint-review
  assert_status 0
  [[ ${#lines[@]} -eq 2 ]] || fail "two keys added"
  assert_output_contains "Added key $(fpr_of pub@podrun.test) for prefix \"localhost/$T/app\""
  assert_output_contains "Added key $(fpr_of other@podrun.test) for prefix \"localhost/$T/app\""
  discovery_page bare
  hp trust --prefix="localhost/$T/bare" --skip-fingerprint-review
  assert_one_line_error "localhost/$T/bare" "ac-discovery-pubkeys"
}

@test "https: --trust-keys-from-https trusts the keys discovery names over https on first use, says so, and runs the image; never over http, never beside a trusted key, taken back when the fetch fails" {
  local name=localhost/$T/app aci fpr
  fpr=$(fpr_of pub@podrun.test)
  cp "$SRV/pub.asc" "$ROOT/pub.asc"
  discovery_page app "https://localhost/$T/pub.asc"
  aci=$ROOT/localhost/$T/app-1.0-linux-$ACI_ARCH.aci
  busybox_named "$aci" "$name" 1.0
  sign "$aci" other@podrun.test
  # signed by a key the page does not name: refused, and the key trusted for it taken back
  hp fetch --trust-keys-from-https "$name:1.0"
  assert_status 254
  [[ ${#stderr_lines[@]} -eq 2 && ${stderr_lines[0]} == "podrun: warning: trusting key $fpr for \"$name\""* ]] || fail "notice"
  [[ ${stderr_lines[1]} == "podrun: "*"signed by key $(fpr_of other@podrun.test)"* ]] || fail "refusal"
  [[ ! -e $(key_file "$name" "$fpr") ]] || fail "the key stayed trusted"
  sign "$aci"
  hp run --stage1=fly --trust-keys-from-https "$name:1.0" --exec=/bin/echo -- tofu ---
  assert_status 0
  assert_output_contains "tofu"
  [[ $stderr == "podrun: warning: trusting key $fpr for \"$name\", fetched from https://localhost/$T/pub.asc (--trust-keys-from-https)" ]] ||
    fail "not one notice line naming key and prefix"
  cmp "$SRV/pub.asc" "$(key_file "$name" "$fpr")"
  run_podrun image list --format=json
  assert_output_contains "\"signer_fingerprint\":\"$fpr\""
  # a key is trusted for the name already: the page adds none
  cp "$SRV/other.asc" "$ROOT/other.asc"
  discovery_page app4 "https://localhost/$T/other.asc"
  hp trust --prefix="localhost/$T/app4" --skip-fingerprint-review "$SRV/pub.asc"
  assert_status 0
  aci=$ROOT/localhost/$T/app4-1.0-linux-$ACI_ARCH.aci
  busybox_named "$aci" "localhost/$T/app4" 1.0
  sign "$aci" other@podrun.test
  hp fetch --trust-keys-from-https "localhost/$T/app4:1.0"
  assert_one_line_error "signed by key $(fpr_of other@podrun.test)"
  [[ $(ls "$(dirname "$(key_file "localhost/$T/app4" "$fpr")")") == "$fpr" ]] || fail "a key was added beside the trusted one"
  # over plain http: refused
  discovery_page app2 "http://127.0.0.1:$HTTP_PORT/$T/pub.asc"
  hp --insecure-options=http fetch --trust-keys-from-https "localhost/$T/app2:1.0"
  assert_one_line_error "--trust-keys-from-https"
  # for a file or a URL there is no discovery
  hp fetch --trust-keys-from-https "$BUSYBOX_ACI"
  assert_one_line_error "--trust-keys-from-https is for images found by name"
}
