//! FLOPs and tensor bytes of TensorRT engine layers from the dimensions,
//! formats and parameters the graph JSON records (`engine_dims`).
//!
//! ```text
//!  convolution  in [N,C,H,W], out [N,K,P,Q], kernel [R,S], groups g:
//!               FLOPs = 2*N*K*P*Q*(C/g)*R*S
//!  matrix multiply  [..,M,K] x [..,K,N]: FLOPs = 2*B*M*N*K
//!  pooling      FLOPs = output elements * window (one compare or add each)
//!  elementwise, activation, scale: FLOPs = output elements; softmax 5x that
//!  reformat, shuffle, copies (NoOp reformats included): FLOPs = 0
//!  bytes = every input and output once, each in its own format's element size
//!          (FP32 4, FP16/BF16 2, INT8/FP8 1), plus the weights (Count x type)
//! ```
//!
//! Dimensions are the logical ones the graph lists (a format that pads
//! channels to a multiple of 4 or 32 moves a little more). Other layers
//! (Myelin foreign nodes, plugins) and layers with a tensor of unknown
//! format get no work.

use super::peaks::Precision;
use super::{Work, WorkSource};
use crate::analysis::engine::{compute_type, datatype};
use crate::analysis::kernels::KernelRow;
use crate::model::engine::{Engine, EngineLayer, EngineTensor};

fn element_size(format: &str) -> Option<f64> {
    Some(match datatype(format)? {
        "FP32" | "INT32" => 4.0,
        "FP16" | "BF16" => 2.0,
        "INT8" | "UINT8" | "FP8" | "BOOL" => 1.0,
        "INT4" | "FP4" => 0.5,
        "INT64" => 8.0,
        _ => return None,
    })
}

fn weights_size(t: &str) -> Option<f64> {
    Some(match t.to_ascii_lowercase().as_str() {
        "float" | "fp32" => 4.0,
        "half" | "fp16" | "bf16" => 2.0,
        "int8" | "fp8" => 1.0,
        _ => return None,
    })
}

fn numel(d: &[i64]) -> f64 {
    d.iter().map(|&x| x.max(0) as f64).product()
}

fn bytes(ts: &[EngineTensor]) -> Option<f64> {
    ts.iter()
        .map(|t| Some(numel(&t.dims) * element_size(&t.format)?))
        .sum()
}

fn precision_of(label: Option<&str>) -> Option<Precision> {
    Some(match label? {
        "FP32" => Precision::Fp32,
        "FP16" => Precision::Fp16,
        "BF16" => Precision::Bf16,
        "INT8" => Precision::Int8,
        "FP8" => Precision::Fp8,
        _ => return None,
    })
}

/// FLOPs of one layer by its kind, None when its kind has no formula here.
fn flops(l: &EngineLayer) -> Option<f64> {
    let kind = format!("{} {}", l.layer_type, l.operation.as_deref().unwrap_or("")).to_ascii_lowercase();
    let input = l.inputs.first().map(|t| t.dims.as_slice()).unwrap_or(&[]);
    let output = l.outputs.first().map(|t| t.dims.as_slice()).unwrap_or(&[]);
    let has = |k: &str| kind.contains(k);
    if has("deconvolution") {
        return None;
    }
    if has("convolution") {
        if input.len() < 3 || output.len() != input.len() || l.kernel_size.len() + 2 != input.len() {
            return None;
        }
        let g = l.groups.unwrap_or(1).max(1) as f64;
        let c = input[1] as f64;
        return Some(2.0 * numel(output) * (c / g) * numel(&l.kernel_size));
    }
    if has("matrixmultiply") || has("matmul") || has("gemm") || has("fullyconnected") {
        let b = l.inputs.get(1).map(|t| t.dims.as_slice())?;
        if input.len() < 2 || b.len() < 2 || input[input.len() - 1] != b[b.len() - 2] {
            return None;
        }
        let (m, k, n) = (
            input[input.len() - 2] as f64,
            input[input.len() - 1] as f64,
            b[b.len() - 1] as f64,
        );
        return Some(2.0 * numel(&input[..input.len() - 2]) * m * n * k);
    }
    if has("pooling") {
        return (!l.kernel_size.is_empty()).then(|| numel(output) * numel(&l.kernel_size));
    }
    if has("softmax") {
        return Some(5.0 * numel(output));
    }
    if has("elementwise") || has("activation") || has("scale") || has("pointwise") {
        return Some(numel(output));
    }
    if has("reformat") || has("noop") || has("shuffle") || has("copy") || has("slice") || has("concat") {
        return Some(0.0);
    }
    None
}

/// The work of one layer (one inference), or None.
pub fn layer_work(l: &EngineLayer) -> Option<Work> {
    let f = flops(l)?;
    let weights = match (l.weights_count, l.weights_type.as_deref()) {
        (Some(n), Some(t)) => n.max(0) as f64 * weights_size(t)?,
        _ => 0.0,
    };
    let b = bytes(&l.inputs)? + bytes(&l.outputs)? + weights;
    Some(Work {
        source: WorkSource::EngineDims,
        flops: f,
        bytes: b,
        precision: precision_of(compute_type(l)),
        tensor: None,
        sampled: None,
    })
}

/// Work per kernel row of an engine's synthetic timeline: the layers whose
/// kernel (tactic) it is, summed; a row with a layer of unknown work gets none.
pub fn work(engine: &Engine, rows: &[KernelRow]) -> Vec<Option<Work>> {
    rows.iter()
        .map(|row| {
            let mut sum: Option<Work> = None;
            for l in &engine.layers {
                let kernel = l.tactic.as_deref().unwrap_or(&l.name);
                if kernel != row.name || !l.profiled {
                    continue;
                }
                let w = layer_work(l)?;
                match &mut sum {
                    Some(s) => {
                        s.flops += w.flops;
                        s.bytes += w.bytes;
                        if s.precision != w.precision {
                            s.precision = None;
                        }
                    }
                    None => sum = Some(w),
                }
            }
            sum
        })
        .collect()
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

    #[test]
    fn conv_flops_and_bytes_by_hand() {
        // resnet50_a100_fp16 "Conv_0 + Relu_1": 7x7 stride 2, 3 -> 64 channels.
        let l = EngineLayer {
            name: "Conv_0 + Relu_1".into(),
            layer_type: "CaskConvolution".into(),
            operation: Some("Convolution".into()),
            tactic: None,
            inputs: vec![t(
                &[32, 3, 224, 224],
                "Channel major FP16 format where channel % 4 == 0",
            )],
            outputs: vec![t(
                &[32, 64, 112, 112],
                "Channel major FP16 format where channel % 8 == 0",
            )],
            weights_type: Some("Half".into()),
            out_channels: Some(64),
            groups: Some(1),
            kernel_size: vec![7, 7],
            weights_count: Some(9408),
            average_ns: 1,
            median_ns: None,
            total_ns: None,
            percentage: None,
            start: 0,
            profiled: true,
        };
        let w = layer_work(&l).unwrap();
        // 2 * 32*64*112*112 outputs * 3*7*7 MACs each.
        assert_eq!(w.flops, 2.0 * 32.0 * 64.0 * 112.0 * 112.0 * 147.0);
        assert_eq!(
            w.bytes,
            (32.0 * 3.0 * 224.0 * 224.0 + 32.0 * 64.0 * 112.0 * 112.0 + 9408.0) * 2.0
        );
        assert_eq!(w.precision, Some(Precision::Fp16));
        // A reformat moves bytes and does no math; an unknown format: no work.
        let r = EngineLayer {
            layer_type: "Reformat".into(),
            operation: Some("Reformat".into()),
            inputs: vec![t(&[32, 3, 224, 224], "Row major linear FP32")],
            weights_type: None,
            weights_count: None,
            kernel_size: vec![],
            ..l.clone()
        };
        let w = layer_work(&r).unwrap();
        assert_eq!(
            (w.flops, w.bytes),
            (
                0.0,
                32.0 * 3.0 * 224.0 * 224.0 * 4.0 + 32.0 * 64.0 * 112.0 * 112.0 * 2.0
            )
        );
        let u = EngineLayer {
            inputs: vec![t(&[1, 2], "some opaque format")],
            ..r
        };
        assert!(layer_work(&u).is_none());
    }
}
