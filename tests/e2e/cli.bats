#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The command line: help, version, flags, errors.

load helpers

# help_commands HELP_TEXT: the names listed under "Commands:" in a help text.
help_commands() {
  awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' <<<"$1"
}

EXPECTED_VERBS="fetch image version help"
EXPECTED_IMAGE_VERBS="list rm cat-manifest export extract render gc"

@test "podrun help lists every verb" {
  run_podrun help
  assert_status 0
  [[ "${lines[0]}" == "Usage: podrun "* ]] || fail "no usage line"
  local verbs v
  verbs=$(help_commands "$output")
  echo "verbs: $verbs"
  for v in $EXPECTED_VERBS; do
    grep -qx "$v" <<<"$verbs" || fail "podrun help does not list \"$v\""
  done
  # Without arguments, podrun prints the same help.
  local help=$output
  run_podrun
  assert_status 0
  [[ "$output" == "$help" ]] || fail "'podrun' and 'podrun help' differ"
}

@test "every verb in podrun help answers --help with a usage line" {
  run_podrun help
  assert_status 0
  local verbs v n=0
  verbs=$(help_commands "$output")
  [[ -n "$verbs" ]] || fail "no verbs parsed from podrun help"
  for v in $verbs; do
    run_podrun "$v" --help
    assert_status 0
    [[ "${lines[0]}" == "Usage: podrun $v"* ]] || fail "'podrun $v --help' has no usage line"
    [[ -z "$stderr" ]] || fail "'podrun $v --help' wrote to stderr"
    # "podrun help VERB" says the same.
    local h=$output
    run_podrun help "$v"
    assert_status 0
    [[ "$output" == "$h" ]] || fail "'podrun help $v' differs from 'podrun $v --help'"
    n=$((n + 1))
  done
  [[ $n -ge 4 ]]
}

@test "podrun help image lists the image subverbs and each answers --help" {
  run_podrun help image
  assert_status 0
  local subs s
  subs=$(help_commands "$output")
  echo "image subverbs: $subs"
  for s in $EXPECTED_IMAGE_VERBS; do
    grep -qx "$s" <<<"$subs" || fail "podrun help image does not list \"$s\""
  done
  for s in $subs; do
    run_podrun image "$s" --help
    assert_status 0
    [[ "${lines[0]}" == "Usage: podrun image $s"* ]] || fail "'podrun image $s --help' has no usage line"
    run_podrun help image "$s"
    assert_status 0
    [[ "${lines[0]}" == "Usage: podrun image $s"* ]] || fail "'podrun help image $s' has no usage line"
  done
}

@test "podrun version prints the version" {
  run_podrun version
  assert_status 0
  [[ "${lines[0]}" =~ ^podrun\ Version:\ [0-9]+\.[0-9]+ ]] || fail "first line is not 'podrun Version: X.Y…'"
}

@test "an unknown verb exits 254 with one error line naming it" {
  run_podrun frobnicate
  assert_one_line_error frobnicate
  [[ -z "$output" ]] || fail "stdout is not empty"
  run_podrun image frobnicate
  assert_one_line_error frobnicate
  run_podrun help frobnicate
  assert_one_line_error frobnicate
}

@test "an unknown flag exits 254 with one error line naming it" {
  run_podrun --no-such-flag image list
  assert_one_line_error no-such-flag
  run_podrun image list --no-such-flag
  assert_one_line_error no-such-flag
  run_podrun fetch --frob=1 x.aci
  assert_one_line_error frob
}

@test "a missing argument exits 254 with one error line" {
  run_podrun image cat-manifest
  assert_one_line_error
  run_podrun image export "$BUSYBOX_NAME"
  assert_one_line_error
  run_podrun fetch
  assert_one_line_error
}

@test "a bad flag value exits 254 with one error line naming the flag" {
  run_podrun image gc --grace-period=soon
  assert_one_line_error grace-period
  run_podrun image list --format=yaml
  assert_one_line_error yaml
  run_podrun --insecure-options=everything image list
  assert_one_line_error everything
}

@test "global flags are accepted before and after the verb" {
  fetch_busybox
  local other=$BATS_TEST_TMPDIR/other
  # Before the verb: the explicit --dir is the store listed.
  run --separate-stderr "$PODRUN" --dir="$STORE" image list --no-legend
  echo "before: $output $stderr"
  [[ $status -eq 0 ]]
  [[ "$output" == *"$BUSYBOX_NAME"* ]] || fail "--dir before the verb ignored"
  # After the verb.
  run --separate-stderr "$PODRUN" image list --no-legend --dir="$STORE"
  echo "after: $output $stderr"
  [[ $status -eq 0 ]]
  [[ "$output" == *"$BUSYBOX_NAME"* ]] || fail "--dir after the verb ignored"
  # In between, with a separate value, and a second --dir wins.
  run --separate-stderr "$PODRUN" image --dir "$other" list --no-legend
  echo "other: $output $stderr"
  [[ $status -eq 0 ]]
  [[ -z "$output" ]] || fail "--dir DIR (separate value) ignored"
  run --separate-stderr "$PODRUN" --dir="$other" --debug image list --no-legend --dir="$STORE"
  [[ $status -eq 0 ]]
  [[ "$output" == *"$BUSYBOX_NAME"* ]] || fail "the last --dir does not win"
  # --insecure-options after the verb too.
  rm -rf "$other"
  run --separate-stderr "$PODRUN" fetch "$BUSYBOX_ACI" --insecure-options=image --dir="$other"
  [[ $status -eq 0 ]] || fail "fetch with global flags after the verb failed: $stderr"
  [[ "$output" == "$BUSYBOX_ID" ]]
}

@test "read-only verbs on a store that does not exist see an empty one and create nothing" {
  run_podrun image list --no-legend
  assert_status 0
  [[ -z "$output" ]]
  run_podrun image cat-manifest "$BUSYBOX_NAME"
  assert_one_line_error "$BUSYBOX_NAME"
  [[ ! -e "$STORE" ]] || fail "a read-only verb created $STORE"
}

# run_big ARGS…: run_podrun for arguments too long to echo: echoes status and stderr only.
run_big() {
  run --separate-stderr podrun "$@"
  echo "\$ podrun ${1:0:40}… (status=$status)"
  [[ -z "$stderr" ]] || printf '%s\n' "${stderr:0:2000}" | sed 's/^/  stderr: /'
  return 0
}

# no_pods: the test's store holds no pod in any state.
no_pods() {
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2 2>/dev/null) ]] || fail "a pod was left: $(ls -R "$STORE/pods")"
}

# no_pods_but UUID: the one pod in the store is UUID.
no_pods_but() {
  [[ $(find "$STORE/pods" -mindepth 2 -maxdepth 2 -printf '%f\n' 2>/dev/null) == "$1" ]] ||
    fail "pods other than $1: $(ls -R "$STORE/pods")"
}

@test "--dir, --local-config and --system-config: empty or not a directory is refused; a relative one works" {
  local flag verb
  for flag in dir local-config system-config; do
    for verb in list "image list" gc; do
      # shellcheck disable=SC2086
      run --separate-stderr "$PODRUN" --$flag= $verb
      assert_one_line_error "--$flag=" "empty"
      # shellcheck disable=SC2086
      run --separate-stderr "$PODRUN" --$flag=/etc/passwd $verb
      assert_one_line_error "--$flag=/etc/passwd" "not a directory"
    done
  done
  [[ ! -e /pods ]] || fail "an empty --dir made /pods"
  # relative: from the current directory, also once the stage1 runs from the pod's
  fetch_busybox
  cd "$BATS_TEST_TMPDIR"
  run --separate-stderr "$PODRUN" --dir=store run --stage1=fly "$BUSYBOX_NAME"
  [[ $status -eq 0 && "$output" == "Hello from busybox in podrun" ]] || fail "relative --dir: $status $stderr"
}

@test "numbers and durations are decimal: hex, exponents, signs and blanks are refused with one line" {
  fetch_busybox
  local v
  for v in 0x10s 1e3s +5s " 5s" infh; do
    run_podrun gc --grace-period="$v"
    assert_one_line_error "grace-period" "is not a duration"
    run_podrun image gc --grace-period="$v"
    assert_one_line_error "grace-period" "is not a duration"
  done
  run_podrun status --wait=0x1s 0
  assert_one_line_error "--wait" "0x1s"
  for v in 0x10M 1e3 " 5M" +5M; do
    run_podrun run --stage1=fly "$BUSYBOX_NAME" --memory="$v"
    assert_one_line_error "--memory" "is not a memory size"
  done
  run_podrun run --stage1=fly "$BUSYBOX_NAME" --cpu=0x1
  assert_one_line_error "--cpu" "is not a CPU amount"
  run_podrun run --stage1=fly "$BUSYBOX_NAME" --cpu-shares=0x10
  assert_one_line_error "--cpu-shares=0x10"
  run_podrun run --stage1=fly "$BUSYBOX_NAME" --oom-score-adj=+5
  assert_one_line_error "--oom-score-adj=+5"
  run_podrun run --stage1=fly "$BUSYBOX_NAME" --ulimit="nofile= 5"
  assert_one_line_error "--ulimit"
  run_podrun run --stage1=fly "$BUSYBOX_NAME" --supplementary-gids=+1
  assert_one_line_error "supplementary-gids"
  run_podrun run --stage1=fly --volume "v,kind=empty,uid=0x1" "$BUSYBOX_NAME"
  assert_one_line_error "uid must be a number"
  no_pods
}

@test "what can never run is refused when given, with one line: a too long image or app name, an empty pod, a pod manifest over 1 MiB" {
  fetch_busybox
  local long root=$BATS_TEST_TMPDIR/root args
  long=$(printf 'a%.0s' $(seq 201))
  mkdir -p "$root"
  make_aci "$BATS_TEST_TMPDIR/long.aci" "$(aci_manifest "podrun.test/$long")" "$root"
  run_podrun --insecure-options=image fetch "$BATS_TEST_TMPDIR/long.aci"
  assert_one_line_error "longer than the 200 bytes"
  make_aci "$BATS_TEST_TMPDIR/long-ok.aci" "$(aci_manifest "podrun.test/${long:1}")" "$root"
  fetch_ok "$BATS_TEST_TMPDIR/long-ok.aci" # 200: the longest app name a pod's files can take
  run_podrun run --stage1=fly "$BUSYBOX_NAME" --name="$long"
  assert_one_line_error "apps[0].name" "longer than the 200 bytes"
  # a pod of no app
  printf '{"acKind": "PodManifest", "acVersion": "0.8.11", "apps": []}\n' >"$BATS_TEST_TMPDIR/empty.json"
  run_podrun run --stage1=fly --pod-manifest="$BATS_TEST_TMPDIR/empty.json"
  assert_one_line_error "--pod-manifest" '"apps" is empty'
  # a pod manifest larger than what podrun reads back: 100,000 arguments, an image of 30,000 labels
  mapfile -t args < <(seq 100000)
  run_big run --stage1=fly "$BUSYBOX_NAME" --exec=/bin/true -- "${args[@]}" ---
  assert_one_line_error "pod manifest" "more than podrun's limit of 1048576"
  printf '{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "podrun.test/labels", "labels": [%s, %s]}\n' \
    "{\"name\": \"os\", \"value\": \"linux\"}, {\"name\": \"arch\", \"value\": \"$ACI_ARCH\"}" \
    "$(seq -f '{"name": "l%g", "value": "v"}' 30000 | paste -sd,)" >"$BATS_TEST_TMPDIR/labels.json"
  make_aci "$BATS_TEST_TMPDIR/labels.aci" "$BATS_TEST_TMPDIR/labels.json" "$root"
  fetch_ok "$BATS_TEST_TMPDIR/labels.aci"
  run_podrun run --stage1=fly podrun.test/labels --exec=/bin/true
  assert_one_line_error "pod manifest" "more than podrun's limit of 1048576"
  no_pods
}

@test "a flag the chosen stage1 does not support is refused before any pod exists, with one line" {
  fetch_busybox
  local b=$BUSYBOX_NAME
  # nspawn takes every CNI network, but only one that exists (net.bats: every other refusal)
  run_podrun --local-config="$BATS_TEST_TMPDIR" run --net=nosuch "$b"
  assert_one_line_error '--net=nosuch: no network "nosuch" in' "built in: default, default-restricted"
  run_podrun --local-config="$BATS_TEST_TMPDIR" prepare --net=all "$b"
  assert_one_line_error "--net=all: there is no network in"
  [[ -z $output ]] || fail "prepare printed a UUID: $output"
  # fly: the host's network, namespaces and /etc files, one app; no CNI network
  run_podrun run --stage1=fly --net=default "$b"
  assert_one_line_error '--net=default: not a network of stage1 "podrun.io/stage1-fly" (it has host)'
  run_podrun prepare --stage1=fly --net=all "$b"
  assert_one_line_error '--net=all: not a network of stage1 "podrun.io/stage1-fly" (it has host)'
  [[ -z $output ]] || fail "prepare printed a UUID: $output"
  run_podrun run --stage1=fly --net=none "$b"
  assert_one_line_error '--net=none: not a network of stage1 "podrun.io/stage1-fly" (it has host)'
  run_podrun run --stage1=fly --private-users "$b"
  assert_one_line_error "--private-users: not supported by stage1" "supports-private-users"
  local flag
  for flag in --dns=192.0.2.53 --dns-search=example.com --dns-opt=ndots:2 --hosts-entry=192.0.2.10=db.local; do
    run_podrun run --stage1=fly "$flag" "$b"
    assert_one_line_error "$flag: not supported by stage1 \"podrun.io/stage1-fly\""
  done
  run_podrun prepare --stage1=fly "$b" "$b" --name=second
  assert_one_line_error 'stage1 "podrun.io/stage1-fly" runs at most 1 app' "this pod has 2"
  # --interactive gives the terminal to one app, whatever the stage1
  run_podrun prepare --interactive "$b" "$b" --name=second
  assert_one_line_error "--interactive gives the terminal to one app; this pod has 2"
  no_pods
  # overlayfs cannot take a --dir with ':' in it
  local colon=$BATS_TEST_TMPDIR/a:b
  run "$PODRUN" --dir="$colon" --insecure-options=image run --stage1=fly "$BUSYBOX_ACI"
  echo "$output"
  [[ $status -eq 254 && $output == *"--dir=$colon: pods cannot run below a path with ':'"* ]]
  [[ -z $(find "$colon/pods" -mindepth 2 -maxdepth 2 2>/dev/null) ]] || fail "a pod was left: $(ls -R "$colon/pods")"
}

@test "--net alone is rkt's default network, and never takes the next word for its value" {
  fetch_busybox
  run_podrun prepare --net "$BUSYBOX_NAME"
  assert_status 0
  grep -qx -- "--net=default" "$STORE/pods/prepared/$output/stage1/run-flags" ||
    fail "prepare --net: $(cat "$STORE/pods/prepared/$output/stage1/run-flags")"
  run_podrun rm "$output"
  assert_status 0
  run_podrun prepare --stage1=fly --net "$BUSYBOX_NAME" --exec=/bin/true
  assert_one_line_error "--net=default: not a network of stage1 \"podrun.io/stage1-fly\""
  run_podrun prepare --stage1=fly --net=host "$BUSYBOX_NAME"
  assert_status 0
  no_pods_but "$output"
}

@test "every boolean form is taken where a flag takes a boolean: status --wait=false, --no-legend=off, readOnly=yes" {
  fetch_busybox
  local uuid v
  run_podrun prepare --stage1=fly "$BUSYBOX_NAME"
  assert_status 0
  uuid=$output
  for v in false no off 0 FALSE n f; do
    run_podrun status --wait="$v" "$uuid"
    assert_status 0
    assert_output_contains "state=prepared"
  done
  run_podrun status --wait=maybe "$uuid"
  assert_one_line_error "--wait=maybe: not true, false or a duration"
  for v in true yes on 1 TRUE y t; do
    run_podrun list --no-legend="$v"
    assert_status 0
    [[ $output != *UUID* ]] || fail "--no-legend=$v printed the legend"
  done
  run_podrun list --no-legend=off
  assert_status 0
  assert_output_contains UUID
  run_podrun list --no-legend=maybe
  assert_one_line_error "--no-legend" '"maybe" is not a boolean'
  run_podrun prepare --stage1=fly --volume="v,kind=host,source=/tmp,readOnly=yes,recursive=off" "$BUSYBOX_NAME" \
    --mount=volume=v,target=/v
  assert_status 0
  run_podrun cat-manifest "$output"
  [[ $(json_query '[(v["readOnly"], v["recursive"]) for v in j["volumes"]]' <<<"$output") == '[[true, false]]' ]]
}

@test "logs and enter of a prepared pod say it is prepared, not running" {
  fetch_busybox
  run_podrun prepare "$BUSYBOX_NAME"
  assert_status 0
  local uuid=$output
  run_podrun logs "$uuid"
  assert_one_line_error "pod $uuid is prepared, not running"
  run_podrun enter "$uuid" /bin/true
  assert_one_line_error "pod $uuid is prepared, not running"
  run_podrun stop "$uuid"
  assert_one_line_error "pod $uuid is prepared, not running"
}

@test "--stage1 offers the flavors there are: nspawn, fly and kvm, and takes no other" {
  fetch_busybox
  local verb
  for verb in run prepare; do
    run_podrun "$verb" --help
    assert_status 0
    assert_output_contains "--stage1=FLAVOR"
    assert_output_contains "nspawn, fly or kvm"
    run_podrun "$verb" --stage1=qemu "$BUSYBOX_NAME"
    assert_one_line_error '--stage1=qemu: not a bundled flavor (nspawn, fly or kvm)'
  done
  no_pods
}

@test "image references that cannot be fetched get one message per kind, the same from fetch, run and prepare" {
  fetch_busybox
  local ref verb msg
  # (docker:// is fetched: docker.bats; https:// and names by appc discovery: https.bats)
  declare -A want=(
    [ftp://example.com/x.aci]='ftp:// is not a kind of image reference'
    [sha512-0123]='not found in the store'
  )
  for ref in "${!want[@]}"; do
    msg=
    for verb in fetch run prepare; do
      run_podrun --insecure-options=image "$verb" "$ref"
      assert_one_line_error "image \"$ref\": ${want[$ref]}"
      [[ -z $msg || $msg == "$stderr" ]] || fail "$verb says \"$stderr\", fetch said \"$msg\""
      msg=$stderr
    done
  done
  # a path that is not there is a missing file, not an image name
  run_podrun run ./no-such.aci
  assert_one_line_error 'image "./no-such.aci": No such file or directory'
  # a name the store has: fetch has nothing to do, and says which image it is
  run_podrun fetch "$BUSYBOX_NAME"
  assert_status 0
  [[ $output == "$BUSYBOX_ID" ]]
  no_pods
}

@test "errors quote what the user gave: control characters escaped, long strings cut; no stale errno" {
  run_podrun image rm $'no\nsuch\e[31m'
  assert_one_line_error '"no\x0asuch\x1b[31m"'
  local big
  big=$(head -c 100000 /dev/zero | tr '\0' x)
  run_big image rm "$big"
  assert_one_line_error '"...'
  [[ ${#stderr} -lt 1000 ]] || fail "a ${#stderr}-byte error line"
  run_big "--$big"
  assert_one_line_error "unknown flag"
  [[ ${#stderr} -lt 1000 ]] || fail "a ${#stderr}-byte error line"
  run_big --insecure-options=image fetch "/nonexistent/$big"
  assert_one_line_error 'image "/nonexistent/xxx'
  [[ ${#stderr} -lt 1000 ]] || fail "a ${#stderr}-byte error line"
  run_podrun --insecure-options=image fetch $'/tmp/a\nb.aci'
  assert_one_line_error '"/tmp/a\x0ab.aci"'
  # a directory is not a regular file, and says nothing of an errno it did not get
  run_podrun --insecure-options=image fetch /etc
  assert_one_line_error 'fetch "/etc": not a regular file'
  [[ "$stderr" != *"No such file"* ]] || fail "a stale errno: $stderr"
  run_podrun run --stage1=fly --hosts-entry=$'1.2.3.4=a\nb' x
  assert_one_line_error "--hosts-entry=1.2.3.4=a\\x0ab"
}

@test "an error names what the user gave and the reason, once: --name, --working-dir, a volume's kind, a pod flag after an image, two apps of one name" {
  fetch_busybox
  run_podrun run --stage1=fly "$BUSYBOX_NAME" --name=My_App
  assert_one_line_error '--name "My_App"' "not an AC name"
  run_podrun run --stage1=fly "$BUSYBOX_NAME" --working-dir=tmp
  assert_one_line_error '--working-dir "tmp"' "not an absolute path"
  run_podrun run --stage1=fly --volume=v,kind=foo "$BUSYBOX_NAME"
  assert_one_line_error '--volume "v,kind=foo"' 'kind "foo" is not host or empty'
  run_podrun run --stage1=fly "$BUSYBOX_NAME" --volume=v,kind=empty
  assert_one_line_error "--volume is a flag of the pod" "before the first image"
  # two apps of one image: the second needs a name of its own
  run_podrun prepare "$BUSYBOX_NAME" "$BUSYBOX_NAME"
  assert_one_line_error 'app "busybox" is in the pod twice' "--name"
  run_podrun prepare "$BUSYBOX_NAME" --name=a "$BUSYBOX_NAME" --name=a
  assert_one_line_error 'app "a" is in the pod twice' "--name"
  run_podrun prepare "$BUSYBOX_NAME" "$BUSYBOX_NAME" --name=second
  assert_status 0
  # the file the user named, not podrun's temporary one; the pod is not kept
  run_podrun rm "$output"
  run_podrun prepare --stage1=fly --uuid-file-save=/nonexistent/uuid "$BUSYBOX_NAME"
  assert_one_line_error 'write "/nonexistent/uuid": No such file or directory'
  [[ $stderr != *.tmp-* ]] || fail "the temporary file is named"
  no_pods
  # a hand-written manifest's mistakes name its field, once
  printf '{"acKind": "PodManifest", "acVersion": "0.8.11", "apps": [{"name": "My_App", "image": {"id": "%s"}}]}\n' \
    "$BUSYBOX_ID" >"$BATS_TEST_TMPDIR/pod.json"
  run_podrun run --stage1=fly --pod-manifest="$BATS_TEST_TMPDIR/pod.json"
  assert_one_line_error '"apps[0].name": "My_App" is not a valid AC name'
}

@test "an unknown flag names the command as typed: image list, not list" {
  run_podrun image list --fields
  assert_one_line_error 'unknown flag "--fields" for "image list"'
  run_podrun image rm --fields x
  assert_one_line_error 'unknown flag "--fields" for "image rm"'
  run_podrun prepare --stage1=fly "$BUSYBOX_NAME" --frob
  assert_one_line_error 'unknown flag "--frob" for "prepare"'
}

@test "podrun is stage0, store and lib: it links no libseccomp and no libcap (stage2's)" {
  log_run ldd "$PODRUN"
  assert_status 0
  [[ "$output" != *libseccomp* ]] || fail "podrun links libseccomp"
  [[ "$output" != *libcap* ]] || fail "podrun links libcap"
  # ... and still knows every syscall name, refusing an unknown one before any pod exists
  fetch_busybox
  run_podrun run --stage1=fly "$BUSYBOX_NAME" --seccomp=mode=remove,vm86old,nosuchcall
  assert_one_line_error '"nosuchcall"'
  [[ -z "$(ls -A "$STORE/pods/prepared" "$STORE/pods/run" 2>/dev/null)" ]] || fail "a pod was made"
}

# no_pods: the test's store holds no pod in any state.
no_pods() {
  local left
  left=$(find "$STORE/pods" -mindepth 2 -maxdepth 2 ! -name '.*' 2>/dev/null || true)
  [[ -z "$left" ]] || fail "pods were made: $left"
}

@test "--annotation reaches the pod manifest (every app's, then the app's own); a malformed one is refused with one line and no pod" {
  fetch_busybox
  run_podrun prepare --stage1=nspawn --annotation=example.com/team=infra --annotation=note=shared "$BUSYBOX_NAME" \
    --annotation=note=mine --annotation=created=2024-01-02T03:04:05Z "$BUSYBOX_NAME" --name=other
  assert_status 0
  local uuid=$output
  run_podrun cat-manifest "$uuid"
  assert_status 0
  [[ $(json_query '[(a["name"], a.get("annotations")) for a in j["apps"]]' <<<"$output") == \
    '[["busybox", [{"name": "example.com/team", "value": "infra"}, {"name": "note", "value": "mine"}, {"name": "created", "value": "2024-01-02T03:04:05Z"}]], ["other", [{"name": "example.com/team", "value": "infra"}, {"name": "note", "value": "shared"}]]]' ]] ||
    fail "annotations: $(json_query '[a.get("annotations") for a in j["apps"]]' <<<"$output")"
  run_podrun rm "$uuid"
  assert_status 0
  local bad
  for bad in noeq =value Upper=x "with space=x" created=yesterday homepage=ftp://example.com; do
    run_podrun prepare --stage1=fly "$BUSYBOX_NAME" --annotation="$bad"
    assert_one_line_error "--annotation" "\"$bad\""
  done
  no_pods
}

@test "--pod-manifest runs the manifest as it is: each app flag, --volume and --inherit-env with it is refused with one line naming it; pod flags apply" {
  fetch_busybox
  cat >"$BATS_TEST_TMPDIR/pod.json" <<JSON
{"acKind": "PodManifest", "acVersion": "0.8.11",
 "apps": [{"name": "busybox", "image": {"name": "$BUSYBOX_NAME", "id": "$BUSYBOX_ID"}}]}
JSON
  local flag
  for flag in --set-env=A=1 --set-env-file=/dev/null --environment=A=1 --user=1000 --group=1000 --exec=/bin/true \
    --name=x --working-dir=/tmp --supplementary-gids=1 --readonly-rootfs --mount=volume=v,target=/v \
    --annotation=a=b --user-annotation=a=b --user-label=a=b --ulimit=nofile=10 --caps-retain=CAP_CHOWN \
    --caps-remove=CAP_CHOWN --seccomp=mode=remove,mkdir --oom-score-adj=1 --memory=1G --cpu=1 --cpu-shares=10 \
    --volume=v,kind=empty --inherit-env; do
    run_podrun prepare --stage1=fly --pod-manifest="$BATS_TEST_TMPDIR/pod.json" "$flag"
    assert_one_line_error "--pod-manifest" "${flag%%=*} cannot be given"
  done
  no_pods
  run_podrun prepare --stage1=fly --pod-manifest="$BATS_TEST_TMPDIR/pod.json" --hostname=box \
    --uuid-file-save="$BATS_TEST_TMPDIR/uuid"
  assert_status 0
  [[ $output == "$(cat "$BATS_TEST_TMPDIR/uuid")" ]]
  grep -qx -- --hostname=box "$STORE/pods/prepared/$output/stage1/run-flags"
}
