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
