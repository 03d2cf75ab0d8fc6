//! The kernel-name grammar, family by family, on real kernel names: from
//! the sample traces (H100, nsys 2025.3), and as cuBLAS, cuDNN, CUTLASS,
//! TensorRT, PyTorch and Triton name their kernels in public profiles of
//! other GPUs (Volta, Turing, Ampere, Blackwell). The expected verdicts
//! follow the instruction each family is built on (HMMA/IMMA/GMMA vs FFMA,
//! HFMA2, DP4A), not the code under test.

use trace_report::analysis::category::{Category, categorize};
use trace_report::analysis::tensor_core::names::{Miss, Precision, Verdict, classify};

fn check(family: &str, cases: &[(&str, Verdict)]) {
    for (name, want) in cases {
        let got = classify(name);
        assert_eq!(got.verdict, *want, "{family}: {name} ({})", got.rule);
    }
}

use Verdict::{No, Unknown, Yes};

#[test]
fn hopper_nvjet_wgmma_and_sdpa() {
    check(
        "hopper",
        &[
            ("nvjet_sm90_hsh_256x128_64x4_1x2_h_bz_coopA_NNT", Yes),
            ("nvjet_sm90_hsh_128x256_64x4_2x1_v_ssched_bz_coopA_TNN", Yes),
            ("nvjet_tst_192x192_64x4_2x1_v_bz_coopB_bias_TNN", Yes),
            ("nvjet_sm100_tst_64x16_64x16_2x4_2cta_h_bz_splitK_TNT", Yes),
            (
                "nvjet_sm120_tst_mma_64x64x128_3_32x32x128_tmaAB_alignCD4_bz_TNNN",
                Yes,
            ),
            (
                "sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x128x64_warpgroupsize1x1x1_g1_execute_segment_k_off_kernel__5x_cudnn",
                Yes,
            ),
            (
                "sm90_xmma_fprop_image_first_layer_f16f16_f32_f16_nhwckrsc_nhwc_hmma_k64c4r7s7_stride2x2_tile16x64x64_tensor1688_execute_kernel_kernel__5x_cudnn",
                Yes,
            ),
            (
                "cudnn_generated_fort_native_sdpa_sm90_flash_fprop_wgmma_f16_knob_7_64x128x64_4x1x1_cga1x1x1_kernel0_0",
                Yes,
            ),
        ],
    );
    assert_eq!(
        classify("nvjet_sm90_hsh_256x128_64x4_1x2_h_bz_coopA_NNT").precision,
        Some(Precision::Fp16)
    );
    assert_eq!(
        classify("nvjet_tst_192x192_64x4_2x1_v_bz_coopB_bias_TNN").precision,
        Some(Precision::Bf16)
    );
}

#[test]
fn ampere_sm80_16816_and_tf32() {
    check(
        "ampere",
        &[
            (
                "void cutlass::Kernel2<cutlass_80_tensorop_f16_s16816gemm_f16_256x128_64x3_tn_align2>(T1::Params)",
                Yes,
            ),
            (
                "sm80_xmma_fprop_implicit_gemm_indexed_wo_smem_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x32x16_stage1_warpsize4x1x1_g1_tensor16x8x16_aligna2_alignc8_execute_kernel__5x_cudnn",
                Yes,
            ),
            (
                "void cutlass__5x_cudnn::Kernel<cutlass_tensorop_f16_s16816fprop_optimized_f16_128x128_32x5_nhwc_align8>(T1::Params)",
                Yes,
            ),
            (
                "void cutlass__5x_cudnn::Kernel<cutlass_tensorop_s1688fprop_optimized_tf32_256x64_16x4_nhwc_align4>(T1::Params)",
                Yes,
            ),
            ("ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_32x5_tn", Yes),
            (
                "trt_ampere_h16816cudnn_64x128_sliced1x2_ldg8_relu_exp_stages_64x4_medium_nhwc_tn",
                Yes,
            ),
            ("ampere_sgemm_32x32_sliced1x4_tn", No),
            ("_5x_cudnn_ampere_scudnn_128x32_relu_interior_nn_v1", No),
        ],
    );
    let tf32 = classify(
        "void cutlass__5x_cudnn::Kernel<cutlass_tensorop_s1688fprop_optimized_tf32_256x64_16x4_nhwc_align4>(T1::Params)",
    );
    assert_eq!(tf32.precision, Some(Precision::Tf32));
    // TF32 align4 is 16 bytes: full speed.
    assert!(!tf32.low_alignment());
    assert_eq!(classify("ampere_sgemm_32x32_sliced1x4_tn").miss, Some(Miss::Fp32));
}

#[test]
fn turing_1688_and_volta_884() {
    check(
        "turing/volta",
        &[
            (
                "void cutlass::Kernel2<cutlass_75_tensorop_f16_s1688gemm_f16_128x128_nn_align1>(T1::Params)",
                Yes,
            ),
            ("turing_h1688gemm_128x128_ldg8_nt", Yes),
            ("trt_turing_h1688gemm_256x64_ldg8_relu_stages_32x1_nn_v1", Yes),
            ("volta_h884gemm_64x128_ldg8_nn", Yes),
            ("volta_fp16_s884gemm_fp16_256x128_ldg8_f2f_nn", Yes),
            ("volta_sgemm_128x64_nn", No),
            ("volta_scudnn_128x32_relu_medium_nn_v1", No),
            ("maxwell_scudnn_128x32_relu_interior_nn", No),
        ],
    );
    assert_eq!(classify("volta_h884gemm_64x128_ldg8_nn").arch, Some(70));
    assert_eq!(classify("turing_h1688gemm_128x128_ldg8_nt").arch, Some(75));
}

#[test]
fn int8_imma_and_dp4a() {
    check(
        "int8",
        &[
            (
                "void cutlass::Kernel2<cutlass_80_tensorop_i16832gemm_s8_128x256_128x3_tn_align16>(T1::Params)",
                Yes,
            ),
            (
                "turing_fp16_i8816cudnn_int8_256x64_ldg16_relu_singleBuffer_small_nt_v1",
                Yes,
            ),
            ("ampere_first_layer_filter3x3_imma", Yes),
            ("ampere_igemm_int8_128x128_ldg4_nt_v0", No),
            ("ampere_fp32_icudnn_int8x4_128x64_relu_medium_nn_v1", No),
        ],
    );
    let i8 = classify(
        "void cutlass::Kernel2<cutlass_80_tensorop_i16832gemm_s8_128x256_128x3_tn_align16>(T1::Params)",
    );
    assert_eq!((i8.precision, i8.alignment), (Some(Precision::Int8), Some(16)));
    assert!(!i8.low_alignment(), "align16 INT8 is 16 bytes");
    assert_eq!(
        classify("turing_fp16_i8816cudnn_int8_256x64_ldg16_relu_singleBuffer_small_nt_v1").precision,
        Some(Precision::Int8)
    );
    assert_eq!(
        classify("ampere_fp32_icudnn_int8x4_128x64_relu_medium_nn_v1").miss,
        Some(Miss::Int8OnCudaCores)
    );
}

#[test]
fn fp32_ffma_and_simt_even_when_named_xmma() {
    let sgemm = "sm80_xmma_gemm_f32f32_f32f32_f32_nn_n_tilesize256x128x8_stage3_warpsize4x2x1_ffma_aligna4_alignc4_execute_kernel__5x_cublas";
    check(
        "fp32",
        &[
            (sgemm, No),
            (
                "void cutlass::Kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>(T1::Params)",
                No,
            ),
            ("sgemm_largek_lds64", No),
            (
                "void magma_sgemmEx_kernel<float, float, float, false, false, 6, 3, 5, 3, 3>(int, int, int, Tensor, int, Tensor, int, Tensor, int, int, int, const float *, const float *, float, float, int)",
                No,
            ),
        ],
    );
    assert_eq!(classify(sgemm).miss, Some(Miss::Fp32));
    assert_eq!(
        classify("void cutlass::Kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>(T1::Params)").miss,
        Some(Miss::Fp32)
    );
}

#[test]
fn attention_flash_fmha_and_decode() {
    check(
        "attention",
        &[
            (
                "void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<...>>(...)",
                Yes,
            ),
            (
                "void flash::flash_fwd_kernel<Flash_fwd_kernel_traits<(int)128, (int)128, (int)64, (int)4, (bool)0, (bool)0, cutlass::bfloat16_t, Flash_kernel_traits<(int)128, (int)128, (int)64, (int)4, cutlass::bfloat16_t>>, (bool)0, (bool)0>(Flash_fwd_params)",
                Yes,
            ),
            (
                "fmha_cutlassF_f16_aligned_64x64_rf_sm80(PyTorchMemEffAttention::AttentionKernel<cutlass::half_t, cutlass::arch::Sm80, true, 64, 64, 64, true, true>::Params)",
                Yes,
            ),
            (
                "fmha_cutlassF_f32_aligned_64x64_rf_sm80(PyTorchMemEffAttention::AttentionKernel<float, cutlass::arch::Sm80, true, 64, 64, 64, true, true>::Params)",
                Yes,
            ),
            ("fmha_cutlassF_f32_aligned_64x64_rf_sm75", No),
            (
                "void vllm::paged_attention_v1_kernel<unsigned short, unsigned short, (int)128, (int)16, (int)128, (vllm::Fp8KVCacheDataType)0, (bool)0>(...)",
                No,
            ),
        ],
    );
    assert_eq!(
        classify("fmha_cutlassF_f32_aligned_64x64_rf_sm80").precision,
        Some(Precision::Tf32)
    );
}

#[test]
fn conv_on_cuda_cores_depthwise_grouped_gemv() {
    check(
        "cuda-core families",
        &[
            (
                "void implicit_convolve_sgemm<__half, __half, (int)128, (int)5, (int)5, (int)3, (int)3, (int)3, (int)1, (bool)0, (bool)0, (bool)1>(int, int, int, const T1 *, int, T2 *, const T1 *, kernel_conv_params, unsigned long long, int, float, float, int, const T2 *, const T2 *, bool, int, int)",
                No,
            ),
            (
                "void precomputed_convolve_sgemm<__half, (int)1024, (int)5, (int)5, (int)4, (int)3, (int)3, (int)1, (bool)0>(int, int, int, const T1 *, int, T1 *, const T1 *, kernel_conv_params, unsigned long long, int, float, float, int, const T1 *, const T1 *, int *)",
                No,
            ),
            (
                "void at::native::<unnamed>::conv_depthwise2d_forward_kernel<(int)3, c10::Half, int>(...)",
                No,
            ),
            (
                "void cudnn::cnn::conv2d_grouped_direct_kernel<(bool)0, (bool)1, (bool)0, (bool)0, (bool)0, (bool)0, int, float, float, float, float, float, float>(...)",
                No,
            ),
            (
                "void gemv2T_kernel_val<int, int, float, float, float, float, 128, 16, 2, 2, false, false, cublasGemvParams<cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float>, float> >(...)",
                No,
            ),
            (
                "void internal::gemvx::kernel<int, int, __half, __half, __half, float, false, true, true, false, 6, false, cublasGemvParamsEx<int, cublasGemvTensorStridedBatched<const __half>, cublasGemvTensorStridedBatched<const __half>, cublasGemvTensorStridedBatched<__half>, float>>(T13)",
                No,
            ),
        ],
    );
    assert_eq!(
        classify("void at::native::<unnamed>::conv_depthwise2d_forward_kernel<(int)3, c10::Half, int>(...)")
            .miss,
        Some(Miss::Depthwise)
    );
    assert_eq!(
        classify("void cudnn::cnn::conv2d_grouped_direct_kernel<(bool)0, (bool)1, (bool)0, (bool)0, (bool)0, (bool)0, int, float, float, float, float, float, float>(...)").miss,
        Some(Miss::Grouped)
    );
    assert_eq!(
        classify("void implicit_convolve_sgemm<__half, __half, (int)128, (int)5, (int)5, (int)3, (int)3, (int)3, (int)1, (bool)0, (bool)0, (bool)1>(int)").precision,
        Some(Precision::Fp16)
    );
}

#[test]
fn tensorrt_tactics() {
    check(
        "tensorrt",
        &[
            (
                "sm80_xmma_fprop_implicit_gemm_f16f16_f16f16_f16_nhwckrsc_nhwc_tilesize256x128x32_stage3_warpsize4x2x1_g1_tensor16x8x16_t1r3s3",
                Yes,
            ),
            (
                "sm75_xmma_fprop_implicit_gemm_f16f16_f16f16_f16_nhwckrsc_nhwc_tilesize128x128x32_stage1_warpsize2x2x1_g1_tensor16x8x8_t1r1s1",
                Yes,
            ),
            (
                "sm80_xmma_fprop_implicit_gemm_interleaved_i8i8_i8i32_f32_nchw_vect_c_32kcrs_vect_c_32_nchw_vect_c_32_tilesize128x128x64_stage4_warpsize2x2x1_g1_tensor16x8x32_t1r3s3",
                Yes,
            ),
            (
                "trt_turing_cutlass_image_network_first_layer_hmma_fprop_f16f16f32_nhwc_nhwc_k64r7s7c4_stride2x2",
                Yes,
            ),
            (
                "sm70_xmma_fprop_conv1x1_i8f32_f32_f32_nchw_vect_c_4kcrs_vect_c_4_nchw_simt_small_batch_bias_relu",
                No,
            ),
            // A TensorRT pooling tactic: not matrix work, built for sm50.
            ("sm50_xmma_pooling_fw_4d_FP16FP32NHWC_Average_FastDiv_CAlign8", No),
        ],
    );
    assert_eq!(
        classify("sm80_xmma_fprop_implicit_gemm_interleaved_i8i8_i8i32_f32_nchw_vect_c_32kcrs_vect_c_32_nchw_vect_c_32_tilesize128x128x64_stage4_warpsize2x2x1_g1_tensor16x8x32_t1r3s3").precision,
        Some(Precision::Int8)
    );
}

#[test]
fn helpers_and_non_matrix_kernels_are_not_tensor_core() {
    check(
        "non-matrix",
        &[
            (
                "void cublasLt::splitKreduce_kernel<(int)32, (int)16, int, float, float, float, float, (bool)0, float, float, float, (bool)1, (bool)0, (bool)0, (bool)0>(cublasLt::cublasSplitKParams<T6>, const T4 *, const T10 *, T9 *, T5 *, const T6 *, const T6 *, const T11 *, const T4 *, T11 *, void *, long, T6 *, int *, T6 *, T6 *, const T6 *, const T6 *, const T6 *, const T6 *, const T6 *)",
                No,
            ),
            (
                "void cask_plugin__5x_cudnn::xmma__5x_cudnn::init_device_workspace_kernel<xmma__5x_cudnn::implicit_gemm::fprop::Warp_specialized_params_non_template<xmma__5x_cudnn::Grid_constant_params>>(T1, bool)",
                No,
            ),
            (
                "void cudnn::engines_precompiled::nchwToNhwcKernel<__half, __half, float, (bool)0, (bool)1, (cudnnKernelDataType_t)0>(cudnn::engines_precompiled::nchw2nhwc_params_t<T3>, const T1 *, T2 *)",
                No,
            ),
            (
                "void at::native::vectorized_elementwise_kernel<(int)8, at::native::CUDAFunctor_add<c10::Half>, std::array<char *, (unsigned long)3>>(int, T2, T3)",
                No,
            ),
            (
                "void <unnamed>::softmax_warp_forward<c10::Half, c10::Half, float, (int)7, (bool)0, (bool)0>(T2 *, const T1 *, int, int, int, const bool *, int, bool)",
                No,
            ),
            (
                "ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<(unsigned long)4096>)",
                No,
            ),
        ],
    );
    assert!(classify("void cublasLt::splitKreduce_kernel<(int)32>(int)").helper);
}

#[test]
fn generated_and_unrecognised_code_is_unknown() {
    check(
        "unknown",
        &[
            // Inductor templates are matrix work; only counters can tell.
            ("triton_tem_fused_addmm_0", Unknown),
            ("triton_tem_fused_mm_1", Unknown),
            ("triton_tem_fused_bmm_2", Unknown),
            ("__myl_bb0_1_ResTraMulAdd", Unknown),
            ("matmul_kernel", Unknown),
            // XLA's Triton GEMM fusion: matrix work of unnamed type.
            ("gemm_fusion_dot_1", Unknown),
            // Triton kernels that name no kind.
            ("_matmul_ogs_NNT_bf16xbf16xmxfp4_128x128x128x1_swiglu", Unknown),
            ("attn_fwd", Unknown),
        ],
    );
    for name in ["triton_tem_fused_mm_1", "gemm_fusion_dot_1", "attn_fwd"] {
        assert!(categorize(name).is_matrix(), "{name}");
    }
}

/// TorchInductor's pointwise/reduction kinds and XLA's loop/input fusions
/// have no matrix instructions, whatever ops they fused.
#[test]
fn compiler_kinds_without_matrix_instructions_are_no() {
    check(
        "compilers",
        &[
            ("triton_poi_fused_add_0", No),
            ("triton_poi_fused__unsafe_view_mul_silu_2", No),
            ("triton_red_fused__softmax_0", No),
            ("triton_red_fused_add_mean_mul_pow_rsqrt_0", No),
            ("triton_per_fused_native_layer_norm_0", No),
            ("triton_for_fused_1", No),
            // A tiny mm lowered to multiply-and-sum is still no MMA.
            ("triton_red_fused_mm_0", No),
            ("loop_multiply_fusion_2", No),
            ("input_reduce_fusion_2", No),
            ("input_concatenate_fusion", No),
            ("loop_dynamic_slice_fusion", No),
            ("wrapped_transpose", No),
            ("triton_softmax_2", No),
        ],
    );
    assert_eq!(categorize("triton_red_fused_mm_0"), Category::Reduction);
    assert_eq!(categorize("triton_poi_fused_add_0"), Category::Elementwise);
    assert_eq!(categorize("loop_multiply_fusion_2"), Category::Elementwise);
    assert_eq!(categorize("input_reduce_fusion_2"), Category::Reduction);
}

/// AMD: Tensile's `MI` (matrix instruction), Composable Kernel's xdlops and
/// MIOpen's MISA wave tiles are matrix cores; their VALU variants are not.
#[test]
fn amd_matrix_cores_by_naming_scheme() {
    check(
        "amd",
        &[
            // hipBLASLt on MI300X (gfx942), BF16.
            (
                "Cijk_Alik_Bljk_BBS_BH_Bias_HA_S_SAV_UserArgs_MT256x192x64_MI16x16x1_SN_LDSB1_AFC1_AFEM1_AFEM1_ASEM1_CLR1_CADS0_DTVA0_DTVB0_EPS0_FDSI0_GRPM1_GRVWA8_GRVWB8_GSUAMB_GLS0_ISA942_IU1_K1",
                Yes,
            ),
            // rocBLAS on MI250 (gfx90a), FP32 on MFMA.
            (
                "Cijk_Ailk_Bjlk_SB_Bias_AS_SAV_UserArgs_MT64x16x16_MI16x16x1_SN_LDSB0_AFC1_AFEM1_AFEM1_ASEM1_CLR1_CADS0_EPS0_GRVWA1_GRVWB1_GSUAMB_ISA90a_IU1_K1",
                Yes,
            ),
            // Older Tensile long names: MI with four numbers.
            (
                "Cijk_Ailk_Bljk_HHS_BH_MT128x128x32_MI32x32x8x1_SE_1LDSB0_APM1_AF0EM8_AF1EM1_AMAS3_ASE_ASGT_ASLT_ASAE01_ASCE01_ASEM8_BL1_DTL0_ETSP_EPS1_FL0_GRVW8_GSU1_ISA908_IU1_K1_TT4_64_WG32_4_1",
                Yes,
            ),
            // A Tensile thread-tile (VALU) kernel for a GPU without MFMA.
            (
                "Cijk_Ailk_Bljk_SB_MT64x64x16_SE_APM1_AF0EM8_AF1EM1_AMAS3_ASEM8_BL1_GRVW4_GSU1_ISA1030_IU1_K1_TT4_4_WG16_16_1",
                No,
            ),
            (
                "void ck::kernel_gemm_xdl_cshuffle_v3<ck::GridwiseGemm_xdl_cshuffle_v3<ck::tensor_layout::gemm::RowMajor, ck::half_t, float>, true, 2>(ck::GridwiseGemm_xdl_cshuffle_v3::Argument)",
                Yes,
            ),
            (
                "void ck::kernel_gemm_xdlops_v2r3<ck::GridwiseGemm_k0mk1_k0nk1_mn_xdlops_v2r3<256, ck::half_t, float>>(ck::half_t const*, ck::half_t const*, ck::half_t*)",
                Yes,
            ),
            (
                "void ck::kernel_gemm_wmma<ck::GridwiseGemmMultipleD_k0mk1_k0nk1_mn_wmma<ck::half_t>>(ck::half_t const*)",
                Yes,
            ),
            (
                "void ck::kernel_gemm_dl_v1r3<ck::GridwiseGemmDl_km_kn_mn_v1r3<256, ck::half_t, float>>(ck::half_t const*)",
                No,
            ),
            (
                "void ck_tile::kentry<256, 2, ck_tile::GemmKernel<ck_tile::GemmPipelineAgBgCrCompV3<ck_tile::WarpGemmMfmaF16F16F32M32N32K8>, ck_tile::CShuffleEpilogue<float>>>(ck_tile::GemmKernelArgs)",
                Yes,
            ),
            (
                "void ck_tile::kentry<2, ck_tile::FmhaBatchPrefillWithPagedKVCacheKernel<ck_tile::BlockFmhaBatchPrefillPipelineQRKSVSAsync<ck_tile::BlockFmhaBatchPrefillPipelineProblem<std::bfloat16_t, std::bfloat16_t, float>>>>(ck_tile::FmhaFwdKargs)",
                Yes,
            ),
            (
                "igemm_fwd_gtcx3_nhwc_fp16_bx0_ex0_bt128x128x32_wt32x32x8_ws1x1_wr2x2_ta1x8x2x1_1x4x1x64_tb1x8x2x1_1x4x1x64",
                Yes,
            ),
            (
                "igemm_bwd_gtcx35_nhwc_fp32_bx0_ex1_bt256x128x16_wt32x32x2_ws2x1_wr2x2",
                Yes,
            ),
            (
                "igemm_fwd_gtc_nchw_fp32_bx0_ex1_bt128x128x16_tt8x8_gm2x4x4_gn2x4x4_ta1x1x4x1_1x16x1x16",
                No,
            ),
            (
                "gridwise_convolution_implicit_gemm_v4r4_xdlops_nchw_kcyx_nkhw",
                Yes,
            ),
            ("gridwise_convolution_implicit_gemm_v4r4_nchw_kcyx_nkhw", No),
        ],
    );
    let i = classify("Cijk_Alik_Bljk_BBS_BH_Bias_HA_S_SAV_UserArgs_MT256x192x64_MI16x16x1_SN_LDSB1");
    assert_eq!(i.precision, Some(Precision::Bf16));
    let i = classify("Cijk_Ailk_Bjlk_SB_Bias_AS_SAV_UserArgs_MT64x16x16_MI16x16x1_SN_LDSB0");
    assert_eq!(i.precision, Some(Precision::Fp32));
    // A GEMM library kernel is a GEMM, whatever its template arguments say.
    assert_eq!(
        categorize(
            "void ck::kernel_gemm_xdl_cshuffle_v3<ck::GridwiseGemm_xdl_cshuffle_v3<ck::half_t>, true, 2>(int)"
        ),
        Category::Gemm
    );
    assert_eq!(
        categorize("Cijk_Alik_Bljk_BBS_BH_Bias_HA_S_SAV_UserArgs_MT256x192x64_MI16x16x1_SN_LDSB1"),
        Category::Gemm
    );
    assert_eq!(
        categorize("igemm_fwd_gtcx3_nhwc_fp16_bx0_ex0_bt128x128x32_wt32x32x8"),
        Category::Conv
    );
}

/// Elementwise kernels whose names merely contain `TensorOp` or `flash`.
#[test]
fn tensorop_and_flash_inside_other_words_are_not_matrix_work() {
    check(
        "false friends",
        &[
            ("SubTensorOpWithScalar1d", No),
            ("SubTensorOpWithScalar4d", No),
            ("Op2dTensorGeneric", No),
            (
                "void vllm::reshape_and_cache_flash_kernel<__hip_bfloat16, __hip_bfloat16, (vllm::Fp8KVCacheDataType)0>(__hip_bfloat16 const*, __hip_bfloat16 const*, __hip_bfloat16*, __hip_bfloat16*, long const*, int, int, int, int, int, int, float const*, float const*)",
                No,
            ),
            ("create_flashinfer_kv_indices_triton", No),
            // The real ones still are.
            (
                "void cutlass::Kernel2<cutlass_80_tensorop_f16_s16816gemm_f16_256x128_64x3_tn_align8>(T1::Params)",
                Yes,
            ),
            (
                "void cutlass::gemm::kernel::Gemm<cutlass::gemm::threadblock::MmaMultistage<cutlass::gemm::warp::MmaTensorOp<float>>>(int)",
                Yes,
            ),
        ],
    );
    for name in [
        "SubTensorOpWithScalar1d",
        "void vllm::reshape_and_cache_flash_kernel<__hip_bfloat16>(long const*)",
        "void (anonymous namespace)::store_kvcache<2048l, 4, false, long>((anonymous namespace)::StoreKVCacheParams)",
    ] {
        assert!(!categorize(name).is_matrix(), "{name}");
    }
    assert_eq!(
        categorize("void vllm::reshape_and_cache_flash_kernel<__hip_bfloat16>(long const*)"),
        Category::Copy
    );
}

/// A convolution library kernel never falls into `layout` because of a
/// word in its template arguments, nor a BLAS helper because of its
/// parameter types.
#[test]
fn categories_come_from_the_family_not_a_substring() {
    assert_eq!(
        categorize(
            "void cutlass_cudnn_train::Kernel<cutlass_cudnn_train::conv::kernel::ImplicitGemmConvolution<cutlass_cudnn_train::conv::threadblock::ImplicitGemmMultistage<cutlass::layout::TensorNHWC, cutlass::transform::threadblock::PredicatedTileAccessIterator<cutlass::layout::TensorCxRSKx<32>>, cutlass::epilogue::threadblock::Epilogue<cutlass::transform::TransposePitchLinearThreadMap>>>>(int)"
        ),
        Category::Conv
    );
    assert_eq!(
        categorize(
            "void scal_kernel<float, float, 1, false, 6, 5, 5, 3>(cublasTransposeParams<float>, float const*, float*, float const*)"
        ),
        Category::Other
    );
    // Real layout conversions stay layout.
    assert_eq!(
        categorize(
            "void cudnn::ops::nchwToNhwcKernel<float, float, float, false, true, (cudnnKernelDataType_t)2>(cudnn::ops::nchw2nhwc_params_t<float>, float const*, float*)"
        ),
        Category::Layout
    );
    assert_eq!(categorize("batched_transpose_32x16_dword"), Category::Layout);
}

#[test]
fn alignment_marks_the_slow_variants() {
    for (name, align, low) in [
        (
            "void cutlass::Kernel2<cutlass_75_tensorop_f16_s1688gemm_f16_64x64_tn_align1>(T1::Params)",
            1,
            true,
        ),
        (
            "void cutlass::Kernel2<cutlass_80_tensorop_f16_s16816gemm_f16_256x64_64x3_tn_align2>(T1::Params)",
            2,
            true,
        ),
        (
            "void cutlass__5x_cudnn::Kernel<cutlass_tensorop_f16_s16816fprop_optimized_f16_64x64_64x5_nhwc_align8>(T1::Params)",
            8,
            false,
        ),
        (
            "sm80_xmma_fprop_implicit_gemm_indexed_wo_smem_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x32x16_stage1_warpsize4x1x1_g1_tensor16x8x16_aligna2_alignc8_execute_kernel__5x_cudnn",
            2,
            true,
        ),
        ("fmha_cutlassF_f16_notaligned_64x64_rf_sm80", 1, true),
    ] {
        let i = classify(name);
        assert_eq!((i.alignment, i.low_alignment()), (Some(align), low), "{name}");
    }
}

#[test]
fn output_alignment_counts_in_the_output_type() {
    // TensorRT INT8 convolution with FP32 output: alignc4 is 16 bytes of FP32.
    let i = classify(
        "sm80_xmma_fprop_implicit_gemm_interleaved_i8f32_i8i32_f32_nchw_vect_c_32kcrs_vect_c_32_nchw_tilesize64x32x64_stage6_warpsize2x1x1_g1_tensor16x8x32_t1r1s1_alignc4_nchw",
    );
    assert_eq!(
        (i.precision, i.output, i.alignment_c),
        (Some(Precision::Int8), Some(Precision::Fp32), Some(4))
    );
    assert!(!i.low_alignment());
    // cuDNN FP16 convolution with an FP16 output aligned to 2 elements: 4 bytes.
    let i = classify(
        "sm80_xmma_fprop_implicit_gemm_indexed_wo_smem_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x16x64_stage1_warpsize4x1x1_g1_tensor16x8x16_alignc2_execute_kernel__5x_cudnn",
    );
    assert_eq!((i.alignment_ab, i.alignment_c), (None, Some(2)));
    assert!(i.low_alignment());
}
