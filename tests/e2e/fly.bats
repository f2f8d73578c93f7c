#!/usr/bin/env bats
# The fly stage1 (chroot only, one app) with stage2, asserted from inside the app by
# the probe ($BUILD/probe, see tests/probe/probe.c), which prints what it sees as JSON.

load helpers

setup() {
  requires root python3
  [[ -x "$BUILD/probe" && -f "$BUILD/stage1-fly.aci" ]] || fail "build the probe and stage1-fly first (make tests)"
  make_probe_aci
}

@test "fly: the app's exit code is podrun's, and status records it" {
  run_podrun run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe -- exit 7
  assert_status 7
  run_podrun status "$(cat "$BATS_TEST_TMPDIR/uuid")"
  assert_output_contains "app-probe=7"
}

@test "fly: user and group by name from the image, supplementary gids, working dir, environment" {
  export PODRUN_TEST_HOST_VAR=leaked
  run_podrun run --stage1=fly podrun.test/probe --user=app --group=staff --supplementary-gids=7,8 \
    --working-dir=/work --set-env=GREETING=hello
  assert_status 0
  [[ $(probe 'j["uid"]') == 1000 ]]
  [[ $(probe 'j["gid"]') == 50 ]]
  [[ $(probe 'j["groups"]') == "[7, 8]" ]]
  [[ $(probe 'j["cwd"]') == /work ]]
  [[ $(probe 'j["env"]["GREETING"]') == hello ]]
  [[ $(probe 'j["env"]["AC_APP_NAME"]') == probe ]]
  [[ $(probe '"PODRUN_TEST_HOST_VAR" in j["env"]') == false ]]
}

@test "fly: the app sees its own rootfs, the host's pid namespace, and keeps its capabilities" {
  run_podrun run --stage1=fly podrun.test/probe --exec=/bin/sh -- -c 'cat /etc/image-marker; /probe' ---
  assert_status 0
  [[ "${lines[0]}" == "only in the image" ]]
  output=${lines[1]}
  [[ $(probe 'j["ns"]["pid"]') == "$(readlink /proc/self/ns/pid)" ]]
  [[ $(probe 'j["ns"]["mnt"]') != "$(readlink /proc/self/ns/mnt)" ]]
  [[ $(probe 'j["CapBnd"]') == "$(awk '/^CapBnd/ {print $2}' /proc/self/status)" ]]
}

@test "fly: capability and no-new-privileges isolators are applied" {
  cat >"$BATS_TEST_TMPDIR/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "apps": [{"name": "probe", "image": {"name": "podrun.test/probe", "id": "$(podrun image list --full --no-legend | awk '/probe/ {print $1}')"},
   "app": {"exec": ["/probe"], "user": "0", "group": "0", "isolators": [
     {"name": "os/linux/capabilities-retain-set", "value": {"set": ["CAP_NET_BIND_SERVICE"]}},
     {"name": "os/linux/no-new-privileges", "value": true}]}}]}
JSON
  run_podrun run --stage1=fly --pod-manifest="$BATS_TEST_TMPDIR/pod.json"
  assert_status 0
  [[ $(probe 'j["CapEff"]') == 0000000000000400 ]]
  [[ $(probe 'j["CapBnd"]') == 0000000000000400 ]]
  [[ $(probe 'j["no_new_privs"]') == 1 ]]
}

@test "fly: host volumes, read-only volumes and empty volumes" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  run_podrun run --stage1=fly --volume "data,kind=host,source=$BATS_TEST_TMPDIR/data" \
    --volume "ro,kind=host,source=$BATS_TEST_TMPDIR/data,readOnly=true" --volume "scratch,kind=empty,mode=0700" \
    podrun.test/probe --mount volume=data,target=/data --mount volume=ro,target=/ro \
    --mount volume=scratch,target=/scratch --exec=/bin/sh -- -c \
    'echo written >/data/f && cat /ro/f && ! echo x 2>/dev/null >/ro/g && /probe try-mkdir /ro/d' ---
  assert_status 0
  [[ $(cat "$BATS_TEST_TMPDIR/data/f") == written ]]
  [[ "${lines[0]}" == written ]]
  output=${lines[1]}
  [[ $(probe 'j["try_errno"]') == 30 ]] # EROFS
  ! grep -q "$STORE/pods" /proc/self/mountinfo
}

@test "fly: --readonly-rootfs makes the root read-only but not the volumes; a non-root app can use /" {
  mkdir "$BATS_TEST_TMPDIR/data"
  run_podrun run --stage1=fly --volume "data,kind=host,source=$BATS_TEST_TMPDIR/data" podrun.test/probe \
    --readonly-rootfs --mount volume=data,target=/data --exec=/bin/sh -- -c \
    'touch /new 2>&1; echo w >/data/w && echo volume-ok' ---
  assert_status 0
  assert_output_contains "Read-only file system"
  assert_output_contains "volume-ok"
  [[ $(cat "$BATS_TEST_TMPDIR/data/w") == w ]]
  # the overlay's root keeps the image's mode and owner, not the pod directory's
  run_podrun run --stage1=fly podrun.test/probe --user=app --exec=/bin/busybox -- stat -c '%a %u' / ---
  assert_status 0
  [[ "$output" == "$(stat -c '%a %u' "$BATS_TEST_TMPDIR/proot")" ]]
}

@test "fly: --ulimit sets the app's resource limits (every app's, then its own); bad ones are refused" {
  run_podrun run --stage1=fly --ulimit=nofile=100:200 podrun.test/probe --ulimit=core=0 \
    --ulimit=nofile=150 --exec=/bin/sh -- -c 'ulimit -Sn; ulimit -Hn; ulimit -c' ---
  assert_status 0
  [[ "${lines[*]}" == "150 150 0" ]]
  local pods_before
  pods_before=$(ls "$STORE/pods/run" | wc -l)
  run_podrun run --stage1=fly podrun.test/probe --ulimit=nofile=300:200
  assert_one_line_error "--ulimit" "soft limit is above the hard one"
  run_podrun run --stage1=fly podrun.test/probe --ulimit=stack=abc
  assert_one_line_error "--ulimit" "numbers or \"unlimited\""
  run_podrun run --stage1=fly podrun.test/probe --ulimit=bogus=1
  assert_one_line_error 'unknown resource "bogus"'
  [[ $(ls "$STORE/pods/run" | wc -l) -eq $pods_before && -z $(ls "$STORE/pods/prepared" 2>/dev/null) ]] ||
    fail "a refused run left a pod"
}

@test "fly: a rebuilt bundled stage1 of the same version is imported again, an untouched one is not" {
  local sys=$BATS_TEST_TMPDIR/sys
  mkdir "$sys"
  cp "$BUILD/stage1-fly.aci" "$sys/stage1-fly.aci"
  run_podrun --system-config="$sys" run --stage1=fly podrun.test/probe -- exit 0
  assert_status 0
  run_podrun --system-config="$sys" run --stage1=fly podrun.test/probe -- exit 0
  assert_status 0
  run_podrun image list --no-legend
  [[ $(grep -c stage1-fly <<<"$output") -eq 1 ]]
  # the same stage1 with one byte more in its manifest: a different image, same name and version
  local stage=$BATS_TEST_TMPDIR/s1
  mkdir "$stage"
  tar -xf "$BUILD/stage1-fly.aci" -C "$stage"
  echo " " >>"$stage/manifest"
  tar -cf "$sys/stage1-fly.aci" -C "$stage" manifest rootfs
  run_podrun --system-config="$sys" run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    podrun.test/probe -- exit 0
  assert_status 0
  run_podrun image list --no-legend
  [[ $(grep -c stage1-fly <<<"$output") -eq 2 ]]
  [[ $(cat "$STORE/pods/run/$(cat "$BATS_TEST_TMPDIR/uuid")/stage1/image-id") == \
     "$(aci_id "$sys/stage1-fly.aci")" ]]
}

@test "fly: image gc and image rm keep the images a pod on disk uses, until gc removes the pod" {
  run_podrun run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe -- exit 0
  assert_status 0
  local uuid probe_id
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  probe_id=$(cat "$STORE/pods/run/$uuid/apps/probe/image-id")
  run_podrun image rm podrun.test/probe
  assert_one_line_error "used by pod $uuid"
  run_podrun image gc --grace-period=0
  assert_status 0
  [[ "$output" != *"removed image"* ]] || fail "image gc removed an image a pod uses"
  run_podrun image list --no-legend
  [[ $(wc -l <<<"$output") -eq 2 ]] # the probe and the stage1
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
  run_podrun image gc --grace-period=0
  assert_output_contains "removed image $probe_id"
  run_podrun image list --no-legend
  [[ -z "$output" ]]
}

@test "fly: a volume target through a symlink out of the rootfs is refused" {
  local root=$BATS_TEST_TMPDIR/evilroot
  mkdir -p "$root/bin" "$BATS_TEST_TMPDIR/outside"
  cp /bin/busybox "$root/bin/sh"
  ln -s "$BATS_TEST_TMPDIR/outside" "$root/escape"
  make_aci "$BATS_TEST_TMPDIR/evil.aci" \
    "$(aci_manifest podrun.test/evil 1.0 '"app": {"exec": ["/bin/sh"], "user": "0", "group": "0"}')" "$root"
  fetch_ok "$BATS_TEST_TMPDIR/evil.aci"
  mkdir -p "$BATS_TEST_TMPDIR/src"
  run_podrun run --stage1=fly --volume "v,kind=host,source=$BATS_TEST_TMPDIR/src" podrun.test/evil \
    --mount volume=v,target=/escape/x
  assert_status 254
  [[ "$stderr" == "podrun-stage1: "*"mount target"* ]]
  [[ -z $(ls "$BATS_TEST_TMPDIR/outside") ]]
}

@test "fly: two apps are refused with a clear message" {
  run_podrun run --stage1=fly podrun.test/probe podrun.test/probe --name=second
  assert_status 254
  [[ "$stderr" == *"exactly one app"* ]]
}

@test "fly: enter runs in the app's root with its identity; stop ends the pod" {
  "$PODRUN" --dir="$STORE" run --stage1=fly --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe \
    --user=app --group=app -- sleep 30 &
  local uuid=
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  run_podrun enter "$uuid" /probe
  assert_status 0
  [[ $(probe 'j["uid"]') == 1000 ]]
  run_podrun enter "$uuid" /bin/sh -c 'cat /etc/image-marker; exit 4'
  assert_status 4
  assert_output_contains "only in the image"
  run_podrun enter --uuid-file="$BATS_TEST_TMPDIR/uuid" /bin/sh -c 'exit 6'
  assert_status 6
  run_podrun stop "$uuid"
  assert_status 0
  run_podrun status --wait=10s "$uuid"
  assert_output_contains "app-probe=143"
  wait || true
  run_podrun gc --grace-period=0
  assert_output_contains "removed pod $uuid"
  ! grep -q "$STORE/pods" /proc/self/mountinfo
}
