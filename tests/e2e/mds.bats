#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The appc metadata service (Documentation/metadata-service.md): podrun-metadata
# started by each test on a private unix socket and a TCP port of its own;
# `run --mds-register`; every endpoint of spec/ace.md asked from inside a pod (busybox
# wget), with its content type and status; the token attack (guessed tokens, path
# tricks, another pod's data, a stolen token used from elsewhere); HMAC sign, verify
# and tampering; unregistration when the pod ends; bad input; a service that is not
# there; the units; the appc ACE validator as a two-app pod.

load helpers

setup() {
  requires root nspawn
  [[ -x "$BUILD/bin/podrun-metadata" ]] || fail "build podrun-metadata first (make all)"
  RUN=$(mktemp -d /run/podrun-mds-test.XXXXXX)
  SOCK=$RUN/mds.sock
  export PODRUN_MDS_SOCKET=$SOCK
  MDS_PID=
}

teardown() {
  if [[ -n $MDS_PID ]]; then
    kill "$MDS_PID" 2>/dev/null || true
    wait "$MDS_PID" 2>/dev/null || true
  fi
  teardown_pods
  rm -rf "$RUN"
}

# start_mds [ARGS…]: podrun-metadata on $SOCK and a TCP port of all addresses ($PORT);
# returns once it answers.
start_mds() {
  "$BUILD/bin/podrun-metadata" --listen=unix:"$SOCK" --listen=tcp:0.0.0.0:0 "$@" 2>"$BATS_TEST_TMPDIR/mds.err" &
  MDS_PID=$!
  local i
  for i in $(seq 200); do
    PORT=$(sed -n 's/^podrun-metadata: pods on tcp:0\.0\.0\.0:\([0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/mds.err")
    if [[ -S $SOCK && -n $PORT ]] && curl -sf --unix-socket "$SOCK" -o /dev/null http://mds/v1/pods; then
      return 0
    fi
    kill -0 "$MDS_PID" 2>/dev/null || fail "podrun-metadata exited: $(cat "$BATS_TEST_TMPDIR/mds.err")"
    sleep 0.05
  done
  fail "podrun-metadata did not answer: $(cat "$BATS_TEST_TMPDIR/mds.err")"
}

# registered: the uuids registered now, one per line.
registered() {
  curl -sf --unix-socket "$SOCK" http://mds/v1/pods | python3 -c 'import json,sys; [print(p["uuid"]) for p in json.load(sys.stdin)["pods"]]'
}

# wait_unregistered UUID: the service drops it within 5 s.
wait_unregistered() {
  local i
  for i in $(seq 100); do
    registered | grep -qx "$1" || return 0
    sleep 0.05
  done
  fail "pod $1 is still registered"
}

# A script for a pod's app: each of its lines "NAME PATH [POST-DATA]" is fetched from
# $AC_METADATA_URL (GET, or POST of the form), printed as "== NAME", the status line
# and content type, then the body and "=="; %U in a path or data is the pod's uuid.
MDS_CLIENT='
uuid=$(wget -q -O - "$AC_METADATA_URL/acMetadata/v1/pod/uuid")
while read -r name path data; do
  [ -n "$name" ] || continue
  path=$(echo "$path" | sed "s/%U/$uuid/g"); data=$(echo "$data" | sed "s/%U/$uuid/g")
  echo "== $name"
  case $path in /*) url="${AC_METADATA_URL%/*}$path" ;; *) url="$AC_METADATA_URL/acMetadata/v1/$path" ;; esac
  if [ -n "$data" ]; then
    wget -S -q -O "/tmp/body" --post-data "$data" "$url" 2>/tmp/h
  else
    wget -S -q -O "/tmp/body" "$url" 2>/tmp/h
  fi
  grep -m1 "HTTP/" /tmp/h | sed "s/^ *//"; grep -i "^ *content-type:" /tmp/h | sed "s/^ *//"
  cat /tmp/body 2>/dev/null; echo; echo "=="; rm -f /tmp/body
done <<EOF
$REQUESTS
EOF
'

# section NAME: the lines of $output between "== NAME" and "==".
section() {
  awk -v n="== $1" '$0 == n {on = 1; next} on && $0 == "==" {exit} on {print}' <<<"$output"
}

# ask REQUESTS [RUN FLAGS…]: a registered busybox pod (--net=default) runs MDS_CLIENT
# over REQUESTS; its output in $output.
ask() {
  local requests=$1
  shift
  rm -f "$BATS_TEST_TMPDIR/ask-uuid"
  run_podrun run --mds-register --uuid-file-save="$BATS_TEST_TMPDIR/ask-uuid" "$@" podrun.test/busybox \
    --set-env=REQUESTS="$requests" --exec=/bin/sh -- -c "$MDS_CLIENT" ---
  assert_status 0
  ASK_UUID=$(cat "$BATS_TEST_TMPDIR/ask-uuid")
}

@test "mds: every endpoint from inside a pod, with the spec's content types and the empty-value rules" {
  fetch_busybox
  start_mds
  ask "annotations pod/annotations
manifest pod/manifest
uuid pod/uuid
appann apps/busybox/annotations
appann1 apps/busybox/annotations/description
appann2 apps/busybox/annotations/podrun.test/role
imanifest apps/busybox/image/manifest
iid apps/busybox/image/id
noapp apps/nosuch/image/id
noann apps/busybox/annotations/nosuch" --annotation=podrun.test/role=tester
  local uuid=$ASK_UUID
  [[ $(section annotations) == $'HTTP/1.1 200 OK\nContent-Type: application/json\n[]' ]] ||
    fail "pod annotations with none set: the spec's [] as application/json"
  section manifest | sed -n 2p | grep -qx 'Content-Type: application/json' || fail "manifest content type"
  section manifest | sed -n 3p | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["acKind"] == "PodManifest" and m["annotations"] == [], m
assert [a["name"] for a in m["apps"]] == ["busybox"], m' || fail "the pod manifest, reified"
  [[ $(section uuid) == "HTTP/1.1 200 OK"$'\n'"Content-Type: text/plain; charset=us-ascii"$'\n'"$uuid" ]] ||
    fail "uuid: text/plain; charset=us-ascii"
  [[ $(section uuid | sed -n 3p) =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] ||
    fail "the uuid in canonical form"
  # the image's annotations, then the pod manifest's for the app (which win on a clash)
  section appann | sed -n 3p | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [x["name"] for x in a] == ["description", "podrun.test/role"], a
assert a[1]["value"] == "tester", a' || fail "the app's annotations, merged"
  [[ $(section appann1 | sed -n 2,3p) == $'Content-Type: text/plain; charset=utf-8\nBusyBox '* ]] ||
    fail "one annotation's value"
  [[ $(section appann2 | sed -n 3p) == tester ]] || fail "an annotation whose name has a /"
  section imanifest | sed -n 3p | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["acKind"] == "ImageManifest" and m["name"] == "podrun.test/busybox", m' || fail "the image manifest"
  [[ $(section iid) == "HTTP/1.1 200 OK"$'\n'"Content-Type: text/plain; charset=us-ascii"$'\n'"$BUSYBOX_ID" ]] ||
    fail "the image id"
  [[ $(section noapp | head -1) == *" 404 "* ]] || fail "an app the pod does not have: 404"
  [[ $(section noann | head -1) == *" 404 "* ]] || fail "an annotation the app does not have: 404"
  wait_unregistered "$uuid"
}

@test "mds: HMAC: sign then verify, from the same pod and from another; tampered content or signature, another pod's uuid: 403" {
  fetch_busybox
  start_mds
  ask "sig pod/hmac/sign content=hello%20world
ok pod/hmac/verify uuid=%U&content=hello+world&signature=SIG
get pod/hmac/sign
form pod/hmac/verify uuid=%U&content=hello+world"
  local sig uuid_a
  [[ $(section sig | sed -n 1,2p) == $'HTTP/1.1 200 OK\nContent-Type: text/plain; charset=us-ascii' ]] || fail "sign's reply"
  sig=$(section sig | sed -n 3p)
  [[ $sig =~ ^[A-Za-z0-9+/]{86}==$ ]] || fail "a base64 HMAC-SHA512: $sig"
  [[ $(section ok | head -1) == *" 403 "* ]] || fail "SIG is not the signature"
  [[ $(section get | head -1) == *" 405 "* ]] || fail "GET of sign: 405"
  [[ $(section form | head -1) == *" 400 "* ]] || fail "verify without a signature: 400"
  uuid_a=$ASK_UUID
  local esig=${sig//+/%2B}
  esig=${esig//\//%2F}
  esig=${esig//=/%3D}
  # pod A is gone (unregistered): its signatures verify no more
  ask "gone pod/hmac/verify uuid=$uuid_a&content=hello+world&signature=$esig"
  [[ $(section gone | head -1) == *" 403 "* ]] || fail "a pod that is gone: 403"
  # a long-lived pod A signs; pod B verifies A's signature by A's uuid, and refuses tampering
  podrun run --mds-register --uuid-file-save="$BATS_TEST_TMPDIR/a" podrun.test/busybox --exec=/bin/sh -- -c \
    'wget -q -O - --post-data content=hello%20world "$AC_METADATA_URL/acMetadata/v1/pod/hmac/sign" >/tmp/sig; sleep 30' --- \
    >/dev/null 2>&1 &
  local a_pid=$! i
  for i in $(seq 100); do [[ -s $BATS_TEST_TMPDIR/a ]] && registered | grep -qx "$(cat "$BATS_TEST_TMPDIR/a")" && break; sleep 0.1; done
  uuid_a=$(cat "$BATS_TEST_TMPDIR/a")
  sleep 1
  sig=$(podrun enter "$uuid_a" /bin/cat /tmp/sig)
  [[ $sig =~ ^[A-Za-z0-9+/]{86}==$ ]] || fail "pod A's signature: $sig"
  esig=${sig//+/%2B}
  esig=${esig//\//%2F}
  esig=${esig//=/%3D}
  # cut before it is encoded: a cut through a %XX is a malformed form (400), not a bad signature
  local short=${sig:0:20}
  short=${short//+/%2B}
  short=${short//\//%2F}
  local flipped=B${esig:1}
  [[ ${esig:0:1} != B ]] || flipped=A${esig:1}
  ask "good pod/hmac/verify uuid=$uuid_a&content=hello+world&signature=$esig
content pod/hmac/verify uuid=$uuid_a&content=hello+World&signature=$esig
signature pod/hmac/verify uuid=$uuid_a&content=hello+world&signature=$flipped
mine pod/hmac/verify uuid=%U&content=hello+world&signature=$esig
truncated pod/hmac/verify uuid=$uuid_a&content=hello+world&signature=$short"
  [[ $(section good | sed -n 1,2p) == $'HTTP/1.1 200 OK\nContent-Type: text/plain; charset=us-ascii' ]] ||
    fail "pod A's signature, verified by pod B: 200"
  local s
  for s in content signature mine truncated; do
    [[ $(section $s | head -1) == *" 403 "* ]] || fail "$s tampered: 403"
  done
  podrun stop --force "$uuid_a" >/dev/null
  wait "$a_pid" || true
  wait_unregistered "$uuid_a"
}

# urlencode STRING: a base64 signature as a form's value
urlencode() {
  local v=${1//+/%2B}
  v=${v//\//%2F}
  echo "${v//=/%3D}"
}

# verify_in UUID FORM: the status line of pod UUID's POST of FORM to pod/hmac/verify (podrun enter)
verify_in() {
  podrun enter "$1" /bin/sh -c 'wget -S -q -O /dev/null --post-data "$1" "$AC_METADATA_URL/acMetadata/v1/pod/hmac/verify" 2>&1 |
    grep -m1 "HTTP/" | sed "s/^ *//"' sh "$2" </dev/null
}

# mds_attacks [RUN FLAGS…]: pod B (the victim, running, signed "secret") and pod A (the
# attacker), both run with RUN FLAGS on the default network. A asks with guessed,
# truncated and upper-cased tokens, path tricks, B's app name, the registration path and
# B's real token from A's address; B's token from the host; A's signature of "secret" is
# not B's and does not verify as B's, while B's does (from A and from B).
mds_attacks() {
  # pod B, running: its token is in its pod directory (root's) and its apps' environment only
  podrun run --mds-register --uuid-file-save="$BATS_TEST_TMPDIR/b" "$@" podrun.test/busybox --name=victim --exec=/bin/sh -- -c \
    'wget -q -O - --post-data content=secret "$AC_METADATA_URL/acMetadata/v1/pod/hmac/sign" >/tmp/sig; exec sleep 600' --- \
    >/dev/null 2>&1 &
  local b_pid=$! i uuid_b token_b url_b sig_b sig_a
  for i in $(seq 100); do [[ -s $BATS_TEST_TMPDIR/b ]] && registered | grep -qx "$(cat "$BATS_TEST_TMPDIR/b")" && break; sleep 0.1; done
  uuid_b=$(cat "$BATS_TEST_TMPDIR/b")
  url_b=$(cat "$STORE/pods/run/$uuid_b/mds-url")
  token_b=${url_b##*/}
  [[ $token_b =~ ^[0-9a-f]{64}$ ]] || fail "a 256-bit token: $token_b"
  [[ $(stat -c %a "$STORE/pods/run/$uuid_b/mds-url") == 600 ]] || fail "mds-url is root's alone"
  # nowhere on a command line of the host, where any user could read it
  ! grep -l "$token_b" /proc/[0-9]*/cmdline 2>/dev/null || fail "the token is on a command line"
  # B's signature of "secret", once its app has run (a VM boots for seconds)
  for i in $(seq 600); do
    sig_b=$(podrun enter "$uuid_b" /bin/cat /tmp/sig 2>/dev/null </dev/null) || true
    [[ $sig_b =~ ^[A-Za-z0-9+/]{86}==$ ]] && break
    kill -0 "$b_pid" 2>/dev/null || fail "pod B exited"
    sleep 0.2
  done
  [[ $sig_b =~ ^[A-Za-z0-9+/]{86}==$ ]] || fail "pod B's signature: $sig_b"
  # pod A asks with guessed tokens, its own with tricks, and B's name of an app
  ask "guess /0000000000000000000000000000000000000000000000000000000000000000/acMetadata/v1/pod/uuid
short /${token_b:0:32}/acMetadata/v1/pod/uuid
upper /${token_b^^}/acMetadata/v1/pod/uuid
dotdot /../$token_b/acMetadata/v1/pod/uuid
encoded /%2e%2e/$token_b/acMetadata/v1/pod/uuid
slashes pod//uuid
victim apps/victim/image/id
register /v1/pods {}
stolen /$token_b/acMetadata/v1/pod/uuid
mine pod/hmac/sign content=secret
bsig pod/hmac/verify uuid=$uuid_b&content=secret&signature=$(urlencode "$sig_b")" "$@"
  for s in guess short upper; do
    [[ $(section $s | head -1) == *" 403 "* ]] || fail "$s: 403"
  done
  for s in dotdot encoded slashes victim register; do
    [[ $(section $s | head -1) == *" 40"[34]" "* ]] || fail "$s: 403 or 404"
  done
  [[ $(section victim) != *sha512* ]] || fail "pod A read pod B's image id"
  # B's own token, from A's address (what A would do had it learnt it): refused
  [[ $(section stolen | head -1) == *" 403 "* ]] || fail "B's token from A's address: 403"
  [[ $(section stolen) != *"$uuid_b"* ]] || fail "B's uuid leaked"
  # A cannot sign as B: its signature of the same content is another, which does not
  # verify as B's; B's own does, from A and from B
  [[ $(section bsig | head -1) == *" 200 "* ]] || fail "B's signature, verified from A: 200"
  sig_a=$(section mine | sed -n 3p)
  [[ $sig_a =~ ^[A-Za-z0-9+/]{86}==$ && $sig_a != "$sig_b" ]] || fail "A's signature: $sig_a (B's: $sig_b)"
  [[ $(verify_in "$uuid_b" "uuid=$uuid_b&content=secret&signature=$(urlencode "$sig_a")") == *" 403 "* ]] ||
    fail "A's signature verified as B's"
  [[ $(verify_in "$uuid_b" "uuid=$uuid_b&content=secret&signature=$(urlencode "$sig_b")") == *" 200 "* ]] ||
    fail "B's own signature, verified in B: 200"
  # B's token from the host (another address than B's)
  log_run curl -s -o /dev/null -w '%{http_code}' "$url_b/acMetadata/v1/pod/uuid"
  [[ $output == 403 ]] || fail "B's token from the host: $output"
  # only root registers: the socket is 0600 root, and the service checks the peer too
  [[ $(stat -c '%a %u' "$SOCK") == "600 0" ]] || fail "the registration socket's mode"
  log_run setpriv --reuid=65534 --regid=65534 --clear-groups curl -s --unix-socket "$SOCK" http://mds/v1/pods
  [[ $status -ne 0 ]] || fail "a non-root user reached the registration socket"
  podrun stop --force "$uuid_b" >/dev/null
  wait "$b_pid" || true
  wait_unregistered "$uuid_b"
}

@test "mds: attacks from inside a pod: guessed tokens, path tricks, another pod's data, the registration side; a stolen token elsewhere: 403; no signing as another pod" {
  fetch_busybox
  start_mds
  mds_attacks
}

@test "mds: --net=host, fly, --private-users: AC_METADATA_URL is 127.0.0.1 or reachable; a pod is unregistered when it exits, is stopped or its podrun is killed -9" {
  fetch_busybox
  start_mds
  run_podrun run --mds-register --net=host podrun.test/busybox --exec=/bin/sh -- -c \
    'echo "$AC_METADATA_URL"; wget -q -O - "$AC_METADATA_URL/acMetadata/v1/apps/busybox/image/id"' ---
  assert_status 0
  [[ ${lines[0]} =~ ^http://127\.0\.0\.1:$PORT/[0-9a-f]{64}$ ]] || fail "AC_METADATA_URL: ${lines[0]}"
  [[ ${lines[1]} == "$BUSYBOX_ID" ]] || fail "the image id over 127.0.0.1"
  local url=${lines[0]}
  local i
  for i in $(seq 100); do [[ -n $(registered) ]] || break; sleep 0.05; done
  [[ -z $(registered) ]] || fail "a pod that exited is still registered"
  # fly: the host's network, stage2 reads the pod directory's mds-url
  run_podrun run --stage1=fly --mds-register podrun.test/busybox --exec=/bin/sh -- -c \
    'wget -q -O - "$AC_METADATA_URL/acMetadata/v1/apps/busybox/image/id"' ---
  assert_status 0
  [[ $output == "$BUSYBOX_ID" ]] || fail "fly: the image id"
  # --private-users: the pod's root (a shifted uid) reads mds-url, made its own
  run_podrun run --private-users --mds-register podrun.test/busybox --exec=/bin/sh -- -c \
    'wget -q -O - "$AC_METADATA_URL/acMetadata/v1/apps/busybox/image/id"' ---
  assert_status 0
  [[ $output == "$BUSYBOX_ID" ]] || fail "--private-users: the image id"
  # the token of a pod that ended opens nothing
  log_run curl -s -o /dev/null -w '%{http_code}' "$url/acMetadata/v1/pod/uuid"
  [[ $output == 403 ]] || fail "an ended pod's token: $output"
  # kill -9 of its podrun (the pod's stage1): the binary itself, not a shell around it
  "$PODRUN" --dir="$STORE" run --mds-register --uuid-file-save="$BATS_TEST_TMPDIR/k" podrun.test/busybox --exec=/bin/sleep -- 30 --- \
    >/dev/null 2>&1 &
  local pid=$! uuid
  for i in $(seq 100); do [[ -s $BATS_TEST_TMPDIR/k ]] && registered | grep -qx "$(cat "$BATS_TEST_TMPDIR/k")" && break; sleep 0.1; done
  uuid=$(cat "$BATS_TEST_TMPDIR/k")
  registered | grep -qx "$uuid" || fail "not registered"
  kill -9 "$pid"
  wait "$pid" || true
  wait_unregistered "$uuid"
  podrun gc --grace-period=0 >/dev/null 2>&1 || true
  # prepare --mds-register, run-prepared keeps it; run-prepared --mds-register=false overrides
  local p
  p=$(podrun prepare --mds-register podrun.test/busybox --exec=/bin/sh -- -c 'echo "url=$AC_METADATA_URL"' ---)
  run_podrun run-prepared "$p"
  assert_status 0
  [[ $output == url=http://*/* ]] || fail "run-prepared of a pod prepared with --mds-register"
  p=$(podrun prepare --mds-register podrun.test/busybox --exec=/bin/sh -- -c 'echo "url=$AC_METADATA_URL"' ---)
  run_podrun run-prepared --mds-register=false "$p"
  assert_status 0
  [[ $output == url= ]] || fail "run-prepared --mds-register=false: $output"
  # and without the flag, nothing
  run_podrun run podrun.test/busybox --exec=/bin/sh -- -c 'echo "url=$AC_METADATA_URL"' ---
  [[ $output == url= ]] || fail "AC_METADATA_URL without --mds-register"
}

@test "mds: the service not running: --mds-register fails with one line and leaves nothing; bad values are one line" {
  fetch_busybox
  run_podrun run --mds-register --uuid-file-save="$BATS_TEST_TMPDIR/u" podrun.test/busybox --exec=/bin/true
  assert_one_line_error "metadata service" "$SOCK" "not reachable"
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2) ]] || fail "a pod was left: $(ls -R "$STORE/pods")"
  # nor its network: no netns mount under the store, no address reserved for it (counts
  # of the host's veths would see other suites' pods)
  ! grep -q " $STORE/" /proc/self/mountinfo || fail "a mount was left: $(grep " $STORE/" /proc/self/mountinfo)"
  if [[ -s $BATS_TEST_TMPDIR/u ]]; then
    ! grep -rqs "$(cat "$BATS_TEST_TMPDIR/u")" /run/podrun/cni/networks || fail "an address is still reserved for the pod"
  fi
  # run-prepared leaves the pod prepared
  local p
  p=$(podrun prepare --mds-register podrun.test/busybox --exec=/bin/true)
  run_podrun run-prepared "$p"
  assert_one_line_error "not reachable"
  [[ -d $STORE/pods/prepared/$p ]] || fail "the pod is not prepared any more"
  run_podrun run --mds-register=maybe podrun.test/busybox --exec=/bin/true
  assert_one_line_error "--mds-register" '"maybe" is not a boolean'
  run_podrun run --mds-register --net=none podrun.test/busybox --exec=/bin/true
  assert_one_line_error "--net=none"
  [[ $(find "$STORE/pods" -mindepth 2 -maxdepth 2) == "$STORE/pods/prepared/$p" ]] || fail "a pod was left: $(ls -R "$STORE/pods")"
}

@test "mds: the service's bad input: registration bodies, methods, content types, sizes; its own flags: one line" {
  start_mds
  local r
  r=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' -d '{' http://mds/v1/pods)
  [[ $r == 400 ]] || fail "bad JSON: $r"
  r=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
    -d '{"uuid": "x", "manifest": {}, "apps": []}' http://mds/v1/pods)
  [[ $r == 400 ]] || fail "bad uuid: $r"
  r=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X POST -d 'a=b' http://mds/v1/pods)
  [[ $r == 415 ]] || fail "not JSON: $r"
  r=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X PUT http://mds/v1/pods)
  [[ $r == 405 ]] || fail "PUT: $r"
  r=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X DELETE http://mds/v1/pods/00000000-0000-4000-8000-000000000000)
  [[ $r == 404 ]] || fail "unregister of no pod: $r"
  head -c 5000000 /dev/zero >"$BATS_TEST_TMPDIR/big"
  r=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
    --data-binary @"$BATS_TEST_TMPDIR/big" http://mds/v1/pods)
  [[ $r == 413 ]] || fail "a body over the limit: $r"
  # the pods' side: no token, a bad one, a big form
  r=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
  [[ $r == 404 ]] || fail "/: $r"
  r=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v1/pods")
  [[ $r == 403 ]] || fail "the registration path on TCP: $r"
  head -c 100000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/form"
  r=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$BATS_TEST_TMPDIR/form" "http://127.0.0.1:$PORT/x/acMetadata/v1/pod/hmac/sign")
  [[ $r == 413 ]] || fail "a form over the limit: $r"
  # one address holds at most 32 connections at once: a pod cannot take them all from the others
  local fds=() fd i
  for i in $(seq 32); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
    fds+=("$fd")
  done
  sleep 0.2
  r=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/x/acMetadata/v1/pod/uuid") || true
  [[ $r == 000 ]] || fail "a 33rd connection from one address was served: $r"
  for fd in "${fds[@]}"; do exec {fd}>&-; done
  sleep 0.2
  r=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/x/acMetadata/v1/pod/uuid")
  [[ $r == 403 ]] || fail "once they closed, a connection is served: $r"
  kill -0 "$MDS_PID" || fail "the service died"
  run --separate-stderr "$BUILD/bin/podrun-metadata" --listen=tcp:nowhere:1
  [[ $status -eq 254 && ${#stderr_lines[@]} -eq 1 && ${stderr_lines[0]} == "podrun-metadata: --listen=tcp:nowhere:1"* ]] ||
    fail "a bad --listen: $stderr"
  run --separate-stderr "$BUILD/bin/podrun-metadata" --listen=tcp:127.0.0.1:0
  [[ $status -eq 254 && ${stderr_lines[0]} == *"no unix socket for registrations"* ]] || fail "no unix socket: $stderr"
  run --separate-stderr "$BUILD/bin/podrun-metadata" --bogus
  [[ $status -eq 254 && ${stderr_lines[0]} == 'podrun-metadata: unknown option "--bogus"'* ]] || fail "unknown option: $stderr"
  run "$BUILD/bin/podrun-metadata" --help
  [[ $status -eq 0 && $output == *"--listen=unix:PATH|tcp:HOST:PORT"* ]] || fail "--help"
  # podrun metadata-service passes its flags on
  run --separate-stderr "$PODRUN" metadata-service --listen=nowhere
  [[ $status -eq 254 && ${#stderr_lines[@]} -eq 1 && ${stderr_lines[0]} == "podrun-metadata: --listen=nowhere: expected unix:PATH or tcp:HOST:PORT" ]] ||
    fail "podrun metadata-service --listen=nowhere: $stderr"
  # what the service is: not root, no capability
  local st
  st=$(cat "/proc/$MDS_PID/status")
  [[ $(awk '/^Uid:/ {print $2}' <<<"$st") != 0 ]] || fail "the service runs as root"
  [[ $(awk '/^CapEff:/ {print $2}' <<<"$st") == 0000000000000000 ]] || fail "the service kept capabilities"
  [[ $(awk '/^CapBnd:/ {print $2}' <<<"$st") == 0000000000000000 ]] || fail "the bounding set is not empty"
}

@test "mds: make install ships podrun-metadata and its units; systemd-analyze finds nothing wrong with them" {
  command -v systemd-analyze >/dev/null || skip "needs systemd-analyze (package systemd)"
  local d=$BATS_TEST_TMPDIR/dest u
  log_run make -C "$E2E_ROOT" -s install DESTDIR="$d" PREFIX=/usr/local BUILD="$BUILD"
  assert_status 0
  [[ -x $d/usr/local/bin/podrun-metadata ]] || fail "no podrun-metadata"
  u=$d/usr/local/lib/systemd/system
  grep -qx 'ExecStart=/usr/local/bin/podrun-metadata' "$u/podrun-metadata.service" || fail "ExecStart"
  grep -qx 'SocketMode=0600' "$u/podrun-metadata.socket" && grep -qx 'ListenStream=/run/podrun/mds.sock' "$u/podrun-metadata.socket" ||
    fail "the registration socket"
  grep -qx 'ListenStream=0.0.0.0:18112' "$u/podrun-metadata.socket" || fail "the pods' port"
  grep -q '^u podrun-metadata ' "$d/usr/local/lib/sysusers.d/podrun.conf" || fail "the service's user"
  sed -i "s|^ExecStart=.*|ExecStart=$d/usr/local/bin/podrun-metadata|" "$u/podrun-metadata.service"
  cd "$u"
  log_run systemd-analyze verify --man=no ./podrun-metadata.socket ./podrun-metadata.service
  assert_status 0
  [[ -z $output ]] || fail "systemd-analyze: $output"
}

@test "mds: socket activation: podrun metadata-service (podrun-metadata exec'd) takes systemd's sockets (LISTEN_FDS), unix for registrations, TCP for pods" {
  command -v systemd-socket-activate >/dev/null || skip "needs systemd-socket-activate (package systemd)"
  fetch_busybox
  local port=$((20000 + RANDOM % 20000))
  systemd-socket-activate -l "$SOCK" -l "0.0.0.0:$port" "$PODRUN" metadata-service 2>"$BATS_TEST_TMPDIR/mds.err" &
  MDS_PID=$!
  local i
  for i in $(seq 100); do [[ -S $SOCK ]] && break; sleep 0.05; done
  chmod 0600 "$SOCK"
  run_podrun run --mds-register podrun.test/busybox --exec=/bin/sh -- -c \
    'echo "$AC_METADATA_URL"; wget -q -O - "$AC_METADATA_URL/acMetadata/v1/apps/busybox/image/id"' ---
  assert_status 0
  [[ ${lines[0]} == "http://172.16.28.1:$port/"* ]] || fail "the URL has the activated port: ${lines[0]}"
  [[ ${lines[1]} == "$BUSYBOX_ID" ]] || fail "the image id through the activated socket"
}

# ace_build DIR [TIMEOUT]: the ACE validator's two images in DIR (ace-build.sh; built once,
# again when the script changed), fetched: their ids in ACE_IDS.
ace_build() {
  local aces=$1
  shift
  if [[ ! -f $aces/ace-validator-main.aci || ! -f $aces/ace-validator-sidekick.aci ||
        $E2E_ROOT/tests/tools/ace-build.sh -nt $aces/ace-validator-main.aci ]]; then
    log_run sh "$E2E_ROOT/tests/tools/ace-build.sh" "$aces" "$@"
    [[ $status -ne 77 ]] || skip "$output"
    assert_status 0
  fi
  fetch_ok "$aces/ace-validator-main.aci" "$aces/ace-validator-sidekick.aci"
  ACE_IDS=($output)
  [[ ${#ACE_IDS[@]} -eq 2 ]] || fail "fetch: $output"
}

# ace_run [RUN FLAGS…]: the validator's pod of ACE_IDS, with --mds-register and a shared
# empty volume; the accelerator of a kvm pod in ACE_ACCEL.
ace_run() {
  run_podrun run --mds-register --volume=database,kind=empty --uuid-file-save="$BATS_TEST_TMPDIR/ace-uuid" "$@" \
    "${ACE_IDS[0]}" "${ACE_IDS[1]}"
  ACE_ACCEL=$(cat "$STORE"/pods/*/"$(cat "$BATS_TEST_TMPDIR/ace-uuid")"/accelerator 2>/dev/null) || true
}

# ace_validator [RUN FLAGS…]: the appc ACE validator as a two-app pod: prestart, main,
# sidekick and poststop OK, no FAIL. Under TCG (kvm's software emulation) the
# validator's metadata client, which gives each request 100 ms, times out on its first
# while the sidekick polls the shared volume (over 9p) without a pause, more often than
# not on a loaded machine: a TCG run whose every error is that timeout is run again with
# the validator built to give each request 2 s, its one change (ace-build.sh TIMEOUT).
ace_validator() {
  ace_build "$BUILD/ace"
  start_mds
  ace_run "$@"
  local s all="$output $stderr" errors timeouts
  errors=$(grep -c '^==> ' <<<"$stderr") || true
  timeouts=$(grep -c '^==> .*(Client.Timeout exceeded while awaiting headers)$' <<<"$stderr") || true
  if [[ $ACE_ACCEL == tcg && $errors -gt 0 && $errors -eq $timeouts ]]; then
    echo "# under TCG the validator's 100 ms metadata client timed out: again, with 2 s"
    ace_build "$BUILD/ace-tcg" '2*time.Second'
    ace_run "$@"
    all="$output $stderr"
  fi
  for s in "prestart OK" "main OK" "sidekick OK" "poststop OK"; do
    [[ $all == *"$s"* ]] || fail "no \"$s\""
  done
  [[ $all != *FAIL* ]] || fail "a check failed"
  assert_status 0
}

@test "mds: conformance: the appc ACE validator (main, sidekick, pre-start, post-stop) as a two-app pod with a shared empty volume" {
  ace_validator
}

@test "mds: a service the pod's network cannot reach (loopback only) is refused with one line; the registration is undone, nothing left" {
  fetch_busybox
  "$BUILD/bin/podrun-metadata" --listen=unix:"$SOCK" --listen=tcp:127.0.0.1:0 2>"$BATS_TEST_TMPDIR/mds.err" &
  MDS_PID=$!
  local i
  for i in $(seq 100); do [[ -S $SOCK ]] && curl -sf --unix-socket "$SOCK" -o /dev/null http://mds/v1/pods && break; sleep 0.05; done
  run_podrun run --mds-register podrun.test/busybox --exec=/bin/true
  assert_one_line_error "--mds-register" "listens on" "172.16.28.1"
  [[ -z $(registered) ]] || fail "the registration was not undone"
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2) ]] || fail "a pod was left: $(ls -R "$STORE/pods")"
  # the host's network reaches it there
  run_podrun run --mds-register --net=host podrun.test/busybox --exec=/bin/sh -- -c \
    'wget -q -O - "$AC_METADATA_URL/acMetadata/v1/pod/uuid"' ---
  assert_status 0
}

# The kvm stage1: the same service, reached from the guest over its tap and the pod's
# veth (CNI) or slirp's 10.0.2.2 (--net=host). TCG boots take seconds: few pods.
requires_kvm_stage1() {
  requires stage1-kvm
  command -v qemu-system-x86_64 >/dev/null || skip "needs qemu-system-x86_64 (package qemu-system-x86)"
}

@test "mds: kvm: the guest's apps get the nspawn pod's AC_METADATA_URL (the default network's host side; slirp's 10.0.2.2 on --net=host) and reach the service; mds-url is root's on the read-only share" {
  requires_kvm_stage1
  fetch_busybox
  start_mds
  run_podrun run --stage1=kvm --mds-register --uuid-file-save="$BATS_TEST_TMPDIR/u" podrun.test/busybox --exec=/bin/sh -- -c \
    'echo "$AC_METADATA_URL"; wget -q -O - "$AC_METADATA_URL/acMetadata/v1/apps/busybox/image/id"; echo
     wget -q -O - "$AC_METADATA_URL/acMetadata/v1/pod/uuid"' ---
  assert_status 0
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/u")
  [[ ${lines[0]} =~ ^http://172\.16\.28\.1:$PORT/[0-9a-f]{64}$ ]] || fail "AC_METADATA_URL: ${lines[0]}"
  [[ ${lines[1]} == "$BUSYBOX_ID" ]] || fail "the image id from the guest"
  [[ ${lines[2]} == "$uuid" ]] || fail "the pod's uuid from the guest"
  local meta
  meta=$(find "$STORE/pods" -mindepth 2 -maxdepth 2 -name "$uuid")/kvm/meta/mds-url
  [[ $(stat -c '%a %u' "$meta") == "600 0" && $(cat "$meta") == "${lines[0]}" ]] || fail "the share's mds-url: $(stat -c '%a %u' "$meta")"
  wait_unregistered "$uuid"
  run_podrun run --stage1=kvm --mds-register --net=host podrun.test/busybox --exec=/bin/sh -- -c \
    'echo "$AC_METADATA_URL"; wget -q -O - "$AC_METADATA_URL/acMetadata/v1/apps/busybox/image/id"' ---
  assert_status 0
  [[ ${lines[0]} =~ ^http://10\.0\.2\.2:$PORT/[0-9a-f]{64}$ ]] || fail "--net=host: AC_METADATA_URL: ${lines[0]}"
  [[ ${lines[1]} == "$BUSYBOX_ID" ]] || fail "--net=host: the image id through slirp"
}

@test "mds: kvm: attacks from inside a guest against another kvm pod: guessed and stolen tokens, path tricks, the registration side get nothing; no signing as another pod" {
  requires_kvm_stage1
  fetch_busybox
  start_mds
  mds_attacks --stage1=kvm
}

@test "mds: kvm: conformance: the appc ACE validator as a two-app pod in a VM (under TCG here)" {
  requires_kvm_stage1
  ace_validator --stage1=kvm
}
