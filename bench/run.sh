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
pkgs="hyperfine crun runc podman umoci systemd-container libarchive-tools time jq python3 util-linux"
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
cleanup() {
  umount "$work/tmpfs" 2>/dev/null || true
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
set -- "$@" -n "podrun run (nspawn)" "$P run --stage1=nspawn podrun.bench/busybox"
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

say "row 1: the first run of a never-rendered image"
hyperfine -N --runs "$runs_big" --export-json "$out/first.json" \
  --prepare "sh -c 'rm -rf $work/fresh && $PODRUN --insecure-options=image --dir=$work/fresh fetch $work/bench.aci $BUILD/stage1-fly.aci >/dev/null'" \
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
# and creating files again soon after is up to 10x slower); the trees are
# removed between commands, followed by a pause, not between runs.
big_rows() { # $1: where (tmpfs|disk), $2: base directory
  where=$1 base=$2
  n=0
  fresh() { n=$((n + 1)); echo "$base/d$n"; }
  set -- -N --runs "$runs_big" --export-json "$out/big-$where.json"
  set -- "$@" -n "podrun fetch ($where)" --prepare "rm -rf $base/store" \
    "$PODRUN --insecure-options=image --dir=$base/store fetch $work/big.aci"
  hyperfine "$@" >"$out/big-$where-fetch.log" 2>&1 || { cat "$out/big-$where-fetch.log" >&2; die "row 2 failed"; }
  mv "$out/big-$where.json" "$out/big-$where-fetch.json"
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
  set -- -N --runs "$runs_big" --export-json "$out/big-$where-render.json" \
    --cleanup "sh -c 'rm -rf $base/r.*; sync; sleep 5'"
  set -- "$@" -n "podrun image render ($where)" "sh $work/render-$where.sh podrun"
  set -- "$@" -n "bsdtar -xf ($where)" "sh $work/render-$where.sh bsdtar"
  set -- "$@" -n "GNU tar -xf ($where)" "sh $work/render-$where.sh tar"
  [ "$have_umoci" = 0 ] || set -- "$@" -n "umoci raw unpack ($where)" "sh $work/render-$where.sh umoci"
  set -- "$@" -n "sha512sum (hashing floor)" "sh $work/render-$where.sh sha512sum"
  hyperfine "$@" >"$out/big-$where-render.log" 2>&1 || { cat "$out/big-$where-render.log" >&2; die "row 2 failed"; }
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
  printf 'quick\t%s\n' "$quick"
} >"$out/meta.tsv"
python3 "$here/report.py" "$out" "$results/$date"
cat "$results/$date.md"
