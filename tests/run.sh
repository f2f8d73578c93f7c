#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The one test runner, called by `make check` from the repository root as
#   BUILD=<build dir> PODRUN=<absolute path of podrun> sh tests/run.sh
# It runs, in order: the unit test binaries ($BUILD/tests/test-*, cmocka in TAP mode),
# the fuzz replayers over their saved inputs ($BUILD/tests/fuzz-<target> over
# tests/fuzz/<target>/), then the end-to-end suites (bats --tap tests/e2e, as root).
# It prints every suite's TAP as it comes, then the failures again, and ends with one
# line "N passed, N failed, N skipped". It exits non-zero if anything failed or if no
# test ran at all. A suite that crashes, times out, exits non-zero without reporting a
# failing test, or runs fewer tests than it planned counts as one more failure.
set -u

cd "$(dirname "$0")/.." || exit 2
root=$(pwd)

BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
PODRUN=${PODRUN:-$BUILD/bin/podrun}
case $PODRUN in /*) ;; *) PODRUN=$root/$PODRUN ;; esac
export BUILD PODRUN

# Per-suite time limits (seconds); a hung suite must not hang `make check`.
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-300}
E2E_TIMEOUT=${E2E_TIMEOUT:-1500}

passed=0
failed=0
skipped=0
failures=
suite_pid=

work=$(mktemp -d "${TMPDIR:-/tmp}/podrun-check.XXXXXX") || exit 2
cleanup() {
  if [ -n "$suite_pid" ]; then kill "$suite_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "tests/run.sh: interrupted" >&2; exit 130' INT TERM

nl='
'

add_failure() {
  failed=$((failed + 1))
  failures="$failures  $1$nl"
}

# run_suite NAME TIMEOUT CMD [ARGS…]: runs CMD, prints and counts its TAP lines.
# Sets s_ok, s_notok, s_skip, s_plan, s_seen, s_rc and s_plans for the caller.
run_suite() {
  name=$1 limit=$2
  shift 2
  echo "=== $name"
  rm -f "$work/fifo"
  mkfifo "$work/fifo" || exit 2
  timeout --kill-after=10 "$limit" "$@" >"$work/fifo" 2>&1 </dev/null &
  suite_pid=$!
  s_ok=0 s_notok=0 s_skip=0 s_plan=0 s_plans=0
  while IFS= read -r line; do
    case $line in
      'not ok'*'# '[Ss][Kk][Ii][Pp]* | 'ok'*'# '[Ss][Kk][Ii][Pp]* | \
        'not ok'*'# '[Tt][Oo][Dd][Oo]* | 'ok'*'# '[Tt][Oo][Dd][Oo]*)
        s_skip=$((s_skip + 1))
        echo "  $line"
        ;;
      'not ok'*)
        s_notok=$((s_notok + 1))
        add_failure "$name: ${line#not ok }"
        echo "FAIL $line"
        ;;
      'ok'*)
        s_ok=$((s_ok + 1))
        echo "  $line"
        ;;
      1..[0-9]*)
        n=${line#1..}
        n=${n%%[!0-9]*}
        s_plan=$((s_plan + n))
        s_plans=$((s_plans + 1))
        echo "  $line"
        ;;
      *)
        echo "  $line"
        ;;
    esac
  done <"$work/fifo"
  wait "$suite_pid"
  s_rc=$?
  suite_pid=
  s_seen=$((s_ok + s_notok + s_skip))
  passed=$((passed + s_ok))
  skipped=$((skipped + s_skip))

  # One extra failure when the binary's exit does not match what it reported.
  why=
  if [ "$s_rc" -eq 124 ]; then
    why="timed out after ${limit}s"
  elif [ "$s_rc" -gt 128 ]; then
    why="killed by signal $((s_rc - 128))"
  elif [ "$s_plans" -eq 0 ]; then
    why="printed no TAP plan (exit status $s_rc)"
  elif [ "$s_seen" -ne "$s_plan" ]; then
    why="planned $s_plan tests but reported $s_seen (exit status $s_rc)"
  elif [ "$s_rc" -ne 0 ] && [ "$s_notok" -eq 0 ]; then
    why="exited with status $s_rc but reported no failing test"
  fi
  s_failed=$s_notok
  if [ -n "$why" ]; then
    add_failure "$name: $why"
    echo "FAIL $name: $why"
    s_failed=$((s_failed + 1))
  fi
  echo "--- $name: $s_ok passed, $s_failed failed, $s_skip skipped"
}

is_test_binary() {
  [ -f "$1" ] && [ -x "$1" ] && case $1 in *.o | *.d | *.a) false ;; *) true ;; esac
}

# 1. Unit tests.
found=0
for bin in "$BUILD"/tests/test-*; do
  is_test_binary "$bin" || continue
  found=1
  CMOCKA_MESSAGE_OUTPUT=TAP run_suite "unit/${bin##*/}" "$UNIT_TIMEOUT" "$bin"
done
[ "$found" = 1 ] || echo "# no unit test binaries under $BUILD/tests (run: make tests)"

# 2. Fuzz replayers over their saved inputs.
for bin in "$BUILD"/tests/fuzz-*; do
  is_test_binary "$bin" || continue
  target=${bin##*/fuzz-}
  corpus=tests/fuzz/$target
  if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
    echo "=== fuzz/$target"
    add_failure "fuzz/$target: no saved inputs under $corpus/"
    echo "FAIL fuzz/$target: no saved inputs under $corpus/"
    continue
  fi
  run_suite "fuzz/$target" "$FUZZ_TIMEOUT" "$bin" "$corpus"
  if [ "$s_rc" -ne 0 ] && [ "$s_seen" -lt "$(find "$corpus" -type f ! -name '.*' | wc -l)" ]; then
    # The replayer goes through the inputs in name order: name the one it died on.
    next=$(find "$corpus" -type f ! -name '.*' | LC_ALL=C sort | sed -n "$((s_seen + 1))p")
    [ -z "$next" ] || echo "  # fuzz/$target stopped on input $next (reproduce: $bin $next)"
  fi
done

# 3. End-to-end tests (bats, as root).
if ! command -v bats >/dev/null 2>&1; then
  echo "=== e2e"
  add_failure "e2e: bats is not installed (apt-get install bats)"
  echo "FAIL e2e: bats is not installed (apt-get install bats)"
elif [ -z "$(ls tests/e2e/*.bats 2>/dev/null)" ]; then
  echo "=== e2e"
  echo "# no .bats files under tests/e2e"
elif [ "$(id -u)" -ne 0 ]; then
  echo "=== e2e"
  n=$(bats --count tests/e2e 2>/dev/null || echo 0)
  skipped=$((skipped + n))
  echo "  # skip e2e: $n tests need root (running as uid $(id -u))"
else
  mkdir -p "$work/bats-tmp"
  TMPDIR=$work/bats-tmp run_suite "e2e" "$E2E_TIMEOUT" bats --tap tests/e2e
fi

if [ -n "$failures" ]; then
  echo
  echo "Failures:"
  printf '%s' "$failures"
fi
total=$((passed + failed + skipped))
if [ "$total" -eq 0 ] || [ $((passed + failed)) -eq 0 ]; then
  echo "tests/run.sh: no test ran"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ $((passed + failed)) -gt 0 ]
