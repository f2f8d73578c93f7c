#!/usr/bin/env bats
# What only the fly stage1 (chroot only, one app, the host's namespaces) does, or
# refuses. What fly and nspawn both do is tested against both in pods.bats.

load helpers

setup() {
  requires root python3
  [[ -x "$BUILD/probe" && -f "$BUILD/stage1-fly.aci" ]] || fail "build the probe and stage1-fly first (make tests)"
  make_probe_aci
}

@test "fly: two apps are refused with a clear message, before any pod exists" {
  run_podrun run --stage1=fly podrun.test/probe podrun.test/probe --name=second
  assert_one_line_error 'stage1 "podrun.io/stage1-fly" runs at most 1 app (podrun/stage1/max-apps); this pod has 2'
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2 2>/dev/null) ]] || fail "a pod was left"
}

@test "fly: logs says that fly keeps none" {
  run_podrun run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe
  assert_status 0
  run_podrun logs "$(cat "$BATS_TEST_TMPDIR/uuid")"
  assert_one_line_error "keeps no logs"
}

@test "fly: the host's network and /etc files: --net other than host, --dns*, --hosts-entry and --private-users are refused, --hostname ignored" {
  local flag uuid
  # stage0 refuses them, as fly's annotations say (cli.bats), before any pod exists; fly
  # itself still does, for a pod whose flags say otherwise (its stage1/run-flags edited)
  for flag in --net=none --net=default; do
    run_podrun run --stage1=fly "$flag" podrun.test/probe
    assert_one_line_error "$flag: not a network of stage1 \"podrun.io/stage1-fly\" (it has host)"
    run_podrun prepare --stage1=fly podrun.test/probe
    uuid=$output
    echo "$flag" >>"$STORE/pods/prepared/$uuid/stage1/run-flags"
    run_podrun run-prepared "$uuid"
    assert_status 254
    assert_stderr_contains "$flag: the fly stage1 always uses the host's network"
  done
  for flag in --dns=192.0.2.53 --dns-search=example.com --dns-opt=ndots:2 --hosts-entry=192.0.2.10=db.local; do
    run_podrun run --stage1=fly "$flag" podrun.test/probe
    assert_one_line_error "$flag: not supported by stage1 \"podrun.io/stage1-fly\""
    run_podrun prepare --stage1=fly podrun.test/probe
    uuid=$output
    echo "$flag" >>"$STORE/pods/prepared/$uuid/stage1/run-flags"
    run_podrun run-prepared "$uuid"
    assert_status 254
    assert_stderr_contains "$flag: the fly stage1 shares the host's network and its /etc files"
  done
  run_podrun prepare --stage1=fly podrun.test/probe
  uuid=$output
  echo "--private-users=524288:65536" >>"$STORE/pods/prepared/$uuid/stage1/run-flags"
  run_podrun run-prepared "$uuid"
  assert_status 254
  assert_stderr_contains "--private-users: the fly stage1 has no user namespace"
  run_podrun run --stage1=fly --net=host --hostname=box podrun.test/probe
  assert_status 0
  assert_stderr_contains "--hostname=box ignored: the fly stage1 shares the host's UTS namespace"
  [[ $(probe 'j["hostname"]') == "$(cat /proc/sys/kernel/hostname)" ]]
}

@test "fly: resource limits and event handlers are ignored with a warning, not silently" {
  run_podrun run --stage1=fly podrun.test/probe --memory=64M
  assert_status 0
  assert_stderr_contains "--memory, --cpu and --cpu-shares are ignored"
}

# On nspawn no_new_privs is always 1: the default seccomp filter needs it (libseccomp
# sets it when it loads a filter). fly has no default filter, so only fly shows what
# the isolator itself does.
@test "fly: the os/linux/no-new-privileges isolator: true sets no_new_privs, false and none leave it unset" {
  local value want
  for value in true false none; do
    nnp_pod_manifest "$value"
    run_podrun run --stage1=fly --pod-manifest="$BATS_TEST_TMPDIR/pod.json"
    assert_status 0
    want=0
    [[ $value != true ]] || want=1
    [[ $(probe 'j["no_new_privs"]') == "$want" ]] || fail "isolator $value: no_new_privs is $(probe 'j["no_new_privs"]')"
    [[ $(probe 'j["NoNewPrivs"]') == "$want" ]] || fail "isolator $value: NoNewPrivs is $(probe 'j["NoNewPrivs"]')"
  done
}

@test "fly: a Type=notify service's NOTIFY_SOCKET and socket activation's LISTEN_FDS are refused with one line, nothing left" {
  fetch_busybox
  run --separate-stderr env NOTIFY_SOCKET=/run/nonexistent "$PODRUN" --dir="$STORE" run --stage1=fly podrun.test/busybox --exec=/bin/true
  assert_one_line_error "NOTIFY_SOCKET" "fly"
  # LISTEN_PID is podrun's own: sh execs it
  run --separate-stderr sh -c 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"' sh "$PODRUN" --dir="$STORE" run --stage1=fly \
    podrun.test/busybox --exec=/bin/true 3</dev/null
  assert_one_line_error "LISTEN_FDS=1" "fly"
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2) ]] || fail "a pod was left: $(ls -R "$STORE/pods")"
}
