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


def hyperfine(*names):
    """The rows of hyperfine exports; a command in several exports gets all its runs.
    bench/alternate.py's exports have each run's CPU time too ("cpu_times"): their
    rows get its median; hyperfine's have only the mean of each export."""
    times, cpu_means, cpu_runs = {}, {}, {}
    for name in names:
        path = os.path.join(out, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for r in json.load(f)["results"]:
                times.setdefault(r["command"], []).extend(x * 1000 for x in r["times"])
                # the mean user and system time of each export, weighted by its runs
                cpu_means.setdefault(r["command"], []).append(((r["user"] + r["system"]) * 1000, len(r["times"])))
                cpu_runs.setdefault(r["command"], []).extend(x * 1000 for x in r.get("cpu_times", []))
    rows = []
    for n, t in times.items():
        row = {"name": n, "median_ms": statistics.median(t), "min_ms": min(t), "max_ms": max(t), "runs": len(t),
               "cpu_ms": sum(c * k for c, k in cpu_means[n]) / sum(k for _, k in cpu_means[n])}
        if cpu_runs[n]:
            row["cpu_median_ms"] = statistics.median(cpu_runs[n])
        rows.append(row)
    return rows


meta = dict(tsv("meta.tsv"))
skipped = [{"what": a, "why": b} for a, b in tsv("skipped.tsv")]
big_bytes = int(meta.get("big image", "0").split()[0] or 0)

pull_bytes = int(meta.get("pull image", "0").split()[0] or 0)

# A group: its title, its rows, and optionally `peers` (the rows podrun's are divided
# by; default every row whose name does not start with "podrun") and `mbytes` (for a
# MB/s column: the bytes each row moves).
groups = [
    {"title": "1. Pod start to exit of /bin/true", "rows": hyperfine("start.json") + hyperfine("first.json")},
    {"title": "2a. Large image, tmpfs: import (fetch) and render",
     "rows": hyperfine("big-tmpfs-fetch.json") + hyperfine("big-tmpfs-render.json"), "mbytes": big_bytes},
    {"title": "2b. Large image, disk (fresh directories): import and render",
     "rows": hyperfine("big-disk-fetch.json") + hyperfine("big-disk-render.json"), "mbytes": big_bytes},
    {"title": "3. Scale: list and status, gc",
     "rows": [r for n in (10, 100, 1000) for r in hyperfine(f"scale-{n}.json")] + hyperfine("gc.json")},
    {"title": "5a. Pull of a 5-layer image from docker-registry on 127.0.0.1, into tmpfs",
     "rows": hyperfine("pull-tmpfs.json"), "mbytes": pull_bytes},
    {"title": "5b. Pull of a 5-layer image from docker-registry on 127.0.0.1, to disk (fresh directories)",
     "rows": hyperfine("pull-disk.json"), "mbytes": pull_bytes},
    {"title": "7. Pod start to exit of /bin/true: 5 layers vs one layer of the same tree",
     "rows": hyperfine("layers-start.json"),
     "peers": ["podrun run (fly), one-layer ACI, by id", "podrun run (fly), one-layer ACI, by name"], "cpu": True},
    {"title": "8. Pod start to exit of /bin/true: a local file already in the store vs by name",
     "rows": hyperfine("file-start.json"), "peers": ["podrun run (fly) podrun.bench/busybox, by name"],
     "cpu": True},
    {"title": "9. kvm stage1: pod start to exit of /bin/true vs qemu booting the same kernel to a power-off (goal: 1.1x)",
     "rows": hyperfine("kvm.json")},
    {"title": "10. Pod start to exit of /bin/true on a network of the pod's own: podrun's default (CNI ptp, NAT) vs podman's",
     "rows": hyperfine("net.json"), "peers": ["podman run (its default network)"]},
    {"title": "12. ctr run --rm of /bin/true through containerd's runc shim: podrun-oci vs runc (goal: fly 1.2x runc)",
     "rows": hyperfine("ctr.json"), "peers": ["runc under ctr run --rm"]},
]
# row 7's floor (bench/overlay-floor.c): the kernel's overlay work of the same two starts
# without podrun, in µs: what of row 7's difference no runtime that stacks the layer
# trees can take away
layers_floor = hyperfine("layers-floor.json")
row7 = next(g for g in groups if g["title"].startswith("7."))


def layers_floor_md():
    rows = {r["name"].rsplit(", ", 1)[-1]: r for r in layers_floor}
    one, five = rows.get("one-layer ACI's tree"), rows.get("the 5 layer trees")
    pods = {r["name"]: r for r in row7["rows"]}
    pone = pods.get("podrun run (fly), one-layer ACI, by id")
    pfive = pods.get("podrun run (fly), 5-layer image, by id")
    if not (one and five and pone and pfive):
        return []

    def us(k, r):
        return r[k] * 1000

    return [f"The kernel alone (`bench/overlay-floor.c`, {one['runs']} runs of each in turn): the overlay "
            f"work of the start on the same layer trees (the mount of the app's root, its `proc`, `sys` and "
            f"`dev`, the lookups of `/bin/true`, `/etc/passwd` and `/etc/group`, the unmount) takes "
            f"{us('median_ms', one):.0f} µs for the one-layer tree and {us('median_ms', five):.0f} µs for the "
            f"5 layers (CPU {us('cpu_median_ms', one):.0f} and {us('cpu_median_ms', five):.0f} µs): "
            f"{us('median_ms', five) - us('median_ms', one):+.0f} µs wall, "
            f"{us('cpu_median_ms', five) - us('cpu_median_ms', one):+.0f} µs CPU for the 4 more lower directories. "
            f"The pods by id differ by {us('median_ms', pfive) - us('median_ms', pone):+.0f} µs wall, "
            f"{us('cpu_median_ms', pfive) - us('cpu_median_ms', pone):+.0f} µs CPU.", ""]


rss = [{"name": a, "peak_rss_kib": int(b)} for a, b in tsv("rss.tsv") if b.strip().isdigit()]
# row 6: name, bytes served (all GETs), of manifests and blobs, the floor, one run's ms
repull = []
for line in tsv("repull.tsv"):
    f = [line[0]] + line[1].split("\t")
    repull.append({"name": f[0], "served_bytes": int(f[1]), "image_bytes": int(f[2]), "floor_bytes": int(f[3]),
                   "one_run_ms": float(f[4])})


# row 11: name, requests/s, p99 ms, idle RSS KiB, peak RSS KiB, errors
api = []
for line in tsv("api.tsv"):
    f = [line[0]] + line[1].split("\t")
    api.append({"name": f[0], "requests_per_s": float(f[1] or 0), "p99_ms": float(f[2] or 0),
                "idle_rss_kib": int(f[3] or 0), "peak_rss_kib": int(f[4] or 0), "errors": f[5]})


def ms(x):
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def fmt_ratio(a, b):
    return f"{a / b:.2f}×" if b else "—"


md = [f"# podrun benchmark, {meta.get('date', '?')}", ""]
for k in ("machine", "versions", "big image", "pull image", "changed layer", "podman storage",
          "registry requests during the start rows"):
    if k in meta:
        md.append(f"- {k}: {meta[k]}")
if meta.get("quick") == "1":
    md.append("- **BENCH_QUICK=1: few runs; a smoke test, not figures to quote**")
md.append("")



def group_md(g):
    title, rows = g["title"], g["rows"]
    if not rows:
        return []
    if "peers" in g:
        peers = [r for r in rows if r["name"] in g["peers"]]
    else:
        peers = [r for r in rows if not r["name"].startswith("podrun")]
    ours = [r for r in rows if r["name"].startswith("podrun") and r not in peers]
    head = ["command", "median ms", "min–max ms"]
    if "mbytes" in g:
        head.append("MB/s")
    head += [f"÷ {p['name']}" for p in peers]
    if g.get("cpu"):
        head += ["CPU ms (user+system, median)"] + [f"CPU ÷ {p['name']}" for p in peers]
    out_md = [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["name"], ms(r["median_ms"]), f"{ms(r['min_ms'])}–{ms(r['max_ms'])}"]
        if "mbytes" in g:
            cells.append(f"{g['mbytes'] / 1e6 / (r['median_ms'] / 1000):.0f}" if g["mbytes"] else "—")
        cells += [fmt_ratio(r["median_ms"], p["median_ms"]) if r in ours else "" for p in peers]
        if g.get("cpu"):
            cells += [ms(r["cpu_median_ms"])] + [fmt_ratio(r["cpu_median_ms"], p["cpu_median_ms"]) if r in ours else ""
                                                  for p in peers]
        out_md.append("| " + " | ".join(cells) + " |")
    return out_md + [""] + g.get("after", [])


for g in groups:
    if not g["title"].startswith(("5", "6", "7", "8")):
        md += group_md(g)

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


for g in groups:
    if g["title"].startswith("5"):
        md += group_md(g)
if repull:
    md += ["## 6. Re-pull after the top layer changed: bytes the registry served (one run each)", "",
           "| what | bytes served | of which manifests and blobs | floor | ÷ floor | one run ms |",
           "|---|---|---|---|---|---|"]
    for r in repull:
        md.append(f"| {r['name']} | {r['served_bytes']} | {r['image_bytes']} | {r['floor_bytes']} | "
                  f"{fmt_ratio(r['image_bytes'], r['floor_bytes'])} | {ms(r['one_run_ms'])} |")
    md += ["", "Floor: the changed layer, the new manifest and its config (for the fetch with nothing "
           "changed: the manifest). ÷ floor counts manifests and blobs; the rest is the `/v2/` check.", ""]
row7["after"] = layers_floor_md()
for g in groups:
    if g["title"].startswith(("7", "8")):
        md += group_md(g)
if api:
    md += ["## 11. The API service: 100 connections for 10 s on loopback (wrk)", "",
           "| what | requests/s | p99 ms | RSS idle KiB | RSS peak KiB | errors |", "|---|---|---|---|---|---|"]
    for r in api:
        md.append(f"| {r['name']} | {r['requests_per_s']:.0f} | {ms(r['p99_ms'])} | {r['idle_rss_kib']} | "
                  f"{r['peak_rss_kib']} | {r['errors']} |")
    md.append("")


def find(rows, name):
    return next((r for r in rows if r["name"] == name), None)


allrows = [r for g in groups for r in g["rows"]]
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
# issue 13: a layer's render into tmpfs at least at GNU tar's speed
pr, gt = find(allrows, "podrun image render (tmpfs)"), find(allrows, "GNU tar -xf (tmpfs)")
if pr and gt:
    target("render (tmpfs) ≥ 1.0× GNU tar -xf throughput", pr["median_ms"] <= gt["median_ms"],
           f"{ms(pr['median_ms'])} ms vs {ms(gt['median_ms'])} ms ({fmt_ratio(pr['median_ms'], gt['median_ms'])})")
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
for where in ("tmpfs", "disk"):
    pd = find(allrows, f"podrun fetch docker:// ({where})")
    pm = next((r for r in allrows if r["name"].startswith(f"podman pull ({where}")), None)
    if pd and pm:
        target(f"pull ({where}) ≤ 0.8× podman pull", pd["median_ms"] <= 0.8 * pm["median_ms"],
               f"{ms(pd['median_ms'])} ms vs {ms(pm['median_ms'])} ms ({fmt_ratio(pd['median_ms'], pm['median_ms'])})")
up = next((r for r in repull if r["name"].startswith("podrun fetch --pull-policy=update (")), None)
if up:
    target("re-pull: bytes ≤ the changed layer + manifest + config", up["image_bytes"] <= up["floor_bytes"],
           f"{up['image_bytes']} bytes vs {up['floor_bytes']} ({fmt_ratio(up['image_bytes'], up['floor_bytes'])})")


def pair_target(what, a, b, factor):
    """Rows 7 and 8: judged on the wall medians of runs taken in turn, as every row;
    the median of each run's CPU time is shown beside them (Documentation/performance.md)."""
    target(what, a["median_ms"] <= factor * b["median_ms"],
           f"wall median {ms(a['median_ms'])} ms vs {ms(b['median_ms'])} ms ({fmt_ratio(a['median_ms'], b['median_ms'])}); "
           f"CPU median {ms(a['cpu_median_ms'])} ms vs {ms(b['cpu_median_ms'])} ms "
           f"({fmt_ratio(a['cpu_median_ms'], b['cpu_median_ms'])})")


one, five = find(allrows, "podrun run (fly), one-layer ACI, by id"), find(allrows, "podrun run (fly), 5-layer image, by id")
if one and five:
    pair_target("start of a 5-layer pod ≤ 1.0× a one-layer pod of the same tree (both by id)", five, one, 1.0)
byname = find(allrows, "podrun run (fly) podrun.bench/busybox, by name")
byfile = find(allrows, "podrun run (fly) ./bench.aci, in the store")
if byname and byfile:
    pair_target("run ./app.aci (in the store) ≤ 1.2× run by name", byfile, byname, 1.2)

nd, nn = find(allrows, "podrun run (nspawn, --net=default)"), find(allrows, "podrun run (nspawn, --net=none)")
pmd, pmn = find(allrows, "podman run (its default network)"), find(allrows, "podman run --network=none")
if nd and pmd:
    target("start on the default network ≤ 0.4× podman run with its default network", nd["median_ms"] <= 0.4 * pmd["median_ms"],
           f"{ms(nd['median_ms'])} ms vs {ms(pmd['median_ms'])} ms ({fmt_ratio(nd['median_ms'], pmd['median_ms'])})")
if nd and nn and pmd and pmn:
    ours, theirs = nd["median_ms"] - nn["median_ms"], pmd["median_ms"] - pmn["median_ms"]
    target("networking's share (default minus none) ≤ half of podman's", ours <= 0.5 * theirs,
           f"{ms(ours)} ms vs {ms(theirs)} ms ({fmt_ratio(ours, theirs)})")
of, rc = find(allrows, "podrun-oci under ctr run --rm (fly)"), find(allrows, "runc under ctr run --rm")
if of and rc:
    target("ctr run --rm: podrun-oci (fly) ≤ 1.2× runc", of["median_ms"] <= 1.2 * rc["median_ms"],
           f"{ms(of['median_ms'])} ms vs {ms(rc['median_ms'])} ms ({fmt_ratio(of['median_ms'], rc['median_ms'])})")
on, runc1, bare = find(allrows, "podrun-oci under ctr run --rm (nspawn)"), find(allrows, "runc run"), \
    find(allrows, "systemd-nspawn")
if on and rc and runc1 and bare:
    # containerd's own share: its runc row here minus row 1's bare runc run
    allow = 1.2 * (bare["median_ms"] + rc["median_ms"] - runc1["median_ms"])
    target("ctr run --rm: podrun-oci (nspawn) ≤ 1.2× (systemd-nspawn + containerd's share)", on["median_ms"] <= allow,
           f"{ms(on['median_ms'])} ms vs 1.2 × ({ms(bare['median_ms'])} + {ms(rc['median_ms'])} − "
           f"{ms(runc1['median_ms'])}) = {ms(allow)} ms")
pa = next((r for r in api if r["name"].startswith("podrun-api")), None)
pp = next((r for r in api if r["name"].startswith("podman")), None)
if pa and pp:
    target("GET /v1/pods ≥ 5× podman system service's requests/s", pa["requests_per_s"] >= 5 * pp["requests_per_s"],
           f"{pa['requests_per_s']:.0f}/s vs {pp['requests_per_s']:.0f}/s")
    target("GET /v1/pods p99 ≤ 1/5 of podman system service's", pa["p99_ms"] * 5 <= pp["p99_ms"],
           f"{ms(pa['p99_ms'])} ms vs {ms(pp['p99_ms'])} ms")

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
    json.dump({"meta": meta, "groups": [{"title": g["title"], "rows": g["rows"]} for g in groups],
               "layers_floor": layers_floor, "rss": rss,
               "repull": repull, "api": api, "targets": targets, "skipped": skipped}, f, indent=2)
