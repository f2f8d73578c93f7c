#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/alternate.py [--warmup W] --runs N [--round-cleanup SHELL-CMD] [--run-cleanup SHELL-CMD] --export-json FILE
    -n NAME CMD [-n NAME CMD]...

Times commands that are compared with each other one run at a time, in turn, each
round starting one command further on (A B C, then B C A, then C A B, and so on), so
that a machine that slows down or speeds up during the measurement weighs on each
alike, and each is first after a --round-cleanup as often; hyperfine runs all of one
command before the next.
Each run's wall time and CPU time (user + system of the command and every process it
waited for, from wait4) are recorded. CMD is split as a shell would split words, with
no shell (hyperfine -N). A run that exits non-zero stops the measurement.

--round-cleanup runs SHELL-CMD (sh -c, untimed) after each round of every command, for
commands that leave what they made behind (a tree extracted into a new directory).
--run-cleanup runs SHELL-CMD (untimed) after each run instead.

FILE has hyperfine's shape ("results": [{"command", "times", "user", "system"}]) and
per-run "cpu_times" too (seconds), which bench/report.py prefers."""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time


def run_once(argv):
    with open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, null.fileno(), 0), (os.POSIX_SPAWN_DUP2, null.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, null.fileno(), 2)])
        _, status, ru = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"alternate.py: {shlex.join(argv)!r} failed (wait status {status})")
    return wall, ru.ru_utime, ru.ru_stime


def cleanup(flag, cmd):
    if cmd and subprocess.run(["sh", "-c", cmd]).returncode != 0:
        sys.exit(f"alternate.py: {flag} {cmd!r} failed")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--round-cleanup")
    p.add_argument("--run-cleanup")
    p.add_argument("--export-json", required=True)
    p.add_argument("-n", nargs=2, action="append", metavar=("NAME", "CMD"), required=True)
    a = p.parse_args()
    cmds = [(name, shlex.split(cmd)) for name, cmd in a.n]
    res = {name: {"times": [], "cpu_times": [], "user": 0.0, "system": 0.0} for name, _ in cmds}
    for _ in range(a.warmup):
        for _, argv in cmds:
            run_once(argv)
    for i in range(a.runs):
        order = cmds[i % len(cmds):] + cmds[:i % len(cmds)]
        for name, argv in order:
            wall, user, system = run_once(argv)
            r = res[name]
            r["times"].append(wall)
            r["cpu_times"].append(user + system)
            r["user"] += user / a.runs
            r["system"] += system / a.runs
            cleanup("--run-cleanup", a.run_cleanup)
        cleanup("--round-cleanup", a.round_cleanup)
    out = {"results": [{"command": name, **r} for name, r in res.items()]}
    with open(a.export_json, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
