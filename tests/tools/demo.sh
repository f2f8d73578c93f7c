#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# demo.sh PODRUN ACI — what `make demo` runs: fetches the busybox test image into a
# store (/var/lib/podrun, or $PODRUN_DEMO_DIR), lists it, shows its manifest,
# renders it, and runs it as a pod. Every command is echoed before it runs.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 PODRUN ACI" >&2
  exit 2
fi
podrun_bin=$1
aci=$2
dir=${PODRUN_DEMO_DIR:-/var/lib/podrun}

# show CMD…: echo "$ podrun …" (as a user would type it), then run it.
show() {
  echo "\$ podrun $*"
  "$podrun_bin" --dir="$dir" "$@"
}

out=$(mktemp -d "${TMPDIR:-/tmp}/podrun-demo.XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM

echo "# podrun demo, store in $dir"
echo "# The test image is unsigned and signature checks come with network fetching, so the demo fetches it with --insecure-options=image."
echo "\$ podrun --insecure-options=image fetch $aci"
id=$("$podrun_bin" --dir="$dir" --insecure-options=image fetch "$aci")
echo "$id"
echo
show image list
echo
show image cat-manifest podrun.test/busybox
echo
show image render podrun.test/busybox "$out/busybox"
echo "\$ ls -l $out/busybox/rootfs/bin"
ls -l "$out/busybox/rootfs/bin"
echo
echo "# Now as a pod, with the default stage1 (systemd-nspawn: its own pid, mount, uts, ipc and network"
echo "# namespaces) on the default network (CNI: an address of 172.16.28.0/24, NAT to the outside):"
show run podrun.test/busybox --exec=/bin/sh -- -c 'echo "hello from $(hostname), pid $$"; ps; busybox ip -4 -o addr show eth0' ---
echo
echo "# And with the fly stage1 (a chroot, for host tools):"
show run --stage1=fly podrun.test/busybox
echo
show list
echo
echo "# Clean up with: podrun --dir=$dir gc --grace-period=0 && podrun --dir=$dir image rm podrun.test/busybox"
