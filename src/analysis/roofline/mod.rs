//! The roofline: how much math and memory traffic each kernel did, and how
//! close it came to the GPU's limits.
//!
//! Work per kernel comes from the best source the inputs carry, and every
//! figure says which ([`WorkSource`]); a kernel no source covers has none
//! (absent, never guessed):
//! 1. `counters`: an Nsight Compute CSV with the roofline counters
//!    ([`counters`]): exact FLOPs and DRAM bytes;
//! 2. `shapes`: the framework operator that launched the kernel, with its
//!    input shapes and types ([`shapes`]): FLOPs by formula and the minimum
//!    bytes (each tensor read or written once);
//! 3. `engine_dims`: TensorRT layer dimensions ([`engine`]), per layer;
//! 4. `gpu_metrics`: the capture's sampled DRAM throughput ([`gpu_metrics`]):
//!    bytes (and achieved bandwidth) of long kernels, no FLOPs.
//!
//! Device-to-device copies carry their own size (`copy_size`: read plus
//! write of the bytes copied).
//!
//! With the GPU's peaks ([`peaks`]) each kernel gets its arithmetic
//! intensity (FLOPs per byte), the roof that binds at that intensity
//! (memory bandwidth x intensity, or the compute peak of its precision on
//! or off Tensor Cores), the share of that roof it reached, and a verdict:
//!
//! ```text
//!   FLOP/s  ^            compute roof
//!           |        ___________________
//!           |       /      * compute-bound (intensity >= ridge)
//!           |      /
//!           |     / * memory-bound (intensity < ridge)
//!           |    /
//!           |   /    . latency-bound: mean launch < 10 us and < 25% of its roof
//!           +--/------------------------->  FLOPs / byte
//!             ridge = compute peak / bandwidth
//! ```

pub mod counters;
pub mod engine;
pub mod gpu_metrics;
pub mod peaks;
pub mod shapes;

use serde::{Deserialize, Serialize};

use crate::analysis::category::Category;
use crate::analysis::kernels::KernelRow;
use crate::analysis::tensor_core::names::Verdict;
use crate::analysis::window::Window;
use crate::model::{CopyKind, Ns, Trace};
use peaks::{GpuPeaks, Precision, Table};

pub use crate::analysis::verdicts::{Bound, Placement, Roof, WorkSource};

/// A kernel whose mean launch is shorter than this, and that reaches less
/// than [`LATENCY_PERCENT`] of its roof, is latency-bound: too short to
/// reach either roof.
pub const LATENCY_NS: Ns = 10_000;
/// See [`LATENCY_NS`].
pub const LATENCY_PERCENT: f64 = 25.0;

/// FLOPs and bytes of some GPU work, before the roofs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Work {
    pub source: WorkSource,
    pub flops: f64,
    pub bytes: f64,
    /// The precision of the math, when known.
    pub precision: Option<Precision>,
    /// Whether the math ran on Tensor Cores, when the source knows
    /// (counters do; shapes defer to the Tensor Core verdict).
    pub tensor: Option<bool>,
    /// The sampled metrics behind `gpu_metrics` work.
    pub sampled: Option<gpu_metrics::SampledMetrics>,
}

/// Place `work` done in `total_ns` (launches of `mean_ns` on average) under
/// the roofs of `peaks`.
pub fn place(
    work: &Work,
    total_ns: Ns,
    mean_ns: Ns,
    tensor_verdict: Verdict,
    peaks: Option<&GpuPeaks>,
) -> Placement {
    let secs = (total_ns.max(1)) as f64 * 1e-9;
    let flops = work.source.has_flops().then_some(work.flops);
    let achieved_flops = flops.map(|f| f / secs);
    let achieved_bytes = work.bytes / secs;
    let intensity = flops.filter(|_| work.bytes > 0.0).map(|f| f / work.bytes);
    let tensor = work.tensor.unwrap_or(tensor_verdict == Verdict::Yes);
    let precision = work
        .precision
        .unwrap_or(if tensor { Precision::Fp16 } else { Precision::Fp32 });
    let mut p = Placement {
        work_source: work.source,
        flops,
        bytes: work.bytes,
        precision: work.precision,
        tensor_core_roof: tensor,
        arithmetic_intensity: intensity,
        achieved_flops_per_s: achieved_flops,
        achieved_bytes_per_s: achieved_bytes,
        roof: None,
        roof_percent: None,
        bound: None,
        gpu_metrics: work.sampled,
    };
    let Some(peaks) = peaks else { return p };
    let memory = peaks.memory_bytes_per_s;
    let Some(achieved_flops) = achieved_flops else {
        // Traffic only: the share of the memory roof is known, not which
        // roof binds (that needs the intensity), so no verdict.
        p.roof = Some(Roof::Memory);
        p.roof_percent = Some(100.0 * achieved_bytes / memory);
        return p;
    };
    let compute = peaks.compute(precision, tensor);
    let (roof, percent) = match (compute, intensity) {
        // No bytes: only the compute roof can bind.
        (Some(c), None) => (Roof::Compute, 100.0 * achieved_flops / c),
        (Some(c), Some(ai)) if ai * memory >= c => (Roof::Compute, 100.0 * achieved_flops / c),
        // Below the ridge (or no compute peak for this precision): the
        // bandwidth binds; the share of it equals the share of ai x bandwidth.
        _ => (Roof::Memory, 100.0 * achieved_bytes / memory),
    };
    p.roof = Some(roof);
    p.roof_percent = Some(percent);
    p.bound = Some(if mean_ns < LATENCY_NS && percent < LATENCY_PERCENT {
        Bound::LatencyBound
    } else if roof == Roof::Compute {
        Bound::ComputeBound
    } else {
        Bound::MemoryBound
    });
    p
}

/// The groups of the "share of FLOPs vs share of time" table.
pub fn group(c: Category) -> &'static str {
    match c {
        Category::Gemm | Category::Conv => "gemm/conv",
        Category::Attention => "attention",
        Category::Elementwise | Category::Normalization | Category::Softmax => "elementwise/normalization",
        Category::Layout | Category::Copy => "layout/copy",
        Category::Reduction | Category::Pooling => "reduction",
        Category::Communication | Category::Other => "other",
    }
}

/// The groups in table order.
pub const GROUPS: [&str; 6] = [
    "gemm/conv",
    "attention",
    "elementwise/normalization",
    "layout/copy",
    "reduction",
    "other",
];

/// One row of the share table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    pub group: String,
    pub kernel_ns: Ns,
    /// Of the window's kernel time.
    pub time_share: f64,
    /// FLOPs of its kernels that have work (null: none has).
    pub flops: Option<f64>,
    /// Of the FLOPs of all kernels with work.
    pub flop_share: Option<f64>,
    pub bytes: Option<f64>,
    /// Kernel time of the group that has work.
    pub kernel_ns_with_work: Ns,
}

/// Device-to-device copies under the memory roof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyPlacement {
    pub kind: String,
    pub count: u64,
    /// Bytes moved through DRAM: each copied byte read once and written once.
    pub bytes: f64,
    pub total_ns: Ns,
    pub achieved_bytes_per_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roof_percent: Option<f64>,
}

/// Kernel names per work source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceCounts {
    pub counters: usize,
    pub shapes: usize,
    pub engine_dims: usize,
    #[serde(default)]
    pub gpu_metrics: usize,
}

/// The top-level `roofline` object of the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The GPU name the peaks were looked up by.
    pub gpu: Option<String>,
    /// Its peaks and their datasheet; null for a GPU the table lacks.
    pub peaks: Option<GpuPeaks>,
    /// The table used: `built-in` or the `--gpu-peaks` file.
    pub peaks_table: String,
    /// What was and was not possible, in sentences.
    pub notes: Vec<String>,
    /// Kernel names per work source.
    pub sources: SourceCounts,
    pub kernel_ns: Ns,
    /// Kernel time of the kernels with work.
    pub kernel_ns_with_work: Ns,
    /// Totals over the kernels with work (null: none has).
    pub flops: Option<f64>,
    pub bytes: Option<f64>,
    /// The same per iteration (null without iterations).
    pub flops_per_iteration: Option<f64>,
    pub bytes_per_iteration: Option<f64>,
    pub by_group: Vec<GroupRow>,
    /// Device-to-device copies (memcpy, not kernels).
    pub copies: Vec<CopyPlacement>,
    /// Thresholds of the verdict.
    pub latency_ns: Ns,
    pub latency_percent: f64,
    /// How the capture's DRAM metrics were used, when it has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_metrics: Option<gpu_metrics::MetricsTraffic>,
}

/// Extra inputs of the roofline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs<'a> {
    pub ncu: Option<&'a crate::input::ncu::NcuCounters>,
    /// The peaks table (`--gpu-peaks` or the built-in one).
    pub table: Option<&'a Table>,
}

/// The GPU whose peaks apply: the one that ran the most kernels of the
/// window (the name the trace records, else the one the ncu CSV records).
pub fn gpu_name(trace: &Trace, window: &Window, ncu_gpu: Option<&str>) -> (Option<String>, Vec<String>) {
    let mut notes = Vec::new();
    let mut per_device: std::collections::HashMap<u32, u64> = Default::default();
    // Kernels are counted only to choose between several models.
    let mut models: Vec<&str> = trace
        .devices
        .iter()
        .map(|d| d.name.trim())
        .filter(|n| !n.is_empty())
        .collect();
    models.sort_unstable();
    models.dedup();
    if models.len() > 1 {
        for i in window.indexes(&trace.kernels, |k| k.start) {
            *per_device.entry(trace.kernels[i].device).or_default() += 1;
        }
    }
    let mut names: Vec<(&str, u64)> = Vec::new();
    for d in &trace.devices {
        let n = per_device.get(&d.id).copied().unwrap_or(0);
        match names.iter_mut().find(|(name, _)| *name == d.name) {
            Some(e) => e.1 += n,
            None => names.push((&d.name, n)),
        }
    }
    names.retain(|(n, _)| !n.trim().is_empty());
    names.sort_by(|a, b| b.1.cmp(&a.1));
    if names.len() > 1 {
        notes.push(format!(
            "the trace has several GPU models ({}); the roofs are those of {}, which ran the most kernels",
            names.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
            names[0].0
        ));
    }
    let name = names
        .first()
        .map(|(n, _)| n.to_string())
        .or_else(|| ncu_gpu.map(str::to_string));
    (name, notes)
}

/// Give every kernel row its work and placement; summarise.
pub fn annotate(trace: &Trace, window: &Window, rows: &mut [KernelRow], inputs: Inputs) -> Summary {
    let builtin;
    let table = match inputs.table {
        Some(t) => t,
        None => {
            builtin = Table::builtin();
            &builtin
        }
    };
    let (gpu, mut notes) = gpu_name(trace, window, inputs.ncu.and_then(|c| c.gpu.as_deref()));
    let peaks = gpu.as_deref().and_then(|g| table.lookup(g));
    match (&gpu, &peaks) {
        (None, _) => notes.push("the trace names no GPU, so there are no roofs: FLOPs, bytes and achieved rates only".into()),
        (Some(g), None) => notes.push(format!(
            "no peaks for '{g}' in the GPU table ({}), so there are no roofs: FLOPs, bytes and achieved rates only (give them with --gpu-peaks FILE)",
            table.origin
        )),
        _ => {}
    }
    let from_counters = inputs.ncu.map(|c| counters::work(c, rows));
    let from_shapes = (!trace.operators.is_empty()).then(|| shapes::work(trace, window, rows));
    let from_engine = trace.engine.as_ref().map(|e| engine::work(e, rows));
    let (from_metrics, metrics_use) = gpu_metrics::work(trace, window, rows, peaks.as_ref());
    let mut summary = Summary {
        gpu,
        peaks_table: table.origin.clone(),
        latency_ns: LATENCY_NS,
        latency_percent: LATENCY_PERCENT,
        ..Summary::default()
    };
    for (i, row) in rows.iter_mut().enumerate() {
        let work = from_counters
            .as_ref()
            .and_then(|w| w[i])
            .or_else(|| from_shapes.as_ref().and_then(|w| w[i]))
            .or_else(|| from_engine.as_ref().and_then(|w| w[i]))
            .or(from_metrics[i]);
        let Some(work) = work else { continue };
        match work.source {
            WorkSource::Counters => summary.sources.counters += 1,
            WorkSource::Shapes => summary.sources.shapes += 1,
            WorkSource::EngineDims => summary.sources.engine_dims += 1,
            WorkSource::GpuMetrics => summary.sources.gpu_metrics += 1,
            WorkSource::CopySize => {}
        }
        row.roofline = Some(place(
            &work,
            row.total_ns,
            row.mean_ns,
            row.tensor_core,
            peaks.as_ref(),
        ));
    }
    if inputs.ncu.is_some_and(|c| c.work_metrics.is_empty()) {
        summary
            .notes
            .push("the Nsight Compute CSV has no roofline counters (FLOP instruction counts, dram__bytes_read/write.sum)".into());
    }
    if let Some(u) = &metrics_use {
        notes.push(match &peaks {
            Some(_) => format!(
                "GPU metrics: {} kernel names get bytes and bandwidth from sampled DRAM throughput ({} + {}, every {}: the share of the datasheet bandwidth x their time; at least {} samples covering {:.0}% of their time; FLOPs unknown); {} had too few samples",
                summary.sources.gpu_metrics.min(u.kernels),
                u.metrics[0],
                u.metrics[1],
                crate::text::format::ns(u.period_ns),
                u.min_samples,
                u.min_covered * 100.0,
                u.kernels_too_short
            ),
            None => "GPU metrics: the capture samples DRAM throughput as a share of the peak bandwidth, and the GPU's peak is unknown, so no bytes".into(),
        });
    }
    summary.gpu_metrics = metrics_use;
    if summary.sources == SourceCounts::default() {
        notes.push(
            "no source of FLOPs and bytes: give an Nsight Compute CSV with the roofline counters (--ncu), or record operator shapes (PyTorch profiler record_shapes=True)".into(),
        );
    }
    summary.notes.extend(notes);
    summarise(&mut summary, rows, window.iterations.len());
    summary.copies = copies(trace, window, peaks.as_ref());
    summary.peaks = peaks;
    summary
}

/// Place each engine layer with work under the roofs (one inference: the
/// layer's average time is one launch).
pub fn place_layers(
    layers: &mut [crate::analysis::engine::LayerRow],
    engine: &crate::model::engine::Engine,
    peaks: Option<&GpuPeaks>,
) {
    for row in layers.iter_mut() {
        let Some(l) = engine.layers.get(row.index) else {
            continue;
        };
        if !l.profiled {
            continue;
        }
        if let Some(w) = engine::layer_work(l) {
            let verdict = row.tensor_core.unwrap_or(Verdict::Unknown);
            row.roofline = Some(place(&w, row.time_ns, row.time_ns, verdict, peaks));
        }
    }
}

/// Totals and the share table.
pub fn summarise(summary: &mut Summary, rows: &[KernelRow], iterations: usize) {
    let mut groups: Vec<GroupRow> = GROUPS
        .iter()
        .map(|g| GroupRow {
            group: g.to_string(),
            kernel_ns: 0,
            time_share: 0.0,
            flops: None,
            flop_share: None,
            bytes: None,
            kernel_ns_with_work: 0,
        })
        .collect();
    for r in rows {
        let g = &mut groups[GROUPS.iter().position(|g| *g == group(r.category)).unwrap_or(5)];
        g.kernel_ns += r.total_ns;
        summary.kernel_ns += r.total_ns;
        if let Some(p) = &r.roofline {
            if let Some(f) = p.flops {
                *g.flops.get_or_insert(0.0) += f;
                *summary.flops.get_or_insert(0.0) += f;
            }
            *g.bytes.get_or_insert(0.0) += p.bytes;
            g.kernel_ns_with_work += r.total_ns;
            summary.kernel_ns_with_work += r.total_ns;
            *summary.bytes.get_or_insert(0.0) += p.bytes;
        }
    }
    let total_flops = summary.flops.unwrap_or(0.0);
    for g in &mut groups {
        g.time_share = if summary.kernel_ns > 0 {
            g.kernel_ns as f64 / summary.kernel_ns as f64
        } else {
            0.0
        };
        g.flop_share = g.flops.filter(|_| total_flops > 0.0).map(|f| f / total_flops);
    }
    groups.retain(|g| g.kernel_ns > 0);
    summary.by_group = groups;
    if iterations > 0 {
        summary.flops_per_iteration = summary.flops.map(|f| f / iterations as f64);
        summary.bytes_per_iteration = summary.bytes.map(|b| b / iterations as f64);
    }
}

/// Device-to-device copies of the window: each byte read and written once.
fn copies(trace: &Trace, window: &Window, peaks: Option<&GpuPeaks>) -> Vec<CopyPlacement> {
    let (mut count, mut bytes, mut ns) = (0u64, 0f64, 0 as Ns);
    for i in window.indexes(&trace.memcpys, |m| m.start) {
        let m = &trace.memcpys[i];
        if m.kind != CopyKind::DtoD {
            continue;
        }
        count += 1;
        bytes += 2.0 * m.bytes as f64;
        ns += (m.end - m.start).max(0);
    }
    if count == 0 || ns == 0 {
        return Vec::new();
    }
    let achieved = bytes / (ns as f64 * 1e-9);
    vec![CopyPlacement {
        kind: "DtoD".into(),
        count,
        bytes,
        total_ns: ns,
        achieved_bytes_per_s: achieved,
        roof_percent: peaks.map(|p| 100.0 * achieved / p.memory_bytes_per_s),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h200() -> GpuPeaks {
        Table::builtin().lookup("NVIDIA H200").unwrap()
    }

    fn work(flops: f64, bytes: f64, precision: Precision, tensor: bool) -> Work {
        Work {
            source: WorkSource::Counters,
            flops,
            bytes,
            precision: Some(precision),
            tensor: Some(tensor),
            sampled: None,
        }
    }

    #[test]
    fn ridge_decides_memory_or_compute() {
        let p = h200();
        // bf16 ridge: 989.5e12 / 4.8e12 = 206 FLOP/B.
        let gemm = place(
            &work(1.0995e12, 1.38e9, Precision::Bf16, true),
            1_386_496,
            1_386_496,
            Verdict::Yes,
            Some(&p),
        );
        assert_eq!(gemm.roof, Some(Roof::Compute));
        assert_eq!(gemm.bound, Some(Bound::ComputeBound));
        let pct = gemm.roof_percent.unwrap();
        assert!((pct - 100.0 * 1.0995e12 / 1.386496e-3 / 989.5e12).abs() < 1e-9);
        let add = place(
            &work(6.7e7, 7.86e8, Precision::Fp32, false),
            182_496,
            182_496,
            Verdict::No,
            Some(&p),
        );
        assert_eq!(add.roof, Some(Roof::Memory));
        assert_eq!(add.bound, Some(Bound::MemoryBound));
        assert!((add.roof_percent.unwrap() - 100.0 * 7.86e8 / 182_496e-9 / 4.8e12).abs() < 1e-9);
    }

    #[test]
    fn latency_bound_on_both_sides_of_its_thresholds() {
        let p = h200();
        // 1 MB in 9 us: 111 GB/s, 2.3% of the bandwidth.
        let w = work(0.0, 1e6, Precision::Fp32, false);
        assert_eq!(
            place(&w, 9_000, LATENCY_NS - 1, Verdict::No, Some(&p)).bound,
            Some(Bound::LatencyBound)
        );
        assert_eq!(
            place(&w, 9_000, LATENCY_NS, Verdict::No, Some(&p)).bound,
            Some(Bound::MemoryBound)
        );
        // Short but at 25% of the bandwidth: memory-bound.
        let fast = work(0.0, 0.25 * 4.8e12 * 9e-6, Precision::Fp32, false);
        let at = place(&fast, 9_000, 9_000, Verdict::No, Some(&p));
        assert!((at.roof_percent.unwrap() - LATENCY_PERCENT).abs() < 1e-9);
        assert_eq!(at.bound, Some(Bound::MemoryBound));
    }

    #[test]
    fn no_peaks_no_roof() {
        let x = place(
            &work(1e9, 1e9, Precision::Fp16, true),
            1_000_000,
            1_000_000,
            Verdict::Yes,
            None,
        );
        assert_eq!((x.roof, x.roof_percent, x.bound), (None, None, None));
        assert_eq!(x.arithmetic_intensity, Some(1.0));
        assert_eq!(x.achieved_flops_per_s, Some(1e12));
    }
}
