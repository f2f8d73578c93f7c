#!/bin/sh
# mkaci.sh BUILD_DIR OUT.aci: the nspawn stage1 image (Documentation/stage1-contract.md):
# /nspawn/nspawn with its entrypoints and the pod init as symlinks, /stage2, and what
# systemd-nspawn wants of a root (/usr, an os-release). Deterministic bytes.
set -eu
build=$1
out=$2
version=0.1.0
case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64) arch=aarch64 ;;
  *) arch=$(uname -m) ;;
esac

stage=$(mktemp -d "${TMPDIR:-/tmp}/podrun-stage1-nspawn.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
mkdir -p "$stage/rootfs/nspawn" "$stage/rootfs/opt/stage2" "$stage/rootfs/podrun/status" "$stage/rootfs/podrun/nspawn" "$stage/rootfs/podrun/logs" "$stage/rootfs/podrun/cgroup" \
  "$stage/rootfs/usr/lib" "$stage/rootfs/etc" "$stage/rootfs/proc" "$stage/rootfs/sys" "$stage/rootfs/dev" \
  "$stage/rootfs/run" "$stage/rootfs/tmp"
: >"$stage/rootfs/podrun/pod"
printf 'ID=podrun-stage1\nNAME="podrun nspawn stage1"\nVERSION_ID=%s\n' "$version" >"$stage/rootfs/usr/lib/os-release"
ln -s ../usr/lib/os-release "$stage/rootfs/etc/os-release"
install -m 0755 "$build/stage1/nspawn" "$stage/rootfs/nspawn/nspawn"
install -m 0755 "$build/stage2/stage2" "$stage/rootfs/stage2"
# The pod init and stage2 run inside the pod's root: static, except in a
# sanitizer build (make SANITIZE=1), whose shared libraries come along.
for b in "$stage/rootfs/nspawn/nspawn" "$stage/rootfs/stage2"; do
  ldd "$b" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
    install -D -m 0755 "$lib" "$stage/rootfs$lib"
  done
done
for e in run init enter stop gc; do
  ln -s nspawn "$stage/rootfs/nspawn/$e"
done
cat >"$stage/manifest" <<JSON
{
  "acKind": "ImageManifest",
  "acVersion": "0.8.11",
  "name": "podrun.io/stage1-nspawn",
  "labels": [
    {"name": "version", "value": "$version"},
    {"name": "os", "value": "linux"},
    {"name": "arch", "value": "$arch"}
  ],
  "annotations": [
    {"name": "podrun/stage1/interface-version", "value": "1"},
    {"name": "podrun/stage1/run", "value": "/nspawn/run"},
    {"name": "podrun/stage1/enter", "value": "/nspawn/enter"},
    {"name": "podrun/stage1/stop", "value": "/nspawn/stop"},
    {"name": "podrun/stage1/gc", "value": "/nspawn/gc"}
  ]
}
JSON
chmod 0755 "$stage/rootfs" "$stage/rootfs/nspawn" "$stage/rootfs/opt" "$stage/rootfs/opt/stage2" "$stage/rootfs/podrun"
chmod 1777 "$stage/rootfs/tmp"
tar --create --file="$out.tmp" --directory="$stage" --format=gnu --sort=name --mtime=@0 \
  --numeric-owner --owner=0 --group=0 manifest rootfs
mv "$out.tmp" "$out"
