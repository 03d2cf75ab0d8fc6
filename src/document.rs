//! The report document (`report.json`, schema version 1): what the
//! pipeline produces and every renderer, the diff and a saved report read.

use serde::{Deserialize, Serialize};

use crate::analysis::attribution::{Attribution, DeviceRow, IterationRow};
use crate::analysis::engine::EngineReport;
use crate::analysis::iterations::IterationStats;
use crate::analysis::kernels::KernelRow;
use crate::analysis::memcpy::{MemcpyRow, MemsetRow};
use crate::analysis::tensor_core;
use crate::analysis::window::Scope;
use crate::findings::Finding;
use crate::model::Ns;

/// Version of the JSON contract; bumped only when a key changes meaning or
/// is removed (keys are only ever added within a version).
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub generator: String,
    pub source: SourceInfo,
    pub window: WindowInfo,
    pub attribution: AttributionReport,
    /// Distribution of iteration durations; absent without iterations.
    pub iteration_time: Option<IterationStats>,
    pub iterations: Vec<IterationRow>,
    pub kernels: Vec<KernelRow>,
    /// Tensor Core use of the window's matrix work.
    #[serde(default)]
    pub tensor_cores: tensor_core::Summary,
    pub memcpy: Vec<MemcpyRow>,
    pub memset: MemsetRow,
    pub findings: Vec<Finding>,
    /// The representative iteration as one picture, every finding's
    /// operations marked (absent for an empty window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overview: Option<crate::findings::overview::Overview>,
    /// What the input lacked or what could not be used.
    pub warnings: Vec<String>,
    /// Inference-engine layers (TensorRT profiles); absent for other inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineReport>,
    /// FLOPs, bytes and the GPU's roofs (see `analysis::roofline`).
    #[serde(default)]
    pub roofline: crate::analysis::roofline::Summary,
    /// What the host threads ran while the GPU waited, when the capture
    /// records it (Python functions, operators, OS calls, CPU samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_work: Option<crate::analysis::host_work::HostWork>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuInfo {
    pub id: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_capability: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub path: String,
    pub format: String,
    pub profiler_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_schema_version: Option<String>,
    pub gpus: Vec<GpuInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowInfo {
    pub scope: Scope,
    /// Name of the iteration range, if the window is made of iterations.
    pub iteration_range: Option<String>,
    /// Number of iterations.
    pub iterations: usize,
    pub start_ns: Ns,
    pub end_ns: Ns,
    /// Length of the window: the union of the iterations (equals
    /// `attribution.total_ns`), not `end_ns - start_ns`.
    pub duration_ns: Ns,
    /// Why this window was chosen.
    pub reason: String,
    /// Share of all GPU work (time) launched from inside the iterations
    /// (null without iterations).
    #[serde(default)]
    pub gpu_work_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionReport {
    #[serde(flatten)]
    pub window: Attribution,
    /// Each GPU's own activity within the window.
    pub devices: Vec<DeviceRow>,
}
