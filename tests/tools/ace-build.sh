#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ace-build.sh OUTDIR — builds the appc ACE validator (spec/ace/validator.go, from
# Debian's golang-github-appc-spec-dev) with Debian's Go, offline and without modules,
# and makes the two ACIs of the executor conformance test from it:
#   OUTDIR/ace-validator-main.aci      app ace-validator-main: `main`, with the
#                                      pre-start and post-stop handlers
#   OUTDIR/ace-validator-sidekick.aci  app ace-validator-sidekick: `sidekick`
# Debian ships the validator's Go source but not the image manifests upstream's build
# scripts used (spec/ace/image_manifest_*.json.in): they are written here from what the
# validator checks (its comments say they must agree): working directory
# /opt/acvalidator, IN_ACE_VALIDATOR=correct, a mount point "database" at /db, the
# app names, the event handlers. Exit 77 when Go or the source is missing (a skip).
# With TIMEOUT (a Go duration, e.g. 2*time.Second), the validator's metadata client
# gives each request TIMEOUT instead of its 100 ms, and nothing else changes: for a
# pod under software emulation (kvm's TCG), where a first request can take longer.
set -eu

if [ $# -ne 1 ] && [ $# -ne 2 ]; then
  echo "usage: $0 OUTDIR [TIMEOUT]" >&2
  exit 2
fi
out=$1
timeout=${2:-}
src=/usr/share/gocode/src/github.com/appc/spec/ace
command -v go >/dev/null 2>&1 || { echo "$0: no go (install golang-go)" >&2; exit 77; }
[ -f "$src/validator.go" ] || { echo "$0: no $src/validator.go (install golang-github-appc-spec-dev)" >&2; exit 77; }

case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) arch=$(uname -m) ;;
esac

mkdir -p "$out"
work=$(mktemp -d "$out/ace-build.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# Offline, GOPATH mode over Debian's source tree; caches in the work directory. With a
# TIMEOUT, a copy of the validator's package first in GOPATH, its one client timeout
# changed (checked: exactly that line).
gopath=/usr/share/gocode
if [ -n "$timeout" ]; then
  mkdir -p "$work/gopath/src/github.com/appc/spec"
  cp -r "$src" "$work/gopath/src/github.com/appc/spec/ace"
  v=$work/gopath/src/github.com/appc/spec/ace/validator.go
  sed -i "s|^\(\t*Timeout: \)100 \* time\.Millisecond,\$|\1$timeout,|" "$v"
  [ "$(diff "$src/validator.go" "$v" | grep -c '^[<>]')" -eq 2 ] && grep -qF "Timeout: $timeout," "$v" ||
    { echo "$0: the validator's metadata timeout is not where it was" >&2; exit 1; }
  gopath=$work/gopath:$gopath
fi
GO111MODULE=off GOPATH=$gopath GOCACHE="$work/cache" GOFLAGS= GOPROXY=off CGO_ENABLED=0 \
  go build -trimpath -o "$work/ace-validator" github.com/appc/spec/ace

# mkaci NAME MODE EXTRA: an ACI of the validator whose app runs `ace-validator MODE`.
mkaci() {
  name=$1 mode=$2 extra=$3
  stage=$work/$name
  mkdir -p "$stage/rootfs/opt/acvalidator" "$stage/rootfs/db"
  cp "$work/ace-validator" "$stage/rootfs/ace-validator"
  chmod 0755 "$stage/rootfs" "$stage/rootfs/ace-validator" "$stage/rootfs/opt" "$stage/rootfs/opt/acvalidator"
  cat >"$stage/manifest" <<EOF
{
  "acKind": "ImageManifest",
  "acVersion": "0.8.11",
  "name": "podrun.test/$name",
  "labels": [
    { "name": "version", "value": "0.8.11" },
    { "name": "os", "value": "linux" },
    { "name": "arch", "value": "$arch" }
  ],
  "app": {
    "exec": ["/ace-validator", "$mode"],
    "user": "0",
    "group": "0",
    "workingDirectory": "/opt/acvalidator",
    "environment": [ { "name": "IN_ACE_VALIDATOR", "value": "correct" } ],
    $extra
    "mountPoints": [ { "name": "database", "path": "/db", "readOnly": false } ]
  },
  "annotations": [
    { "name": "authors", "value": "The appc Authors" },
    { "name": "podrun.test/ace-role", "value": "$mode" }
  ]
}
EOF
  tar --create --file="$work/$name.aci" --directory="$stage" --format=gnu \
    --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 manifest rootfs
  mv -f "$work/$name.aci" "$out/$name.aci"
}

mkaci ace-validator-main main '"eventHandlers": [
      { "name": "pre-start", "exec": ["/ace-validator", "prestart"] },
      { "name": "post-stop", "exec": ["/ace-validator", "poststop"] }
    ],'
mkaci ace-validator-sidekick sidekick ''
