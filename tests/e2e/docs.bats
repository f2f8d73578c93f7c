#!/usr/bin/env bats
# Documentation/commands/ has a page per command, and each page's help block is
# exactly what `podrun <command> --help` prints (refresh them with `make docs`).

load helpers
load registry

teardown() {
  registry_stop
  teardown_pods
}

@test "every command has a page, and its --help block is current" {
  cd "$E2E_ROOT"
  log_run sh tests/tools/gendoc.sh "$PODRUN" --check
  assert_status 0
}

@test "the stage1 contract, pod lifecycle, store format, testing and security pages exist" {
  local p
  for p in stage1-contract pod-lifecycle store-format testing security; do
    [[ -s "$E2E_ROOT/Documentation/$p.md" ]] || fail "Documentation/$p.md is missing"
  done
}

@test "no page of the documentation (nor the README) holds a merge's conflict markers" {
  cd "$E2E_ROOT"
  local hits
  hits=$(grep -n -E '^(<<<<<<< |=======$|>>>>>>> )' README.md Documentation/*.md Documentation/commands/*.md || true)
  [[ -z "$hits" ]] || fail "conflict markers: $hits"
}

@test "the README and the documentation name only files that exist: links, paths of the tree, \"see X\"" {
  requires python3
  cd "$E2E_ROOT"
  log_run python3 - <<'PY'
import glob, os, re, sys
# stage1/ as such is left out (it also names the pod directory's stage1/rootfs, …): only its source folders
tops = ("Documentation/", "tests/", "bench/", "stage0/", "store/", "lib/", "stage2/", "stage1/common/", "stage1/nspawn/",
        "stage1/fly/", "stage1/mkaci.sh")
bad = []
for f in ["README.md"] + sorted(glob.glob("Documentation/*.md") + glob.glob("Documentation/commands/*.md")):
    text = re.sub(r"```.*?```", "", open(f).read(), flags=re.S)
    here = os.path.dirname(f)
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        t = m.group(1).split("#")[0]
        if t and not re.match(r"^[a-z]+:", t) and not os.path.exists(os.path.join(here, t)):
            bad.append(f"{f}: a link to {t}")
    for m in re.finditer(r"`([^`\s]+)`", text):
        t = m.group(1).split(":")[0]
        if t.startswith(tops) and not re.search(r"[<>*{…]", t) and not os.path.exists(t):
            bad.append(f"{f}: the path {t}")
    for m in re.finditer(r"\bsee `([^`]+)`", text):
        if not m.group(1).startswith("podrun") and not os.path.exists(m.group(1)):
            bad.append(f"{f}: see {m.group(1)}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
  assert_status 0
}

# The pod each page's examples need for 5f0b: "STATE APP", a pod of podrun.test/busybox
# whose one app is APP, exited (it said hello from APP), running (a sleep) or
# prepared. A page whose examples name 5f0b needs a line here.
declare -gA FIXTURE=(
  [cat-manifest]="exited busybox" [enter]="running web" [export]="exited build" [logs]="exited web"
  [list]="exited busybox" [rm]="exited busybox" [run-prepared]="prepared busybox" [status]="exited busybox"
  [stop]="running busybox" [generate-unit]="prepared busybox"
)

# fixture_pod STATE APP: makes that pod in $STORE and prints its UUID.
fixture_pod() {
  local state=$1 app=$2 u=$BATS_TEST_TMPDIR/fixture-uuid
  rm -f "$u"
  case $state in
    exited) # (a moment long: a pod that ends at once may be recorded as never started, issue 12)
      podrun run --uuid-file-save="$u" "$BUSYBOX_NAME" --name="$app" --exec=/bin/sh -- -c "echo hello from $app; sleep 0.5" \
        >/dev/null 2>&1 || return 1 ;;
    running)
      podrun run --uuid-file-save="$u" "$BUSYBOX_NAME" --name="$app" --exec=/bin/sleep -- 60 >/dev/null 2>&1 3>&- &
      RUNNING+=("$!")
      [[ -n "$(wait_pod_file "$u" pid)" ]] || return 1 ;;
    prepared)
      podrun prepare --uuid-file-save="$u" "$BUSYBOX_NAME" --name="$app" >/dev/null || return 1 ;;
  esac
  cat "$u"
}

@test "every example of the command pages runs, and a runnable block prints what the page shows" {
  requires root python3 nspawn
  cd "$E2E_ROOT"
  local page name n=0 version uuid scratch cmd expect rc
  version=$(busybox_version)
  # the registry the docker:// examples name (127.0.0.1:5000 on the pages)
  requires registry
  registry_start
  oci_image_busybox "$BATS_TEST_TMPDIR/layout" bb
  image_push "oci:$BATS_TEST_TMPDIR/layout:bb" "$REGISTRY/test/busybox:1"
  export DOC_REGISTRY=$REGISTRY
  for page in Documentation/commands/*.md; do
    name=${page##*/podrun-}
    name=${name%.md}
    [[ -n $(python3 tests/tools/doc-examples.py extract "$page" x x x | tr -d '\0') ]] || continue
    echo "=== $page"
    STORE=$BATS_TEST_TMPDIR/$name/store
    scratch=$BATS_TEST_TMPDIR/$name/cwd
    RUNNING=()
    # the scratch directory looks like a checkout after `make`, with the host paths
    # the examples name
    mkdir -p "$scratch/build" "$scratch/srv/data" "$scratch/srv/images" "$scratch/tmp"
    cp "$(busybox_aci)" "$scratch/build/busybox.aci"
    xz -c "$scratch/build/busybox.aci" >"$scratch/srv/images/busybox.aci.xz"
    fetch_busybox
    uuid=none
    if [[ -n ${FIXTURE[$name]:-} ]]; then
      # shellcheck disable=SC2086
      uuid=$(fixture_pod ${FIXTURE[$name]}) || fail "$page: the fixture pod (${FIXTURE[$name]}) failed"
    elif python3 tests/tools/doc-examples.py uses-pod "$page"; then
      fail "$page: its examples name a pod (5f0b): give it a FIXTURE in tests/e2e/docs.bats"
    fi
    while IFS= read -r -d '' cmd && IFS= read -r -d '' expect; do
      echo "\$ $cmd"
      rc=0
      (cd "$scratch" && eval "$cmd") </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 || rc=$?
      sed 's/^/  /' "$BATS_TEST_TMPDIR/out"
      [[ $rc -eq 0 ]] || fail "$page: the example exits $rc: $cmd"
      [[ $expect == null ]] || python3 tests/tools/doc-examples.py compare "$expect" "$BATS_TEST_TMPDIR/out" ||
        fail "$page: the example does not print what the page shows: $cmd"
      n=$((n + 1))
    done < <(python3 tests/tools/doc-examples.py extract "$page" "$uuid" "$scratch" "$version")
    for uuid in $(ls "$STORE/pods/run" 2>/dev/null); do
      podrun stop --force "$uuid" >/dev/null 2>&1 || true
    done
    [[ ${#RUNNING[@]} -eq 0 ]] || wait "${RUNNING[@]}" || true
  done
  echo "$n examples ran"
  [[ $n -ge 30 ]] || fail "only $n examples found"
}
