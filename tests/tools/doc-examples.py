#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The examples of the command pages (Documentation/commands/*.md), for
tests/e2e/docs.bats, which runs each of them against a scratch store.

An example is
  - a line of the "Example:" or "Examples:" paragraph of a page's help block (the
    text between <!-- help --> and <!-- /help -->, which `make docs` copies from
    `podrun <command> --help`); a line ending in a backslash goes on on the next;
  - a command of a fenced block that the page marks runnable: the line just before
    its opening fence is <!-- runnable -->. There a command is a line that starts
    with a prompt ("# " or "$ "); the lines after it, up to the next prompt, are its
    documented output, which the command's real output must match (see compare;
    a command shown without output is only run).

The placeholders the examples use stand for what docs.bats makes for them:
  5f0b                        the UUID of the pod the page needs (docs.bats: FIXTURE)
  /srv/…, /tmp/…              host paths, taken inside the example's scratch directory
  podrun.test/busybox:1.35.0  the busybox image at the version this machine built

Usage:
  doc-examples.py uses-pod PAGE            exit 0 when an example of PAGE names 5f0b
  doc-examples.py extract PAGE UUID SCRATCH VERSION
      prints each example as two NUL-terminated fields: the command, placeholders
      replaced, and its documented output as JSON (null when it has none)
  doc-examples.py compare EXPECTED_JSON ACTUAL_FILE
      exit 0 when the output in ACTUAL_FILE matches the documented one
"""
import json
import os
import re
import sys

PROMPT = re.compile(r"^[#$] ")


def joined(lines):
    """Joins lines ending in a backslash with the next one."""
    out, cur = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            cur += line.strip()[:-1].rstrip() + " "
            continue
        out.append((cur + line.strip()) if cur else line.strip())
        cur = ""
    if cur:
        out.append(cur.strip())
    return out


def help_examples(text):
    m = re.search(r"^<!-- help -->\n(.*?)^<!-- /help -->", text, re.S | re.M)
    if not m:
        return []
    lines, on, found = m.group(1).splitlines(), False, []
    for line in lines:
        if re.match(r"^Examples?:$", line):
            on = True
            continue
        if on and not line.strip():
            on = False
        if on:
            found.append(line)
    return [(cmd, None) for cmd in joined(found)]


def block_examples(text):
    found, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() != "<!-- runnable -->":
            i += 1
            continue
        i += 1
        if i >= len(lines) or not lines[i].startswith("```"):
            sys.exit(f"doc-examples: <!-- runnable --> is not followed by a fenced block (line {i})")
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        cmd_lines, expect = None, []
        for line in body + ["# "]:  # a last prompt ends the last command
            if PROMPT.match(line):
                if cmd_lines is not None:
                    found.append((" ".join(joined(cmd_lines)), expect))
                cmd_lines, expect = [line[2:]], []
            elif cmd_lines is not None and cmd_lines[-1].rstrip().endswith("\\") and not expect:
                cmd_lines.append(line)
            elif cmd_lines is not None:
                expect.append(line)
        found = [(c, e) for c, e in found if c.strip()]
    return found


def examples(page):
    text = open(page).read()
    return help_examples(text) + block_examples(text)


def substitute(cmd, uuid, scratch, version):
    cmd = re.sub(r"\b5f0b\b", uuid, cmd)
    cmd = re.sub(r"(file://|[\s='\"]|^)/(srv|tmp)/", lambda m: f"{m.group(1)}{scratch}/{m.group(2)}/", cmd)
    if os.environ.get("DOC_REGISTRY"):  # the registry the test started for docker:// examples
        cmd = cmd.replace("127.0.0.1:5000", os.environ["DOC_REGISTRY"])
    return cmd.replace("podrun.test/busybox:1.35.0", f"podrun.test/busybox:{version}")


def line_matches(want, got, header):
    """One documented output line against the real one. The page's image ids are
    made up: "sha512-3f1c…" stands for any."""
    want = re.sub(r"sha512-[0-9a-f]+…?", "sha512-ID", want)
    got = re.sub(r"sha512-[0-9a-f]{12,128}", "sha512-ID", got)
    if "…" in want:  # "sha512-3f1c…": what comes before the ellipsis
        return got.startswith(want.split("…")[0])
    if header:  # a table's header: the same columns
        return want.split() == got.split()
    m = re.match(r"^([a-z][a-z0-9_-]*)=", want)
    if m:  # "state=exited": the same key in the same place, whatever its value
        return got.startswith(m.group(1) + "=")
    return want == got


def compare(expected, actual):
    want = [l for l in expected if l.strip()]
    got = [l for l in actual.splitlines() if l.strip()]
    if not want:  # the page shows none: what it prints is not the point there
        return True
    if want and re.match(r"^[A-Z][A-Z0-9 ]+$", want[0]):  # a table: its header; the rows are the store's
        ok = bool(got) and line_matches(want[0], got[0], True)
    else:
        ok = len(want) == len(got) and all(line_matches(w, g, False) for w, g in zip(want, got))
    if not ok:
        print("documented:\n  " + "\n  ".join(want) + "\nprinted:\n  " + "\n  ".join(got))
    return ok


def main(argv):
    if len(argv) == 3 and argv[1] == "uses-pod":
        return 0 if any(re.search(r"\b5f0b\b", c) for c, _ in examples(argv[2])) else 1
    if len(argv) == 6 and argv[1] == "extract":
        for cmd, expect in examples(argv[2]):
            sys.stdout.write(substitute(cmd, *argv[3:6]) + "\0" + json.dumps(expect) + "\0")
        return 0
    if len(argv) == 4 and argv[1] == "compare":
        return 0 if compare(json.loads(argv[2]), open(argv[3]).read()) else 1
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
