#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# mkaci-busybox.sh OUT.aci — builds a small ACI from the machine's own static busybox
# (Debian's busybox-static). The output is deterministic: the same busybox gives the
# same bytes, hence the same image id. Written to a temporary file, then renamed.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT.aci" >&2
  exit 2
fi
out=$1

busybox=/bin/busybox
[ -x "$busybox" ] || busybox=$(command -v busybox 2>/dev/null) || true
if [ -z "$busybox" ] || [ ! -x "$busybox" ]; then
  echo "$0: no busybox found (install the busybox-static package)" >&2
  exit 1
fi
# A dynamically linked busybox would not run inside the image.
if command -v file >/dev/null 2>&1 && file -L "$busybox" | grep -q 'dynamically linked'; then
  echo "$0: $busybox is dynamically linked (install the busybox-static package)" >&2
  exit 1
fi

# "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary." -> 1.35.0
version=$("$busybox" 2>/dev/null | head -n 1 | sed -n 's/^BusyBox v\([0-9][0-9.]*\).*/\1/p')
[ -n "$version" ] || { echo "$0: cannot read the version of $busybox" >&2; exit 1; }

case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  i?86) arch=i386 ;;
  *) arch=$(uname -m) ;;
esac

stage=$(mktemp -d "${TMPDIR:-/tmp}/mkaci-busybox.XXXXXX")
tmp="$out.tmp-$$"
trap 'rm -rf "$stage" "$tmp"' EXIT INT TERM

mkdir -p "$stage/rootfs/bin" "$stage/rootfs/etc" "$stage/rootfs/tmp"
cp "$busybox" "$stage/rootfs/bin/busybox"
chmod 0755 "$stage/rootfs/bin/busybox"
for app in sh echo cat ls true false sleep id env hostname; do
  ln -s busybox "$stage/rootfs/bin/$app"
done
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
  >"$stage/rootfs/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$stage/rootfs/etc/group"
chmod 0644 "$stage/rootfs/etc/passwd" "$stage/rootfs/etc/group"
chmod 0755 "$stage/rootfs" "$stage/rootfs/bin" "$stage/rootfs/etc"
chmod 1777 "$stage/rootfs/tmp"

cat >"$stage/manifest" <<EOF
{
  "acKind": "ImageManifest",
  "acVersion": "0.8.11",
  "name": "podrun.test/busybox",
  "labels": [
    { "name": "version", "value": "$version" },
    { "name": "os", "value": "linux" },
    { "name": "arch", "value": "$arch" }
  ],
  "app": {
    "exec": ["/bin/sh", "-c", "echo Hello from busybox in podrun"],
    "user": "0",
    "group": "0"
  },
  "annotations": [
    { "name": "description", "value": "BusyBox $version from the build machine, for podrun's tests" }
  ]
}
EOF
chmod 0644 "$stage/manifest"

# Fixed names, order, owners and times: the same input always gives the same bytes.
tar --create --file="$tmp" --directory="$stage" --format=gnu \
  --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 \
  manifest rootfs
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
