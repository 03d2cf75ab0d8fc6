//! TR401 no-tensor-cores.

use super::tensor_core_common as common;
use crate::analysis::kernels::KernelRow;
use crate::analysis::tensor_core::names::Verdict;
use crate::analysis::tensor_core::reason::{Reason, ReasonKind};
use crate::declare_rule;
use crate::findings::facts;
use crate::findings::{Context, Finding};

declare_rule! {
    /// Matrix work (GEMM, convolution, attention) that ran on CUDA cores
    /// although Tensor Cores could run it: FP32 GEMMs and convolutions with
    /// TF32 disabled (cuBLAS `..._ffma_...` and CUTLASS `simt_sgemm` kernels,
    /// `xmma` in the name notwithstanding), FP16/BF16 or INT8 layers the
    /// library computed on CUDA cores, cuDNN's generic CUDA-core convolutions
    /// (`implicit_convolve_sgemm`, chosen for layers no Tensor Core kernel
    /// fits, typically a 3-channel input in NCHW), FP64 math, and kernels
    /// built for GPUs without Tensor Cores. One finding per cause, with the
    /// kernels, their time and how the verdict is known (counters, GPU
    /// metrics or the kernel name).
    ///
    /// Not reported here: depthwise/grouped convolutions (see depthwise-conv)
    /// and matrix-vector or decode-attention kernels, which are bound by
    /// memory bandwidth and would not gain from Tensor Cores.
    ///
    /// Time at stake is half the kernels' time: Tensor Cores have 8x (TF32)
    /// to 16x (FP16) the FP32 CUDA-core peak on A100/H100; assuming only 2x
    /// keeps the estimate safe for memory-bound layers. Severity: error from
    /// 25% of the window at stake, warning from 5%, info below.
    pub struct NoTensorCores {
        name: "no-tensor-cores",
        code: "TR401",
        summary: "GEMM, convolution or attention kernels that ran on CUDA cores (FP32 without TF32, precision or kernel choice)",
    }
}

const KINDS: [ReasonKind; 7] = [
    ReasonKind::Fp32NoTf32,
    ReasonKind::HalfOnCudaCores,
    ReasonKind::Int8OnCudaCores,
    ReasonKind::GenericConv,
    ReasonKind::Fp64,
    ReasonKind::OldArch,
    ReasonKind::CudaCoreChoice,
];

fn headline(kind: ReasonKind) -> (&'static str, &'static str) {
    match kind {
        ReasonKind::Fp32NoTf32 => (
            "FP32 matrix work on CUDA cores (TF32 off)",
            "Allow TF32: torch.backends.cuda.matmul.allow_tf32 = True and torch.backends.cudnn.allow_tf32 = True (or torch.set_float32_matmul_precision('high')), or run these layers in FP16/BF16 with autocast; in TensorRT build with --tf32/--fp16.",
        ),
        ReasonKind::HalfOnCudaCores => (
            "FP16/BF16 matrix work on CUDA cores",
            "The library found no Tensor Core kernel for these layers: make dimensions and channel counts multiples of 8 and prefer channels_last (NHWC) layouts.",
        ),
        ReasonKind::Int8OnCudaCores => (
            "INT8 matrix work on CUDA cores (DP4A/SIMT)",
            "IMMA kernels need channel counts in multiples of 16/32 and NHWC or NC32HW32 layouts; check the quantized layers' shapes and formats.",
        ),
        ReasonKind::GenericConv => (
            "convolutions on cuDNN's generic CUDA-core kernels",
            "cuDNN falls back to implicit_convolve_sgemm-style kernels when no Tensor Core kernel fits, typically for a layer with very few input channels in NCHW: run the model channels_last (NHWC) so cuDNN can pad, or pad the input channels to 4 or 8.",
        ),
        ReasonKind::Fp64 => (
            "FP64 matrix work on CUDA cores",
            "Use FP32/TF32 or lower precision where the model allows it.",
        ),
        ReasonKind::OldArch => (
            "kernels built for GPUs without Tensor Cores",
            "The library has no newer kernel for these layers: update it or change the layer's data type or shape.",
        ),
        _ => (
            "matrix work on CUDA cores",
            "Check these layers' data types (FP32 without TF32?) and that their dimensions are multiples of 8.",
        ),
    }
}

/// The headline and fix for the trace's GPU: TF32 and BF16 Tensor Cores
/// start with sm 8.0 (Volta and Turing have FP16, INT8 from sm 7.2), and
/// GPUs before sm 7.0 have none.
fn fitted(kind: ReasonKind, arch: Option<u32>) -> (&'static str, &'static str) {
    match (kind, arch) {
        (ReasonKind::Fp32NoTf32, Some(a)) if a < 70 => (
            "FP32 matrix work on a GPU without Tensor Cores",
            "This GPU (before sm 7.0) has no Tensor Cores: only less work (smaller or fewer layers) or a newer GPU speeds these layers up.",
        ),
        (ReasonKind::Fp32NoTf32, Some(a)) if a < 80 => (
            "FP32 matrix work on CUDA cores (no TF32 on this GPU)",
            "This GPU (sm 7.x) has Tensor Cores for FP16 only, no TF32 or BF16: run these layers in FP16 with torch.autocast(dtype=torch.float16) (a GradScaler for training), or build TensorRT engines with --fp16.",
        ),
        _ => headline(kind),
    }
}

impl NoTensorCores {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        let missed = common::rows_with_reason(cx, |r: &KernelRow, why: &Reason| {
            r.tensor_core == Verdict::No && r.category.is_matrix() && KINDS.contains(&why.kind)
        });
        let mut out = Vec::new();
        for kind in KINDS {
            let rows: Vec<_> = missed.iter().filter(|(_, w)| w.kind == kind).cloned().collect();
            if rows.is_empty() {
                continue;
            }
            let (what, fix) = fitted(kind, crate::analysis::tensor_core::gpu_arch(cx.trace));
            let title = format!(
                "{what}: {} in {} kernel(s), largest {}",
                facts::per_iteration_label(cx, common::time(&rows)),
                rows.len(),
                common::top_name(&rows)
            );
            let cause = vec![("cause", serde_json::json!(kind))];
            out.push(common::finding(self, cx, &rows, title, cause, None, fix));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_fits_the_gpu() {
        let (_, v100) = fitted(ReasonKind::Fp32NoTf32, Some(70));
        assert!(!v100.contains("allow_tf32") && v100.contains("FP16"), "{v100}");
        let (_, t4) = fitted(ReasonKind::Fp32NoTf32, Some(75));
        assert_eq!(t4, v100);
        let (_, a100) = fitted(ReasonKind::Fp32NoTf32, Some(80));
        assert!(a100.contains("allow_tf32"), "{a100}");
        let (_, unknown) = fitted(ReasonKind::Fp32NoTf32, None);
        assert_eq!(unknown, a100);
        let (_, p100) = fitted(ReasonKind::Fp32NoTf32, Some(60));
        assert!(p100.contains("no Tensor Cores"), "{p100}");
    }
}
