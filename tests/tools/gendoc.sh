#!/bin/sh
# Refreshes the "podrun … --help" block of every command page in
# Documentation/commands/ from the built binary, so the pages say what --help
# says. With --check, changes nothing and fails if a page is out of date or
# a verb has no page. Usage: gendoc.sh PODRUN [--check]
set -eu
podrun=$1
check=${2:-}
dir=Documentation/commands
status=0

# Every leaf command path: "fetch", "image list", …, from the help tables.
verbs() {
  "$podrun" help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}' | while read -r v; do
    subs=$("$podrun" help "$v" | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}')
    if [ -n "$subs" ]; then
      for s in $subs; do echo "$v $s"; done
    else
      echo "$v"
    fi
  done
}

verbs | while read -r path; do
  page="$dir/podrun-$(echo "$path" | tr ' ' '-').md"
  if [ ! -f "$page" ]; then
    echo "gendoc: $page is missing (a page per command)" >&2
    exit 1
  fi
  tmp=$(mktemp)
  # shellcheck disable=SC2086
  {
    sed '/^<!-- help -->$/q' "$page"
    echo '```'
    "$podrun" $path --help
    echo '```'
    sed -n '/^<!-- \/help -->$/,$p' "$page"
  } >"$tmp"
  if cmp -s "$tmp" "$page"; then
    rm -f "$tmp"
  elif [ "$check" = --check ]; then
    echo "gendoc: $page does not match 'podrun $path --help' (run: make docs)" >&2
    diff -u "$page" "$tmp" >&2 || true
    rm -f "$tmp"
    exit 1
  else
    mv "$tmp" "$page"
    echo "updated $page"
  fi
done || status=1
exit $status
