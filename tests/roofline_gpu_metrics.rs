//! Bytes and bandwidth of long kernels from sampled GPU metrics (nsys
//! `--gpu-metrics-devices`), the roofline's last source of work, on a real
//! H100 capture trimmed to its DRAM read/write and SMs Active samples
//! (`gemm_dram_metrics_subset.sqlite`, see tests/fixtures/README.md).
//!
//! Oracle: hand-written SQL over the same export. For each kernel name of
//! the window (launches starting inside the iterations' extents), the
//! samples whose period lies inside a launch on both sides (timestamp in
//! [start + P, end - P], P the median sample spacing), averaged per metric;
//! bytes = (read% + write%) / 100 x 3.35 TB/s (the H100 SXM datasheet's
//! memory bandwidth, typed here) x the name's kernel time. Names with fewer
//! than 3 samples, or samples covering less than half their time, get none.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use trace_report::analysis::roofline::WorkSource;
use trace_report::document::Report;
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn report(name: &str, peaks: Option<PathBuf>) -> Report {
    let trace = trace_report::input::load(&fixture(name), &Default::default(), &Progress::hidden()).unwrap();
    let opts = AnalysisOptions {
        gpu_peaks: peaks,
        ..AnalysisOptions::default()
    };
    pipeline::analyze(&trace, &opts).unwrap()
}

/// H100 SXM memory bandwidth, bytes/s (NVIDIA H100 datasheet: 3.35 TB/s).
const H100_BYTES_PER_S: f64 = 3.35e12;

#[derive(Debug, Default)]
struct Expected {
    total_ns: i64,
    n: [i64; 2],
    sum: [f64; 2],
}

#[test]
fn dram_metrics_give_bytes_of_long_kernels_as_sql_says() {
    let path = fixture("gemm_dram_metrics_subset.sqlite");
    let conn = common::open(&path);
    let metric = |name: &str| -> i64 {
        conn.query_row(
            "SELECT metricId FROM TARGET_INFO_GPU_METRICS WHERE metricName = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (read, write) = (
        metric("DRAM Read Bandwidth [Throughput %]"),
        metric("DRAM Write Bandwidth [Throughput %]"),
    );
    // P: the median spacing of the read metric's samples.
    let mut gaps: Vec<i64> = conn
        .prepare(
            "SELECT timestamp - lag(timestamp) OVER (ORDER BY timestamp) FROM GPU_METRICS \
             WHERE metricId = ?1 ORDER BY timestamp",
        )
        .unwrap()
        .query_map([read], |r| r.get::<_, Option<i64>>(0))
        .unwrap()
        .filter_map(|x| x.unwrap())
        .filter(|&d| d > 0)
        .collect();
    gaps.sort();
    let p = gaps[gaps.len() / 2];
    assert!((99_000..=101_000).contains(&p), "10 kHz sampling: {p}");
    let window = common::window_sql_of(&conn);
    let in_window = format!(
        "EXISTS (SELECT 1 FROM ({window}) w WHERE k.start >= w.s AND k.start <= w.e)"
    );
    // The oracle assumes launches that do not overlap (one stream): check.
    let overlaps: i64 = conn
        .query_row(
            "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL a JOIN CUPTI_ACTIVITY_KIND_KERNEL b \
             ON a.rowid < b.rowid AND a.deviceId = b.deviceId AND a.start < b.end AND b.start < a.end",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(overlaps, 0);
    let mut want: BTreeMap<String, Expected> = BTreeMap::new();
    let name = "(SELECT value FROM StringIds WHERE id = k.demangledName)";
    let mut q = conn
        .prepare(&format!(
            "SELECT {name}, sum(k.end - k.start) FROM CUPTI_ACTIVITY_KIND_KERNEL k WHERE {in_window} GROUP BY 1"
        ))
        .unwrap();
    for row in q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).unwrap() {
        let (n, t) = row.unwrap();
        want.entry(n).or_default().total_ns = t;
    }
    for (slot, id) in [read, write].into_iter().enumerate() {
        let mut q = conn
            .prepare(&format!(
                "SELECT {name}, count(*), sum(g.value) FROM CUPTI_ACTIVITY_KIND_KERNEL k \
                 JOIN GPU_METRICS g ON g.metricId = ?1 AND g.value >= 0 \
                   AND g.timestamp >= k.start + ?2 AND g.timestamp <= k.end - ?2 \
                 WHERE {in_window} GROUP BY 1"
            ))
            .unwrap();
        for row in q
            .query_map([id, p], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, f64>(2)?))
            })
            .unwrap()
        {
            let (n, c, s) = row.unwrap();
            let e = want.get_mut(&n).unwrap();
            e.n[slot] = c;
            e.sum[slot] = s;
        }
    }
    let expected: BTreeMap<&str, f64> = want
        .iter()
        .filter(|(_, e)| {
            let n = e.n[0].min(e.n[1]);
            n >= 3 && (n * p) as f64 >= 0.5 * e.total_ns as f64
        })
        .map(|(k, e)| {
            let pct = e.sum[0] / e.n[0] as f64 + e.sum[1] / e.n[1] as f64;
            (k.as_str(), pct / 100.0 * H100_BYTES_PER_S * e.total_ns as f64 * 1e-9)
        })
        .collect();
    // The fp32 SIMT GEMM (2.67 ms a launch) and the align1 fp16 GEMM (1 ms)
    // are long enough; the 0.17 ms nvjet GEMM and the elementwise kernels
    // are not.
    assert_eq!(expected.len(), 2, "{expected:?}");

    let r = report("gemm_dram_metrics_subset.sqlite", None);
    let got: BTreeMap<&str, &trace_report::analysis::roofline::Placement> = r
        .kernels
        .iter()
        .filter_map(|k| k.roofline.as_ref().map(|p| (k.name.as_str(), p)))
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the kernel names given work"
    );
    for (k, bytes) in &expected {
        let p = got[k];
        assert_eq!(p.work_source, WorkSource::GpuMetrics);
        assert!((p.bytes - bytes).abs() <= 1e-9 * bytes, "{k}: {} vs {bytes}", p.bytes);
        // Traffic only: no FLOPs, no intensity, no verdict; the share of the
        // memory roof is the sampled read + write percent.
        assert_eq!((p.flops, p.arithmetic_intensity, p.bound), (None, None, None));
        let m = p.gpu_metrics.unwrap();
        assert!((p.roof_percent.unwrap() - (m.dram_read_percent + m.dram_write_percent)).abs() < 1e-9);
        assert!(m.sm_active_percent.unwrap() > 90.0, "a big GEMM fills the SMs");
    }
    assert_eq!(r.roofline.sources.gpu_metrics, 2);
    assert!(r.roofline.flops.is_none(), "no FLOPs from metrics");
    let html = String::from_utf8(trace_report::report::html::render(&r)).unwrap();
    assert!(html.contains("from sampled GPU metrics"));
}

/// Absent, not guessed: without the GPU's peak bandwidth (a table that
/// does not know it) the percentages give no bytes; without DRAM metrics
/// (the Tensor Active fixture) there is no such source at all.
#[test]
fn no_peak_or_no_dram_metrics_no_bytes() {
    let dir = std::env::temp_dir().join(format!("trace-report-gm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let other = dir.join("peaks.json");
    std::fs::write(
        &other,
        r#"{"gpus":[{"name":"Some GPU","names":["SOMEGPU"],"fp64":null,"fp32":10,"tf32":null,"fp16":100,"bf16":100,"fp8":null,"int8":null,"memory_gb_per_s":1000,"source":{"title":"my measurement","url":"file:///x"}}]}"#,
    )
    .unwrap();
    let r = report("gemm_dram_metrics_subset.sqlite", Some(other));
    assert!(r.kernels.iter().all(|k| k.roofline.is_none()));
    assert!(r.roofline.notes.iter().any(|n| n.contains("GPU's peak is unknown")), "{:?}", r.roofline.notes);
    let t = report("gemm_gpumetrics_subset.sqlite", None);
    assert!(t.roofline.gpu_metrics.is_none());
    assert!(t.kernels.iter().all(|k| k.roofline.is_none()));
    let _ = std::fs::remove_dir_all(&dir);
}
