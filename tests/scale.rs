//! Scale exactness: a real export whose activity rows are replicated K times
//! (each copy shifted past the end of the previous one, correlation ids
//! offset so that calls still join one-to-one: what benches' scaled inputs
//! are) must report exactly K times the original's counts and durations.
//! The oracle is arithmetic on the original's own report; the replicated
//! file is big enough (>100k API rows) that the loader reads the runtime
//! table on two threads and merges the parts.

mod common;

use std::path::{Path, PathBuf};

use common::sample;
use trace_report::document::Report;
use trace_report::input;
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

const K: i64 = 6;
const TABLES: [&str; 6] = [
    "CUPTI_ACTIVITY_KIND_KERNEL",
    "CUPTI_ACTIVITY_KIND_MEMCPY",
    "CUPTI_ACTIVITY_KIND_MEMSET",
    "CUPTI_ACTIVITY_KIND_RUNTIME",
    "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION",
    "NVTX_EVENTS",
];

/// A temporary copy, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn columns(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info(\"{table}\")")).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(1))
        .unwrap()
        .map(|c| c.unwrap())
        .collect()
}

/// `src` with its activity tables replicated `K` times, in a scratch file.
fn replicate(src: &Path) -> Scratch {
    let dst = std::env::temp_dir().join(format!("trace-report-scale-{}.sqlite", std::process::id()));
    std::fs::copy(src, &dst).unwrap();
    let out = Scratch(dst);
    let conn = rusqlite::Connection::open(&out.0).unwrap();
    let present: Vec<&str> = TABLES
        .iter()
        .copied()
        .filter(|t| !columns(&conn, t).is_empty())
        .collect();
    let one = |sql: String| -> i64 {
        conn.query_row(&sql, [], |r| r.get::<_, Option<i64>>(0))
            .unwrap()
            .unwrap_or(0)
    };
    let (mut lo, mut hi, mut corr) = (i64::MAX, i64::MIN, 0);
    for t in &present {
        let cols = columns(&conn, t);
        if cols.iter().any(|c| c == "start") {
            lo = lo.min(one(format!("SELECT min(start) FROM {t}")));
            hi = hi.max(one(format!("SELECT max(coalesce(end, start)) FROM {t}")));
        }
        if cols.iter().any(|c| c == "correlationId") {
            corr = corr.max(one(format!("SELECT max(correlationId) FROM {t}")));
        }
    }
    let shift = hi - lo + 1_000_000;
    for t in &present {
        let cols = columns(&conn, t);
        let rows = one(format!("SELECT max(rowid) FROM {t}"));
        for copy in 1..K {
            let exprs: Vec<String> = cols
                .iter()
                .map(|c| match c.as_str() {
                    "start" | "end" => format!("\"{c}\" + {}", copy * shift),
                    "correlationId" => format!("\"{c}\" + {}", copy * (corr + 1)),
                    _ => format!("\"{c}\""),
                })
                .collect();
            conn.execute_batch(&format!(
                "INSERT INTO {t} SELECT {} FROM {t} WHERE rowid <= {rows}",
                exprs.join(", ")
            ))
            .unwrap();
        }
    }
    out
}

fn report(path: &Path) -> Report {
    let trace = input::load(path, &Default::default(), &Progress::hidden()).expect("load");
    pipeline::analyze(&trace, &AnalysisOptions::default()).expect("analyze")
}

#[test]
fn replicated_trace_reports_k_times_the_original() {
    let src = sample("resnet50_fp16_nchw_cpupre.sqlite");
    let scaled = replicate(&src);
    let conn = rusqlite::Connection::open(&scaled.0).unwrap();
    let runtime: i64 = conn
        .query_row("SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        runtime >= 100_000,
        "too few rows to exercise the split read: {runtime}"
    );
    drop(conn);

    let a = report(&src);
    let b = report(&scaled.0);
    assert_eq!(b.window.iterations, K as usize * a.window.iterations);
    assert_eq!(b.window.duration_ns, K * a.window.duration_ns);

    // Every cell of the attribution, including the phase x activity table.
    let scaled_json = |r: &Report| serde_json::to_value(&r.attribution.window).unwrap();
    let times_k = |v: &serde_json::Value| -> serde_json::Value {
        fn walk(v: &serde_json::Value) -> serde_json::Value {
            match v {
                serde_json::Value::Number(n) if n.is_i64() => (n.as_i64().unwrap() * K).into(),
                serde_json::Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), walk(v))).collect(),
                serde_json::Value::Array(a) => a.iter().map(walk).collect(),
                other => other.clone(),
            }
        }
        walk(v)
    };
    assert_eq!(scaled_json(&b), times_k(&scaled_json(&a)));

    // Each iteration repeats once per copy, with the same attribution.
    let n = a.iterations.len();
    for (i, row) in b.iterations.iter().enumerate() {
        let orig = &a.iterations[i % n];
        assert_eq!(row.duration_ns, orig.duration_ns, "iteration {i}");
        assert_eq!(row.activity, orig.activity, "iteration {i}");
        assert_eq!(row.gpu_idle, orig.gpu_idle, "iteration {i}");
    }

    // Kernel table: K times the count and total, same min, max and mean.
    assert_eq!(a.kernels.len(), b.kernels.len());
    for ka in &a.kernels {
        let kb = b.kernels.iter().find(|k| k.name == ka.name).expect("kernel name");
        assert_eq!(kb.count, K as u64 * ka.count, "{}", ka.name);
        assert_eq!(kb.total_ns, K * ka.total_ns, "{}", ka.name);
        assert_eq!(
            (kb.min_ns, kb.max_ns, kb.mean_ns),
            (ka.min_ns, ka.max_ns, ka.mean_ns)
        );
    }
    assert_eq!(a.memcpy.len(), b.memcpy.len());
    for (ma, mb) in a.memcpy.iter().zip(&b.memcpy) {
        assert_eq!(ma.kind, mb.kind);
        assert_eq!(
            (mb.count, mb.bytes, mb.total_ns, mb.pageable_count),
            (
                K as u64 * ma.count,
                K as u64 * ma.bytes,
                K * ma.total_ns,
                K as u64 * ma.pageable_count
            )
        );
    }
    // The same findings fire, with K times the time at stake, up to the
    // rounding of rules that take a fraction of a sum (low-alignment
    // stakes half the kernels' time: K * (t / 2) vs (K * t) / 2).
    let rules = |r: &Report| r.findings.iter().map(|f| f.rule.clone()).collect::<Vec<_>>();
    assert_eq!(rules(&b), rules(&a));
    for (fa, fb) in a.findings.iter().zip(&b.findings) {
        let d = fb.time_at_stake_ns - K * fa.time_at_stake_ns;
        assert!(
            d.abs() < K,
            "{}: {} vs {K} x {}",
            fa.rule,
            fb.time_at_stake_ns,
            fa.time_at_stake_ns
        );
    }
    assert!(!a.findings.is_empty());
}
