# shellcheck shell=bash
# The host's own systemd, booted in a container for the tests that need a real systemd
# host (ENVIRONMENT.md): machined.bats, systemd.bats. The OS boots over a throwaway
# overlay of /, under systemd-nspawn; podrun runs inside that system (nsenter), with a
# store of its own there, and nests its own systemd-nspawn in it.
#
# Nothing outlives the file that boots it: the overlay and its tmpfs are mounted in a
# private mount namespace that only the outer nspawn (and the booted system) hold, so
# they go when the booted system goes; md_shutdown (teardown_file) powers it off, and
# kills it if it will not go. Every test skips, with the reason, when the booted system
# cannot be had. A file uses it as: setup_file: md_boot; teardown_file: md_shutdown;
# setup: md_setup.

# In the booted system: the copies of podrun and the images, and the store (a tmpfs,
# as the pods' overlays cannot have their upper layer on the root overlay).
IN_DIR=/podrun-e2e
IN_STORE=/podrun-e2e-store

# md_skip REASON: setup_file gives up: every test will skip with REASON.
md_skip() {
  echo "$1" >"$BATS_FILE_TMPDIR/skip"
  md_shutdown
  return 0
}

# md_boot: boots the host's OS in a container; leaves its nspawn's and its pid 1's pids
# in $BATS_FILE_TMPDIR/{nspawn,pid1}, or a reason in $BATS_FILE_TMPDIR/skip.
md_boot() {
  local d=$BATS_FILE_TMPDIR t0=$SECONDS nspawn pid1 state
  [[ $(id -u) -eq 0 ]] || { md_skip "needs root (running as uid $(id -u))"; return; }
  local c
  for c in systemd-nspawn nsenter unshare machinectl systemctl systemd-run; do
    command -v "$c" >/dev/null || { md_skip "needs $c (packages systemd, systemd-container, util-linux)"; return; }
  done
  [[ -x /lib/systemd/systemd || -x /usr/lib/systemd/systemd ]] || { md_skip "needs systemd installed"; return; }
  [[ -x "$PODRUN" && -f "$BUILD/stage1-nspawn.aci" && -f "$BUSYBOX_ACI" ]] ||
    { md_skip "build podrun, stage1-nspawn and the busybox image first (make all images)"; return; }

  mkdir -p "$d/fs"
  # In a private mount namespace: a tmpfs holding the overlay's upper layer, the overlay
  # of / on top, podrun's binary and images copied into it (the build may change under
  # a running test, and need not be on /), a tmpfs /run when the host's is not one (nspawn
  # leaves directories behind on a disk /run), then nspawn booting the overlay.
  # shellcheck disable=SC2016
  unshare --mount --propagation private sh -euc '
    d=$1; name=$2; podrun=$3; stage1=$4; busybox=$5; in=$6; probe=$7
    mount -t tmpfs -o mode=0700 podrun-e2e "$d/fs"
    mkdir "$d/fs/upper" "$d/fs/work" "$d/fs/root"
    mount -t overlay -o "lowerdir=/,upperdir=$d/fs/upper,workdir=$d/fs/work" overlay "$d/fs/root"
    mkdir -p "$d/fs/root$in/bin"
    cp "$podrun" "$d/fs/root$in/bin/podrun"
    cp "$stage1" "$d/fs/root$in/stage1-nspawn.aci"
    cp "$busybox" "$d/fs/root$in/busybox.aci"
    [ ! -x "$probe" ] || cp "$probe" "$d/fs/root$in/bin/probe"
    [ "$(stat -f -c %T /run)" = tmpfs ] || mount -t tmpfs -o mode=0755 podrun-e2e-run /run
    exec systemd-nspawn --register=no --keep-unit --private-network --console=read-only \
      --tmpfs=/podrun-e2e-store:mode=0755 -D "$d/fs/root" --machine="$name" -b
  ' sh "$d" "podrun-e2e-$$" "$PODRUN" "$BUILD/stage1-nspawn.aci" "$BUSYBOX_ACI" "$IN_DIR" "$BUILD/probe" \
    </dev/null >"$d/boot.log" 2>&1 3>&- &
  nspawn=$!
  echo "$nspawn" >"$d/nspawn"

  # its pid 1: nspawn's child, once that is systemd; then wait for the boot to end
  while ((SECONDS - t0 < 60)); do
    kill -0 "$nspawn" 2>/dev/null || { md_skip "systemd-nspawn -b exited: $(tail -n 3 "$d/boot.log" | tr '\n' ' ')"; return; }
    pid1=$(cat "/proc/$nspawn/task/$nspawn/children" 2>/dev/null) && pid1=${pid1%% *}
    [[ -n "$pid1" && $(readlink "/proc/$pid1/exe" 2>/dev/null) == */systemd/systemd ]] &&
      [[ -S "/proc/$pid1/root/run/systemd/private" ]] && break
    pid1=
    sleep 0.2
  done
  [[ -n "$pid1" ]] || { md_skip "systemd did not start in the container within 60 s"; return; }
  echo "$pid1" >"$d/pid1"
  md_cgroups "$pid1" >"$d/cgroups"
  # (is-system-running exits non-zero for any state but running: the state is what counts)
  state=$(timeout $((60 - (SECONDS - t0) > 1 ? 60 - (SECONDS - t0) : 1)) \
    nsenter -t "$pid1" -a systemctl is-system-running --wait 2>/dev/null) || true
  echo "booted to \"$state\" in $((SECONDS - t0)) s" >>"$d/state.log"
  # degraded: booted, a unit of the host's failed in the container (listed in state.log)
  if [[ $state == degraded ]]; then
    nsenter -t "$pid1" -a systemctl --failed --no-legend >>"$d/state.log" 2>&1
  elif [[ $state != running ]]; then
    md_skip "the booted systemd did not reach running within 60 s (state \"$state\")"
    return
  fi
  nsenter -t "$pid1" -a systemctl -q is-active multi-user.target ||
    { md_skip "the booted systemd did not reach multi-user.target"; return; }
  [[ -S "/proc/$pid1/root/run/dbus/system_bus_socket" ]] ||
    { md_skip "the booted system has no system bus (D-Bus)"; return; }
  nsenter -t "$pid1" -a machinectl list >/dev/null 2>&1 ||
    { md_skip "systemd-machined does not answer in the booted system"; return; }
}

# md_cgroups PID: the directories of PID's cgroups in the cgroup2 and name=systemd
# hierarchies (the booted systemd makes its units' cgroups below them).
md_cgroups() {
  local v2 named
  v2=$(findmnt -n -o TARGET -t cgroup2 | head -n 1)
  named=$(findmnt -n -o TARGET,OPTIONS -t cgroup | awk '$2 ~ /(^|,)name=systemd(,|$)/ { print $1; exit }')
  awk -F: -v v2="$v2" -v named="$named" '
    $1 == "0" && v2 != "" { print v2 $3 }
    $2 == "name=systemd" && named != "" { print named $3 }' "/proc/$1/cgroup"
}

# md_cgroups_clean: once the booted system is gone, removes the cgroups it made: its
# pid 1's (init.scope) and, when nspawn gave it a "payload" cgroup, the units' below that
# (systemd removes them when it powers off, not when it is killed). rmdir only: a cgroup
# that still has processes or children stays. Killed processes take a moment to leave
# their cgroups: tries for 3 s.
md_cgroups_clean() {
  local dir parent left unit
  for _ in $(seq 30); do
    left=0
    while read -r dir; do
      [[ $dir == /sys/fs/cgroup/* && -d $dir ]] || continue
      parent=${dir%/*}
      # its units' cgroups and what is below them (a pod's nspawn makes a "payload" too)
      if [[ ${parent##*/} == payload ]]; then
        for unit in "$parent"/*.slice "$parent"/*.scope "$parent"/*.service "$parent"/*.socket "$parent"/*.mount; do
          [[ ! -d $unit ]] || find "$unit" -depth -type d -exec rmdir {} + 2>/dev/null
        done
      fi
      rmdir "$dir" 2>/dev/null || left=1
    done <"$BATS_FILE_TMPDIR/cgroups"
    ((left)) || break
    sleep 0.1
  done
  return 0
}

# md_shutdown: powers the booted system off (nspawn passes SIGTERM on as a poweroff
# request), else kills its pid 1 (and so every process in it) and nspawn. Then nothing
# holds the private mount namespace: the overlay and the tmpfs are gone.
md_shutdown() {
  local d=$BATS_FILE_TMPDIR nspawn pid1
  nspawn=$(cat "$d/nspawn" 2>/dev/null) || return 0
  pid1=$(cat "$d/pid1" 2>/dev/null) || pid1=
  if kill -0 "$nspawn" 2>/dev/null; then
    kill -TERM "$nspawn" 2>/dev/null
    for _ in $(seq 150); do
      kill -0 "$nspawn" 2>/dev/null || break
      sleep 0.1
    done
  fi
  if kill -0 "$nspawn" 2>/dev/null || { [[ -n "$pid1" ]] && kill -0 "$pid1" 2>/dev/null; }; then
    echo "teardown: the booted system did not power off in 15 s; killing it" >>"$d/state.log"
    [[ -z "$pid1" ]] || kill -KILL "$pid1" 2>/dev/null
    kill -KILL "$nspawn" 2>/dev/null
  fi
  for _ in $(seq 50); do
    kill -0 "$nspawn" 2>/dev/null || break
    sleep 0.1
  done
  wait "$nspawn" 2>/dev/null || true
  [[ ! -f "$d/cgroups" ]] || md_cgroups_clean
  rm -f "$d/nspawn" "$d/pid1" "$d/cgroups"
}


# md_setup: in each test's setup: skips with setup_file's reason, else sets MD_PID1,
# MD_ROOT (the booted system's root as the host reaches it) and STORE (the store there).
md_setup() {
  if [[ -s "$BATS_FILE_TMPDIR/skip" ]]; then
    skip "$(cat "$BATS_FILE_TMPDIR/skip")"
  fi
  MD_PID1=$(cat "$BATS_FILE_TMPDIR/pid1")
  [[ -d /proc/$MD_PID1 ]] || fail "the booted system is gone"
  # the store, as the host reaches it (wait_pod_file reads it)
  MD_ROOT=/proc/$MD_PID1/root
  STORE=$MD_ROOT$IN_STORE
  rm -f "$MD_ROOT$IN_DIR"/uuid-*
}

# inside CMD…: runs CMD in the booted system (all its namespaces, its root), as a
# systemd host's shell would; stdio stay the caller's.
inside() {
  nsenter -t "$MD_PID1" -a -- env TMPDIR=/tmp "$@"
}

# inside_podrun ARGS…: the podrun under test in the booted system, on the store there.
inside_podrun() {
  inside "$IN_DIR/bin/podrun" --dir="$IN_STORE" "$@"
}
