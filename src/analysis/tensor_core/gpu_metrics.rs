//! Tensor Core verdicts from the capture's own GPU metrics: nsys
//! `--gpu-metrics-devices` samples "Tensor Active [Throughput %]" (the
//! share of cycles the tensor pipe was busy, averaged over SMs) every
//! sampling period (100 us at the default 10 kHz).
//!
//! A sample describes a whole period, and the capture does not say whether
//! its timestamp opens or closes it (on the nsys 2025.3 GEMM capture the
//! value follows the period that *starts* at the timestamp). So a sample
//! counts for a kernel only when the period on *both* sides of it lies
//! inside the kernel, and only where no other kernel ran on that GPU:
//! kernels shorter than two periods (200 us at 10 kHz) get no samples and
//! fall through to the next evidence. Per kernel name, over the window:
//! at least [`MIN_SAMPLES`] samples with a mean of at least [`YES_PERCENT`]
//! is `yes`; a mean of at most [`NO_PERCENT`] is `no` (an FP32 SIMT GEMM
//! reads 0 with an occasional 1); anything between is not decided, because
//! HFMA2.MMA (plain FP16 arithmetic issued to the tensor pipe) can show a
//! little activity without MMA instructions.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::names::Verdict;
use crate::analysis::window::Window;
use crate::model::{MetricKind, MetricSeries, NameId, Ns, Trace};

/// Fewest samples for a verdict.
pub const MIN_SAMPLES: u64 = 3;
/// Mean Tensor Active (percent) from which a kernel is on Tensor Cores.
pub const YES_PERCENT: f64 = 5.0;
/// Mean Tensor Active (percent) up to which a kernel is not.
pub const NO_PERCENT: f64 = 0.5;

/// Samples attributed to one kernel name.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NameSamples {
    pub samples: u64,
    pub sum: f64,
}

impl NameSamples {
    pub fn mean(&self) -> Option<f64> {
        (self.samples > 0).then(|| self.sum / self.samples as f64)
    }

    /// The verdict these samples support, if any.
    pub fn verdict(&self) -> Option<Verdict> {
        let mean = self.mean()?;
        if self.samples < MIN_SAMPLES {
            None
        } else if mean >= YES_PERCENT {
            Some(Verdict::Yes)
        } else if mean <= NO_PERCENT {
            Some(Verdict::No)
        } else {
            None
        }
    }
}

/// How the GPU metrics were used, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuMetricsUse {
    /// The metric, as named in the capture.
    pub metric: String,
    /// Samples of it in the capture (all GPUs).
    pub samples: u64,
    /// Median sampling period.
    pub period_ns: Ns,
    /// Samples attributed to kernels of the window.
    pub samples_used: u64,
    /// Window kernels (names) with a verdict from the metrics.
    pub kernels_decided: usize,
    /// Window kernels (names) with fewer than `min_samples` samples.
    pub kernels_without_samples: usize,
    /// Window kernels (names) whose mean fell between the thresholds.
    pub kernels_undecided: usize,
    pub min_samples: u64,
    pub yes_percent: f64,
    pub no_percent: f64,
}

/// The median spacing of a series' samples.
pub fn period(series: &MetricSeries) -> Option<Ns> {
    let mut d: Vec<Ns> = series
        .times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d > 0)
        .collect();
    if d.is_empty() {
        return None;
    }
    let mid = d.len() / 2;
    Some(*d.select_nth_unstable(mid).1)
}

/// Tensor Active samples per kernel name, over the kernels of the window.
pub fn samples_per_name(
    trace: &Trace,
    window: &Window,
) -> (HashMap<NameId, NameSamples>, Option<GpuMetricsUse>) {
    let mut out: HashMap<NameId, NameSamples> = HashMap::new();
    let series: Vec<&MetricSeries> = trace
        .gpu_metrics
        .iter()
        .filter(|m| m.kind == MetricKind::TensorActive)
        .collect();
    let Some(first) = series.first() else {
        return (out, None);
    };
    let mut usage = GpuMetricsUse {
        metric: first.name.clone(),
        samples: series.iter().map(|s| s.times.len() as u64).sum(),
        min_samples: MIN_SAMPLES,
        yes_percent: YES_PERCENT,
        no_percent: NO_PERCENT,
        ..GpuMetricsUse::default()
    };
    for s in series {
        let Some(p) = period(s) else { continue };
        usage.period_ns = usage.period_ns.max(p);
        kernel_samples(trace, window, s, p, |i, values| {
            let e = out.entry(trace.kernels[i].name).or_default();
            for &v in values {
                e.sum += f64::from(v);
                e.samples += 1;
            }
            usage.samples_used += values.len() as u64;
        });
    }
    (out, Some(usage))
}

/// For each kernel of the window on the series' GPU, in start order, the
/// values of the samples that describe it alone (see the module comment:
/// the period on both sides of a sample inside the part of the kernel no
/// other kernel of that GPU overlaps): `f(kernel index, values)`, called
/// only for kernels with at least one sample.
pub fn kernel_samples(
    trace: &Trace,
    window: &Window,
    s: &MetricSeries,
    p: Ns,
    mut f: impl FnMut(usize, &[f32]),
) {
    // Kernels of this GPU, in start order (the trace is sorted).
    let on_gpu: Vec<usize> = (0..trace.kernels.len())
        .filter(|&i| trace.kernels[i].device == s.device)
        .collect();
    let mut reach = Ns::MIN;
    for (j, &i) in on_gpu.iter().enumerate() {
        let k = &trace.kernels[i];
        // The part of the kernel no other kernel on this GPU overlaps.
        let lo = k.start.max(reach);
        let hi = on_gpu
            .get(j + 1)
            .map_or(k.end, |&n| k.end.min(trace.kernels[n].start));
        reach = reach.max(k.end);
        if !window.contains(k.start) || hi - lo < 2 * p {
            continue;
        }
        let (a, b) = (lo + p, hi - p);
        let from = s.times.partition_point(|&t| t < a);
        let to = s.times.partition_point(|&t| t <= b);
        if from < to {
            f(i, &s.values[from..to]);
        }
    }
}
