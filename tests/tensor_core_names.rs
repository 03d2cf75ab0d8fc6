//! The kernel-name grammar, family by family, on real kernel names: from
//! the sample traces (H100, nsys 2025.3), and as cuBLAS, cuDNN, CUTLASS,
//! TensorRT, PyTorch and Triton name their kernels in public profiles of
//! other GPUs (Volta, Turing, Ampere, Blackwell). The expected verdicts
//! follow the instruction each family is built on (HMMA/IMMA/GMMA vs FFMA,
//! HFMA2, DP4A), not the code under test.

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
            ("triton_poi_fused_add_0", Unknown),
            ("triton_tem_fused_addmm_0", Unknown),
            ("triton_red_fused__softmax_0", Unknown),
            ("__myl_bb0_1_ResTraMulAdd", Unknown),
            ("matmul_kernel", Unknown),
        ],
    );
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
