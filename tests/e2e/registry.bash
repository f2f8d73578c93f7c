# SPDX-License-Identifier: LGPL-2.1-or-later
# Registry fixtures for the e2e suites: `load registry` after `load helpers`.
#
# Real parts, started by the tests themselves: Debian's docker-registry (distribution
# 2.8) on loopback, with TLS (a CA made here with openssl), htpasswd basic auth or the
# Bearer token flow (tests/tools/token-server.py); images built with umoci from the
# machine's own files and pushed with skopeo; a hostile registry of the tests' own
# (tests/tools/hostile-registry.py).
#
# Functions (each fails the test with a message on error):
#   registry_start [--tls] [--htpasswd USER:PASS | --htpasswd=USER:PASS] [--token]
#       exports REGISTRY (127.0.0.1:PORT), REGISTRY_URL (http(s)://REGISTRY),
#       REGISTRY_PID, REGISTRY_DIR (its config, storage, logs), REGISTRY_LOG (its
#       access log, one line per request, Apache combined format:
#       `127.0.0.1 - - [date] "GET /v2/… HTTP/1.1" STATUS BYTES "" "agent"`),
#       REGISTRY_CA (--tls: the CA's certificate, "" otherwise), REGISTRY_USER and
#       REGISTRY_PASS (--htpasswd, or --token with --htpasswd: the token server's
#       credentials; "" otherwise), TOKEN_PID, TOKEN_LOG and TOKEN_REALM (--token).
#       --token alone: anonymous clients get tokens (pull and push); --token with
#       --htpasswd: anonymous clients are refused, the user gets every action.
#   registry_stop [REGISTRY_DIR]   stops a registry (and its token server) by pid.
#   registry_stop_all [DIR]        stops every server started under DIR (the test's or
#                                  the file's directory): for teardown and teardown_file.
#   registry_curl ARGS…            curl against $REGISTRY with its CA and credentials.
#   registry_log_mark              prints the access log's line count now.
#   registry_log_since MARK        the access log lines after MARK.
#   registry_blob_gets [MARK]      the number of blob GETs answered 200 or 206 after MARK.
#   registry_blob_bytes [MARK [DIGEST]]   the bytes the registry served in blob GETs
#                                  (of one digest, sha256:HEX) after MARK.
#   registry_requests [MARK]       the number of requests after MARK.
#   oci_image_build [UMOCI-CONFIG-OPTION…] DIR TAG SPEC…
#       an OCI layout DIR (made if missing) with image TAG: one layer of SPECs, then
#       `umoci config` with the defaults below and the options given
#       (--config.entrypoint=…, --config.cmd=…, --config.env=…, --config.workingdir=…,
#       --config.user=…, --architecture=…). Defaults: Entrypoint ["/bin/sh", "-c"],
#       Cmd ["echo hello from TAG"], Env PATH=/usr/sbin:/usr/bin:/sbin:/bin and
#       PODRUN_TEST_TAG=TAG, WorkingDir /.
#       A SPEC is one of:
#         /HOST/PATH            a host file or directory, at the same path
#         SRC=/DEST             a host file or directory SRC, at /DEST
#         ln:/DEST:TARGET       a symlink
#         dir:/DEST             an empty directory
#         txt:/DEST:TEXT        a file holding TEXT and a newline
#         rand:/DEST:BYTES      a file of BYTES random bytes (distinct layers, big layers)
#         chmod:/DEST:MODE      the mode of a path staged before it (4755: setuid)
#         chown:/DEST:UID:GID   its owner
#   oci_image_busybox [UMOCI-CONFIG-OPTION…] DIR TAG [SPEC…]
#       oci_image_build with /bin/busybox, its sh/cat/id/env/pwd/ls/sleep/echo links,
#       /etc/passwd (root; app 1000:1000 home /work), /etc/group and /work.
#   oci_image_add_layer DIR TAG SPEC…  a layer more on TAG.
#   oci_image_remove DIR TAG PATH…     a layer more on TAG removing PATHs (whiteouts,
#                                      written by umoci repack of an unpacked bundle).
#   oci_image_opaque DIR TAG /DIR [SPEC…]  a layer more on TAG replacing /DIR by an
#                                      opaque directory holding only SPECs.
#   oci_image_append_tar DIR TAG TAR   a layer more on TAG from a tar file (any entries).
#   oci_image_random_layers DIR TAG N BYTES   N layers more of BYTES random bytes each.
#   registry_push_busybox NAME:TAG [--format v2s2]   a busybox image to $REGISTRY;
#                                      its id in PUSHED_ID.
#   oci_image_tag DIR FROM TO          TO is a copy of FROM (the same blobs).
#   oci_image_config DIR TAG OPTION…   `umoci config` on TAG.
#   oci_image_id DIR TAG               the image id podrun gives it: sha256-<config hex>.
#   oci_image_layers DIR TAG           its layer digests (sha256:HEX), bottom first.
#   image_push SRC DEST [--format v2s2] [--creds U:P]
#       skopeo copy SRC (oci:DIR:TAG, …) to docker://DEST (HOST:PORT/NAME:TAG);
#       credentials default to $REGISTRY_USER:$REGISTRY_PASS when set.
#   manifest_list_push NAME:TAG [--format v2s2]
#       pushes to $REGISTRY/NAME:TAG an index of three images: the host's platform
#       (linux/$OCI_ARCH: busybox, as oci_image_busybox) and two dummies of one small
#       layer each (linux/$LIST_OTHER_ARCH, linux/$LIST_THIRD_ARCH, /etc/arch saying
#       so). Exports LIST_DIGEST (of the index as pushed), LIST_HOST_ID,
#       LIST_OTHER_ID, LIST_THIRD_ID (the ids, sha256-<config hex>).
#   registry_image_id REF [ARCH]       the id (sha256-<config hex>) of REF
#       (HOST:PORT/NAME:TAG or @DIGEST) as the registry serves it (skopeo inspect
#       --raw): for an index, of the ARCH (default $OCI_ARCH) linux instance.
#   hostile_start [--auth USER:PASS] [SCENARIO]   the hostile registry; exports HOSTILE
#       (127.0.0.1:PORT), HOSTILE_PID, HOSTILE_DIR, HOSTILE_LOG (one line per request:
#       method, path, Range, status, bytes sent, the Authorization scheme, the Host)
#       and, with SCENARIO, HOSTILE_REF
#       (HOSTILE/SCENARIO/image:1). One server serves every scenario, each under its
#       own repository: $HOSTILE/SCENARIO/image:1 (see hostile-registry.py for the list).
#       --auth: every request needs those Basic credentials (but those to "localhost").
#   hostile_stop
#
# OCI_ARCH: the host's architecture as OCI names it (amd64, arm64, …).
#
# Beware: distribution reads environment variables REGISTRY_* as configuration
# (REGISTRY_LOG=… replaces the log section, and it fails to start); registry_start
# runs docker-registry without them, as anything else starting one must.

REGISTRY_TOOLS=$(cd "$BATS_TEST_DIRNAME/../tools" && pwd)

case $(uname -m) in
  x86_64) OCI_ARCH=amd64 ;;
  aarch64 | arm64) OCI_ARCH=arm64 ;;
  *) OCI_ARCH=$(uname -m) ;;
esac
LIST_OTHER_ARCH=arm64
LIST_THIRD_ARCH=s390x
[[ $OCI_ARCH != arm64 ]] || LIST_OTHER_ARCH=amd64
[[ $OCI_ARCH != s390x ]] || LIST_THIRD_ARCH=ppc64le

# _registry_tmp: where a fixture keeps its files: the test's directory, or the
# file's in setup_file.
_registry_tmp() {
  echo "${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:?no bats tmp dir}}"
}

# _wait_port_file FILE PID: waits (10 s) for a server to write its port.
_wait_port_file() {
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $1 ]] && return 0
    alive "$2" || return 1
    sleep 0.1
  done
  return 1
}

registry_start() {
  local tls= htpasswd= token=
  while (($#)); do
    case $1 in
      --tls) tls=1 ;;
      --htpasswd=*) htpasswd=${1#*=} ;;
      --htpasswd) htpasswd=${2:?registry_start: --htpasswd USER:PASS}; shift ;;
      --token) token=1 ;;
      *) fail "registry_start: unknown option $1" || return 1 ;;
    esac
    shift
  done
  [[ -z $htpasswd || $htpasswd == ?*:?* ]] || fail "registry_start: --htpasswd USER:PASS, not $htpasswd" || return 1
  command -v docker-registry >/dev/null || skip "needs docker-registry (package docker-registry)"
  local d scheme=http
  d=$(mktemp -d "$(_registry_tmp)/registry.XXXXXX")
  mkdir -p "$d/data"
  REGISTRY_CA= REGISTRY_USER= REGISTRY_PASS= TOKEN_PID= TOKEN_LOG= TOKEN_REALM=
  if [[ -n $tls ]]; then
    make_test_ca "$d" || return 1
    REGISTRY_CA=$d/ca.crt
    scheme=https
  fi
  if [[ -n $htpasswd ]]; then
    REGISTRY_USER=${htpasswd%%:*}
    REGISTRY_PASS=${htpasswd#*:}
  fi
  local auth=
  if [[ -n $token ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/token.key" -out "$d/token.crt" -days 3 \
      -subj "/CN=podrun test token issuer" 2>/dev/null || fail "openssl: cannot make the token key" || return 1
    local targs=(--key "$d/token.key" --cert "$d/token.crt" --issuer podrun-test-issuer
      --service podrun-test-registry --port-file "$d/token.port" --log "$d/token.log")
    if [[ -n $htpasswd ]]; then
      targs+=(--user "$htpasswd")
    else
      targs+=(--anonymous)
    fi
    [[ -z $tls ]] || targs+=(--tls-cert "$d/server.crt" --tls-key "$d/server.key")
    python3 "$REGISTRY_TOOLS/token-server.py" "${targs[@]}" >"$d/token.out" 2>&1 3>&- &
    TOKEN_PID=$!
    echo "$TOKEN_PID" >"$d/token.pid"
    _wait_port_file "$d/token.port" "$TOKEN_PID" || fail "the token server did not start: $(cat "$d/token.out")" || return 1
    TOKEN_LOG=$d/token.log
    TOKEN_REALM=$scheme://127.0.0.1:$(cat "$d/token.port")/token
    auth="auth:
  token:
    realm: $TOKEN_REALM
    service: podrun-test-registry
    issuer: podrun-test-issuer
    rootcertbundle: $d/token.crt"
  elif [[ -n $htpasswd ]]; then
    htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASS" >"$d/htpasswd" 2>/dev/null || fail "htpasswd failed (package apache2-utils)" || return 1
    auth="auth:
  htpasswd:
    realm: podrun-test
    path: $d/htpasswd"
  fi
  local try port code
  for try in 1 2 3 4 5; do
    port=$(free_port)
    {
      printf 'version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n'
      printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n' "$d/data"
      printf 'http:\n  addr: 127.0.0.1:%s\n  secret: podrun-test-secret\n' "$port"
      [[ -z $tls ]] || printf '  tls:\n    certificate: %s\n    key: %s\n' "$d/server.crt" "$d/server.key"
      [[ -z $auth ]] || printf '%s\n' "$auth"
    } >"$d/config.yml"
    : >"$d/access.log"
    # distribution reads REGISTRY_* variables as configuration (REGISTRY_LOG=… would
    # replace the log section): the ones exported here are not for it.
    (
      for v in $(compgen -e); do [[ $v != REGISTRY* ]] || unset "$v"; done
      exec docker-registry serve "$d/config.yml"
    ) >"$d/access.log" 2>"$d/registry.err" 3>&- &
    REGISTRY_PID=$!
    echo "$REGISTRY_PID" >"$d/registry.pid"
    local i
    for ((i = 0; i < 100; i++)); do
      alive "$REGISTRY_PID" || break
      code=$(curl -s -o /dev/null -w '%{http_code}' ${REGISTRY_CA:+--cacert "$REGISTRY_CA"} "$scheme://127.0.0.1:$port/v2/" 2>/dev/null) || true
      [[ $code == 200 || $code == 401 ]] && break
      sleep 0.1
    done
    if [[ $code == 200 || $code == 401 ]]; then
      REGISTRY=127.0.0.1:$port
      REGISTRY_URL=$scheme://$REGISTRY
      REGISTRY_DIR=$d
      REGISTRY_LOG=$d/access.log
      # The readiness probes are not the tests' requests.
      : >"$REGISTRY_LOG"
      export REGISTRY REGISTRY_URL REGISTRY_PID REGISTRY_DIR REGISTRY_LOG REGISTRY_CA REGISTRY_USER REGISTRY_PASS \
        TOKEN_PID TOKEN_LOG TOKEN_REALM
      return 0
    fi
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
    grep -q 'address already in use' "$d/registry.err" || break
  done
  [[ -z $TOKEN_PID ]] || kill "$TOKEN_PID" 2>/dev/null || true
  fail "docker-registry did not start: $(tail -n 5 "$d/registry.err")"
}

# _stop_pid PID: TERM, then KILL after 5 s; reaps it when it is our child.
_stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  ! alive "$pid" || kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  return 0
}

registry_stop() {
  local d=${1:-${REGISTRY_DIR:-}}
  [[ -n $d ]] || return 0
  [[ ! -f $d/registry.pid ]] || _stop_pid "$(cat "$d/registry.pid")"
  [[ ! -f $d/token.pid ]] || _stop_pid "$(cat "$d/token.pid")"
  rm -f "$d/registry.pid" "$d/token.pid"
}

# registry_stop_all [DIR]: stops every registry, token server and hostile registry
# started under DIR (default: this test's directory, or the file's in teardown_file),
# also those whose start failed half-way: teardown and teardown_file call it.
registry_stop_all() {
  local base=${1:-$(_registry_tmp)} d
  for d in "$base"/registry.* "$base"/hostile.*; do
    [[ -d $d ]] || continue
    [[ ! -f $d/registry.pid ]] || _stop_pid "$(cat "$d/registry.pid")"
    [[ ! -f $d/token.pid ]] || _stop_pid "$(cat "$d/token.pid")"
    [[ ! -f $d/pid ]] || _stop_pid "$(cat "$d/pid")"
    rm -f "$d/registry.pid" "$d/token.pid" "$d/pid"
  done
  return 0
}

registry_curl() {
  local args=(-s)
  [[ -z ${REGISTRY_CA:-} ]] || args+=(--cacert "$REGISTRY_CA")
  [[ -z ${REGISTRY_USER:-} || -n ${TOKEN_REALM:-} ]] || args+=(-u "$REGISTRY_USER:$REGISTRY_PASS")
  curl "${args[@]}" "$@"
}

# The access log is written when a response is complete; a request podrun just made
# may be a few milliseconds behind its exit.
_registry_log_settle() {
  local n m i
  n=$(wc -l <"$REGISTRY_LOG")
  for ((i = 0; i < 20; i++)); do
    sleep 0.05
    m=$(wc -l <"$REGISTRY_LOG")
    [[ $m != "$n" ]] || return 0
    n=$m
  done
}

registry_log_mark() {
  _registry_log_settle
  wc -l <"$REGISTRY_LOG"
}

registry_log_since() {
  _registry_log_settle
  tail -n +"$((${1:-0} + 1))" "$REGISTRY_LOG"
}

registry_requests() {
  registry_log_since "${1:-0}" | grep -c '"[A-Z]* /' || true
}

registry_blob_gets() {
  registry_log_since "${1:-0}" | grep -cE '"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]{64} HTTP/[0-9.]*" (200|206) ' || true
}

registry_blob_bytes() {
  local digest=${2:-sha256:[0-9a-f]{64\}}
  registry_log_since "${1:-0}" |
    sed -nE "s@.*\"GET /v2/[^ ]*/blobs/($digest) HTTP/[0-9.]*\" (200|206) ([0-9]+) .*@\3@p" |
    awk '{ s += $1 } END { print s + 0 }'
}

# _stage_files ROOT SPEC…: lays SPECs out under ROOT (see oci_image_build).
_stage_files() {
  local root=$1 spec dest rest
  shift
  for spec in "$@"; do
    case $spec in
      ln:*)
        rest=${spec#ln:}
        dest=${rest%%:*}
        mkdir -p "$root$(dirname "$dest")"
        ln -sfn "${rest#*:}" "$root$dest" ;;
      dir:*)
        mkdir -p "$root${spec#dir:}" ;;
      txt:*)
        rest=${spec#txt:}
        dest=${rest%%:*}
        mkdir -p "$root$(dirname "$dest")"
        printf '%s\n' "${rest#*:}" >"$root$dest" ;;
      chmod:*)
        rest=${spec#chmod:}
        chmod "${rest#*:}" "$root${rest%%:*}" ;;
      chown:*)
        rest=${spec#chown:}
        chown -h "${rest#*:}" "$root${rest%%:*}" ;;
      rand:*)
        rest=${spec#rand:}
        dest=${rest%%:*}
        mkdir -p "$root$(dirname "$dest")"
        head -c "${rest#*:}" /dev/urandom >"$root$dest" ;;
      *=/*)
        dest=${spec#*=}
        mkdir -p "$root$(dirname "$dest")"
        cp -a "${spec%%=*}" "$root$dest" ;;
      /*)
        mkdir -p "$root$(dirname "$spec")"
        cp -a "$spec" "$root$spec" ;;
      *)
        fail "_stage_files: not a SPEC: $spec" || return 1 ;;
    esac || { fail "_stage_files: cannot stage $spec" || return 1; }
  done
}

_umoci() {
  local out
  out=$(umoci "$@" 2>&1) || fail "umoci $*: $out"
}

# _oci_layer DIR TAG EDIT-FUNCTION ARGS…: unpacks TAG, runs the function on the
# bundle's rootfs, repacks: one layer more with what changed (whiteouts included).
_oci_layer() {
  local dir=$1 tag=$2 fn=$3 b
  shift 3
  b=$(mktemp -d "$(_registry_tmp)/bundle.XXXXXX")
  rmdir "$b"
  _umoci unpack --image "$dir:$tag" "$b" || return 1
  "$fn" "$b/rootfs" "$@" || return 1
  _umoci repack --image "$dir:$tag" "$b" || return 1
  rm -rf "$b"
}

oci_image_build() {
  local opts=()
  while [[ ${1:-} == --* ]]; do
    opts+=("$1")
    shift
  done
  local dir=$1 tag=$2
  shift 2
  command -v umoci >/dev/null || skip "needs umoci (package umoci)"
  [[ -f $dir/index.json ]] || _umoci init --layout "$dir" || return 1
  _umoci new --image "$dir:$tag" || return 1
  _oci_layer "$dir" "$tag" _stage_files "$@" || return 1
  # A default only where no option sets that key (umoci appends repeated list options).
  local defaults=() joined=" ${opts[*]}"
  [[ $joined == *" --config.entrypoint"* ]] || defaults+=(--config.entrypoint=/bin/sh --config.entrypoint=-c)
  [[ $joined == *" --config.cmd"* ]] || defaults+=(--config.cmd="echo hello from $tag")
  [[ $joined == *" --config.workingdir"* ]] || defaults+=(--config.workingdir=/)
  _umoci config --image "$dir:$tag" "${defaults[@]}" --config.env=PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    --config.env=PODRUN_TEST_TAG="$tag" "${opts[@]}"
}

oci_image_busybox() {
  local opts=()
  while [[ ${1:-} == --* ]]; do
    opts+=("$1")
    shift
  done
  local dir=$1 tag=$2 applet specs=(/bin/busybox dir:/work dir:/tmp
    "txt:/etc/passwd:root:x:0:0:root:/:/bin/sh
app:x:1000:1000:app:/work:/bin/sh"
    "txt:/etc/group:root:x:0:
staff:x:50:
app:x:1000:")
  shift 2
  [[ -x /bin/busybox ]] || skip "needs /bin/busybox (package busybox-static)"
  for applet in sh cat id env pwd ls sleep echo true test stat tr; do
    specs+=("ln:/bin/$applet:busybox")
  done
  oci_image_build "${opts[@]}" "$dir" "$tag" "${specs[@]}" "$@"
}

oci_image_add_layer() {
  local dir=$1 tag=$2
  shift 2
  _oci_layer "$dir" "$tag" _stage_files "$@"
}

_remove_paths() {
  local root=$1 p
  shift
  for p in "$@"; do
    [[ -e $root$p || -L $root$p ]] || fail "oci_image_remove: $p is not in the image" || return 1
    rm -rf "${root:?}$p"
  done
}

oci_image_remove() {
  local dir=$1 tag=$2
  shift 2
  _oci_layer "$dir" "$tag" _remove_paths "$@"
}

# oci_image_append_tar DIR TAG TAR: TAR (uncompressed), gzipped, as a layer more on TAG
# (manifest, config's diff_ids and history, index.json updated; the old blobs stay).
oci_image_append_tar() {
  python3 - "$1" "$2" "$3" <<'PY' || fail "cannot append $3 to $1:$2"
import gzip, hashlib, json, os, sys
d, tag, tar = sys.argv[1:]
def put(data):
    h = hashlib.sha256(data).hexdigest()
    with open("%s/blobs/sha256/%s" % (d, h), "wb") as f:
        f.write(data)
    return "sha256:" + h
def get(digest):
    return open("%s/blobs/sha256/%s" % (d, digest.split(":")[1]), "rb").read()
raw = open(tar, "rb").read()
gz = gzip.compress(raw, mtime=0)
idx = json.load(open(d + "/index.json"))
desc = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
man = json.loads(get(desc["digest"]))
cfg = json.loads(get(man["config"]["digest"]))
cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
cfg.setdefault("history", []).append({"created": "1970-01-01T00:00:00Z", "created_by": "oci_image_append_tar"})
c = json.dumps(cfg).encode()
man["config"]["digest"], man["config"]["size"] = put(c), len(c)
man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(gz), "size": len(gz)})
m = json.dumps(man).encode()
desc["digest"], desc["size"] = put(m), len(m)
json.dump(idx, open(d + "/index.json.tmp", "w"))
os.rename(d + "/index.json.tmp", d + "/index.json")
PY
}

# oci_image_random_layers DIR TAG N BYTES: N layers more on TAG, layer i holding one
# file /random/i of BYTES random bytes (incompressible: the layer is that big), written
# without unpacking the image (for big images: benchmarks, resume, progress).
oci_image_random_layers() {
  local dir=$1 tag=$2 n=$3 bytes=$4 i t
  t=$(mktemp -d "$(_registry_tmp)/random.XXXXXX")
  for ((i = 1; i <= n; i++)); do
    rm -rf "$t/root"
    mkdir -p "$t/root/random"
    head -c "$bytes" /dev/urandom >"$t/root/random/$i"
    tar --create --file="$t/layer.tar" --directory="$t/root" --sort=name --numeric-owner --owner=0 --group=0 \
      random || fail "tar failed" || return 1
    oci_image_append_tar "$dir" "$tag" "$t/layer.tar" || return 1
  done
  rm -rf "$t"
}

# registry_push_busybox NAME:TAG [image_push option…]: pushes a busybox image (as
# oci_image_busybox, built once per test or file) to $REGISTRY/NAME:TAG; its id in
# PUSHED_ID.
registry_push_busybox() {
  local ref=$1 l
  shift
  l=$(_registry_tmp)/busybox-layout
  [[ -f $l/index.json ]] || oci_image_busybox "$l" busybox || return 1
  image_push "oci:$l:busybox" "$REGISTRY/$ref" "$@" || return 1
  PUSHED_ID=$(oci_image_id "$l" busybox)
}

# (umoci 0.4.7's `insert --opaque` writes a tar cut short after its last file: not used.)
oci_image_opaque() {
  local dir=$1 tag=$2 target=${3#/} src
  shift 3
  src=$(mktemp -d "$(_registry_tmp)/opaque.XXXXXX")
  mkdir -p "$src/root/$target"
  _stage_files "$src/stage" "$@" || return 1
  [[ ! -d $src/stage ]] || cp -a "$src/stage/." "$src/root/$target/"
  : >"$src/root/$target/.wh..wh..opq"
  chmod 0755 "$src/root/$target"
  tar --create --file="$src/layer.tar" --directory="$src/root" --sort=name --numeric-owner --owner=0 --group=0 \
    "$target" || fail "tar failed" || return 1
  oci_image_append_tar "$dir" "$tag" "$src/layer.tar" || return 1
  rm -rf "$src"
}

oci_image_tag() {
  _umoci tag --image "$1:$2" "$3"
}

oci_image_config() {
  local dir=$1 tag=$2
  shift 2
  _umoci config --image "$dir:$tag" "$@"
}

# _oci_manifest DIR TAG: the manifest of TAG (the JSON).
_oci_manifest() {
  python3 - "$1" "$2" <<'PY'
import json, sys
d, tag = sys.argv[1], sys.argv[2]
idx = json.load(open(d + "/index.json"))
for m in idx["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
        alg, hex_ = m["digest"].split(":")
        sys.stdout.write(open("%s/blobs/%s/%s" % (d, alg, hex_)).read())
        break
else:
    sys.exit("no tag %s in %s" % (tag, d))
PY
}

oci_image_id() {
  local m
  m=$(_oci_manifest "$1" "$2") || return 1
  json_query '"sha256-" + j["config"]["digest"].split(":")[1]' <<<"$m"
}

oci_image_layers() {
  local m
  m=$(_oci_manifest "$1" "$2") || return 1
  json_query '"\n".join(l["digest"] for l in j["layers"])' <<<"$m"
}

# _skopeo_creds PREFIX: skopeo's --PREFIX-creds for the current registry, if any.
_skopeo_creds() {
  [[ -z ${REGISTRY_USER:-} ]] || echo "--${1:+$1-}creds=$REGISTRY_USER:$REGISTRY_PASS"
}

image_push() {
  local src=$1 dest=$2 args=() creds
  shift 2
  command -v skopeo >/dev/null || skip "needs skopeo (package skopeo)"
  creds=$(_skopeo_creds dest)
  while (($#)); do
    case $1 in
      --format) args+=(--format "$2"); shift ;;
      --format=*) args+=("$1") ;;
      --creds) creds=--dest-creds=$2; shift ;;
      --creds=*) creds=--dest-creds=${1#*=} ;;
      --all) args+=(--all) ;;
      *) fail "image_push: unknown option $1" || return 1 ;;
    esac
    shift
  done
  local out
  out=$(skopeo copy --quiet --dest-tls-verify=false ${creds:+"$creds"} "${args[@]}" "$src" "docker://$dest" 2>&1) ||
    fail "skopeo copy $src docker://$dest: $out"
}

manifest_list_push() {
  local ref=$1 dir
  shift
  dir=$(mktemp -d "$(_registry_tmp)/list.XXXXXX")
  oci_image_busybox --architecture="$OCI_ARCH" "$dir/layout" host || return 1
  oci_image_build --architecture="$LIST_OTHER_ARCH" "$dir/layout" other "txt:/etc/arch:$LIST_OTHER_ARCH" || return 1
  oci_image_build --architecture="$LIST_THIRD_ARCH" "$dir/layout" third "txt:/etc/arch:$LIST_THIRD_ARCH" || return 1
  LIST_HOST_ID=$(oci_image_id "$dir/layout" host)
  LIST_OTHER_ID=$(oci_image_id "$dir/layout" other)
  LIST_THIRD_ID=$(oci_image_id "$dir/layout" third)
  # An index of the three, tagged "list" in the layout's index.json.
  python3 - "$dir/layout" "$OCI_ARCH" "$LIST_OTHER_ARCH" "$LIST_THIRD_ARCH" <<'PY' || fail "cannot write the index" || return 1
import hashlib, json, os, sys
d, arches = sys.argv[1], sys.argv[2:]
path = d + "/index.json"
top = json.load(open(path))
by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in top["manifests"]}
entries = []
for tag, arch in zip(("host", "other", "third"), arches):
    m = dict(by_tag[tag])
    m.pop("annotations", None)
    m["platform"] = {"architecture": arch, "os": "linux"}
    entries.append(m)
blob = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": entries}).encode()
hex_ = hashlib.sha256(blob).hexdigest()
open("%s/blobs/sha256/%s" % (d, hex_), "wb").write(blob)
top["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + hex_,
                         "size": len(blob), "annotations": {"org.opencontainers.image.ref.name": "list"}})
json.dump(top, open(path + ".tmp", "w"))
os.rename(path + ".tmp", path)
PY
  image_push "oci:$dir/layout:list" "$REGISTRY/$ref" --all "$@" || return 1
  local raw
  raw=$(skopeo inspect --raw --tls-verify=false ${REGISTRY_USER:+"--creds=$REGISTRY_USER:$REGISTRY_PASS"} "docker://$REGISTRY/$ref") ||
    fail "skopeo inspect of $REGISTRY/$ref failed" || return 1
  LIST_DIGEST=sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)
  export LIST_DIGEST LIST_HOST_ID LIST_OTHER_ID LIST_THIRD_ID
}

registry_image_id() {
  local ref=$1 arch=${2:-$OCI_ARCH} raw repo
  command -v skopeo >/dev/null || skip "needs skopeo (package skopeo)"
  raw=$(skopeo inspect --raw --tls-verify=false ${REGISTRY_USER:+"--creds=$REGISTRY_USER:$REGISTRY_PASS"} "docker://$ref") ||
    fail "skopeo inspect --raw docker://$ref failed" || return 1
  if [[ $(json_query 'j.get("mediaType", "")' <<<"$raw") == *index* || $(json_query 'j.get("mediaType", "")' <<<"$raw") == *list* ]]; then
    local digest
    digest=$(json_query "[m['digest'] for m in j['manifests'] if m['platform']['architecture'] == '$arch' and m['platform']['os'] == 'linux'][0]" <<<"$raw") || return 1
    repo=${ref%@*}
    [[ $repo == "$ref" && ${ref##*/} == *:* ]] && repo=${ref%:*}
    raw=$(skopeo inspect --raw --tls-verify=false ${REGISTRY_USER:+"--creds=$REGISTRY_USER:$REGISTRY_PASS"} "docker://$repo@$digest") || return 1
  fi
  json_query '"sha256-" + j["config"]["digest"].split(":")[1]' <<<"$raw"
}

hostile_start() {
  local auth=()
  if [[ ${1:-} == --auth ]]; then
    auth=(--auth "$2")
    shift 2
  fi
  local scenario=${1:-} d
  requires python3
  d=$(mktemp -d "$(_registry_tmp)/hostile.XXXXXX")
  python3 "$REGISTRY_TOOLS/hostile-registry.py" --port-file "$d/port" --log "$d/requests.log" "${auth[@]}" \
    >"$d/out" 2>&1 3>&- &
  HOSTILE_PID=$!
  echo "$HOSTILE_PID" >"$d/pid"
  _wait_port_file "$d/port" "$HOSTILE_PID" || fail "the hostile registry did not start: $(cat "$d/out")" || return 1
  HOSTILE=127.0.0.1:$(cat "$d/port")
  HOSTILE_DIR=$d
  HOSTILE_LOG=$d/requests.log
  HOSTILE_REF=
  [[ -z $scenario ]] || HOSTILE_REF=$HOSTILE/$scenario/image:1
  export HOSTILE HOSTILE_PID HOSTILE_DIR HOSTILE_LOG HOSTILE_REF
}

hostile_stop() {
  [[ -n ${HOSTILE_DIR:-} && -f $HOSTILE_DIR/pid ]] || return 0
  _stop_pid "$(cat "$HOSTILE_DIR/pid")"
  rm -f "$HOSTILE_DIR/pid"
}
