#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# podrun-api (Documentation/api.md): every endpoint and filter over the unix socket
# and loopback TCP, with 0, 1, a few and 1,000 pods; events in order; logs that
# follow; the socket's group; what the service is (nobody with one capability) and
# that it writes nothing; the limits against abuse. Every reply that has a schema is
# checked against Documentation/openapi.json (tests/tools/api-check.py).

load helpers

API_GID=64123 # a group of the tests' own: the socket's and the service's, by number

setup() {
  requires root python3
  python3 -c 'import jsonschema' 2>/dev/null || skip "needs python3-jsonschema"
  [[ -x "$BUILD/bin/podrun-api" ]] || fail "build podrun-api first (make all)"
  # a directory a non-root client can reach, for the socket
  RUN=$(mktemp -d /run/podrun-api-test.XXXXXX)
  chmod 0755 "$RUN"
  SOCK=$RUN/api.sock
  API_PID=
  LEFTOVERS=
}

teardown() {
  if [[ -n $API_PID ]]; then
    kill "$API_PID" 2>/dev/null || true
    wait "$API_PID" 2>/dev/null || true
  fi
  local p
  for p in $LEFTOVERS; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$RUN"
  # the 1,000-pod test's copies, which no stage1 ever ran
  [[ -z ${STORE:-} ]] || rm -rf "$STORE"/pods/run/0*-0000-4000-8000-0*
  teardown_pods
}

# start_api [ARGS…]: podrun-api on $STORE, on $SOCK and a loopback TCP port ($TCP,
# HOST:PORT); returns once both answer.
start_api() {
  # its temporary directory (for copies of a busy index) is made there, as the user it becomes
  mkdir -p "$RUN/tmp"
  chown 65534 "$RUN/tmp"
  TMPDIR=$RUN/tmp "$BUILD/bin/podrun-api" --dir="$STORE" --listen=unix:"$SOCK" --listen=tcp:127.0.0.1:0 --group="$API_GID" \
    "$@" 2>"$BATS_TEST_TMPDIR/api.err" &
  API_PID=$!
  local i
  for i in $(seq 200); do
    TCP=$(sed -n 's/^podrun-api: listening on tcp://p' "$BATS_TEST_TMPDIR/api.err")
    if [[ -S $SOCK && -n $TCP ]] && curl -sf --unix-socket "$SOCK" -o /dev/null http://podrun/v1/info; then
      return 0
    fi
    kill -0 "$API_PID" 2>/dev/null || fail "podrun-api exited: $(cat "$BATS_TEST_TMPDIR/api.err")"
    sleep 0.05
  done
  fail "podrun-api did not answer: $(cat "$BATS_TEST_TMPDIR/api.err")"
}

# api PATH [CURL ARGS…]: a request over the unix socket; the body in $output (and
# $BATS_TEST_TMPDIR/reply), the status in $code, the content type in $ctype.
api() {
  local path=$1 w
  shift
  w=$(curl -s --unix-socket "$SOCK" -o "$BATS_TEST_TMPDIR/reply" -w '%{http_code} %{content_type}' "$@" "http://podrun$path")
  code=${w%% *}
  ctype=${w#* }
  output=$(cat "$BATS_TEST_TMPDIR/reply")
  echo "\$ curl $* $path -> $code $ctype"
  head -c 1500 <<<"$output" | sed 's/^/  /'
  echo
}

# check_doc TEMPLATE: the last reply is what Documentation/openapi.json says of TEMPLATE.
check_doc() {
  python3 "$E2E_ROOT/tests/tools/api-check.py" "$E2E_ROOT/Documentation/openapi.json" "$1" "$code" "$ctype" \
    "$BATS_TEST_TMPDIR/reply" || fail "reply of $1 does not match the OpenAPI document"
}

# expect CODE TEMPLATE: the last reply has that status and matches the document.
expect() {
  [[ $code == "$1" ]] || fail "status $code, expected $1"
  check_doc "$2"
}

# error_says CODE TEXT: a JSON error with that status, whose message has TEXT.
error_says() {
  [[ $code == "$1" ]] || fail "status $code, expected $1"
  [[ $(json_query 'j["status"]' <<<"$output") == "$1" ]] || fail "the body's status is not $1"
  [[ $(json_query 'j["error"]' <<<"$output") == *"$2"* ]] || fail "the error does not say \"$2\""
}

# uuids: the sorted UUIDs of the JSON array of pods in $output.
uuids() {
  json_query '" ".join(sorted(p["uuid"] for p in j))' <<<"$output"
}

# run_pod [RUN ARGS…] -- APP ARGS: a fly pod of busybox that exits at once; its UUID in $uuid.
run_pod() {
  run_podrun run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$@"
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
}

@test "api: every endpoint on an empty --dir: no pods, no images, info, the OpenAPI document; unix socket and TCP" {
  start_api
  api /v1/pods
  expect 200 /v1/pods
  [[ $output == "[]" ]] || fail "pods of an empty dir: $output"
  api /v1/images
  expect 200 /v1/images
  [[ $output == "[]" ]] || fail "images of an empty dir: $output"
  api /v1/info
  expect 200 /v1/info
  [[ $(json_query 'j["dir"]' <<<"$output") == "$STORE" ]] || fail "info's dir"
  [[ $(json_query '",".join(sorted(j["flavors"]))' <<<"$output") == *fly*nspawn* ]] || fail "info's flavors"
  api /v1/openapi.json
  expect 200 /v1/openapi.json
  cmp <(json_query 'j' <<<"$output") <(json_query 'j' <"$E2E_ROOT/Documentation/openapi.json") ||
    fail "/v1/openapi.json is not Documentation/openapi.json"
  python3 "$E2E_ROOT/tests/tools/api-check.py" "$E2E_ROOT/Documentation/openapi.json" --self
  api /v1/pods/00000000-0000-0000-0000-000000000000
  error_says 404 "not found"
  check_doc /v1/pods/{uuid}
  api /v1/images/sha512-0000
  error_says 404 "not found"
  check_doc /v1/images/{id}
  # the same over TCP
  log_run curl -sf "http://$TCP/v1/pods"
  assert_status 0
  [[ $output == "[]" ]] || fail "pods over TCP: $output"
}

@test "api: errors: 405 for every other method, 400 bad filters and parameters, 404 paths, 414 and 431; HEAD has no body" {
  start_api
  local m
  for m in POST PUT DELETE PATCH OPTIONS; do
    api /v1/pods -X "$m"
    error_says 405 "read-only"
  done
  log_run curl -s -i --unix-socket "$SOCK" -X DELETE http://podrun/v1/pods
  assert_output_contains "Allow: GET, HEAD"
  api /v1/pods -X POST --data '{"x":1}'
  error_says 405 "not allowed"
  api "/v1/pods?state=bogus"
  error_says 400 'state="bogus"'
  check_doc /v1/pods
  api "/v1/pods?colour=red"
  error_says 400 'unknown filter "colour"'
  api "/v1/pods?annotation=novalue"
  error_says 400 "KEY=VALUE"
  api "/v1/pods?uuid=xyz"
  error_says 400 "UUID"
  api "/v1/pods?app=%01"
  error_says 400 "control characters"
  api "/v1/images?imported_since=yesterday"
  error_says 400 "RFC 3339"
  api "/v1/images?imported_since=2026-02-30T25:00:00Z"
  error_says 400 "RFC 3339"
  api "/v1/pods?%zz=1"
  error_says 400 "malformed"
  api "/v1/events?since=soon"
  error_says 400 "since="
  api /v1/pods/not-a-uuid
  error_says 400 "not a pod UUID"
  api /v1/images/latest
  error_says 400 "not an image id"
  api /v1/pods/%2e%2e
  error_says 404 "no such endpoint"
  api /v1/pods/
  error_says 404 "no such endpoint"
  api /v2/pods
  error_says 404 "/v1/"
  api /v1/info?x=1
  error_says 400 'unknown parameter "x"'
  api "/v1/pods?app=$(head -c 3000 /dev/zero | tr '\0' a)"
  error_says 414 "too long"
  local headers=() i
  for i in $(seq 70); do headers+=(-H "X-Filler-$i: x"); done
  api /v1/pods "${headers[@]}"
  error_says 431 "header fields"
  api /v1/pods -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)"
  [[ $code == 431 ]] || fail "20 kB of headers: $code"
  log_run curl -s -I --unix-socket "$SOCK" http://podrun/v1/pods
  assert_output_contains "HTTP/1.1 200"
  assert_output_contains "Content-Type: application/json"
  log_run curl -s --head --unix-socket "$SOCK" -o /dev/null -w '%{size_download}' http://podrun/v1/info
  [[ $output == 0 ]] || fail "HEAD sent a body of $output bytes"
}

@test "api: one pod and then a few: /v1/pods and /v1/pods/{uuid} give list --format=json's objects; every filter matches and excludes" {
  fetch_busybox
  start_api
  run_pod podrun.test/busybox --name=web --exec=/bin/sh -- -c 'exit 3'
  local one=$uuid
  api /v1/pods
  expect 200 /v1/pods
  [[ $(uuids) == "$one" ]] || fail "one pod: $(uuids)"
  [[ $(json_query 'j[0]["apps"][0]["exit_code"]' <<<"$output") == 3 ]] || fail "the app's exit code"
  [[ $(json_query 'j[0]["apps"][0]["state"]' <<<"$output") == exited ]] || fail "the app's state"
  [[ $(json_query 'j[0]["apps"][0]["image_id"]' <<<"$output") == "$BUSYBOX_ID" ]] || fail "the app's image id"
  [[ $(json_query 'j[0]["stage1"]' <<<"$output") == fly ]] || fail "the pod's flavor"
  # the CLI's objects are the API's
  local api_json=$output
  run_podrun list --format=json
  cmp <(json_query 'j' <<<"$output") <(json_query 'j' <<<"$api_json") || fail "list --format=json differs from GET /v1/pods"
  run_podrun status --format=json "$one"
  local status_json=$output
  api "/v1/pods/$one"
  expect 200 /v1/pods/{uuid}
  [[ $(json_query 'j["manifest"]["acKind"]' <<<"$output") == PodManifest ]] || fail "the pod's manifest"
  cmp <(json_query 'j' <<<"$status_json") <(json_query '{k: v for k, v in j.items() if k != "manifest"}' <<<"$output") ||
    fail "status --format=json differs from GET /v1/pods/{uuid}"
  api "/v1/pods/${one:0:8}"
  expect 200 /v1/pods/{uuid}
  [[ $(json_query 'j["uuid"]' <<<"$output") == "$one" ]] || fail "a UUID prefix"

  run_pod podrun.test/busybox --name=db --user-annotation=team=storage --user-label=tier=back --exec=/bin/true
  local two=$uuid
  run_podrun prepare --stage1=fly podrun.test/busybox --name=web --user-label=tier=front
  local three=${output##*$'\n'}
  api /v1/pods
  [[ $(uuids) == "$(tr ' ' '\n' <<<"$one $two $three" | sort | xargs)" ]] || fail "three pods: $(uuids)"
  # one filter of each kind, matching and not
  local q want
  while read -r q want; do
    want=${want//one/$one}; want=${want//two/$two}; want=${want//three/$three}
    api "/v1/pods?$q"
    expect 200 /v1/pods
    [[ $want == - ]] && want=
    [[ $(uuids) == "$(tr ' ' '\n' <<<"$want" | grep . | sort | xargs)" ]] || fail "?$q: $(uuids), expected $want"
  done <<EOF
state=exited one two
state=prepared three
state=running -
state=exited&state=prepared one two three
app=web one three
app=db two
app=nope -
image=podrun.test/busybox one two three
image=${BUSYBOX_ID:0:20} one two three
image=podrun.test/other -
annotation=team=storage two
annotation=team=other -
label=tier=front three
label=tier=back two
uuid=${two:0:6} two
app=web&state=prepared three
app=web&label=tier=back -
EOF
}

@test "api: 1,000 pods: the whole list, a filter and one pod, in time" {
  fetch_busybox
  run_pod podrun.test/busybox --name=web --exec=/bin/true
  local model=$STORE/pods/run/$uuid n
  # 999 more exited pods, each a copy of the records of the one that ran (what the
  # API reads: the manifest, the times, the status), so gc never runs a stage1 for them
  for n in $(seq 999); do
    local u
    u=$(printf '%08x-0000-4000-8000-%012x' "$n" "$n")
    mkdir -p "$STORE/pods/run/$u/status"
    cp "$model/pod" "$model/pod-created" "$model/started" "$STORE/pods/run/$u/"
    cp "$model/status/web" "$STORE/pods/run/$u/status/"
  done
  start_api
  local t0 t1
  t0=$(date +%s%N)
  api /v1/pods
  t1=$(date +%s%N)
  expect 200 /v1/pods
  [[ $(json_query 'len(j)' <<<"$output") == 1000 ]] || fail "1,000 pods: $(json_query 'len(j)' <<<"$output")"
  echo "GET /v1/pods with 1,000 pods: $(((t1 - t0) / 1000000)) ms"
  (((t1 - t0) < 5000000000)) || fail "listing 1,000 pods took over 5 s"
  api "/v1/pods?uuid=000003e7"
  [[ $(uuids) == 000003e7-0000-4000-8000-0000000003e7 ]] || fail "a uuid filter among 1,000: $(uuids)"
  api "/v1/pods?state=running"
  [[ $output == "[]" ]] || fail "no pod is running"
  api "/v1/pods/$uuid"
  expect 200 /v1/pods/{uuid}
}

@test "api: images: list, filters (name, id, label, imported and used since), one image with its manifest and layers" {
  fetch_busybox
  start_api
  api /v1/images
  expect 200 /v1/images
  [[ $(json_query '[i["id"] for i in j]' <<<"$output") == "[\"$BUSYBOX_ID\"]" ]] || fail "the one image"
  local api_json=$output
  run_podrun image list --format=json
  cmp <(json_query 'j' <<<"$output") <(json_query 'j' <<<"$api_json") || fail "image list --format=json differs from GET /v1/images"
  local q want
  while read -r q want; do
    api "/v1/images?$q"
    expect 200 /v1/images
    [[ $(json_query 'len(j)' <<<"$output") == "$want" ]] || fail "?$q: $(json_query 'len(j)' <<<"$output") images, expected $want"
  done <<EOF
name=podrun.test/busybox 1
name=podrun.test/other 0
id=${BUSYBOX_ID:0:16} 1
id=sha256- 0
label=os=linux 1
label=os=windows 0
imported_since=2000-01-01T00:00:00Z 1
imported_since=2999-01-01T00:00:00%2B02:00 0
used_since=946684800 1
used_since=32503680000 0
name=podrun.test/busybox&label=os=windows 0
EOF
  api "/v1/images/${BUSYBOX_ID:0:20}"
  expect 200 /v1/images/{id}
  [[ $(json_query 'j["manifest"]["name"]' <<<"$output") == podrun.test/busybox ]] || fail "the image's manifest"
  [[ $(json_query 'len(j["layers"])' <<<"$output") -ge 1 ]] || fail "the image's layers"
}

@test "api: events: a pod's created, started and exited in order, an image added; since= replays what the records hold" {
  start_api
  local ev=$BATS_TEST_TMPDIR/events
  curl -sN --unix-socket "$SOCK" http://podrun/v1/events >"$ev" &
  LEFTOVERS+=" $!"
  local curl_pid=$!
  sleep 0.5
  fetch_busybox
  run_pod podrun.test/busybox --exec=/bin/sh -- -c 'sleep 1'
  local i
  for i in $(seq 60); do
    grep -q "pod-exited" "$ev" && break
    sleep 0.1
  done
  kill "$curl_pid"
  cat "$ev"
  code=200 ctype=text/event-stream
  cp "$ev" "$BATS_TEST_TMPDIR/reply"
  check_doc /v1/events
  [[ $(grep '^event: ' "$ev" | grep -v image | sed 's/^event: //' | xargs) == "pod-created pod-started pod-exited" ]] ||
    fail "the pod's events in order: $(grep '^event: ' "$ev" | xargs)"
  grep -q "\"uuid\":\"$uuid\"" "$ev" || fail "the events name the pod"
  grep -q '"type":"image-added"' "$ev" || fail "no image-added"
  # ids increase from 1
  [[ $(grep '^id: ' "$ev" | sed 's/^id: //' | xargs) == "$(seq -s ' ' "$(grep -c '^id: ' "$ev")")" ]] || fail "ids"
  # since: a replay in time order, then the stream goes on
  curl -sN --max-time 2 --unix-socket "$SOCK" "http://podrun/v1/events?since=2000-01-01T00:00:00Z" >"$ev" || true
  cat "$ev"
  [[ $(grep '^event: pod' "$ev" | sed 's/^event: //' | xargs) == "pod-created pod-started pod-exited" ]] ||
    fail "replayed: $(grep '^event: ' "$ev" | xargs)"
  python3 -c '
import json, sys
t = [json.loads(l[6:])["time_us"] for l in open(sys.argv[1]) if l.startswith("data: ")]
assert t == sorted(t), t' "$ev" || fail "a replay not in time order"
  curl -sN --max-time 1 --unix-socket "$SOCK" "http://podrun/v1/events?since=$(($(date +%s) + 3600))" >"$ev" || true
  ! grep -q '^event:' "$ev" || fail "since= the future replayed something"
  # removal is an event too
  curl -sN --unix-socket "$SOCK" http://podrun/v1/events >"$ev" &
  LEFTOVERS+=" $!"
  curl_pid=$!
  sleep 0.5
  run_podrun rm "$uuid"
  for i in $(seq 60); do
    grep -q "pod-removed" "$ev" && break
    sleep 0.1
  done
  kill "$curl_pid"
  grep -q "event: pod-removed" "$ev" || fail "no pod-removed: $(cat "$ev")"
}

@test "api: logs: the app's output, app= and tail=; follow=1 streams a running app's lines until it exits; bad requests" {
  requires nspawn
  fetch_busybox
  start_api
  run_podrun run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/busybox --name=one --exec=/bin/sh -- -c 'echo one-out; echo one-err >&2' --- \
    podrun.test/busybox --name=two --exec=/bin/sh -- -c 'for i in 1 2 3; do echo "two $i"; done' ---
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  api "/v1/pods/$uuid/logs"
  error_says 400 "app=NAME"
  api "/v1/pods/$uuid/logs?app=one"
  [[ $code == 200 && $ctype == text/plain* ]] || fail "logs: $code $ctype"
  [[ $output == *one-out* && $output == *one-err* ]] || fail "app one's output"
  api "/v1/pods/$uuid/logs?app=two&tail=2"
  [[ $output == "two 2"$'\n'"two 3" ]] || fail "tail=2: $output"
  api "/v1/pods/$uuid/logs?app=three"
  error_says 404 'no app "three"'
  api "/v1/pods/$uuid/logs?app=two&tail=x"
  error_says 400 "tail="
  api "/v1/pods/$uuid/logs?app=two&follow=maybe"
  error_says 400 "follow="
  # follow: a running app's lines as they come, and the end when it exits
  podrun run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid2" podrun.test/busybox \
    --exec=/bin/sh -- -c 'for i in 1 2 3 4 5; do echo "line $i"; sleep 0.4; done' >/dev/null 2>&1 &
  LEFTOVERS+=" $!"
  local run_pid=$! i
  for i in $(seq 100); do
    [[ -s "$BATS_TEST_TMPDIR/uuid2" ]] &&
      [[ -n $(find "$STORE/pods/run/$(cat "$BATS_TEST_TMPDIR/uuid2")/logs" -name '*.log' -size +0 2>/dev/null) ]] && break
    sleep 0.05
  done
  local t0 t1
  t0=$(date +%s%N)
  log_run timeout 20 curl -sN --unix-socket "$SOCK" "http://podrun/v1/pods/$(cat "$BATS_TEST_TMPDIR/uuid2")/logs?follow=1"
  t1=$(date +%s%N)
  assert_status 0
  [[ $output == "line 1"$'\n'"line 2"$'\n'"line 3"$'\n'"line 4"$'\n'"line 5" ]] || fail "follow: $output"
  (((t1 - t0) > 800000000)) || fail "follow ended before the app did"
  wait "$run_pid" || true
}

@test "api: the socket is its group's, 0660: a member reads, another user is refused; the TCP listener answers on loopback" {
  start_api
  [[ $(stat -c '%a %g' "$SOCK") == "660 $API_GID" ]] || fail "socket: $(stat -c '%a %g' "$SOCK")"
  log_run setpriv --reuid=64001 --regid=64001 --groups="$API_GID" curl -sf --unix-socket "$SOCK" http://podrun/v1/pods
  assert_status 0
  [[ $output == "[]" ]] || fail "a member: $output"
  log_run setpriv --reuid=64001 --regid=64001 --clear-groups curl -sf --unix-socket "$SOCK" http://podrun/v1/pods
  [[ $status == 7 ]] || fail "a non-member was not refused (curl status $status)"
  log_run setpriv --reuid=64001 --regid=64001 --clear-groups curl -sf "http://$TCP/v1/info"
  assert_status 0
}

@test "api: the service is nobody with its group and CAP_DAC_READ_SEARCH alone, confined to a read-only --dir, and writes nothing there" {
  fetch_busybox
  run_pod podrun.test/busybox --exec=/bin/true
  local before after
  before=$(find "$STORE" -printf '%p %m %s %T@\n' | sort)
  start_api
  local st
  st=$(cat "/proc/$API_PID/status")
  [[ $(awk '/^Uid:/ {print $2, $3, $4, $5}' <<<"$st") == "65534 65534 65534 65534" ]] || fail "uids: $st"
  [[ $(awk '/^Gid:/ {print $2, $3, $4, $5}' <<<"$st") == "$API_GID $API_GID $API_GID $API_GID" ]] || fail "gids"
  [[ $(awk '/^Groups:/ {print $2}' <<<"$st") == "$API_GID" ]] || fail "groups"
  [[ $(awk '/^CapEff:/ {print $2}' <<<"$st") == 0000000000000004 ]] || fail "effective capabilities"
  [[ $(awk '/^CapPrm:/ {print $2}' <<<"$st") == 0000000000000004 ]] || fail "permitted capabilities"
  [[ $(awk '/^CapBnd:/ {print $2}' <<<"$st") == 0000000000000004 ]] || fail "bounding set"
  [[ $(awk '/^NoNewPrivs:/ {print $2}' <<<"$st") == 1 ]] || fail "no_new_privs"
  # its own mount namespace holds nothing but a read-only --dir, /proc and its snapshots
  # tmpfs: entered as root, nothing else of the host is there, and even root writes nothing
  log_run python3 - "$API_PID" "$STORE" <<'EOF'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(f"/proc/{sys.argv[1]}/ns/mnt", os.O_RDONLY)
if libc.setns(fd, 0x00020000) != 0:
    sys.exit(f"setns: {os.strerror(ctypes.get_errno())}")
os.chdir("/")
print("root", " ".join(sorted(os.listdir("/"))))
for path in ("/etc/shadow", "/usr", "/bin/sh", "/var/lib/podrun"):
    print(path, os.path.exists(path))
print("pod", os.path.exists(f"{sys.argv[2]}/pods"))
for path in (f"{sys.argv[2]}/x", "/x", "/proc/x"):
    try:
        open(path, "w")
        print("wrote", path)
    except OSError as e:
        print("refused", path, errno.errorcode[e.errno])
EOF
  local top=${STORE#/}
  top=${top%%/*}
  [[ $output == *"root $(printf '%s\n' proc snapshots "$top" | sort -u | xargs)"* ]] || fail "its root: $output"
  [[ $output == *"/etc/shadow False"*"/usr False"*"/bin/sh False"*"/var/lib/podrun False"*"pod True"* ]] ||
    fail "what it sees: $output"
  [[ $(grep -c '^refused .* EROFS$' <<<"$output") == 2 && $output == *"refused /proc/x"* ]] || fail "writes: $output"
  # what the service is can read the pods but write nothing there
  log_run setpriv --reuid=65534 --regid="$API_GID" --groups="$API_GID" --inh-caps=+dac_read_search \
    --ambient-caps=+dac_read_search sh -c "cat '$STORE/pods/run/$uuid/pod' >/dev/null && echo read; \
      touch '$STORE/pods/run/$uuid/x' || echo refused; mkdir '$STORE/pods/run/y' || echo refused; \
      rm -f '$STORE/cas/index.db' || echo refused"
  [[ $(grep -cx refused <<<"$output") == 3 && $output == read* ]] || fail "as the service: $output"
  # every endpoint, and then nothing under --dir has changed; and the service takes no
  # flock to tell a running pod from an exited one (so it never makes podrun rm's or
  # gc's non-blocking exclusive lock fail): strace sees none
  local traced=$BATS_TEST_TMPDIR/flocks
  strace -f -qq -e trace=flock -p "$API_PID" -o "$traced" &
  local tracer=$!
  LEFTOVERS+=" $tracer"
  sleep 0.5
  api /v1/pods
  api "/v1/pods/$uuid"
  api /v1/images
  api "/v1/images/$BUSYBOX_ID"
  api /v1/info
  curl -sN --max-time 1 --unix-socket "$SOCK" "http://podrun/v1/events?since=0" >/dev/null || true
  kill "$tracer"
  wait "$tracer" 2>/dev/null || true
  [[ $(json_query '[p["state"] for p in j]' <<<"$(curl -s --unix-socket "$SOCK" http://podrun/v1/pods)") == '["exited"]' ]] ||
    fail "the exited pod's state"
  ! grep -q 'flock(' "$traced" || fail "podrun-api took a lock: $(grep 'flock(' "$traced" | head -3)"
  after=$(find "$STORE" -printf '%p %m %s %T@\n' | sort)
  diff <(echo "$before") <(echo "$after") || fail "podrun-api changed something under --dir"
  # and its kill touches no pod
  kill -9 "$API_PID"
  wait "$API_PID" 2>/dev/null || true
  API_PID=
  after=$(find "$STORE" -printf '%p %m %s %T@\n' | sort)
  diff <(echo "$before") <(echo "$after") || fail "killing podrun-api changed something under --dir"
}

@test "api: limits: a client sending a byte at a time is dropped; connections beyond --max-connections and streams beyond --max-streams are refused; bad flags" {
  start_api --request-timeout=2 --max-streams=1 --max-connections=3
  local t0 t1
  t0=$(date +%s)
  log_run python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    for c in b"GET /v1/pods HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60:
        s.send(bytes([c]))
        time.sleep(0.2)
    print("not dropped")
except OSError as e:
    print("dropped")' "$SOCK"
  t1=$(date +%s)
  [[ $output == dropped ]] || fail "a slow client was not dropped"
  (((t1 - t0) <= 6)) || fail "dropped after $((t1 - t0)) s, with --request-timeout=2"
  curl -sN --unix-socket "$SOCK" http://podrun/v1/events >/dev/null &
  LEFTOVERS+=" $!"
  local one=$!
  sleep 0.5
  api /v1/events --max-time 2
  error_says 503 "too many streams"
  api /v1/pods
  [[ $code == 200 ]] || fail "a plain request while the stream runs: $code"
  kill "$one"
  sleep 0.7
  api /v1/info
  [[ $(json_query 'j["streams"]' <<<"$output") == 0 ]] || fail "the stream was not let go: $output"
  # three connections that send nothing hold every slot: a fourth is refused, and
  # served again once they are gone (the request timeout drops them)
  log_run python3 -c '
import socket, subprocess, sys, time
held = []
for _ in range(3):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.send(b"G")
    held.append(s)
time.sleep(0.3)
r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "--unix-socket", sys.argv[1],
                    "http://podrun/v1/info"], capture_output=True, text=True)
print("full:", r.stdout)
time.sleep(3)
r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "--unix-socket", sys.argv[1],
                    "http://podrun/v1/info"], capture_output=True, text=True)
print("after:", r.stdout)' "$SOCK"
  [[ $output == *"full: 000"* ]] || fail "a connection beyond --max-connections was served"
  [[ $output == *"after: 200"* ]] || fail "not served again once the slots were free"
  # the service's own flags
  run "$BUILD/bin/podrun-api" --group="$API_GID" --listen=udp:1.2.3.4:5
  [[ $status == 254 && $output == 'podrun-api: --listen=udp:1.2.3.4:5: expected unix:PATH or tcp:HOST:PORT' ]] || fail "$output"
  run "$BUILD/bin/podrun-api" --group="$API_GID" --listen=tcp:localhost:80
  [[ $status == 254 && $output == *"not a numeric address"* ]] || fail "$output"
  run "$BUILD/bin/podrun-api" --group="$API_GID" --max-streams=0
  [[ $status == 254 && $output == *"--max-streams=0: expected a number"* ]] || fail "$output"
  run "$BUILD/bin/podrun-api" --group="$API_GID" --user=no-such-user-here
  [[ $status == 254 && $output == *"no such user"* ]] || fail "$output"
  run "$BUILD/bin/podrun-api" --group="$API_GID" --bogus
  [[ $status == 254 && $output == *'unknown option "--bogus"'* ]] || fail "$output"
}

@test "api: make install ships podrun-api, the OpenAPI document and the units; systemd-analyze finds nothing wrong with them" {
  command -v systemd-analyze >/dev/null || skip "needs systemd-analyze (package systemd)"
  local d=$BATS_TEST_TMPDIR/dest u
  log_run make -C "$E2E_ROOT" -s install DESTDIR="$d" PREFIX=/usr/local BUILD="$BUILD"
  assert_status 0
  [[ -x $d/usr/local/bin/podrun-api ]] || fail "no podrun-api"
  cmp "$d/usr/local/share/podrun/openapi.json" "$E2E_ROOT/Documentation/openapi.json" || fail "the OpenAPI document"
  u=$d/usr/local/lib/systemd/system
  grep -qx 'ExecStart=/usr/local/bin/podrun-api' "$u/podrun-api.service" || fail "ExecStart"
  grep -qx 'SocketGroup=podrun' "$u/podrun-api.socket" && grep -qx 'SocketMode=0660' "$u/podrun-api.socket" ||
    fail "the socket's group and mode"
  # verified with ExecStart pointing at the binary as installed under DESTDIR
  sed -i "s|^ExecStart=.*|ExecStart=$d/usr/local/bin/podrun-api|" "$u/podrun-api.service"
  cd "$u"
  log_run systemd-analyze verify --man=no ./podrun-api.socket ./podrun-api.service
  assert_status 0
  [[ -z $output ]] || fail "systemd-analyze: $output"
}

@test "api: load: 200 concurrent clients for 10 s on GET /v1/pods while pods start, exit and are removed: no error reply, no crash, memory bounded, no rm refused" {
  command -v wrk >/dev/null || skip "needs wrk (package wrk)"
  fetch_busybox
  run_pod podrun.test/busybox --exec=/bin/true
  start_api
  # pods start, exit and are removed all along: the service's looking never makes
  # podrun rm's non-blocking exclusive lock fail (it takes no lock to tell states)
  (
    end=$((SECONDS + 10))
    while ((SECONDS < end)); do
      podrun run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/churn" podrun.test/busybox --exec=/bin/true >/dev/null 2>&1
      podrun rm "$(cat "$BATS_TEST_TMPDIR/churn")" >/dev/null 2>>"$BATS_TEST_TMPDIR/rm-errors" ||
        echo "rm failed" >>"$BATS_TEST_TMPDIR/rm-errors"
    done
  ) &
  LEFTOVERS+=" $!"
  local churn=$!
  log_run wrk -t2 -c200 -d10s --timeout 5s "http://$TCP/v1/pods"
  assert_status 0
  wait "$churn" || true
  [[ $output == *"requests in"* ]] || fail "wrk did not run"
  [[ ! -s "$BATS_TEST_TMPDIR/rm-errors" ]] || fail "podrun rm failed while the service was read: $(cat "$BATS_TEST_TMPDIR/rm-errors")"
  [[ $output != *"Non-2xx"* ]] || fail "error replies under load"
  [[ $output != *"Socket errors"* ]] || fail "connections failed under load"
  kill -0 "$API_PID" || fail "podrun-api died under load"
  local hwm
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$API_PID/status")
  echo "podrun-api peak resident memory: $hwm kB"
  # the bound: 128 MB; an ASan build (SANITIZE=1) adds its shadow memory and the
  # 256 MB it keeps of freed blocks (quarantine_size_mb), so 512 MB there
  local bound=131072
  ! ldd "$BUILD/bin/podrun-api" | grep -q libasan || bound=524288
  ((hwm < bound)) || fail "podrun-api peaked at $hwm kB under load (bound $bound kB)"
  # and it still answers, with every pod
  api /v1/pods
  expect 200 /v1/pods
  [[ $(json_query 'len(j)' <<<"$output") == "$(ls "$STORE/pods/run" | wc -l)" ]] || fail "pods after the load"
}

@test "api: a running pod on the default CNI network shows its networks, and none once it exited" {
  requires nspawn
  [[ -x /usr/lib/cni/ptp ]] || skip "needs the CNI plugins (package containernetworking-plugins)"
  fetch_busybox
  start_api
  podrun run --stage1=nspawn --net=default --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/busybox \
    --exec=/bin/sleep -- 2 >/dev/null 2>&1 &
  LEFTOVERS+=" $!"
  local run_pid=$! i uuid
  for i in $(seq 100); do
    [[ -s "$BATS_TEST_TMPDIR/uuid" ]] && uuid=$(cat "$BATS_TEST_TMPDIR/uuid") &&
      [[ -e "$STORE/pods/run/$uuid/netns" && -s "$STORE/pods/run/$uuid/pid" ]] && break
    sleep 0.05
  done
  api "/v1/pods/$uuid"
  expect 200 /v1/pods/{uuid}
  [[ $(json_query 'j["networks"][0]["name"]' <<<"$output") == default ]] || fail "no default network"
  [[ $(json_query 'j["networks"][0]["ips"][0]' <<<"$output") == 172.16.28.*/24 ]] || fail "no address of it"
  wait "$run_pid" || true
  api "/v1/pods/$uuid"
  expect 200 /v1/pods/{uuid}
  [[ $(json_query 'j["networks"]' <<<"$output") == null ]] || fail "an exited pod shows networks"
}
