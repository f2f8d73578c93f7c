# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared helpers of the end-to-end suites; every .bats file does `load helpers`.
# Environment (set by tests/run.sh): PODRUN = the podrun binary, BUILD = the build dir.
# Every test gets its own store, $STORE, under its own $BATS_TEST_TMPDIR.

bats_require_minimum_version 1.5.0

E2E_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD=${BUILD:-$E2E_ROOT/build}
case $BUILD in /*) ;; *) BUILD=$E2E_ROOT/$BUILD ;; esac
PODRUN=${PODRUN:-$BUILD/bin/podrun}
case $PODRUN in /*) ;; *) PODRUN=$E2E_ROOT/$PODRUN ;; esac
BUSYBOX_ACI=$BUILD/busybox.aci
BUSYBOX_NAME=podrun.test/busybox
# setup_file runs without a per-test directory.
if [[ -n "${BATS_TEST_TMPDIR:-}" ]]; then
  STORE=$BATS_TEST_TMPDIR/store
fi

# Architecture as appc names it.
case $(uname -m) in
  x86_64) ACI_ARCH=amd64 ;;
  aarch64 | arm64) ACI_ARCH=aarch64 ;;
  *) ACI_ARCH=$(uname -m) ;;
esac

# podrun ARGS…: the binary under test, on this test's store.
podrun() {
  "$PODRUN" --dir="$STORE" "$@"
}

# run_podrun [-N] ARGS…: runc's habit. Runs podrun with `run`, stdout in $output/$lines,
# stderr in $stderr/$stderr_lines, and echoes the command, its status and both
# outputs (bats shows them only when the test fails). -N: bats' own check that the
# status is N (for 127, which bats otherwise warns about).
run_podrun() {
  local expect=()
  if [[ $1 == -[0-9]* ]]; then
    expect=("$1")
    shift
  fi
  run "${expect[@]}" --separate-stderr podrun "$@"
  echo "\$ podrun $* (status=$status)"
  [[ -z "$output" ]] || printf '%s\n' "$output" | sed 's/^/  stdout: /'
  [[ -z "$stderr" ]] || printf '%s\n' "$stderr" | sed 's/^/  stderr: /'
  return 0
}

# log_run CMD…: the same for any other command (stderr merged into $output).
log_run() {
  run "$@"
  echo "\$ $* (status=$status)"
  [[ -z "$output" ]] || printf '%s\n' "$output" | sed 's/^/  /'
  return 0
}

# fail MESSAGE: fails the test with a message.
fail() {
  echo "FAIL: $*" >&2
  return 1
}

# requires FEATURE…: skips the test, with the reason, when this machine lacks one.
requires() {
  local f
  for f in "$@"; do
    case $f in
      root)
        [[ $(id -u) -eq 0 ]] || skip "needs root (running as uid $(id -u))" ;;
      kvm)
        [[ -r /dev/kvm && -w /dev/kvm ]] || skip "needs a usable /dev/kvm" ;;
      systemd)
        [[ -d /run/systemd/system ]] || skip "needs systemd as pid 1" ;;
      registry)
        command -v docker-registry >/dev/null || skip "needs docker-registry (package docker-registry)" ;;
      actool)
        command -v actool >/dev/null || skip "needs actool (package appc-spec)" ;;
      python3)
        python3 -c 'import json' 2>/dev/null || skip "needs python3 with its json module" ;;
      nspawn)
        command -v systemd-nspawn >/dev/null || skip "needs systemd-nspawn (package systemd-container)" ;;
      strace)
        command -v strace >/dev/null || skip "needs strace (package strace)" ;;
      stage1-kvm)
        [[ -f "$BUILD/stage1-kvm.aci" ]] || skip "needs the kvm stage1 ($BUILD/stage1-kvm.aci): this podrun does not build it yet" ;;
      no-stage1-kvm)
        [[ ! -f "$BUILD/stage1-kvm.aci" ]] || skip "the kvm stage1 is built here: a policy's kvm runs (see the kvm tests)" ;;
      *)
        fail "requires: unknown feature \"$f\"" ;;
    esac
  done
}

# busybox_aci: path of the busybox ACI built by `make images` (fails if it is missing).
busybox_aci() {
  [[ -f "$BUSYBOX_ACI" ]] || fail "$BUSYBOX_ACI missing: run 'make BUILD=$BUILD images'"
  echo "$BUSYBOX_ACI"
}

# assert_status N: the last run_podrun/log_run exited with N.
assert_status() {
  [[ "$status" -eq "$1" ]] || fail "expected exit status $1, got $status"
}

# assert_output_contains STR: stdout of the last run contains STR.
assert_output_contains() {
  [[ "$output" == *"$1"* ]] || fail "stdout does not contain \"$1\""
}

# assert_stderr_contains STR: stderr of the last run_podrun contains STR.
assert_stderr_contains() {
  [[ "${stderr:-}" == *"$1"* ]] || fail "stderr does not contain \"$1\""
}

# said_once LINE: no part of an error line (split at ": ") is said twice, as when a
# caller adds the context its callee's message already has ('app "x": app "x": …').
said_once() {
  local rest=$1 part seen=$'\n'
  while [[ -n $rest ]]; do
    part=${rest%%": "*}
    if [[ $part == "$rest" ]]; then rest=; else rest=${rest#*": "}; fi
    [[ $seen != *$'\n'"$part"$'\n'* ]] || fail "\"$part\" is said twice in: $1" || return 1
    seen+=$part$'\n'
  done
}

# assert_one_line_error [STR…]: the last run_podrun failed with exit 254 and wrote
# exactly one line to stderr, starting with "podrun: " (and containing each STR),
# that says no part of it twice.
assert_one_line_error() {
  assert_error_lines 1 "$@"
}

# assert_error_lines N [STR…]: the last run_podrun failed with exit 254 and wrote
# N lines to stderr, one per error, each starting with "podrun: " and saying no part
# of it twice; each STR is in one of them.
assert_error_lines() {
  local n=$1 line s
  shift
  assert_status 254 || return 1
  [[ ${#stderr_lines[@]} -eq $n ]] || fail "expected $n line(s) on stderr, got ${#stderr_lines[@]}" || return 1
  for line in "${stderr_lines[@]}"; do
    [[ "$line" == "podrun: "* ]] || fail "stderr does not start with \"podrun: \"" || return 1
    said_once "$line" || return 1
  done
  for s in "$@"; do
    [[ "${stderr_lines[*]}" == *"$s"* ]] || fail "error does not mention \"$s\"" || return 1
  done
}

# is_image_id STR: STR is "sha512-" and 128 lowercase hex digits.
is_image_id() {
  [[ "$1" =~ ^sha512-[0-9a-f]{128}$ ]]
}

# aci_id FILE: the image id of an ACI, from the sha512 of its uncompressed tar.
aci_id() {
  local cat=cat
  case $(head -c 6 "$1" | od -An -tx1 | tr -d ' \n') in
    1f8b*) cat="gzip -dc" ;;
    425a68*) cat="bzip2 -dc" ;;
    fd377a585a00) cat="xz -dc" ;;
  esac
  echo "sha512-$($cat "$1" | sha512sum | cut -d' ' -f1)"
}

# fetch_ok ACI…: fetches into $STORE (insecure: local test images are unsigned),
# asserts success; the ids are left in $output, one per line.
fetch_ok() {
  run_podrun --insecure-options=image fetch "$@"
  assert_status 0
}

# fetch_busybox: fetches the busybox ACI; its id is left in $BUSYBOX_ID.
fetch_busybox() {
  local aci
  aci=$(busybox_aci) || return 1
  fetch_ok "$aci"
  BUSYBOX_ID=$output
  is_image_id "$BUSYBOX_ID" || fail "fetch printed \"$BUSYBOX_ID\", not an image id"
}

# aci_manifest NAME [VERSION [EXTRA_JSON_MEMBERS]]: prints a minimal valid manifest.
# EXTRA is inserted as further top-level members, e.g. '"dependencies": […]'.
aci_manifest() {
  local name=$1 version=${2:-} extra=${3:-} labels
  labels="{\"name\": \"os\", \"value\": \"linux\"}, {\"name\": \"arch\", \"value\": \"$ACI_ARCH\"}"
  [[ -z "$version" ]] || labels="{\"name\": \"version\", \"value\": \"$version\"}, $labels"
  printf '{\n  "acKind": "ImageManifest",\n  "acVersion": "0.8.11",\n  "name": "%s",\n  "labels": [%s]%s\n}\n' \
    "$name" "$labels" "${extra:+,
  $extra}"
}

# make_aci OUT MANIFEST ROOTFS_DIR [none|gzip|bzip2|xz]: builds an ACI with entries
# "manifest" and "rootfs/…" from a directory. MANIFEST is a file or the JSON text.
# Deterministic: numeric root owners, sorted names, mtime 0.
make_aci() {
  local out=$1 manifest=$2 rootfs=$3 comp=${4:-none} stage
  stage=$(mktemp -d "$BATS_TEST_TMPDIR/aci-stage.XXXXXX")
  if [[ -f "$manifest" ]]; then
    cp "$manifest" "$stage/manifest"
  else
    printf '%s\n' "$manifest" >"$stage/manifest"
  fi
  mkdir -p "$stage/rootfs"
  if [[ -n "$rootfs" ]]; then
    cp -a "$rootfs/." "$stage/rootfs/"
  fi
  chmod 0755 "$stage/rootfs" # not mktemp's 0700
  tar_aci "$out" "$stage" "$comp"
  rm -rf "$stage"
}

# tar_aci OUT STAGE_DIR [none|gzip|bzip2|xz]: STAGE_DIR already holds manifest and rootfs/.
tar_aci() {
  local out=$1 stage=$2 comp=${3:-none} flag=
  case $comp in
    none) ;;
    gzip) flag=--gzip ;;
    bzip2) flag=--bzip2 ;;
    xz) flag=--xz ;;
    *) fail "tar_aci: unknown compression \"$comp\"" || return 1 ;;
  esac
  tar --create $flag --file="$out" --directory="$stage" --format=gnu --sort=name --mtime=@0 \
    --numeric-owner --owner=0 --group=0 manifest rootfs
}

# compress_aci IN OUT gzip|bzip2|xz: the same tar, compressed.
compress_aci() {
  case $3 in
    gzip) gzip -c -n "$1" >"$2" ;;
    bzip2) bzip2 -c "$1" >"$2" ;;
    xz) xz -c "$1" >"$2" ;;
    *) fail "compress_aci: unknown compression \"$3\"" ;;
  esac
}

# blob_path ID: where the store keeps an image's blob.
blob_path() {
  local hex=${1#sha512-}
  echo "$STORE/cas/blob/sha512/${hex:0:2}/$hex"
}

# count_blobs: number of files under cas/blob/sha512 (leftovers included).
count_blobs() {
  find "$STORE/cas/blob/sha512" -type f 2>/dev/null | wc -l
}

# leftovers: lists what an interrupted command may leave in the store (temporary
# blobs and trees), one per line; empty when the store is clean.
leftovers() {
  find "$STORE/cas" \( -name '.tmp-*' -o -name '*.tmp-*' -o -name '*.tmp' -o -name '.*.tmp' \) 2>/dev/null
}

# json_valid: stdin is valid JSON (checked by python3 or jq, not by podrun).
json_valid() {
  if python3 -c 'import json' 2>/dev/null; then
    python3 -m json.tool >/dev/null
  elif command -v jq >/dev/null; then
    jq -e . >/dev/null
  else
    fail "json_valid: neither python3 nor jq is installed"
  fi
}

# json_query EXPR: evaluates a Python expression over the JSON on stdin, bound to `j`;
# prints the result (strings bare, others as JSON).
json_query() {
  python3 -c '
import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))' "$1"
}

# busybox_version: the version label of the busybox ACI.
busybox_version() {
  tar -xOf "$BUSYBOX_ACI" manifest | tr -d '\n' |
    sed -n 's/.*"name": *"version", *"value": *"\([^"]*\)".*/\1/p'
}

# store_ids: the full ids of the images in $STORE, sorted, one per line.
store_ids() {
  "$PODRUN" --dir="$STORE" image list --no-legend --full | awk '{ print $1 }' | LC_ALL=C sort
}

# assert_store_clean: the store holds exactly the blobs of the images it lists (ACIs:
# each is its own blob and its own layer), trees and layers only of listed images
# (they are extracted when a pod needs them), and nothing else: no temporary files,
# no partial downloads, no strays.
assert_store_clean() {
  local ids blobs trees
  ids=$(store_ids) || fail "image list failed"
  blobs=$(cd "$STORE/cas/blob/sha512" 2>/dev/null && find . -mindepth 1 \( -type f -o -type l \) -printf '%P\n' |
    LC_ALL=C sort)
  trees=$(cd "$STORE/cas/tree" 2>/dev/null && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort)
  local want_blobs="" want_trees="" id
  for id in $ids; do
    want_blobs+="${id:7:2}/${id#sha512-}"$'\n'
    want_trees+="$id"$'\n'
  done
  want_blobs=$(printf '%s' "$want_blobs" | LC_ALL=C sort)
  want_trees=$(printf '%s' "$want_trees" | LC_ALL=C sort)
  if [[ "$blobs" != "$want_blobs" ]]; then
    echo "blobs:"$'\n'"$blobs"$'\n'"expected:"$'\n'"$want_blobs"
    fail "the blob directory holds more or less than the listed images"
  fi
  local t
  for t in $trees; do
    grep -qxF "$t" <<<"$want_trees" || fail "cas/tree/$t is not a listed image"
  done
  for t in $(cd "$STORE/cas/layer" 2>/dev/null && find . -mindepth 1 -maxdepth 1 -printf '%P\n'); do
    grep -qxF "$t" <<<"$want_trees" || fail "cas/layer/$t is not a layer of a listed image"
  done
  [[ -z "$(ls -A "$STORE/cas/blob/partial" 2>/dev/null)" ]] || fail "partial downloads left: $(ls -A "$STORE/cas/blob/partial")"
  # Fan-out directories hold only blob files.
  local odd
  odd=$(find "$STORE/cas/blob/sha512" -mindepth 1 -maxdepth 1 ! -type d 2>/dev/null)
  [[ -z "$odd" ]] || fail "stray files in cas/blob/sha512: $odd"
}

# make_small_aci OUT NAME [VERSION [EXTRA_JSON [COMPRESSION]]]: a tiny image with one
# file, etc/<basename of NAME>, whose content names the image (so ids differ).
make_small_aci() {
  local out=$1 name=$2 version=${3:-} extra=${4:-} comp=${5:-none} root
  root=$(mktemp -d "$BATS_TEST_TMPDIR/small-root.XXXXXX")
  mkdir -p "$root/etc"
  echo "$name $version" >"$root/etc/${name##*/}"
  make_aci "$out" "$(aci_manifest "$name" "$version" "$extra")" "$root" "$comp"
  rm -rf "$root"
}

# An image with busybox, the probe at /probe, a user "app" (uid 1000) and a group
# "staff" (gid 50), and a file only the image has.
make_probe_aci() {
  local root=$BATS_TEST_TMPDIR/proot
  mkdir -p "$root/bin" "$root/etc" "$root/work"
  cp /bin/busybox "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  ln -s busybox "$root/bin/cat"
  ln -s busybox "$root/bin/sleep"
  cp "$BUILD/probe" "$root/probe"
  printf 'root:x:0:0::/:/bin/sh\napp:x:1000:1000::/work:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nstaff:x:50:\napp:x:1000:\n' >"$root/etc/group"
  echo "only in the image" >"$root/etc/image-marker"
  make_aci "$BATS_TEST_TMPDIR/probe.aci" \
    "$(aci_manifest podrun.test/probe 1.0 '"app": {"exec": ["/probe"], "user": "0", "group": "0"}')" "$root"
  fetch_ok "$BATS_TEST_TMPDIR/probe.aci"
}

# The probe output in $output, queried with python: probe 'j["uid"]'
probe() { json_query "$1" <<<"$output"; }

# visible_mount PATH: from the probe's report in $output, the options of the mount an
# app sees at PATH: the last of the deepest mounts at PATH or above it (not any entry
# that mentions PATH: one below or beneath another does not count).
visible_mount() {
  probe "sorted(((len(m['path']), i, m['options']) for i, m in enumerate(j['mounts'])
          if m['path'] == '$1' or '$1'.startswith(m['path'].rstrip('/') + '/')))[-1][2]"
}

# wait_pod_file UUIDFILE NAME: waits (10 s at most) until the pod whose UUID
# `run --uuid-file-save=UUIDFILE` writes has NAME in its run/ directory, and
# prints its UUID.
wait_pod_file() {
  local uuid=
  for _ in $(seq 100); do
    [[ -s "$1" ]] && uuid=$(cat "$1") && [[ -s "$STORE/pods/run/$uuid/$2" ]] && break
    sleep 0.1
  done
  echo "$uuid"
}

# make_attack_aci NAME: fetches podrun.test/NAME, an image with busybox, the attack
# programs of tests/attack/ under /attack ($BUILD/attack/*), the probe image's users,
# an empty /out and /tmp, and a file only this image has: /etc/NAME-marker, whose
# content is "NAME-marker".
make_attack_aci() {
  local name=$1 root=$BATS_TEST_TMPDIR/root-$1 applet
  [[ -x "$BUILD/attack/escape" ]] || fail "$BUILD/attack/escape missing: run 'make BUILD=$BUILD tests'" || return 1
  mkdir -p "$root/bin" "$root/etc" "$root/attack" "$root/out" "$root/tmp" "$root/work"
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh cat sleep ls touch; do
    ln -s busybox "$root/bin/$applet"
  done
  cp "$BUILD"/attack/* "$root/attack/"
  printf 'root:x:0:0::/:/bin/sh\napp:x:1000:1000::/work:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nstaff:x:50:\napp:x:1000:\n' >"$root/etc/group"
  echo "$name-marker" >"$root/etc/$name-marker"
  make_aci "$BATS_TEST_TMPDIR/$name.aci" \
    "$(aci_manifest "podrun.test/$name" 1.0 '"app": {"exec": ["/attack/privs"], "user": "0", "group": "0"}')" "$root"
  fetch_ok "$BATS_TEST_TMPDIR/$name.aci"
}

# wait_for_file FILE [SECONDS]: waits until FILE exists (10 s at most by default);
# fails, naming it, if it never does.
wait_for_file() {
  local i
  for ((i = 0; i < ${2:-10} * 10; i++)); do
    [[ -e "$1" ]] && return 0
    sleep 0.1
  done
  fail "$1 did not appear within ${2:-10} s"
}

# in_new_cgroup CMD…: runs CMD (a program, not a shell function) in a cgroup of its
# own, made for it under the cgroup v2 hierarchy (/sys/fs/cgroup, or
# /sys/fs/cgroup/unified on a hybrid host) and removed after; returns CMD's status.
# What CMD starts is then told apart from what the caller started.
in_new_cgroup() {
  local base=/sys/fs/cgroup cg rc
  [[ $(stat -f -c %T "$base") == cgroup2fs ]] || base=/sys/fs/cgroup/unified
  [[ $(stat -f -c %T "$base" 2>/dev/null) == cgroup2fs ]] || fail "in_new_cgroup: no cgroup v2 hierarchy" || return 1
  cg=$base/podrun-test-$$-$RANDOM
  mkdir "$cg" || return 1
  bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' in_new_cgroup "$cg" "$@"
  rc=$?
  rmdir "$cg" 2>/dev/null || echo "in_new_cgroup: $cg is left: $(cat "$cg/cgroup.procs" 2>/dev/null | tr '\n' ' ')" >&2
  return $rc
}

# alive PID: PID is a running process; a zombie is not (this machine's pid 1 may reap late).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# wait_gone PID…: waits (5 s at most) until none of the PIDs is alive; fails if one is.
wait_gone() {
  local p left
  for _ in $(seq 50); do
    left=
    for p in "$@"; do
      ! alive "$p" || left+=" $p"
    done
    [[ -n "$left" ]] || return 0
    sleep 0.1
  done
  echo "still running:$left"
  return 1
}

# teardown_pods: after a failed test, ends what its pods left: in every store under
# the test's directory, each pod still running is stopped (--force) and the store is
# collected (gc --grace-period=0 --expire-prepared=0s), so that no pod's process,
# mount or cgroup outlives the test (an exited pod keeps its cgroup until gc; the
# exited pods of passing tests are collected once every suite has run, by
# setup_suite.bash). The default teardown is only this; a suite with a teardown of
# its own calls it there.
teardown_pods() {
  [[ -z "${BATS_TEST_COMPLETED:-}" && -z "${BATS_TEST_SKIPPED:-}" && -n "${BATS_TEST_TMPDIR:-}" ]] || return 0
  local run store pod
  while IFS= read -r run; do
    store=${run%/pods/run}
    for pod in "$run"/*; do
      [[ -d "$pod" ]] || continue
      "$PODRUN" --dir="$store" stop --force "${pod##*/}" >/dev/null 2>&1 || true
      "$PODRUN" --dir="$store" status --wait=5s "${pod##*/}" >/dev/null 2>&1 || true
    done
    "$PODRUN" --dir="$store" gc --grace-period=0 --expire-prepared=0s >/dev/null 2>&1 || true
  done < <(find "$BATS_TEST_TMPDIR" -mindepth 3 -maxdepth 8 -type d -path '*/pods/run' 2>/dev/null)
  return 0
}

teardown() {
  teardown_pods
}

# nnp_pod_manifest VALUE: $BATS_TEST_TMPDIR/pod.json, a pod of the probe image (fetched)
# whose app has the os/linux/no-new-privileges isolator VALUE (true, false), or none.
nnp_pod_manifest() {
  local id iso
  id=$(podrun image list --full --no-legend | awk '/probe/ {print $1}')
  iso='{"name": "os/linux/no-new-privileges", "value": '$1'}'
  [[ $1 != none ]] || iso=
  cat >"$BATS_TEST_TMPDIR/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "apps": [{"name": "probe", "image": {"name": "podrun.test/probe", "id": "$id"},
   "app": {"exec": ["/probe"], "user": "0", "group": "0", "isolators": [$iso]}}]}
JSON
}

# free_port: a loopback port free now (the caller retries if it is taken meanwhile).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_test_ca DIR: a CA for the servers the suites start (registries, nginx):
# DIR/ca.crt, DIR/ca.key and DIR/server.{crt,key} for IP:127.0.0.1 and
# DNS:localhost, P-256 keys.
make_test_ca() {
  local d=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" \
    -days 3 -subj "/CN=podrun test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || fail "openssl: cannot make the CA" || return 1
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
    -subj "/CN=127.0.0.1" 2>/dev/null || fail "openssl: cannot make the server key" || return 1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -out "$d/server.crt" \
    -days 3 -extfile "$d/server.ext" 2>/dev/null || fail "openssl: cannot sign the server certificate" || return 1
}

# nginx_conf DIR LOG_FORMAT SERVERS: DIR/nginx.conf for a test's nginx, everything
# under DIR: in the foreground as root, pid and error log in DIR, temporary files in
# DIR/tmp, documents under DIR/root, the test CA's DIR/server.{crt,key} (make_test_ca)
# for its ssl servers, one line per request in DIR/access.log as LOG_FORMAT (nginx
# variables, e.g. '$server_port $request_method $request_uri $status'), and SERVERS
# (nginx text: the server blocks) in its http block.
nginx_conf() {
  local d=$1
  mkdir -p "$d/root" "$d/tmp"
  cat >"$d/nginx.conf" <<CONF
daemon off;
master_process off;
user root;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  default_type text/html;
  log_format t '$2';
  access_log $d/access.log t;
  client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp;
  uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
  ssl_certificate $d/server.crt;
  ssl_certificate_key $d/server.key;
  root $d/root;
$3
}
CONF
}

# nginx_start DIR PORT…: nginx on DIR/nginx.conf, in the background (its pid in
# DIR/nginx.started), once it answers on each loopback PORT; fails showing its
# errors otherwise. nginx_stop DIR ends it (and is a no-op when it did not start).
nginx_start() {
  local d=$1 p
  shift
  nginx -c "$d/nginx.conf" -p "$d" >"$d/nginx.out" 2>&1 &
  echo $! >"$d/nginx.started"
  for p in "$@"; do
    wait_port "$p" || { cat "$d/nginx.out" "$d/error.log" >&2; return 1; }
  done
}

nginx_stop() {
  [[ -f $1/nginx.started ]] || return 0
  kill "$(cat "$1/nginx.started")" 2>/dev/null || true
  wait "$(cat "$1/nginx.started")" 2>/dev/null || true
}

# wait_port PORT: waits up to 10 s for a server to accept on 127.0.0.1:PORT.
wait_port() {
  local i
  for ((i = 0; i < 100; i++)); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# httpd_aci NAME TEXT PORTS: fetches NAME, busybox's httpd (with wget, ip, sh…) serving
# /www (index.html: TEXT) on port 80, its app declaring PORTS (a JSON list of appc ports)
httpd_aci() {
  local name=$1 text=$2 ports=$3 root=$BATS_TEST_TMPDIR/hroot a
  mkdir -p "$root/bin" "$root/www" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for a in sh httpd wget ip cat sleep grep timeout; do
    ln -s busybox "$root/bin/$a"
  done
  echo "$text" >"$root/www/index.html"
  make_aci "$BATS_TEST_TMPDIR/httpd.aci" "$(aci_manifest "$name" 1.0 '"app": {"exec": ["/bin/httpd", "-f", "-p", "80", "-h", "/www"], "user": "0", "group": "0",
    "ports": '"$ports"'}')" "$root"
  fetch_ok "$BATS_TEST_TMPDIR/httpd.aci"
}
