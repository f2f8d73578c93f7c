#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# podrun trust and signed local ACIs: keys made here with gpg, a signed busybox,
# and every way a signature can fail to convince. Each refusal is one line,
# leaves the store empty, the user's ~/.gnupg untouched and no gpg running.

load helpers

# The publisher's keyring, made once: a trusted key, another key, one that
# expired two days ago and one that is revoked (its key file before and after
# the revocation). It lives in GNUPGHOME, as a user's keyring would: podrun
# must not look at it.
setup_file() {
  export PUB=$BATS_FILE_TMPDIR/gnupg
  mkdir -m 0700 "$PUB"
  local past
  past=$(date -u -d '-3 days' +%Y%m%dT%H%M%S)
  gen() { GNUPGHOME=$PUB gpg --batch --quiet --passphrase '' "$@" 2>/dev/null; }
  gen --quick-gen-key 'Trusted <trusted@podrun.test>' ed25519 sign never
  gen --quick-gen-key 'Other <other@podrun.test>' ed25519 sign never
  gen --faked-system-time "$past" --quick-gen-key 'Expired <expired@podrun.test>' ed25519 sign 1d
  gen --quick-gen-key 'Revoked <revoked@podrun.test>' ed25519 sign never
  # a key that only certifies, and signs with a subkey
  gen --quick-gen-key 'Sub <sub@podrun.test>' ed25519 cert never
  fpr() { GNUPGHOME=$PUB gpg --with-colons --list-keys "$1" | awk -F: '/^fpr/ { print tolower($10); exit }'; }
  export FPR_TRUSTED FPR_OTHER FPR_EXPIRED FPR_REVOKED
  FPR_TRUSTED=$(fpr trusted@podrun.test)
  FPR_OTHER=$(fpr other@podrun.test)
  FPR_EXPIRED=$(fpr expired@podrun.test)
  FPR_REVOKED=$(fpr revoked@podrun.test)
  export FPR_SUB FPR_SUBKEY
  FPR_SUB=$(fpr sub@podrun.test)
  gen --quick-add-key "$FPR_SUB" ed25519 sign never
  FPR_SUBKEY=$(GNUPGHOME=$PUB gpg --with-colons --list-keys sub@podrun.test |
    awk -F: '/^sub/ { s = 1 } s && /^fpr/ { print tolower($10); exit }')
  local k
  for k in trusted other expired revoked sub; do
    GNUPGHOME=$PUB gpg --armor --export "$k@podrun.test" >"$BATS_FILE_TMPDIR/$k.asc"
  done
  # the busybox ACI signed by each (the expired key while it was valid, the
  # revoked one before its revocation)
  cp "$BUSYBOX_ACI" "$BATS_FILE_TMPDIR/bb.aci"
  sign_as() { GNUPGHOME=$PUB gpg --batch --yes --quiet "${@:3}" --local-user "$1!" --armor --detach-sign \
    --output "$2" "$BATS_FILE_TMPDIR/bb.aci"; }
  sign_as "$FPR_TRUSTED" "$BATS_FILE_TMPDIR/bb.trusted.asc"
  sign_as "$FPR_OTHER" "$BATS_FILE_TMPDIR/bb.other.asc"
  sign_as "$FPR_EXPIRED" "$BATS_FILE_TMPDIR/bb.expired.asc" --faked-system-time "$past"
  sign_as "$FPR_REVOKED" "$BATS_FILE_TMPDIR/bb.revoked.asc"
  sign_as "$FPR_SUBKEY" "$BATS_FILE_TMPDIR/bb.sub.asc"
  sed 's/^:-----/-----/' "$PUB/openpgp-revocs.d/${FPR_REVOKED^^}.rev" | GNUPGHOME=$PUB gpg --batch --quiet --import 2>/dev/null
  GNUPGHOME=$PUB gpg --armor --export revoked@podrun.test >"$BATS_FILE_TMPDIR/revoked-now.asc"
  GNUPGHOME=$PUB gpgconf --kill all
}

teardown_file() {
  GNUPGHOME=$PUB gpgconf --kill all 2>/dev/null || true
}

setup() {
  CONF=$BATS_TEST_TMPDIR/conf
  SYSCONF=$BATS_TEST_TMPDIR/sysconf
  T_HOME=$BATS_TEST_TMPDIR/home
  T_TMP=$BATS_TEST_TMPDIR/tmp
  mkdir -p "$T_HOME" "$T_TMP" "$SYSCONF"
  cp "$BATS_FILE_TMPDIR/bb.aci" "$BATS_TEST_TMPDIR/bb.aci"
  AC=$BATS_TEST_TMPDIR/bb.aci
  ROOT_GNUPG_MTIME=$(stat -c %Y /root/.gnupg 2>/dev/null || echo none)
}

# podrun on this test's store and configuration, with a HOME of the test's own
# and the publisher's keyring as GNUPGHOME (a user's keyring podrun must ignore).
podrun() {
  GNUPGHOME=$PUB HOME=$T_HOME TMPDIR=$T_TMP "$PODRUN" --dir="$STORE" --local-config="$CONF" \
    --system-config="$SYSCONF" "$@"
}

# trust_key PREFIX|--root NAME: trusts $BATS_FILE_TMPDIR/NAME.asc.
trust_key() {
  local how=--prefix=$1
  [[ $1 != --root ]] || how=--root
  run_podrun trust "$how" --skip-fingerprint-review "$BATS_FILE_TMPDIR/$2.asc"
  assert_status 0
}

# sig NAME: bb.aci.asc beside the test's ACI is bb.NAME.asc.
sig() {
  cp "$BATS_FILE_TMPDIR/bb.$1.asc" "$AC.asc"
}

# nothing_left: no image, no blob, no gpg home and no gpg process of podrun's,
# no ~/.gnupg made, /root/.gnupg not touched.
nothing_left() {
  run_podrun image list --no-legend
  [[ -z "$output" ]] || fail "an image entered the store"
  [[ $(count_blobs) -eq 0 ]] || fail "a blob entered the store"
  no_gpg_left
}

no_gpg_left() {
  [[ -z "$(ls -A "$T_TMP")" ]] || fail "left in TMPDIR: $(ls -A "$T_TMP")"
  ! pgrep -f "$T_TMP/podrun-gpg" >/dev/null || fail "a gpg process is left: $(pgrep -af "$T_TMP/podrun-gpg")"
  [[ ! -e "$T_HOME/.gnupg" ]] || fail "~/.gnupg was made"
  [[ $(stat -c %Y /root/.gnupg 2>/dev/null || echo none) == "$ROOT_GNUPG_MTIME" ]] || fail "/root/.gnupg changed"
}

# refused REASON…: the last fetch failed with one line naming each REASON, and
# nothing is left.
refused() {
  assert_one_line_error "$@"
  nothing_left
}

@test "a signed image whose key is trusted for a prefix of its name is fetched without --insecure-options, and runs" {
  trust_key podrun.test trusted
  sig trusted
  run_podrun fetch "$AC"
  assert_status 0
  is_image_id "$output" || fail "not an id: $output"
  local id=$output
  [[ -z "$stderr" ]] || fail "stderr: $stderr"
  no_gpg_left
  # the index says who signed it, for which prefix, and when
  run_podrun image list --format=json
  assert_status 0
  [[ $(json_query 'j[0]["signer_fingerprint"]' <<<"$output") == "$FPR_TRUSTED" ]] || fail "signer"
  [[ $(json_query 'j[0]["signer_prefix"]' <<<"$output") == podrun.test ]] || fail "prefix"
  [[ $(json_query 'j[0]["verified_time"]' <<<"$output") == 20* ]] || fail "verified_time"
  run_podrun run --stage1=fly "$AC" --exec=/bin/echo -- signed hello ---
  assert_status 0
  assert_output_contains "signed hello"
  run_podrun run --stage1=fly "$id" --exec=/bin/true
  assert_status 0
  # run and prepare take --signature as fetch does (a file is verified each time)
  mv "$AC.asc" "$BATS_TEST_TMPDIR/sig.asc"
  run_podrun run --stage1=fly --signature="$BATS_TEST_TMPDIR/sig.asc" "$AC" --exec=/bin/echo -- again ---
  assert_status 0
  assert_output_contains "again"
  run_podrun prepare --stage1=fly --signature="$BATS_TEST_TMPDIR/sig.asc" "$AC"
  assert_status 0
  no_gpg_left
}

@test "the name itself, a root key, and --signature=FILE are trusted too; an unverified fetch records no signer" {
  trust_key podrun.test/busybox trusted
  sig trusted
  run_podrun fetch "$AC"
  assert_status 0
  run_podrun image rm podrun.test/busybox
  assert_status 0
  rm -rf "$CONF"
  trust_key --root other
  mv "$AC.asc" "$BATS_TEST_TMPDIR/elsewhere.asc"
  cp "$BATS_FILE_TMPDIR/bb.other.asc" "$BATS_TEST_TMPDIR/other.asc"
  run_podrun fetch --signature="$BATS_TEST_TMPDIR/other.asc" "$AC"
  assert_status 0
  run_podrun image list --format=json
  [[ $(json_query 'j[0]["signer_prefix"]' <<<"$output") == "" ]] || fail "a root key's prefix is \"\""
  [[ $(json_query 'j[0]["signer_fingerprint"]' <<<"$output") == "$FPR_OTHER" ]]
  run_podrun image rm podrun.test/busybox
  run_podrun --insecure-options=image fetch "$AC"
  assert_status 0
  run_podrun image list --format=json
  [[ $(json_query 'j[0]["signer_fingerprint"]' <<<"$output") == null ]] || fail "an unverified image has a signer"
  no_gpg_left
}

@test "a signature by a subkey counts for its primary key, where that key is trusted and only there" {
  [[ -n "$FPR_SUBKEY" && "$FPR_SUBKEY" != "$FPR_SUB" ]] || fail "no signing subkey was made"
  sig sub
  trust_key podrun.test trusted
  trust_key example.com sub
  run_podrun fetch "$AC"
  refused "signed by key $FPR_SUB, which is trusted for \"example.com\", not for \"podrun.test/busybox\""
  trust_key podrun.test sub
  run_podrun fetch "$AC"
  assert_status 0
  run_podrun image list --format=json
  [[ $(json_query 'j[0]["signer_fingerprint"]' <<<"$output") == "$FPR_SUB" ]] || fail "the primary key is the signer"
  no_gpg_left
}

@test "an image without a signature is refused unless --insecure-options=image" {
  trust_key podrun.test trusted
  run_podrun fetch "$AC"
  refused "unsigned" "bb.aci.asc" "--insecure-options=image"
  run_podrun fetch --signature="$BATS_TEST_TMPDIR/nope.asc" "$AC"
  refused 'signature "'"$BATS_TEST_TMPDIR/nope.asc"'": No such file'
  run_podrun run --stage1=fly "$AC" --exec=/bin/true
  refused "unsigned"
  run_podrun prepare --stage1=fly "$AC"
  refused "unsigned"
  # with --insecure-options=image no signature is looked at, not even a bad one beside it
  cp "$BATS_FILE_TMPDIR/bb.other.asc" "$AC.asc"
  run_podrun --insecure-options=image fetch "$AC"
  assert_status 0
  no_gpg_left
}

@test "no key trusted for the name's prefixes: the refusal says which prefix to trust" {
  sig trusted
  run_podrun fetch "$AC"
  refused 'no key is trusted for "podrun.test/busybox" or a prefix of it' "podrun trust --prefix=podrun.test/busybox"
  # prefixes are whole path components
  trust_key podrun.tes trusted
  trust_key podrun.test/busy trusted
  run_podrun fetch "$AC"
  refused "no key is trusted"
}

@test "a signature by an untrusted key, even one in the user's own keyring, is refused naming it" {
  trust_key podrun.test trusted
  sig other
  run_podrun fetch "$AC"
  refused "signed by key $FPR_OTHER" "not trusted"
}

@test "a signature by a key trusted for another prefix is refused naming the key and its prefixes" {
  trust_key podrun.test trusted
  trust_key example.com other
  trust_key podrun.test/other other
  sig other
  run_podrun fetch "$AC"
  refused "signed by key $FPR_OTHER" '"example.com"' '"podrun.test/other"' '"podrun.test/busybox"'
}

@test "a tampered image, and the signature of another image, are a bad signature" {
  trust_key podrun.test trusted
  sig trusted
  printf 'x' | dd of="$AC" bs=1 seek=10000 conv=notrunc status=none
  run_podrun fetch "$AC"
  refused "bad signature"
  cp "$BATS_FILE_TMPDIR/bb.aci" "$AC"
  make_small_aci "$BATS_TEST_TMPDIR/small.aci" podrun.test/small
  GNUPGHOME=$PUB gpg --batch --yes --quiet --local-user "$FPR_TRUSTED!" --armor --detach-sign \
    --output "$AC.asc" "$BATS_TEST_TMPDIR/small.aci"
  run_podrun fetch "$AC"
  refused "bad signature"
}

@test "a key that has expired is refused, when trusted and when added" {
  # trusted while valid (its file written by hand: trust refuses an expired key)
  mkdir -p "$CONF/trustedkeys/prefix.d/podrun.test"
  cp "$BATS_FILE_TMPDIR/expired.asc" "$CONF/trustedkeys/prefix.d/podrun.test/$FPR_EXPIRED"
  sig expired
  run_podrun fetch "$AC"
  refused "signed by key $FPR_EXPIRED, which is expired on"
  run_podrun trust --prefix=podrun.test --skip-fingerprint-review "$BATS_FILE_TMPDIR/expired.asc"
  assert_one_line_error "expired"
}

@test "a revoked key is refused, when its trusted file carries the revocation and when added" {
  trust_key podrun.test revoked
  sig revoked
  run_podrun fetch "$AC" # the key as trusted before its revocation was known
  assert_status 0
  run_podrun image rm podrun.test/busybox
  # the publisher's revocation, as the trusted file's update
  cp "$BATS_FILE_TMPDIR/revoked-now.asc" "$CONF/trustedkeys/prefix.d/podrun.test/$FPR_REVOKED"
  run_podrun fetch "$AC"
  refused "signed by key $FPR_REVOKED, which is revoked"
  run_podrun trust --prefix=example.com --skip-fingerprint-review "$BATS_FILE_TMPDIR/revoked-now.asc"
  assert_one_line_error "revoked"
}

@test "a truncated signature, a key given as signature, 1 MB of garbage and an empty file are not a signature" {
  trust_key podrun.test trusted
  local size
  size=$(stat -c %s "$BATS_FILE_TMPDIR/bb.trusted.asc")
  head -c $((size / 2)) "$BATS_FILE_TMPDIR/bb.trusted.asc" >"$AC.asc"
  run_podrun fetch "$AC"
  refused "not a signature"
  cp "$BATS_FILE_TMPDIR/trusted.asc" "$AC.asc"
  run_podrun fetch "$AC"
  refused "not a signature"
  head -c 1M /dev/urandom >"$AC.asc"
  run_podrun fetch "$AC"
  refused "not a signature"
  : >"$AC.asc"
  run_podrun fetch "$AC"
  refused "not a signature"
  truncate -s 17M "$AC.asc"
  run_podrun fetch "$AC"
  refused "not a signature (larger than 16 MiB)"
  mkfifo "$BATS_TEST_TMPDIR/fifo.asc"
  run_podrun fetch --signature="$BATS_TEST_TMPDIR/fifo.asc" "$AC"
  refused "not a regular file"
}

@test "trust --list shows prefix, fingerprint, uid and file; --format=json; the system set is listed" {
  trust_key podrun.test trusted
  trust_key --root other
  mkdir -p "$SYSCONF/trustedkeys/prefix.d/example.com,app"
  cp "$BATS_FILE_TMPDIR/revoked.asc" "$SYSCONF/trustedkeys/prefix.d/example.com,app/$FPR_REVOKED"
  run_podrun trust --list
  assert_status 0
  [[ ${lines[0]} == "PREFIX"*"FINGERPRINT"*"UID"*"FILE" ]] || fail "legend"
  [[ ${#lines[@]} -eq 4 ]] || fail "expected three keys"
  [[ ${lines[1]} == "example.com/app  $FPR_REVOKED  Revoked <revoked@podrun.test>"*"$SYSCONF/trustedkeys/prefix.d/example.com,app/$FPR_REVOKED" ]]
  [[ ${lines[2]} == "(root)"*"$FPR_OTHER"*"Other <other@podrun.test>"*"$CONF/trustedkeys/root.d/$FPR_OTHER" ]]
  [[ ${lines[3]} == "podrun.test"*"$FPR_TRUSTED"*"Trusted <trusted@podrun.test>"*"$CONF/trustedkeys/prefix.d/podrun.test/$FPR_TRUSTED" ]]
  [[ $(stat -c %a "$CONF/trustedkeys/prefix.d/podrun.test/$FPR_TRUSTED") == 644 ]]
  [[ $(stat -c %a "$CONF/trustedkeys/prefix.d/podrun.test") == 755 ]]
  cmp "$BATS_FILE_TMPDIR/trusted.asc" "$CONF/trustedkeys/prefix.d/podrun.test/$FPR_TRUSTED"
  run_podrun trust --list --no-legend
  [[ ${#lines[@]} -eq 3 ]]
  run_podrun trust --list --format=json
  assert_status 0
  json_valid <<<"$output"
  [[ $(json_query 'j[1]["root"]' <<<"$output") == true ]]
  [[ $(json_query 'j[2]["prefix"]' <<<"$output") == podrun.test ]]
  [[ $(json_query 'j[0]["system"]' <<<"$output") == true ]]
  [[ $(json_query 'j[2]["uid"]' <<<"$output") == "Trusted <trusted@podrun.test>" ]]
  no_gpg_left
}

@test "trust --remove takes a key from every local prefix; a system key is read-only; an unknown one is an error" {
  trust_key podrun.test trusted
  trust_key example.com trusted
  mkdir -p "$SYSCONF/trustedkeys/root.d"
  cp "$BATS_FILE_TMPDIR/other.asc" "$SYSCONF/trustedkeys/root.d/$FPR_OTHER"
  run_podrun trust --remove "${FPR_TRUSTED^^}"
  assert_status 0
  [[ ${#lines[@]} -eq 2 ]] || fail "expected two files removed"
  [[ ! -e "$CONF/trustedkeys/prefix.d/podrun.test" ]] || fail "the empty prefix directory stayed"
  run_podrun trust --list --no-legend
  [[ ${#lines[@]} -eq 1 && ${lines[0]} == "(root)"*"$FPR_OTHER"* ]]
  run_podrun trust --remove "$FPR_OTHER"
  assert_one_line_error "system configuration" "read-only"
  [[ -e "$SYSCONF/trustedkeys/root.d/$FPR_OTHER" ]]
  run_podrun trust --remove "$FPR_TRUSTED"
  assert_one_line_error "no key $FPR_TRUSTED is trusted"
  run_podrun trust --remove nothex
  assert_one_line_error "not a key fingerprint"
}

@test "trust refuses what is not one public key, URLs, a bad prefix, and no KEY" {
  local d=$BATS_TEST_TMPDIR
  head -c 1000 /dev/urandom >"$d/garbage"
  run_podrun trust --prefix=podrun.test --skip-fingerprint-review "$d/garbage"
  assert_one_line_error "not an armored OpenPGP public key"
  cat "$BATS_FILE_TMPDIR/trusted.asc" "$BATS_FILE_TMPDIR/other.asc" >"$d/two.asc"
  run_podrun trust --prefix=podrun.test --skip-fingerprint-review "$d/two.asc"
  assert_one_line_error "holds 2 keys"
  GNUPGHOME=$PUB gpg --batch --pinentry-mode loopback --passphrase '' --armor --export-secret-keys trusted@podrun.test >"$d/secret.asc"
  run_podrun trust --prefix=podrun.test --skip-fingerprint-review "$d/secret.asc"
  assert_one_line_error "a secret key"
  run_podrun trust --prefix=podrun.test --skip-fingerprint-review "$BATS_FILE_TMPDIR/bb.trusted.asc"
  assert_one_line_error "not an armored OpenPGP public key"
  # URLs and discovery are https.bats's; what cannot be reached is one line
  run_podrun trust --prefix=podrun.test --skip-fingerprint-review https://127.0.0.1:1/key.asc
  assert_one_line_error "key \"https://127.0.0.1:1/key.asc\""
  run_podrun trust --prefix=podrun.test --skip-fingerprint-review ftp://127.0.0.1/key.asc
  assert_one_line_error "key \"ftp://127.0.0.1/key.asc\""
  run_podrun trust --prefix=podrun.test --skip-fingerprint-review http://127.0.0.1:1/key.asc
  assert_one_line_error "plain http needs --insecure-options=http"
  run_podrun trust --root
  assert_one_line_error "no KEY"
  run_podrun trust --prefix=Bad/Prefix/ --skip-fingerprint-review "$BATS_FILE_TMPDIR/trusted.asc"
  assert_one_line_error "not an image name prefix"
  run_podrun trust --prefix=a,b --skip-fingerprint-review "$BATS_FILE_TMPDIR/trusted.asc"
  assert_one_line_error "not an image name prefix"
  run_podrun trust --root --prefix=x "$BATS_FILE_TMPDIR/trusted.asc"
  assert_one_line_error "one of"
  [[ ! -e "$CONF/trustedkeys" ]] || [[ -z "$(find "$CONF/trustedkeys" -type f)" ]] || fail "a key was added"
  GNUPGHOME=$PUB gpgconf --kill all
  no_gpg_left
}

# on_pty ANSWER ARGS…: podrun ARGS on a new terminal, ANSWER typed once it asks.
on_pty() {
  local answer=$1
  shift
  run python3 - "$answer" "$PODRUN" --dir="$STORE" --local-config="$CONF" --system-config="$SYSCONF" "$@" <<'EOF'
import os, pty, sys
answer, cmd = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
out, sent = b"", False
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and b"[y/N]" in out:
        os.write(fd, answer.encode() + b"\n")
        sent = True
sys.stdout.write(out.decode(errors="replace"))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
EOF
  echo "$ (pty, answer $answer) podrun $* (status=$status)"
  printf '%s\n' "$output" | sed 's/^/  /'
}

@test "trust shows the fingerprint and uid on a terminal and asks; no answers no; no terminal needs --skip-fingerprint-review" {
  requires python3
  export GNUPGHOME=$PUB HOME=$T_HOME TMPDIR=$T_TMP
  on_pty n trust --prefix=podrun.test "$BATS_FILE_TMPDIR/trusted.asc"
  assert_status 254
  assert_output_contains "$FPR_TRUSTED"
  assert_output_contains "Trusted <trusted@podrun.test>"
  assert_output_contains 'for "podrun.test"? [y/N]'
  assert_output_contains "not trusted"
  [[ ! -e "$CONF/trustedkeys/prefix.d/podrun.test/$FPR_TRUSTED" ]] || fail "trusted on no"
  on_pty "" trust --prefix=podrun.test "$BATS_FILE_TMPDIR/trusted.asc"
  assert_status 254
  on_pty y trust --prefix=podrun.test "$BATS_FILE_TMPDIR/trusted.asc"
  assert_status 0
  assert_output_contains "Added key $FPR_TRUSTED"
  [[ -f "$CONF/trustedkeys/prefix.d/podrun.test/$FPR_TRUSTED" ]]
  on_pty yes trust --root "$BATS_FILE_TMPDIR/other.asc"
  assert_status 0
  assert_output_contains "every image name (a root key)"
  [[ -f "$CONF/trustedkeys/root.d/$FPR_OTHER" ]]
  # without a terminal, the review cannot happen: refused, naming the flag
  run_podrun trust --prefix=example.com "$BATS_FILE_TMPDIR/trusted.asc" </dev/null
  assert_one_line_error "not a terminal" "--skip-fingerprint-review"
  # --insecure-options=pubkey is not a way around the review
  run_podrun --insecure-options=pubkey trust --prefix=example.com "$BATS_FILE_TMPDIR/trusted.asc" </dev/null
  assert_one_line_error "--skip-fingerprint-review"
  [[ ! -e "$CONF/trustedkeys/prefix.d/example.com" ]]
  no_gpg_left
}

@test "a compressed ACI is verified as published (the signature covers the file), and stored as the same image" {
  trust_key podrun.test trusted
  compress_aci "$BATS_FILE_TMPDIR/bb.aci" "$BATS_TEST_TMPDIR/bb.aci.gz" gzip
  GNUPGHOME=$PUB gpg --batch --yes --quiet --local-user "$FPR_TRUSTED!" --armor --detach-sign "$BATS_TEST_TMPDIR/bb.aci.gz"
  run_podrun fetch "$BATS_TEST_TMPDIR/bb.aci.gz"
  assert_status 0
  [[ $output == "$(aci_id "$BATS_FILE_TMPDIR/bb.aci")" ]] || fail "not the image's id"
  # the uncompressed file's signature is not the compressed file's
  run_podrun image rm podrun.test/busybox
  cp "$BATS_FILE_TMPDIR/bb.trusted.asc" "$BATS_TEST_TMPDIR/bb.aci.gz.asc"
  run_podrun fetch "$BATS_TEST_TMPDIR/bb.aci.gz"
  refused "bad signature"
}

@test "a trusted key file that is not a key, or not the key its name says, is listed as such and fails verification" {
  trust_key podrun.test trusted
  sig trusted
  mkdir -p "$CONF/trustedkeys/root.d"
  echo garbage >"$CONF/trustedkeys/root.d/$FPR_OTHER"
  run_podrun trust --list --no-legend
  assert_status 0
  [[ ${lines[0]} == "(root)"*"$FPR_OTHER"*"(unreadable: not an armored OpenPGP public key"* ]] || fail "not listed as unreadable"
  run_podrun fetch "$AC"
  refused "trusted key \"$CONF/trustedkeys/root.d/$FPR_OTHER\"" "not an armored OpenPGP public key"
  cp "$BATS_FILE_TMPDIR/trusted.asc" "$CONF/trustedkeys/root.d/$FPR_OTHER"
  run_podrun fetch "$AC"
  refused "holds key $FPR_TRUSTED, not the one its name says"
  # stray names (an editor's backup, an interrupted write) are not keys and are ignored
  rm "$CONF/trustedkeys/root.d/$FPR_OTHER"
  cp "$BATS_FILE_TMPDIR/other.asc" "$CONF/trustedkeys/root.d/$FPR_OTHER~"
  cp "$BATS_FILE_TMPDIR/other.asc" "$CONF/trustedkeys/root.d/.tmp-x"
  run_podrun trust --list --no-legend
  [[ ${#lines[@]} -eq 1 ]] || fail "stray files listed"
  run_podrun fetch "$AC"
  assert_status 0
}

@test "an image file changed while it is verified is refused, and what it imported removed" {
  requires strace
  trust_key podrun.test trusted
  sig trusted
  # the removal of the gpg home (after verification, before the import) is
  # slowed down, and the file is touched while the home is there
  # (LeakSanitizer cannot run under ptrace: no leak check in a SANITIZE build)
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    GNUPGHOME=$PUB HOME=$T_HOME TMPDIR=$T_TMP strace -o /dev/null -e trace=unlinkat \
    -e inject=unlinkat:delay_exit=300000 "$PODRUN" --dir="$STORE" --local-config="$CONF" \
    --system-config="$SYSCONF" fetch "$AC" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  local pid=$! i
  for ((i = 0; i < 500; i++)); do
    compgen -G "$T_TMP/podrun-gpg-*" >/dev/null && break
    sleep 0.01
  done
  touch "$AC"
  status=0
  wait "$pid" || status=$?
  stderr=$(cat "$BATS_TEST_TMPDIR/err")
  mapfile -t stderr_lines <"$BATS_TEST_TMPDIR/err"
  echo "status=$status stderr=$stderr"
  refused "the file changed while it was verified"
}

# ---- image verify ------------------------------------------------------------

# verify_fails STR…: the last `image verify` printed one line for the image
# that is not "ok" and has each STR, and failed with one line saying so.
verify_fails() {
  assert_one_line_error "$@"
  [[ ${#lines[@]} -eq 1 && "${lines[0]}" == "$ID podrun.test/busybox"* && "${lines[0]}" != *" ok"* ]] ||
    fail "stdout is not one failed line for the image"
  local s
  for s in "$@"; do
    [[ "${lines[0]}" == *"$s"* ]] || fail "stdout does not mention \"$s\""
  done
}

verify_ok() {
  run_podrun image verify "$ID"
  assert_status 0
  [[ ${#lines[@]} -eq 1 && "${lines[0]}" == "$ID podrun.test/busybox"*" ok" ]] || fail "not one ok line"
}

@test "image verify: a signed image and its extracted layer tree are ok; a tampered blob byte, file content, mode, owner, an added or removed file each fail with a line naming it" {
  trust_key podrun.test trusted
  sig trusted
  run_podrun fetch "$AC"
  assert_status 0
  ID=$output
  # who signed it, beside the manifest (which stays the publisher's)
  run_podrun image cat-manifest --signer "$ID"
  assert_status 0
  [[ $(json_query 'j["signer_fingerprint"] + " " + j["signer_prefix"] + " " + j["id"]' <<<"$output") == "$FPR_TRUSTED podrun.test $ID" ]] ||
    fail "signer"
  run_podrun image cat-manifest --pretty-print=false "$ID"
  [[ $output == "$(tar -xOf "$AC" manifest | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True, separators=(",", ":")))')" ]] ||
    fail "the manifest is not the publisher's"
  # before any pod, only the blob (and the signature) are there to check
  verify_ok
  run_podrun run --stage1=fly "$ID" --exec=/bin/true
  assert_status 0
  local tree=$STORE/cas/layer/$ID/rootfs
  [[ -d $tree/bin && -f $STORE/cas/layer/$ID/tree-v1 ]] || fail "no layer tree with its record"
  verify_ok

  local blob
  blob=$(blob_path "$ID")
  cp -a "$blob" "$BATS_TEST_TMPDIR/blob"
  printf 'X' | dd of="$blob" bs=1 seek=3000 conv=notrunc status=none
  run_podrun image verify "$ID"
  verify_fails "digest mismatch"
  cp -a "$BATS_TEST_TMPDIR/blob" "$blob"
  verify_ok

  local f=$tree/bin/busybox
  cp -a "$f" "$BATS_TEST_TMPDIR/busybox"
  printf 'X' | dd of="$f" bs=1 seek=5000 conv=notrunc status=none
  run_podrun image verify "$ID"
  verify_fails 'file "bin/busybox": content changed'
  cp -a "$BATS_TEST_TMPDIR/busybox" "$f"
  verify_ok

  local mode
  mode=$(stat -c %a "$f")
  chmod 4755 "$f"
  run_podrun image verify "$ID"
  verify_fails 'file "bin/busybox": mode 4755'
  chmod "$mode" "$f"
  chown 1:1 "$f"
  run_podrun image verify "$ID"
  verify_fails 'file "bin/busybox": owner 1:1, was 0:0'
  chown 0:0 "$f"
  chmod "$mode" "$f"
  verify_ok

  echo evil >"$tree/etc/evil"
  run_podrun image verify "$ID"
  verify_fails 'file "etc/evil": added'
  rm "$tree/etc/evil"
  ln -s /etc/shadow "$tree/etc/link"
  run_podrun image verify "$ID"
  verify_fails 'symlink "etc/link": added'
  rm "$tree/etc/link"
  verify_ok

  local victim
  victim=$(cd "$tree" && find . -type l | sort | head -1)
  victim=${victim#./}
  mv "$tree/$victim" "$BATS_TEST_TMPDIR/victim"
  run_podrun image verify "$ID"
  verify_fails "symlink \"$victim\": missing"
  mv "$BATS_TEST_TMPDIR/victim" "$tree/$victim"
  verify_ok
  no_gpg_left
}

@test "image verify: the signature is checked against today's trust store: a removed key, a key revoked since, fail; an unsigned image is ok and says so" {
  trust_key podrun.test trusted
  sig trusted
  run_podrun fetch "$AC"
  assert_status 0
  ID=$output
  verify_ok
  run_podrun trust --remove "$FPR_TRUSTED"
  assert_status 0
  run_podrun image verify "$ID"
  verify_fails "signature" "no key is trusted for"
  # another key trusted for the prefix now
  trust_key podrun.test other
  run_podrun image verify "$ID"
  verify_fails "signature" "signed by key" "not trusted"
  run_podrun trust --remove "$FPR_OTHER"
  assert_status 0
  no_gpg_left

  # signed by a key that is revoked after the fetch
  run_podrun image rm "$ID"
  assert_status 0
  trust_key podrun.test revoked
  sig revoked
  run_podrun fetch "$AC"
  assert_status 0
  verify_ok
  cp "$BATS_FILE_TMPDIR/revoked-now.asc" "$CONF/trustedkeys/prefix.d/podrun.test/$FPR_REVOKED"
  run_podrun image verify "$ID"
  verify_fails "signature" "revoked"

  # unverified: fetched with --insecure-options=image
  run_podrun image rm "$ID"
  assert_status 0
  rm -f "$AC.asc"
  run_podrun fetch --insecure-options=image "$AC"
  assert_status 0
  run_podrun image verify "$ID"
  assert_status 0
  [[ "${lines[0]}" == "$ID podrun.test/busybox"*" ok (unsigned: fetched with --insecure-options=image)" ]] || fail "line"
  # several images: each has its line, and one failing fails the command
  run_podrun image verify "$ID" no.such/image
  assert_one_line_error "no.such/image"
  [[ ${#lines[@]} -eq 1 ]] || fail "one line for the image found"
  no_gpg_left
}

# ---- masking and gpg homes left by a killed podrun --------------------------

@test "masking: an empty local file named like a system key masks it (listed masked, trusted for nothing); a local copy replaces it; --remove of a system key says how to mask it" {
  mkdir -p "$SYSCONF/trustedkeys/prefix.d/podrun.test"
  cp "$BATS_FILE_TMPDIR/trusted.asc" "$SYSCONF/trustedkeys/prefix.d/podrun.test/$FPR_TRUSTED"
  sig trusted
  run_podrun fetch "$AC"
  assert_status 0
  local id=$output
  run_podrun image rm "$id"
  assert_status 0
  run_podrun trust --remove "$FPR_TRUSTED"
  assert_one_line_error "read-only" "mask it with an empty file"
  mkdir -p "$CONF/trustedkeys/prefix.d/podrun.test"
  : >"$CONF/trustedkeys/prefix.d/podrun.test/$FPR_TRUSTED"
  run_podrun trust --list --format=json
  assert_status 0
  [[ $(json_query 'len(j)' <<<"$output") == 1 ]] || fail "one key listed"
  [[ $(json_query 'j[0]["masked"]' <<<"$output") == true && $(json_query 'j[0]["system"]' <<<"$output") == true ]] ||
    fail "not listed as a masked system key"
  [[ $(json_query 'j[0]["uid"]' <<<"$output") == "(masked by $CONF/trustedkeys/prefix.d/podrun.test/$FPR_TRUSTED)" ]] ||
    fail "uid does not name the mask"
  run_podrun fetch "$AC"
  assert_one_line_error "no key is trusted for \"podrun.test/busybox\""
  nothing_left
  # a mask of another prefix masks nothing here
  mv "$CONF/trustedkeys/prefix.d/podrun.test" "$CONF/trustedkeys/prefix.d/other.test"
  run_podrun fetch "$AC"
  assert_status 0
  run_podrun image rm "$output"
  assert_status 0
  # the mask is not removed by --remove (that would trust the key again)
  mv "$CONF/trustedkeys/prefix.d/other.test" "$CONF/trustedkeys/prefix.d/podrun.test"
  run_podrun trust --remove "$FPR_TRUSTED"
  assert_status 254
  [[ -e $CONF/trustedkeys/prefix.d/podrun.test/$FPR_TRUSTED ]] || fail "the mask was removed"
  # a local copy of the key replaces the system's: listed once, as local
  cp "$BATS_FILE_TMPDIR/trusted.asc" "$CONF/trustedkeys/prefix.d/podrun.test/$FPR_TRUSTED"
  run_podrun trust --list --format=json
  [[ $(json_query 'len(j)' <<<"$output") == 1 && $(json_query 'j[0]["system"]' <<<"$output") == false ]] ||
    fail "not listed once, as local"
  run_podrun fetch "$AC"
  assert_status 0
  no_gpg_left
}

# homes PATTERN: the gpg homes in the test's TMPDIR.
homes() {
  find "$T_TMP" -maxdepth 1 -name 'podrun-gpg-*' | wc -l
}

@test "gpg homes: a kill -9 campaign during image verify leaves homes that the next podrun sweeps; a home whose podrun lives (its lock held) is kept" {
  trust_key podrun.test trusted
  sig trusted
  run_podrun fetch "$AC"
  assert_status 0
  ID=$output
  local i pid left=0 d
  for ((i = 0; i < 10; i++)); do
    (exec podrun image verify "$ID" >/dev/null 2>&1) &
    pid=$!
    sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    left=$((left + $(homes) > 0))
  done
  # the gpg a killed podrun started ends by itself (its pipes close)
  for ((i = 0; i < 50; i++)); do
    pgrep -f "$T_TMP/podrun-gpg" >/dev/null || break
    sleep 0.1
  done
  echo "homes left by the kills: $(homes)"
  # one dead home for sure (no lock holder), and one a live podrun holds
  d=$T_TMP/podrun-gpg-dead01
  mkdir -m 0700 "$d" && touch "$d/pubring.kbx"
  mkdir -m 0700 "$T_TMP/podrun-gpg-live01"
  flock "$T_TMP/podrun-gpg-live01" sleep 60 &
  local holder=$!
  for ((i = 0; i < 50; i++)); do
    ! flock -n "$T_TMP/podrun-gpg-live01" true || { sleep 0.1; continue; }
    break
  done
  # a directory of another user is not ours to sweep
  mkdir -m 0700 "$T_TMP/podrun-gpg-other1"
  chown 65534 "$T_TMP/podrun-gpg-other1"
  verify_ok
  [[ $(find "$T_TMP" -maxdepth 1 -name 'podrun-gpg-*' | sort | xargs -n1 basename | tr '\n' ' ') == "podrun-gpg-live01 podrun-gpg-other1 " ]] ||
    fail "left: $(ls -A "$T_TMP")"
  pkill -P "$holder" sleep # the lock is on flock's child's fd too
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  rmdir "$T_TMP/podrun-gpg-other1"
  verify_ok
  [[ -z "$(ls -A "$T_TMP")" ]] || fail "left in TMPDIR: $(ls -A "$T_TMP")"
  no_gpg_left
}

@test "image verify: an ACI fetched again with a new signature keeps that one alone (the old blob goes), and it is what is checked" {
  trust_key podrun.test trusted
  trust_key podrun.test sub
  sig trusted
  run_podrun fetch "$AC"
  assert_status 0
  ID=$output
  local first second
  first=$(sha256sum "$AC.asc" | cut -d' ' -f1)
  [[ -f $STORE/cas/blob/sha256/${first:0:2}/$first ]] || fail "the signature is not kept"
  sig sub
  second=$(sha256sum "$AC.asc" | cut -d' ' -f1)
  run_podrun fetch "$AC"
  assert_status 0
  [[ -f $STORE/cas/blob/sha256/${second:0:2}/$second ]] || fail "the new signature is not kept"
  [[ ! -e $STORE/cas/blob/sha256/${first:0:2}/$first ]] || fail "the replaced signature is left"
  verify_ok
  # the subkey's key removed: the kept signature is the new one
  run_podrun trust --remove "$FPR_SUB"
  assert_status 0
  run_podrun image verify "$ID"
  verify_fails "signature" "not trusted"
  run_podrun image rm "$ID"
  assert_status 0
  [[ -z $(find "$STORE/cas/blob" -type f) ]] || fail "left: $(find "$STORE/cas/blob" -type f)"
  no_gpg_left
}
