//! Tensor Core analysis: for every kernel of the window, whether it ran on
//! Tensor Cores (`yes`/`no`/`unknown`), how that is known, and for matrix
//! work that missed them (or used a slow variant) why.
//!
//! Evidence, strongest first; each kernel takes the first that decides:
//! 1. `counters`: an Nsight Compute CSV (`--ncu`) with MMA instruction
//!    counts ([`ncu`]);
//! 2. `gpu_metrics`: the capture's "Tensor Active" samples while the kernel
//!    ran alone on its GPU ([`gpu_metrics`]);
//! 3. `name`: the kernel-name grammar ([`names`]).
//!
//! Where a measurement contradicts the name, the measurement wins and the
//! disagreement is listed in the summary.

pub mod compare;
pub mod gpu_metrics;
pub mod launch;
pub mod names;
pub mod ncu;
pub mod reason;
pub mod shapes;

use serde::{Deserialize, Serialize};

use crate::analysis::category::Category;
use crate::analysis::kernels::KernelRow;
use crate::analysis::window::Window;
use crate::input::ncu::NcuCounters;
use crate::model::{Ns, Trace};
use gpu_metrics::GpuMetricsUse;
use names::Verdict;
pub use names::VerdictSource;
use ncu::NcuMatch;
use reason::KernelShapes;

/// Extra inputs beyond the trace.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs<'a> {
    pub ncu: Option<&'a NcuCounters>,
    /// Operation shapes by kernel name, when an input records them (the
    /// plug for PyTorch `record_shapes` or trtexec layer dimensions):
    /// reasons then name the offending dimension.
    pub shapes: Option<&'a KernelShapes>,
    /// Kernel names that are TensorRT layer names (layers without a
    /// tactic), with their layer's category: no name grammar for them.
    pub layers: Option<&'a std::collections::HashMap<String, Category>>,
}

/// Time of one category's matrix work by verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryRow {
    pub category: Category,
    pub eligible_ns: Ns,
    pub tensor_core_ns: Ns,
    pub cuda_core_ns: Ns,
    pub unknown_ns: Ns,
}

/// Kernel names of the window per verdict source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceCounts {
    pub counters: usize,
    pub gpu_metrics: usize,
    pub name: usize,
}

/// A measurement that contradicts the name grammar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disagreement {
    pub kernel: String,
    pub name_verdict: Verdict,
    pub measured: Verdict,
    pub source: VerdictSource,
}

/// The `tensor_cores` section of the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Time in matrix work: GEMM, convolution and attention kernels, and any
    /// other kernel found on Tensor Cores.
    pub eligible_ns: Ns,
    /// Part of `eligible_ns` on Tensor Cores.
    pub tensor_core_ns: Ns,
    /// Part of `eligible_ns` found not on Tensor Cores.
    pub cuda_core_ns: Ns,
    /// Part of `eligible_ns` with an unknown verdict.
    pub unknown_ns: Ns,
    /// `tensor_core_ns / eligible_ns`; null without matrix work.
    pub share: Option<f64>,
    pub by_category: Vec<CategoryRow>,
    /// Kernel names per verdict source.
    pub evidence: SourceCounts,
    /// The Nsight Compute CSV and how its kernels matched, with `--ncu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ncu: Option<NcuMatch>,
    /// How the capture's GPU metrics were used, when it has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_metrics: Option<GpuMetricsUse>,
    /// Measured verdicts that contradict the kernel names.
    pub disagreements: Vec<Disagreement>,
}

/// The oldest GPU architecture of the trace (sm number, compute capability
/// 7.5 = 75), when the devices record it: advice must fit every GPU.
pub fn gpu_arch(trace: &Trace) -> Option<u32> {
    trace
        .devices
        .iter()
        .filter_map(|d| d.compute_capability)
        .map(|(major, minor)| major * 10 + minor)
        .min()
}

/// Whether a kernel row is matrix work for the summary.
pub fn is_eligible(row: &KernelRow) -> bool {
    row.category.is_matrix() || row.tensor_core == Verdict::Yes
}

/// Give every row its verdict, source and reason; summarise.
pub fn annotate(trace: &Trace, window: &Window, rows: &mut [KernelRow], inputs: Inputs) -> Summary {
    let mut summary = Summary::default();
    let counters = inputs.ncu.map(|c| {
        let keys: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.name.as_str(), r.short_name.as_str()))
            .collect();
        ncu::match_names(c, &keys)
    });
    let (samples, mut metrics_use) = gpu_metrics::samples_per_name(trace, window);
    let device_arch = gpu_arch(trace);
    for (i, row) in rows.iter_mut().enumerate() {
        let layer = inputs.layers.and_then(|m| m.get(&row.name)).copied();
        if let Some(category) = layer {
            row.category = category;
        }
        let mut info = match layer {
            Some(category) => names::layer_without_kernel(category),
            None => names::classify(&row.name),
        };
        // A kernel that ran on a GPU was built for it or an older one: the
        // device tells what the name does not (no TF32 advice on sm 7.x).
        if info.arch.is_none() {
            info.arch = device_arch;
        }
        let measured_ncu = counters
            .as_ref()
            .filter(|_| inputs.ncu.is_some_and(|c| c.tensor_metrics))
            .and_then(|(m, _)| m[i])
            .map(|(inst, _)| if inst > 0.0 { Verdict::Yes } else { Verdict::No });
        let name_samples = trace
            .names
            .lookup(&row.name)
            .and_then(|id| samples.get(&id).copied());
        if let (Some(u), None) = (metrics_use.as_mut(), measured_ncu) {
            match name_samples {
                Some(s) if s.verdict().is_some() => u.kernels_decided += 1,
                Some(s) if s.samples >= gpu_metrics::MIN_SAMPLES => u.kernels_undecided += 1,
                _ => u.kernels_without_samples += 1,
            }
        }
        let (verdict, source) = match (measured_ncu, name_samples.and_then(|s| s.verdict())) {
            (Some(v), _) => (v, VerdictSource::Counters),
            (None, Some(v)) => (v, VerdictSource::GpuMetrics),
            (None, None) => (info.verdict, VerdictSource::Name),
        };
        if source != VerdictSource::Name && info.verdict != Verdict::Unknown && info.verdict != verdict {
            summary.disagreements.push(Disagreement {
                kernel: row.name.clone(),
                name_verdict: info.verdict,
                measured: verdict,
                source,
            });
        }
        row.tensor_core = verdict;
        row.tensor_core_evidence = source;
        let shape = inputs.shapes.and_then(|s| s.get(&row.name));
        let why = reason::explain(&info, row.category, verdict, shape);
        row.tensor_core_reason_kind = why.as_ref().map(|r| r.kind);
        row.tensor_core_reason = why.map(|r| r.text);
        match source {
            VerdictSource::Counters => summary.evidence.counters += 1,
            VerdictSource::GpuMetrics => summary.evidence.gpu_metrics += 1,
            VerdictSource::Name => summary.evidence.name += 1,
        }
        if !is_eligible(row) {
            continue;
        }
        let cat = match summary
            .by_category
            .iter()
            .position(|c| c.category == row.category)
        {
            Some(c) => c,
            None => {
                summary.by_category.push(CategoryRow {
                    category: row.category,
                    eligible_ns: 0,
                    tensor_core_ns: 0,
                    cuda_core_ns: 0,
                    unknown_ns: 0,
                });
                summary.by_category.len() - 1
            }
        };
        let c = &mut summary.by_category[cat];
        c.eligible_ns += row.total_ns;
        match verdict {
            Verdict::Yes => c.tensor_core_ns += row.total_ns,
            Verdict::No => c.cuda_core_ns += row.total_ns,
            Verdict::Unknown => c.unknown_ns += row.total_ns,
        }
    }
    summary.by_category.sort_by_key(|c| c.category);
    for c in &summary.by_category {
        summary.eligible_ns += c.eligible_ns;
        summary.tensor_core_ns += c.tensor_core_ns;
        summary.cuda_core_ns += c.cuda_core_ns;
        summary.unknown_ns += c.unknown_ns;
    }
    summary.share =
        (summary.eligible_ns > 0).then(|| summary.tensor_core_ns as f64 / summary.eligible_ns as f64);
    summary.ncu = counters.map(|(_, m)| m);
    summary.gpu_metrics = metrics_use;
    summary
}
