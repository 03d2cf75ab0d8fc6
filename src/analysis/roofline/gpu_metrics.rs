//! DRAM traffic of long kernels from the capture's own GPU metrics: nsys
//! `--gpu-metrics-devices` samples "DRAM Read Bandwidth [Throughput %]" and
//! "DRAM Write Bandwidth [Throughput %]" (and "SMs Active") every sampling
//! period, as a percentage of the GPU's peak. The last source of work, used
//! only when no counters, shapes or engine dims cover a kernel.
//!
//! A kernel's samples are chosen as for Tensor Active
//! ([`crate::analysis::tensor_core::gpu_metrics::kernel_samples`]): whole
//! periods inside the part of the kernel no other kernel overlaps, so only
//! kernels longer than two periods (200 us at 10 kHz) have any. Per kernel
//! name, over the window:
//!
//! ```text
//! read%, write%  = mean of the samples (integer percents: +-0.5 each)
//! bandwidth      = (read% + write%) / 100 x the datasheet's peak bandwidth
//! bytes          = bandwidth x the name's kernel time in the window
//! ```
//!
//! given only with at least [`MIN_SAMPLES`] samples of each that cover at
//! least [`MIN_COVERED`] of the name's time (the rest of its launches is
//! assumed to run alike), and only with the GPU's peak bandwidth (the
//! samples are shares of it). FLOPs stay unknown: the metrics measure
//! traffic, not math.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::peaks::GpuPeaks;
use super::{Work, WorkSource};
use crate::analysis::kernels::KernelRow;
use crate::analysis::tensor_core::gpu_metrics::{kernel_samples, period};
use crate::analysis::window::Window;
use crate::model::{MetricKind, MetricSeries, Ns, Trace};

/// Fewest samples (of each DRAM metric) for a kernel name's bandwidth.
pub const MIN_SAMPLES: u64 = 3;
/// Least share of a kernel name's time its samples must cover.
pub const MIN_COVERED: f64 = 0.5;

pub use crate::analysis::verdicts::SampledMetrics;

/// How the metrics were used, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsTraffic {
    /// The DRAM metrics, as named in the capture.
    pub metrics: Vec<String>,
    pub period_ns: Ns,
    /// Kernel names given bytes from the metrics.
    pub kernels: usize,
    /// Kernel names with samples too few or covering too little.
    pub kernels_too_short: usize,
    pub min_samples: u64,
    pub min_covered: f64,
}

#[derive(Default, Clone, Copy)]
struct Acc {
    n: [u64; 3],
    sum: [f64; 3],
    period: Ns,
}

/// Work per kernel row from the DRAM metrics (None where they cannot say),
/// and how they were used (None without DRAM metrics).
pub fn work(
    trace: &Trace,
    window: &Window,
    rows: &[KernelRow],
    peaks: Option<&GpuPeaks>,
) -> (Vec<Option<Work>>, Option<MetricsTraffic>) {
    let mut out = vec![None; rows.len()];
    let kinds = [MetricKind::DramRead, MetricKind::DramWrite, MetricKind::SmActive];
    let of_kind = |k: MetricKind| -> Vec<&MetricSeries> { trace.gpu_metrics.iter().filter(|m| m.kind == k).collect() };
    let (reads, writes) = (of_kind(MetricKind::DramRead), of_kind(MetricKind::DramWrite));
    if reads.is_empty() || writes.is_empty() {
        return (out, None);
    }
    let mut usage = MetricsTraffic {
        metrics: vec![reads[0].name.clone(), writes[0].name.clone()],
        min_samples: MIN_SAMPLES,
        min_covered: MIN_COVERED,
        ..MetricsTraffic::default()
    };
    let row_of: HashMap<&str, usize> = rows.iter().enumerate().map(|(i, r)| (r.name.as_str(), i)).collect();
    let mut acc: Vec<Acc> = vec![Acc::default(); rows.len()];
    for s in &trace.gpu_metrics {
        let Some(slot) = kinds.iter().position(|k| *k == s.kind) else {
            continue;
        };
        let Some(p) = period(s) else { continue };
        usage.period_ns = usage.period_ns.max(p);
        kernel_samples(trace, window, s, p, |i, values| {
            if let Some(&r) = row_of.get(trace.name(trace.kernels[i].name)) {
                let a = &mut acc[r];
                a.n[slot] += values.len() as u64;
                a.sum[slot] += values.iter().map(|&v| f64::from(v)).sum::<f64>();
                a.period = a.period.max(p);
            }
        });
    }
    for (r, (row, a)) in rows.iter().zip(&acc).enumerate() {
        let n = a.n[0].min(a.n[1]);
        if n == 0 {
            continue;
        }
        let covered = n as f64 * a.period as f64;
        if n < MIN_SAMPLES || covered < MIN_COVERED * row.total_ns as f64 {
            usage.kernels_too_short += 1;
            continue;
        }
        let mean = |slot: usize| a.sum[slot] / a.n[slot] as f64;
        let sampled = SampledMetrics {
            samples: n,
            period_ns: a.period,
            dram_read_percent: mean(0),
            dram_write_percent: mean(1),
            sm_active_percent: (a.n[2] > 0).then(|| mean(2)),
        };
        // The samples are shares of the peak: without it, no bytes.
        let Some(peaks) = peaks else { continue };
        let bandwidth = (sampled.dram_read_percent + sampled.dram_write_percent) / 100.0 * peaks.memory_bytes_per_s;
        usage.kernels += 1;
        out[r] = Some(Work {
            source: WorkSource::GpuMetrics,
            flops: 0.0,
            bytes: bandwidth * row.total_ns as f64 * 1e-9,
            precision: None,
            tensor: None,
            sampled: Some(sampled),
        });
    }
    (out, Some(usage))
}
