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
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
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

# Offline, GOPATH mode over Debian's source tree; caches in the work directory.
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/cache" GOFLAGS= GOPROXY=off CGO_ENABLED=0 \
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
