//! Tensor Core verdicts from the capture's own GPU metrics, on a real
//! subset of the H100 GEMM capture made with --gpu-metrics-devices
//! (tests/fixtures/gemm_gpumetrics_subset.sqlite, see its README). Oracles:
//! SQL over the same file (sample counts, per-kernel clean samples) and the
//! hardware-counter labels.

use std::collections::HashMap;
use std::path::PathBuf;

use rusqlite::{Connection, OpenFlags};
use trace_report::analysis::tensor_core::gpu_metrics::{self, MIN_SAMPLES};
use trace_report::analysis::tensor_core::names::Verdict;
use trace_report::analysis::tensor_core::{self, VerdictSource};
use trace_report::analysis::window::{self, WindowChoice};
use trace_report::model::{MetricKind, Trace};
use trace_report::pipeline::{AnalysisOptions, analyze};
use trace_report::progress::Progress;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gemm_gpumetrics_subset.sqlite")
}

fn trace() -> Trace {
    trace_report::input::load(&fixture(), &Default::default(), &Progress::hidden()).unwrap()
}

fn sql() -> Connection {
    Connection::open_with_flags(fixture(), OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

const TENSOR_ACTIVE: &str = "Tensor Active [Throughput %]";

#[test]
fn the_reader_takes_tensor_active_by_name() {
    let t = trace();
    // One GPU: one Tensor Active series, and the SMs Active series the
    // roofline's GPU-metrics source reads too.
    assert_eq!(t.gpu_metrics.len(), 2);
    let s = t
        .gpu_metrics
        .iter()
        .find(|m| m.kind == MetricKind::TensorActive)
        .expect("a Tensor Active series");
    assert!(
        t.gpu_metrics
            .iter()
            .any(|m| m.kind == MetricKind::SmActive && m.name == "SMs Active [Throughput %]")
    );
    assert_eq!(
        (s.kind, s.name.as_str(), s.device),
        (MetricKind::TensorActive, TENSOR_ACTIVE, 0)
    );
    let expected: i64 = sql()
        .query_row(
            "SELECT count(*) FROM GPU_METRICS g JOIN TARGET_INFO_GPU_METRICS t
             ON g.typeId = t.typeId AND g.metricId = t.metricId
             WHERE t.metricName = ?1 AND g.value >= 0",
            [TENSOR_ACTIVE],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(s.times.len() as i64, expected);
    assert!(s.times.is_sorted());
    // The fixture keeps those two metrics only.
    let other: i64 = sql()
        .query_row("SELECT count(DISTINCT metricId) FROM GPU_METRICS", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(other, 2);
}

/// Per kernel name: (samples, sum) of Tensor Active samples whose period on
/// both sides lies inside the part of the kernel no other kernel overlaps.
fn oracle(period: i64) -> HashMap<String, (u64, f64)> {
    let db = sql();
    let mut stmt = db
        .prepare(
            "WITH k AS (
               SELECT k.start, k.end, s.value AS name,
                      max(k.end) OVER (PARTITION BY k.deviceId ORDER BY k.start, k.end
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end,
                      lead(k.start) OVER (PARTITION BY k.deviceId ORDER BY k.start, k.end) AS next_start
               FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.demangledName),
             c AS (SELECT name, max(start, coalesce(prev_end, start)) AS lo,
                          min(end, coalesce(next_start, end)) AS hi FROM k),
             m AS (SELECT g.timestamp AS t, g.value AS v FROM GPU_METRICS g
                   JOIN TARGET_INFO_GPU_METRICS i ON g.typeId = i.typeId AND g.metricId = i.metricId
                   WHERE i.metricName = ?1 AND g.value >= 0)
             SELECT c.name, count(*), sum(m.v) FROM c JOIN m
               ON m.t >= c.lo + ?2 AND m.t <= c.hi - ?2
             WHERE c.hi - c.lo >= 2 * ?2
             GROUP BY c.name",
        )
        .unwrap();
    stmt.query_map(rusqlite::params![TENSOR_ACTIVE, period], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (r.get::<_, i64>(1)? as u64, r.get::<_, f64>(2)?),
        ))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

#[test]
fn samples_are_attributed_only_inside_lone_kernels() {
    let t = trace();
    let w = window::choose(&t, &WindowChoice::WholeCapture).unwrap();
    let (per_name, usage) = gpu_metrics::samples_per_name(&t, &w);
    let usage = usage.unwrap();
    // nsys samples at 10 kHz: the period is 100 us (+- 1 ns of rounding).
    let (dmin, dmax): (i64, i64) = sql()
        .query_row(
            "SELECT min(d), max(d) FROM (SELECT timestamp - lag(timestamp) OVER (ORDER BY timestamp) AS d
             FROM GPU_METRICS g JOIN TARGET_INFO_GPU_METRICS i ON g.typeId = i.typeId AND g.metricId = i.metricId
             WHERE i.metricName = ?1) WHERE d IS NOT NULL",
            [TENSOR_ACTIVE],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!((dmin..=dmax).contains(&usage.period_ns), "{usage:?}");
    let expected = oracle(usage.period_ns);
    let mine: HashMap<String, (u64, f64)> = per_name
        .iter()
        .map(|(&id, s)| (t.name(id).to_string(), (s.samples, s.sum)))
        .collect();
    assert_eq!(mine, expected);
    assert_eq!(usage.samples_used, expected.values().map(|v| v.0).sum::<u64>());
    // Only the two long GEMMs (2.7 ms FP32, 1.05 ms align1 FP16) hold two
    // full periods alone; the others (< 200 us) fall through to the name.
    assert_eq!(expected.len(), 2, "{expected:?}");
}

#[test]
fn gpu_metrics_verdicts_agree_with_the_labels() {
    let t = trace();
    let r = analyze(
        &t,
        &AnalysisOptions {
            window: WindowChoice::WholeCapture,
            ..AnalysisOptions::default()
        },
    )
    .unwrap();
    let u = r.tensor_cores.gpu_metrics.as_ref().unwrap();
    assert_eq!((u.kernels_decided, u.min_samples), (2, MIN_SAMPLES));
    assert!(r.tensor_cores.disagreements.is_empty());
    let labels = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensor_core_labels.csv"),
    )
    .unwrap();
    let records = trace_report::input::ncu::records(&labels);
    let mut checked = 0;
    for k in &r.kernels {
        let label = records
            .iter()
            .find(|l| l.len() > 2 && l[0] == "gemm_int8_fp16_fp32" && l[1] == k.name);
        if k.tensor_core_evidence == VerdictSource::GpuMetrics {
            let label = label.expect("kernels decided by GPU metrics are labelled");
            let want = if label[2] == "yes" {
                Verdict::Yes
            } else {
                Verdict::No
            };
            assert_eq!(k.tensor_core, want, "{}", k.name);
            checked += 1;
        }
    }
    assert_eq!(checked, 2);
    let by_name = |part: &str| r.kernels.iter().find(|k| k.name.contains(part)).unwrap();
    let ffma = by_name("_ffma_");
    assert_eq!(
        (ffma.tensor_core, ffma.tensor_core_evidence),
        (Verdict::No, VerdictSource::GpuMetrics)
    );
    let align1 = by_name("s1688gemm_f16_256x128_nn_align1");
    assert_eq!(
        (align1.tensor_core, align1.tensor_core_evidence),
        (Verdict::Yes, VerdictSource::GpuMetrics)
    );
    // Short kernels fall through to the name grammar.
    let int8 = by_name("i16832gemm");
    assert_eq!(
        (int8.tensor_core, int8.tensor_core_evidence),
        (Verdict::Yes, VerdictSource::Name)
    );
    assert_eq!(r.tensor_cores.evidence.gpu_metrics, 2);
    // A capture without GPU metrics reports none.
    let plain = trace_report::input::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_traces/gemm_int8_fp16_fp32.sqlite"),
        &Default::default(),
        &Progress::hidden(),
    )
    .unwrap();
    assert!(plain.gpu_metrics.is_empty());
    let w = window::choose(&plain, &WindowChoice::Auto).unwrap();
    let mut rows = trace_report::analysis::kernels::summarize(&plain, &w);
    let s = tensor_core::annotate(&plain, &w, &mut rows, tensor_core::Inputs::default());
    assert!(s.gpu_metrics.is_none());
}
