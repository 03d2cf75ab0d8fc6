//! The attribution contract on real traces, checked against SQL oracles
//! (tests/common): every cell of the phase x activity table, the activity
//! and phase totals, per-iteration rows, iteration statistics, and the
//! kernel and memcpy tables.

mod common;

use common::{open, sample, union_len, window_sql};
use trace_report::document::Report;
use trace_report::input;
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

const SAMPLES: [&str; 7] = [
    "resnet50_fp16_nchw_cpupre.sqlite",
    "resnet50_fp16_cl_gpupre.sqlite",
    "redundant_copies.sqlite",
    "bert_fp16_aligned.sqlite",
    "bert_fp16_misaligned.sqlite",
    "detector_cpu_nms.sqlite",
    "gemm_int8_fp16_fp32.sqlite",
];

fn report(name: &str) -> Report {
    let trace = input::load(&sample(name), &Default::default(), &Progress::hidden()).expect("load sample");
    pipeline::analyze(&trace, &AnalysisOptions::default()).expect("analyze")
}

/// Oracle for the whole 4 x 6 table over a window given as SQL.
struct Oracle<'c> {
    conn: &'c rusqlite::Connection,
    window: String,
}

impl Oracle<'_> {
    fn u(&self, sets: &[&str]) -> i64 {
        union_len(self.conn, &self.window, sets)
    }

    fn total(&self) -> i64 {
        let sql = format!("SELECT coalesce(sum(e - s), 0) FROM ({})", self.window);
        self.conn.query_row(&sql, [], |r| r.get(0)).unwrap()
    }

    /// |W ∩ X ∩ Y| by inclusion-exclusion: |W∩X| + |W∩Y| - |W∩(X∪Y)|.
    fn both(&self, x: &[&str], y: &[&str]) -> i64 {
        if x.is_empty() || y.is_empty() {
            return 0;
        }
        let xy: Vec<&str> = x.iter().chain(y).copied().collect();
        self.u(x) + self.u(y) - self.u(&xy)
    }

    /// Time of phase set `p` (with higher-priority phases `higher`)
    /// inside activity prefix `a` (with higher-priority activities
    /// `a_higher`): |W ∩ (P\H) ∩ (A\AH)|.
    fn cell(&self, higher: &[&str], p: &[&str], a_higher: &[&str], a: &[&str]) -> i64 {
        // Phase region R = (higher ∪ p) \ higher; activity region T = (a_higher ∪ a) \ a_higher.
        let hp: Vec<&str> = higher.iter().chain(p).copied().collect();
        let ha: Vec<&str> = a_higher.iter().chain(a).copied().collect();
        let inter = |ph: &[&str], ac: &[&str]| self.both(ph, ac);
        inter(&hp, &ha) - inter(higher, &ha) - inter(&hp, a_higher) + inter(higher, a_higher)
    }
}

/// Cells where the phase set is "everything not annotated": use totals.
fn phase_sets() -> [(&'static str, Vec<&'static str>, Vec<&'static str>); 3] {
    [
        ("preprocess", vec![], vec!["pre"]),
        ("postprocess", vec!["pre"], vec!["post"]),
        ("inference", vec!["pre", "post"], vec!["infer"]),
    ]
}

fn activity_sets() -> [(&'static str, Vec<&'static str>, Vec<&'static str>); 5] {
    [
        ("kernel", vec![], vec!["kernel"]),
        ("memcpy", vec!["kernel"], vec!["memcpy"]),
        ("memset", vec!["kernel", "memcpy"], vec!["memset"]),
        ("sync", vec!["kernel", "memcpy", "memset"], vec!["sync"]),
        (
            "launch",
            vec!["kernel", "memcpy", "memset", "sync"],
            vec!["launch"],
        ),
    ]
}

fn report_cell(r: &Report, phase: &str, activity: &str) -> i64 {
    let pa = &r.attribution.window.phase_activity;
    let row = match phase {
        "preprocess" => &pa.preprocess,
        "postprocess" => &pa.postprocess,
        "inference" => &pa.inference,
        _ => &pa.unannotated,
    };
    match activity {
        "kernel" => row.activity.kernel_ns,
        "memcpy" => row.activity.memcpy_ns,
        "memset" => row.activity.memset_ns,
        "sync" => row.gpu_idle.sync_ns,
        "launch" => row.gpu_idle.launch_ns,
        _ => row.gpu_idle.host_ns,
    }
}

#[test]
fn window_totals_match_sql_on_every_sample() {
    for name in SAMPLES {
        let r = report(name);
        let conn = open(&sample(name));
        let o = Oracle {
            conn: &conn,
            window: common::window_sql_of(&conn),
        };
        let a = &r.attribution.window;
        let w = o.total();
        assert!(w > 0, "{name}: empty window");
        assert_eq!(r.window.iteration_range.as_deref(), Some("iter"), "{name}");
        assert_eq!(r.window.iterations, 12, "{name}");
        assert_eq!(a.total_ns, w, "{name}: total");
        assert_eq!(r.window.duration_ns, w, "{name}: window duration");

        let gpu = o.u(&["kernel", "memcpy", "memset"]);
        assert_eq!(a.activity.kernel_ns, o.u(&["kernel"]), "{name}: kernel");
        assert_eq!(
            a.activity.memcpy_ns,
            o.u(&["kernel", "memcpy"]) - o.u(&["kernel"]),
            "{name}: memcpy"
        );
        assert_eq!(
            a.activity.memset_ns,
            gpu - o.u(&["kernel", "memcpy"]),
            "{name}: memset"
        );
        assert_eq!(a.activity.gpu_idle_ns, w - gpu, "{name}: idle");
        let gs = o.u(&["kernel", "memcpy", "memset", "sync"]);
        let gsl = o.u(&["kernel", "memcpy", "memset", "sync", "launch"]);
        assert_eq!(a.gpu_idle.sync_ns, gs - gpu, "{name}: sync");
        assert_eq!(a.gpu_idle.launch_ns, gsl - gs, "{name}: launch");
        assert_eq!(a.gpu_idle.host_ns, w - gsl, "{name}: host");

        let pre = o.u(&["pre"]);
        let pre_post = o.u(&["pre", "post"]);
        let annotated = o.u(&["pre", "post", "infer"]);
        assert_eq!(a.phase.preprocess_ns, pre, "{name}: preprocess");
        assert_eq!(a.phase.postprocess_ns, pre_post - pre, "{name}: postprocess");
        assert_eq!(a.phase.inference_ns, annotated - pre_post, "{name}: inference");
        let host = o.u(&["pre", "post", "infer", "host"]);
        assert_eq!(a.phase.unannotated_ns, host - annotated, "{name}: unannotated");
        assert_eq!(a.phase.gpu_tail_ns, w - host, "{name}: GPU tail");

        // The sums the contract promises.
        let act = a.activity;
        assert_eq!(act.kernel_ns + act.memcpy_ns + act.memset_ns + act.gpu_idle_ns, w);
        assert_eq!(
            a.gpu_idle.sync_ns + a.gpu_idle.launch_ns + a.gpu_idle.host_ns,
            act.gpu_idle_ns
        );
        let p = a.phase;
        assert_eq!(
            p.preprocess_ns + p.inference_ns + p.postprocess_ns + p.unannotated_ns + p.gpu_tail_ns,
            w
        );
    }
}

#[test]
fn phase_by_activity_cells_match_sql() {
    // Two samples with every phase and activity populated.
    for name in [
        "resnet50_fp16_nchw_cpupre.sqlite",
        "redundant_copies.sqlite",
        "detector_cpu_nms.sqlite",
    ] {
        let r = report(name);
        let conn = open(&sample(name));
        let o = Oracle {
            conn: &conn,
            window: window_sql(),
        };
        let mut sum = 0;
        for (phase, higher, p) in phase_sets() {
            for (act, a_higher, a) in activity_sets() {
                let want = o.cell(&higher, &p, &a_higher, &a);
                assert_eq!(report_cell(&r, phase, act), want, "{name}: {phase} x {act}");
                sum += want;
            }
        }
        // The remaining cells (host idle, unannotated) follow from the totals.
        let cells: i64 = ["preprocess", "postprocess", "inference", "unannotated"]
            .iter()
            .flat_map(|p| {
                ["kernel", "memcpy", "memset", "sync", "launch", "host"].map(|a| report_cell(&r, p, a))
            })
            .sum();
        assert_eq!(cells, o.total(), "{name}: cells sum to the window");
        assert!(sum <= cells);
    }
}

#[test]
fn iterations_match_sql() {
    let name = "resnet50_fp16_nchw_cpupre.sqlite";
    let r = report(name);
    let conn = open(&sample(name));
    let mut stmt = conn
        .prepare(&format!("SELECT s, e FROM ({}) ORDER BY s", common::iter_sql()))
        .unwrap();
    let iters: Vec<(i64, i64)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(r.iterations.len(), iters.len());
    for (row, (s, e)) in r.iterations.iter().zip(&iters) {
        assert_eq!((row.start_ns, row.duration_ns), (*s, e - s));
        let o = Oracle {
            conn: &conn,
            window: format!("SELECT {s} AS s, {e} AS e"),
        };
        assert_eq!(
            row.activity.kernel_ns,
            o.u(&["kernel"]),
            "iteration {}",
            row.index
        );
        assert_eq!(row.phase.preprocess_ns, o.u(&["pre"]), "iteration {}", row.index);
        let a = row.activity;
        assert_eq!(a.kernel_ns + a.memcpy_ns + a.memset_ns + a.gpu_idle_ns, e - s);
    }
    // Statistics: nearest-rank percentiles of the SQL durations.
    let mut d: Vec<i64> = iters.iter().map(|(s, e)| e - s).collect();
    d.sort_unstable();
    let t = r.iteration_time.expect("iteration stats");
    assert_eq!(t.count, 12);
    assert_eq!(t.min_ns, d[0]);
    assert_eq!(t.max_ns, d[11]);
    assert_eq!(t.p50_ns, d[5]); // rank ceil(0.5 * 12) = 6
    assert_eq!(t.p90_ns, d[10]); // rank ceil(0.9 * 12) = 11
    assert_eq!(t.mean_ns, d.iter().sum::<i64>() / 12);
}

#[test]
fn kernel_table_matches_sql_group_by() {
    for name in ["resnet50_fp16_nchw_cpupre.sqlite", "bert_fp16_misaligned.sqlite"] {
        let r = report(name);
        let conn = open(&sample(name));
        let sql = format!(
            "SELECT s.value, count(*), sum(k.end - k.start), min(k.end - k.start), max(k.end - k.start) \
             FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.demangledName \
             JOIN ({}) w ON k.start >= w.s AND k.start < w.e GROUP BY k.demangledName",
            common::iter_sql()
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        let rows: Vec<(String, i64, i64, i64, i64)> = stmt
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(r.kernels.len(), rows.len(), "{name}: kernel names");
        for (n, count, total, min, max) in rows {
            let k = r
                .kernels
                .iter()
                .find(|k| k.name == n)
                .unwrap_or_else(|| panic!("{name}: missing {n}"));
            assert_eq!(
                (k.count as i64, k.total_ns, k.min_ns, k.max_ns, k.mean_ns),
                (count, total, min, max, total / count),
                "{name}: {n}"
            );
        }
        assert!(
            r.kernels.windows(2).all(|w| w[0].total_ns >= w[1].total_ns),
            "sorted by total"
        );
    }
}

#[test]
fn memcpy_table_matches_sql() {
    let name = "redundant_copies.sqlite";
    let r = report(name);
    let conn = open(&sample(name));
    let sql = format!(
        "SELECT e.name, count(*), sum(m.bytes), sum(m.end - m.start), \
           sum(CASE WHEN sk.name LIKE '%PAGEABLE' OR dk.name LIKE '%PAGEABLE' THEN 1 ELSE 0 END) \
         FROM CUPTI_ACTIVITY_KIND_MEMCPY m JOIN ENUM_CUDA_MEMCPY_OPER e ON e.id = m.copyKind \
         LEFT JOIN ENUM_CUDA_MEM_KIND sk ON sk.id = m.srcKind LEFT JOIN ENUM_CUDA_MEM_KIND dk ON dk.id = m.dstKind \
         JOIN ({}) w ON m.start >= w.s AND m.start < w.e GROUP BY e.name",
        common::iter_sql()
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    let rows: Vec<(String, i64, i64, i64, i64)> = stmt
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(r.memcpy.len(), rows.len());
    for (kind, count, bytes, total, pageable) in rows {
        let label = match kind.as_str() {
            "CUDA_MEMCPY_KIND_HTOD" => "HtoD",
            "CUDA_MEMCPY_KIND_DTOH" => "DtoH",
            "CUDA_MEMCPY_KIND_DTOD" => "DtoD",
            other => panic!("unexpected kind {other}"),
        };
        let m = r.memcpy.iter().find(|m| m.kind == label).unwrap();
        assert_eq!(
            (
                m.count as i64,
                m.bytes as i64,
                m.total_ns,
                m.pageable_count as i64
            ),
            (count, bytes, total, pageable),
            "{label}"
        );
    }
}

#[test]
fn multi_gpu_devices_are_reported_separately() {
    // Per-device rows sum each device's own busy time; on one GPU it equals
    // the window activity.
    let r = report("resnet50_fp16_cl_gpupre.sqlite");
    assert_eq!(r.attribution.devices.len(), 1);
    let d = &r.attribution.devices[0];
    let a = &r.attribution.window.activity;
    assert_eq!(
        (d.kernel_ns, d.memcpy_ns, d.memset_ns, d.gpu_idle_ns),
        (a.kernel_ns, a.memcpy_ns, a.memset_ns, a.gpu_idle_ns)
    );
    assert_eq!(d.name, "NVIDIA H100 80GB HBM3");
}

#[test]
fn gpu_lag_is_projected_with_sql_counts() {
    // The GEMM sample queues each iteration's GEMMs and moves on: most of
    // its kernels start after the range that launched them.
    let name = "gemm_int8_fp16_fp32.sqlite";
    let r = report(name);
    let conn = open(&sample(name));
    let count = |sql: String| -> i64 { conn.query_row(&sql, [], |row| row.get(0)).unwrap() };
    let launched = count(format!(
        "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN CUPTI_ACTIVITY_KIND_RUNTIME r \
         ON r.correlationId = k.correlationId AND (r.globalTid >> 24) = (k.globalPid >> 24) \
         JOIN ({}) w ON r.start >= w.s AND r.start < w.e",
        common::iter_sql()
    ));
    let started = count(format!(
        "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN ({}) w ON k.start >= w.s AND k.start < w.e",
        common::iter_sql()
    ));
    assert!(
        started * 4 < launched * 3,
        "the sample lags: {started} of {launched}"
    );
    // Each iteration reaches the end of the last kernel it launched, so the
    // window holds every kernel the iterations launched (and, here, no other).
    let ends: Vec<(i64, i64)> = {
        let mut q = conn
            .prepare(&format!(
                "SELECT w.s, max(w.e, coalesce(max(k.end), w.e)) FROM ({}) w \
                 LEFT JOIN CUPTI_ACTIVITY_KIND_RUNTIME r ON r.start >= w.s AND r.start < w.e \
                 LEFT JOIN CUPTI_ACTIVITY_KIND_KERNEL k ON k.correlationId = r.correlationId \
                   AND (r.globalTid >> 24) = (k.globalPid >> 24) \
                 GROUP BY w.s, w.e ORDER BY w.s",
                common::iter_sql()
            ))
            .unwrap();
        q.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let got: Vec<(i64, i64)> = r
        .iterations
        .iter()
        .map(|i| (i.start_ns, i.start_ns + i.duration_ns))
        .collect();
    assert_eq!(got, ends);
    let kernels: i64 = r.kernels.iter().map(|k| k.count as i64).sum();
    assert_eq!(kernels, launched);
    assert!(
        r.window.reason.contains("the GPU runs behind the host"),
        "{}",
        r.window.reason
    );
    assert!(!r.warnings.iter().any(|w| w.contains("behind")));
    // A synchronous trace keeps its host ranges.
    let healthy = report("resnet50_fp16_cl_gpupre.sqlite");
    assert!(!healthy.window.reason.contains("behind"));
    assert_eq!(healthy.attribution.window.phase.gpu_tail_ns, 0);
}
