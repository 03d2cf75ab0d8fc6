//! Why matrix work missed Tensor Cores (or used them badly), in words a
//! user can act on.
//!
//! The kernel name is the evidence every trace has. Where an input also
//! records the operation's shape (PyTorch profiler `record_shapes`,
//! trtexec layer dimensions), pass it as an [`OpShape`]: the reason then
//! names the offending dimension (`K = 4093 is not a multiple of 8`).

use std::collections::HashMap;

use super::names::{Miss, NameInfo, Precision, Verdict};
use crate::analysis::category::Category;
pub use crate::analysis::verdicts::ReasonKind;

/// The shape of the operation a kernel computed, when an input records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpShape {
    /// C[m x n] = A[m x k] B[k x n]; `ld`: the leading dimensions of A and
    /// B when the input recorded strides.
    Gemm {
        m: i64,
        n: i64,
        k: i64,
        ld: Option<[i64; 2]>,
    },
    /// A convolution with `c` input channels, `k` output channels, `groups`.
    Conv { c: i64, k: i64, groups: i64 },
}

/// Operation shapes by demangled kernel name (one shape per name: the
/// first an input reports).
pub type KernelShapes = HashMap<String, OpShape>;

/// A reason and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub kind: ReasonKind,
    pub text: String,
}

fn reason(kind: ReasonKind, text: impl Into<String>) -> Option<Reason> {
    Some(Reason {
        kind,
        text: text.into(),
    })
}

/// GEMM dimensions that are not multiples of `align` elements.
pub fn misaligned_dims(shape: &OpShape, align: u32) -> Vec<String> {
    let a = i64::from(align.max(1));
    let dims: Vec<(&str, i64)> = match *shape {
        OpShape::Gemm { m, n, k, .. } => vec![("M", m), ("N", n), ("K", k)],
        OpShape::Conv { c, k, groups } => {
            let g = groups.max(1);
            vec![("C", c / g), ("K", k / g)]
        }
    };
    dims.into_iter()
        .filter(|&(_, v)| v > 0 && v % a != 0)
        .map(|(d, v)| format!("{d} = {v}"))
        .collect()
}

/// The dimensions that set a GEMM's operand alignment and are not
/// multiples of `align`: the leading dimensions of A and B (from strides,
/// else K and N as for contiguous row-major operands) and C's (N). The row
/// count M sets no alignment. Convolutions: channels per group, as in
/// [`misaligned_dims`].
pub fn misaligned_leading(shape: &OpShape, align: u32) -> Vec<String> {
    let a = i64::from(align.max(1));
    let dims: Vec<(&str, i64)> = match *shape {
        OpShape::Gemm {
            n,
            ld: Some([la, lb]),
            ..
        } => vec![("lda", la), ("ldb", lb), ("N", n)],
        OpShape::Gemm { n, k, ld: None, .. } => vec![("N", n), ("K", k)],
        OpShape::Conv { .. } => return misaligned_dims(shape, align),
    };
    let mut out: Vec<String> = Vec::new();
    for (d, v) in dims {
        let s = format!("{d} = {v}");
        if v > 0 && v % a != 0 && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn not_multiple(dims: &[String], align: u32) -> String {
    match dims {
        [] => String::new(),
        [one] => format!("{one} is not a multiple of {align}"),
        many => format!("{} are not multiples of {align}", many.join(", ")),
    }
}

/// The reason for a kernel's verdict, for matrix work only (GEMM,
/// convolution, attention, or anything on Tensor Cores): why it missed
/// Tensor Cores, why its Tensor Core variant is a slow one, or why the
/// verdict is unknown. `None` when there is nothing to say.
pub fn explain(
    info: &NameInfo,
    category: Category,
    verdict: Verdict,
    shape: Option<&OpShape>,
) -> Option<Reason> {
    if info.helper || !(category.is_matrix() || verdict == Verdict::Yes) {
        return None;
    }
    match verdict {
        Verdict::Yes => low_alignment(info, shape),
        Verdict::No => missed(info, category, shape),
        Verdict::Unknown => reason(
            ReasonKind::NotRecognised,
            format!(
                "the name does not say whether it uses Tensor Cores ({}); measure it: pass an Nsight Compute CSV with --ncu, or capture with nsys --gpu-metrics-devices",
                info.rule
            ),
        ),
    }
}

/// A Tensor Core kernel in a slow low-alignment variant. The kernel's own
/// alignment marks decide when it has them (cuBLAS picks `align8` for an
/// `addmm [141,512]x[512,512]`: aligned, whatever M); without marks, the
/// recorded shape's leading dimensions do.
fn low_alignment(info: &NameInfo, shape: Option<&OpShape>) -> Option<Reason> {
    let p = info.precision?;
    let full = p.full_alignment();
    let from_shape = shape.map(|s| misaligned_leading(s, full)).unwrap_or_default();
    let low = match info.narrowest() {
        Some(_) => info.low_alignment(),
        None => !from_shape.is_empty(),
    };
    if !low {
        return None;
    }
    let variant = match info.narrowest() {
        Some((a, bits)) if bits < 128 => format!(
            "{} Tensor Core kernel in its align{a} variant: an operand aligned to {} bytes instead of 16",
            p.label(),
            f64::from(bits) / 8.0
        ),
        _ => format!("{} Tensor Core kernel on misaligned operands", p.label()),
    };
    let cause = if from_shape.is_empty() {
        format!(
            "a dimension (or leading dimension) is not a multiple of {full} {} elements",
            p.label()
        )
    } else {
        not_multiple(&from_shape, full)
    };
    reason(
        ReasonKind::LowAlignment,
        format!(
            "{variant}; {cause}. Pad it to a multiple of {full} (64 is better) to get the full-speed kernel"
        ),
    )
}

fn missed(info: &NameInfo, category: Category, shape: Option<&OpShape>) -> Option<Reason> {
    let p16 = Precision::Fp16.full_alignment();
    if let Some(&OpShape::Conv { c, k, groups }) = shape {
        if groups > 1 && groups == c {
            return reason(
                ReasonKind::Depthwise,
                format!(
                    "depthwise convolution (groups = C = {c}): one input channel per group is a matrix product too thin for Tensor Cores; it is bound by memory traffic"
                ),
            );
        }
        if groups > 1 {
            return reason(
                ReasonKind::Grouped,
                format!(
                    "grouped convolution ({groups} groups of {} input channels) run by a direct CUDA-core kernel",
                    c / groups
                ),
            );
        }
        if c < i64::from(p16) || k < i64::from(p16) {
            let dim = if c < i64::from(p16) {
                format!("C = {c} input channels")
            } else {
                format!("K = {k} output channels")
            };
            return reason(
                ReasonKind::TinyChannels,
                format!(
                    "{dim}: too few for a Tensor Core convolution (needs multiples of {p16}); pad the channels (e.g. an RGB input to 4 or 8) or use channels_last so cuDNN can pad"
                ),
            );
        }
    }
    let dims = shape
        .map(|s| not_multiple(&misaligned_dims(s, p16), p16))
        .filter(|s| !s.is_empty())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let what = if category == Category::Conv {
        "convolution"
    } else if category == Category::Attention {
        "attention"
    } else {
        "GEMM"
    };
    match info.miss {
        // TF32 and BF16 Tensor Cores start with sm 8.0; sm 7.x has FP16 only.
        Some(Miss::Fp32) if info.arch.is_some_and(|a| a < 70) => reason(
            ReasonKind::Fp32NoTf32,
            format!(
                "FP32 {what} on CUDA cores (FFMA){dims}: this GPU (sm {}) has no Tensor Cores at all",
                info.arch.unwrap_or(0)
            ),
        ),
        Some(Miss::Fp32) if info.arch.is_some_and(|a| a < 80) => reason(
            ReasonKind::Fp32NoTf32,
            format!(
                "FP32 {what} on CUDA cores (FFMA){dims}: this GPU generation (sm {}) has no TF32 or BF16 Tensor Cores; run this layer in FP16 (torch.autocast(dtype=torch.float16), TensorRT --fp16) to use them",
                info.arch.unwrap_or(0)
            ),
        ),
        Some(Miss::Fp32) => reason(
            ReasonKind::Fp32NoTf32,
            format!(
                "FP32 {what} on CUDA cores (FFMA): TF32 is disabled{dims}. Allow TF32 (torch.backends.cuda.matmul.allow_tf32 = True, torch.backends.cudnn.allow_tf32 = True, or torch.set_float32_matmul_precision('high')) or run this layer in FP16/BF16"
            ),
        ),
        Some(Miss::Fp64) => reason(
            ReasonKind::Fp64,
            format!("FP64 {what} on CUDA cores{dims}: use FP32/TF32 or lower if the model allows"),
        ),
        Some(Miss::HalfOnCudaCores) => reason(
            ReasonKind::HalfOnCudaCores,
            format!(
                "FP16/BF16 {what} computed on CUDA cores{dims}: the library found no Tensor Core kernel for this layout or shape; check that dimensions are multiples of 8"
            ),
        ),
        Some(Miss::Int8OnCudaCores) => reason(
            ReasonKind::Int8OnCudaCores,
            format!(
                "INT8 {what} on CUDA cores (DP4A/SIMT){dims}: IMMA kernels need channels/dimensions in multiples of 16 or 32 and NHWC/NC32HW32 layouts"
            ),
        ),
        Some(Miss::GenericConv) => reason(
            ReasonKind::GenericConv,
            format!(
                "cuDNN's generic CUDA-core convolution{dims}: it is chosen when no Tensor Core kernel fits the layer, typically very few input channels (a 3-channel image) in NCHW; use channels_last (NHWC) so cuDNN can pad to its Tensor Core kernels, or pad the channels"
            ),
        ),
        Some(Miss::Depthwise) => reason(
            ReasonKind::Depthwise,
            "depthwise convolution: one input channel per group is a matrix product too thin for Tensor Cores; it is bound by memory traffic (channels_last and cuDNN's NHWC depthwise kernels read it once)",
        ),
        Some(Miss::Grouped) => reason(
            ReasonKind::Grouped,
            "grouped convolution run by a direct CUDA-core kernel: groups with few channels each cannot use Tensor Cores",
        ),
        Some(Miss::Gemv) => reason(
            ReasonKind::Gemv,
            "matrix-vector product (one dimension is 1): bound by memory bandwidth, Tensor Cores would not help; batch requests to turn it into a GEMM",
        ),
        Some(Miss::DecodeAttention) => reason(
            ReasonKind::DecodeAttention,
            "decode attention (one query row per sequence) on CUDA cores: bound by reading the KV cache",
        ),
        Some(Miss::OldArch) => reason(
            ReasonKind::OldArch,
            "kernel built for an architecture without Tensor Cores (sm < 70): the library has no newer kernel for this case",
        ),
        Some(Miss::CudaCores) | None => reason(
            ReasonKind::CudaCoreChoice,
            format!(
                "{what} kernel without Tensor Cores{dims}; the name does not say why: check the data type (FP32 without TF32?) and that dimensions are multiples of 8"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tensor_core::names::classify;

    #[test]
    fn shapes_name_the_offending_dimension() {
        let info = classify(
            "void cutlass::Kernel2<cutlass_75_tensorop_f16_s1688gemm_f16_256x128_nn_align1>(T1::Params)",
        );
        let shape = OpShape::Gemm {
            m: 4096,
            n: 4096,
            k: 4093,
            ld: None,
        };
        let r = explain(&info, Category::Gemm, Verdict::Yes, Some(&shape)).unwrap();
        assert_eq!(r.kind, ReasonKind::LowAlignment);
        assert!(r.text.contains("K = 4093 is not a multiple of 8"), "{}", r.text);
        assert!(
            r.text.contains("align1 variant: an operand aligned to 2 bytes"),
            "{}",
            r.text
        );
        // Without a shape the reason stays general.
        let r = explain(&info, Category::Gemm, Verdict::Yes, None).unwrap();
        assert!(r.text.contains("not a multiple of 8 FP16 elements"), "{}", r.text);
    }

    #[test]
    fn conv_shapes_tell_depthwise_grouped_and_tiny() {
        let info = classify(
            "void implicit_convolve_sgemm<__half, __half, (int)128, (int)5, (int)5, (int)3, (int)3, (int)3, (int)1, (bool)0, (bool)0, (bool)1>(int, int, int, const T1 *, int, T2 *, const T1 *, kernel_conv_params, unsigned long long, int, float, float, int, const T2 *, const T2 *, bool, int, int)",
        );
        let kind = |s| explain(&info, Category::Conv, Verdict::No, Some(&s)).unwrap();
        assert_eq!(
            kind(OpShape::Conv {
                c: 32,
                k: 32,
                groups: 32
            })
            .kind,
            ReasonKind::Depthwise
        );
        assert_eq!(
            kind(OpShape::Conv {
                c: 64,
                k: 64,
                groups: 4
            })
            .kind,
            ReasonKind::Grouped
        );
        let r = kind(OpShape::Conv {
            c: 3,
            k: 64,
            groups: 1,
        });
        assert_eq!(r.kind, ReasonKind::TinyChannels);
        assert!(r.text.starts_with("C = 3 input channels"), "{}", r.text);
        assert_eq!(
            explain(&info, Category::Conv, Verdict::No, None).unwrap().kind,
            ReasonKind::GenericConv
        );
    }

    /// An `addmm [141,512]x[512,512]` that cuBLAS ran in an `align8`
    /// kernel is aligned: M = 141 sets no operand's alignment.
    #[test]
    fn the_row_count_is_no_alignment() {
        let shape = OpShape::Gemm {
            m: 141,
            n: 512,
            k: 512,
            ld: Some([512, 512]),
        };
        let aligned = classify(
            "void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_32x6_tn_align8>(T1::Params)",
        );
        assert_eq!(
            explain(&aligned, Category::Gemm, Verdict::Yes, Some(&shape)),
            None
        );
        // Without marks (nvjet), the leading dimensions decide, both ways.
        let unmarked = classify("nvjet_sm90_tst_128x64_64x8_1x2_h_bz_TNN");
        assert_eq!(
            explain(&unmarked, Category::Gemm, Verdict::Yes, Some(&shape)),
            None
        );
        let odd = OpShape::Gemm {
            m: 141,
            n: 512,
            k: 510,
            ld: Some([510, 512]),
        };
        let r = explain(&unmarked, Category::Gemm, Verdict::Yes, Some(&odd)).unwrap();
        assert_eq!(r.kind, ReasonKind::LowAlignment);
        assert!(r.text.contains("lda = 510"), "{}", r.text);
        // Transposed A: its leading dimension is M, which then matters.
        let transposed = OpShape::Gemm {
            m: 141,
            n: 512,
            k: 512,
            ld: Some([141, 512]),
        };
        assert!(explain(&unmarked, Category::Gemm, Verdict::Yes, Some(&transposed)).is_some());
        // Without strides: K and N, not M.
        let no_strides = OpShape::Gemm {
            m: 141,
            n: 512,
            k: 512,
            ld: None,
        };
        assert_eq!(
            explain(&unmarked, Category::Gemm, Verdict::Yes, Some(&no_strides)),
            None
        );
        // A low mark stays low whatever the shape.
        let align2 = classify(
            "void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_32x6_tn_align2>(T1::Params)",
        );
        assert!(explain(&align2, Category::Gemm, Verdict::Yes, Some(&shape)).is_some());
    }

    /// TF32/BF16 advice only where the GPU has them (sm 8.0+).
    #[test]
    fn fp32_advice_fits_the_architecture() {
        let text = |name: &str| {
            explain(&classify(name), Category::Gemm, Verdict::No, None)
                .unwrap()
                .text
        };
        let volta = text("volta_sgemm_128x64_nn");
        assert!(
            !volta.contains("TF32 is disabled") && !volta.contains("allow_tf32"),
            "{volta}"
        );
        assert!(volta.contains("sm 70") && volta.contains("FP16"), "{volta}");
        let ampere = text("ampere_sgemm_128x64_nn");
        assert!(ampere.contains("allow_tf32"), "{ampere}");
        let maxwell = text("maxwell_sgemm_128x64_nn");
        assert!(maxwell.contains("no Tensor Cores at all"), "{maxwell}");
    }

    #[test]
    fn non_matrix_kernels_need_no_reason() {
        let info = classify(
            "void at::native::vectorized_elementwise_kernel<(int)8, at::native::CUDAFunctor_add<c10::Half>, std::array<char *, (unsigned long)3>>(int, T2, T3)",
        );
        assert_eq!(explain(&info, Category::Elementwise, Verdict::No, None), None);
    }
}
