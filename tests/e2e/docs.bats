#!/usr/bin/env bats
# Documentation/commands/ has a page per command, and each page's help block is
# exactly what `podrun <command> --help` prints (refresh them with `make docs`).

load helpers

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
