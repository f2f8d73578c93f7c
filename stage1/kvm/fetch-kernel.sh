#!/bin/sh
# fetch-kernel.sh OUT_DIR: the kvm stage1's guest kernel, from Debian's
# linux-image package (the one linux-image-amd64 depends on today), never
# installed on the host: downloaded with apt-get, unpacked with dpkg-deb.
#   OUT_DIR/vmlinux        the uncompressed kernel (qemu boots it through
#                          its PVH entry, an ELF note; ~3 s faster under TCG
#                          than the bzImage's own decompressor)
#   OUT_DIR/modules/*.ko   the modules the guest init loads, in order (modules.order),
#                          without Debian's signature: the guest kernel does not
#                          enforce one, and checking it (SHA-256 of the module and
#                          an RSA verification, emulated under TCG) was a third of
#                          the modules' load time; and without the sections
#                          whose processing at load was over a quarter of
#                          what was left (below)
#   OUT_DIR/version        the package and its version
# KVM_KERNEL_DEB=FILE.deb takes a package already downloaded.
set -eu
out=$1
# What the guest needs that Debian builds as modules, dependencies first
# (each module's .modinfo "depends="): virtio-mmio (microvm's transport),
# 9p over virtio (the shared filesystems), virtio-console (the control
# channel, the apps' stdout and stderr) and virtio-net (user-mode NAT).
modules="virtio_ring virtio virtio_mmio failover net_failover virtio_net virtio_console netfs fscache 9pnet
  9pnet_virtio 9p"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/podrun-kernel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ -n "${KVM_KERNEL_DEB:-}" ]; then
  deb=$KVM_KERNEL_DEB
else
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
  if [ -z "$pkg" ]; then
    echo "$0: no linux-image-amd64 in the package lists (apt-get update?)" >&2
    exit 1
  fi
  chmod 0777 "$tmp" # apt-get download runs as _apt where it can
  (cd "$tmp" && apt-get download -q "$pkg" >/dev/null) || { echo "$0: apt-get download $pkg failed" >&2; exit 1; }
  deb=$(ls "$tmp"/"$pkg"_*.deb)
fi
dpkg-deb -x "$deb" "$tmp/x"
image=$(ls "$tmp"/x/boot/vmlinuz-*)
kver=${image##*/vmlinuz-}
# extract-vmlinux's way: the first xz stream in the bzImage that unpacks to an ELF
found=
for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$image" | cut -d: -f1); do
  tail -c +$((off + 1)) "$image" | xz -dc >"$tmp/vmlinux" 2>/dev/null || true
  if [ "$(head -c 4 "$tmp/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then
    found=1
    break
  fi
done
if [ -z "$found" ]; then
  echo "$0: no xz-compressed ELF kernel in $image" >&2
  exit 1
fi
mkdir -p "$out.tmp/modules"
: >"$out.tmp/modules/modules.order"
for m in $modules; do
  ko=$(find "$tmp/x/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
  if [ -z "$ko" ]; then
    echo "$0: module $m not in $kver" >&2
    exit 1
  fi
  case $ko in
    *.xz) xz -dc "$ko" >"$out.tmp/modules/$m.ko" ;;
    *) cp "$ko" "$out.tmp/modules/$m.ko" ;;
  esac
  # an appended signature: the module, the PKCS#7 signature, a 12-byte
  # struct module_signature (its last 4 bytes the signature's length,
  # big-endian) and the 28-byte marker
  f=$out.tmp/modules/$m.ko
  if [ "$(tail -c 28 "$f" | head -c 27)" = "~Module signature appended~" ]; then
    sig=$(tail -c 32 "$f" | head -c 4 | od -An -tu1 | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}')
    size=$(wc -c <"$f")
    head -c $((size - 40 - sig)) "$f" >"$f.unsigned"
    mv "$f.unsigned" "$f"
  fi
  # The sections the guest does without, each costly to load under TCG:
  # .static_call_sites, the call sites the kernel rewrites one by one, each
  # through a breakpoint and a temporary mapping, to call its static call's
  # target directly (without them each site keeps calling the static call's
  # trampoline, which the kernel keeps pointing at the same target);
  # .smp_locks, the lock prefixes a one-CPU guest would patch out (they stay:
  # correct on any CPU count); .BTF, the type information for BPF (the guest
  # runs none); .orc_unwind*, the unwinder's tables, sorted at every load (a
  # backtrace through these modules' code is then a guess: their oopses say less)
  objcopy -R .static_call_sites -R .rela.static_call_sites -R .smp_locks -R .rela.smp_locks -R .BTF \
    -R .orc_unwind -R .orc_unwind_ip -R .rela.orc_unwind_ip "$f" "$f.lean"
  mv "$f.lean" "$f"
  echo "$m.ko" >>"$out.tmp/modules/modules.order"
done
mv "$tmp/vmlinux" "$out.tmp/vmlinux"
dpkg-deb -f "$deb" Package Version | tr '\n' ' ' >"$out.tmp/version"
echo >>"$out.tmp/version"
rm -rf "$out"
mv "$out.tmp" "$out"
