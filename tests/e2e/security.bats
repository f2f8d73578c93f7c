#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attacks from inside a pod (DESIGN §5: everything inside a pod is hostile). The apps are
# the attack programs of tests/attack/ ($BUILD/attack/*), in images made by
# make_attack_aci: escape (tries to leave the app's root and reports what it reached,
# plants programs over the pod's binaries, forges file handles, lists the capabilities of
# every process it sees), plant (what gets planted: if it ever runs, it leaves evidence in
# the host volume $OUT) and privs (what a process may do, to compare the app with
# `podrun enter`). The tests assert what must hold: an app sees only its own root, enter
# never runs anything an app could write and never has more than the app.

load helpers

setup() {
  requires root
  [[ -x "$BUILD/attack/escape" && -f "$BUILD/stage1-nspawn.aci" && -f "$BUILD/stage1-fly.aci" ]] ||
    fail "build the attack programs and both stage1s first (make all tests)"
  make_attack_aci attacker
  OUT=$BATS_TEST_TMPDIR/out
  mkdir -p "$OUT"
  chmod 1777 "$OUT" # writable by an app's uid 1000 and a --private-users pod's root
  echo host-marker >"$BATS_TEST_TMPDIR/host-marker"
  RUN_PID=
}

# Whatever a test left running is ended: its pods, then the podrun it started.
teardown() {
  local pod
  for pod in "$STORE"/pods/run/*; do
    if [[ -d "$pod" ]]; then "$PODRUN" --dir="$STORE" stop --force "${pod##*/}" >/dev/null 2>&1; fi
  done
  if [[ -n "$RUN_PID" ]] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -9 "$RUN_PID" 2>/dev/null
  fi
  if [[ -n "$RUN_PID" ]]; then wait "$RUN_PID" 2>/dev/null; fi
  "$PODRUN" --dir="$STORE" gc --grace-period=0 >/dev/null 2>&1
  teardown_pods # the other stores of a failed test
  return 0
}

# out_volume: the flag of the host volume $OUT (mounted by the apps at /out).
out_volume() { echo "--volume=out,kind=host,source=$OUT"; }

# start_pod FLAGS… -- APP_ARGS…: starts `podrun run FLAGS… podrun.test/attacker` in the
# background with the host volume $OUT at /out and APP_ARGS as its --exec and arguments;
# sets RUN_PID. Its output goes to $BATS_TEST_TMPDIR/run.log.
start_pod() {
  local flags=()
  while [[ $1 != -- ]]; do
    flags+=("$1")
    shift
  done
  shift
  "$PODRUN" --dir="$STORE" run --uuid-file-save="$BATS_TEST_TMPDIR/uuid" "$(out_volume)" "${flags[@]}" \
    podrun.test/attacker --mount volume=out,target=/out --exec="$1" -- "${@:2}" --- \
    >"$BATS_TEST_TMPDIR/run.log" 2>&1 &
  RUN_PID=$!
}

# end_pod: stops the pod start_pod started, waits for its podrun, collects it.
end_pod() {
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  run_podrun stop "$uuid"
  assert_status 0
  wait "$RUN_PID" || true
  RUN_PID=
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
}

# ---------------------------------------------------------------------------------------
# 1. An app cannot leave its own root.

# The paths no trick may open from inside an app: the pod's stage1 root and what is in
# it (the pod manifest, the bind-mounted pod directory, stage2, the pod init, the apps'
# roots), another app's files, a host file.
forbidden_targets() {
  echo /podrun/pod /podrun/status /podrun/nspawn /stage2 /nspawn/init /nspawn/nspawn /opt/stage2 \
    /opt/stage2/attacker/rootfs/etc/attacker-marker /opt/stage2/victim/rootfs/etc/victim-marker \
    /etc/victim-marker "$BATS_TEST_TMPDIR/host-marker"
}

# assert_only_own_root: $output is the report of `escape probe /etc/attacker-marker
# $(forbidden_targets)`. It finished; without a trick, through .. and a symlink, and
# after each chroot trick the app sees its own marker (it is still in its own root); no
# trick opened a forbidden path.
assert_only_own_root() {
  [[ ${lines[-1]} == done ]] || fail "the attack did not finish (last line: \"${lines[-1]:-}\")"
  local trick target result bad=() t
  for trick in none dotdot symlink-up chroot-fd chroot-cwd; do
    grep -qx "$trick /etc/attacker-marker readable.*" <<<"$output" ||
      bad+=("$(grep "^$trick /etc/attacker-marker " <<<"$output" || echo "$trick: no result"): not in its own root")
  done
  while read -r trick target result; do
    [[ $result == readable* ]] || continue
    for t in $(forbidden_targets); do
      if [[ $target == "$t" ]]; then bad+=("$trick $target $result"); fi
    done
  done <<<"$output"
  [[ ${#bad[@]} -eq 0 ]] || fail "the app reached outside its own root:$(printf '\n  %s' "${bad[@]}")"
}

# escape_probe RUN_FLAGS…: runs the attacker alone with the escape probe, asserts it saw
# only its own root.
escape_probe() {
  run_podrun run "$(out_volume)" "$@" podrun.test/attacker --mount volume=out,target=/out \
    --exec=/attack/escape -- probe /etc/attacker-marker $(forbidden_targets) ---
  assert_status 0
  assert_only_own_root
}

@test "security: an app cannot leave its own root: chroot tricks, .., fds, /proc/1, setns reach nothing of the pod's" {
  requires nspawn
  escape_probe
}

@test "security: an app cannot leave its own root with --private-users either" {
  requires nspawn
  escape_probe --private-users
}

@test "security: in a two-app pod, an app reaches nothing of the other app's root, by any path" {
  requires nspawn
  make_attack_aci victim
  # the victim runs until the attacker is done; the attacker starts once the victim runs
  run_podrun run "$(out_volume)" podrun.test/victim --mount volume=out,target=/out --exec=/bin/sh -- -c \
    'touch /out/victim-ready; i=0; while [ ! -e /out/attack-done ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done' --- \
    podrun.test/attacker --mount volume=out,target=/out --exec=/bin/sh -- -c \
    'i=0; while [ ! -e /out/victim-ready ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
     /attack/escape probe /etc/attacker-marker '"$(forbidden_targets)"'; touch /out/attack-done' ---
  assert_status 0
  [[ -e $OUT/victim-ready ]] || fail "the victim app never ran"
  grep -q '^proc-root:' <<<"$output" || fail "the attacker saw no other process"
  assert_only_own_root
}

# ---------------------------------------------------------------------------------------
# `podrun enter` never executes anything an app could have written.

# The pod's own binaries and the shells an entrypoint might run, in the stage1 root.
PLANT_TARGETS="/stage2 /nspawn/nspawn /nspawn/init /nspawn/enter /nspawn/stop /nspawn/gc /bin/sh /usr/bin/sh /bin/busybox"

# assert_no_evidence: no planted program ran (none left evidence in $OUT).
assert_no_evidence() {
  local e
  for e in "$OUT"/evidence-*; do
    [[ -e $e ]] || continue
    echo "--- what the app planted (escape plant):"
    cat "$OUT/plant-report"
    echo "--- $e:"
    grep -E '^(planted|Cap|NoNewPrivs|Seccomp:|==)|^ *[0-9]+ +[0-9]+ +[0-9]+$|: opened:' "$e"
    fail "a program the app planted ran: $(head -n 1 "$e")"
  done
}

# plant_then_enter RUN_FLAGS…: the app plants over the pod's binaries through every trick
# it has; then enter, stop and gc work as ever and nothing planted ran.
plant_then_enter() {
  start_pod "$@" -- /bin/sh -c "/attack/escape plant /attack/plant $PLANT_TARGETS >/out/plant-report 2>&1
    touch /out/planted; exec sleep 60"
  wait_for_file "$OUT/planted"
  [[ $(tail -n 1 "$OUT/plant-report") == done ]] || fail "the plant did not finish: $(cat "$OUT/plant-report")"
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  # the planted program would also write to the caller's environment's evidence directory
  export PODRUN_ATTACK_EVIDENCE=$OUT
  run_podrun enter "$uuid" /bin/cat /etc/attacker-marker
  assert_no_evidence
  assert_status 0
  [[ $output == attacker-marker ]] || fail "enter did not run the command in the app"
  run_podrun enter "$uuid" </dev/null # the default command, /bin/sh (the app's own)
  assert_no_evidence
  assert_status 0
  [[ $stderr != *"PLANTED PROGRAM RAN"* ]] || fail "a planted program ran"
  end_pod
  assert_no_evidence
}

@test "security: enter, stop and gc never run what an app planted over stage2, the pod init or a shell" {
  requires nspawn
  plant_then_enter
}

@test "security: enter never runs what an app planted, with --private-users" {
  requires nspawn
  plant_then_enter --private-users
}

# ---------------------------------------------------------------------------------------
# CAP_DAC_READ_SEARCH and open_by_handle_at (the "shocker" attack on a bind mount).

# assert_no_dac_read_search: $output is `escape caps`: no process it lists has
# CAP_DAC_READ_SEARCH (bit 2) in its effective or permitted set, and no app in its
# bounding set either. The pod init (pid 1) keeps it in its bounding set only, so
# that an app that asks for it (--caps-retain) can be given it; holding it is what
# open_by_handle_at needs (Documentation/security.md).
assert_no_dac_read_search() {
  [[ ${lines[-1]} == done ]] || fail "the scan did not finish"
  local tag pid comm eff prm bnd bad=() n=0
  while read -r tag pid comm eff prm bnd; do
    [[ $tag == cap ]] || continue
    n=$((n + 1))
    [[ $pid != 1 ]] || bnd=0
    if (((16#$eff | 16#$prm | 16#$bnd) & (1 << 2))); then
      bad+=("pid $pid ($comm): CapEff $eff CapPrm $prm CapBnd $bnd")
    fi
  done <<<"$output"
  ((n > 0)) || fail "the scan saw no process"
  [[ ${#bad[@]} -eq 0 ]] || fail "CAP_DAC_READ_SEARCH in the pod:$(printf '\n  %s' "${bad[@]}")"
}

@test "security: no process an app can see holds CAP_DAC_READ_SEARCH (effective or permitted; no app in its bounding set)" {
  requires nspawn
  local users
  for users in "" --private-users; do
    run_podrun run $users podrun.test/attacker --exec=/attack/escape -- caps ---
    assert_status 0
    assert_no_dac_read_search
  done
}

# assert_handles_refused: $output is `escape handles`: every mount point, in the app's
# root and after the double chroot, refused the forged handle with EPERM.
assert_handles_refused() {
  [[ ${lines[-1]} == done ]] || fail "the attack did not finish"
  grep -qx 'handle /out [A-Z:a-z,]*' <<<"$output" || fail "the host volume /out was not tried"
  local bad
  bad=$(grep '^handle' <<<"$output" | grep -v ' EPERM$' | grep -v ' open:E[A-Z]*$') || true
  [[ -z $bad ]] || fail "open_by_handle_at was not refused:"$'\n'"$bad"
}

@test "security: open_by_handle_at with a forged handle fails with EPERM on every mount an app sees, escaped or not" {
  requires nspawn
  local flags
  # the default filter; a filter of the app's own that leaves open_by_handle_at alone
  # (the capability decides); the same in a user namespace
  for flags in "" --seccomp=mode=remove,errno=ENOSYS,keyctl "--private-users --seccomp=mode=remove,errno=ENOSYS,keyctl"; do
    run_podrun run "$(out_volume)" $flags podrun.test/attacker --mount volume=out,target=/out \
      --exec=/attack/escape -- handles ---
    assert_status 0
    assert_handles_refused
  done
}

# ---------------------------------------------------------------------------------------
# 2. `podrun enter` never has more than the app.

# assert_enter_within_app APP_REPORT ENTER_REPORT: two `privs` reports (a file, a
# string): enter's capabilities are a subset of the app's in every set; no_new_privs and
# the seccomp mode are at least the app's; identity, user namespace maps, cgroups,
# namespaces and the OOM score are the app's; every syscall denied to the app (EPERM or
# EACCES) is denied to enter.
assert_enter_within_app() {
  local -A app=() enter=()
  local k v bad=()
  while IFS='=' read -r k v; do app[$k]=$v; done <"$1"
  while IFS='=' read -r k v; do enter[$k]=$v; done <<<"$2"
  [[ ${app[end]:-} == 1 ]] || fail "the app's report is incomplete: $(cat "$1")"
  [[ ${enter[end]:-} == 1 ]] || fail "enter's report is incomplete: $2"
  for k in CapInh CapPrm CapEff CapBnd CapAmb; do
    (((16#${enter[$k]} & ~16#${app[$k]}) == 0)) || bad+=("$k: enter ${enter[$k]}, app ${app[$k]}")
  done
  ((${enter[NoNewPrivs]} >= ${app[NoNewPrivs]})) || bad+=("NoNewPrivs: enter ${enter[NoNewPrivs]}, app ${app[NoNewPrivs]}")
  ((${enter[Seccomp]} >= ${app[Seccomp]})) || bad+=("Seccomp mode: enter ${enter[Seccomp]}, app ${app[Seccomp]}")
  ((${enter[oom_score_adj]} >= ${app[oom_score_adj]})) ||
    bad+=("oom_score_adj: enter ${enter[oom_score_adj]}, app ${app[oom_score_adj]}")
  for k in uid gid groups uid_map gid_map setgroups cgroup ns.cgroup ns.ipc ns.mnt ns.net ns.pid ns.time ns.user ns.uts; do
    [[ ${enter[$k]} == "${app[$k]}" ]] || bad+=("$k: enter \"${enter[$k]}\", app \"${app[$k]}\"")
  done
  for k in $(grep -o '^sys\.[a-z_0-9]*' "$1"); do
    case ${app[$k]} in EPERM | EACCES) ;; *) continue ;; esac
    case ${enter[$k]} in EPERM | EACCES) ;; *) bad+=("$k: denied to the app (${app[$k]}), enter got ${enter[$k]:-nothing}") ;; esac
  done
  [[ ${#bad[@]} -eq 0 ]] || fail "enter has more than the app:$(printf '\n  %s' "${bad[@]}")"
}

# enter_vs_app FLAVOR FLAGS…: runs privs as the app (report to /out/app, then sleep) with
# FLAGS, enters the pod from a cgroup of its own to run privs again, and compares.
enter_vs_app() {
  local flavor=$1
  shift
  start_pod --stage1="$flavor" "$@" -- /attack/privs --out=/out/app --sleep
  wait_for_file "$OUT/app" || { cat "$BATS_TEST_TMPDIR/run.log"; return 1; }
  local uuid
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  run --separate-stderr in_new_cgroup "$PODRUN" --dir="$STORE" enter "$uuid" /attack/privs
  echo "\$ podrun enter $uuid /attack/privs (status=$status), from a new cgroup; stderr: $stderr"
  assert_status 0
  echo "--- the app's report:"
  cat "$OUT/app"
  echo "--- enter's:"
  echo "$output"
  assert_enter_within_app "$OUT/app" "$output"
  end_pod
}

@test "security: enter has no more than the app (nspawn, default)" {
  requires nspawn
  enter_vs_app nspawn
}

@test "security: enter has no more than the app (nspawn, --caps-retain)" {
  requires nspawn
  enter_vs_app nspawn --caps-retain=CAP_CHOWN,CAP_SYS_CHROOT
}

@test "security: enter has no more than the app (nspawn, --caps-remove)" {
  requires nspawn
  enter_vs_app nspawn --caps-remove=CAP_NET_BIND_SERVICE,CAP_NET_RAW,CAP_SYS_CHROOT
}

@test "security: enter has no more than the app (nspawn, --seccomp=mode=remove,errno=EACCES,socket)" {
  requires nspawn
  enter_vs_app nspawn --seccomp=mode=remove,errno=EACCES,socket
}

@test "security: enter has no more than the app (nspawn, --private-users)" {
  requires nspawn
  enter_vs_app nspawn --private-users
}

@test "security: enter has no more than the app (nspawn, --memory)" {
  requires nspawn
  enter_vs_app nspawn --memory=64M
}

@test "security: enter has no more than the app (nspawn, --user=1000)" {
  requires nspawn
  enter_vs_app nspawn --user=1000 --group=1000
}

@test "security: enter has no more than the app (nspawn, --private-users --user=1000 and a filter)" {
  requires nspawn
  enter_vs_app nspawn --private-users --user=1000 --group=1000 --seccomp=mode=remove,errno=EACCES,socket
}

@test "security: enter has no more than the app (nspawn, --insecure-options=capabilities,seccomp)" {
  requires nspawn
  enter_vs_app nspawn --insecure-options=capabilities,seccomp
}

# fly keeps every capability and the host's namespaces by design, and has no user
# namespace: what is compared is still enter against the app.
@test "security: enter has no more than the app (fly, default)" {
  enter_vs_app fly
}

@test "security: enter has no more than the app (fly, --caps-retain)" {
  enter_vs_app fly --caps-retain=CAP_CHOWN,CAP_SYS_CHROOT
}

@test "security: enter has no more than the app (fly, --seccomp=mode=remove,errno=EACCES,socket)" {
  enter_vs_app fly --seccomp=mode=remove,errno=EACCES,socket
}

@test "security: enter has no more than the app (fly, --user=1000)" {
  enter_vs_app fly --user=1000 --group=1000
}
