//! The engine report: per-layer time, type, precision and tactic of an
//! inference engine (TensorRT), and what is worth a look in it.
//!
//! - Precision is read from the engine's own tensor format strings
//!   (`Channel major FP16 format ...`, `Thirty-two wide channel vectorized
//!   row major Int8 format`): the first input's type, `->` the first
//!   output's when it differs. Compute layers whose weights type is
//!   recorded use it for the input side.
//! - Conversions: `Reformat` layers and the `Reformatting CopyNode` layers
//!   TensorRT inserts between layers that want different formats; each
//!   says what changes, layout and/or precision (Q/DQ `QuantizeLinear`
//!   layers are precision conversions the model asked for).
//! - INT8 fallbacks: in an engine that runs INT8 (the build allowed it or
//!   some layer runs in it), a compute layer (convolution, deconvolution,
//!   matrix multiply, fully connected, GEMM) that runs in FP16/BF16/FP32.
//! - Alignment: Tensor Cores want channel/GEMM dimensions that are
//!   multiples of 8 (FP16, BF16) or 16 (INT8, FP8). Convolutions: input
//!   channels per group and output channels per group (depthwise ones are
//!   not Tensor Core work and are skipped); matrix layers: the last
//!   dimension of each input and of the output.
//!
//! The Tensor Core verdict of a layer comes from its tactic name, which is
//! also its kernel name (`kernel`) in the kernel table. A layer without a
//! tactic (a profile without its `--exportLayerInfo` file, as Jetson users
//! often have, or a layer TensorRT runs without one) is named by the model,
//! not by a kernel: `conv1.weight + QuantizeLinear_7 + Conv_9` fuses a
//! convolution, but which kernel ran it, on which units, the name cannot
//! say. Such layers take their category from the layer ([`layer_category`])
//! and never a verdict from the name grammar.
//! - DLA: layers TensorRT hands to a Deep Learning Accelerator
//!   (`{ForeignNode[Conv_0...Relu_5]}`, layer type `DLA`/`ForeignNode`) and
//!   the reformatters feeding or draining them do not run on the GPU's
//!   Tensor Cores nor convert layouts on the GPU: category `other`.

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use crate::analysis::category::{Category, categorize};
use crate::model::{Engine, EngineLayer, EngineTensor, Ns};

/// Whether a layer runs on a DLA (or is a reformatter at a DLA boundary):
/// TensorRT names a DLA subgraph `{ForeignNode[first...last]}`.
pub fn is_dla(l: &EngineLayer) -> bool {
    let t = format!("{} {}", l.layer_type, l.operation.as_deref().unwrap_or("")).to_ascii_lowercase();
    l.name.contains("ForeignNode")
        || t.contains("foreign")
        || t.split_whitespace().any(|w| w.starts_with("dla"))
}

/// The ONNX operator types a fused layer name lists: `conv1.weight +
/// QuantizeLinear_7 + Conv_9 + PWN(Clip_16)` gives `QuantizeLinear`,
/// `Conv`, `Clip` (ONNX exporters name nodes `<OpType>_<n>` or
/// `/path/<OpType>`; weights are `<module>.weight`).
fn onnx_ops(name: &str) -> Vec<&str> {
    name.split(" + ")
        .map(|p| {
            let p = p.trim().trim_end_matches(')');
            let p = p.rsplit('(').next().unwrap_or(p);
            let p = p.rsplit('/').next().unwrap_or(p);
            match p.rsplit_once('_') {
                Some((op, n)) if n.bytes().all(|b| b.is_ascii_digit()) => op,
                _ => p,
            }
        })
        .filter(|op| !op.contains('.') && op.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .collect()
}

/// The category of a layer without a tactic, from the layer: DLA work is
/// `other`; a known layer type says what it is; a fused layer name is a
/// convolution or matrix product when one of its ONNX operators is one;
/// anything else gets a non-matrix category by its name or `other`.
pub fn layer_category(l: &EngineLayer) -> Category {
    if is_dla(l) {
        return Category::Other;
    }
    if is_conversion(l) {
        return Category::Layout;
    }
    if is_conv(l) {
        return Category::Conv;
    }
    if is_compute(l) {
        return Category::Gemm;
    }
    let ops = onnx_ops(&l.name);
    if ops
        .iter()
        .any(|op| matches!(*op, "Conv" | "ConvTranspose" | "QLinearConv" | "ConvInteger"))
    {
        return Category::Conv;
    }
    if ops
        .iter()
        .any(|op| matches!(*op, "MatMul" | "Gemm" | "MatMulInteger" | "QLinearMatMul"))
    {
        return Category::Gemm;
    }
    let typed = format!("{} {}", l.layer_type, l.operation.as_deref().unwrap_or(""));
    [typed.as_str(), l.name.as_str()]
        .into_iter()
        .map(categorize)
        .find(|c| !c.is_matrix() && *c != Category::Other)
        .unwrap_or(Category::Other)
}

/// Kernel names on the synthetic timeline that are layer names (layers
/// without a tactic), with the category of their layer.
pub fn layer_kernels(engine: &Engine) -> HashMap<String, Category> {
    engine
        .layers
        .iter()
        .filter(|l| l.tactic.is_none())
        .map(|l| (l.name.clone(), layer_category(l)))
        .collect()
}

/// The `engine` key of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineReport {
    /// How the layers became a timeline.
    pub timeline: String,
    /// Inferences the profile averaged over.
    pub profiled_iterations: Option<u64>,
    /// Precisions the build allowed, when recorded.
    pub build_precision: Option<String>,
    /// Whether some layer runs INT8 or the build allowed INT8.
    pub int8: bool,
    /// One inference: the sum of the layers' average times.
    pub total_ns: Ns,
    pub layers: Vec<LayerRow>,
    /// Time by layer type, largest first.
    pub by_type: Vec<GroupRow>,
    /// Time by precision, largest first.
    pub by_precision: Vec<GroupRow>,
    /// Conversion layers (reformats, quantize/dequantize).
    pub conversions: Summary,
    /// Compute layers not running INT8 in an INT8 engine.
    pub int8_fallbacks: Summary,
    /// Compute layers with dimensions Tensor Cores cannot use fully.
    pub misaligned: Summary,
}

/// Count and time of a set of layers, with their indexes in `layers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: usize,
    pub total_ns: Ns,
    pub layers: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    pub name: String,
    pub count: usize,
    pub total_ns: Ns,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorRow {
    pub dims: Vec<i64>,
    pub format: String,
}

/// What a conversion layer changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    pub from: String,
    pub to: String,
    pub layout_changes: bool,
    pub precision_changes: bool,
    /// Inserted by TensorRT (`Reformatting CopyNode`), not in the model.
    pub inserted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerRow {
    pub index: usize,
    pub name: String,
    pub layer_type: String,
    pub operation: Option<String>,
    /// Average time per inference.
    pub time_ns: Ns,
    pub median_ns: Option<Ns>,
    /// Share of `total_ns`, in percent.
    pub percent: f64,
    /// `FP16`, `INT8`, `INT8->FP16`, ...; `unknown` without formats.
    pub precision: String,
    pub inputs: Vec<TensorRow>,
    pub outputs: Vec<TensorRow>,
    pub tactic: Option<String>,
    /// The name of this layer's kernel in the kernel table.
    pub kernel: String,
    pub conversion: Option<Conversion>,
    pub int8_fallback: bool,
    /// Dimensions that are not multiples of what Tensor Cores need.
    pub misaligned: Vec<String>,
    /// Whether the profile timed this layer.
    pub profiled: bool,
    /// Tensor Core verdict of the layer's kernel (from its tactic name),
    /// filled once the kernel table is annotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensor_core: Option<crate::analysis::verdicts::Verdict>,
    /// FLOPs and tensor bytes from the layer's dimensions, and the layer's
    /// place under the roofs (keys flattened into the row).
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub roofline: Option<crate::analysis::verdicts::Placement>,
}

/// Element type named in a format string (`Row major linear FP32`,
/// `... Int8 format`), as a precision label.
pub fn datatype(format: &str) -> Option<&'static str> {
    let f = format.to_ascii_lowercase();
    let has = |s: &str| f.contains(s);
    Some(match () {
        _ if has("uint8") => "UINT8",
        _ if has("int8") => "INT8",
        _ if has("int4") => "INT4",
        _ if has("fp8") || has("e4m3") || has("e5m2") => "FP8",
        _ if has("fp4") || has("e2m1") => "FP4",
        _ if has("bf16") => "BF16",
        _ if has("fp16") || has("half") => "FP16",
        _ if has("fp32") || has("float") => "FP32",
        _ if has("int32") => "INT32",
        _ if has("int64") => "INT64",
        _ if has("bool") => "BOOL",
        _ => return None,
    })
}

/// The format string without its element type: the layout.
fn layout(format: &str) -> String {
    let lower = format.to_ascii_lowercase();
    let mut out = String::new();
    for (word, low) in format.split_whitespace().zip(lower.split_whitespace()) {
        if datatype(low).is_none() {
            out.push_str(word);
            out.push(' ');
        }
    }
    out.trim_end().to_string()
}

/// Whether a layer does matrix math (what Tensor Cores run).
fn is_compute(l: &EngineLayer) -> bool {
    let t = format!(
        "{} {}",
        l.layer_type.to_ascii_lowercase(),
        l.operation.as_deref().unwrap_or("").to_ascii_lowercase()
    );
    [
        "convolution",
        "deconvolution",
        "matrixmultiply",
        "matmul",
        "fullyconnected",
        "gemm",
    ]
    .iter()
    .any(|k| t.contains(k))
}

fn is_conv(l: &EngineLayer) -> bool {
    let t = format!("{} {}", l.layer_type, l.operation.as_deref().unwrap_or("")).to_ascii_lowercase();
    t.contains("convolution")
}

/// Whether a layer is a format/precision conversion on the GPU (not the
/// reformatters at a DLA boundary).
fn is_conversion(l: &EngineLayer) -> bool {
    if is_dla(l) {
        return false;
    }
    l.layer_type.eq_ignore_ascii_case("Reformat")
        || l.operation
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("Reformat"))
        || l.name.starts_with("Reformatting CopyNode")
}

fn first_type(ts: &[EngineTensor]) -> Option<&'static str> {
    ts.first().and_then(|t| datatype(&t.format))
}

/// The precision a compute layer runs in: its weights' type when recorded,
/// else its first input's.
pub fn compute_type(l: &EngineLayer) -> Option<&'static str> {
    l.weights_type
        .as_deref()
        .and_then(datatype)
        .or_else(|| first_type(&l.inputs))
}

fn precision(l: &EngineLayer) -> String {
    let input = if is_compute(l) {
        compute_type(l)
    } else {
        first_type(&l.inputs)
    };
    match (input, first_type(&l.outputs)) {
        (Some(a), Some(b)) if a != b => format!("{a}->{b}"),
        (Some(a), _) => a.to_string(),
        (None, Some(b)) => b.to_string(),
        (None, None) => "unknown".to_string(),
    }
}

/// The multiple Tensor Cores need for `dtype`, if they run it.
fn multiple(dtype: &str) -> Option<i64> {
    match dtype {
        "FP16" | "BF16" => Some(8),
        "INT8" | "FP8" => Some(16),
        _ => None,
    }
}

fn misaligned(l: &EngineLayer) -> Vec<String> {
    if !is_compute(l) {
        return Vec::new();
    }
    let Some(dtype) = compute_type(l) else {
        return Vec::new();
    };
    let Some(m) = multiple(dtype) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut check = |what: &str, v: i64| {
        if v > 0 && v % m != 0 {
            out.push(format!("{what} {v} is not a multiple of {m} ({dtype})"));
        }
    };
    if is_conv(l) {
        let channels = l.inputs.first().and_then(|t| t.dims.get(1).copied());
        let groups = l.groups.unwrap_or(1).max(1);
        if channels.is_some_and(|c| groups > 1 && groups == c) {
            return Vec::new(); // depthwise
        }
        if let Some(c) = channels {
            check("input channels", c / groups);
        }
        let k = l
            .out_channels
            .or_else(|| l.outputs.first().and_then(|t| t.dims.get(1).copied()));
        if let Some(k) = k {
            check("output channels", k / groups);
        }
    } else {
        for (i, t) in l.inputs.iter().enumerate() {
            if let Some(&d) = t.dims.last() {
                check(&format!("input {i} last dimension"), d);
            }
        }
        if let Some(&d) = l.outputs.first().and_then(|t| t.dims.last()) {
            check("output last dimension", d);
        }
    }
    out
}

fn conversion(l: &EngineLayer) -> Option<Conversion> {
    if !is_conversion(l) {
        return None;
    }
    let from = l.inputs.first().map(|t| t.format.clone()).unwrap_or_default();
    let to = l.outputs.first().map(|t| t.format.clone()).unwrap_or_default();
    Some(Conversion {
        layout_changes: layout(&from) != layout(&to),
        precision_changes: datatype(&from) != datatype(&to),
        inserted: l.name.starts_with("Reformatting CopyNode"),
        from,
        to,
    })
}

fn tensors(ts: &[EngineTensor]) -> Vec<TensorRow> {
    ts.iter()
        .map(|t| TensorRow {
            dims: t.dims.clone(),
            format: t.format.clone(),
        })
        .collect()
}

fn group(rows: &[LayerRow], key: impl Fn(&LayerRow) -> String) -> Vec<GroupRow> {
    let mut map: std::collections::BTreeMap<String, (usize, Ns)> = Default::default();
    for r in rows {
        let e = map.entry(key(r)).or_default();
        e.0 += 1;
        e.1 += r.time_ns;
    }
    let mut out: Vec<GroupRow> = map
        .into_iter()
        .map(|(name, (count, total_ns))| GroupRow {
            name,
            count,
            total_ns,
        })
        .collect();
    out.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then(a.name.cmp(&b.name)));
    out
}

fn summary(rows: &[LayerRow], pick: impl Fn(&LayerRow) -> bool) -> Summary {
    let layers: Vec<usize> = rows.iter().filter(|r| pick(r)).map(|r| r.index).collect();
    Summary {
        count: layers.len(),
        total_ns: layers
            .iter()
            .fold(0, |a: Ns, &i| a.saturating_add(rows[i].time_ns)),
        layers,
    }
}

/// The engine report of `engine`.
pub fn report(engine: &Engine) -> EngineReport {
    let total_ns: Ns = engine
        .layers
        .iter()
        .fold(0, |a, l| a.saturating_add(l.average_ns));
    let int8 = engine
        .build_precision
        .as_deref()
        .is_some_and(|p| p.to_ascii_uppercase().contains("INT8"))
        || engine.layers.iter().any(|l| compute_type(l) == Some("INT8"));
    let layers: Vec<LayerRow> = engine
        .layers
        .iter()
        .enumerate()
        .map(|(index, l)| LayerRow {
            index,
            name: l.name.clone(),
            layer_type: l.layer_type.clone(),
            operation: l.operation.clone(),
            time_ns: l.average_ns,
            median_ns: l.median_ns,
            percent: if total_ns > 0 {
                l.average_ns as f64 * 100.0 / total_ns as f64
            } else {
                0.0
            },
            precision: precision(l),
            inputs: tensors(&l.inputs),
            outputs: tensors(&l.outputs),
            tactic: l.tactic.clone(),
            kernel: l.tactic.clone().unwrap_or_else(|| l.name.clone()),
            conversion: conversion(l),
            int8_fallback: int8
                && is_compute(l)
                && compute_type(l).is_some_and(|t| matches!(t, "FP16" | "BF16" | "FP32")),
            misaligned: misaligned(l),
            profiled: l.profiled,
            tensor_core: None,
            roofline: None,
        })
        .collect();
    EngineReport {
        timeline: "one profiled inference: each layer's average time, back to back from 0, one kernel per layer (named by its tactic)".into(),
        profiled_iterations: engine.profiled_iterations,
        build_precision: engine.build_precision.clone(),
        int8,
        total_ns,
        by_type: group(&layers, |r| r.layer_type.clone()),
        by_precision: group(&layers, |r| r.precision.clone()),
        conversions: summary(&layers, |r| r.conversion.is_some()),
        int8_fallbacks: summary(&layers, |r| r.int8_fallback),
        misaligned: summary(&layers, |r| !r.misaligned.is_empty()),
        layers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(dims: &[i64], format: &str) -> EngineTensor {
        EngineTensor {
            name: String::new(),
            dims: dims.to_vec(),
            format: format.into(),
        }
    }

    fn conv(c: i64, k: i64, format: &str, weights: &str) -> EngineLayer {
        EngineLayer {
            name: "conv".into(),
            layer_type: "CaskConvolution".into(),
            operation: Some("Convolution".into()),
            tactic: Some("sm80_xmma_fprop".into()),
            inputs: vec![t(&[1, c, 8, 8], format)],
            outputs: vec![t(&[1, k, 8, 8], format)],
            weights_type: Some(weights.into()),
            out_channels: Some(k),
            groups: Some(1),
            kernel_size: vec![3, 3],
            weights_count: None,
            average_ns: 100,
            median_ns: None,
            total_ns: None,
            percentage: None,
            start: 0,
            profiled: true,
        }
    }

    #[test]
    fn datatypes_from_formats() {
        assert_eq!(datatype("Row major linear FP32"), Some("FP32"));
        assert_eq!(
            datatype("Channel major FP16 format where channel % 8 == 0"),
            Some("FP16")
        );
        assert_eq!(
            datatype("Thirty-two wide channel vectorized row major Int8 format"),
            Some("INT8")
        );
        assert_eq!(datatype("Half"), Some("FP16"));
        assert_eq!(datatype("something"), None);
        assert_eq!(
            layout("Channel major FP16 format where channel % 8 == 0"),
            "Channel major format where channel % 8 == 0"
        );
    }

    #[test]
    fn flags() {
        let fp16 = "Channel major FP16 format where channel % 8 == 0";
        let int8 = "Thirty-two wide channel vectorized row major Int8 format";
        let mut e = Engine {
            layers: vec![
                conv(3, 64, fp16, "Half"),
                conv(64, 60, int8, "Int8"),
                conv(64, 64, fp16, "Half"),
            ],
            ..Engine::default()
        };
        let reformat = EngineLayer {
            name: "Reformatting CopyNode for Input Tensor 0 to conv".into(),
            layer_type: "Reformat".into(),
            operation: Some("Reformat".into()),
            tactic: None,
            inputs: vec![t(&[1, 3, 8, 8], "Row major linear FP32")],
            outputs: vec![t(&[1, 3, 8, 8], fp16)],
            weights_type: None,
            out_channels: None,
            groups: None,
            kernel_size: Vec::new(),
            weights_count: None,
            ..conv(1, 1, "", "")
        };
        e.layers.push(reformat);
        let r = report(&e);
        assert!(r.int8);
        assert_eq!(r.total_ns, 400);
        assert_eq!(
            r.layers[0].misaligned,
            ["input channels 3 is not a multiple of 8 (FP16)"]
        );
        assert_eq!(
            r.layers[1].misaligned,
            ["output channels 60 is not a multiple of 16 (INT8)"]
        );
        assert!(r.layers[2].misaligned.is_empty());
        assert_eq!(r.int8_fallbacks.layers, [0, 2]);
        let c = r.layers[3].conversion.as_ref().unwrap();
        assert!(c.inserted && c.layout_changes && c.precision_changes);
        assert_eq!(r.layers[3].precision, "FP32->FP16");
        assert_eq!(
            r.layers[3].kernel,
            "Reformatting CopyNode for Input Tensor 0 to conv"
        );
        assert_eq!(r.conversions.count, 1);
        assert_eq!(r.by_type[0].name, "CaskConvolution");
        assert_eq!(r.by_type[0].total_ns, 300);
    }
}
