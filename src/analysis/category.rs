//! What a kernel does, from its demangled name: vendor libraries and
//! frameworks name kernels by their role, so a handful of name patterns
//! sort most kernels of any model into a few families.
//!
//! The full demangled name is used, not the short name: CUTLASS kernels are
//! all called `Kernel` or `Kernel2`, and PyTorch's `elementwise_kernel`
//! says what it computes only in its template arguments
//! (`direct_copy_kernel_cuda` is a copy).

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Matrix multiplication (cuBLAS, CUTLASS, nvjet).
    Gemm,
    /// Convolution (cuDNN, CUTLASS implicit GEMM, direct and depthwise).
    Conv,
    /// Fused attention (flash, fmha, SDPA).
    Attention,
    /// Layout conversion: NCHW<->NHWC, transposes, TensorRT reformats.
    Layout,
    /// Kernels that only move data: concatenation, contiguous copies.
    Copy,
    Normalization,
    Softmax,
    /// Reductions, sorts, top-k.
    Reduction,
    Pooling,
    Elementwise,
    /// NCCL and other communication kernels.
    Communication,
    Other,
}

impl Category {
    pub fn label(self) -> &'static str {
        match self {
            Category::Gemm => "gemm",
            Category::Conv => "conv",
            Category::Attention => "attention",
            Category::Layout => "layout",
            Category::Copy => "copy",
            Category::Normalization => "normalization",
            Category::Softmax => "softmax",
            Category::Reduction => "reduction",
            Category::Pooling => "pooling",
            Category::Elementwise => "elementwise",
            Category::Communication => "communication",
            Category::Other => "other",
        }
    }

    /// Matrix-heavy work that Tensor Cores can run.
    pub fn is_matrix(self) -> bool {
        matches!(self, Category::Gemm | Category::Conv | Category::Attention)
    }
}

/// Patterns in priority order: the first match wins. Helpers of GEMMs and
/// convolutions come first: cuBLAS's split-K reduction is a reduction, and
/// cuDNN's workspace/index setup kernels carry `implicit_gemm` in their
/// template arguments without being matrix work. Then the matrix families
/// (attention, convolution, GEMM: a library's own naming), before any word
/// that might sit in their template arguments: Composable Kernel's GEMMs
/// carry `CShuffle`, CUTLASS's `TensorNHWC`, and neither is a layout
/// conversion. Conv comes before GEMM because cuDNN convolutions are
/// implicit GEMMs (`xmma_fprop_implicit_gemm`); layout and copy come before
/// elementwise because PyTorch runs copies as elementwise kernels.
static RULES: LazyLock<Vec<(Category, Regex)>> = LazyLock::new(|| {
    let rules: [(Category, &str); 15] = [
        (Category::Reduction, r"splitkreduce|reducesplitk|splitk_reduce"),
        (Category::Other, r"init_device_workspace|precompute_indices"),
        // cuBLASLt's separate bias/activation epilogue.
        (Category::Elementwise, r"epilogue::impl::"),
        (
            Category::Communication,
            r"nccl|rccl|all_?reduce|all_?gather|reduce_?scatter",
        ),
        // KV-cache writes of serving engines (vLLM `reshape_and_cache_flash`,
        // SGLang `store_kvcache`): copies, whatever attention backend they feed.
        (
            Category::Copy,
            r"reshape_and_cache|concat_and_cache|store_kvcache|copy_blocks_kernel",
        ),
        // FlashAttention by its own names (`flash_fwd_kernel`, `flash::`,
        // `FlashAttnFwdSm90`), FlashInfer's namespace, fused MHA (`fmha`,
        // CK's `FmhaFwdKernel`), SDPA, Triton's `attn_fwd`.
        (
            Category::Attention,
            r"flash_?(?:fwd|bwd|attn|attention|fprop|bprop|mla|decoding)|flash::|flashinfer::|fmha|sdpa|attention|_mha_|mha_fwd|mha_bwd|mmha|(?:^|[^a-z])attn_(?:fwd|bwd)",
        ),
        (
            Category::Conv,
            r"fprop|dgrad|wgrad|convolve|conv_?[123]d|depthwise|convolution|conv2d|_conv_|conv_kernel|winograd|implicit_?gemm|(?:^|_)(?:[a-z]{1,2}\d{0,5}|\d{3,5})cudnn_|^(?:void )?igemm_(?:fwd|bwd|wrw)",
        ),
        (
            Category::Gemm,
            // `gemm` but not FBGEMM's embedding kernels (`fbgemm_gpu::`);
            // Tensile/hipBLASLt `Cijk_*` (C[i,j,k] = sum_l A B).
            r"(?:^|[^b])gemm|nvjet|matmul|cublas|cutlass|gemv|_mm_|bmm|dot_kernel|(?:^|[^a-z])cijk_",
        ),
        (
            Category::Layout,
            r"nchwtonhwc|nhwctonchw|nhwcaddpadding|transpose|permute|reformat|tensortransform|converttensor|copypacked|shuffle",
        ),
        (
            Category::Copy,
            r"catarraybatchedcopy|cat_array|concat|direct_copy|copy_kernel|copy_device|memcpy",
        ),
        (
            Category::Normalization,
            r"batch_?norm|layer_?norm|group_?norm|rms_?norm|instance_?norm|_norm_|norm_kernel|bn_fw|bn_bw|normaliz",
        ),
        (Category::Softmax, r"softmax"),
        (Category::Reduction, r"reduce|topk|sort|scan_|argmax|argmin|cub::"),
        (Category::Pooling, r"pool"),
        (
            Category::Elementwise,
            // MIOpen's tensor ops (`SubTensorOpWithScalar4d`, `Op2dTensorGeneric`).
            r"elementwise|activation|relu|gelu|silu|sigmoid|tanh|fill|index|indices|gather|scatter|where|rotary|subtensorop|op[1-5]dtensor|optensor",
        ),
    ];
    rules
        .into_iter()
        .map(|(c, p)| {
            let re = RegexBuilder::new(p)
                .case_insensitive(true)
                .build()
                .expect("valid pattern");
            (c, re)
        })
        .collect()
});

/// The kernel without its parameter list: `void k<T>(cublasTransposeParams)`
/// gives `void k<T>`. Parameter types say what a kernel takes, not what it
/// does (cuBLAS's `scal_kernel` takes `cublasTransposeParams`); template
/// arguments stay, since PyTorch names its functors there.
fn without_params(name: &str) -> &str {
    let s = name.trim_end();
    if !s.ends_with(')') {
        return s;
    }
    let mut depth = 0i32;
    for (i, c) in s.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    // `operator()`: the list is the call operator's, keep it.
                    return if i > 0 { &s[..i] } else { s };
                }
            }
            _ => {}
        }
    }
    s
}

/// Compiler-generated kernels whose naming states their kind:
/// TorchInductor names a kernel `triton_<kind>_<fused ops>_<n>` with kind
/// `poi` (pointwise), `red` (reduction), `per` (persistent reduction), `for`
/// (foreach), `spl`/`sca` (scans) or `tem` (a template: mm, bmm, conv,
/// flex attention); XLA names a fusion `<kind>_<root op>_fusion` with kind
/// `loop` (elementwise) or `input` (reduction-rooted), and wraps single ops
/// as `wrapped_<op>`. Pointwise and reduction kinds are never matrix work,
/// whatever op they fused: a word like `mm` in them (Inductor lowers tiny
/// matmuls to multiply-and-sum) takes no matrix category.
fn generated(head: &str) -> Option<Category> {
    let lower = head.strip_prefix("void ").unwrap_or(head);
    let non_matrix = |fallback: Category| {
        RULES
            .iter()
            .find(|(c, re)| !c.is_matrix() && re.is_match(lower))
            .map_or(fallback, |(c, _)| *c)
    };
    if let Some(rest) = lower.strip_prefix("triton_") {
        let kind = rest.get(..4)?;
        return match kind {
            "poi_" | "for_" => Some(non_matrix(Category::Elementwise)),
            "red_" | "per_" | "spl_" | "sca_" => Some(non_matrix(Category::Reduction)),
            "tem_" => Some(
                RULES
                    .iter()
                    .find(|(c, re)| c.is_matrix() && re.is_match(lower))
                    .map_or(Category::Gemm, |(c, _)| *c),
            ),
            _ => None,
        };
    }
    let xla = |kind: &str| lower.starts_with(kind) && lower.contains("fusion");
    if xla("loop_") || lower.starts_with("wrapped_") {
        return Some(non_matrix(Category::Elementwise));
    }
    if xla("input_") {
        return Some(non_matrix(Category::Reduction));
    }
    None
}

/// The category of a kernel by its demangled name.
///
/// ```
/// use trace_report::analysis::category::{categorize, Category};
/// assert_eq!(categorize("nchwToNhwcKernel"), Category::Layout);
/// assert_eq!(categorize("sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc"), Category::Conv);
/// assert_eq!(categorize("nvjet_sm90_hsh_128x256_64x4_2x1_v_bz_coopA_TNN"), Category::Gemm);
/// assert_eq!(categorize("void cutlass::Kernel2<cutlass_80_tensorop_f16_s16816gemm_f16_256x128_64x3_tn_align2>(T1::Params)"), Category::Gemm);
/// assert_eq!(categorize("void at::native::<unnamed>::CatArrayBatchedCopy_vectorized<...>"), Category::Copy);
/// assert_eq!(categorize("Cijk_Alik_Bljk_BBS_BH_Bias_HA_S_SAV_UserArgs_MT256x192x64_MI16x16x1_SN_LDSB1"), Category::Gemm);
/// assert_eq!(categorize("triton_poi_fused__unsafe_view_mul_silu_2"), Category::Elementwise);
/// assert_eq!(categorize("loop_multiply_fusion_2"), Category::Elementwise);
/// ```
pub fn categorize(name: &str) -> Category {
    let head = without_params(name);
    if let Some(c) = generated(&head.to_ascii_lowercase()) {
        return c;
    }
    RULES
        .iter()
        .find(|(_, re)| re.is_match(head))
        .map_or(Category::Other, |(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_kernel_names() {
        for (name, cat) in [
            (
                "void cudnn::ops::nchwToNhwcKernel<__half, __half, float, false, true, (cudnnKernelDataType_t)0>(cudnn::ops::nchw2nhwc_params_t<float>, const T1 *, T2 *)",
                Category::Layout,
            ),
            (
                "void cudnn::ops::nhwcToNchwKernel<__half, __half, float, true, false, (cudnnKernelDataType_t)0>(cudnn::ops::nhwc2nchw_params_t<float>, const T1 *, T2 *)",
                Category::Layout,
            ),
            ("implicit_convolve_sgemm", Category::Conv),
            (
                "sm80_xmma_gemm_f32f32_f32f32_f32_nn_n_tilesize256x128x8_stage3_warpsize4x2x1_ffma_aligna4_alignc4_execute_kernel__5x_cublas",
                Category::Gemm,
            ),
            (
                "cudnn_generated_fort_native_sdpa_sm90_flash_fprop_wgmma_f16_knob_7_64x128x64_4x1x1_cga1x1x1_kernel0_0",
                Category::Attention,
            ),
            (
                "void at::native::batch_norm_transform_input_kernel<c10::Half, float, float, long, true>(...)",
                Category::Normalization,
            ),
            (
                "void at::native::<unnamed>::vectorized_layer_norm_kernel<c10::Half, float, (bool)0>(...)",
                Category::Normalization,
            ),
            (
                "void at::native::elementwise_kernel<(int)128, (int)4, void at::native::gpu_kernel_impl<at::native::direct_copy_kernel_cuda(at::TensorIteratorBase &)::[lambda() (instance 3)]>(...)",
                Category::Copy,
            ),
            (
                "void at::native::vectorized_elementwise_kernel<(int)8, at::native::CUDAFunctor_add<c10::Half>, std::array<char *, (unsigned long)3>>(int, T2, T3)",
                Category::Elementwise,
            ),
            (
                "void <unnamed>::softmax_warp_forward<c10::Half, c10::Half, float, (int)7, (bool)0, (bool)0>(...)",
                Category::Softmax,
            ),
            (
                "void at::native::reduce_kernel<(int)512, (int)1, at::native::ReduceOp<float>>(...)",
                Category::Reduction,
            ),
            (
                "void at::native::<unnamed>::max_pool_forward_nchw<c10::Half, float>(...)",
                Category::Pooling,
            ),
            (
                "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<(unsigned long)4096>)",
                Category::Communication,
            ),
            (
                "void at::native::<unnamed>::conv_depthwise2d_forward_kernel<(int)3, float, int>(...)",
                Category::Conv,
            ),
            (
                "void cudnn::cnn::conv2d_grouped_direct_kernel<false, true, false, false, 0, 0, int, float, float, float, float, float>(...)",
                Category::Conv,
            ),
            // TorchInductor's pointwise kind.
            ("triton_poi_fused_add_0", Category::Elementwise),
            // cuBLAS/cuDNN/TensorRT op names (TensorRT Engine Explorer tactics).
            (
                "ampere_h16816cudnn_128x128_ldg8_relu_exp_stages_64x3_large_nhwc_tn_v1",
                Category::Conv,
            ),
            ("volta_scudnn_128x64_relu_interior_nn_v1", Category::Conv),
            (
                "ampere_fp32_icudnn_int8x4_128x64_relu_medium_nn_v1",
                Category::Conv,
            ),
            (
                "turing_fp16_i8816cudnn_int8_128x128_ldg16_relu_small_nt_v1",
                Category::Conv,
            ),
            ("volta_sgemm_128x64_nn", Category::Gemm),
            (
                "void fbgemm_gpu::_offsets_range_cuda_kernel<long>(long, long, long const*, long*)",
                Category::Other,
            ),
            (
                "void magma_sgemmEx_kernel<float, float, float, false, false, 6, 3, 5, 3, 3>(int, int, int, Tensor, int, Tensor, int, Tensor, int, int, int, const float *, const float *, float, float, int)",
                Category::Gemm,
            ),
            (
                "void epilogue::impl::globalKernel<float, float, float, true, true>(int, int, long, float*, cublasLtEpilogue_t, int, float const*, long, float*, long, float const*, long)",
                Category::Elementwise,
            ),
            // Helpers are not matrix work.
            (
                "void cublasLt::splitKreduce_kernel<(int)32, (int)16, int, float, float, float, float, (bool)0, float, float, float, (bool)1, (bool)0, (bool)0, (bool)0>(cublasLt::cublasSplitKParams<T6>, const T4 *, const T10 *, T9 *, T5 *)",
                Category::Reduction,
            ),
            (
                "void cask_plugin__5x_cudnn::xmma__5x_cudnn::init_device_workspace_kernel<xmma__5x_cudnn::implicit_gemm::fprop::Warp_specialized_params_non_template<xmma__5x_cudnn::Grid_constant_params>>(T1, bool)",
                Category::Other,
            ),
            (
                "void cudnn::cnn::kern_precompute_indices<(bool)0>(int *, int, int, int, int, int)",
                Category::Other,
            ),
        ] {
            assert_eq!(categorize(name), cat, "{name}");
        }
    }
}
