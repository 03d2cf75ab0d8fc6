//! Operation shapes from the operators a trace records (PyTorch profiler
//! `record_shapes`), keyed by the kernels they launched, so that Tensor
//! Core reasons can name the offending dimension.
//!
//! ATen operator signatures fix where the shapes are:
//!
//! ```text
//!  aten::mm(a[m,k], b[k,n])                 aten::_int_mm(a[m,k], b[k,n])
//!  aten::addmm(bias, a[m,k], b[k,n])        aten::bmm(a[B,m,k], b[B,k,n])
//!  aten::baddbmm(bias, a[B,m,k], b[B,k,n])  aten::linear(x[...,k], w[n,k], bias)
//!  aten::cudnn_convolution / aten::convolution / aten::_convolution /
//!  aten::conv{1,2,3}d(x[N,C,...], w[K,C/groups,...], ...)
//! ```
//!
//! Other operators give no shape; a kernel keeps the first shape found.
//! Where the profiler also recorded strides (PyTorch 2.x `Input Strides`),
//! the GEMM carries its operands' leading dimensions: the row stride of a
//! row-major operand, the column stride of a transposed one
//! (`addmm(bias, x[141,512] strides [512,1], w.t()[512,512] strides [1,512])`
//! has leading dimensions 512 and 512, whatever M = 141).

use super::reason::{KernelShapes, OpShape};
use crate::model::Trace;

/// The leading dimension of a matrix operand from its strides (the last
/// two): the row stride when rows are contiguous, the column stride when
/// columns are; `None` when neither is (or strides are missing).
fn leading(strides: Option<&Vec<i64>>) -> Option<i64> {
    let s = strides?;
    let (row, col) = (*s.get(s.len().checked_sub(2)?)?, *s.last()?);
    match (row, col) {
        (r, 1) => Some(r),
        (1, c) => Some(c),
        _ => None,
    }
}

/// The shape of one operator call from its name, input dimensions and
/// input strides (empty when not recorded).
pub fn shape_of(op: &str, dims: &[Vec<i64>], strides: &[Vec<i64>]) -> Option<OpShape> {
    let name = op.rsplit("::").next().unwrap_or(op);
    let lds = |a: usize, b: usize| -> Option<[i64; 2]> {
        Some([leading(strides.get(a))?, leading(strides.get(b))?])
    };
    let two = |ia: usize, ib: usize| -> Option<OpShape> {
        let (a, b) = (dims.get(ia)?, dims.get(ib)?);
        let (m, k) = (*a.get(a.len().checked_sub(2)?)?, *a.last()?);
        let n = *b.last()?;
        (b.len() >= 2 && b[b.len() - 2] == k).then(|| OpShape::Gemm {
            m,
            n,
            k,
            ld: lds(ia, ib),
        })
    };
    match name {
        "mm" | "_int_mm" | "bmm" | "matmul" => two(0, 1),
        "addmm" | "baddbmm" | "addbmm" => two(1, 2),
        "linear" => {
            let (x, w) = (dims.first()?, dims.get(1)?);
            let k = *x.last()?;
            if w.len() != 2 || w[1] != k {
                return None;
            }
            let m: i64 = x[..x.len() - 1].iter().product();
            Some(OpShape::Gemm {
                m,
                n: w[0],
                k,
                ld: lds(0, 1),
            })
        }
        "cudnn_convolution"
        | "convolution"
        | "_convolution"
        | "conv1d"
        | "conv2d"
        | "conv3d"
        | "cudnn_convolution_relu"
        | "cudnn_convolution_add_relu" => {
            let (x, w) = (dims.first()?, dims.get(1)?);
            let (c, k, per_group) = (*x.get(1)?, *w.first()?, *w.get(1)?);
            (per_group > 0 && c % per_group == 0).then_some(OpShape::Conv {
                c,
                k,
                groups: c / per_group,
            })
        }
        _ => None,
    }
}

/// Shapes by demangled kernel name, from the operators that launched the
/// kernels. Empty when the trace records no operators.
pub fn from_operators(trace: &Trace) -> KernelShapes {
    let mut out = KernelShapes::new();
    if trace.operators.is_empty() {
        return out;
    }
    for k in &trace.kernels {
        let name = trace.name(k.name);
        if out.contains_key(name) {
            continue;
        }
        if let Some(op) = trace.operator_of(k) {
            let (dims, strides) = (op.dims(&trace.names), op.strides(&trace.names));
            if let Some(shape) = shape_of(trace.name(op.name), &dims, &strides) {
                out.insert(name.to_string(), shape);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aten_signatures() {
        let d = |v: &[&[i64]]| v.iter().map(|x| x.to_vec()).collect::<Vec<_>>();
        assert_eq!(
            shape_of("aten::addmm", &d(&[&[1000], &[16, 2048], &[2048, 1000]]), &[]),
            Some(OpShape::Gemm {
                m: 16,
                n: 1000,
                k: 2048,
                ld: None,
            })
        );
        assert_eq!(
            shape_of("aten::mm", &d(&[&[4096, 4093], &[4093, 4096]]), &[]),
            Some(OpShape::Gemm {
                m: 4096,
                n: 4096,
                k: 4093,
                ld: None,
            })
        );
        assert_eq!(
            shape_of("aten::bmm", &d(&[&[64, 128, 64], &[64, 64, 128]]), &[]),
            Some(OpShape::Gemm {
                m: 128,
                n: 128,
                k: 64,
                ld: None,
            })
        );
        assert_eq!(
            shape_of(
                "aten::linear",
                &d(&[&[16, 128, 1020], &[4090, 1020], &[4090]]),
                &[]
            ),
            Some(OpShape::Gemm {
                m: 2048,
                n: 4090,
                k: 1020,
                ld: None,
            })
        );
        assert_eq!(
            shape_of(
                "aten::cudnn_convolution",
                &d(&[&[16, 32, 56, 56], &[32, 1, 3, 3]]),
                &[]
            ),
            Some(OpShape::Conv {
                c: 32,
                k: 32,
                groups: 32
            })
        );
        assert_eq!(
            shape_of(
                "aten::convolution",
                &d(&[&[16, 3, 224, 224], &[64, 3, 7, 7], &[]]),
                &[]
            ),
            Some(OpShape::Conv {
                c: 3,
                k: 64,
                groups: 1
            })
        );
        // Mismatched inner dimensions or unknown operators give nothing.
        assert_eq!(shape_of("aten::mm", &d(&[&[4, 5], &[6, 7]]), &[]), None);
        assert_eq!(shape_of("aten::add", &d(&[&[4, 5], &[4, 5]]), &[]), None);
        assert_eq!(shape_of("aten::mm", &[], &[]), None);
    }

    #[test]
    fn strides_give_leading_dimensions() {
        let d = |v: &[&[i64]]| v.iter().map(|x| x.to_vec()).collect::<Vec<_>>();
        // addmm(bias, x, w.t()): w.t() has strides [1, 512].
        assert_eq!(
            shape_of(
                "aten::addmm",
                &d(&[&[512], &[141, 512], &[512, 512], &[], &[]]),
                &d(&[&[1], &[512, 1], &[1, 512], &[], &[]])
            ),
            Some(OpShape::Gemm {
                m: 141,
                n: 512,
                k: 512,
                ld: Some([512, 512])
            })
        );
        // A strided view that is contiguous in neither direction has none.
        assert_eq!(
            shape_of("aten::mm", &d(&[&[8, 8], &[8, 8]]), &d(&[&[16, 2], &[8, 1]])),
            Some(OpShape::Gemm {
                m: 8,
                n: 8,
                k: 8,
                ld: None
            })
        );
    }
}
