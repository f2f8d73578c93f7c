#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# appc over https (store/http.c, store/discovery.c, store/fetch-aci.c) through
# build/tests/aci-get, against nginx on loopback started by this file: two https
# servers (ports A and B: another host for the name's page to point to, and
# 127.0.0.1 against localhost) with a CA made here, one plain http server (port C),
# and a python server that accepts TLS and then never answers (port H). Pages, ACIs,
# signatures and keys are files each test writes under its own directory of the
# document root; nginx's log has one line per request.

load helpers

ACI_GET=$BUILD/tests/aci-get

# the servers: A (with the redirects and a cached path), B, plain http C
write_nginx_conf() {
  nginx_conf "$1" '$server_port $request_method $request_uri $status range=$http_range inm=$http_if_none_match' "
  server {
    listen 127.0.0.1:$PORT_A ssl;
    location /cached/ { add_header Cache-Control \"max-age=3600\"; }
    location /moved/ { rewrite ^/moved/(.*)\$ https://127.0.0.1:$PORT_B/\$1 redirect; }
    location /to-http/ { rewrite ^/to-http/(.*)\$ http://127.0.0.1:$PORT_C/\$1 redirect; }
    location /loop/ { rewrite ^ /loop/ redirect; }
  }
  server { listen 127.0.0.1:$PORT_B ssl; }
  server { listen 127.0.0.1:$PORT_C; }"
}

write_hang_server() {
  cat >"$1" <<'PY'
import socket, ssl, sys, threading, time
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
def serve(c):
    try:
        t = ctx.wrap_socket(c, server_side=True)
        t.recv(65536)
        time.sleep(600)  # the request is read, no answer ever comes
    except OSError:
        pass
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
}

setup_file() {
  command -v nginx >/dev/null && command -v openssl >/dev/null || return 0
  local d=$BATS_FILE_TMPDIR/srv
  mkdir -p "$d/root" "$d/tmp" "$d/certs.d"
  make_test_ca "$d" || return 1
  export PORT_A=$(free_port) PORT_B=$(free_port) PORT_C=$(free_port) PORT_H=$(free_port) SRV=$d
  mkdir -p "$d/certs.d/localhost:$PORT_A" "$d/certs.d/127.0.0.1:$PORT_A" "$d/certs.d/127.0.0.1:$PORT_B" \
    "$d/certs.d/localhost:$PORT_B" "$d/certs.d/127.0.0.1:$PORT_H" "$d/certs.d/localhost:$PORT_H"
  for c in "$d"/certs.d/*; do cp "$d/ca.crt" "$c/ca.crt"; done
  write_nginx_conf "$d"
  nginx_start "$d" "$PORT_A" "$PORT_B" "$PORT_C" || return 1
  write_hang_server "$d/hang.py"
  python3 "$d/hang.py" "$PORT_H" "$d/server.crt" "$d/server.key" >"$d/hang.out" 2>&1 &
  echo $! >"$d/hang.started"
  wait_port "$PORT_H" || { cat "$d/hang.out" >&2; return 1; }
}

teardown_file() {
  local d=$BATS_FILE_TMPDIR/srv
  nginx_stop "$d"
  [[ -f $d/hang.started ]] || return 0
  kill "$(cat "$d/hang.started")" 2>/dev/null || true
  wait "$(cat "$d/hang.started")" 2>/dev/null || true
}

setup() {
  command -v nginx >/dev/null || skip "needs nginx (package nginx)"
  command -v openssl >/dev/null || skip "needs openssl"
  requires python3
  [[ -x $ACI_GET ]] || fail "$ACI_GET missing: run 'make tests'"
  STORE=$BATS_TEST_TMPDIR/store
  # this test's files: $ROOT, served as /$T/ by every server
  T=t$BATS_TEST_NUMBER
  ROOT=$SRV/root/$T
  mkdir -p "$ROOT"
  export PODRUN_LOW_SPEED_TIME=2
}

# aget ARGS…: aci-get on this test's store with the test CA, logged (stderr apart).
aget() {
  run --separate-stderr "$ACI_GET" --dir "$STORE" --ca-dir "$SRV/certs.d" "$@"
  echo "\$ aci-get $* (status=$status)"
  [[ -z "$output" ]] || printf '%s\n' "$output" | sed 's/^/  stdout: /'
  [[ -z "$stderr" ]] || printf '%s\n' "$stderr" | sed 's/^/  stderr: /'
  return 0
}

# field NAME: the value of "NAME=…" in the last aget's output.
field() {
  sed -n "s/^$1=//p" <<<"$output" | head -1
}

# requests PORT PATH: how many requests nginx logged for PATH on PORT.
requests() {
  grep -c "^$1 GET $2 " "$SRV/access.log" || true
}

# page FILE META…: a discovery page with these (name content) meta pairs.
page() {
  local f=$1
  shift
  mkdir -p "$(dirname "$f")"
  {
    echo '<!DOCTYPE html><html><head><title>discovery</title>'
    while (($#)); do
      printf '<meta name="%s" content="%s">\n' "$1" "$2"
      shift 2
    done
    echo '</head><body>podrun test</body></html>'
  } >"$f"
}

# publish DIR BASE: the busybox ACI as DIR/BASE.aci, a signature and a key beside it.
publish() {
  mkdir -p "$1"
  cp "$BUSYBOX_ACI" "$1/$2.aci"
  echo "signature of $2" >"$1/$2.aci.asc"
  echo "key" >"$1/keys.gpg"
}

# publish_named DIR BASE NAME [VERSION]: an ACI of that name (and version) as
# DIR/BASE.aci, a signature and a key beside it; $NAMED is its path.
publish_named() {
  mkdir -p "$1"
  NAMED=$1/$2.aci
  make_small_aci "$NAMED" "$3" "${4:-}"
  echo "signature of $2" >"$1/$2.aci.asc"
  echo "key" >"$1/keys.gpg"
}

assert_named() {
  assert_status 0
  [[ $(field id) == "$(aci_id "$NAMED")" ]] || fail "id $(field id) is not that of $NAMED"
}

assert_busybox() {
  assert_status 0
  [[ $(field id) == "$(aci_id "$BUSYBOX_ACI")" ]] || fail "id $(field id) is not busybox's"
}

@test "discovery: a name with a version: the ACI, its signature and the keys the page names" {
  page "$ROOT/app" ac-discovery "localhost/$T/app https://localhost:$PORT_A/$T/aci/{os}/{arch}/{name}-{version}.{ext}" \
    ac-discovery-pubkeys "localhost/$T https://localhost:$PORT_A/$T/keys.gpg"
  publish_named "$ROOT/aci/linux/amd64/localhost/$T" app-1.0 "localhost/$T/app" 1.0
  aget --discovery-port "$PORT_A" --discover "localhost/$T/app:1.0"
  assert_named
  [[ $(field aci) == "https://localhost:$PORT_A/$T/aci/linux/amd64/localhost/$T/app-1.0.aci" ]] || fail "aci URL"
  [[ $(field sig) == "https://localhost:$PORT_A/$T/aci/linux/amd64/localhost/$T/app-1.0.aci.asc" ]] || fail "sig URL"
  [[ $(field pubkey) == "https://localhost:$PORT_A/$T/keys.gpg" ]] || fail "pubkey URL"
  [[ $(field cached) == no ]] || fail "not downloaded"
  sig=$(field signature)
  [[ $(cat "$sig") == "signature of app-1.0" ]] || fail "the signature is not the server's"
  rm -f "$sig"
  [[ -z $(ls "$STORE/cas/blob/partial") ]] || fail "a partial file is left: $(ls "$STORE/cas/blob/partial")"
}

@test "discovery: a name without a version takes a template without {version}" {
  page "$ROOT/app" ac-discovery "localhost/$T/app https://localhost:$PORT_A/$T/{name}-{version}.{ext}" \
    ac-discovery "localhost/$T/app https://localhost:$PORT_A/$T/{name}-latest.{ext}"
  publish_named "$ROOT/localhost/$T" app-latest "localhost/$T/app" 2.0
  aget --discovery-port "$PORT_A" --discover "localhost/$T/app"
  assert_named
  [[ $(field aci) == "https://localhost:$PORT_A/$T/localhost/$T/app-latest.aci" ]] || fail "not the template without {version}"
  rm -f "$(field signature)"
  # only templates with {version}: nothing applies, and the message says why
  page "$ROOT/only" ac-discovery "localhost/$T/only https://localhost:$PORT_A/$T/{name}-{version}.{ext}"
  aget --discovery-port "$PORT_A" --discover "localhost/$T/only"
  assert_status 1
  assert_stderr_contains "no value for {version}"
}

@test "discovery: the walk up the name's path finds the page of a parent" {
  page "$ROOT/index.html" ac-discovery "localhost/$T https://localhost:$PORT_A/$T/{name}.{ext}"
  publish_named "$ROOT/localhost/$T/a" b "localhost/$T/a/b"
  aget --discovery-port "$PORT_A" --discover "localhost/$T/a/b"
  assert_named
  [[ $(field page) == "https://localhost:$PORT_A/$T?ac-discovery=1" ]] || fail "not the parent's page: $(field page)"
  (($(requests "$PORT_A" "/$T/a/b?ac-discovery=1") == 1)) || fail "the name's own page was not asked first"
  (($(requests "$PORT_A" "/$T/a?ac-discovery=1") == 1)) || fail "the parent's page was not asked"
  rm -f "$(field signature)"
}

@test "discovery: a page pointing to another host (127.0.0.1, another port)" {
  page "$ROOT/app" ac-discovery "localhost/$T/app https://127.0.0.1:$PORT_B/$T/{name}.{ext}"
  publish_named "$ROOT/localhost/$T" app "localhost/$T/app"
  aget --discovery-port "$PORT_A" --discover "localhost/$T/app"
  assert_named
  (($(requests "$PORT_B" "/$T/localhost/$T/app.aci") == 1)) || fail "the ACI was not fetched from the other host"
  (($(requests "$PORT_B" "/$T/localhost/$T/app.aci.asc") == 1)) || fail "the signature was not fetched from the other host"
  rm -f "$(field signature)"
  # that host's CA unknown: refused, naming certs.d
  mkdir -p "$BATS_TEST_TMPDIR/certs.d/localhost:$PORT_A"
  cp "$SRV/ca.crt" "$BATS_TEST_TMPDIR/certs.d/localhost:$PORT_A/"
  run --separate-stderr "$ACI_GET" --dir "$STORE.2" --ca-dir "$BATS_TEST_TMPDIR/certs.d" \
    --discovery-port "$PORT_A" --discover "localhost/$T/app"
  echo "$stderr"
  assert_status 1
  assert_stderr_contains "TLS certificate not verified"
  assert_stderr_contains "127.0.0.1:$PORT_B/ca.crt"
}

@test "discovery: redirects are followed (the page and the ACI); a loop and one to http are refused" {
  publish "$ROOT" x
  page "$ROOT/app" ac-discovery "localhost/$T/app https://localhost:$PORT_A/moved/$T/{name}.{ext}"
  publish_named "$ROOT/localhost/$T" app "localhost/$T/app"
  aget "https://localhost:$PORT_A/moved/$T/x.aci"
  assert_busybox
  (($(requests "$PORT_B" "/$T/x.aci") == 1)) || fail "the redirect was not followed"
  aget --discovery-port "$PORT_A" --discover "localhost/$T/app"
  assert_named
  rm -f "$(field signature)"
  aget "https://localhost:$PORT_A/loop/x.aci"
  assert_status 1
  assert_stderr_contains "too many redirects"
  aget "https://localhost:$PORT_A/to-http/$T/x.aci"
  assert_status 1
  assert_stderr_contains "needs --insecure-options=http"
  aget --insecure-http "https://localhost:$PORT_A/to-http/$T/x.aci"
  assert_busybox
}

@test "discovery: 404s: an ACI, a page (and its parents), a signature (none)" {
  aget "https://localhost:$PORT_A/$T/missing.aci"
  assert_status 1
  assert_stderr_contains "not found"
  [[ ! -d $STORE/cas/blob/partial ]] || [[ -z $(ls "$STORE/cas/blob/partial") ]] || fail "a partial file is left"
  aget --discovery-port "$PORT_A" --discover "localhost/$T/nothing"
  assert_status 1
  assert_stderr_contains "nothing found"
  assert_stderr_contains "HTTP 404"
  publish "$ROOT" x
  aget --sig "https://localhost:$PORT_A/$T/x.aci.none" "https://localhost:$PORT_A/$T/x.aci"
  assert_busybox
  [[ $(field signature) == none ]] || fail "a signature that is not there"
}

@test "discovery: a server that hangs is given up after the low-speed time" {
  SECONDS=0
  aget "https://localhost:$PORT_H/$T/x.aci"
  assert_status 1
  assert_stderr_contains "too slow"
  ((SECONDS < 20)) || fail "took ${SECONDS}s"
  SECONDS=0
  aget --discovery-port "$PORT_H" --discover "localhost/$T/app"
  assert_status 1
  assert_stderr_contains "too slow"
  ((SECONDS < 30)) || fail "took ${SECONDS}s"
}

@test "discovery: ETag and max-age: a fresh image costs no request, a stale one a 304, a changed one a download" {
  publish "$ROOT" x
  url="https://localhost:$PORT_A/$T/x.aci"
  aget "$url"
  assert_busybox
  [[ $(field cached) == no ]] || fail "first fetch not downloaded"
  aget "$url"
  assert_busybox
  [[ $(field cached) == yes ]] || fail "a 304 did not keep the image"
  (($(requests "$PORT_A" "/$T/x.aci") == 2)) || fail "not one request for the second fetch"
  grep -q "^$PORT_A GET /$T/x.aci 304 range=- inm=.." "$SRV/access.log" || fail "no conditional GET answered 304"
  # max-age=3600: the second fetch asks nothing; --policy update asks anyway
  mkdir -p "$SRV/root/cached/$T"
  cp "$BUSYBOX_ACI" "$SRV/root/cached/$T/x.aci"
  curl="https://localhost:$PORT_A/cached/$T/x.aci"
  aget "$curl"
  assert_busybox
  aget "$curl"
  assert_busybox
  [[ $(field cached) == yes ]] || fail "a fresh image was not used"
  (($(requests "$PORT_A" "/cached/$T/x.aci") == 1)) || fail "a fresh image cost a request"
  aget --policy update "$curl"
  assert_busybox
  (($(requests "$PORT_A" "/cached/$T/x.aci") == 2)) || fail "--policy update did not ask"
  # the file changes: the conditional GET downloads the new image
  make_small_aci "$BATS_TEST_TMPDIR/other.aci" example.com/other 1.0
  cp "$BATS_TEST_TMPDIR/other.aci" "$ROOT/x.aci"
  aget "$url"
  assert_status 0
  [[ $(field id) == "$(aci_id "$BATS_TEST_TMPDIR/other.aci")" ]] || fail "not the new image"
  [[ $(field cached) == no ]] || fail "the changed image was not downloaded"
}

@test "discovery: a download killed half-way is resumed with Range and If-Range; a changed file starts over" {
  publish "$ROOT" x
  url="https://localhost:$PORT_A/$T/x.aci"
  etag=$(curl -sI --cacert "$SRV/ca.crt" "$url" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
  [[ -n $etag ]] || fail "nginx gave no ETag"
  mkdir -p "$STORE/cas/blob/partial"
  # what a killed fetch leaves: half the bytes and the ETag they came with
  hash=$(printf '%s' "$url" | sha256sum | cut -d' ' -f1)
  size=$(stat -c %s "$BUSYBOX_ACI")
  half=$((size / 2))
  head -c "$half" "$BUSYBOX_ACI" >"$STORE/cas/blob/partial/url-$hash"
  printf '%s' "$etag" >"$STORE/cas/blob/partial/url-$hash.etag"
  aget "$url"
  assert_busybox
  grep -q "^$PORT_A GET /$T/x.aci 206 range=bytes=$half- " "$SRV/access.log" || fail "not resumed at $half"
  [[ -z $(ls "$STORE/cas/blob/partial") ]] || fail "a partial file is left"
  # a partial of another version of the file (another ETag): the server sends it all
  rm -rf "$STORE"
  mkdir -p "$STORE/cas/blob/partial"
  head -c "$half" /dev/urandom >"$STORE/cas/blob/partial/url-$hash"
  printf '"other"' >"$STORE/cas/blob/partial/url-$hash.etag"
  aget "$url"
  assert_busybox
  grep -q "^$PORT_A GET /$T/x.aci 200 range=bytes=$half- " "$SRV/access.log" || fail "If-Range did not make it start over"
}

@test "discovery: plain http is refused without insecure_http, for URLs, pages and templates" {
  publish "$ROOT" x
  aget "http://127.0.0.1:$PORT_C/$T/x.aci"
  assert_status 1
  assert_stderr_contains "plain http needs --insecure-options=http"
  aget --insecure-http "http://127.0.0.1:$PORT_C/$T/x.aci"
  assert_busybox
  publish_named "$ROOT" app "localhost/$T/app"
  page "$ROOT/app" ac-discovery "localhost/$T/app http://127.0.0.1:$PORT_C/$T/app.{ext}"
  aget --discovery-port "$PORT_A" --discover "localhost/$T/app"
  assert_status 1
  assert_stderr_contains "plain http: that needs --insecure-options=http"
  aget --insecure-http --discovery-port "$PORT_A" --discover "localhost/$T/app"
  assert_named
  # the page itself over http, only when allowed (https fails first on that port)
  aget --discovery-port "$PORT_C" --discover "localhost/$T/app"
  assert_status 1
  aget --insecure-http --discovery-port "$PORT_C" --discover "localhost/$T/app"
  assert_named
  [[ $(field page) == "http://localhost:$PORT_C/$T/app?ac-discovery=1" ]] || fail "page $(field page)"
}

@test "discovery: a page over 1 MiB is refused while it comes" {
  {
    page /dev/stdout ac-discovery "localhost/$T/app https://localhost:$PORT_A/$T/x.{ext}"
    head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' 'a'
  } >"$ROOT/app"
  aget --discovery-port "$PORT_A" --discover "localhost/$T/app"
  assert_status 1
  assert_stderr_contains "too large (over 1048576 bytes)"
}

@test "discovery: a template of another scheme, or a hostile page, yields nothing" {
  page "$ROOT/app" ac-discovery "localhost/$T/app hdfs://localhost/{name}.{ext}" \
    ac-discovery "localhost/$T/app file:///etc/{name}.{ext}"
  aget --insecure-http --discovery-port "$PORT_A" --discover "localhost/$T/app"
  assert_status 1
  assert_stderr_contains "not an http(s) URL"
  [[ $stderr != *$'\n'* ]] || fail "not one line"
  # unterminated tags, quotes, binary: no URL comes out of it
  printf '<meta name="ac-discovery" content="localhost/%s https://localhost:%s/%s/x.{ext}\n<meta name=\x27ac-discovery\x27 content="\xff\xfe' \
    "$T" "$PORT_A" "$T" >"$ROOT/bad"
  head -c 100000 /dev/urandom >>"$ROOT/bad"
  aget --discovery-port "$PORT_A" --discover "localhost/$T/bad"
  assert_status 1
  assert_stderr_contains "no ac-discovery template"
}

@test "discovery: two fetches of one URL at once: one download, the same image, nothing left" {
  publish "$ROOT" x
  url="https://localhost:$PORT_A/cached/$T/x.aci"
  mkdir -p "$SRV/root/cached/$T"
  cp "$BUSYBOX_ACI" "$SRV/root/cached/$T/x.aci"
  for i in 1 2; do
    "$ACI_GET" --dir "$STORE" --ca-dir "$SRV/certs.d" "$url" >"$BATS_TEST_TMPDIR/out$i" 2>&1 &
    eval "pid$i=\$!"
  done
  wait "$pid1" || fail "first: $(cat "$BATS_TEST_TMPDIR/out1")"
  wait "$pid2" || fail "second: $(cat "$BATS_TEST_TMPDIR/out2")"
  cat "$BATS_TEST_TMPDIR"/out[12]
  [[ $(grep -h '^id=' "$BATS_TEST_TMPDIR"/out[12] | sort -u) == "id=$(aci_id "$BUSYBOX_ACI")" ]] || fail "not one id"
  (($(requests "$PORT_A" "/cached/$T/x.aci") == 1)) || fail "downloaded twice (max-age=3600)"
  [[ -z $(ls "$STORE/cas/blob/partial") ]] || fail "a partial file is left"
}

@test "discovery: an ACI over the size cap is refused while it comes, nothing stored" {
  publish "$ROOT" x
  aget --max-size 1000 "https://localhost:$PORT_A/$T/x.aci"
  assert_status 1
  assert_stderr_contains "too large"
  [[ -z $(ls "$STORE/cas/blob/partial") ]] || fail "a partial file is left"
  [[ -z $(ls "$STORE/cas/blob/sha512") ]] || fail "a blob was stored"
}

@test "discovery: an ACI whose manifest is not of the name or labels discovered is refused, nothing stored" {
  page "$ROOT/app" ac-discovery "localhost/$T/app https://localhost:$PORT_A/$T/{name}-{version}.{ext}"
  publish "$ROOT/localhost/$T" app-1.0
  aget --discovery-port "$PORT_A" --discover "localhost/$T/app:1.0"
  assert_status 1
  assert_stderr_contains "its manifest names \"podrun.test/busybox\", not \"localhost/$T/app\""
  publish_named "$ROOT/localhost/$T" app-1.0 "localhost/$T/app" 0.9
  aget --discovery-port "$PORT_A" --discover "localhost/$T/app:1.0"
  assert_status 1
  assert_stderr_contains "its label \"version\" is \"0.9\", not \"1.0\""
  aget --arch arm64 --discovery-port "$PORT_A" --discover "localhost/$T/app:1.0"
  assert_status 1
  [[ -z $(ls "$STORE/cas/blob/sha512" 2>/dev/null) ]] || fail "a blob was stored"
  [[ -z $(ls "$STORE/cas/blob/partial" 2>/dev/null) ]] || fail "a partial file is left"
}

@test "discovery: the keys alone (trust --prefix without a key): the first page up the path naming some" {
  page "$ROOT/app" ac-discovery "localhost/$T/app https://localhost:$PORT_A/$T/{name}.{ext}"
  page "$ROOT/index.html" ac-discovery-pubkeys "localhost/$T https://localhost:$PORT_A/$T/keys.gpg" \
    ac-discovery-pubkeys "localhost/$T https://127.0.0.1:$PORT_B/$T/more.gpg" \
    ac-discovery-pubkeys "localhost/$T ftp://localhost/$T/no.gpg"
  aget --discovery-port "$PORT_A" --keys-only --discover "localhost/$T/app"
  assert_status 0
  [[ $(grep -c '^pubkey=' <<<"$output") -eq 2 ]] || fail "not the two https keys"
  [[ $(field page) == "https://localhost:$PORT_A/$T?ac-discovery=1" ]] || fail "not the parent's page"
  [[ $output != *aci=* ]] || fail "an ACI URL for keys alone"
}
