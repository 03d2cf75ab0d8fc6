#!/usr/bin/env python3
"""Independent reading of traces from the wild: what trace-report should say.

Reads each file with nothing but the Python standard library (json, gzip,
sqlite3), never with trace-report, and prints expectation rows
(file, field, expected, owner, how) for scripts/wild_expectations.tsv.
Run it once when a file is added; the rows are then checked by hand and
kept in the TSV, so the expectations do not move with this script.

    python3 scripts/wild_oracle.py /work/shared/traces/external /work/captures > rows.tsv

Fields (see scripts/wild_check.py for how each is read from report.json):
  accept          ok | exit2
  reason          a substring of the one-line error (exit2 only)
  gpus            names of the GPUs that ran work, sorted, ';'-joined
  profiler        a substring of source.profiler_version
  kernels_total   kernels in the file (the --whole-capture run's table sum)
  kernel_names    distinct kernel names in the file (whole capture)
  iteration_range the iteration marker, or '-' for none (GPU span)
  iterations      how many iterations
  window_kernels  kernels whose start lies in the window (the union of
                  iterations projected onto the GPU: host range start to
                  the end of the last GPU work launched inside it)
The owner column says which change makes a row pass (input = readers and
names; window = iteration choice and GPU projection).
"""

import bisect
import gzip
import json
import os
import sqlite3
import sys
from collections import Counter, defaultdict

MIN_ITERATIONS = 3
MIN_SHARE = 0.2
STEP = "ProfilerStep#"

GPU_CATS = {"kernel", "gpu_memcpy", "memcpy", "gpu_memset", "memset"}
RUNTIME_CATS = {"cuda_runtime", "cuda_driver", "runtime"}
OTHER_DEVICE_CATS = {"mtia_runtime", "mtia_ccp_events", "glow_runtime", "xpu_runtime",
                     "xpu_driver", "hpu_op", "privateuse1_runtime", "privateuse1_driver"}


def num(x):
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return x
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def choose(cands, work):
    """cands: {name: [(thread, start, end)]}; work: [(launch thread, launch ts,
    gpu start, gpu end)]. The candidate whose ranges launch the largest share
    of GPU work, if >= MIN_SHARE; returns (name, occurrences, share)."""
    best = None
    by_thread = defaultdict(list)
    for w in work:
        by_thread[w[0]].append(w)
    for v in by_thread.values():
        v.sort(key=lambda w: w[1])
    for name, occ in cands.items():
        n = 0
        for (th, s, e) in occ:
            ws = by_thread.get(th, [])
            lo = bisect.bisect_left(ws, s, key=lambda w: w[1])
            hi = bisect.bisect_right(ws, e, key=lambda w: w[1])
            n += hi - lo
        share = n / len(work) if work else 0.0
        key = (share, len(occ), name)
        if best is None or key > best[0]:
            best = (key, name, occ, share)
    if best is None or best[3] < MIN_SHARE:
        return None, [], best[3] if best else 0.0
    return best[1], best[2], best[3]


def projected_window(occ, work, kernel_starts):
    """Kernels whose start lies in the union of [range start, max(range end,
    end of GPU work launched inside it)]."""
    by_thread = defaultdict(list)
    for w in work:
        by_thread[w[0]].append(w)
    for v in by_thread.values():
        v.sort(key=lambda w: w[1])
    spans = []
    for (th, s, e) in occ:
        ws = by_thread.get(th, [])
        lo = bisect.bisect_left(ws, s, key=lambda w: w[1])
        hi = bisect.bisect_right(ws, e, key=lambda w: w[1])
        end = max([e] + [w[3] for w in ws[lo:hi]])
        spans.append((s, end))
    spans.sort()
    union = []
    for s, e in spans:
        if union and s <= union[-1][1]:
            union[-1][1] = max(union[-1][1], e)
        else:
            union.append([s, e])
    ks = sorted(kernel_starts)
    return sum(bisect.bisect_left(ks, e) - bisect.bisect_left(ks, s) for s, e in union)


def top_level(ranges):
    """ranges: [(thread, start, end, name)] -> names never nested in another
    range on their thread, with their occurrences."""
    out = defaultdict(list)
    nested = set()
    by_thread = defaultdict(list)
    for r in ranges:
        by_thread[r[0]].append(r)
    for th, rs in by_thread.items():
        rs.sort(key=lambda r: (r[1], -r[2]))
        stack = []
        for r in rs:
            while stack and stack[-1][2] <= r[1]:
                stack.pop()
            if stack and r[2] <= stack[-1][2]:
                nested.add(r[3])
            else:
                out[r[3]].append((th, r[1], r[2]))
            stack.append(r)
    return {n: o for n, o in out.items() if n not in nested and len(o) >= MIN_ITERATIONS}


def kineto(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt") as f:
        d = json.load(f)
    ev = d["traceEvents"] if isinstance(d, dict) else d
    meta = d if isinstance(d, dict) else {}
    rows = {}
    X = [e for e in ev if isinstance(e, dict) and e.get("ph") == "X"]
    cat = lambda e: str(e.get("cat", "")).lower()
    timed = lambda e: num(e.get("ts")) is not None and num(e.get("dur")) is not None and num(e.get("dur")) >= 0
    gpu = [e for e in X if cat(e) in GPU_CATS and timed(e)]
    kernels = [e for e in gpu if cat(e) == "kernel"]
    runtime = [e for e in X if cat(e) in RUNTIME_CATS]
    if not gpu:
        rows["accept"] = ("exit2", "no kernel/gpu_memcpy/gpu_memset (any spelling) events")
        if runtime:
            rows["reason"] = (f"with {len(runtime)} CUDA runtime call(s)", "count of cuda_runtime/cuda_driver/Runtime X events")
        elif any(cat(e) in OTHER_DEVICE_CATS for e in X):
            rows["reason"] = ("another accelerator", "only mtia_*/xpu/glow runtime events")
        else:
            rows["reason"] = ("without GPU activity", "no GPU or runtime events")
        return rows
    rows["accept"] = ("ok", f"{len(gpu)} GPU events (kernel/memcpy/memset, any spelling)")
    props = meta.get("deviceProperties") or []
    rocm = any(k in meta for k in ("roctracer_version", "hip_runtime_version")) or any(
        str(p.get("name", "")).startswith("AMD") for p in props)
    used = sorted({int((e.get("args") or {}).get("device", e.get("pid"))) for e in gpu})
    names = []
    for i in used:
        if rocm:
            ns = {p.get("name") for p in props if p.get("name")}
            names.append(ns.pop() if len(ns) == 1 else "AMD GPU (name not recorded)")
        else:
            m = [p.get("name") for p in props if p.get("id") == i and p.get("name")]
            names.append(m[0] if m else "unknown GPU")
    rows["gpus"] = (";".join(sorted(names)), f"device ids {used} of GPU events; names from deviceProperties"
                    + (" (ROCm: agent ids, the one name all list)" if rocm else " by id"))
    rows["profiler"] = ("PyTorch profiler (Kineto)", "Chrome-trace JSON with traceEvents")
    rows["kernels_total"] = (str(len(kernels)), "X events with cat 'kernel' (any case), ts and dur >= 0")
    rows["kernel_names"] = (str(len({e.get("name") for e in kernels})), "distinct names of those")
    # Iterations.
    corr_rt = {}
    for e in runtime:
        c = (e.get("args") or {}).get("correlation")
        if c is not None:
            corr_rt[c] = ((e.get("pid"), str(e.get("tid"))), num(e["ts"]))
    work = []
    for e in gpu:
        c = (e.get("args") or {}).get("correlation")
        if c in corr_rt:
            th, ts = corr_rt[c]
            work.append((th, ts, num(e["ts"]), num(e["ts"]) + num(e["dur"])))
    kstarts = [num(e["ts"]) for e in kernels]
    steps = [e for e in X if str(e.get("name", "")).startswith(STEP) and cat(e) in ("user_annotation", "cpu_op", "operator")]
    if steps:
        occ = [((e.get("pid"), str(e.get("tid"))), num(e["ts"]), num(e["ts"]) + num(e["dur"])) for e in steps]
        rows["iteration_range"] = ("ProfilerStep#*", f"{len(steps)} ProfilerStep#N events")
        rows["iterations"] = (str(len(steps)), "count of ProfilerStep#N events")
        rows["window_kernels"] = (str(projected_window(occ, work, kstarts)),
                                  "kernels starting in the union of steps projected through their launches (correlation)")
        return rows
    ranges = [((e.get("pid"), str(e.get("tid"))), num(e["ts"]), num(e["ts"]) + num(e["dur"]), e.get("name"))
              for e in X if cat(e) == "user_annotation" and timed(e)]
    name, occ, share = choose(top_level(ranges), work)
    if name is None:
        rows["iteration_range"] = ("-", f"no top-level user_annotation (>= 3x) launches >= 20% of GPU work (best {share:.0%})")
        rows["iterations"] = ("0", "GPU span")
        rows["window_kernels"] = (str(len(kernels)), "GPU span: all kernels")
    else:
        rows["iteration_range"] = (name, f"top-level user_annotation launching {share:.0%} of GPU work (correlation)")
        rows["iterations"] = (str(len(occ)), f"occurrences of '{name}'")
        rows["window_kernels"] = (str(projected_window(occ, work, kstarts)),
                                  "kernels starting in the union of ranges projected through their launches")
    return rows


def tables(c):
    return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")}


def cols(c, t):
    return {r[1] for r in c.execute(f"PRAGMA table_info('{t}')")}


def nsys(path):
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    t = tables(c)
    rows = {}
    meta = {}
    for mt in ("META_DATA_EXPORT", "EXPORT_META_DATA"):
        if mt in t:
            meta.update({k: v for k, v in c.execute(f"SELECT name, value FROM {mt}")})
    ver = meta.get("EXPORT_PRODUCT_VERSION")
    rt = c.execute("SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME").fetchone()[0] if "CUPTI_ACTIVITY_KIND_RUNTIME" in t else 0
    if "CUPTI_ACTIVITY_KIND_KERNEL" not in t:
        rows["accept"] = ("exit2", "no CUPTI_ACTIVITY_KIND_KERNEL table")
        rows["reason"] = (f"{rt} CUDA API call(s) recorded", "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME")
        return rows
    n = c.execute("SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL").fetchone()[0]
    rows["accept"] = ("ok", "CUPTI_ACTIVITY_KIND_KERNEL present")
    if ver:
        rows["profiler"] = (ver, "META_DATA_EXPORT EXPORT_PRODUCT_VERSION")
    used = [r[0] for r in c.execute("SELECT DISTINCT deviceId FROM CUPTI_ACTIVITY_KIND_KERNEL ORDER BY 1")]
    names = []
    if "TARGET_INFO_GPU" in t:
        key = "cuDevice" if "cuDevice" in cols(c, "TARGET_INFO_GPU") else "id"
        g = {r[0]: r[1] for r in c.execute(f"SELECT {key}, name FROM TARGET_INFO_GPU")}
        names = [g.get(i) or "unknown GPU" for i in used]
        how = f"TARGET_INFO_GPU.name by {key} for kernel deviceIds {used}"
    else:
        names = ["unknown GPU"] * len(used)
        how = "no TARGET_INFO_GPU table (and TARGET_INFO_SYSTEM_ENV GpuInfo holds no name)"
    rows["gpus"] = (";".join(sorted(names)), how)
    rows["kernels_total"] = (str(n), "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL")
    rows["kernel_names"] = (str(c.execute("SELECT count(DISTINCT demangledName) FROM CUPTI_ACTIVITY_KIND_KERNEL").fetchone()[0]),
                            "SELECT count(DISTINCT demangledName) FROM CUPTI_ACTIVITY_KIND_KERNEL")
    # Iterations: NVTX push/pop and start/end ranges in the default domain (0).
    if "NVTX_EVENTS" not in t:
        rows["iteration_range"] = ("-", "no NVTX_EVENTS table")
        rows["iterations"] = ("0", "GPU span")
        rows["window_kernels"] = (str(n), "GPU span: all kernels")
        return rows
    nc = cols(c, "NVTX_EVENTS")
    text = "coalesce(e.text, s.value)" if "textId" in nc else "e.text"
    join = "LEFT JOIN StringIds s ON s.id = e.textId" if "textId" in nc else ""
    dom = "AND coalesce(e.domainId, 0) = 0" if "domainId" in nc else ""
    ranges = [(r[0], r[1], r[2], r[3]) for r in c.execute(
        f"SELECT e.globalTid, e.start, e.end, {text} FROM NVTX_EVENTS e {join} "
        f"WHERE e.eventType IN (59, 60) AND e.end IS NOT NULL {dom}")]
    work = []
    for tbl in ("CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_MEMCPY", "CUPTI_ACTIVITY_KIND_MEMSET"):
        if tbl in t:
            work += [tuple(r) for r in c.execute(
                f"SELECT r.globalTid, r.start, g.start, g.end FROM {tbl} g JOIN CUPTI_ACTIVITY_KIND_RUNTIME r "
                f"ON r.correlationId = g.correlationId AND (r.globalTid >> 24) = (g.globalPid >> 24)")]
    kstarts = [r[0] for r in c.execute("SELECT start FROM CUPTI_ACTIVITY_KIND_KERNEL")]
    name, occ, share = choose(top_level(ranges), work)
    if name is None:
        rows["iteration_range"] = ("-", f"no default-domain NVTX range (top level, >= 3x) launches >= 20% of GPU work (best {share:.0%})")
        rows["iterations"] = ("0", "GPU span")
        rows["window_kernels"] = (str(n), "GPU span: all kernels")
    else:
        rows["iteration_range"] = (name, f"default-domain NVTX range launching {share:.0%} of GPU work (correlation)")
        rows["iterations"] = (str(len(occ)), f"occurrences of '{name}'")
        rows["window_kernels"] = (str(projected_window(occ, work, kstarts)),
                                  "kernels starting in the union of ranges projected through their launches")
    return rows


OWNER = {"iteration_range": "window", "iterations": "window", "window_kernels": "window"}


def main():
    files = []
    for root in sys.argv[1:]:
        for dp, _, fs in os.walk(root):
            for f in sorted(fs):
                full = os.path.join(dp, f)
                # A 355 MB JSON needs ~10 GB as Python objects: read those by hand.
                if f.endswith((".json.gz", ".sqlite", ".pt.trace.json")) and os.path.getsize(full) < 200e6:
                    files.append(full)
    for path in sorted(files):
        base = "external/" + path.split("/external/")[1] if "/external/" in path else "captures/" + path.split("/captures/")[1]
        try:
            rows = nsys(path) if path.endswith(".sqlite") else kineto(path)
        except Exception as e:  # noqa: BLE001
            print(f"# {base}: oracle failed: {e}", file=sys.stderr)
            continue
        for field, (exp, how) in rows.items():
            print(f"{base}\t{field}\t{exp}\t{OWNER.get(field, 'input')}\t{how}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
