#!/bin/sh
# mkaci.sh FLAVOR BUILD_DIR OUT.aci: a bundled stage1 image (Documentation/stage1-contract.md).
#   fly:    /fly/fly with its entrypoints as symlinks, /fly/enter, and /stage2;
#   nspawn: /nspawn/nspawn with its entrypoints and the pod init as symlinks, /nspawn/enter, /stage2,
#           and what systemd-nspawn wants of a root (/usr, an os-release);
#   kvm:    /kvm/kvm with its entrypoints as symlinks, the guest kernel and initramfs
#           (whose guest init is also the pod init, with stage2's code), /kvm/guest-enter.
# Deterministic bytes.
set -eu
flavor=$1
build=$2
out=$3
version=0.1.0
case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64) arch=aarch64 ;;
  *) arch=$(uname -m) ;;
esac
# What each flavor supports (the contract's "What a stage1 supports"): stage0
# refuses anything else before any pod exists.
case $flavor in
  fly)
    binary=$build/stage1/fly/fly enter=$build/stage1/fly/enter entrypoints="run stop gc"
    # the host's network, namespaces and /etc files; one app, with podrun's stdio
    supports="supports-net=host supports-private-users=false supports-dns=false supports-hosts-entry=false
      supports-interactive=true max-apps=1 supports-systemd-notify=false supports-socket-activation=false
      supports-metadata-service=true" ;;
  nspawn)
    binary=$build/stage1/nspawn/nspawn enter=$build/stage1/nspawn/enter entrypoints="init stop gc"
    supports="supports-net=host,none,cni supports-private-users=true supports-dns=true supports-hosts-entry=true
      supports-interactive=true supports-systemd-notify=true supports-socket-activation=true
      supports-metadata-service=true" ;;
  kvm)
    binary=$build/stage1/kvm/kvm enter= entrypoints="run enter stop gc"
    # a VM: CNI networks through a tap (the default network, as nspawn), qemu's
    # user-mode NAT (host), or no NIC; the guest's own /etc files; the metadata
    # service over the tap (CNI) or slirp's 10.0.2.2 (host)
    supports="supports-net=host,none,cni supports-private-users=false supports-dns=true supports-hosts-entry=true
      supports-interactive=true supports-systemd-notify=true supports-socket-activation=false
      supports-metadata-service=true" ;;
  *) echo "$0: no flavor \"$flavor\"" >&2; exit 2 ;;
esac
annotations=
for kv in $supports; do
  annotations="$annotations    {\"name\": \"podrun/stage1/${kv%%=*}\", \"value\": \"${kv#*=}\"},
"
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/podrun-stage1-$flavor.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
root=$stage/rootfs
mkdir -p "$root/$flavor" "$root/opt/stage2"
install -m 0755 "$binary" "$root/$flavor/$flavor"
[ -z "$enter" ] || install -m 0755 "$enter" "$root/$flavor/enter" # a binary of its own: it links stage2's code
# (kvm's pod init, the guest init's child, runs stage2's code in process)
[ "$flavor" = kvm ] || install -m 0755 "$build/stage2/stage2" "$root/stage2"
# nspawn's run runs on the host, beside the host's systemd-nspawn, and links the host's
# libsystemd (Documentation/systemd.md): a binary of its own, not static
[ "$flavor" != nspawn ] || install -m 0755 "$build/stage1/nspawn/run" "$root/nspawn/run"
for e in $entrypoints; do
  ln -s "$flavor" "$root/$flavor/$e"
done
if [ "$flavor" = kvm ]; then
  # what the VM boots (the kernel, the initramfs with the guest init) and,
  # shared into it, the in-guest enter, over the pod's mount points
  install -m 0644 "$build/kvm/kernel/vmlinux" "$root/kvm/vmlinux"
  install -m 0644 "$build/kvm/initrd.img" "$root/kvm/initrd.img"
  install -m 0755 "$build/stage1/kvm/guest-enter" "$root/kvm/guest-enter"
  mkdir -p "$root/podrun" "$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/tmp" "$root/etc"
  chmod 0755 "$root/podrun"
  # the in-guest enter runs in the guest, over this rootfs: static, except in
  # a sanitizer build, whose shared libraries come along (the guest init,
  # which is also the pod init, is always static)
  ldd "$root/kvm/guest-enter" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
    while read -r lib; do
      install -D -m 0755 "$lib" "$root$lib"
    done
  chmod 1777 "$root/tmp"
fi
if [ "$flavor" = nspawn ]; then
  mkdir -p "$root/podrun/status" "$root/podrun/nspawn" "$root/podrun/logs" "$root/podrun/cgroup/memory" "$root/podrun/cgroup/cpu" \
    "$root/podrun/cgroup/unified" \
    "$root/usr/lib" "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/tmp"
  : >"$root/podrun/pod"
  # the mount point of the pod directory's mds-url (run --mds-register); empty, it gives no URL
  : >"$root/podrun/mds-url"
  chmod 0600 "$root/podrun/mds-url"
  # the mount point of the pod's machine id (run binds it; empty, nspawn takes its --uuid)
  : >"$root/etc/machine-id"
  printf 'ID=podrun-stage1\nNAME="podrun nspawn stage1"\nVERSION_ID=%s\n' "$version" >"$root/usr/lib/os-release"
  ln -s ../usr/lib/os-release "$root/etc/os-release"
  chmod 0755 "$root/podrun"
  chmod 1777 "$root/tmp"
  # The pod init and stage2 run inside the pod's root: static, except in a
  # sanitizer build (make SANITIZE=1), whose shared libraries come along.
  for b in "$root/nspawn/nspawn" "$root/stage2"; do
    ldd "$b" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
      install -D -m 0755 "$lib" "$root$lib"
    done
  done
fi
cat >"$stage/manifest" <<JSON
{
  "acKind": "ImageManifest",
  "acVersion": "0.8.11",
  "name": "podrun.io/stage1-$flavor",
  "labels": [
    {"name": "version", "value": "$version"},
    {"name": "os", "value": "linux"},
    {"name": "arch", "value": "$arch"}
  ],
  "annotations": [
$annotations    {"name": "podrun/stage1/interface-version", "value": "1"},
    {"name": "podrun/stage1/run", "value": "/$flavor/run"},
    {"name": "podrun/stage1/enter", "value": "/$flavor/enter"},
    {"name": "podrun/stage1/stop", "value": "/$flavor/stop"},
    {"name": "podrun/stage1/gc", "value": "/$flavor/gc"}
  ]
}
JSON
chmod 0755 "$root" "$root/$flavor" "$root/opt" "$root/opt/stage2"
tar --create --file="$out.tmp" --directory="$stage" --format=gnu --sort=name --mtime=@0 \
  --numeric-owner --owner=0 --group=0 manifest rootfs
mv "$out.tmp" "$out"
