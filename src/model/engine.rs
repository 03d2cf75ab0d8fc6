//! Inference-engine layers (TensorRT): what an engine profile says beyond
//! GPU work, one row per layer in execution order.
//!
//! Engine profiles give per-layer times, not a timeline. The reader lays
//! the layers out as GPU work on a synthetic timeline (one profiled
//! iteration: each layer's average time, back to back, from 0), so that
//! the ordinary analyses run unchanged; this table keeps the columns that
//! only an engine has. `start` links a layer to its kernel on that timeline.

use super::Ns;

/// One tensor at a layer boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineTensor {
    pub name: String,
    pub dims: Vec<i64>,
    /// The engine's own description of layout and type, e.g. `Channel major
    /// FP16 format where channel % 8 == 0` or `Row major linear FP32`.
    pub format: String,
}

/// One layer of the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineLayer {
    pub name: String,
    /// Engine layer type, e.g. `CaskConvolution`, `Reformat`, `NoOp`.
    pub layer_type: String,
    /// The operation the layer implements, e.g. `Convolution`, `Reformat`
    /// (TensorRT's `ParameterType`), when recorded.
    pub operation: Option<String>,
    /// Name of the kernel implementation chosen (TensorRT's tactic name);
    /// also the kernel name on the synthetic timeline.
    pub tactic: Option<String>,
    pub inputs: Vec<EngineTensor>,
    pub outputs: Vec<EngineTensor>,
    /// Element type of the weights (`Half`, `Int8`, `Float`), when recorded.
    pub weights_type: Option<String>,
    /// Output channels of a convolution (`OutMaps`), when recorded.
    pub out_channels: Option<i64>,
    /// Convolution groups, when recorded (equal to the channels: depthwise).
    pub groups: Option<i64>,
    /// Convolution kernel size (`Kernel`, e.g. `[3, 3]`), when recorded.
    pub kernel_size: Vec<i64>,
    /// Number of weights (`Weights.Count`), when recorded.
    pub weights_count: Option<i64>,
    /// Average time per inference.
    pub average_ns: Ns,
    pub median_ns: Option<Ns>,
    /// Time over all profiled inferences.
    pub total_ns: Option<Ns>,
    /// Share of the engine's time, as the profiler reported it.
    pub percentage: Option<f64>,
    /// Start on the synthetic timeline.
    pub start: Ns,
    /// Whether the profile has times for this layer (false: only in the graph).
    pub profiled: bool,
}

impl EngineLayer {
    /// A layer known by its name only: type `unknown`, nothing recorded,
    /// not profiled.
    pub fn named(name: String) -> EngineLayer {
        EngineLayer {
            name,
            layer_type: "unknown".into(),
            operation: None,
            tactic: None,
            inputs: Vec::new(),
            outputs: Vec::new(),
            weights_type: None,
            out_channels: None,
            groups: None,
            kernel_size: Vec::new(),
            weights_count: None,
            average_ns: 0,
            median_ns: None,
            total_ns: None,
            percentage: None,
            start: 0,
            profiled: false,
        }
    }
}

/// An engine: its layers and what the build recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Engine {
    pub layers: Vec<EngineLayer>,
    /// Number of inferences the profile averaged over.
    pub profiled_iterations: Option<u64>,
    /// Precisions the build allowed, e.g. `FP32+FP16+INT8`, when recorded.
    pub build_precision: Option<String>,
    /// The files read, for the report.
    pub files: Vec<String>,
}
