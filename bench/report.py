#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/report.py OUT_DIR RESULT_BASE — turns bench/run.sh's raw output (hyperfine
JSON exports, rss.tsv, skipped.tsv, meta.tsv) into one table: RESULT_BASE.md and
RESULT_BASE.json. Ratios are podrun's median over the peer's median (below 1.0:
podrun is faster or smaller)."""
import json
import os
import statistics
import sys

out, base = sys.argv[1], sys.argv[2]


def tsv(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]


def hyperfine(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        rows = []
        for r in json.load(f)["results"]:
            t = [x * 1000 for x in r["times"]]
            rows.append({"name": r["command"], "median_ms": statistics.median(t), "min_ms": min(t),
                         "max_ms": max(t), "runs": len(t)})
        return rows


meta = dict(tsv("meta.tsv"))
skipped = [{"what": a, "why": b} for a, b in tsv("skipped.tsv")]
big_bytes = int(meta.get("big image", "0").split()[0] or 0)

groups = [
    ("1. Pod start to exit of /bin/true", hyperfine("start.json") + hyperfine("first.json")),
    ("2a. Large image, tmpfs: import (fetch) and render", hyperfine("big-tmpfs-fetch.json") + hyperfine("big-tmpfs-render.json")),
    ("2b. Large image, disk (fresh directories): import and render", hyperfine("big-disk-fetch.json") + hyperfine("big-disk-render.json")),
    ("3. Scale: list and status, gc", [r for n in (10, 100, 1000) for r in hyperfine(f"scale-{n}.json")] + hyperfine("gc.json")),
]
rss = [{"name": a, "peak_rss_kib": int(b)} for a, b in tsv("rss.tsv") if b.strip().isdigit()]


def ms(x):
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def fmt_ratio(a, b):
    return f"{a / b:.2f}×" if b else "—"


md = [f"# podrun benchmark, {meta.get('date', '?')}", ""]
for k in ("machine", "versions", "big image"):
    if k in meta:
        md.append(f"- {k}: {meta[k]}")
if meta.get("quick") == "1":
    md.append("- **BENCH_QUICK=1: few runs; a smoke test, not figures to quote**")
md.append("")

for title, rows in groups:
    if not rows:
        continue
    peers = [r for r in rows if not r["name"].startswith("podrun")]
    ours = [r for r in rows if r["name"].startswith("podrun")]
    head = ["command", "median ms", "min–max ms"]
    if title.startswith("2"):
        head.append("MB/s")
    head += [f"÷ {p['name']}" for p in peers]
    md += [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["name"], ms(r["median_ms"]), f"{ms(r['min_ms'])}–{ms(r['max_ms'])}"]
        if title.startswith("2"):
            cells.append(f"{big_bytes / 1e6 / (r['median_ms'] / 1000):.0f}" if big_bytes else "—")
        cells += [fmt_ratio(r["median_ms"], p["median_ms"]) if r in ours else "" for p in peers]
        md.append("| " + " | ".join(cells) + " |")
    md.append("")

# podrun's own rows: no ratio against podrun run (fly)
OURS = ("podrun", "pod keeper", "pod init", "app's stage2")
if rss:
    md += ["## 4. Memory: peak RSS (largest process of the run; median of 5)", "",
           "| what | KiB | ÷ podrun run (fly) |", "|---|---|---|"]
    ref = next((r["peak_rss_kib"] for r in rss if r["name"].startswith("podrun run")), None)
    for r in rss:
        md.append(f"| {r['name']} | {r['peak_rss_kib']} | "
                  f"{fmt_ratio(ref, r['peak_rss_kib']) if ref and not r['name'].startswith(OURS) else ''} |")
    md.append("")


def find(rows, name):
    return next((r for r in rows if r["name"] == name), None)


allrows = [r for _, rows in groups for r in rows]
targets = []


def target(what, ok, detail):
    targets.append({"target": what, "met": ok, "measured": detail})


fly, crun = find(allrows, "podrun run (fly)"), find(allrows, "crun run")
if fly and crun:
    target("fly start ≤ 1.0× crun run", fly["median_ms"] <= crun["median_ms"],
           f"{ms(fly['median_ms'])} ms vs {ms(crun['median_ms'])} ms ({fmt_ratio(fly['median_ms'], crun['median_ms'])})")
for where in ("tmpfs", "disk"):
    pr, bt = find(allrows, f"podrun image render ({where})"), find(allrows, f"bsdtar -xf ({where})")
    if pr and bt:
        target(f"render ({where}) ≥ 1.0× bsdtar -xf throughput", pr["median_ms"] <= bt["median_ms"],
               f"{ms(pr['median_ms'])} ms vs {ms(bt['median_ms'])} ms ({fmt_ratio(pr['median_ms'], bt['median_ms'])})")
l100, l1000 = find(allrows, "podrun list (100 pods)"), find(allrows, "podrun list (1000 pods)")
if l1000:
    target("list of 1,000 pods ≤ 100 ms", l1000["median_ms"] <= 100, f"{ms(l1000['median_ms'])} ms")
if l100 and l1000:
    target("list grows no faster than linearly (1000 vs 100 pods ≤ 10×)",
           l1000["median_ms"] <= 10 * l100["median_ms"],
           f"{fmt_ratio(l1000['median_ms'], l100['median_ms'])}")
r_pod = next((r for r in rss if r["name"].startswith("podrun run")), None)
r_runc = next((r for r in rss if r["name"] == "runc run"), None)
r_keep = next((r for r in rss if r["name"].startswith("pod keeper")), None)
r_init = next((r for r in rss if r["name"].startswith("pod init")), None)
if r_pod and r_runc:
    target("stage0 peak RSS ≤ runc's", r_pod["peak_rss_kib"] <= r_runc["peak_rss_kib"],
           f"{r_pod['peak_rss_kib']} KiB vs {r_runc['peak_rss_kib']} KiB")
if r_keep:
    target("fly: the process kept for the pod's life ≤ 1 MiB resident", r_keep["peak_rss_kib"] <= 1024,
           f"{r_keep['peak_rss_kib']} KiB")
if r_init:
    target("nspawn: the pod init ≤ 1 MiB resident", r_init["peak_rss_kib"] <= 1024, f"{r_init['peak_rss_kib']} KiB")
ns, bare, podman = find(allrows, "podrun run (nspawn)"), find(allrows, "systemd-nspawn"), find(allrows, "podman run --network=none")
if ns and bare:
    target("nspawn start ≤ 1.2× bare systemd-nspawn", ns["median_ms"] <= 1.2 * bare["median_ms"],
           f"{ms(ns['median_ms'])} ms vs {ms(bare['median_ms'])} ms ({fmt_ratio(ns['median_ms'], bare['median_ms'])})")
if ns and podman:
    target("nspawn start ≥ 2× faster than podman run --network=none", 2 * ns["median_ms"] <= podman["median_ms"],
           f"{ms(ns['median_ms'])} ms vs {ms(podman['median_ms'])} ms ({fmt_ratio(ns['median_ms'], podman['median_ms'])})")

md += ["## Targets", "", "| target | met | measured |", "|---|---|---|"]
for t in targets:
    md.append(f"| {t['target']} | {'yes' if t['met'] else '**no**'} | {t['measured']} |")
md.append("")
if skipped:
    md += ["## Not measured here", "", "| row | why |", "|---|---|"]
    for s in skipped:
        md.append(f"| {s['what']} | {s['why'].replace('|', '/')} |")
    md.append("")

with open(base + ".md", "w") as f:
    f.write("\n".join(md))
with open(base + ".json", "w") as f:
    json.dump({"meta": meta, "groups": [{"title": t, "rows": r} for t, r in groups], "rss": rss,
               "targets": targets, "skipped": skipped}, f, indent=2)
