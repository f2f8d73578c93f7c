#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The stage1 policy (Documentation/policy-stage1.md), with the issue's example:
# "images not signed by a trusted key run in kvm; example.com/tools/* may run in
# fly; everything else in nspawn". Images are signed here with a key of the
# test's own and fetched verified (or not), and run in fly and nspawn for real:
# the probe inside says which namespaces it got.

load helpers

# The publisher's key, and three probe images: a tool, an app, and an app
# signed by a key nobody trusts (each with its signature beside it).
setup_file() {
  [[ -x "$BUILD/probe" ]] || return 0 # setup() fails with the reason
  export PUB=$BATS_FILE_TMPDIR/gnupg
  mkdir -m 0700 "$PUB"
  gen() { GNUPGHOME=$PUB gpg --batch --quiet --passphrase '' "$@" 2>/dev/null; }
  gen --quick-gen-key 'Publisher <pub@example.com>' ed25519 sign never
  gen --quick-gen-key 'Stranger <stranger@example.com>' ed25519 sign never
  GNUPGHOME=$PUB gpg --armor --export pub@example.com >"$BATS_FILE_TMPDIR/pub.asc"
  export FPR_PUB
  FPR_PUB=$(GNUPGHOME=$PUB gpg --with-colons --list-keys pub@example.com | awk -F: '/^fpr/ { print tolower($10); exit }')
  local root=$BATS_FILE_TMPDIR/root name file
  mkdir -p "$root/bin" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  ln -s busybox "$root/bin/true"
  cp "$BUILD/probe" "$root/probe"
  printf 'root:x:0:0::/:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  for name in example.com/tools/probe example.com/app example.com/stranger; do
    file=$BATS_FILE_TMPDIR/${name##*/}.aci
    (BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR make_aci "$file" \
      "$(aci_manifest "$name" 1.0 '"app": {"exec": ["/probe"], "user": "0", "group": "0"}, "annotations": [{"name": "role", "value": "'"${name##*/}"'"}]')" "$root")
    GNUPGHOME=$PUB gpg --batch --yes --quiet --local-user \
      "$([[ $name == */stranger ]] && echo stranger || echo pub)@example.com" --armor --detach-sign --output "$file.asc" "$file"
  done
  GNUPGHOME=$PUB gpgconf --kill all
}

teardown_file() {
  [[ -z "${PUB:-}" ]] || GNUPGHOME=$PUB gpgconf --kill all 2>/dev/null || true
}

setup() {
  requires root python3 nspawn
  [[ -x "$BUILD/probe" && -f "$BUILD/stage1-fly.aci" && -f "$BUILD/stage1-nspawn.aci" ]] ||
    fail "build the probe and the stage1s first (make all tests)"
  CONF=$BATS_TEST_TMPDIR/conf
  SYSCONF=$BATS_TEST_TMPDIR/sysconf
  mkdir -p "$CONF/stage1.d" "$SYSCONF/stage1.d" "$BATS_TEST_TMPDIR/tmp"
  cp "$BATS_FILE_TMPDIR"/*.aci "$BATS_FILE_TMPDIR"/*.aci.asc "$BATS_TEST_TMPDIR/"
  HOST_PIDNS=$(readlink /proc/self/ns/pid)
}

# podrun on this test's store and configuration (trust store and stage1.d).
podrun() {
  GNUPGHOME=$PUB TMPDIR=$BATS_TEST_TMPDIR/tmp "$PODRUN" --dir="$STORE" --local-config="$CONF" \
    --system-config="$SYSCONF" "$@"
}

# The issue's example, as an administrator writes it.
EXAMPLE='{
  "rules": [
    { "name": "unsigned-in-kvm", "match": { "verified": "unsigned" }, "stage1": "kvm", "minimum": "kvm" },
    { "name": "tools-in-fly", "match": { "name": "example.com/tools/*" }, "stage1": "fly" },
    { "name": "the-rest", "stage1": "nspawn", "minimum": "nspawn" }
  ]
}'

# example [DIR]: the example as DIR/stage1.d/50-example.json (default: the local set).
example() {
  printf '%s\n' "$EXAMPLE" >"${1:-$CONF}/stage1.d/50-example.json"
}

# signed_images: the publisher's key trusted for example.com, the tool and the app
# fetched verified, the stranger's image fetched unverified.
signed_images() {
  run_podrun trust --prefix=example.com --skip-fingerprint-review "$BATS_FILE_TMPDIR/pub.asc"
  assert_status 0
  run_podrun fetch "$BATS_TEST_TMPDIR/probe.aci" "$BATS_TEST_TMPDIR/app.aci"
  assert_status 0
  run_podrun --insecure-options=image fetch "$BATS_TEST_TMPDIR/stranger.aci"
  assert_status 0
}

# no_pods: no pod directory of any state is left.
no_pods() {
  [[ -z $(find "$STORE/pods" -mindepth 2 -maxdepth 2 2>/dev/null) ]] || fail "a pod was left: $(find "$STORE/pods" -mindepth 2 -maxdepth 2)"
}

# status_of UUIDFILE KEY: the value of KEY= in the pod's status.
status_of() {
  "$PODRUN" --dir="$STORE" status "$(cat "$1")" | sed -n "s/^$2=//p"
}

@test "the example: a signed example.com/tools image runs in fly, with the host's namespaces; status names the rule" {
  example
  signed_images
  run_podrun policy explain example.com/tools/probe
  assert_status 0
  [[ ${lines[1]} =~ ^example.com/tools/probe:1.0\ +signed\ +fly\ +-\ +-\ +$CONF/stage1.d/50-example.json:tools-in-fly$ ]] ||
    fail "explain: ${lines[1]}"
  run_podrun run --uuid-file-save="$BATS_TEST_TMPDIR/uuid" example.com/tools/probe
  assert_status 0
  [[ $(probe 'j["ns"]["pid"]') == "$HOST_PIDNS" ]] || fail "not the host's pid namespace: not fly"
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid" stage1) == fly ]] || fail "status: stage1"
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid" stage1-rule) == "$CONF/stage1.d/50-example.json:tools-in-fly" ]] ||
    fail "status: stage1-rule"
  [[ -z $(status_of "$BATS_TEST_TMPDIR/uuid" stage1-flag) ]] || fail "no flag chose it"
  run_podrun status --format=json "$(cat "$BATS_TEST_TMPDIR/uuid")"
  [[ $(json_query 'j["stage1"], j["stage1_rule"]' <<<"$output") == '["fly", "'"$CONF"'/stage1.d/50-example.json:tools-in-fly"]' ]] ||
    fail "status --format=json"
  # a heavier stage1 may be asked for; status says which flag chose it
  run_podrun run --stage1=nspawn --uuid-file-save="$BATS_TEST_TMPDIR/uuid2" example.com/tools/probe
  assert_status 0
  [[ $(probe 'j["ns"]["pid"]') != "$HOST_PIDNS" ]] || fail "--stage1=nspawn ran in the host's pid namespace"
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid2" stage1) == nspawn ]] || fail "status: stage1"
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid2" stage1-flag) == --stage1=nspawn ]] || fail "status: stage1-flag"
}

@test "the example: a signed image of another name runs in nspawn; --stage1=fly for it is refused naming the rule's file and name, and leaves no pod" {
  example
  signed_images
  run_podrun run --uuid-file-save="$BATS_TEST_TMPDIR/uuid" example.com/app
  assert_status 0
  [[ $(probe 'j["ns"]["pid"]') != "$HOST_PIDNS" ]] || fail "the host's pid namespace: not nspawn"
  [[ $(probe 'j["pid"]') != 0 ]]
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid" stage1) == nspawn ]] || fail "status: stage1"
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid" stage1-rule) == "$CONF/stage1.d/50-example.json:the-rest" ]] || fail "rule"
  podrun gc --grace-period=0 --expire-prepared=0s >/dev/null # the pods so far, cgroups and all
  for flag in --stage1=fly "--stage1-path=$BUILD/stage1-fly.aci"; do
    run_podrun run "$flag" example.com/app
    assert_one_line_error "$flag: image \"example.com/app\" must run in nspawn or heavier (stage1 policy \"$CONF/stage1.d/50-example.json:the-rest\")"
    run_podrun prepare "$flag" example.com/app
    assert_one_line_error "must run in nspawn or heavier" "50-example.json:the-rest"
    no_pods
  done
  # a pod of the tool and the app: the strictest decision, nspawn, and fly refused
  run_podrun policy explain example.com/tools/probe example.com/app
  assert_status 0
  [[ ${lines[3]} == "pod: stage1=nspawn minimum=nspawn rule=$CONF/stage1.d/50-example.json:the-rest" ]] ||
    fail "explain's pod line: ${lines[3]}"
  run_podrun run --stage1=fly example.com/tools/probe example.com/app --name=app
  assert_one_line_error "--stage1=fly: image \"example.com/app\" must run in nspawn or heavier"
  no_pods
}

@test "the example: an unsigned image (fetched with --insecure-options=image, even one with a good signature beside it) goes to kvm; lighter flags are refused" {
  example
  signed_images
  # the tool, with its signature, fetched unverified into another store
  run_podrun --dir="$BATS_TEST_TMPDIR/store2" --insecure-options=image fetch "$BATS_TEST_TMPDIR/probe.aci"
  assert_status 0
  run_podrun --dir="$BATS_TEST_TMPDIR/store2" policy explain example.com/tools/probe
  [[ ${lines[1]} =~ ^example.com/tools/probe:1.0\ +unsigned\ +kvm\ +kvm\ +-\ +.*:unsigned-in-kvm$ ]] ||
    fail "an unverified tool is not sent to kvm: ${lines[1]}"
  run_podrun policy explain --format=json example.com/stranger
  assert_status 0
  [[ $(json_query '[j["images"][0][k] for k in ("verified", "stage1", "minimum", "rule_name")]' <<<"$output") == \
    '["unsigned", "kvm", "kvm", "unsigned-in-kvm"]' ]] || fail "explain --format=json"
  [[ $(json_query 'j["images"][0]["file"]' <<<"$output") == "$CONF/stage1.d/50-example.json" ]] || fail "file"
  local flag
  for flag in --stage1=fly --stage1=nspawn; do
    run_podrun run "$flag" example.com/stranger
    assert_one_line_error "$flag: image \"example.com/stranger\" must run in kvm or heavier (stage1 policy \"$CONF/stage1.d/50-example.json:unsigned-in-kvm\")"
  done
  no_pods
}

@test "the example: without the kvm flavor built, a pod the policy sends to kvm is refused with one line, not run lighter" {
  requires no-stage1-kvm
  example
  signed_images
  run_podrun run example.com/stranger
  assert_one_line_error "stage1 policy \"$CONF/stage1.d/50-example.json:unsigned-in-kvm\" chose \"kvm\": not a bundled flavor of this podrun"
  run_podrun prepare example.com/stranger
  assert_one_line_error "chose \"kvm\""
  no_pods
}

@test "the example: an unsigned image runs in kvm" {
  requires stage1-kvm
  example
  signed_images
  run_podrun run --uuid-file-save="$BATS_TEST_TMPDIR/uuid" example.com/stranger
  assert_status 0
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid" stage1) == kvm ]] || fail "status: stage1"
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid" stage1-rule) == "$CONF/stage1.d/50-example.json:unsigned-in-kvm" ]]
}

@test "a key no longer trusted: its images count as unsigned from then on" {
  example
  signed_images
  run_podrun policy explain --format=json example.com/app
  [[ $(json_query 'j["images"][0]["verified"], j["images"][0]["signer"]' <<<"$output") == '["signed", "'"$FPR_PUB"'"]' ]] ||
    fail "signed"
  run_podrun trust --remove "$FPR_PUB"
  assert_status 0
  run_podrun policy explain --format=json example.com/app
  [[ $(json_query 'j["images"][0]["verified"], j["images"][0]["stage1"]' <<<"$output") == '["unsigned", "kvm"]' ]] ||
    fail "still signed after trust --remove"
  # trusted for another prefix only: not for this name
  run_podrun trust --prefix=example.org --skip-fingerprint-review "$BATS_FILE_TMPDIR/pub.asc"
  run_podrun policy explain --format=json example.com/app
  [[ $(json_query 'j["images"][0]["verified"]' <<<"$output") == unsigned ]] || fail "trusted for another prefix"
  # trusted again, in the system set this time
  mkdir -p "$SYSCONF/trustedkeys/prefix.d"
  mv "$CONF/trustedkeys/prefix.d/example.org" "$SYSCONF/trustedkeys/prefix.d/example.com"
  run_podrun policy explain --format=json example.com/app
  [[ $(json_query 'j["images"][0]["verified"]' <<<"$output") == signed ]] || fail "the system set's key"
}

@test "files in name order, the first matching rule wins, a local file masks the system's of the same name" {
  signed_images
  example "$SYSCONF"
  # an earlier file's rule comes first
  printf '%s\n' '{"rules": [{"name": "apps-in-kvm", "match": {"annotations": {"role": "app"}}, "stage1": "kvm"}]}' \
    >"$SYSCONF/stage1.d/10-apps.json"
  run_podrun policy explain --no-legend example.com/app example.com/tools/probe
  assert_status 0
  [[ ${lines[0]} == *" kvm "*"$SYSCONF/stage1.d/10-apps.json:apps-in-kvm" ]] || fail "10-apps first: ${lines[0]}"
  [[ ${lines[1]} == *" fly "*"$SYSCONF/stage1.d/50-example.json:tools-in-fly" ]] || fail "then 50-example: ${lines[1]}"
  [[ ${lines[2]} == "pod: stage1=kvm minimum=- rule=$SYSCONF/stage1.d/10-apps.json:apps-in-kvm" ]] || fail "pod"
  # a local file of the same name replaces it whole
  printf '%s\n' '{"rules": [{"name": "local-tools", "match": {"name": "example.com/tools/*", "labels": {"version": "1.*"}}, "stage1": "nspawn"}]}' \
    >"$CONF/stage1.d/50-example.json"
  run_podrun policy explain --no-legend example.com/tools/probe example.com/stranger
  [[ ${lines[0]} == *" nspawn "*"$CONF/stage1.d/50-example.json:local-tools" ]] || fail "the local file: ${lines[0]}"
  [[ ${lines[1]} == *" (none)" ]] || fail "the system's 50-example.json is masked: ${lines[1]}"
  # an empty local file, or a symlink to /dev/null, masks it with nothing
  : >"$CONF/stage1.d/10-apps.json"
  ln -sf /dev/null "$CONF/stage1.d/50-example.json"
  run_podrun policy explain --no-legend example.com/app
  [[ ${lines[0]} =~ ^example.com/app:1.0\ +signed\ +nspawn\ +-\ +-\ +\(none\)$ ]] || fail "masked: ${lines[0]}"
  run_podrun run --uuid-file-save="$BATS_TEST_TMPDIR/uuid" example.com/app
  assert_status 0
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid" stage1) == nspawn && -z $(status_of "$BATS_TEST_TMPDIR/uuid" stage1-rule) ]] ||
    fail "no rule: nspawn, and an empty stage1-rule"
}

@test "a rule's default isolators are the app's where the user gave none" {
  signed_images
  printf '%s\n' '{"rules": [{"name": "small", "match": {"name": "example.com/app"}, "stage1": "nspawn",
    "isolators": {"memory": "64M", "cpu": "500m", "readOnlyRootFS": true}}]}' >"$CONF/stage1.d/50-small.json"
  run_podrun run --uuid-file-save="$BATS_TEST_TMPDIR/uuid" example.com/app
  assert_status 0
  [[ $(visible_mount /) == ro* || $(visible_mount /) == *,ro,* || $(visible_mount /) == *,ro ]] ||
    fail "the app's root is not read-only: $(visible_mount /)"
  run_podrun cat-manifest "$(cat "$BATS_TEST_TMPDIR/uuid")"
  [[ $(json_query '{i["name"]: i["value"] for i in j["apps"][0]["app"]["isolators"]}' <<<"$output") == \
    '{"resource/cpu": {"limit": "500m"}, "resource/memory": {"limit": "64M"}}' ]] || fail "isolators"
  [[ $(json_query 'j["apps"][0]["readOnlyRootFS"]' <<<"$output") == true ]] || fail "readOnlyRootFS"
  # the user's flag wins over the rule's
  run_podrun prepare --uuid-file-save="$BATS_TEST_TMPDIR/uuid2" example.com/app --memory=128M
  assert_status 0
  run_podrun cat-manifest "$(cat "$BATS_TEST_TMPDIR/uuid2")"
  [[ $(json_query '{i["name"]: i["value"] for i in j["apps"][0]["app"]["isolators"]}' <<<"$output") == \
    '{"resource/cpu": {"limit": "500m"}, "resource/memory": {"limit": "128M"}}' ]] || fail "--memory"
  # another image: no rule, no isolators
  run_podrun prepare --uuid-file-save="$BATS_TEST_TMPDIR/uuid3" example.com/tools/probe
  run_podrun cat-manifest "$(cat "$BATS_TEST_TMPDIR/uuid3")"
  [[ $(json_query 'j["apps"][0]["app"].get("isolators", [])' <<<"$output") == '[]' ]] || fail "an image without rule"
}

@test "a malformed rule is refused with one line naming the file, the rule and what is wrong, before anything is fetched" {
  local bad
  for bad in '{"rules": [{"name": "x", "stage1": "fly", "minimum": "kvm"}]}' \
    '{"rules": [{"name": "x", "stage1": "nspawn", "match": {"verifed": "signed"}}]}' \
    '{"rules": [{"name": "x", "stage1": "nspawn", "isolators": {"memory": "a lot"}}]}' \
    '{"rules": [{"name": "x", "stage1": "nspawn"}'; do
    printf '%s\n' "$bad" >"$SYSCONF/stage1.d/20-bad.json"
    run_podrun --insecure-options=image run "$BATS_TEST_TMPDIR/app.aci"
    assert_one_line_error "stage1 policy \"$SYSCONF/stage1.d/20-bad.json\": "
    [[ $bad == *'}]}' ]] && assert_stderr_contains 'rule 1 ("x"): '
    run_podrun policy explain example.com/app
    assert_one_line_error "stage1 policy \"$SYSCONF/stage1.d/20-bad.json\": "
    no_pods
    run_podrun image list --no-legend
    [[ -z $output ]] || fail "an image was fetched: $output"
  done
  # control characters in a name are escaped in the one line
  printf '{"rules": [{"name": "x\\u001b[31m", "stage1": "nspawn"}]}\n' >"$SYSCONF/stage1.d/20-bad.json"
  run_podrun policy explain example.com/app
  assert_one_line_error 'rule 1: "name" is "x\x1b[31m"'
}

@test "a --pod-manifest pod: the policy chooses its stage1, and checks the flags, but adds no isolators" {
  example
  signed_images
  run_podrun prepare --uuid-file-save="$BATS_TEST_TMPDIR/uuid" example.com/tools/probe
  assert_status 0
  run_podrun cat-manifest "$(cat "$BATS_TEST_TMPDIR/uuid")"
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/pod.json"
  run_podrun run --pod-manifest="$BATS_TEST_TMPDIR/pod.json" --uuid-file-save="$BATS_TEST_TMPDIR/uuid2"
  assert_status 0
  [[ $(probe 'j["ns"]["pid"]') == "$HOST_PIDNS" ]] || fail "not fly"
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid2" stage1-rule) == *:tools-in-fly ]] || fail "rule"
  sed -i 's|example.com/tools/probe|example.com/stranger|' "$BATS_TEST_TMPDIR/pod.json"
  python3 -c '
import json, sys
p = json.load(open(sys.argv[1])); p["apps"][0]["image"]["id"] = sys.argv[2]
json.dump(p, open(sys.argv[1], "w"))' "$BATS_TEST_TMPDIR/pod.json" "$(aci_id "$BATS_TEST_TMPDIR/stranger.aci")"
  run_podrun run --stage1=fly --pod-manifest="$BATS_TEST_TMPDIR/pod.json"
  assert_one_line_error "--stage1=fly: image \"example.com/stranger\" must run in kvm or heavier"
}

@test "run-prepared applies the policy as it is now: a pod prepared before a tighter rule is refused, and stays prepared" {
  example
  signed_images
  run_podrun prepare example.com/tools/probe
  assert_status 0
  local uuid=$output
  run_podrun prepare --stage1-path="$BUILD/stage1-nspawn.aci" example.com/tools/probe
  local custom=$output
  # the tools must now run in nspawn at least
  sed -i 's|"stage1": "fly" }|"stage1": "nspawn", "minimum": "nspawn" }|' "$CONF/stage1.d/50-example.json"
  grep -q '"minimum": "nspawn" }' "$CONF/stage1.d/50-example.json" || fail "the rule was not changed"
  run_podrun run-prepared "$uuid"
  assert_one_line_error "pod $uuid (prepared with stage1 \"fly\"): image \"example.com/tools/probe\" must run in nspawn or heavier (stage1 policy \"$CONF/stage1.d/50-example.json:tools-in-fly\")"
  [[ -d $STORE/pods/prepared/$uuid ]] || fail "the pod left prepared/"
  # a stage1 image counts as fly, whatever it is
  run_podrun run-prepared "$custom"
  assert_one_line_error "pod $custom (prepared with stage1 \"podrun.io/stage1-nspawn\", which counts as fly)" "must run in nspawn or heavier"
  # back as it was: it runs, in fly
  example
  run_podrun run-prepared "$uuid"
  assert_status 0
  [[ $(probe 'j["ns"]["pid"]') == "$HOST_PIDNS" ]] || fail "not fly"
}

@test "a rule may choose a stage1 image of the store; one that is missing is refused naming the rule; two stage1s of one weight cannot share a pod" {
  signed_images
  printf '%s\n' '{"rules": [
    {"name": "app-own-stage1", "match": {"name": "example.com/app"}, "stage1": "podrun.io/stage1-fly"},
    {"name": "tools-in-fly", "match": {"name": "example.com/tools/*"}, "stage1": "fly"}]}' >"$CONF/stage1.d/50-own.json"
  run_podrun run example.com/app
  assert_one_line_error "stage1 policy \"$CONF/stage1.d/50-own.json:app-own-stage1\": stage1: " "podrun.io/stage1-fly"
  no_pods
  run_podrun --insecure-options=image fetch "$BUILD/stage1-fly.aci"
  assert_status 0
  run_podrun run --uuid-file-save="$BATS_TEST_TMPDIR/uuid" example.com/app
  assert_status 0
  [[ $(probe 'j["ns"]["pid"]') == "$HOST_PIDNS" ]] || fail "not the fly stage1"
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid" stage1) == podrun.io/stage1-fly ]] || fail "status: stage1"
  [[ $(status_of "$BATS_TEST_TMPDIR/uuid" stage1-rule) == *:app-own-stage1 ]] || fail "status: stage1-rule"
  # the image and fly are of one weight (an image counts as fly) but not the same stage1
  podrun gc --grace-period=0 --expire-prepared=0s >/dev/null # the pods so far, cgroups and all
  run_podrun run example.com/app example.com/tools/probe
  assert_one_line_error "image \"example.com/app\" gets \"podrun.io/stage1-fly\" ($CONF/stage1.d/50-own.json:app-own-stage1), image \"example.com/tools/probe\" gets \"fly\" ($CONF/stage1.d/50-own.json:tools-in-fly): a pod has one stage1"
  no_pods
  run_podrun policy explain example.com/app example.com/tools/probe
  assert_status 254
  [[ ${#lines[@]} -eq 3 ]] || fail "the table first"
  assert_stderr_contains "a pod has one stage1"
}
