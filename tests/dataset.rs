//! `batch --dataset` and `query`: a dataset written from sample traces
//! under three labels, the README's three queries
//! (`examples/fleet/queries.sql`) run through polars SQL (`trace-report
//! query`) and through DuckDB (its Python module), which must agree:
//! integers and text exactly, floats to 1e-9 relative. Nothing is skipped:
//! without the `duckdb` module the test fails (`.ci/run` installs it).
//! Columns are also checked against hand-written SQL over the source
//! traces.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trace-report"))
}

/// The README's three queries, from the file the Spark recipe runs too:
/// blocks separated by lines holding only `;`, `--` lines dropped.
fn queries() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("examples/fleet/queries.sql")).unwrap();
    let blocks: Vec<String> = text
        .split("\n;\n")
        .map(|b| {
            b.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_string()
        })
        .filter(|b| !b.is_empty())
        .collect();
    assert_eq!(blocks.len(), 3, "examples/fleet/queries.sql holds three queries");
    blocks
}

fn temp(name: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!("trace-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    out
}

fn batch(out: &Path, labels: &[&str], inputs: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.arg("batch")
        .args(inputs.iter().map(|i| root().join(i)))
        .arg("--dataset")
        .arg(out)
        .args(["--date", "2026-11-30", "--no-reports", "-q"]);
    for l in labels {
        cmd.args(["--label", l]);
    }
    cmd.output().unwrap()
}

fn batch_ok(out: &Path, labels: &[&str], inputs: &[&str]) {
    let run = batch(out, labels, inputs);
    assert_eq!(
        run.status.code(),
        Some(0),
        "batch {labels:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
}

fn polars(out: &Path, sql: &str) -> Vec<Value> {
    let run = bin()
        .arg("query")
        .arg(out)
        .arg(sql)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "query: {}",
        String::from_utf8_lossy(&run.stderr)
    );
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
for t in ["traces", "kernels", "iterations", "findings", "errors"]:
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

/// Integers and text exactly, floats to 1e-9 relative.
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

/// Pageable copies (either side in pageable host memory) starting inside
/// an `iter` range (the window is their union): ENUM_CUDA_MEM_KIND 0 is
/// pageable.
fn pageable_in_window(trace: &str) -> i64 {
    let c = common::open(&root().join(trace));
    c.query_row(
        &format!(
            "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_MEMCPY m \
             WHERE (m.srcKind = 0 OR m.dstKind = 0) \
             AND EXISTS (SELECT 1 FROM ({}) w WHERE m.start >= w.s AND m.start < w.e)",
            common::iter_sql()
        ),
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// Kernels starting inside an `iter` range.
fn kernels_in_window(trace: &str) -> i64 {
    let c = common::open(&root().join(trace));
    c.query_row(
        &format!(
            "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k \
             WHERE EXISTS (SELECT 1 FROM ({}) w WHERE k.start >= w.s AND k.start < w.e)",
            common::iter_sql()
        ),
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn polars_and_duckdb_agree_on_the_three_queries() {
    let out = temp("dataset");
    batch_ok(&out, &["build=base"], &["sample_traces/bert_fp16_aligned.sqlite"]);
    batch_ok(
        &out,
        &["build=new"],
        &[
            "sample_traces/bert_fp16_misaligned.sqlite",
            "tests/fixtures/kineto/bert_fp16_aligned.kineto.json.gz",
        ],
    );
    batch_ok(
        &out,
        &["build=int8"],
        &["sample_traces/gemm_int8_fp16_fp32.sqlite"],
    );

    let q = queries();
    let mut answers = Vec::new();
    for sql in &q {
        let p = polars(&out, sql);
        let d = duckdb(&out, sql);
        assert!(!p.is_empty(), "no rows: {sql}");
        assert_eq!(p.len(), d.len(), "{sql}\npolars {p:?}\nduckdb {d:?}");
        for (a, b) in p.iter().zip(&d) {
            assert!(same(a, b), "{sql}\npolars {a}\nduckdb {b}");
        }
        answers.push(p);
    }

    // Query 2 against the sources: the base label's one trace has the
    // pageable copies sqlite counts in its window; int8 (a capture with no
    // memcpy table at all) is absent.
    let pageable = &answers[1];
    let labels: Vec<&str> = pageable.iter().map(|r| r["build"].as_str().unwrap()).collect();
    assert_eq!(labels, ["base", "new"]);
    let base = pageable_in_window("sample_traces/bert_fp16_aligned.sqlite");
    assert!(base > 0);
    assert_eq!(pageable[0]["pageable_copies"].as_i64(), Some(base));
    assert_eq!(pageable[0]["traces"].as_i64(), Some(1));

    // Query 3: one row per trace, shares in (0, 1].
    assert_eq!(answers[2].len(), 4);
    for r in &answers[2] {
        let share = r["gpu_busy_share"].as_f64().unwrap();
        assert!(share > 0.0 && share <= 1.0, "{r}");
    }

    // Kernel counts against the source.
    let rows = polars(
        &out,
        "SELECT file_name, kernel_count, iterations FROM traces WHERE build = 'new' ORDER BY file_name",
    );
    let mis = rows
        .iter()
        .find(|r| r["file_name"] == "bert_fp16_misaligned.sqlite")
        .unwrap();
    assert_eq!(
        mis["kernel_count"].as_i64(),
        Some(kernels_in_window("sample_traces/bert_fp16_misaligned.sqlite"))
    );
    // The kernels table sums to the traces table's count.
    let sums = polars(
        &out,
        "SELECT t.file_name, t.kernel_count, SUM(k.count) AS summed FROM traces t JOIN kernels k \
         ON k.trace_id = t.trace_id GROUP BY t.file_name, t.kernel_count ORDER BY t.file_name",
    );
    assert_eq!(sums.len(), 4);
    for r in &sums {
        assert_eq!(r["kernel_count"], r["summed"], "{r}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn rerunning_a_batch_replaces_its_rows_and_keys_stay_one_list() {
    let out = temp("dataset-rerun");
    let inputs = ["sample_traces/gemm_int8_fp16_fp32.sqlite"];
    batch_ok(&out, &["host=a", "run=7"], &inputs);
    batch_ok(&out, &["host=a", "run=7"], &inputs);
    let rows = polars(&out, "SELECT COUNT(*) AS n, MIN(host) AS host FROM traces");
    assert_eq!(rows[0]["n"], 1);
    assert_eq!(rows[0]["host"], "a");
    for t in ["traces", "kernels", "iterations", "findings", "errors"] {
        let dir = out.join(t).join("date=2026-11-30").join("host=a").join("run=7");
        assert!(dir.is_dir(), "{t}");
    }
    // Other keys would make ragged partitions: refused, nothing written.
    for labels in [&["build=x"][..], &["run=7", "host=a"], &[]] {
        let run = batch(&out, labels, &inputs);
        assert_eq!(run.status.code(), Some(2), "{labels:?}");
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(err.contains("partitioned by [host, run]"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_trace_that_fails_is_recorded_and_the_batch_goes_on() {
    let out = temp("dataset-errors");
    let bad = "tests/fixtures/README.md";
    let run = batch(
        &out,
        &["build=x"],
        &["sample_traces/gemm_int8_fp16_fp32.sqlite", bad],
    );
    // Some analysed, one not: status 1, the error said on stderr.
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("README.md"), "{err}");
    assert!(err.contains("1 of 2 trace(s) could not be analysed"), "{err}");
    let traces = polars(&out, "SELECT file_name FROM traces");
    assert_eq!(traces.len(), 1);
    let errors = polars(&out, "SELECT file_name, error FROM errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["file_name"], "README.md");
    assert!(errors[0]["error"].as_str().unwrap().contains("README.md"));

    // Nothing analysed: an error (2), the failure still recorded.
    let out2 = temp("dataset-errors-only");
    let run = batch(&out2, &["build=x"], &[bad]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("none of the 1 trace(s) could be analysed"));
    assert_eq!(polars(&out2, "SELECT COUNT(*) AS n FROM errors")[0]["n"], 1);
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&out2);
}

#[test]
fn query_errors_are_one_line_with_status_2() {
    let out = temp("dataset-query-errors");
    batch_ok(&out, &[], &["sample_traces/gemm_int8_fp16_fp32.sqlite"]);
    let run = bin()
        .arg("query")
        .arg(&out)
        .arg("SELECT nope FROM traces")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let run = bin()
        .arg("query")
        .arg(root().join("tests/fixtures"))
        .arg("SELECT 1")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("no dataset tables"));
    // A table prints aligned, with a row count.
    let run = bin()
        .arg("query")
        .arg(&out)
        .arg("SELECT file_name, iterations FROM traces")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.starts_with("file_name"), "{text}");
    assert!(text.contains("gemm_int8_fp16_fp32.sqlite"), "{text}");
    assert!(text.trim_end().ends_with("(1 row)"), "{text}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn readme_shows_the_queries_and_the_schema() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let readme_flat = flat(&readme);
    for sql in queries() {
        assert!(
            readme_flat.contains(&flat(&sql)),
            "README lacks the query:\n{sql}"
        );
    }
    assert!(
        readme.contains(&trace_report::dataset::schema_markdown()),
        "README's dataset schema differs from the code's:\n{}",
        trace_report::dataset::schema_markdown()
    );
}
