#!/usr/bin/env python3
"""Distributed batch and query with Spark: the map step runs `trace-report
batch` on shards of a file list across the executors (mapPartitions calling
the binary), each shard writing its own part files into one dataset; then
Spark reads the dataset and runs SQL on it. No scheduler of our own: Spark
places the shards.

    spark-submit examples/fleet/spark_batch.py FILE_LIST DATASET KEY=VALUE [QUERIES.sql]
    # or, in Spark local mode:  python3 examples/fleet/spark_batch.py ...

FILE_LIST: one trace path per line, readable from every executor (a shared
file system); DATASET: a folder every executor can write (the same shared
file system); KEY=VALUE: the batch's `--label` (several: comma-separated,
`build=new,host=a`). QUERIES.sql: queries separated by lines holding only
`;` (`--` lines are comments); each result is printed as JSON lines after a
`-- query N` line. TRACE_REPORT (default `trace-report` on PATH) names the
binary on the executors; SHARDS (default: 2 x default parallelism) the
number of shards; SPARK_MASTER the master with plain python3 (default
local[2]).
"""
import json
import os
import subprocess
import sys

from pyspark.sql import SparkSession

TABLES = ["traces", "kernels", "iterations", "findings", "errors"]


def session(name="trace-report batch"):
    return (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
        .appName(name)
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def map_batch(spark, files, dataset, labels, binary, shards=None, date=None):
    """The map step: one `trace-report batch` per partition of `files`.
    Returns one dict per shard: traces, exit status, the tail of stderr."""
    sc = spark.sparkContext
    shards = shards or 2 * sc.defaultParallelism
    args = ["--dataset", dataset, "--no-reports", "-q"]
    for label in labels:
        args += ["--label", label]
    if date:
        args += ["--date", date]

    def run_shard(paths):
        paths = list(paths)
        if not paths:
            return
        r = subprocess.run([binary, "batch", *paths, *args], capture_output=True, text=True)
        # 0 all analysed, 1 some traces failed (recorded in `errors`), 2 error.
        yield {"traces": len(paths), "exit": r.returncode, "stderr": r.stderr[-2000:]}

    rdd = sc.parallelize(files, max(1, min(shards, len(files))))
    return rdd.mapPartitions(run_shard).collect()


def register(spark, dataset):
    """The dataset's tables as Spark views (hive partitions from the folders)."""
    for t in TABLES:
        spark.read.parquet(os.path.join(dataset, t)).createOrReplaceTempView(t)


def read_queries(path):
    with open(path) as f:
        blocks = f.read().split("\n;\n")
    out = []
    for b in blocks:
        q = "\n".join(l for l in b.splitlines() if not l.lstrip().startswith("--")).strip()
        if q:
            out.append(q)
    return out


def rows(spark, sql):
    """A result as plain dicts (ints, floats, strings, None)."""
    out = []
    for row in spark.sql(sql).collect():
        d = {}
        for k, v in row.asDict().items():
            d[k] = v if v is None or isinstance(v, (int, float, str, bool)) else str(v)
        out.append(d)
    return out


def main():
    file_list, dataset, label = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    queries_file = sys.argv[4] if len(sys.argv) > 4 else None
    binary = os.environ.get("TRACE_REPORT", "trace-report")
    with open(file_list) as f:
        files = [os.path.abspath(l.strip()) for l in f if l.strip()]
    spark = session()
    shards = int(os.environ["SHARDS"]) if os.environ.get("SHARDS") else None
    results = map_batch(spark, files, dataset, label.split(","), binary, shards)
    for r in results:
        tail = f": {r['stderr'].strip()}" if r["exit"] else ""
        print(f"shard: {r['traces']} trace(s), exit {r['exit']}{tail}")
    register(spark, dataset)
    if queries_file:
        for i, q in enumerate(read_queries(queries_file), 1):
            print(f"-- query {i}")
            for r in rows(spark, q):
                print(json.dumps(r))
    spark.stop()
    # A shard's 2 is an error; 1 means traces failed and are in `errors`.
    sys.exit(2 if any(r["exit"] == 2 for r in results) else 1 if any(r["exit"] for r in results) else 0)


if __name__ == "__main__":
    main()
