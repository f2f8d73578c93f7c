#!/bin/sh
# mkinitrd.sh OUT INIT [MODULES_DIR]: the kvm stage1's initramfs, a newc cpio
# (bsdtar) of INIT as /init and the modules under /lib/modules, with the
# directories the guest init mounts on. Deterministic bytes.
set -eu
out=$(realpath -m "$1")
init=$2
modules=$3
stage=$(mktemp -d "${TMPDIR:-/tmp}/podrun-initrd.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
mkdir -p "$stage/lib/modules" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/newroot"
install -m 0755 "$init" "$stage/init"
# without its debug information: a third less for the guest kernel to unpack
strip --strip-debug "$stage/init"
# MODULES_DIR empty: none (the bench's floor)
if [ -n "$modules" ]; then
  cp "$modules"/*.ko "$modules/modules.order" "$stage/lib/modules/"
  chmod 0644 "$stage"/lib/modules/*
fi
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | sed 's|^\./||' >"$stage.list" &&
  bsdtar --format newc --uid 0 --gid 0 --uname root --gname root -cf "$out.tmp" -n -T "$stage.list")
rm -f "$stage.list"
mv "$out.tmp" "$out"
