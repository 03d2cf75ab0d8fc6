#!/usr/bin/env python3
"""Dev-time check (not CI): the fleet dataset written by Spark's map step
(`examples/fleet/spark_batch.py`, mapPartitions calling `trace-report
batch` on shards) answers the README's three queries identically in Spark,
polars SQL (`trace-report query`) and DuckDB.

    python3 scripts/spark_check.py OUT BASE_LIST NEW_LIST
        [--binary target/release/trace-report] [--shards N]

BASE_LIST / NEW_LIST: files of trace paths (one a line), batched under
--label build=base and build=new. OUT is replaced. Prints the shards'
statuses, the wall times, the dataset's size and, per query, whether the
engines agree (integers and text exactly, floats to 1e-9 relative); exits 1
on any disagreement. Needs pyspark and a JDK (Spark local mode), and duckdb.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "fleet"))
import spark_batch  # noqa: E402

import duckdb  # noqa: E402


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) or math.isnan(b):
            return False
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b


def same_rows(x, y):
    return len(x) == len(y) and all(
        r.keys() == s.keys() and all(same(r[k], s[k]) for k in r) for r, s in zip(x, y)
    )


def polars_rows(binary, out, sql):
    r = subprocess.run([binary, "query", out, sql, "--format", "json"], capture_output=True, text=True, check=True)
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def duckdb_rows(out, sql):
    con = duckdb.connect()
    for t in spark_batch.TABLES:
        con.execute(
            f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{out}/{t}/**/*.parquet', hive_partitioning = true)"
        )
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [
        {c: (v if v is None or isinstance(v, (int, float, str, bool)) else str(v)) for c, v in zip(cols, row)}
        for row in cur.fetchall()
    ]


def size(path):
    total, files = 0, 0
    for d, _, fs in os.walk(path):
        for f in fs:
            total += os.path.getsize(os.path.join(d, f))
            files += 1
    return total, files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("base_list")
    ap.add_argument("new_list")
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "target", "release", "trace-report"))
    ap.add_argument("--shards", type=int, default=None)
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    binary = os.path.abspath(a.binary)
    shutil.rmtree(out, ignore_errors=True)

    t0 = time.time()
    spark = spark_batch.session("trace-report spark check")
    t_start = time.time() - t0
    counts = {}
    t1 = time.time()
    for label, lst in (("build=base", a.base_list), ("build=new", a.new_list)):
        with open(lst) as f:
            files = [os.path.abspath(l.strip()) for l in f if l.strip()]
        counts[label] = len(files)
        for r in spark_batch.map_batch(spark, files, out, [label], binary, a.shards, date="2026-11-30"):
            tail = (": " + r["stderr"].strip().replace("\n", " | ")) if r["exit"] else ""
            print(f"{label} shard: {r['traces']} trace(s), exit {r['exit']}{tail}")
    t_map = time.time() - t1
    nbytes, nfiles = size(out)
    print(f"map step: {sum(counts.values())} traces ({counts}) in {t_map:.1f} s wall "
          f"(Spark start {t_start:.1f} s); dataset {nbytes / 1e6:.2f} MB in {nfiles} files")

    spark_batch.register(spark, out)
    queries = spark_batch.read_queries(os.path.join(HERE, "..", "examples", "fleet", "queries.sql"))
    ok = True
    for i, q in enumerate(queries, 1):
        t = time.time()
        s = spark_batch.rows(spark, q)
        ts = time.time() - t
        t = time.time()
        p = polars_rows(binary, out, q)
        tp = time.time() - t
        t = time.time()
        d = duckdb_rows(out, q)
        td = time.time() - t
        agree = same_rows(s, p) and same_rows(p, d)
        ok &= agree
        print(f"query {i}: {len(p)} rows; spark {ts:.2f} s, polars {tp:.2f} s, duckdb {td:.2f} s; "
              f"{'IDENTICAL' if agree else 'DIFFERENT'}")
        if not agree:
            print("  spark ", s[:5], "\n  polars", p[:5], "\n  duckdb", d[:5])
        else:
            for r in p[:3]:
                print("   ", json.dumps(r))
    errors = spark_batch.rows(spark, "SELECT COUNT(*) AS n FROM errors")[0]["n"]
    traces = spark_batch.rows(spark, "SELECT COUNT(*) AS n FROM traces")[0]["n"]
    print(f"dataset: {traces} traces analysed, {errors} recorded in errors")
    spark.stop()
    print(f"total wall {time.time() - t0:.1f} s")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
