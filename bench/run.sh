#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/run.sh — podrun against its peers, side by side in one run (see
# Documentation/performance.md). Called by `make bench` with BUILD and PODRUN set.
# Installs what it needs (as root on Debian), prepares its own inputs under a
# scratch directory, runs every row, and writes bench/results/<date>.{json,md}
# plus the table on stdout. BENCH_QUICK=1 does fewer runs (a smoke test of the
# script, not figures to quote).
set -eu

: "${BUILD:=build}" "${PODRUN:=$PWD/build/bin/podrun}"
here=$(cd "$(dirname "$0")" && pwd)
results=$here/results
quick=${BENCH_QUICK:-0}
runs_start=40 runs_big=5 runs_scale=20
[ "$quick" = 1 ] && runs_start=5 runs_big=2 runs_scale=3

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (pods, crun, runc and systemd-nspawn need it)"

# --- what it needs -------------------------------------------------------------
pkgs="hyperfine wrk crun runc containerd podman umoci skopeo docker-registry busybox-static systemd-container libarchive-tools time jq
  python3 util-linux curl containernetworking-plugins iptables"
missing=
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing$missing"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null ||
    die "apt-get install$missing failed"
fi

work=$(mktemp -d /var/tmp/podrun-bench.XXXXXX)
registry_pid=
# An exited pod keeps its cgroups until it is removed: the stores are collected before
# they are deleted, or every run would leave ~1,500 empty cgroups on the machine.
gc_store() { [ ! -d "$1" ] || "$PODRUN" --dir="$1" gc --grace-period=0 >/dev/null 2>&1 || true; }
cleanup() {
  for s in store scale gc fresh layered; do gc_store "$work/$s"; done
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  umount "$work/tmpfs" 2>/dev/null || true
  umount "$work/tp" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
out=$work/out
mkdir -p "$out" "$results"
skips=$out/skipped.tsv
: >"$skips"
skip() { printf '%s\t%s\n' "$1" "$2" >>"$skips"; say "skipped $1: $2"; }
pr() { "$PODRUN" --insecure-options=image "$@"; }

# --- inputs: one busybox rootfs that every runtime starts ----------------------
say "preparing the busybox rootfs, its ACI and an OCI bundle"
store=$work/store
pr --dir="$store" fetch "$BUILD/busybox.aci" >/dev/null
mkdir -p "$work/aci"
pr --dir="$store" image render --rootfs-only podrun.test/busybox "$work/aci/rootfs"
# systemd-nspawn wants /usr and an os-release in the tree it starts
mkdir -p "$work/aci/rootfs/usr/lib" "$work/aci/rootfs/etc"
printf 'ID=busybox\nNAME=busybox\n' >"$work/aci/rootfs/usr/lib/os-release"
cat >"$work/aci/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"podrun.bench/busybox",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
EOF
(cd "$work/aci" && bsdtar --format=pax -cf "$work/bench.aci" manifest rootfs)
rootfs=$work/aci/rootfs
pr --dir="$store" fetch "$work/bench.aci" >/dev/null
pr --dir="$store" run --stage1=fly podrun.bench/busybox >/dev/null # renders it and both stage1s once
pr --dir="$store" run --stage1=nspawn podrun.bench/busybox >/dev/null

mkdir -p "$work/bundle"
(cd "$work/bundle" && runc spec)
jq --arg root "$rootfs" '.root = {path: $root, readonly: true} | .process.args = ["/bin/true"] |
  .process.terminal = false' "$work/bundle/config.json" >"$work/bundle/c.json"
mv "$work/bundle/c.json" "$work/bundle/config.json"

# crun 1.8 refuses hybrid cgroups unless cgroup.controllers of the unified
# hierarchy looks empty: the start and memory rows run in a private mount
# namespace where it does, every runtime alike, so all see the same machine.
empty=$work/empty
: >"$empty"
controllers=/sys/fs/cgroup/unified/cgroup.controllers
inns() {
  if [ -e "$controllers" ]; then
    unshare --mount --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
      "$empty" "$controllers" "$@"
  else
    "$@"
  fi
}
# runs "$@" once, or records why the peer cannot run here
works() { # name, command…
  name=$1
  shift
  if inns "$@" >/dev/null 2>"$out/peer.err"; then
    return 0
  fi
  skip "$name" "$(grep -m1 -i 'error' "$out/peer.err" || head -n1 "$out/peer.err")"
  return 1
}

# --- row 1: start to exit of /bin/true -----------------------------------------
say "row 1: pod start to exit of /bin/true"
podman_flags="--cgroup-manager=cgroupfs --events-backend=file --ulimit nofile=1024:1024 --ulimit nproc=4096:4096"
P="$PODRUN --dir=$store"
printf '#!/bin/sh\nexec %s run-prepared "$(%s prepare --stage1=fly podrun.bench/busybox)"\n' "$P" "$P" \
  >"$work/split.sh"
crun_cmd="crun --root $work/crun run --bundle $work/bundle bench"
runc_cmd="runc --root $work/runc run --bundle $work/bundle bench"
nspawn_cmd="systemd-nspawn --register=no --keep-unit -q -D $rootfs /bin/true"
# the same with the switches podrun gives nspawn: no syscall filter of nspawn's own
# (stage2 loads the app's), no /etc/resolv.conf or /etc/localtime work
nspawn_bare_cmd="env SYSTEMD_SECCOMP=0 systemd-nspawn --register=no --keep-unit -q --resolv-conf=off --timezone=off -D $rootfs /bin/true"
podman_cmd="podman run --rm --network=none $podman_flags --rootfs $rootfs /bin/true"
set -- -N --warmup 3 --runs "$runs_start" --export-json "$out/start.json"
set -- "$@" -n "podrun run (fly)" "$P run --stage1=fly podrun.bench/busybox"
set -- "$@" -n "podrun prepare + run-prepared (fly)" "sh $work/split.sh"
# on the host's network, as every peer of this row but podman (row 10 is the networks')
set -- "$@" -n "podrun run (nspawn)" "$P run --stage1=nspawn --net=host podrun.bench/busybox"
# shellcheck disable=SC2086
! works "crun run" $crun_cmd || set -- "$@" -n "crun run" "$crun_cmd"
# shellcheck disable=SC2086
! works "runc run" $runc_cmd || set -- "$@" -n "runc run" "$runc_cmd"
# shellcheck disable=SC2086
! works "systemd-nspawn" $nspawn_cmd || set -- "$@" -n "systemd-nspawn" "$nspawn_cmd"
# shellcheck disable=SC2086
! works "systemd-nspawn, podrun's switches" $nspawn_bare_cmd ||
  set -- "$@" -n "systemd-nspawn, podrun's switches" "$nspawn_bare_cmd"
# shellcheck disable=SC2086
! works "podman run --network=none" $podman_cmd || set -- "$@" -n "podman run --network=none" "$podman_cmd"
set -- "$@" -n "floor: unshare + chroot" "unshare --mount --uts --ipc --net --pid --fork chroot $rootfs /bin/true"
set -- "$@" -n "floor: chroot" "chroot $rootfs /bin/true"
inns hyperfine "$@" >"$out/start.log" 2>&1 || { cat "$out/start.log" >&2; die "row 1 failed"; }

# --- row 10: start to exit of /bin/true on a network of the pod's own ------------------
say "row 10: start to exit of /bin/true, podrun's default network vs podman's"
podman_net_cmd="podman run --rm $podman_flags --rootfs $rootfs /bin/true"
set -- -N --warmup 3 --runs "$runs_start" --export-json "$out/net.json"
set -- "$@" -n "podrun run (nspawn, --net=default)" "$P run --stage1=nspawn --net=default podrun.bench/busybox"
set -- "$@" -n "podrun run (nspawn, --net=none)" "$P run --stage1=nspawn --net=none podrun.bench/busybox"
# shellcheck disable=SC2086
if works "podman run (its default network)" $podman_net_cmd; then
  set -- "$@" -n "podman run (its default network)" "$podman_net_cmd"
  set -- "$@" -n "podman run --network=none" "$podman_cmd"
fi
inns hyperfine "$@" >"$out/net.log" 2>&1 || { cat "$out/net.log" >&2; die "row 10 failed"; }

say "row 1: the first run of a never-rendered image"
hyperfine -N --runs "$runs_big" --export-json "$out/first.json" \
  --prepare "sh -c '[ ! -d $work/fresh ] || $PODRUN --dir=$work/fresh gc --grace-period=0 >/dev/null; rm -rf $work/fresh && $PODRUN --insecure-options=image --dir=$work/fresh fetch $work/bench.aci $BUILD/stage1-fly.aci >/dev/null'" \
  -n "podrun run (fly), first run of the image" \
  "$PODRUN --dir=$work/fresh run --stage1=fly podrun.bench/busybox" >"$out/first.log" 2>&1 ||
  { cat "$out/first.log" >&2; die "first-run row failed"; }

# --- row 2: import and render of a large image -------------------------------------
say "row 2: import and render of a large image from /usr/share"
big=$work/big
mkdir -p "$big/rootfs"
printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"podrun.bench/usr-share"}' >"$big/manifest"
# ~200 MB of small files: the machine's documentation and manual pages
(cd / && bsdtar -cf - usr/share/doc usr/share/man usr/share/perl 2>/dev/null) | (cd "$big/rootfs" && bsdtar -xf -)
(cd "$big" && bsdtar --format=pax -cf "$work/big.aci" manifest rootfs)
rm -rf "$big"
bigsize=$(stat -c %s "$work/big.aci")
bigfiles=$(bsdtar -tf "$work/big.aci" | wc -l)
mkdir -p "$work/tmpfs"
mount -t tmpfs -o size=4g tmpfs "$work/tmpfs"
# umoci needs an OCI layout: one layer made from the same tree (setup, not timed)
have_umoci=0
if umoci init --layout "$work/oci" 2>"$out/umoci.err" && umoci new --image "$work/oci:big" 2>>"$out/umoci.err" &&
  mkdir -p "$work/umoci-src" && bsdtar -xf "$work/big.aci" -C "$work/umoci-src" &&
  umoci insert --image "$work/oci:big" "$work/umoci-src/rootfs" / >/dev/null 2>>"$out/umoci.err"; then
  have_umoci=1
else
  skip "umoci raw unpack" "$(head -n1 "$out/umoci.err")"
fi
rm -rf "$work/umoci-src"

# Each timed run writes into a fresh directory (deleting a large tree on ext4
# and creating files again soon after is up to 10x slower); on disk the trees are
# removed after each round of the render rows, followed by a pause, not
# between runs. In tmpfs each tree is removed after its run, with no pause: a
# round's trees held at once (~1 GB) had the later runs of each round write into
# memory the VM had not touched lately, which its host then faults in (these
# machines hand free memory back to theirs: Documentation/performance.md), and
# both podrun's and GNU tar's times fell in two groups, 0.3 s and 0.6-1.2 s.
big_rows() { # $1: where (tmpfs|disk), $2: base directory
  where=$1 base=$2
  n=0
  fresh() { n=$((n + 1)); echo "$base/d$n"; }
  set -- -N --runs "$runs_big" --export-json "$out/big-$where.json"
  set -- "$@" -n "podrun fetch ($where)" --prepare "rm -rf $base/store" \
    "$PODRUN --insecure-options=image --dir=$base/store fetch $work/big.aci"
  hyperfine "$@" >"$out/big-$where-fetch.log" 2>&1 || { cat "$out/big-$where-fetch.log" >&2; die "row 2 failed"; }
  mv "$out/big-$where.json" "$out/big-$where-fetch.json"
  # render of an ACI in the layered store is the extraction each layer gets: it must
  # give the whole tree (every entry of the ACI but its manifest)
  mkdir -p "$base/check"
  "$PODRUN" --dir="$base/store" image render --rootfs-only podrun.bench/usr-share "$base/check/t" ||
    die "row 2: podrun image render failed"
  got=$(find "$base/check/t" | wc -l)
  [ "$got" -eq $((bigfiles - 1)) ] || die "row 2: render gave $got entries, the ACI has $((bigfiles - 1))"
  rm -rf "$base/check"
  sync
  sleep 5
  cat >"$work/render-$where.sh" <<EOF
#!/bin/sh
# one timed command per tool: each run into a new directory
d=\$(mktemp -d "$base/r.XXXXXX")
case \$1 in
  podrun) exec $PODRUN --dir=$base/store image render --rootfs-only podrun.bench/usr-share "\$d/t" ;;
  bsdtar) exec bsdtar -xf $work/big.aci -C "\$d" ;;
  tar) exec tar -xf $work/big.aci -C "\$d" ;;
  umoci) exec umoci raw unpack --image $work/oci:big "\$d/t" ;;
  sha512sum) exec sha512sum $work/big.aci ;;
esac
EOF
  # the tools in turn, one run each per round (bench/alternate.py, as rows 7-9: on a
  # machine whose speed drifts, hyperfine's all-runs-of-one-then-the-next weighs the
  # drift on some tools only); the trees go after each round on disk, each run in tmpfs
  if [ "$where" = tmpfs ]; then
    set -- --run-cleanup "rm -rf $base/r.*"
  else
    set -- --round-cleanup "rm -rf $base/r.*; sync; sleep 5"
  fi
  set -- "$@" --runs "$runs_big" --export-json "$out/big-$where-render.json"
  set -- "$@" -n "podrun image render ($where)" "sh $work/render-$where.sh podrun"
  set -- "$@" -n "bsdtar -xf ($where)" "sh $work/render-$where.sh bsdtar"
  set -- "$@" -n "GNU tar -xf ($where)" "sh $work/render-$where.sh tar"
  [ "$have_umoci" = 0 ] || set -- "$@" -n "umoci raw unpack ($where)" "sh $work/render-$where.sh umoci"
  set -- "$@" -n "sha512sum (hashing floor)" "sh $work/render-$where.sh sha512sum"
  python3 "$here/alternate.py" "$@" >"$out/big-$where-render.log" 2>&1 ||
    { cat "$out/big-$where-render.log" >&2; die "row 2 failed"; }
}
big_rows tmpfs "$work/tmpfs"
mkdir -p "$work/disk"
big_rows disk "$work/disk"
umount "$work/tmpfs"

# --- row 3: scale --------------------------------------------------------------------
say "row 3: list and status with 10, 100 and 1000 pods; gc of 100"
scale=$work/scale
pr --dir="$scale" fetch "$work/bench.aci" >/dev/null
have=0
set -- -N --warmup 2 --runs "$runs_scale" --export-json "$out/scale.json"
for n in 10 100 1000; do
  while [ "$have" -lt "$n" ]; do
    "$PODRUN" --dir="$scale" run --stage1=fly --uuid-file-save="$work/last-uuid" podrun.bench/busybox
    have=$((have + 1))
  done
  uuid=$(cat "$work/last-uuid")
  set -- "$@" -n "podrun list ($n pods)" "$PODRUN --dir=$scale list --no-legend"
  set -- "$@" -n "podrun status ($n pods)" "$PODRUN --dir=$scale status $uuid"
  # each n is timed now, before more pods are added
  hyperfine "$@" >"$out/scale-$n.log" 2>&1 || { cat "$out/scale-$n.log" >&2; die "row 3 failed"; }
  mv "$out/scale.json" "$out/scale-$n.json"
  set -- -N --warmup 2 --runs "$runs_scale" --export-json "$out/scale.json"
done
cat >"$work/mkpods.sh" <<EOF
#!/bin/sh
for i in \$(seq 100); do $PODRUN --dir=$work/gc run --stage1=fly podrun.bench/busybox; done
EOF
pr --dir="$work/gc" fetch "$work/bench.aci" >/dev/null
hyperfine -N --runs 3 --export-json "$out/gc.json" --prepare "sh $work/mkpods.sh" \
  -n "podrun gc (100 exited pods)" "$PODRUN --dir=$work/gc gc --grace-period=0" >"$out/gc.log" 2>&1 ||
  { cat "$out/gc.log" >&2; die "gc row failed"; }

# --- row 4: memory -------------------------------------------------------------------
say "row 4: peak RSS"
rss() { # name, command… : the largest peak RSS (KiB) in the process tree, median of 5
  name=$1
  shift
  rm -f "$out"/rssrun.*
  for i in 1 2 3 4 5; do
    inns /usr/bin/time -f %M -o "$out/rssrun.$i" "$@" >/dev/null 2>&1 || return 1
  done
  printf '%s\t%s\n' "$name" "$(cat "$out"/rssrun.* | sort -n | sed -n 3p)" >>"$out/rss.tsv"
}
: >"$out/rss.tsv"
# shellcheck disable=SC2086
rss "podrun run (fly): stage0 then stage1" $P run --stage1=fly podrun.bench/busybox
# shellcheck disable=SC2086
rss "podrun run (nspawn): stage0, stage1, nspawn, pod init" $P run --stage1=nspawn podrun.bench/busybox
# shellcheck disable=SC2086
rss "crun run" $crun_cmd || skip "crun run (RSS)" "it failed here"
# shellcheck disable=SC2086
rss "runc run" $runc_cmd || skip "runc run (RSS)" "it failed here"
# shellcheck disable=SC2086
rss "systemd-nspawn" $nspawn_cmd || skip "systemd-nspawn (RSS)" "it failed here"
# shellcheck disable=SC2086
rss "podman run --network=none" $podman_cmd || skip "podman run (RSS)" "it failed here"
# the resident size of podrun's own processes that stay for the pod's life while the
# app sleeps: fly's stage1; nspawn's stage1 run and the pod init (pid 1 of the pod)
"$PODRUN" --dir="$store" run --stage1=fly podrun.bench/busybox --exec=/bin/sleep -- 3 &
pid=$!
sleep 1.5
printf '%s\t%s\n' "pod keeper resident while the app sleeps (fly stage1)" \
  "$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)" >>"$out/rss.tsv"
wait $pid
"$PODRUN" --dir="$store" run --stage1=nspawn --uuid-file-save="$work/ns-uuid" podrun.bench/busybox \
  --exec=/bin/sleep -- 3 &
pid=$!
sleep 1.5
init=$(cat "$store/pods/run/$(cat "$work/ns-uuid")/pid")
printf '%s\t%s\n' "pod keeper resident while the app sleeps (nspawn stage1 run)" \
  "$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)" >>"$out/rss.tsv"
printf '%s\t%s\n' "pod init resident while the app sleeps (nspawn)" \
  "$(awk '/^VmRSS/ {print $2}' /proc/$init/status)" >>"$out/rss.tsv"
# of which its own: the rest are the static binary's pages, shared by every pod
printf '%s\t%s\n' "pod init, its own (anonymous) pages of that" \
  "$(awk '/^RssAnon/ {print $2}' /proc/$init/status)" >>"$out/rss.tsv"
# each app's stage2, pid 1 of the app's own pid namespace (its reaper)
reaper=$(tr -d ' ' </proc/$init/task/$init/children)
printf '%s\t%s\n' "app's stage2 (its pid namespace's pid 1) resident while the app sleeps (nspawn)" \
  "$(awk '/^VmRSS/ {print $2}' /proc/$reaper/status)" >>"$out/rss.tsv"
printf '%s\t%s\n' "app's stage2, its own (anonymous) pages of that" \
  "$(awk '/^RssAnon/ {print $2}' /proc/$reaper/status)" >>"$out/rss.tsv"
wait $pid

# --- rows 5-8: a registry, a 5-layer image, the layered store ------------------------
say "rows 5-8: building a 5-layer image from /usr trees (umoci) and a one-layer ACI of the same tree"
# Each layer: a tree of the machine's own files taken in name order up to a size (files
# with one link only, so that the layer holds what it counts), gzipped by umoci's
# default: about 20 MB compressed each here. The bottom layer carries busybox.
pick() { # CAP FIND-ARGS… : file names (relative to /) in name order, up to CAP bytes
  cap=$1
  shift
  find "$@" -type f -links 1 -printf '%s %p\n' 2>/dev/null | LC_ALL=C sort -k2 |
    awk -v cap="$cap" '{ if (s + $1 > cap) next; s += $1; sub(/^[0-9]+ \//, ""); print }'
}
lay=$work/layers
oci=$work/oci-layers
mkdir -p "$lay"
multiarch=/usr/lib/$(uname -m)-linux-gnu
i=0
for spec in "20000000 /usr/share/man" "32000000 /usr/share/doc" "60000000 /usr/share/locale" \
  "50000000 $multiarch -maxdepth 1 -name lib*.so.*" "70000000 /usr/lib/python3 /usr/share/perl /usr/share/vim"; do
  i=$((i + 1))
  mkdir -p "$lay/$i"
  set -f
  # shellcheck disable=SC2086
  set -- $spec
  set +f
  pick "$@" >"$lay/$i.list"
  (cd / && tar -cf - --no-recursion -T "$lay/$i.list") | tar -xf - -C "$lay/$i"
done
layer_trees="busybox + /usr/share/man; /usr/share/doc; /usr/share/locale; $multiarch/lib*.so.*; /usr/lib/python3, /usr/share/perl, /usr/share/vim"
mkdir -p "$lay/1/bin" "$lay/1/etc"
cp /bin/busybox "$lay/1/bin/busybox"
for a in sh true cat ls sleep echo; do ln -s busybox "$lay/1/bin/$a"; done
printf 'root:x:0:0:root:/:/bin/sh\n' >"$lay/1/etc/passwd"
printf 'root:x:0:\n' >"$lay/1/etc/group"
# One layer per repack (umoci 0.4.7's `insert` writes tar streams cut short, which
# podrun rightly refuses; repack --refresh-bundle diffs against the previous layer).
# v1: layers 1-5; v2: layers 1-4 and layer 5 changed (one file more).
umo() { umoci "$@" >>"$out/umoci-layers.log" 2>&1 || { tail -n 5 "$out/umoci-layers.log" >&2; die "umoci $1 failed"; }; }
umo init --layout "$oci"
umo new --image "$oci:v1"
umo unpack --image "$oci:v1" "$work/layers-bundle"
for i in 1 2 3 4; do
  cp -a "$lay/$i/." "$work/layers-bundle/rootfs/"
  umo repack --refresh-bundle --image "$oci:v1" "$work/layers-bundle"
done
umo tag --image "$oci:v1" v2
cp -a "$work/layers-bundle" "$work/layers-bundle2"
cp -a "$lay/5/." "$work/layers-bundle/rootfs/"
umo repack --refresh-bundle --image "$oci:v1" "$work/layers-bundle"
cp -a "$lay/5/." "$work/layers-bundle2/rootfs/"
printf 'changed\n' >"$work/layers-bundle2/rootfs/usr/share/podrun-bench-version"
umo repack --image "$oci:v2" "$work/layers-bundle2"
umo config --image "$oci:v1" --config.cmd=/bin/true
umo config --image "$oci:v2" --config.cmd=/bin/true
umo gc --layout "$oci"
rm -rf "$lay" "$work/layers-bundle2"
# the sizes, from the layout: each layer's blob, the manifests and configs
oci_sizes() { # TAG: "manifest-size config-size layer-size…"
  python3 - "$oci" "$1" <<'PY'
import json, sys
d, tag = sys.argv[1:]
blob = lambda dg: open("%s/blobs/sha256/%s" % (d, dg.split(":")[1]), "rb").read()
for m in json.load(open(d + "/index.json"))["manifests"]:
    if m["annotations"]["org.opencontainers.image.ref.name"] == tag:
        man = json.loads(blob(m["digest"]))
        print(m["size"], man["config"]["size"], *[l["size"] for l in man["layers"]])
PY
}
# shellcheck disable=SC2046
set -- $(oci_sizes v1)
v1_manifest=$1 v1_config=$2
shift 2
pull_layers=$*
pull_bytes=0
for s in "$@"; do pull_bytes=$((pull_bytes + s)); done
# shellcheck disable=SC2046
set -- $(oci_sizes v2)
v2_manifest=$1 v2_config=$2
shift 6
v2_top=$1
# the same tree as one layer: an ACI of v1's rootfs (uncompressed, as row 2's)
mkdir -p "$work/onelayer"
mv "$work/layers-bundle/rootfs" "$work/onelayer/rootfs"
rm -rf "$work/layers-bundle"
cat >"$work/onelayer/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"podrun.bench/layers-one",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
EOF
tree_bytes=$(du -sb --apparent-size "$work/onelayer/rootfs" | cut -f1)
tree_entries=$(find "$work/onelayer/rootfs" | wc -l)
(cd "$work/onelayer" && bsdtar --format=pax -cf "$work/onelayer.aci" manifest rootfs)
rm -rf "$work/onelayer"

say "rows 5-8: docker-registry on 127.0.0.1"
reg=$work/registry
mkdir -p "$reg/data"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$reg/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $reg/data
http:
  addr: 127.0.0.1:$port
  secret: podrun-bench
EOF
# distribution reads REGISTRY_* variables as configuration: none of ours reaches it
(
  for v in $(env | sed -n 's/^\(REGISTRY[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
  exec docker-registry serve "$reg/config.yml"
) >"$reg/access.log" 2>"$reg/registry.err" &
registry_pid=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$port/v2/"; do
  i=$((i + 1))
  if ! kill -0 "$registry_pid" 2>/dev/null || [ "$i" -ge 100 ]; then
    die "docker-registry did not start: $(tail -n 3 "$reg/registry.err")"
  fi
  sleep 0.1
done
ref=127.0.0.1:$port/bench/big:1
skopeo copy --quiet --dest-tls-verify=false "oci:$oci:v1" "docker://$ref" >"$out/push.log" 2>&1 ||
  { cat "$out/push.log" >&2; die "skopeo could not push the image"; }
# the access log (Apache combined format, one line per response, written when the
# response is complete: a request made just now may be a few ms behind)
log_settle() {
  n=$(wc -l <"$reg/access.log")
  for i in 1 2 3 4 5 6 7 8 9 10; do
    sleep 0.1
    m=$(wc -l <"$reg/access.log")
    [ "$m" != "$n" ] || return 0
    n=$m
  done
}
log_mark() { log_settle; wc -l <"$reg/access.log"; }
# served MARK [REGEX]: bytes of the GETs answered 200/206 after MARK (whose path matches)
served() {
  log_settle
  tail -n +"$(($1 + 1))" "$reg/access.log" |
    sed -nE 's@.*"GET ([^ ]*) HTTP/[0-9.]*" (200|206) ([0-9]+) .*@\1 \3@p' |
    awk -v re="${2:-.}" '$1 ~ re { s += $2 } END { print s + 0 }'
}
requests() { log_settle; tail -n +"$(($1 + 1))" "$reg/access.log" | grep -c '"[A-Z]* /' || true; }
conf=$work/conf
mkdir -p "$conf"
R="$PODRUN --local-config=$conf --system-config=$conf"
podman_store() { # DIR: podman's global flags for a storage of its own under DIR
  echo "--root $1/root --runroot $1/run --tmpdir $1/tmp --storage-driver=$podman_driver --cgroup-manager=cgroupfs --events-backend=file"
}
podman_driver=overlay
# shellcheck disable=SC2046
if ! podman $(podman_store "$work/pm-probe") pull -q --tls-verify=false "$ref" >/dev/null 2>"$out/podman-pull.err"; then
  podman_driver=vfs
  # shellcheck disable=SC2046
  podman $(podman_store "$work/pm-probe2") pull -q --tls-verify=false "$ref" >/dev/null 2>>"$out/podman-pull.err" ||
    podman_driver=
fi
rm -rf "$work/pm-probe" "$work/pm-probe2"

# --- row 5: pull into an empty store ---------------------------------------------------
say "row 5: pull of the 5-layer image: podrun, podman, skopeo (tmpfs, then disk)"
# every run into a fresh directory, as row 2's disk rows; sync before each run, so no
# run pays for the previous one's writeback; the trees go after all runs of a command.
# TMPDIR is there too (podman keeps its downloads in one until it has applied them).
# Short names: podman refuses a runroot longer than 50 characters.
pull_rows() { # $1: where (tmpfs|disk), $2: base directory
  where=$1 pull=$2
  mkdir -p "$pull"
  cat >"$work/pull-$where.sh" <<EOF
#!/bin/sh
d=\$(mktemp -d "$pull/p.XXXXXX")
mkdir "\$d/tmp"
export TMPDIR="\$d/tmp"
case \$1 in
  podrun) exec $R --dir="\$d/store" --insecure-options=image,http fetch docker://$ref ;;
  podman) exec podman --root "\$d/root" --runroot "\$d/r" --tmpdir "\$d/tmp" --storage-driver=$podman_driver \\
    --cgroup-manager=cgroupfs --events-backend=file pull -q --tls-verify=false $ref ;;
  skopeo) exec skopeo copy --quiet --src-tls-verify=false docker://$ref oci:\$d/oci:t ;;
esac
EOF
  # one untimed run each (a peer that fails here is listed, not timed)
  pm_ok=$podman_driver
  for tool in podrun podman skopeo; do
    [ "$tool" != podman ] || [ -n "$podman_driver" ] || continue
    sh "$work/pull-$where.sh" "$tool" >/dev/null 2>"$out/pull-$where-$tool.err" && continue
    [ "$tool" = podman ] || { cat "$out/pull-$where-$tool.err" >&2; die "row 5: $tool failed ($where)"; }
    pm_ok=
    skip "podman pull ($where)" "$(grep -m1 -i error "$out/pull-$where-$tool.err" || head -n1 "$out/pull-$where-$tool.err")"
  done
  rm -rf "$pull"/p.*
  sync
  sleep 5
  set -- -N --runs "$runs_big" --export-json "$out/pull-$where.json" --prepare sync \
    --cleanup "sh -c 'rm -rf $pull/p.*; sync; sleep 5'"
  set -- "$@" -n "podrun fetch docker:// ($where)" "sh $work/pull-$where.sh podrun"
  [ -z "$pm_ok" ] || set -- "$@" -n "podman pull ($where, $podman_driver storage)" "sh $work/pull-$where.sh podman"
  set -- "$@" -n "skopeo copy docker:// oci: ($where; floor: transfer and digests)" "sh $work/pull-$where.sh skopeo"
  hyperfine "$@" >"$out/pull-$where.log" 2>&1 || { cat "$out/pull-$where.log" >&2; die "row 5 failed"; }
}
[ -n "$podman_driver" ] ||
  skip "podman pull" "$(grep -m1 -i error "$out/podman-pull.err" || head -n1 "$out/podman-pull.err")"
mkdir -p "$work/tp"
mount -t tmpfs -o size=4g tmpfs "$work/tp"
pull_rows tmpfs "$work/tp"
umount "$work/tp"
pull_rows disk "$work/pull"

# --- row 7: start of a pod of 5 layers vs one layer of the same tree ---------------------
say "row 7: pod start, 5-layer image vs one-layer ACI of the same tree"
layered=$work/layered
five_id=$($R --dir="$layered" --insecure-options=image,http fetch "docker://$ref")
one_id=$($R --dir="$layered" --insecure-options=image fetch "$work/onelayer.aci")
$R --dir="$layered" run --stage1=fly podrun.bench/layers-one >/dev/null
$R --dir="$layered" --insecure-options=image run --stage1=fly "docker://$ref" --exec=/bin/true >/dev/null
# the first runs extracted both images (about 500 MB): their writeback must not land on
# the timed runs of one of the two
sync
# alternate NAME NAME-A CMD-A NAME-B CMD-B [NAME-C CMD-C …]: rows 7, 8 and 9 compare
# commands a few percent apart, on a machine other work may load: bench/alternate.py
# takes their runs in turn, each round starting one command further on (A B C, B C A,
# …), so that a change of load weighs on all alike, and records each run's CPU time
# (wait4) beside its wall time (NAME.json); $pair_runs runs each (default
# $runs_start), after $pair_warmup warm-up runs of each (default 2)
alternate() {
  name=$1
  shift
  n=$#
  while [ "$n" -gt 0 ]; do # NAME CMD … → -n NAME CMD …
    set -- "$@" -n "$1" "$2"
    shift 2
    n=$((n - 2))
  done
  inns python3 "$here/alternate.py" --warmup "${pair_warmup:-2}" --runs "${pair_runs:-$runs_start}" \
    --export-json "$out/$name.json" "$@" >>"$out/$name.log" 2>&1 || { cat "$out/$name.log" >&2; die "$name failed"; }
}
# Judged by image id, both (what a layer costs at start); by name, shown beside them
# (docker://… also reads policy.json and the registries configuration).
mark=$(log_mark)
alternate layers-start "podrun run (fly), one-layer ACI, by id" \
  "$R --dir=$layered run --stage1=fly $one_id --exec=/bin/true" \
  "podrun run (fly), 5-layer image, by id" "$R --dir=$layered run --stage1=fly $five_id --exec=/bin/true" \
  "podrun run (fly), one-layer ACI, by name" \
  "$R --dir=$layered run --stage1=fly podrun.bench/layers-one --exec=/bin/true" \
  "podrun run (fly), 5-layer image, by name (docker://…)" \
  "$R --dir=$layered --insecure-options=image run --stage1=fly docker://$ref --exec=/bin/true"
start_requests=$(requests "$mark")
# The kernel's own share of the difference (bench/overlay-floor.c): the overlay work of
# a pod's start, without podrun, on the same two images' layer trees in the store
# (cas/layer/<digest>/rootfs, Documentation/store-format.md), top layer first
cc -O2 -Wall -o "$work/overlay-floor" "$here/overlay-floor.c" || die "row 7: overlay-floor does not build"
five_lowers=$(skopeo inspect --raw "oci:$oci:v1" | jq -r '.layers[].digest' | tac |
  sed "s|^sha256:|$layered/cas/layer/sha256-|; s|\$|/rootfs|" | paste -sd:)
inns "$work/overlay-floor" 400 "$work/overlay-floor.d" "$out/layers-floor.json" \
  "kernel alone: the overlay work of the start, one-layer ACI's tree" "$layered/cas/layer/$one_id/rootfs" \
  "kernel alone: the overlay work of the start, the 5 layer trees" "$five_lowers" >"$out/layers-floor.log" 2>&1 ||
  { cat "$out/layers-floor.log" >&2; die "row 7: overlay-floor failed"; }
gc_store "$layered"
rm -rf "$layered"

# --- row 6: re-pull after the top layer changed -----------------------------------------
say "row 6: re-pull after the top layer changed: bytes served"
upd=$work/upd
$R --dir="$upd" --insecure-options=image,http fetch "docker://$ref" >/dev/null
# shellcheck disable=SC2046
[ -z "$podman_driver" ] || podman $(podman_store "$work/pm-upd") pull -q --tls-verify=false "$ref" >/dev/null
skopeo copy --quiet --dest-tls-verify=false "oci:$oci:v2" "docker://$ref" >"$out/push.log" 2>&1 ||
  { cat "$out/push.log" >&2; die "skopeo could not push the changed image"; }
v2_id=sha256-$(skopeo inspect --raw "oci:$oci:v2" | jq -r .config.digest | cut -d: -f2)
now_ms() { echo $(($(date +%s%N) / 1000000)); }
: >"$out/repull.tsv"
repull() { # name, floor, command… : one run, bytes served (all, and of manifests and blobs)
  name=$1 floor=$2
  shift 2
  mark=$(log_mark)
  t0=$(now_ms)
  "$@" >"$out/repull.out" 2>"$out/repull.err" || { cat "$out/repull.err" >&2; die "row 6: $name failed"; }
  t1=$(now_ms)
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$(served "$mark")" \
    "$(served "$mark" '^/v2/.+/(manifests|blobs)/')" "$floor" "$((t1 - t0))" >>"$out/repull.tsv"
}
changed=$((v2_top + v2_manifest + v2_config))
# shellcheck disable=SC2086
repull "podrun fetch --pull-policy=update (top layer changed)" "$changed" \
  $R --dir="$upd" --insecure-options=image,http fetch --pull-policy=update "docker://$ref"
[ "$(cat "$out/repull.out")" = "$v2_id" ] || die "row 6: update gave $(cat "$out/repull.out"), not $v2_id"
# shellcheck disable=SC2086,SC2046
[ -z "$podman_driver" ] || repull "podman pull (top layer changed, its storage has the old image)" "$changed" \
  podman $(podman_store "$work/pm-upd") pull -q --tls-verify=false "$ref"
# shellcheck disable=SC2086
repull "podrun fetch --pull-policy=update again (nothing changed)" "$v2_manifest" \
  $R --dir="$upd" --insecure-options=image,http fetch --pull-policy=update "docker://$ref"
rm -rf "$upd" "$work/pm-upd"

# --- row 8: run of a local file already in the store vs by name -------------------------
say "row 8: podrun run ./bench.aci (in the store) vs by name"
(
  cd "$work"
  alternate file-start "podrun run (fly) podrun.bench/busybox, by name" \
    "$PODRUN --dir=$store --insecure-options=image run --stage1=fly podrun.bench/busybox" \
    "podrun run (fly) ./bench.aci, in the store" "$PODRUN --dir=$store --insecure-options=image run --stage1=fly ./bench.aci"
)

# --- row 11: the API service under load ---------------------------------------------------
say "row 11: GET /v1/pods with 100 pods (podrun-api) vs GET /libpod/containers/json with 100 containers (podman system service)"
api_bin=$(dirname "$PODRUN")/podrun-api
: >"$out/api.tsv"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wrk_row NAME URL PID: 100 connections for 10 s; requests/s, p99 (ms), errors, the
# server's resident memory idle and its peak under load (KiB)
wrk_row() {
  name=$1 url=$2 pid=$3
  idle=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  wrk -t2 -c100 -d"${api_secs}s" --latency --timeout 5s "$url" >"$out/wrk.log" 2>&1 || { cat "$out/wrk.log" >&2; die "row 11: wrk failed"; }
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out/wrk.log")
  p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /ms$/) sub(/ms$/, "", v); else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}; print v}' "$out/wrk.log")
  errs=$(awk '/Non-2xx|Socket errors/ {print}' "$out/wrk.log" | tr '\n' ' ')
  peak=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p99" "$idle" "$peak" "${errs:-none}" >>"$out/api.tsv"
}
api_secs=$([ "$quick" = 1 ] && echo 2 || echo 10)
apistore=$work/api
pr --dir="$apistore" fetch "$work/bench.aci" >/dev/null
for i in $(seq 100); do "$PODRUN" --dir="$apistore" run --stage1=fly podrun.bench/busybox >/dev/null; done
if [ -x "$api_bin" ] && command -v wrk >/dev/null; then
  port=$(free_port)
  "$api_bin" --dir="$apistore" --listen="tcp:127.0.0.1:$port" --group="$(id -g nobody)" 2>"$out/api.err" &
  api_pid=$!
  for i in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/v1/info" && break; sleep 0.05; done
  [ "$(curl -sf "http://127.0.0.1:$port/v1/pods" | jq length)" = 100 ] || die "row 11: podrun-api does not list 100 pods"
  wrk_row "podrun-api GET /v1/pods (100 pods)" "http://127.0.0.1:$port/v1/pods" "$api_pid"
  kill "$api_pid"; wait "$api_pid" 2>/dev/null || true
else
  skip "row 11 podrun-api" "no $api_bin or no wrk"
fi
if [ -n "$podman_driver" ] && command -v wrk >/dev/null; then
  pm="$(podman_store "$work/pm-api")"
  # shellcheck disable=SC2086
  podman $pm pull -q --tls-verify=false "$ref" >/dev/null
  # shellcheck disable=SC2086
  for i in $(seq 100); do podman $pm create -q --network=none "$ref" /bin/true >/dev/null; done
  port=$(free_port)
  # shellcheck disable=SC2086
  podman $pm system service --time=0 "tcp:127.0.0.1:$port" 2>"$out/podman-service.err" &
  pm_pid=$!
  for i in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/v4.0.0/libpod/_ping" && break; sleep 0.05; done
  [ "$(curl -sf "http://127.0.0.1:$port/v4.0.0/libpod/containers/json?all=true" | jq length)" = 100 ] ||
    die "row 11: podman system service does not list 100 containers"
  wrk_row "podman system service GET /libpod/containers/json?all=true (100 containers)" \
    "http://127.0.0.1:$port/v4.0.0/libpod/containers/json?all=true" "$pm_pid"
  kill "$pm_pid"; wait "$pm_pid" 2>/dev/null || true
  # shellcheck disable=SC2086
  podman $pm rm -a -f >/dev/null 2>&1 || true
  rm -rf "$work/pm-api" 2>/dev/null || true
else
  skip "row 11 podman system service" "podman cannot store images here, or no wrk"
fi
gc_store "$apistore"

kill "$registry_pid" 2>/dev/null || true
wait "$registry_pid" 2>/dev/null || true
registry_pid=

# --- row 12: ctr run --rm of /bin/true: podrun-oci (nspawn, fly) vs runc ------------------
# containerd (started here, a private root, state and socket) drives each through its
# stock runc shim; the rootfs is the row 1 tree (ctr run --rootfs), on the host's network.
say "row 12: ctr run --rm of /bin/true through containerd: podrun-oci vs runc"
oci_bin=$(dirname "$PODRUN")/podrun-oci
if command -v containerd >/dev/null && [ -x "$oci_bin" ]; then
  cd_dir=$work/containerd
  mkdir -p "$cd_dir"
  printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\n[grpc]\n  address = "%s/c.sock"\n[ttrpc]\n  address = "%s/t.sock"\n' \
    "$cd_dir" "$cd_dir" "$cd_dir" "$cd_dir" >"$cd_dir/config.toml"
  containerd --config "$cd_dir/config.toml" >"$out/containerd.log" 2>&1 &
  cd_pid=$!
  for _ in $(seq 100); do ctr --address "$cd_dir/c.sock" version >/dev/null 2>&1 && break; sleep 0.1; done
  C="ctr --address $cd_dir/c.sock -n bench run --rm --net-host --rootfs"
  set -- -N --warmup 3 --runs "$runs_start" --export-json "$out/ctr.json"
  set -- "$@" -n "podrun-oci under ctr run --rm (fly)" \
    "$C --runc-binary=$oci_bin --runc-root=$work/oci-root --annotation podrun.io/stage1=fly $rootfs bench-fly /bin/true"
  set -- "$@" -n "podrun-oci under ctr run --rm (nspawn)" \
    "$C --runc-binary=$oci_bin --runc-root=$work/oci-root --annotation podrun.io/stage1=nspawn $rootfs bench-nspawn /bin/true"
  set -- "$@" -n "runc under ctr run --rm" "$C $rootfs bench-runc /bin/true"
  inns hyperfine "$@" >"$out/ctr.log" 2>&1 || { cat "$out/ctr.log" >&2; die "row 12 failed"; }
  kill "$cd_pid" 2>/dev/null || true
  wait "$cd_pid" 2>/dev/null || true
  gc_store "$work/oci-root/.podrun"
else
  skip "row 12 ctr run" "no containerd (package containerd) or no $oci_bin"
fi

# --- row 9: the kvm stage1 against its floor ---------------------------------------------
# pod start to exit of /bin/true in a VM, against qemu booting the same kernel with
# the same machine, accelerator and command line, whose initramfs only powers off.
# --net=none: the floor has no NIC and no network; what a network costs is row 10's
# (stage0's CNI ADD and DEL are the same for every flavor; the kvm stage1 adds a tap
# and two tc redirects per network, a few ms)
say "row 9: kvm pod start to exit vs the VM floor"
if command -v qemu-system-x86_64 >/dev/null && [ -f "$BUILD/stage1-kvm.aci" ] && [ -f "$BUILD/kvm/floor.img" ]; then
  pr --dir="$store" fetch "$BUILD/stage1-kvm.aci" >/dev/null
  pr --dir="$store" run --stage1=kvm --net=none --uuid-file-save="$work/kvm-uuid" podrun.bench/busybox >/dev/null 2>&1 ||
    die "row 9: a kvm pod failed"
  accel=$("$PODRUN" --dir="$store" status "$(cat "$work/kvm-uuid")" | sed -n 's/^accelerator=//p')
  [ -n "$accel" ] || die "row 9: the kvm pod says no accelerator"
  kvm_env=
  [ "$accel" = tcg ] && kvm_env="env PODRUN_KVM=off"
  # qemu's resident memory while the app sleeps (the pod's pid is qemu's), and the
  # kernel command line the stage1 gave it (stage1/kvm/run.c; under TCG with the
  # host's TSC frequency), which the floor boots with
  rm -f "$work/kvm-uuid"
  # shellcheck disable=SC2086
  $kvm_env "$PODRUN" --dir="$store" run --stage1=kvm --net=none --uuid-file-save="$work/kvm-uuid" podrun.bench/busybox \
    --exec=/bin/sleep -- 5 >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 300); do
    [ -s "$store/pods/run/$(cat "$work/kvm-uuid" 2>/dev/null)/pid" ] && break
    sleep 0.1
  done
  qemu=$(cat "$store/pods/run/$(cat "$work/kvm-uuid")/pid")
  printf '%s\t%s\n' "qemu resident per kvm pod ($accel, 256 MiB guest) while the app sleeps" \
    "$(awk '/^VmRSS/ {print $2}' "/proc/$qemu/status")" >>"$out/rss.tsv"
  append=$(tr '\0' '\n' <"/proc/$qemu/cmdline" | sed -n '/^-append$/{n;p;q}')
  wait $pid || true
  [ -n "$append" ] || die "row 9: no -append in the kvm pod's qemu command line"
  cpu=
  [ "$accel" = tcg ] || cpu="-cpu host"
  floor_cmd="qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off,isa-serial=on -accel $accel $cpu -m 256 -smp 1
    -nodefaults -no-user-config -display none -monitor none -no-reboot -serial none
    -kernel $BUILD/kvm/kernel/vmlinux -initrd $BUILD/kvm/floor.img -append '$append'"
  floor_cmd=$(echo "$floor_cmd" | tr -s '\n ' '  ')
  # 12 boots each (about 2 minutes under TCG), in turn
  pair_runs=12 pair_warmup=0 # the pods above were the warm-up
  [ "$quick" = 1 ] && pair_runs=2
  alternate kvm "podrun run (kvm, $accel, --net=none) /bin/true" \
    "$kvm_env $P run --stage1=kvm --net=none podrun.bench/busybox" \
    "floor: qemu microvm ($accel), same kernel, /init powers off" "$floor_cmd"
  unset pair_runs pair_warmup
else
  skip "kvm pod vs floor" "no qemu-system-x86_64, stage1-kvm.aci or kvm/floor.img (make all \$BUILD/kvm/floor.img)"
fi

# --- the table -----------------------------------------------------------------------
say "writing the results"
date=$(date -u +%Y-%m-%d)
{
  printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
  printf 'machine\t%s, %s cores, %s MiB RAM, kernel %s\n' \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" "$(nproc)" \
    "$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)" "$(uname -r)"
  printf 'versions\tpodrun %s; %s; %s; %s; %s; %s\n' "$("$PODRUN" version | head -n1 | awk '{print $NF}')" \
    "$(crun --version | head -n1)" "$(runc --version | head -n1)" "$(systemd-nspawn --version | head -n1)" \
    "$(podman --version)" "$(hyperfine --version)"
  printf 'big image\t%s bytes, %s entries (/usr/share/doc, man, perl)\n' "$bigsize" "$bigfiles"
  printf 'pull image\t%s bytes in 5 gzip layers (%s bytes; %s), manifest %s, config %s; %s bytes in %s entries unpacked\n' \
    "$pull_bytes" "$(echo "$pull_layers" | sed 's/ /, /g')" "$layer_trees" "$v1_manifest" "$v1_config" "$tree_bytes" "$tree_entries"
  printf 'changed layer\t%s bytes (the top layer again, one file more; manifest %s, config %s)\n' "$v2_top" "$v2_manifest" "$v2_config"
  printf 'podman storage\t%s\n' "${podman_driver:-none}"
  printf 'registry requests during the start rows\t%s\n' "$start_requests"
  printf 'quick\t%s\n' "$quick"
} >"$out/meta.tsv"
python3 "$here/report.py" "$out" "$results/$date"
cat "$results/$date.md"
