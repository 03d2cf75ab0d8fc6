//! What a kernel's name says about Tensor Cores: a grammar of the names
//! vendor libraries and compilers give their kernels.
//!
//! The name is lower-cased and split into tokens at every character that is
//! not a letter or digit (`void cutlass::Kernel2<cutlass_80_tensorop_f16_s16816gemm_f16_256x128_64x3_tn_align2>`
//! gives `void cutlass kernel2 cutlass 80 tensorop f16 s16816gemm f16 256x128 64x3 tn align2`).
//! Rules are tried in this order; the first that decides wins:
//!
//! 1. **Generated code** is judged by the kind its compiler names, never by
//!    the ops it fused:
//!    - TorchInductor names kernels `triton_<kind>_<fused ops>_<n>`
//!      (`torch/_inductor/codegen/triton.py`, kinds from
//!      `get_kernel_category_by_source_code`): `poi` pointwise, `red`
//!      reduction, `per` persistent reduction, `for` foreach, `spl` split
//!      scan are loads, arithmetic and reductions without `tl.dot`: `no`
//!      (`triton_poi_fused__unsafe_view_mul_silu_2`,
//!      `triton_red_fused_add_mean_mul_pow_rsqrt_0`, even
//!      `triton_red_fused_mm_0`, a tiny matmul lowered to multiply-and-sum).
//!      `tem` is a template (`triton_tem_fused_mm_1`, `..._addmm_..`, `..._bmm_..`):
//!      matrix work whose `tl.dot` runs on MMA only for some types and
//!      shapes: `unknown`, for counters or GPU metrics to decide.
//!    - XLA names a fusion `<kind>_<root>_fusion` (`loop_multiply_fusion_2`,
//!      `input_reduce_fusion`) and single ops `wrapped_<op>`: elementwise and
//!      reduction emitters without dots: `no`. Its GEMMs are cuBLAS/cuDNN
//!      custom calls (named by those libraries, below) or Triton GEMM
//!      fusions (`gemm_fusion_dot_1`): matrix work, `unknown`.
//!    - Other Triton kernels, TensorRT Myelin (`__myl_bb0_1_...`) and TVM
//!      (`tvmgen_...`) say nothing about their math: `unknown` unless their
//!      name says a non-matrix category (XLA's `triton_softmax_2`).
//! 2. **AMD libraries** (the names rocprof and PyTorch on ROCm record):
//!    - Tensile (rocBLAS, hipBLASLt) names a solution `Cijk_<A>_<B>_<types>_..._MT<m>x<n>x<k>_MI<m>x<n>x<b>_...`
//!      (Tensile docs, "Kernel parameters": `MatrixInstruction` is the matrix
//!      instruction and its wave tiling; `MT` the macro tile): an `MI` with an
//!      MFMA/WMMA shape (`MI16x16x1`, `MI32x32x8x1`) is matrix cores: `yes`
//!      (`Cijk_Alik_Bljk_BBS_BH_Bias_HA_S_SAV_UserArgs_MT256x192x64_MI16x16x1_SN_...`).
//!      Without `MI`, a thread tile (`TT4_4`, `WG16_16_1`) is VALU FMA: `no`.
//!      The first type letter is the data type (`S` FP32, `H` FP16, `B`
//!      BF16, `D` FP64, `I8` INT8, `F8`/`B8` FP8; `SB` = FP32 with beta).
//!    - Composable Kernel: `xdl`/`xdlops` (XDLOPs = MFMA:
//!      `ck::kernel_gemm_xdl_cshuffle_v3`, `GridwiseGemm_..._xdlops_v2r3`),
//!      `wmma`, `mfma` in ck_tile's warp GEMMs (`WarpGemmMfmaF16F16F32M32N32K8`):
//!      `yes`; `dl` kernels (`ck::kernel_gemm_dl_v1r3`: dot instructions): `no`.
//!      ck_tile's fused attention (`ck_tile::FmhaFwdKernel`,
//!      `FmhaBatchPrefillWithPagedKVCacheKernel`) follows the `fmha` rule.
//!    - MIOpen's MISA implicit GEMMs (`igemm_fwd_gtcx2_nhwc_fp16_..._wt32x32x8_...`,
//!      built from `src/kernels/dynamic_igemm/igemm_gtc_xdlops_*`): `gtcx*`
//!      is the xdlops generator and `wt` the wave tile, an MFMA shape: `yes`;
//!      `gtc` without `x` with a thread tile `tt8x8`: `no`. MIOpen's HIP
//!      `gridwise_convolution_implicit_gemm_*` is `yes` with `xdlops`, `no` without.
//!    - Marks on any AMD kernel: `mfma`, `smfmac`, `xdlops`, `wmma`: `yes`.
//! 3. **Explicit math markers.** CUDA cores: `ffma`, `hfma2`, `simt`
//! 2. **Explicit math markers.** CUDA cores: `ffma`, `hfma2`, `simt`
//!    (`cutlass_80_simt_sgemm_256x128_8x4_nn_align1`,
//!    `sm80_xmma_gemm_f32f32_f32f32_f32_..._ffma_aligna4_alignc4_...` — "xmma" in
//!    the name, FFMA math), CUTLASS `MmaSimt`/`OpClassSimt`, CuTe `UniversalFMA`, and
//!    DP4A INT8 (`ampere_fp32_icudnn_int8x4_128x64_relu_medium_nn_v1`). Tensor Cores:
//!    `hmma`, `imma`, `gmma`/`wgmma`, `dmma`, `wmma`, `tensorop` as a word of
//!    its own (CUTLASS `cutlass_80_tensorop_...`, `OpClassTensorOp`,
//!    `MmaTensorOp`; not MIOpen's elementwise `SubTensorOpWithScalar4d`), xmma's
//!    `tensor16x8x16` / `tensor1688` / `warpgroupsize1x1x1` (Hopper warp-group MMA),
//!    PTX MMA shapes `m16n8k16`, CuTe atoms `SM80_16x8x16_F32F16F16F32_TN`, and the
//!    MMA instruction tiles of cuBLAS/cuDNN/CUTLASS op names: `h884gemm` (Volta),
//!    `s1688gemm`/`h1688gemm` (Turing; TF32 on Ampere), `s16816gemm`/`h16816cudnn`
//!    (Ampere), `i8816cudnn`/`i16832gemm` (INT8), `d884gemm` (FP64 DMMA). A name
//!    with markers of both kinds is `unknown`.
//! 4. **Helpers** of GEMMs and convolutions that are not matrix products:
//!    `splitKreduce_kernel`, cuBLASLt's separate epilogue (`epilogue::impl::globalKernel`),
//!    workspace initialisation, index precomputation: `no`.
//! 5. **Families** whose math follows from the family:
//!    - `nvjet_*` (cuBLAS on Hopper and Blackwell: `nvjet_sm90_hsh_...`,
//!      `nvjet_tst_...`): `yes`; the three letters after it are the types
//!      (`h` FP16, `t` BF16, `s` FP32 via TF32).
//!    - FlashAttention by its own names (`flash_fwd_kernel`, `flash::...`,
//!      `FlashAttnFwdSm90`), FlashInfer prefill: `yes`. A kernel that only
//!      mentions `flash` (vLLM's KV-cache write `reshape_and_cache_flash_kernel`,
//!      SGLang's `create_flashinfer_kv_indices_triton`) is what its category says.
//!    - PyTorch memory-efficient attention `fmha_cutlassF_<type>_..._sm<NN>`: `yes`
//!      for FP16/BF16 on sm70+ and FP32 on sm80+ (TF32 MMA), `no` otherwise;
//!      other `fmha` kernels with a 16/8-bit type (`fmha_v2_..._fp16_...`): `yes`.
//!    - Decode attention (`paged_attention_v1_kernel`, `masked_multihead_attention`):
//!      `no` (one query row per sequence, FMA dot products).
//!    - cuBLAS/cuDNN/TensorRT `smNN_xmma_*` without a marker: decided by the type
//!      signature (`f16f16_f16f32_f32`: inputs, then math type and accumulator): math
//!      in FP16/BF16/TF32/INT8/FP8 on an architecture that has MMA for it = `yes`,
//!      math in FP32 = `no`.
//!    - Legacy cuBLAS/cuDNN op names without an MMA tile: `volta_sgemm_128x64_nn`,
//!      `maxwell_hgemm_...`, `volta_scudnn_128x64_relu_interior_nn_v1`,
//!      `ampere_igemm_int8_...` = CUDA cores.
//!    - Convolutions on CUDA cores: cuDNN `implicit_convolve_sgemm`,
//!      `precomputed_convolve_sgemm`, `explicit_convolve_sgemm`, Winograd and the
//!      legacy dgrad/wgrad engines; depthwise (`conv_depthwise2d_forward_kernel`)
//!      and grouped (`conv2d_grouped_direct_kernel`) direct kernels.
//!    - Matrix-vector kernels (`gemv2T_kernel_val`, `gemvx`, `gemmk1_kernel`,
//!      `dot_kernel`): CUDA cores.
//! 6. **Old architectures**: a name built for sm < 70 (`sm50_`, `maxwell_`, `pascal_`)
//!    cannot use Tensor Cores: `no`.
//! 7. **Recognised non-matrix work** (layout, copy, normalization, softmax,
//!    reduction, pooling, elementwise, communication by
//!    [`category`](crate::analysis::category)) does not run MMA instructions: `no`.
//! 8. Anything else is `unknown`.
//!
//! Besides the verdict the grammar reads the precision, the architecture and
//! the operand alignment (`align2`, `aligna2_alignc8`, `notaligned`): a
//! Tensor Core kernel whose operands are aligned to fewer than 16 bytes is the
//! slow variant cuBLAS/cuDNN pick when a dimension is not a multiple of 8
//! (FP16) or 16 (INT8).

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::analysis::category::{Category, categorize};
pub use crate::analysis::verdicts::{Verdict, VerdictSource};

/// The numeric type of a kernel's matrix operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Fp64,
    Fp32,
    Tf32,
    Fp16,
    Bf16,
    Fp8,
    Int8,
    Int4,
}

impl Precision {
    pub fn label(self) -> &'static str {
        match self {
            Precision::Fp64 => "FP64",
            Precision::Fp32 => "FP32",
            Precision::Tf32 => "TF32",
            Precision::Fp16 => "FP16",
            Precision::Bf16 => "BF16",
            Precision::Fp8 => "FP8",
            Precision::Int8 => "INT8",
            Precision::Int4 => "INT4",
        }
    }

    /// Bits per element as stored in memory (TF32 is stored as FP32).
    pub fn bits(self) -> u32 {
        match self {
            Precision::Fp64 => 64,
            Precision::Fp32 | Precision::Tf32 => 32,
            Precision::Fp16 | Precision::Bf16 => 16,
            Precision::Fp8 | Precision::Int8 => 8,
            Precision::Int4 => 4,
        }
    }

    /// Elements per 16-byte vector: the alignment Tensor Core kernels load
    /// at full speed (8 for FP16, 16 for INT8, 4 for TF32).
    pub fn full_alignment(self) -> u32 {
        128 / self.bits()
    }

    /// The oldest architecture (sm number) with MMA instructions for it.
    fn min_tensor_arch(self) -> u32 {
        match self {
            Precision::Fp16 => 70,
            Precision::Int8 | Precision::Int4 => 72,
            Precision::Bf16 | Precision::Tf32 | Precision::Fp64 => 80,
            Precision::Fp8 => 89,
            Precision::Fp32 => u32::MAX,
        }
    }
}

/// Why the name says a matrix kernel is not on Tensor Cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Miss {
    /// FP32 math on CUDA cores (no TF32).
    Fp32,
    /// FP64 math on CUDA cores.
    Fp64,
    /// FP16/BF16 data computed on CUDA cores (HFMA2 or FP32 FMA).
    HalfOnCudaCores,
    /// INT8 on CUDA cores (DP4A, SIMT).
    Int8OnCudaCores,
    /// cuDNN's generic CUDA-core convolutions (implicit/precomputed GEMM,
    /// Winograd, legacy engines).
    GenericConv,
    /// Depthwise convolution (one input channel per group).
    Depthwise,
    /// Grouped convolution by a direct kernel.
    Grouped,
    /// Matrix-vector product or rank-1 update.
    Gemv,
    /// Decode-phase attention (one query row per sequence).
    DecodeAttention,
    /// Built for an architecture without Tensor Cores (sm < 70).
    OldArch,
    /// Explicitly CUDA-core math, type not recognised.
    CudaCores,
}

/// What the grammar read from one name.
#[derive(Debug, Clone, PartialEq)]
pub struct NameInfo {
    pub verdict: Verdict,
    /// The rule that decided, for reports and tests.
    pub rule: &'static str,
    /// Architecture the kernel was built for (`sm80` = 80), when named.
    pub arch: Option<u32>,
    pub precision: Option<Precision>,
    /// Smallest operand alignment in elements (`align2`, `aligna2_alignc8`), when named.
    pub alignment: Option<u32>,
    /// Alignment of the input operands (`align2`, `aligna2`, `notaligned`).
    pub alignment_ab: Option<u32>,
    /// Alignment of the output (`alignc4`), in elements of `output`.
    pub alignment_c: Option<u32>,
    /// Output type, when the name says it (xmma `i8f32_...`: FP32 output).
    pub output: Option<Precision>,
    /// For `no`: why, when the name tells.
    pub miss: Option<Miss>,
    /// A helper of a GEMM or convolution, not a matrix product itself.
    pub helper: bool,
}

impl NameInfo {
    /// The narrowest operand: (alignment in elements, in bits), when named.
    pub fn narrowest(&self) -> Option<(u32, u32)> {
        let p = self.precision?;
        let out = self.output.unwrap_or(p);
        [
            self.alignment_ab.map(|a| (a, a * p.bits())),
            self.alignment_c.map(|a| (a, a * out.bits())),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|&(_, bits)| bits)
    }

    /// Whether some operand is aligned to fewer than 16 bytes.
    pub fn low_alignment(&self) -> bool {
        self.narrowest().is_some_and(|(_, bits)| bits < 128)
    }
}

struct Name<'a> {
    lower: &'a str,
    tokens: Vec<&'a str>,
}

impl Name<'_> {
    fn has(&self, t: &str) -> bool {
        self.tokens.contains(&t)
    }

    fn any(&self, f: impl Fn(&str) -> bool) -> bool {
        self.tokens.iter().any(|x| f(x))
    }

    fn first(&self) -> &str {
        self.tokens.iter().copied().find(|t| *t != "void").unwrap_or("")
    }
}

/// MMA instruction tiles in op names: `h884gemm`, `s1688gemm`, `i8816cudnn`,
/// `s16816fprop`, `tensor1688`, `i16832gemm`.
static MMA_OP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(h|s|d|i|tf32|tensor)?(884|1688|1684|16816|16832|16864|8816|8832)(tf32)?(gemm|cudnn|fprop|dgrad|wgrad)?$",
    )
    .expect("valid regex")
});
/// Legacy cuBLAS/cuDNN CUDA-core ops: `sgemm`, `hgemm`, `igemm`, `scudnn`.
static LEGACY_OP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(s|h|d|i|c|z|gc)(gemm|cudnn)(ex)?$").expect("valid regex"));
/// xmma type signature tokens: `f16f16`, `f16f32`, `tf32f32`, `i8i32`.
static TYPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:bf16|tf32|f16|f32|f64|i8|s8|u8|i32|e4m3|e5m2|f8|i4)+$").expect("valid regex")
});
static TYPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"bf16|tf32|f16|f32|f64|i8|s8|u8|i32|e4m3|e5m2|f8|i4").expect("valid regex"));
/// CuTe MMA atoms: `SM80_16x8x16_F32F16F16F32_TN`, `SM90_64x128x16_F32BF16BF16_SS`.
static CUTE_ATOM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"sm\d{2,3}_\d+x\d+x\d+_[a-z0-9]+_(?:tn|nt|tt|nn|ss|rs|sr)\b").expect("valid regex")
});
static TENSOR_TILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:tensor|warpgroupsize)\d+x\d+x\d+$").expect("valid regex"));
static PTX_MMA: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^m\d+n\d+k\d+$").expect("valid regex"));
static SM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^sm(\d{2,3})a?$").expect("valid regex"));
static ALIGN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^align([abc]?)(\d+)$").expect("valid regex"));

fn tokens(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect()
}

fn type_token(t: &str) -> Option<Precision> {
    Some(match t {
        "f16" | "fp16" | "half" | "float16" => Precision::Fp16,
        "bf16" | "bfloat16" => Precision::Bf16,
        "tf32" => Precision::Tf32,
        "f32" | "fp32" | "float" | "float32" => Precision::Fp32,
        "f64" | "fp64" | "double" => Precision::Fp64,
        "i8" | "s8" | "u8" | "int8" | "qint8" => Precision::Int8,
        "e4m3" | "e5m2" | "fp8" | "f8" | "float8" => Precision::Fp8,
        "i4" | "s4" | "u4" | "int4" => Precision::Int4,
        _ => return None,
    })
}

/// The architecture a name was built for.
fn arch(n: &Name) -> Option<u32> {
    for (i, t) in n.tokens.iter().enumerate() {
        if let Some(c) = SM.captures(t) {
            return c[1].parse().ok();
        }
        // `cutlass_80_tensorop_...`
        if *t == "cutlass" {
            if let Some(v) = n.tokens.get(i + 1).and_then(|v| v.parse::<u32>().ok()) {
                if (50..=200).contains(&v) {
                    return Some(v);
                }
            }
        }
    }
    // Generation prefixes of cuBLAS/cuDNN/TensorRT names, near the start only.
    n.tokens.iter().take(3).find_map(|t| match *t {
        "maxwell" => Some(52),
        "pascal" => Some(60),
        "volta" => Some(70),
        "turing" => Some(75),
        "ampere" => Some(80),
        "ada" => Some(89),
        "hopper" => Some(90),
        "blackwell" => Some(100),
        _ => None,
    })
}

/// (input, output) alignments in elements.
fn alignments(n: &Name) -> (Option<u32>, Option<u32>) {
    let (mut ab, mut c): (Option<u32>, Option<u32>) = (None, None);
    let min = |slot: &mut Option<u32>, a: u32| *slot = Some(slot.map_or(a, |m| m.min(a)));
    for t in &n.tokens {
        if let Some(cap) = ALIGN.captures(t) {
            let Ok(a) = cap[2].parse::<u32>() else { continue };
            if &cap[1] == "c" {
                min(&mut c, a);
            } else {
                min(&mut ab, a);
            }
        } else if *t == "notaligned" {
            min(&mut ab, 1);
        }
    }
    (ab, c)
}

/// The output type of an xmma type signature (`i8f32_i8i32_f32`: FP32).
fn xmma_output(n: &Name) -> Option<Precision> {
    let first = n.tokens.iter().find(|t| TYPES.is_match(t))?;
    let types: Vec<&str> = TYPE.find_iter(first).map(|m| m.as_str()).collect();
    match types.as_slice() {
        [_, out] => type_token(out),
        _ => None,
    }
}

/// The math type of an xmma type signature (`f16f16_f16f32_f32`: the
/// second group's first type; `f16f16_f32_f16`: the first group's).
fn xmma_math(n: &Name) -> Option<Precision> {
    let i = n.tokens.iter().position(|t| TYPES.is_match(t))?;
    let first = n.tokens[i];
    let group = match n.tokens.get(i + 1) {
        Some(next) if TYPES.is_match(next) && TYPE.find_iter(next).count() >= 2 => *next,
        _ => first,
    };
    type_token(TYPE.find(group)?.as_str())
}

/// The precision, best effort, from the most specific evidence first.
fn precision(n: &Name, xmma: bool) -> Option<Precision> {
    for t in &n.tokens {
        if let Some(c) = MMA_OP.captures(t) {
            match (c.get(1).map(|m| m.as_str()), &c[2]) {
                (Some("h"), _) => return Some(Precision::Fp16),
                (Some("d"), _) => return Some(Precision::Fp64),
                (Some("i"), "16864" | "8832") => return Some(Precision::Int4),
                (Some("i"), _) => return Some(Precision::Int8),
                (Some("tf32"), _) => return Some(Precision::Tf32),
                _ if c.get(3).is_some() => return Some(Precision::Tf32),
                _ => {}
            }
        }
    }
    if xmma {
        if let Some(p) = xmma_math(n) {
            return Some(p);
        }
    }
    if let Some(p) = n.tokens.iter().find_map(|t| type_token(t)) {
        return Some(p);
    }
    for t in &n.tokens {
        if let Some(c) = LEGACY_OP.captures(t) {
            return match &c[1] {
                "h" => Some(Precision::Fp16),
                "d" | "z" => Some(Precision::Fp64),
                "i" => Some(Precision::Int8),
                _ => Some(Precision::Fp32),
            };
        }
    }
    // CUTLASS `tensorop_s1688gemm` on float data is TF32.
    if n.any(|t| t.contains("tensorop")) && n.any(|t| MMA_OP.is_match(t) && t.starts_with('s')) {
        return Some(Precision::Tf32);
    }
    None
}

fn nvjet_precision(n: &Name) -> Option<Precision> {
    let i = n.tokens.iter().position(|t| *t == "nvjet")?;
    let code = n.tokens[i + 1..]
        .iter()
        .find(|t| !SM.is_match(t))
        .filter(|t| t.len() == 3 && t.chars().all(|c| c.is_ascii_lowercase()))?;
    match code.as_bytes()[0] {
        b'h' => Some(Precision::Fp16),
        b't' => Some(Precision::Bf16),
        b's' => Some(Precision::Tf32),
        b'q' | b'e' => Some(Precision::Fp8),
        b'i' => Some(Precision::Int8),
        _ => None,
    }
}

fn cuda_core_marker(n: &Name) -> bool {
    n.any(|t| {
        t == "ffma"
            || t == "hfma2"
            || t == "simt"
            || t == "dp4a"
            || t == "int8x4"
            || t.contains("mmasimt")
            || t.contains("opclasssimt")
            || t.contains("universalfma")
    })
}

fn tensor_marker(n: &Name) -> bool {
    n.any(|t| {
        t.contains("hmma")
            || t.contains("imma")
            || t.contains("gmma")
            || t.starts_with("dmma")
            || t.starts_with("wmma")
            || t.starts_with("tensorop")
            || t.contains("opclasstensorop")
            || t.contains("mmatensorop")
            || t.contains("mfma")
            || t.contains("xdlops")
            || t == "xdl"
            || TENSOR_TILE.is_match(t)
            || PTX_MMA.is_match(t)
            || (MMA_OP.is_match(t) && !t.chars().all(|c| c.is_ascii_digit()))
    }) || CUTE_ATOM.is_match(n.lower)
}

/// Apply the grammar to a demangled kernel name.
///
/// ```
/// use trace_report::analysis::tensor_core::names::{classify, Verdict};
/// assert_eq!(classify("nvjet_sm90_hsh_256x128_64x4_1x2_h_bz_coopA_NNT").verdict, Verdict::Yes);
/// assert_eq!(classify("sm80_xmma_gemm_f32f32_f32f32_f32_nn_n_tilesize256x128x8_stage3_warpsize4x2x1_ffma_aligna4_alignc4_execute_kernel__5x_cublas").verdict, Verdict::No);
/// assert_eq!(classify("triton_poi_fused_add_0").verdict, Verdict::No);
/// assert_eq!(classify("triton_tem_fused_mm_0").verdict, Verdict::Unknown);
/// assert_eq!(classify("Cijk_Ailk_Bljk_HHS_BH_MT128x128x32_MI32x32x8x1_SE_K1").verdict, Verdict::Yes);
/// ```
pub fn classify(name: &str) -> NameInfo {
    let lower = name.to_ascii_lowercase();
    let n = Name {
        lower: &lower,
        tokens: tokens(&lower),
    };
    let xmma = n.any(|t| t == "xmma" || t.starts_with("xmma"));
    let (alignment_ab, alignment_c) = alignments(&n);
    let mut info = NameInfo {
        verdict: Verdict::Unknown,
        rule: "not recognised",
        arch: arch(&n),
        precision: precision(&n, xmma),
        alignment: match (alignment_ab, alignment_c) {
            (Some(a), Some(c)) => Some(a.min(c)),
            (a, c) => a.or(c),
        },
        alignment_ab,
        alignment_c,
        output: if xmma { xmma_output(&n) } else { None },
        miss: None,
        helper: false,
    };
    decide(&n, xmma, &mut info);
    if info.precision.is_none() && n.has("nvjet") {
        info.precision = nvjet_precision(&n);
    }
    info
}

/// What a name that is not a kernel's says: a TensorRT layer without its
/// tactic (`conv1.weight + QuantizeLinear_7 + Conv_9`) is named by the
/// model, so only its category (from the layer) tells anything: non-matrix
/// work is `no`, the rest `unknown`.
pub fn layer_without_kernel(category: Category) -> NameInfo {
    let non_matrix = !category.is_matrix() && category != Category::Other;
    NameInfo {
        verdict: if non_matrix { Verdict::No } else { Verdict::Unknown },
        rule: if non_matrix {
            "TensorRT layer without its tactic, of a non-matrix kind"
        } else {
            "TensorRT layer without its tactic (no --exportLayerInfo file, or a DLA layer): no kernel name to read"
        },
        arch: None,
        precision: None,
        alignment: None,
        alignment_ab: None,
        alignment_c: None,
        output: None,
        miss: None,
        helper: false,
    }
}

fn yes(info: &mut NameInfo, rule: &'static str) {
    info.verdict = Verdict::Yes;
    info.rule = rule;
}

fn no(info: &mut NameInfo, rule: &'static str, miss: Miss) {
    info.verdict = Verdict::No;
    info.rule = rule;
    info.miss = Some(miss);
}

/// The miss of a kernel whose name says CUDA cores, by its precision.
fn miss_by_precision(p: Option<Precision>) -> Miss {
    match p {
        Some(Precision::Fp32) | Some(Precision::Tf32) => Miss::Fp32,
        Some(Precision::Fp64) => Miss::Fp64,
        Some(Precision::Fp16) | Some(Precision::Bf16) => Miss::HalfOnCudaCores,
        Some(Precision::Int8) | Some(Precision::Int4) => Miss::Int8OnCudaCores,
        _ => Miss::CudaCores,
    }
}

/// TorchInductor's kernel kind: `triton_poi_...` gives `poi`.
fn inductor_kind<'a>(n: &Name<'a>) -> Option<&'a str> {
    let rest = n
        .lower
        .trim_start()
        .strip_prefix("void ")
        .unwrap_or(n.lower)
        .strip_prefix("triton_")?;
    rest.split('_').next()
}

/// XLA's fusion kinds: `loop_multiply_fusion_2`, `input_reduce_fusion`, `wrapped_add`.
fn xla_non_matrix(n: &Name) -> bool {
    let first = n.first();
    ((first == "loop" || first == "input") && n.has("fusion")) || first == "wrapped"
}

/// 1. Generated code; true when decided.
fn generated(n: &Name, info: &mut NameInfo) -> bool {
    match inductor_kind(n) {
        Some("poi" | "red" | "per" | "for" | "spl") => {
            info.verdict = Verdict::No;
            info.rule = "TorchInductor pointwise/reduction kernel (no tl.dot)";
            return true;
        }
        Some("tem") => {
            info.rule = "TorchInductor template (mm/bmm/conv): matrix work, needs counters or GPU metrics";
            return true;
        }
        _ => {}
    }
    if xla_non_matrix(n) {
        info.verdict = Verdict::No;
        info.rule = "XLA loop/input fusion (elementwise or reduction emitter)";
        return true;
    }
    let first = n.first();
    if first.starts_with("triton") || first == "myl" || first.starts_with("tvmgen") {
        let cat = categorize(n.lower);
        if !cat.is_matrix() && cat != Category::Other {
            info.verdict = Verdict::No;
            info.rule = "generated code of a non-matrix category";
        } else {
            info.rule = "generated code (Triton, Myelin, TVM): the name does not say";
        }
        return true;
    }
    false
}

/// An MFMA/WMMA instruction shape M x N: 4, 16, 32 (and 64x4 blocks).
fn mfma_shape(m: u32, nn: u32) -> bool {
    let ok = |v: u32| matches!(v, 4 | 16 | 32 | 64);
    ok(m) && ok(nn)
}

static TENSILE_MI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^mi(\d+)x(\d+)x(\d+)(?:x\d+)?$").expect("valid regex"));
static MISA_WAVE_TILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^wt(\d+)x(\d+)x(\d+)$").expect("valid regex"));

/// Tensile's data type letters (`SB`, `HHS`, `BBS`, `I8II`, `4xi8`, `F8B8`).
fn tensile_precision(code: &str) -> Option<Precision> {
    let code = code.strip_prefix("4x").unwrap_or(code);
    Some(if code.starts_with("i8") {
        Precision::Int8
    } else if code.starts_with("f8") || code.starts_with("b8") {
        Precision::Fp8
    } else {
        match code.as_bytes().first()? {
            b's' | b'c' => Precision::Fp32,
            b'x' => Precision::Tf32,
            b'h' => Precision::Fp16,
            b'b' => Precision::Bf16,
            b'd' | b'z' => Precision::Fp64,
            _ => return None,
        }
    })
}

/// 2. AMD libraries; true when decided.
fn amd(n: &Name, info: &mut NameInfo) -> bool {
    let first = n.first();
    // Tensile (rocBLAS, hipBLASLt): `Cijk_Alik_Bljk_BBS_..._MT256x192x64_MI16x16x1_...`.
    if first == "cijk" {
        info.precision = n
            .tokens
            .iter()
            .skip_while(|t| **t != "cijk")
            .nth(3)
            .and_then(|t| tensile_precision(t));
        let mi = n.tokens.iter().find_map(|t| TENSILE_MI.captures(t));
        match mi {
            Some(c) => {
                let (m, nn) = (c[1].parse().unwrap_or(0), c[2].parse().unwrap_or(0));
                if mfma_shape(m, nn) {
                    yes(info, "Tensile solution with a matrix instruction (MI: MFMA/WMMA)");
                } else {
                    info.rule = "Tensile solution with an unrecognised matrix instruction";
                }
            }
            None if n.any(|t| {
                t.len() > 2 && t.starts_with("tt") && t[2..].bytes().all(|b| b.is_ascii_digit())
            }) =>
            {
                no(
                    info,
                    "Tensile solution with a thread tile and no matrix instruction (VALU FMA)",
                    miss_by_precision(info.precision),
                );
            }
            None => info.rule = "Tensile solution without a matrix instruction mark",
        }
        return true;
    }
    // MIOpen's MISA implicit GEMMs: `igemm_fwd_gtcx2_nhwc_fp16_..._wt32x32x8_...`.
    if first == "igemm" {
        let xdlops = n.any(|t| t.starts_with("gtcx"));
        let wave_tile = n.tokens.iter().find_map(|t| MISA_WAVE_TILE.captures(t));
        let mfma_tile =
            wave_tile.is_some_and(|c| mfma_shape(c[1].parse().unwrap_or(0), c[2].parse().unwrap_or(0)));
        if xdlops || mfma_tile {
            yes(info, "MIOpen MISA xdlops implicit GEMM (gtcx, MFMA wave tile)");
            return true;
        }
        if n.has("gtc") && n.any(|t| t.starts_with("tt")) {
            no(
                info,
                "MIOpen MISA implicit GEMM on VALU (gtc, thread tile)",
                miss_by_precision(info.precision),
            );
            return true;
        }
        return false;
    }
    // MIOpen's HIP implicit GEMMs: `gridwise_convolution_implicit_gemm_v4r4_[xdlops_]...`.
    if n.lower.contains("gridwise_convolution_implicit_gemm") && !tensor_marker(n) {
        no(
            info,
            "MIOpen HIP implicit GEMM without xdlops (VALU)",
            Miss::GenericConv,
        );
        return true;
    }
    // Composable Kernel's DL kernels: dot instructions, no matrix cores.
    if n.has("ck") && n.any(|t| t == "dl" || t == "dlops") && !tensor_marker(n) {
        no(
            info,
            "Composable Kernel DL kernel (dot instructions)",
            miss_by_precision(info.precision),
        );
        return true;
    }
    false
}

/// FlashAttention by its own names, not every name with the word `flash`.
fn flash_attention(n: &Name) -> bool {
    static FLASH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"flash_?(?:fwd|bwd|attn|attention|fprop|bprop|mla|decoding)|flash::")
            .expect("valid regex")
    });
    FLASH.is_match(n.lower)
}

fn decide(n: &Name, xmma: bool, info: &mut NameInfo) {
    // 1. Generated code.
    if generated(n, info) {
        return;
    }
    // 2. AMD libraries.
    if amd(n, info) {
        return;
    }
    // 3. Explicit math markers.
    match (cuda_core_marker(n), tensor_marker(n)) {
        (true, true) => {
            info.rule = "both CUDA-core and Tensor Core markers";
            return;
        }
        (true, false) => {
            let miss = if n.any(|t| t == "int8x4" || t == "dp4a") {
                info.precision = Some(Precision::Int8);
                Miss::Int8OnCudaCores
            } else if info.arch.is_some_and(|a| a < 70) {
                Miss::OldArch
            } else {
                miss_by_precision(info.precision)
            };
            return no(info, "CUDA-core math marker (ffma, simt, dp4a)", miss);
        }
        (false, true) => {
            if info.precision.is_none() && n.any(|t| t.contains("imma")) {
                info.precision = Some(Precision::Int8);
            }
            return yes(info, "Tensor Core marker (mma tile, tensorop, hmma/imma/gmma)");
        }
        (false, false) => {}
    }
    // 4. Helpers of GEMMs and convolutions.
    if n.any(|t| t == "splitkreduce" || t == "reducesplitk")
        || n.lower.contains("init_device_workspace")
        || n.lower.contains("epilogue::impl::")
        || n.lower.contains("precompute_indices")
    {
        info.verdict = Verdict::No;
        info.rule = "GEMM/convolution helper (split-K reduction, epilogue, workspace, indices)";
        info.helper = true;
        return;
    }
    // 5. Families.
    if n.has("nvjet") {
        info.precision = info.precision.or_else(|| nvjet_precision(n));
        return yes(info, "nvjet (cuBLAS Hopper/Blackwell MMA kernels)");
    }
    if n.lower.contains("flashinfer::") || n.first().starts_with("flashinfer") {
        if n.any(|t| t.contains("prefill")) {
            return yes(info, "FlashInfer prefill attention (MMA)");
        }
        info.rule = "FlashInfer kernel other than prefill: Tensor Core use is configurable";
        return;
    }
    if flash_attention(n) {
        return yes(info, "FlashAttention (MMA)");
    }
    if n.lower.contains("paged_attention")
        || n.lower.contains("masked_multihead_attention")
        || n.any(|t| t.starts_with("mmha"))
    {
        return no(info, "decode attention (FMA dot products)", Miss::DecodeAttention);
    }
    if n.any(|t| t.starts_with("fmha")) {
        if n.any(|t| t == "cutlassf" || t == "cutlassb") {
            let arch = info.arch.unwrap_or(0);
            return match info.precision {
                _ if arch > 0 && arch < 70 => no(info, "fmha_cutlass for sm < 70 (SIMT)", Miss::OldArch),
                Some(Precision::Fp32) if arch >= 80 => {
                    info.precision = Some(Precision::Tf32);
                    yes(info, "fmha_cutlass FP32 on sm80+ (TF32 MMA)")
                }
                Some(Precision::Fp32) if arch > 0 => {
                    no(info, "fmha_cutlass FP32 before sm80 (SIMT)", Miss::Fp32)
                }
                Some(Precision::Fp16 | Precision::Bf16) if arch >= 70 => {
                    yes(info, "fmha_cutlass FP16/BF16 on sm70+ (MMA)")
                }
                _ => {
                    info.rule = "fmha_cutlass of unrecognised type or architecture";
                }
            };
        }
        if matches!(
            info.precision,
            Some(Precision::Fp16 | Precision::Bf16 | Precision::Fp8 | Precision::Int8)
        ) {
            return yes(info, "fused MHA (fmha) kernel in a 16/8-bit type");
        }
        info.rule = "fmha kernel of unrecognised type";
        return;
    }
    if xmma {
        match (info.precision, info.arch) {
            (Some(Precision::Fp32), _) => {
                return no(info, "xmma with FP32 math (no TF32)", Miss::Fp32);
            }
            (Some(p), Some(a)) if p != Precision::Fp64 && a >= p.min_tensor_arch() => {
                return yes(info, "xmma with an MMA math type");
            }
            // Built for sm < 70: the old-architecture rule below decides.
            (_, Some(a)) if a < 70 => {}
            _ if categorize(n.lower).is_matrix() => {
                info.rule = "xmma without a recognised math type";
                return;
            }
            _ => {}
        }
    }
    if n.any(|t| t.contains("depthwise") || t.starts_with("dwconv")) {
        return no(info, "depthwise convolution", Miss::Depthwise);
    }
    if (n.has("grouped") && n.has("direct")) || n.any(|t| t.starts_with("groupconv")) {
        return no(info, "grouped direct convolution", Miss::Grouped);
    }
    if n.has("convolve")
        || n.any(|t| t.starts_with("winograd"))
        || (n.has("engine") && n.any(|t| t.starts_with("dgrad") || t.starts_with("wgrad")))
    {
        return no(info, "cuDNN CUDA-core convolution", Miss::GenericConv);
    }
    if n.any(|t| t.starts_with("gemv") || t.starts_with("gemmk1")) || (n.has("dot") && n.has("kernel")) {
        return no(info, "matrix-vector product", Miss::Gemv);
    }
    if let Some(op) = n.tokens.iter().find(|t| LEGACY_OP.is_match(t)) {
        let miss = match op.as_bytes()[0] {
            // `volta_fp16_scudnn_fp16`: FP16 data, FP32 FMA.
            _ if matches!(info.precision, Some(Precision::Fp16 | Precision::Bf16)) => Miss::HalfOnCudaCores,
            b'h' => Miss::HalfOnCudaCores,
            b'd' | b'z' => Miss::Fp64,
            b'i' => Miss::Int8OnCudaCores,
            _ if op.starts_with("gc") => Miss::GenericConv,
            _ => Miss::Fp32,
        };
        return no(
            info,
            "cuBLAS/cuDNN op without an MMA tile (sgemm, hgemm, scudnn)",
            miss,
        );
    }
    // 6. Old architectures.
    if info.arch.is_some_and(|a| a < 70) {
        return no(
            info,
            "built for an architecture without Tensor Cores",
            Miss::OldArch,
        );
    }
    // 7. Recognised non-matrix work.
    if n.lower.starts_with("cudnn_generated") {
        info.rule = "cuDNN runtime-generated kernel without markers";
        return;
    }
    let cat = categorize(n.lower);
    if !cat.is_matrix() && cat != Category::Other {
        info.verdict = Verdict::No;
        info.rule = "non-matrix kernel family";
        return;
    }
    info.rule = if cat.is_matrix() {
        "matrix kernel without math markers"
    } else {
        "not recognised"
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_on_punctuation() {
        assert_eq!(
            tokens("void cutlass::kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>(t1::params)"),
            [
                "void", "cutlass", "kernel2", "cutlass", "80", "simt", "sgemm", "256x128", "8x4", "nn",
                "align1", "t1", "params"
            ]
        );
    }

    #[test]
    fn alignment_and_precision() {
        let i = classify(
            "void cutlass::Kernel2<cutlass_75_tensorop_f16_s1688gemm_f16_256x128_nn_align1>(T1::Params)",
        );
        assert_eq!(
            (i.precision, i.alignment, i.arch, i.low_alignment()),
            (Some(Precision::Fp16), Some(1), Some(75), true)
        );
        let i = classify(
            "void cutlass::Kernel2<cutlass_80_tensorop_i16832gemm_s8_128x256_128x3_tn_align16>(T1::Params)",
        );
        assert_eq!(
            (i.precision, i.alignment, i.low_alignment()),
            (Some(Precision::Int8), Some(16), false)
        );
        let i = classify(
            "sm80_xmma_gemm_f32f32_f32f32_f32_nn_n_tilesize256x128x8_stage3_warpsize4x2x1_ffma_aligna4_alignc4_execute_kernel__5x_cublas",
        );
        assert_eq!(
            (i.precision, i.alignment, i.low_alignment(), i.miss),
            (Some(Precision::Fp32), Some(4), false, Some(Miss::Fp32))
        );
    }
}
