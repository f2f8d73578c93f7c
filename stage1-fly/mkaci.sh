#!/bin/sh
# mkaci.sh BUILD_DIR OUT.aci: the fly stage1 image (Documentation/stage1-contract.md):
# /fly/fly with its entrypoints as symlinks, and /stage2. Deterministic bytes.
set -eu
build=$1
out=$2
version=0.1.0
case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64) arch=aarch64 ;;
  *) arch=$(uname -m) ;;
esac

stage=$(mktemp -d "${TMPDIR:-/tmp}/podrun-stage1-fly.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
mkdir -p "$stage/rootfs/fly" "$stage/rootfs/opt/stage2"
install -m 0755 "$build/stage1-fly/fly" "$stage/rootfs/fly/fly"
install -m 0755 "$build/stage2/stage2" "$stage/rootfs/stage2"
for e in run enter stop gc; do
  ln -s fly "$stage/rootfs/fly/$e"
done
cat >"$stage/manifest" <<JSON
{
  "acKind": "ImageManifest",
  "acVersion": "0.8.11",
  "name": "podrun.io/stage1-fly",
  "labels": [
    {"name": "version", "value": "$version"},
    {"name": "os", "value": "linux"},
    {"name": "arch", "value": "$arch"}
  ],
  "annotations": [
    {"name": "podrun/stage1/interface-version", "value": "1"},
    {"name": "podrun/stage1/run", "value": "/fly/run"},
    {"name": "podrun/stage1/enter", "value": "/fly/enter"},
    {"name": "podrun/stage1/stop", "value": "/fly/stop"},
    {"name": "podrun/stage1/gc", "value": "/fly/gc"}
  ]
}
JSON
chmod 0755 "$stage/rootfs" "$stage/rootfs/fly" "$stage/rootfs/opt" "$stage/rootfs/opt/stage2"
tar --create --file="$out.tmp" --directory="$stage" --format=gnu --sort=name --mtime=@0 \
  --numeric-owner --owner=0 --group=0 manifest rootfs
mv "$out.tmp" "$out"
