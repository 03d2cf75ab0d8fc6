//! What the kernel and engine-layer tables say about each kernel, as types
//! only: the Tensor Core verdict, its evidence and the reason kind of a
//! miss ([`tensor_core`](super::tensor_core) decides them), and the place
//! under the roofs ([`roofline`](super::roofline) computes it). They sit
//! below those analyses so that the tables they read and fill
//! ([`kernels`](super::kernels), [`engine`](super::engine)) hold them
//! without importing the analyses back.

use serde::{Deserialize, Serialize};

/// Whether a kernel ran on Tensor Cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Yes,
    No,
    #[default]
    Unknown,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Yes => "yes",
            Verdict::No => "no",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Where a verdict comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictSource {
    /// Nsight Compute instruction counters.
    Counters,
    /// The capture's GPU metrics (Tensor Active).
    GpuMetrics,
    /// The kernel-name grammar.
    #[default]
    Name,
}

impl VerdictSource {
    pub fn label(self) -> &'static str {
        match self {
            VerdictSource::Counters => "counters",
            VerdictSource::GpuMetrics => "gpu_metrics",
            VerdictSource::Name => "name",
        }
    }
}

/// What kind of miss, for the finding rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonKind {
    /// FP32 math on CUDA cores: TF32 is off.
    Fp32NoTf32,
    Fp64,
    /// FP16/BF16 data on CUDA cores.
    HalfOnCudaCores,
    Int8OnCudaCores,
    /// cuDNN's generic CUDA-core convolution.
    GenericConv,
    Depthwise,
    Grouped,
    /// Too few channels for a Tensor Core convolution.
    TinyChannels,
    /// Matrix-vector work: memory-bound, Tensor Cores would not help.
    Gemv,
    DecodeAttention,
    OldArch,
    /// A CUDA-core kernel; the name does not say why.
    CudaCoreChoice,
    /// A Tensor Core kernel in a low-alignment variant.
    LowAlignment,
    /// The name does not say which units it uses.
    NotRecognised,
}

/// A precision the roofline knows a compute roof for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Fp64,
    Fp32,
    Tf32,
    Fp16,
    Bf16,
    Fp8,
    Int8,
}

impl Precision {
    pub fn label(self) -> &'static str {
        match self {
            Precision::Fp64 => "fp64",
            Precision::Fp32 => "fp32",
            Precision::Tf32 => "tf32",
            Precision::Fp16 => "fp16",
            Precision::Bf16 => "bf16",
            Precision::Fp8 => "fp8",
            Precision::Int8 => "int8",
        }
    }
}

/// Where a kernel's FLOPs and bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkSource {
    /// Nsight Compute counters (measured FLOPs, DRAM bytes).
    Counters,
    /// Operator shapes (formula FLOPs, minimum bytes).
    Shapes,
    /// TensorRT layer dimensions (formula FLOPs, tensor bytes).
    EngineDims,
    /// The size of a device-to-device copy (read + write).
    CopySize,
    /// Sampled DRAM throughput (measured bytes of long kernels, no FLOPs).
    GpuMetrics,
}

impl WorkSource {
    pub fn label(self) -> &'static str {
        match self {
            WorkSource::Counters => "counters",
            WorkSource::Shapes => "shapes",
            WorkSource::EngineDims => "engine dims",
            WorkSource::CopySize => "copy size",
            WorkSource::GpuMetrics => "gpu metrics",
        }
    }

    /// Whether the source knows FLOPs (GPU metrics measure traffic only).
    pub fn has_flops(self) -> bool {
        self != WorkSource::GpuMetrics
    }
}

/// Which roof binds at a kernel's intensity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Roof {
    Memory,
    Compute,
}

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bound {
    MemoryBound,
    ComputeBound,
    /// Too short to reach either roof.
    LatencyBound,
}

impl Bound {
    pub fn label(self) -> &'static str {
        match self {
            Bound::MemoryBound => "memory-bound",
            Bound::ComputeBound => "compute-bound",
            Bound::LatencyBound => "latency-bound",
        }
    }
}

/// A kernel's (or layer's) place under the roofs: the keys added to
/// `kernels[]` and `engine.layers[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    pub work_source: WorkSource,
    /// FLOPs over the window (integer ops for INT8); null when the source
    /// measures traffic only (`gpu_metrics`).
    #[serde(default)]
    pub flops: Option<f64>,
    /// Bytes over the window: DRAM bytes for `counters`, the minimum
    /// traffic (each tensor once) for `shapes` and `engine_dims`.
    pub bytes: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
    /// Whether the compute roof is the Tensor Core one.
    pub tensor_core_roof: bool,
    /// FLOPs per byte; null when bytes are 0 or FLOPs unknown.
    pub arithmetic_intensity: Option<f64>,
    /// Null when FLOPs are unknown.
    #[serde(default)]
    pub achieved_flops_per_s: Option<f64>,
    pub achieved_bytes_per_s: f64,
    /// The roof that binds at this intensity (needs the GPU's peaks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roof: Option<Roof>,
    /// Achieved rate as a percentage of the binding roof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roof_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound: Option<Bound>,
    /// The sampled GPU metrics behind `gpu_metrics` work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_metrics: Option<SampledMetrics>,
}

/// Means of the capture's GPU metrics over a kernel name's samples (see
/// `roofline::gpu_metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampledMetrics {
    /// Samples of each DRAM metric used (the smaller count of the two).
    pub samples: u64,
    pub period_ns: crate::model::Ns,
    pub dram_read_percent: f64,
    pub dram_write_percent: f64,
    /// Mean "SMs Active" over the same kind of samples, when sampled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sm_active_percent: Option<f64>,
}
