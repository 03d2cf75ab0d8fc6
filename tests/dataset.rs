//! `batch --dataset` and `query`: a dataset written from real traces under
//! two labels, the README's three queries run through polars SQL
//! (`trace-report query`) and through DuckDB (Python wheel), which must
//! agree: integers and text exactly, floats to 1e-9 relative. Nothing is
//! skipped: without the `duckdb` module the test fails (`.ci/run` installs
//! it). Columns are also checked against SQL over the source traces.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trace-report"))
}

/// The README's three queries (kept identical to the README by
/// `readme_shows_the_queries`).
pub const QUERIES: [(&str, &str); 3] = [
    (
        "kernel growth",
        "SELECT k.name AS kernel, \
         SUM(CASE WHEN k.build = 'new' THEN k.total_ns ELSE 0 END) / MAX(i.new_iterations) \
         - SUM(CASE WHEN k.build = 'base' THEN k.total_ns ELSE 0 END) / MAX(i.base_iterations) AS growth_ns_per_iteration \
         FROM kernels k CROSS JOIN (SELECT \
         CAST(NULLIF(SUM(CASE WHEN build = 'new' THEN iterations ELSE 0 END), 0) AS DOUBLE) AS new_iterations, \
         CAST(NULLIF(SUM(CASE WHEN build = 'base' THEN iterations ELSE 0 END), 0) AS DOUBLE) AS base_iterations \
         FROM traces) i \
         GROUP BY k.name ORDER BY growth_ns_per_iteration DESC, kernel LIMIT 10",
    ),
    (
        "pageable copies",
        "SELECT build, COUNT(*) AS traces, SUM(pageable_memcpy_count) AS pageable_copies \
         FROM traces WHERE pageable_memcpy_count > 0 GROUP BY build ORDER BY build",
    ),
    (
        "GPU busy",
        "SELECT file_name, build, CAST(gpu_busy_ns AS DOUBLE) / NULLIF(window_ns, 0) AS gpu_busy_share \
         FROM traces ORDER BY file_name, build",
    ),
];

fn batch(out: &Path, label: &str, inputs: &[&str]) {
    let run = bin()
        .arg("batch")
        .args(inputs.iter().map(|i| root().join(i)))
        .arg("--dataset")
        .arg(out)
        .args(["--label", label, "--date", "2026-11-30", "--format", "none", "-q"])
        .output()
        .unwrap();
    assert!(run.status.success(), "batch {label}: {}", String::from_utf8_lossy(&run.stderr));
}

fn polars(out: &Path, sql: &str) -> Vec<Value> {
    let run = bin().arg("query").arg(out).arg(sql).args(["--format", "json"]).output().unwrap();
    assert!(run.status.success(), "query: {}", String::from_utf8_lossy(&run.stderr));
    String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const DUCKDB: &str = r#"
import json, sys
import duckdb
out, sql = sys.argv[1], sys.argv[2]
con = duckdb.connect()
for t in ["traces", "kernels", "iterations", "findings"]:
    con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{out}/{t}/**/*.parquet', hive_partitioning = true)")
cur = con.execute(sql)
cols = [d[0] for d in cur.description]
for row in cur.fetchall():
    print(json.dumps({c: (v if v is None or isinstance(v, (int, float, str, bool)) else str(v)) for c, v in zip(cols, row)}))
"#;

fn duckdb(out: &Path, sql: &str) -> Vec<Value> {
    let run = Command::new("python3")
        .args(["-c", DUCKDB])
        .arg(out)
        .arg(sql)
        .output()
        .expect("python3 runs");
    assert!(
        run.status.success(),
        "DuckDB could not run the query (is the `duckdb` Python module installed? `pip install duckdb`; .ci/run does): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => {
                let (f, g) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                f == g || (f - g).abs() <= 1e-9 * f.abs().max(g.abs())
            }
        },
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn dataset() -> PathBuf {
    let out = std::env::temp_dir().join(format!("trace-report-dataset-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    batch(
        &out,
        "build=base",
        &["sample_traces/bert_fp16_aligned.sqlite", "sample_traces/gemm_int8_fp16_fp32.sqlite"],
    );
    batch(
        &out,
        "build=new",
        &["sample_traces/bert_fp16_misaligned.sqlite", "tests/fixtures/kineto/bert_fp16_aligned.kineto.json.gz"],
    );
    out
}

#[test]
fn polars_and_duckdb_agree_on_the_three_queries() {
    let out = dataset();
    for (what, sql) in QUERIES {
        let p = polars(&out, sql);
        let d = duckdb(&out, sql);
        assert!(!p.is_empty(), "{what}: no rows");
        assert_eq!(p.len(), d.len(), "{what}: polars {p:?}\nduckdb {d:?}");
        for (a, b) in p.iter().zip(&d) {
            assert!(same(a, b), "{what}: polars {a}\nduckdb {b}");
        }
    }

    // The answers against the sources: GPU busy share of the one nsys trace
    // with no copies is its kernel union over its window (report.json's
    // own figures are the crate's; here the dataset must carry them).
    let busy = polars(
        &out,
        "SELECT file_name, build, iterations, kernel_count, pageable_memcpy_count FROM traces ORDER BY file_name, build",
    );
    assert_eq!(busy.len(), 4);
    let gemm = busy.iter().find(|r| r["file_name"] == "gemm_int8_fp16_fp32.sqlite").unwrap();
    assert_eq!(gemm["build"], "base");
    // No memcpy table at all in that capture: no pageable copies.
    assert_eq!(gemm["pageable_memcpy_count"], 0);
    let c = common::open(&root().join("sample_traces/bert_fp16_misaligned.sqlite"));
    let kernels_in_window: i64 = c
        .query_row(
            &format!(
                "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k WHERE EXISTS \
                 (SELECT 1 FROM ({}) w WHERE k.start >= w.s AND k.start < w.e)",
                common::iter_sql()
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mis = busy.iter().find(|r| r["file_name"] == "bert_fp16_misaligned.sqlite").unwrap();
    assert_eq!(mis["kernel_count"].as_i64().unwrap(), kernels_in_window);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn rerunning_a_batch_replaces_its_rows_and_keys_stay_one() {
    let out = std::env::temp_dir().join(format!("trace-report-dataset-rerun-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let inputs = ["sample_traces/gemm_int8_fp16_fp32.sqlite"];
    batch(&out, "host=a", &inputs);
    batch(&out, "host=a", &inputs);
    let rows = polars(&out, "SELECT COUNT(*) AS n FROM traces");
    assert_eq!(rows[0]["n"], 1);
    for t in ["traces", "kernels", "iterations", "findings"] {
        assert!(out.join(t).join("date=2026-11-30").join("host=a").is_dir(), "{t}");
    }
    // A second key would make ragged partitions: refused.
    let run = bin()
        .arg("batch")
        .arg(root().join(inputs[0]))
        .arg("--dataset")
        .arg(&out)
        .args(["--label", "build=x", "--format", "none", "-q"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("partitioned by the label 'host'"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn readme_shows_the_queries_and_the_schema() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let readme_flat = flat(&readme);
    for (what, sql) in QUERIES {
        assert!(readme_flat.contains(&flat(sql)), "README lacks the {what} query");
    }
    assert!(
        readme.contains(&trace_report::dataset::schema_markdown()),
        "README's dataset schema differs from the code's:\n{}",
        trace_report::dataset::schema_markdown()
    );
}
