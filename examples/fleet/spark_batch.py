#!/usr/bin/env python3
"""Distributed batch and query with Spark: the map step runs `trace-report
batch` on shards of a file list across the executors (mapPartitions calling
the binary), each shard writing its own part files into one dataset; then
Spark reads the dataset and runs SQL on it. No scheduler of our own: Spark
places the shards.

    spark-submit examples/fleet/spark_batch.py FILE_LIST DATASET LABEL [QUERIES.sql]
    # or, for a local check:  python3 examples/fleet/spark_batch.py ...

FILE_LIST: one trace path per line, readable from every executor (a shared
file system); DATASET: a folder every executor can write (the same shared
file system); LABEL: KEY=VALUE for `--label`. QUERIES.sql: queries separated
by lines holding only `;`; each result is printed as JSON lines after a
`-- query N` line. TRACE_REPORT (default `trace-report` on PATH) names the
binary on the executors; SHARDS (default: 2 x default parallelism) the
number of shards; SPARK_MASTER the master when run with plain python3
(default local[2]).
"""
import json
import os
import subprocess
import sys

from pyspark.sql import SparkSession

TABLES = ["traces", "kernels", "iterations", "findings"]


def main():
    file_list, dataset, label = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    queries_file = sys.argv[4] if len(sys.argv) > 4 else None
    binary = os.environ.get("TRACE_REPORT", "trace-report")
    spark = (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
        .appName("trace-report batch")
        .getOrCreate()
    )
    sc = spark.sparkContext
    with open(file_list) as f:
        files = [os.path.abspath(l.strip()) for l in f if l.strip()]
    shards = int(os.environ.get("SHARDS", 2 * sc.defaultParallelism))

    def run_shard(paths):
        paths = list(paths)
        if not paths:
            return
        cmd = [binary, "batch", *paths, "--dataset", dataset, "--label", label, "--format", "none", "-q"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        yield {"traces": len(paths), "exit": r.returncode, "stderr": r.stderr[-2000:]}

    # The map step: each partition of the file list is one `batch` run.
    results = sc.parallelize(files, min(shards, max(len(files), 1))).mapPartitions(run_shard).collect()
    for r in results:
        print(f"shard: {r['traces']} trace(s), exit {r['exit']}" + (f": {r['stderr'].strip()}" if r["exit"] else ""))
    failed = sum(1 for r in results if r["exit"] != 0)

    # The same dataset, read by Spark (hive partitions discovered from the folders).
    for t in TABLES:
        spark.read.parquet(os.path.join(dataset, t)).createOrReplaceTempView(t)
    if queries_file:
        with open(queries_file) as f:
            queries = [q.strip() for q in f.read().split("\n;\n") if q.strip()]
        for i, q in enumerate(queries, 1):
            print(f"-- query {i}")
            for row in spark.sql(q).collect():
                print(json.dumps(row.asDict(), default=str))
    spark.stop()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
