#!/usr/bin/env bats
# --private-users: the nspawn stage1 runs the pod in a user namespace with its own
# range of 65536 host uids and gids, the images seen through idmapped mounts so that
# their files are owned by root inside. Facts are read from inside the pod and from the
# host side of the pod directory.

load helpers

setup() {
  requires root python3 nspawn
  [[ -x "$BUILD/probe" && -f "$BUILD/stage1-nspawn.aci" ]] || fail "build the probe and stage1-nspawn first (make tests)"
  make_probe_aci
}

# shift_of UUID: the pod's first host uid, from its stage1/run-flags.
shift_of() {
  local f
  f=$(grep -h '^--private-users=' "$STORE"/pods/*/"$1"/stage1/run-flags) || return 1
  f=${f#--private-users=}
  echo "${f%%:*}"
}

@test "userns: the apps' root is the pod's first uid; the image's files are root's inside; what apps write is in the range" {
  run_podrun run --private-users --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe --exec=/bin/sh -- -c \
    'echo uid_map $(cat /proc/self/uid_map); echo gid_map $(cat /proc/self/gid_map);
     echo owners $(stat -c "%u:%g" /probe /etc/passwd /work); touch /by-root; /probe' --- \
    podrun.test/probe --name=app --user=app --group=app --exec=/bin/sh -- -c 'touch /work/by-app; echo app $(id -u)' ---
  assert_status 0
  local uuid shift
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  shift=$(shift_of "$uuid")
  [[ $shift -ge $((0x80000)) && $((shift % 65536)) -eq 0 ]] || fail "shift $shift"
  # the two apps' lines come in either order
  grep -qx "uid_map 0 $shift 65536" <<<"$output" || fail "uid_map is not 0 $shift 65536"
  grep -qx "gid_map 0 $shift 65536" <<<"$output" || fail "gid_map is not 0 $shift 65536"
  grep -qx "owners 0:0 0:0 0:0" <<<"$output" || fail "the image's files are not root's inside"
  grep -qx "app 1000" <<<"$output" || fail "the second app is not uid 1000"
  # the first app's probe: root, in a user namespace that is not the host's
  output=$(grep '^{' <<<"$output")
  [[ $(probe 'j["ns"]["user"]') != "$(readlink /proc/self/ns/user)" ]] || fail "the app shares the host's user namespace"
  [[ $(probe 'j["uid"]') == 0 ]]
  # on the host, in the apps' upper layers: shifted owners
  local pod=$STORE/pods/run/$uuid
  [[ $(stat -c '%u %g' "$pod/overlay/probe/upper/by-root") == "$shift $shift" ]]
  [[ $(stat -c '%u %g' "$pod/overlay/app/upper/work/by-app") == "$((shift + 1000)) $((shift + 1000))" ]]
  ! grep -q "$STORE/pods" /proc/self/mountinfo || fail "a pod mount leaked to the host"
}

@test "userns: the pod's root is not the host's: host files are nobody's and cannot be written; empty volumes are the app's" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  echo host >"$BATS_TEST_TMPDIR/data/f"
  chmod 644 "$BATS_TEST_TMPDIR/data/f"
  run_podrun run --private-users --uuid-file-save="$BATS_TEST_TMPDIR/uuid" \
    --volume "data,kind=host,source=$BATS_TEST_TMPDIR/data" --volume "scratch,kind=empty,uid=1000,gid=50,mode=0750" \
    podrun.test/probe --mount volume=data,target=/data --mount volume=scratch,target=/scratch --exec=/bin/sh -- -c \
    'stat -c "%u %g" /data/f /scratch; stat -c %a /scratch; echo nope >>/data/f && echo wrote; cat /data/f' ---
  assert_status 0
  [[ "${lines[0]}" == "65534 65534" ]] || fail "a host root file inside: ${lines[0]}"
  [[ "${lines[1]}" == "1000 50" && "${lines[2]}" == 750 ]]
  [[ ! " ${lines[*]} " =~ " wrote " ]] || fail "the pod's root wrote a host root file"
  [[ $(cat "$BATS_TEST_TMPDIR/data/f") == host ]]
  local uuid shift
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
  shift=$(shift_of "$uuid")
  [[ $(stat -c '%u %g' "$STORE/pods/run/$uuid/volumes/scratch") == "$((shift + 1000)) $((shift + 50))" ]]
  # the same pod without --private-users: root is the host's and writes
  run_podrun run --volume "data,kind=host,source=$BATS_TEST_TMPDIR/data" podrun.test/probe \
    --mount volume=data,target=/data --exec=/bin/sh -- -c 'stat -c "%u %g" /data/f; echo yes >>/data/f' ---
  assert_status 0
  [[ "${lines[0]}" == "0 0" ]]
}

@test "userns: every pod gets its own range; enter joins the pod's user namespace, never the host's" {
  "$PODRUN" --dir="$STORE" run --private-users --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe \
    --exec=/bin/sh -- -c 'sleep 30' --- >/dev/null 2>&1 &
  local uuid
  uuid=$(wait_pod_file "$BATS_TEST_TMPDIR/uuid" pid)
  [[ -n "$uuid" ]] || fail "the pod did not start"
  run_podrun prepare --private-users --uuid-file-save="$BATS_TEST_TMPDIR/uuid2" podrun.test/probe
  assert_status 0
  local shift shift2
  shift=$(shift_of "$uuid")
  shift2=$(shift_of "$(cat "$BATS_TEST_TMPDIR/uuid2")")
  [[ -n "$shift" && -n "$shift2" && $shift != "$shift2" ]] || fail "ranges: $shift $shift2"
  run_podrun status "$uuid"
  assert_output_contains "private-users=$shift:65536"
  run_podrun status --format=json "$uuid"
  [[ $(json_query 'j["private_users"]' <<<"$output") == "$shift:65536" ]]
  run_podrun enter "$uuid" /bin/sh -c 'cat /proc/self/uid_map; id -u; /probe'
  assert_status 0
  read -r -a map <<<"${lines[0]}"
  [[ "${map[*]}" == "0 $shift 65536" ]] || fail "enter's uid_map: ${lines[0]}"
  [[ "${lines[1]}" == 0 ]]
  output=${lines[2]}
  [[ $(probe 'j["ns"]["user"]') != "$(readlink /proc/self/ns/user)" ]]
  run_podrun stop "$uuid"
  assert_status 0
  run_podrun status --wait=10s "$uuid"
  assert_status 0
  run_podrun rm "$(cat "$BATS_TEST_TMPDIR/uuid2")"
  assert_status 0
}

@test "userns: resource limits still apply; export gives the image's owners back; gc leaves nothing mounted" {
  local uuid
  if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
    run_podrun run --private-users podrun.test/probe --memory=64M
    assert_status 254
    assert_stderr_contains "not on cgroup v2 yet"
  else
    run_podrun run --private-users --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe --memory=64M \
      --exec=/bin/sh -- -c 'grep memory /proc/self/cgroup' ---
    assert_status 0
    uuid=$(cat "$BATS_TEST_TMPDIR/uuid")
    [[ "${lines[0]}" == *"podrun/$uuid/probe" ]] || fail "the app is not in its memory cgroup: ${lines[0]}"
  fi
  run_podrun run --private-users --uuid-file-save="$BATS_TEST_TMPDIR/uuid3" podrun.test/probe --user=app --group=app \
    --exec=/bin/sh -- -c 'touch /work/mine' ---
  assert_status 0
  uuid=$(cat "$BATS_TEST_TMPDIR/uuid3")
  run_podrun export "$uuid" "$BATS_TEST_TMPDIR/out.aci"
  assert_status 0
  run bsdtar -tvf "$BATS_TEST_TMPDIR/out.aci"
  grep -Eq '^-[rwx-]+ +[0-9]+ +1000 +1000 .* rootfs/work/mine$' <<<"$output" || fail "exported: $output"
  grep -Eq '^-[rwx-]+ +[0-9]+ +0 +0 .* rootfs/probe$' <<<"$output" || fail "exported: $output"
  run_podrun gc --grace-period=0
  assert_status 0
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2) ]] || fail "gc left pods"
  ! grep -q "$STORE" /proc/self/mountinfo || fail "a mount leaked"
}

@test "userns: fly refuses --private-users; a bad range in the run flags is refused" {
  # refused before any pod exists, as fly's annotations say (fly itself refuses it too: fly.bats)
  run_podrun run --stage1=fly --private-users podrun.test/probe
  assert_one_line_error '--private-users: not supported by stage1 "podrun.io/stage1-fly"'
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2 2>/dev/null) ]] || fail "a refused run left a pod"
  # a pod whose run-flags were tampered with: the range is checked, not trusted
  run_podrun prepare --private-users --uuid-file-save="$BATS_TEST_TMPDIR/uuid" podrun.test/probe
  assert_status 0
  local flags
  flags=$STORE/pods/prepared/$(cat "$BATS_TEST_TMPDIR/uuid")/stage1/run-flags
  sed -i 's/^--private-users=.*/--private-users=0:65536/' "$flags"
  run_podrun run-prepared "$(cat "$BATS_TEST_TMPDIR/uuid")"
  assert_status 254
  assert_stderr_contains "--private-users=0:65536"
}
