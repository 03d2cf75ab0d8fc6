//! FLOPs and minimum bytes of framework operators from their recorded input
//! shapes, types and scalar arguments (PyTorch profiler `record_shapes`),
//! given to the kernels they launched.
//!
//! Formulas (elements `n`, element size `e` bytes; bytes are the minimum
//! traffic: every input and the output read or written once):
//!
//! ```text
//!  mm/matmul/bmm/addmm/baddbmm/linear   2*B*M*N*K      e*(B*M*K + B*K*N + B*M*N)
//!  convolution (N,C,in..)x(K,C/g,k..)   2*N*K*out..*(C/g)*k..  e*(input + weights + output)
//!     out = floor((in + 2*pad - dil*(k-1) - 1) / stride) + 1, from the call's
//!     stride/padding/dilation (no concrete arguments recorded: no work)
//!  attention q[B,H,L,E] k[B,H,S,E] v[B,H,S,Ev]  2*B*H*L*S*(E+Ev), halved when causal
//!                                       e*(q + k + v + B*H*L*Ev)
//!  layer/group/batch/RMS norm           5n (mean, variance, normalise, scale, shift)  e*2n + params
//!  softmax, log_softmax                 5n (max, subtract, exp, sum, divide)          e*2n
//!  elementwise (add, mul, gelu, ...)    n of the (broadcast) output                   inputs + output
//!  copies (copy_, to, clone, contiguous, cat of tensors)  0                            read + write
//! ```
//!
//! An operator launching several kernels (cuDNN's helpers, a split-K
//! reduction) gives its work to its longest kernel; the others get none.

use std::collections::HashMap;

use super::peaks::Precision;
use super::{Work, WorkSource};
use crate::analysis::kernels::KernelRow;
use crate::analysis::window::Window;
use crate::model::{NameId, Ns, Trace};

/// Bytes of one element of a PyTorch type name; None for non-tensors.
pub fn element_size(t: &str) -> Option<f64> {
    Some(match t {
        "double" | "long int" | "long" | "int64_t" | "c10::complex<float>" => 8.0,
        "float" | "int" | "unsigned int" => 4.0,
        "c10::Half" | "c10::BFloat16" | "short int" | "short" => 2.0,
        "signed char" | "unsigned char" | "bool" | "c10::qint8" | "c10::quint8" => 1.0,
        t if t.starts_with("c10::Float8") => 1.0,
        _ => return None,
    })
}

/// The math precision of a type name.
pub fn precision(t: &str) -> Option<Precision> {
    Some(match t {
        "double" => Precision::Fp64,
        "float" => Precision::Fp32,
        "c10::Half" => Precision::Fp16,
        "c10::BFloat16" => Precision::Bf16,
        "signed char" | "unsigned char" | "c10::qint8" | "c10::quint8" => Precision::Int8,
        t if t.starts_with("c10::Float8") => Precision::Fp8,
        _ => return None,
    })
}

/// FLOPs and minimum bytes of one operator call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpWork {
    pub flops: f64,
    pub bytes: f64,
    pub precision: Option<Precision>,
}

fn numel(d: &[i64]) -> f64 {
    d.iter().map(|&x| x.max(0) as f64).product()
}

/// A list argument like `[1, 1]` or a scalar `1`.
fn ints(s: &str) -> Option<Vec<i64>> {
    let t = s.trim().trim_start_matches('[').trim_end_matches(']');
    if t.is_empty() {
        return None;
    }
    t.split(',').map(|x| x.trim().parse().ok()).collect()
}

/// Broadcast shape of several tensors (numpy rules); None if incompatible.
fn broadcast(shapes: &[&Vec<i64>]) -> Option<Vec<i64>> {
    let rank = shapes.iter().map(|s| s.len()).max()?;
    let mut out = vec![1i64; rank];
    for s in shapes {
        for (i, &d) in s.iter().rev().enumerate() {
            let o = &mut out[rank - 1 - i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return None;
            }
        }
    }
    Some(out)
}

const ELEMENTWISE: &[&str] = &[
    "add",
    "add_",
    "sub",
    "sub_",
    "rsub",
    "mul",
    "mul_",
    "div",
    "div_",
    "pow",
    "neg",
    "exp",
    "log",
    "sqrt",
    "rsqrt",
    "abs",
    "relu",
    "relu_",
    "gelu",
    "gelu_",
    "silu",
    "silu_",
    "sigmoid",
    "sigmoid_",
    "tanh",
    "tanh_",
    "hardswish",
    "hardswish_",
    "hardtanh",
    "hardtanh_",
    "clamp",
    "clamp_",
    "clamp_min",
    "clamp_max",
    "where",
    "masked_fill",
    "masked_fill_",
    "erf",
    "sin",
    "cos",
    "maximum",
    "minimum",
    "leaky_relu",
    "leaky_relu_",
    "elu",
    "mish",
    "reciprocal",
    "square",
    "addcmul",
    "addcdiv",
    "lerp",
    "threshold",
    "threshold_backward",
    "gelu_backward",
    "silu_backward",
    "sigmoid_backward",
    "tanh_backward",
];
const COPIES: &[&str] = &["copy_", "_to_copy", "to", "clone", "contiguous", "_copy_from"];
const NORMS: &[&str] = &[
    "layer_norm",
    "native_layer_norm",
    "group_norm",
    "native_group_norm",
    "batch_norm",
    "native_batch_norm",
    "cudnn_batch_norm",
    "_batch_norm_impl_index",
    "_native_batch_norm_legit",
    "_native_batch_norm_legit_no_training",
    "rms_norm",
    "_fused_rms_norm",
    "instance_norm",
];

/// The work of one call of `op` (ATen name), or None when the shapes do
/// not determine it.
pub fn op_work(op: &str, dims: &[Vec<i64>], types: &[String], concrete: &[String]) -> Option<OpWork> {
    let name = op.rsplit("::").next().unwrap_or(op);
    let ty = |i: usize| types.get(i).map(String::as_str).unwrap_or("");
    let first_tensor = (0..dims.len()).find(|&i| !dims[i].is_empty() && element_size(ty(i)).is_some())?;
    let e = element_size(ty(first_tensor))?;
    let precision = precision(ty(first_tensor));
    let tensor_bytes = |i: usize| -> f64 {
        match (dims.get(i), element_size(ty(i))) {
            (Some(d), Some(s)) if !d.is_empty() => numel(d) * s,
            _ => 0.0,
        }
    };
    let work = |flops: f64, bytes: f64| {
        Some(OpWork {
            flops,
            bytes,
            precision,
        })
    };
    match name {
        "mm" | "_int_mm" | "bmm" | "matmul" | "addmm" | "baddbmm" | "linear" => {
            let (ai, bi) = match name {
                "addmm" | "baddbmm" => (1, 2),
                _ => (0, 1),
            };
            let (a, b) = (dims.get(ai)?, dims.get(bi)?);
            if a.len() < 2 || b.is_empty() {
                return None;
            }
            let (m, k) = (a[a.len() - 2], a[a.len() - 1]);
            let batch: f64 = numel(&a[..a.len() - 2]);
            let n = if name == "linear" {
                // weight [n, k]
                if b.len() != 2 || b[1] != k {
                    return None;
                }
                b[0]
            } else {
                if b.len() < 2 || b[b.len() - 2] != k {
                    return None;
                }
                *b.last()?
            };
            let (m, n, k) = (m as f64, n as f64, k as f64);
            let b_batch = if b.len() > 2 { batch } else { 1.0 };
            work(
                2.0 * batch * m * n * k,
                e * (batch * m * k + b_batch * k * n + batch * m * n),
            )
        }
        "conv1d"
        | "conv2d"
        | "conv3d"
        | "convolution"
        | "_convolution"
        | "cudnn_convolution"
        | "cudnn_convolution_relu"
        | "cudnn_convolution_add_relu" => {
            let (x, w) = (dims.first()?, dims.get(1)?);
            let spatial = x.len().checked_sub(2)?;
            if spatial == 0 || w.len() != x.len() {
                return None;
            }
            // Where stride, padding and dilation sit in each signature.
            let (s, p, d, transposed) = match name {
                "cudnn_convolution" => (3, 2, 4, None),
                "cudnn_convolution_add_relu" => (5, 6, 7, None),
                "convolution" | "_convolution" => (3, 4, 5, Some(6)),
                _ => (3, 4, 5, None),
            };
            if transposed
                .and_then(|t| concrete.get(t))
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
            {
                return None;
            }
            let arg = |i: usize| -> Option<Vec<i64>> {
                let v = ints(concrete.get(i)?)?;
                Some(if v.len() == 1 { vec![v[0]; spatial] } else { v })
            };
            let stride = arg(s)?;
            let dilation = arg(d)?;
            let kernel = &w[2..];
            let padding = match concrete
                .get(p)
                .map(|v| v.trim().trim_matches('\'').to_ascii_lowercase())
            {
                Some(v) if v == "valid" => vec![0; spatial],
                // "same" keeps the input size (stride 1 only).
                Some(v) if v == "same" => kernel
                    .iter()
                    .zip(&dilation)
                    .map(|(k, d)| d * (k - 1) / 2)
                    .collect(),
                _ => arg(p)?,
            };
            if stride.len() != spatial || padding.len() != spatial || dilation.len() != spatial {
                return None;
            }
            let mut out = Vec::with_capacity(spatial);
            for i in 0..spatial {
                if stride[i] <= 0 {
                    return None;
                }
                let o = (x[2 + i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i] + 1;
                if o <= 0 {
                    return None;
                }
                out.push(o);
            }
            let (n, k, per_group) = (x[0] as f64, w[0] as f64, w[1] as f64);
            let flops = 2.0 * n * k * numel(&out) * per_group * numel(kernel);
            let out_bytes = n * k * numel(&out) * e;
            work(flops, tensor_bytes(0) + tensor_bytes(1) + out_bytes)
        }
        "scaled_dot_product_attention"
        | "_scaled_dot_product_flash_attention"
        | "_scaled_dot_product_efficient_attention"
        | "_scaled_dot_product_cudnn_attention"
        | "_scaled_dot_product_flash_attention_for_cpu" => {
            let (q, k, v) = (dims.first()?, dims.get(1)?, dims.get(2)?);
            if q.len() != 4 || k.len() != 4 || v.len() != 4 {
                return None;
            }
            let causal_at = match name {
                "scaled_dot_product_attention" => 5,
                "_scaled_dot_product_flash_attention" => 4,
                _ => 6,
            };
            let causal = concrete
                .get(causal_at)
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("true"));
            let (b, h, l, d) = (q[0] as f64, q[1] as f64, q[2] as f64, q[3] as f64);
            let (s, dv) = (k[2] as f64, v[3] as f64);
            let mut flops = 2.0 * b * h * l * s * (d + dv);
            if causal {
                flops *= 0.5;
            }
            work(
                flops,
                tensor_bytes(0) + tensor_bytes(1) + tensor_bytes(2) + b * h * l * dv * e,
            )
        }
        n if NORMS.contains(&n) => {
            let x = numel(dims.first()?);
            let params: f64 = (1..dims.len()).map(tensor_bytes).sum();
            work(5.0 * x, 2.0 * x * e + params)
        }
        "softmax" | "_softmax" | "log_softmax" | "_log_softmax" => {
            let x = numel(dims.first()?);
            work(5.0 * x, 2.0 * x * e)
        }
        n if ELEMENTWISE.contains(&n) => {
            let tensors: Vec<&Vec<i64>> = (0..dims.len())
                .filter(|&i| !dims[i].is_empty() && element_size(ty(i)).is_some())
                .map(|i| &dims[i])
                .collect();
            let out = numel(&broadcast(&tensors)?);
            let inputs: f64 = (0..dims.len()).map(tensor_bytes).sum();
            work(out, inputs + out * e)
        }
        n if COPIES.contains(&n) => {
            // copy_(dst, src): read src, write dst; to/clone: read and write one.
            let bytes = if n == "copy_" && dims.len() >= 2 {
                tensor_bytes(0) + tensor_bytes(1)
            } else {
                2.0 * tensor_bytes(first_tensor)
            };
            work(0.0, bytes)
        }
        _ => None,
    }
}

/// Work per kernel row from the operators that launched its kernels.
///
/// Cost: one binary search per kernel of the window; each distinct
/// (operator name, shapes, types, arguments) is parsed and priced once
/// (the strings are interned, and a model repeats its layers: the 355 MB
/// LLM trace has 138k operator calls and a few hundred distinct ones).
pub fn work(trace: &Trace, window: &Window, rows: &[KernelRow]) -> Vec<Option<Work>> {
    let row_of: HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), i))
        .collect();
    // The longest kernel of each operator call gets the call's work:
    // (kernel index, duration) per operator, in operator order.
    const NONE: usize = usize::MAX;
    let mut main: Vec<(usize, Ns)> = vec![(NONE, 0); trace.operators.len()];
    for i in window.indexes(&trace.kernels, |k| k.start) {
        let k = &trace.kernels[i];
        let key = (k.pid, k.correlation);
        let Ok(at) = trace
            .kernel_operators
            .binary_search_by_key(&key, |x| (x.pid, x.correlation))
        else {
            continue;
        };
        let Some(e) = main.get_mut(trace.kernel_operators[at].operator as usize) else {
            continue;
        };
        let dur = k.end - k.start;
        if e.0 == NONE || dur > e.1 {
            *e = (i, dur);
        }
    }
    // Per row: summed work, launches with work, precision (first seen).
    let mut acc: Vec<Option<(f64, f64, u64, Option<Precision>)>> = vec![None; rows.len()];
    let mut priced: HashMap<(NameId, NameId, NameId, NameId), Option<OpWork>> = HashMap::new();
    let mut row_of_name: HashMap<NameId, Option<usize>> = HashMap::new();
    for (op, &(ki, _)) in main.iter().enumerate() {
        if ki == NONE {
            continue;
        }
        let o = &trace.operators[op];
        let w = *priced
            .entry((o.name, o.input_dims, o.input_types, o.concrete_inputs))
            .or_insert_with(|| {
                op_work(
                    trace.name(o.name),
                    &o.dims(&trace.names),
                    &o.types(&trace.names),
                    &o.concrete(&trace.names),
                )
            });
        let Some(w) = w else { continue };
        let kname = trace.kernels[ki].name;
        let row = *row_of_name
            .entry(kname)
            .or_insert_with(|| row_of.get(trace.name(kname)).copied());
        let Some(r) = row else {
            continue;
        };
        let a = acc[r].get_or_insert((0.0, 0.0, 0, w.precision));
        a.0 += w.flops;
        a.1 += w.bytes;
        a.2 += 1;
    }
    rows.iter()
        .zip(acc)
        .map(|(row, a)| {
            let (flops, bytes, n, precision) = a?;
            // Launches of the row whose operator gave no work: extrapolate
            // from the mean of those that did.
            let scale = row.count as f64 / n.max(1) as f64;
            Some(Work {
                source: WorkSource::Shapes,
                flops: flops * scale,
                bytes: bytes * scale,
                precision,
                tensor: None,
                sampled: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn gemm_is_two_mnk() {
        let w = op_work(
            "aten::mm",
            &[vec![8192, 8192], vec![8192, 8192]],
            &s(&["c10::BFloat16", "c10::BFloat16"]),
            &[],
        )
        .unwrap();
        assert_eq!(w.flops, 2.0 * 8192f64.powi(3));
        assert_eq!(w.bytes, 3.0 * 8192.0 * 8192.0 * 2.0);
        assert_eq!(w.precision, Some(Precision::Bf16));
        // addmm(bias, a[m,k], b[k,n]); linear(x[...,k], w[n,k]).
        let w = op_work(
            "aten::addmm",
            &[vec![1000], vec![16, 2048], vec![2048, 1000]],
            &s(&["float", "float", "float"]),
            &[],
        )
        .unwrap();
        assert_eq!(w.flops, 2.0 * 16.0 * 1000.0 * 2048.0);
        let w = op_work(
            "aten::linear",
            &[vec![4, 7, 64], vec![32, 64], vec![32]],
            &s(&["c10::Half", "c10::Half", "c10::Half"]),
            &[],
        )
        .unwrap();
        assert_eq!(w.flops, 2.0 * 28.0 * 32.0 * 64.0);
        let w = op_work(
            "aten::bmm",
            &[vec![8, 128, 64], vec![8, 64, 256]],
            &s(&["c10::Half", "c10::Half"]),
            &[],
        )
        .unwrap();
        assert_eq!(w.flops, 2.0 * 8.0 * 128.0 * 256.0 * 64.0);
        assert!(
            op_work(
                "aten::mm",
                &[vec![8, 3], vec![4, 5]],
                &s(&["float", "float"]),
                &[]
            )
            .is_none()
        );
    }

    #[test]
    fn convolution_from_its_arguments() {
        // The roofline capture's conv3x3: N32 C=K=256 56x56, 3x3, stride 1, pad 1.
        let dims = [vec![32, 256, 56, 56], vec![256, 256, 3, 3]];
        let types = s(&[
            "c10::Half",
            "c10::Half",
            "ScalarList",
            "ScalarList",
            "ScalarList",
            "Scalar",
        ]);
        let concrete = s(&[
            "", "", "[1, 1]", "[1, 1]", "[1, 1]", "1", "True", "False", "False",
        ]);
        let w = op_work("aten::cudnn_convolution", &dims, &types, &concrete).unwrap();
        assert_eq!(w.flops, 2.0 * 32.0 * 256.0 * 56.0 * 56.0 * 256.0 * 9.0);
        assert_eq!(w.bytes, 2.0 * (32.0 * 256.0 * 3136.0 * 2.0 + 256.0 * 256.0 * 9.0));
        // Depthwise, stride 2, pad 1: 56 -> 28; weights [C, 1, 3, 3].
        let w = op_work(
            "aten::conv2d",
            &[vec![32, 256, 56, 56], vec![256, 1, 3, 3], vec![]],
            &s(&[
                "c10::Half",
                "c10::Half",
                "",
                "ScalarList",
                "ScalarList",
                "ScalarList",
                "Scalar",
            ]),
            &s(&["", "", "", "[2, 2]", "[1, 1]", "[1, 1]", "256"]),
        )
        .unwrap();
        assert_eq!(w.flops, 2.0 * 32.0 * 256.0 * 28.0 * 28.0 * 9.0);
        // Without the arguments the output size is unknown: no work.
        assert!(op_work("aten::cudnn_convolution", &dims, &types, &[]).is_none());
        // Transposed convolutions are left out.
        let t = s(&["", "", "", "[1, 1]", "[1, 1]", "[1, 1]", "True", "[0, 0]", "1"]);
        assert!(
            op_work(
                "aten::convolution",
                &[vec![1, 4, 8, 8], vec![4, 4, 3, 3], vec![]],
                &types,
                &t
            )
            .is_none()
        );
    }

    #[test]
    fn attention_norm_softmax_elementwise_copy() {
        let q = vec![2, 8, 128, 64];
        let ty = s(&["c10::Half", "c10::Half", "c10::Half", "Scalar", "Scalar"]);
        let w = op_work(
            "aten::_scaled_dot_product_flash_attention",
            &[q.clone(), q.clone(), q.clone()],
            &ty,
            &s(&["", "", "", "0.0", "True"]),
        )
        .unwrap();
        assert_eq!(w.flops, 0.5 * 2.0 * 2.0 * 8.0 * 128.0 * 128.0 * 128.0);
        let w = op_work(
            "aten::native_layer_norm",
            &[vec![8192, 4096], vec![], vec![4096], vec![4096]],
            &s(&["c10::Half", "ScalarList", "c10::Half", "c10::Half"]),
            &[],
        )
        .unwrap();
        assert_eq!(w.flops, 5.0 * 8192.0 * 4096.0);
        assert_eq!(w.bytes, 2.0 * 8192.0 * 4096.0 * 2.0 + 2.0 * 4096.0 * 2.0);
        let w = op_work(
            "aten::_softmax",
            &[vec![8192, 4096], vec![], vec![]],
            &s(&["c10::Half", "Scalar", "Scalar"]),
            &[],
        )
        .unwrap();
        assert_eq!(w.bytes, 2.0 * 8192.0 * 4096.0 * 2.0);
        // add of two 64M fp32 tensors: 64M FLOPs, 768 MiB.
        let w = op_work(
            "aten::add",
            &[vec![67108864], vec![67108864], vec![]],
            &s(&["float", "float", "Scalar"]),
            &[],
        )
        .unwrap();
        assert_eq!((w.flops, w.bytes), (67108864.0, 3.0 * 268435456.0));
        // Broadcast bias add: output is the larger shape.
        let w = op_work(
            "aten::add_",
            &[vec![32, 64, 56, 56], vec![64, 1, 1]],
            &s(&["c10::Half", "c10::Half"]),
            &[],
        )
        .unwrap();
        assert_eq!(w.flops, 32.0 * 64.0 * 3136.0);
        let w = op_work(
            "aten::copy_",
            &[vec![268435456], vec![268435456], vec![]],
            &s(&["float", "float", "Scalar"]),
            &[],
        )
        .unwrap();
        assert_eq!((w.flops, w.bytes), (0.0, 2.0 * 1073741824.0));
        assert!(op_work("aten::nonzero", &[vec![10]], &s(&["float"]), &[]).is_none());
    }
}
