#!/usr/bin/env python3
"""Run trace-report on every trace from the wild and compare with the
expectations written down in scripts/wild_expectations.tsv.

Usage (normally through scripts/wild.sh):
    wild_check.py BINARY EXPECTATIONS ROOT... [--only SUBSTRING] [--owner input|window|rules]

Each expectation row is: file, field, expected, owner, how. `file` is
relative to one of the ROOTs (external/... under /work/shared/traces,
captures/... under /work). Fields:
  accept          ok | exit2 (exit code of the default run; 0 or 1 is ok)
  reason          substring of the one-line error (exit2 only)
  format          source.format
  gpus            source.gpus names, sorted, ';'-joined
  profiler        substring of source.profiler_version
  kernels_total   sum of kernels[].count of the --whole-capture run
  kernel_names    len(kernels) of the --whole-capture run
  canonical_names distinct kernels[].canonical_name of the --whole-capture run
  iteration_range window.iteration_range ('-' for none)
  iterations      window.iterations
  window_kernels  sum of kernels[].count of the default run
  scope           window.scope
  tc:SUBSTRING    tensor_core verdict of every kernel whose name contains
                  SUBSTRING (all must agree; 'mixed' otherwise)
  json:a.b.0.c    any value of report.json by path
Prints one line per file: PASS, or FAIL with each mismatching field as
field: expected X, got Y [owner]. Exit 1 when any row of the selected
owners fails.
"""

import json
import os
import subprocess
import sys
import tempfile
from collections import OrderedDict, defaultdict


def load_rows(path):
    rows = OrderedDict()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 4:
                print(f"bad row: {line}", file=sys.stderr)
                continue
            file, field, expected, owner = parts[:4]
            rows.setdefault(file, []).append((field, expected, owner))
    return rows


def run(binary, path, extra, out):
    p = subprocess.run([binary, path, "-q", "--format", "json", "-o", out] + extra,
                       capture_output=True, text=True, timeout=600)
    report = None
    rj = os.path.join(out, "report.json")
    if os.path.exists(rj):
        with open(rj) as f:
            report = json.load(f)
    return p.returncode, p.stderr.strip(), report


def by_path(doc, path):
    cur = doc
    for part in path.split("."):
        if isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(cur, dict):
            cur = cur.get(part)
        else:
            return None
    return cur


def value(field, code, err, rep, whole):
    if field == "accept":
        return "exit2" if code == 2 else ("ok" if code in (0, 1) else f"exit{code}")
    if field == "reason":
        return err
    if rep is None:
        return "<no report>"
    src = rep.get("source", {})
    if field == "format":
        return src.get("format")
    if field == "gpus":
        return ";".join(sorted(g.get("name", "") for g in src.get("gpus", [])))
    if field == "profiler":
        return src.get("profiler_version") or ""
    if field == "iteration_range":
        return rep["window"].get("iteration_range") or "-"
    if field == "iterations":
        return str(rep["window"].get("iterations"))
    if field == "scope":
        return rep["window"].get("scope")
    if field == "window_kernels":
        return str(sum(k["count"] for k in rep.get("kernels", [])))
    if field in ("kernels_total", "kernel_names", "canonical_names"):
        if whole is None:
            return "<no whole-capture report>"
        ks = whole.get("kernels", [])
        if field == "kernels_total":
            return str(sum(k["count"] for k in ks))
        if field == "kernel_names":
            return str(len(ks))
        return str(len({k.get("canonical_name", k["name"]) for k in ks}))
    if field.startswith("tc:"):
        sub = field[3:]
        v = {k.get("tensor_core") for k in rep.get("kernels", []) if sub in k["name"]}
        return v.pop() if len(v) == 1 else ("mixed" if v else "<no such kernel>")
    if field.startswith("json:"):
        v = by_path(rep, field[5:])
        return v if isinstance(v, str) else json.dumps(v)
    return f"<unknown field {field}>"


def matches(field, expected, got):
    if got is None:
        return False
    if field in ("reason", "profiler"):
        return expected in got
    return str(got) == expected


def main():
    args = sys.argv[1:]
    only = None
    owners = None
    if "--only" in args:
        i = args.index("--only")
        only = args[i + 1]
        del args[i:i + 2]
    if "--owner" in args:
        i = args.index("--owner")
        owners = set(args[i + 1].split(","))
        del args[i:i + 2]
    binary, expectations, roots = args[0], args[1], args[2:]
    rows = load_rows(expectations)
    failed = 0
    counts = defaultdict(int)
    for file, checks in rows.items():
        if only and only not in file:
            continue
        path = next((os.path.join(r, file.split("/", 1)[1]) for r in roots
                     if os.path.basename(r.rstrip("/")) == file.split("/", 1)[0]
                     and os.path.exists(os.path.join(r, file.split("/", 1)[1]))), None)
        if path is None:
            print(f"SKIP {file}: not found under {roots}")
            continue
        with tempfile.TemporaryDirectory(prefix="wild-") as tmp:
            code, err, rep = run(binary, path, [], os.path.join(tmp, "a"))
            whole = None
            if code != 2 and any(f in ("kernels_total", "kernel_names", "canonical_names") for f, _, _ in checks):
                _, _, whole = run(binary, path, ["--whole-capture"], os.path.join(tmp, "b"))
        bad = []
        for field, expected, owner in checks:
            if owners and owner not in owners:
                continue
            got = value(field, code, err, rep, whole)
            if not matches(field, expected, got):
                bad.append(f"{field}: expected {expected!r}, got {str(got)[:160]!r} [{owner}]")
                counts[owner] += 1
        if bad:
            failed += 1
            print(f"FAIL {file}")
            for b in bad:
                print(f"     {b}")
        else:
            print(f"PASS {file}")
    print(f"\n{failed} file(s) failing; failing rows by owner: {dict(counts) or 'none'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
