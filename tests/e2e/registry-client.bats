#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The registry client (store/registry.c) and the credentials lookup (store/auth.c),
# through build/tests/registry-get, against Debian's docker-registry on loopback
# (tests/e2e/registry.bash starts it: plain, TLS, htpasswd, Bearer tokens) and, for
# what a real registry never does (redirect loops, short bodies, a stall, a Range
# ignored, a huge manifest), a small server of this file's own.

load helpers

if [[ -f $BATS_TEST_DIRNAME/registry.bash ]]; then
  load registry
fi

REGISTRY_GET=$BUILD/tests/registry-get

# write_fake_server FILE: a registry of this file's own that misbehaves on purpose, one
# way per repository (see ROUTES below). It logs one line per request: METHOD PATH
# host=HOST auth=yes|no range=RANGE.
write_fake_server() {
  cat >"$1" <<'PY'
import hashlib, json, os, ssl, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log = sys.argv[1], sys.argv[2]
tls = sys.argv[3:5]
BLOB = bytes(range(256)) * 400
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
TOKEN = "fake-token-0123"
PORT = 0

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def send(self, status, body=b"", headers=(), length=None, close=False):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
    def bearer(self, realm, extra=""):
        if self.headers.get("Authorization") == "Bearer " + TOKEN:
            return True
        self.send(401, b'{"errors": [{"code": "UNAUTHORIZED", "message": "token please"}]}',
                  [("WWW-Authenticate", 'bearer  realm="%s",service="svc, with \\"comma\\"",%s' % (realm, extra))])
        return False
    def do_GET(self):
        p = self.path
        with open(log, "a") as f:
            f.write("GET %s host=%s auth=%s range=%s\n" % (p, self.headers.get("Host"),
                    "yes" if self.headers.get("Authorization") else "no", self.headers.get("Range", "-")))
        repo = p.split("/")[2] if p.startswith("/v2/") and p.count("/") > 2 else ""
        me = "http://127.0.0.1:%d" % PORT
        if p == "/v2/":
            return self.send(200, b"{}")
        if p.startswith("/token"):
            ok = "service=svc%2C%20with%20%22comma%22" in p
            return self.send(200 if ok else 400, json.dumps({"access_token": TOKEN}).encode())
        if p.startswith("/storage/"):
            return self.send(200, BLOB)
        if repo == "loop":
            return self.send(302, headers=[("Location", p)])
        if repo == "big":
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(80):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            return
        if repo == "bigcl":
            return self.send(200, b"x" * (5 << 20))
        if repo == "baddigest":
            return self.send(200, b'{"schemaVersion": 2}', [("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
        if repo == "error":
            return self.send(500, json.dumps({"errors": [{"code": "BOOM", "message": "it\nbroke \x1b[31mred"}]}).encode())
        if repo == "short":
            self.send(200, BLOB[: len(BLOB) // 2], length=len(BLOB), close=True)
            self.close_connection = True
            return
        if repo == "slow":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BLOB)))
            self.end_headers()
            self.wfile.write(BLOB[:1000])
            self.wfile.flush()
            time.sleep(30)
            return
        if repo == "stall":
            time.sleep(30)
            return
        if repo == "norange":
            return self.send(200, BLOB)
        if repo == "redirect":
            if self.bearer(me + "/token?x=1", 'scope="repository:quoted:pull"'):
                return self.send(307, headers=[("Location", "http://localhost:%d/storage/%s" % (PORT, DIGEST))])
            return
        if repo == "quoted":
            if not self.bearer(me + "/token?x=1", 'scope="repository:quoted:pull"'):
                return
            if "/blobs/" in p:
                return self.send(200, BLOB)
            m = {"schemaVersion": 2, "config": {"digest": DIGEST, "size": len(BLOB)}, "layers": []}
            return self.send(200, json.dumps(m).encode(), [("Content-Type", "application/json; charset=utf-8")])
            return
        if repo == "httprealm":
            return self.send(401, b"", [("WWW-Authenticate", 'Bearer realm="%s/token",service="svc"' % me)])
        self.send(404, b'{"errors": [{"code": "NAME_UNKNOWN", "message": "no"}]}')

s = ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
PORT = s.server_address[1]
if tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls[0], tls[1])
    s.socket = ctx.wrap_socket(s.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write("%d %s\n" % (PORT, DIGEST))
os.rename(port_file + ".tmp", port_file)
s.serve_forever()
PY
}

# fake_start [--tls]: the fake registry; FAKE (127.0.0.1:PORT), FAKE_DIGEST (of its one
# blob, FAKE_SIZE bytes), FAKE_LOG, FAKE_PID, FAKE_CA (--tls).
fake_start() {
  local d=$BATS_TEST_TMPDIR/fake tls=()
  mkdir -p "$d"
  if [[ ${1:-} == --tls ]]; then
    make_test_ca "$d" || return 1
    tls=("$d/server.crt" "$d/server.key")
    FAKE_CA=$d/ca.crt
  fi
  python3 "$BATS_FILE_TMPDIR/fake.py" "$d/port" "$d/log" "${tls[@]}" >"$d/out" 2>&1 3>&- &
  FAKE_PID=$!
  _wait_port_file "$d/port" "$FAKE_PID" || fail "the fake registry did not start: $(cat "$d/out")" || return 1
  read -r port FAKE_DIGEST <"$d/port"
  FAKE=127.0.0.1:$port
  FAKE_LOG=$d/log
  FAKE_SIZE=102400
}

setup_file() {
  write_fake_server "$BATS_FILE_TMPDIR/fake.py"
  [[ -f $BATS_TEST_DIRNAME/registry.bash ]] || return 0
  command -v umoci >/dev/null && command -v skopeo >/dev/null || return 0
  export LAYOUT=$BATS_FILE_TMPDIR/layout
  oci_image_build "$LAYOUT" t "txt:/etc/hello:hello" "rand:/data/big:300000" || return 1
  oci_image_add_layer "$LAYOUT" t "rand:/data/second:200000" || return 1
}

setup() {
  [[ -f $BATS_TEST_DIRNAME/registry.bash ]] || skip "needs tests/e2e/registry.bash (the tests helper's fixtures)"
  requires registry python3
  command -v umoci >/dev/null || skip "needs umoci (package umoci)"
  command -v skopeo >/dev/null || skip "needs skopeo (package skopeo)"
  [[ -x $REGISTRY_GET ]] || fail "$REGISTRY_GET missing: run 'make tests'"
  OUT=$BATS_TEST_TMPDIR/out
}

teardown() {
  [[ -z ${REGISTRY_DIR:-} ]] || registry_stop
  [[ -z ${FAKE_PID:-} ]] || _stop_pid "$FAKE_PID"
  teardown_pods
}

# rget ARGS…: registry-get with ARGS, logged as run_podrun logs (stderr apart).
rget() {
  run --separate-stderr "$REGISTRY_GET" "$@"
  echo "\$ registry-get $* (status=$status)"
  [[ -z "$output" ]] || printf '%s\n' "$output" | sed 's/^/  stdout: /'
  [[ -z "$stderr" ]] || printf '%s\n' "$stderr" | sed 's/^/  stderr: /'
  return 0
}

# layout_blob DIGEST: the file of a blob in the layout pushed.
layout_blob() {
  echo "$LAYOUT/blobs/sha256/${1#sha256:}"
}

# assert_image OUTDIR: the manifest, config and layers fetched are the layout's image.
assert_image() {
  local d=$1 digest l
  digest=$(cat "$d/digest")
  [[ $digest == "sha256:$(sha256sum <"$d/manifest" | cut -d' ' -f1)" ]] || fail "digest is not the manifest's sha256"
  cmp "$d/config" "$(layout_blob "$(json_query 'j["config"]["digest"]' <"$d/manifest")")" || fail "config differs"
  for l in $(json_query '" ".join(l["digest"] for l in j["layers"])' <"$d/manifest"); do
    cmp "$d/blobs/sha256-${l#sha256:}" "$(layout_blob "$l")" || fail "layer $l differs"
  done
}

push() {
  image_push "oci:$LAYOUT:t" "$REGISTRY/test/x:t" "$@"
}

@test "registry client: anonymous pull of an OCI image over http, by tag and by digest" {
  registry_start
  push
  rget --insecure-http --progress "$REGISTRY" test/x t "$OUT"
  assert_status 0
  [[ $(cat "$OUT/content-type") == application/vnd.oci.image.manifest.v1+json ]] || fail "content type"
  cmp "$OUT/manifest" "$(layout_blob "$(cat "$OUT/digest")")" || fail "not the manifest pushed"
  assert_image "$OUT"
  [[ ${#lines[@]} -eq 3 ]] || fail "expected the config and two layers, one line each"
  # the progress callback reaches each blob's size
  local d n
  while read -r d n; do
    [[ $stderr == *"progress $d $n/$n"* ]] || fail "no final progress line for $d"
  done < <(json_query '"\n".join("%s %d" % (l["digest"], l["size"]) for l in j["layers"])' <"$OUT/manifest")
  grep -q '"podrun/' "$REGISTRY_LOG" || fail "User-Agent is not podrun/VERSION"
  rget --insecure-http "$REGISTRY" test/x "$(cat "$OUT/digest")" "$BATS_TEST_TMPDIR/by-digest"
  assert_status 0
  cmp "$OUT/manifest" "$BATS_TEST_TMPDIR/by-digest/manifest"
}

@test "registry client: Docker schema 2 (skopeo --format v2s2)" {
  registry_start
  push --format v2s2
  rget --insecure-http "$REGISTRY" test/x t "$OUT"
  assert_status 0
  [[ $(cat "$OUT/content-type") == application/vnd.docker.distribution.manifest.v2+json ]] || fail "content type"
  [[ $(json_query 'j["mediaType"]' <"$OUT/manifest") == application/vnd.docker.distribution.manifest.v2+json ]]
  for l in $(json_query '" ".join(l["digest"] for l in j["layers"])' <"$OUT/manifest"); do
    [[ -s $OUT/blobs/sha256-${l#sha256:} ]] || fail "layer $l not fetched"
  done
}

@test "registry client: an index: its platforms" {
  registry_start
  manifest_list_push test/list:1
  rget --insecure-http "$REGISTRY" test/list 1 "$OUT"
  assert_status 0
  [[ $(cat "$OUT/content-type") == application/vnd.oci.image.index.v1+json ]] || fail "content type"
  [[ $(cat "$OUT/digest") == "$LIST_DIGEST" ]] || fail "index digest"
  assert_output_contains "linux/$OCI_ARCH sha256:"
  assert_output_contains "linux/$LIST_OTHER_ARCH sha256:"
  assert_output_contains "linux/$LIST_THIRD_ARCH sha256:"
}

@test "registry client: a tag or repository that does not exist is 'not found', naming it" {
  registry_start
  push
  rget --insecure-http "$REGISTRY" test/x nope "$OUT"
  assert_status 1
  [[ $stderr == *"$REGISTRY/test/x:nope"*"not found"* ]] || fail "no 'not found' naming test/x:nope"
  rget --insecure-http "$REGISTRY" test/none t "$OUT"
  assert_status 1
  [[ $stderr == *"$REGISTRY/test/none:t"*"not found"* ]] || fail "no 'not found' naming test/none:t"
  rget --insecure-http "$REGISTRY" test/x "sha256:$(printf '%064d' 0)" "$OUT"
  assert_status 1
  [[ $stderr == *"not found"* ]] || fail "an unknown digest is not 'not found'"
  # names that could leave the path are refused before any request
  local mark
  mark=$(registry_log_mark)
  rget --insecure-http "$REGISTRY" ../x t "$OUT"
  assert_status 1
  rget --insecure-http "$REGISTRY" test/x '../../v2' "$OUT"
  assert_status 1
  [[ $stderr == *"neither a tag nor a sha256 digest"* ]] || fail "bad reference not refused"
  [[ $(registry_requests "$mark") -le 2 ]] || fail "bad names reached the registry beyond its /v2/"
}

@test "registry client: a plain-http registry is refused without insecure_http, naming --insecure-options=http" {
  registry_start
  push
  rget "$REGISTRY" test/x t "$OUT"
  assert_status 1
  assert_stderr_contains "--insecure-options=http"
  [[ ! -e $OUT/manifest ]] || fail "a manifest came over http"
}

@test "registry client: TLS: a CA in certs.d is trusted; without it refused naming --insecure-options=tls; insecure_tls accepts" {
  registry_start --tls
  push
  rget "$REGISTRY" test/x t "$OUT"
  assert_status 1
  assert_stderr_contains "--insecure-options=tls"
  [[ $stderr != *"--insecure-options=http"* ]] || fail "a TLS failure mentions http"
  # insecure_http does not make an unverified TLS registry acceptable
  rget --insecure-http "$REGISTRY" test/x t "$OUT"
  assert_status 1
  assert_stderr_contains "--insecure-options=tls"
  mkdir -p "$BATS_TEST_TMPDIR/certs.d/$REGISTRY"
  cp "$REGISTRY_CA" "$BATS_TEST_TMPDIR/certs.d/$REGISTRY/ca.crt"
  rget --ca-dir "$BATS_TEST_TMPDIR/certs.d" "$REGISTRY" test/x t "$OUT"
  assert_status 0
  assert_image "$OUT"
  # another host's CA is not this one's
  mkdir -p "$BATS_TEST_TMPDIR/other.d/127.0.0.1:1"
  cp "$REGISTRY_CA" "$BATS_TEST_TMPDIR/other.d/127.0.0.1:1/ca.crt"
  rget --ca-dir "$BATS_TEST_TMPDIR/other.d" "$REGISTRY" test/x t "$BATS_TEST_TMPDIR/o2"
  assert_status 1
  assert_stderr_contains "--insecure-options=tls"
  rget --insecure-tls "$REGISTRY" test/x t "$BATS_TEST_TMPDIR/o3"
  assert_status 0
  assert_image "$BATS_TEST_TMPDIR/o3"
}

# auth_d DIR HOST USER PASSWORD: a dockerAuth file of rkt's in DIR.
auth_d() {
  mkdir -p "$1"
  chmod 0755 "$1"
  cat >"$1/50-test.json" <<JSON
{"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["$2"],
 "credentials": {"user": "$3", "password": "$4"}}
JSON
  chmod 0600 "$1/50-test.json"
}

@test "registry client: htpasswd basic auth: refused anonymous ('unauthorized'), credentials from auth.d and from an authfile" {
  registry_start --htpasswd=alice:s3cret-Pw
  push
  rget --insecure-http "$REGISTRY" test/x t "$OUT"
  assert_status 1
  assert_stderr_contains "unauthorized"
  auth_d "$BATS_TEST_TMPDIR/auth.d" "$REGISTRY" alice s3cret-Pw
  rget --insecure-http --auth-dir "$BATS_TEST_TMPDIR/none.d" --auth-dir "$BATS_TEST_TMPDIR/auth.d" "$REGISTRY" test/x t "$OUT"
  assert_status 0
  assert_image "$OUT"
  printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REGISTRY" "$(printf alice:s3cret-Pw | base64)" >"$BATS_TEST_TMPDIR/auth.json"
  chmod 0600 "$BATS_TEST_TMPDIR/auth.json"
  rget --insecure-http --authfile "$BATS_TEST_TMPDIR/auth.json" "$REGISTRY" test/x t "$BATS_TEST_TMPDIR/o2"
  assert_status 0
  assert_image "$BATS_TEST_TMPDIR/o2"
  # the authfile comes first
  auth_d "$BATS_TEST_TMPDIR/wrong.d" "$REGISTRY" alice nope
  rget --insecure-http --authfile "$BATS_TEST_TMPDIR/auth.json" --auth-dir "$BATS_TEST_TMPDIR/wrong.d" "$REGISTRY" test/x t "$BATS_TEST_TMPDIR/o3"
  assert_status 0
}

@test "registry client: a wrong password is 'unauthorized' and never echoed" {
  registry_start --htpasswd=alice:s3cret-Pw
  push
  rget --insecure-http --user alice --password 'Wr0ng-Secr3t' "$REGISTRY" test/x t "$OUT"
  assert_status 1
  assert_stderr_contains "unauthorized"
  [[ $stderr != *Wr0ng-Secr3t* && $stderr != *s3cret-Pw* ]] || fail "a password is in the message"
  [[ $stderr != *"$(printf alice:Wr0ng-Secr3t | base64)"* ]] || fail "the Basic credentials are in the message"
  auth_d "$BATS_TEST_TMPDIR/auth.d" "$REGISTRY" alice Wr0ng-Secr3t
  rget --insecure-http --auth-dir "$BATS_TEST_TMPDIR/auth.d" "$REGISTRY" test/x t "$OUT"
  assert_status 1
  assert_stderr_contains "unauthorized"
  [[ $stderr != *Wr0ng-Secr3t* ]] || fail "a password is in the message"
}

@test "registry client: credential files others could write are refused, malformed ones name the file" {
  local d=$BATS_TEST_TMPDIR/auth.d
  auth_d "$d" 127.0.0.1:1 alice pw
  chmod 0666 "$d/50-test.json"
  rget --auth-dir "$d" 127.0.0.1:1 test/x t "$OUT"
  assert_status 1
  [[ $stderr == *"$d/50-test.json"*"writable by everyone"* ]] || fail "a world-writable file is not refused"
  chmod 0600 "$d/50-test.json"
  chown 65534 "$d/50-test.json"
  rget --auth-dir "$d" 127.0.0.1:1 test/x t "$OUT"
  assert_status 1
  [[ $stderr == *"owned by uid 65534, not root"* ]] || fail "a file of another user is not refused"
  chown 0 "$d/50-test.json"
  chmod 0777 "$d"
  rget --auth-dir "$d" 127.0.0.1:1 test/x t "$OUT"
  assert_status 1
  [[ $stderr == *"writable by everyone"* ]] || fail "a world-writable directory is not refused"
  chmod 0755 "$d"
  echo '{"rktKind": "dockerAuth", "rktVersion": "v1", ' >"$d/40-bad.json"
  rget --auth-dir "$d" 127.0.0.1:1 test/x t "$OUT"
  assert_status 1
  assert_stderr_contains "$d/40-bad.json"
  rm "$d/40-bad.json"
  printf '{"auths": {"127.0.0.1:1": {"auth": "not*base64"}}}' >"$BATS_TEST_TMPDIR/auth.json"
  rget --authfile "$BATS_TEST_TMPDIR/auth.json" 127.0.0.1:1 test/x t "$OUT"
  assert_status 1
  [[ $stderr == *auth.json*"base64"* ]] || fail "bad base64 is not refused naming the file"
  [[ $stderr != *"not*base64"* ]] || fail "the secret is in the message"
}

@test "registry client: Bearer token flow (anonymous tokens), the token cached for the blobs" {
  registry_start --token
  push
  : >"$TOKEN_LOG"
  rget --insecure-http "$REGISTRY" test/x t "$OUT"
  assert_status 0
  assert_image "$OUT"
  grep -q 'scope=repository%3Atest%2Fx%3Apull' "$TOKEN_LOG" || fail "no token asked for repository:test/x:pull"
  grep -q 'service=podrun-test-registry' "$TOKEN_LOG" || fail "no service in the token request"
  [[ $(grep -c status=200 "$TOKEN_LOG") -eq 1 ]] || fail "the token is not reused: $(cat "$TOKEN_LOG")"
}

@test "registry client: Bearer with credentials: anonymous 'unauthorized', the user gets a token, a wrong password is not echoed" {
  registry_start --token --htpasswd=bob:T0ken-Pass
  push
  rget --insecure-http "$REGISTRY" test/x t "$OUT"
  assert_status 1
  assert_stderr_contains "unauthorized"
  rget --insecure-http --user bob --password T0ken-Pass "$REGISTRY" test/x t "$OUT"
  assert_status 0
  assert_image "$OUT"
  grep -q 'user=bob status=200' "$TOKEN_LOG" || fail "the token server did not see bob"
  rget --insecure-http --user bob --password Wr0ng-T0ken "$REGISTRY" test/x t "$BATS_TEST_TMPDIR/o2"
  assert_status 1
  assert_stderr_contains "unauthorized"
  [[ $stderr != *Wr0ng-T0ken* && $stderr != *T0ken-Pass* ]] || fail "a password is in the message"
}

@test "registry client: Bearer over TLS: the token server's CA from certs.d too, insecure_tls is not for it" {
  registry_start --tls --token
  push
  local tport=${TOKEN_REALM#https://127.0.0.1:}
  tport=${tport%%/*}
  mkdir -p "$BATS_TEST_TMPDIR/certs.d/$REGISTRY"
  cp "$REGISTRY_CA" "$BATS_TEST_TMPDIR/certs.d/$REGISTRY/ca.crt"
  # insecure_tls is for the registry's host alone, not for its token server
  rget --insecure-tls "$REGISTRY" test/x t "$OUT"
  assert_status 1
  assert_stderr_contains "token server"
  assert_stderr_contains "--insecure-options=tls"
  mkdir -p "$BATS_TEST_TMPDIR/certs.d/127.0.0.1:$tport"
  cp "$REGISTRY_CA" "$BATS_TEST_TMPDIR/certs.d/127.0.0.1:$tport/ca.crt"
  rget --ca-dir "$BATS_TEST_TMPDIR/certs.d" "$REGISTRY" test/x t "$OUT"
  assert_status 0
  assert_image "$OUT"
}

@test "registry client: resume: a sink holding the first half of a blob gets only the rest" {
  registry_start
  push
  rget --insecure-http "$REGISTRY" test/x t "$BATS_TEST_TMPDIR/full"
  assert_status 0
  local big size half mark
  big=$(json_query 'max(j["layers"], key=lambda l: l["size"])["digest"]' <"$BATS_TEST_TMPDIR/full/manifest")
  size=$(stat -c %s "$(layout_blob "$big")")
  half=$((size / 2))
  mkdir -p "$OUT/blobs"
  head -c "$half" "$(layout_blob "$big")" >"$OUT/blobs/sha256-${big#sha256:}"
  mark=$(registry_log_mark)
  rget --insecure-http --blob "$big" --size "$size" "$REGISTRY" test/x - "$OUT"
  assert_status 0
  [[ $output == "$big offset=$half received=$((size - half))" ]] || fail "not resumed at $half"
  cmp "$OUT/blobs/sha256-${big#sha256:}" "$(layout_blob "$big")"
  registry_log_since "$mark" | grep -q "/blobs/$big HTTP/1.1\" 206 $((size - half)) " ||
    fail "the registry did not serve a 206 of the rest"
  # a sink holding all of it asks for nothing
  mark=$(registry_log_mark)
  rget --insecure-http --blob "$big" --size "$size" "$REGISTRY" test/x - "$OUT"
  assert_status 0
  [[ $output == "$big offset=$size received=0" ]] || fail "a complete blob was fetched again"
  [[ $(registry_blob_gets "$mark") -eq 0 ]] || fail "a complete blob was asked for"
}

@test "registry client: a blob whose size is not the manifest's: longer is 'digest mismatch', shorter 'truncated'" {
  registry_start
  push
  local big size
  big=$(oci_image_layers "$LAYOUT" t | head -n 1)
  size=$(stat -c %s "$(layout_blob "$big")")
  rget --insecure-http --blob "$big" --size $((size - 10)) "$REGISTRY" test/x - "$OUT"
  assert_status 1
  assert_stderr_contains "digest mismatch"
  rm -rf "$OUT"
  rget --insecure-http --blob "$big" --size $((size + 10)) "$REGISTRY" test/x - "$OUT"
  assert_status 1
  assert_stderr_contains "truncated"
}

@test "registry client: one blob failing cancels the others; each blob's error says which" {
  registry_start
  push
  local l args=() missing=sha256:$(printf '%064d' 1)
  for l in $(oci_image_layers "$LAYOUT" t); do
    args+=(--blob "$l" --size "$(stat -c %s "$(layout_blob "$l")")")
  done
  rget --insecure-http --parallel 1 --blob "$missing" --size 10 "${args[@]}" "$REGISTRY" test/x - "$OUT"
  assert_status 1
  [[ $stderr == *"registry-get: blob $missing: not found"* ]] || fail "the failure is not the missing blob's"
  [[ $stderr == *"blob 1: blob sha256:"*": cancelled: blob $missing failed"* ]] || fail "blob 1 is not cancelled"
  [[ $stderr == *"blob 2: blob sha256:"*": cancelled: blob $missing failed"* ]] || fail "blob 2 is not cancelled"
  # in parallel, the others may finish first; the failure is still the missing blob's
  rget --insecure-http --parallel 3 "${args[@]}" --blob "$missing" --size 10 "$REGISTRY" test/x - "$BATS_TEST_TMPDIR/o2"
  assert_status 1
  [[ $stderr == *"registry-get: blob $missing: not found"* ]] || fail "the failure is not the missing blob's"
}

@test "registry client: a redirect loop is an error saying 'redirect'" {
  fake_start
  rget --insecure-http "$FAKE" loop t "$OUT"
  assert_status 1
  assert_stderr_contains "redirect"
  [[ $(grep -c '/v2/loop/manifests/t' "$FAKE_LOG") -eq 6 ]] || fail "not 1 + 5 redirects followed"
}

@test "registry client: a manifest over 4 MiB is refused while it comes ('manifest too large'), with or without Content-Length" {
  fake_start
  rget --insecure-http "$FAKE" big t "$OUT"
  assert_status 1
  assert_stderr_contains "manifest too large"
  rget --insecure-http "$FAKE" bigcl t "$OUT"
  assert_status 1
  assert_stderr_contains "manifest too large"
}

@test "registry client: a manifest asked for by digest must have it ('digest mismatch')" {
  fake_start
  rget --insecure-http "$FAKE" baddigest "sha256:$(printf '%064d' 7)" "$OUT"
  assert_status 1
  assert_stderr_contains "digest mismatch"
}

@test "registry client: a registry's error: its status and its code and message, escaped" {
  fake_start
  rget --insecure-http "$FAKE" error t "$OUT"
  assert_status 1
  [[ $stderr == *"HTTP 500 (BOOM: it\\x0abroke \\x1b[31mred)"* ]] || fail "not the status and the escaped message"
  [[ ${#stderr_lines[@]} -eq 1 ]] || fail "more than one line"
}

@test "registry client: a blob cut short is 'truncated'; a stall is 'too slow'" {
  fake_start
  rget --insecure-http --blob "$FAKE_DIGEST" --size "$FAKE_SIZE" "$FAKE" short - "$OUT"
  assert_status 1
  assert_stderr_contains "truncated"
  rm -rf "$OUT"
  PODRUN_LOW_SPEED_TIME=2 rget --insecure-http --blob "$FAKE_DIGEST" --size "$FAKE_SIZE" "$FAKE" slow - "$OUT"
  assert_status 1
  assert_stderr_contains "too slow"
  # before its headers too
  rm -rf "$OUT"
  PODRUN_LOW_SPEED_TIME=2 rget --insecure-http --blob "$FAKE_DIGEST" --size "$FAKE_SIZE" "$FAKE" stall - "$OUT"
  assert_status 1
  [[ $stderr == *"blob $FAKE_DIGEST: too slow: less than 1024 bytes/s for 2 s"* ]] || fail "a stall before the headers is not 'too slow'"
}

@test "registry client: a server that ignores the Range (200): the sink starts again" {
  fake_start
  mkdir -p "$OUT/blobs"
  head -c 5000 /dev/zero >"$OUT/blobs/sha256-${FAKE_DIGEST#sha256:}"
  rget --insecure-http --blob "$FAKE_DIGEST" --size "$FAKE_SIZE" "$FAKE" norange - "$OUT"
  assert_status 0
  [[ $output == "$FAKE_DIGEST offset=5000 received=$FAKE_SIZE restarted" ]] || fail "the sink did not restart"
  grep -q 'range=bytes=5000-' "$FAKE_LOG" || fail "no Range asked for"
}

@test "registry client: WWW-Authenticate with quoted commas, lowercase scheme, access_token; no token to a redirect's other host" {
  fake_start
  rget --insecure-http "$FAKE" quoted t "$OUT"
  assert_status 0
  [[ $(cat "$OUT/content-type") == application/json ]] || fail "Content-Type parameters are not dropped"
  grep -q '^GET /token?x=1&service=svc%2C%20with%20%22comma%22&scope=repository%3Aquoted%3Apull ' "$FAKE_LOG" ||
    fail "the token request is not the challenge's realm, service and scope"
  : >"$FAKE_LOG"
  rget --insecure-http --blob "$FAKE_DIGEST" --size "$FAKE_SIZE" "$FAKE" redirect - "$BATS_TEST_TMPDIR/o2"
  assert_status 0
  grep -q "^GET /v2/redirect/blobs/$FAKE_DIGEST host=$FAKE auth=yes" "$FAKE_LOG" || fail "no token to the registry"
  grep -q "^GET /storage/$FAKE_DIGEST host=localhost:[0-9]* auth=no" "$FAKE_LOG" ||
    fail "the token went to the redirect's other host: $(cat "$FAKE_LOG")"
}

@test "registry client: a plain-http token realm of a TLS registry is refused without insecure_http" {
  fake_start --tls
  mkdir -p "$BATS_TEST_TMPDIR/certs.d/$FAKE"
  cp "$FAKE_CA" "$BATS_TEST_TMPDIR/certs.d/$FAKE/ca.crt"
  rget --ca-dir "$BATS_TEST_TMPDIR/certs.d" "$FAKE" httprealm t "$OUT"
  assert_status 1
  assert_stderr_contains "--insecure-options=http"
  ! grep -q '^GET /token' "$FAKE_LOG" || fail "the token realm was asked"
}
