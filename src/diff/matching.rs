//! Matching kernels between two builds.
//!
//! 1. By demangled name: the same kernel in both.
//! 2. Among the rest, by family: the category plus the name with its
//!    tuning tokens removed ([`family`]), so that a library choosing another
//!    tile size, stage count, alignment or precision for the same operation
//!    (`..._tilesize128x128x64_...` vs `..._tilesize64x128x64_...`) reads as
//!    one row.
//! 3. Among the rest, by role, for the categories whose kernels are
//!    interchangeable implementations picked by a library (GEMM,
//!    convolution, attention): `nvjet_sm90_hsh_...` replaced by
//!    `cutlass_80_tensorop_..._align2` is one `gemm` row. Other categories
//!    name what they compute, so a kernel left over there is a different
//!    operation, not another tactic.
//! 4. What is still left appeared (only in NEW) or disappeared (only in
//!    BASE), one row per kernel.
//!
//! Rows are ordered by time impact: |new - base| per iteration (or per
//! window), largest first.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::analysis::category::Category;
use crate::analysis::kernels::KernelRow;
use crate::model::Ns;
use crate::model::kernel_name::canonical;

/// How a row's kernels were matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Match {
    Name,
    Family,
    Role,
    Appeared,
    Disappeared,
}

impl Match {
    pub fn label(self) -> &'static str {
        match self {
            Match::Name => "same name",
            Match::Family => "same family",
            Match::Role => "same role",
            Match::Appeared => "appeared",
            Match::Disappeared => "disappeared",
        }
    }
}

/// One kernel of one side, as its report lists it (window totals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelRef {
    pub name: String,
    pub short_name: String,
    pub count: u64,
    pub total_ns: Ns,
}

/// One row of the kernel comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelDelta {
    #[serde(rename = "match")]
    pub matched: Match,
    pub category: Category,
    /// `category:normalized-name` (see [`family`]).
    pub family: String,
    /// The kernels of each side in this row, largest first.
    pub base: Vec<KernelRef>,
    pub new: Vec<KernelRef>,
    /// Calls and time, normalised (per iteration or per window).
    pub base_count: f64,
    pub new_count: f64,
    pub base_ns: f64,
    pub new_ns: f64,
    pub delta_ns: f64,
    pub change_pct: Option<f64>,
}

impl KernelDelta {
    /// A short label: the kernel, or `A (+k) → B (+m)` for matched groups.
    pub fn label(&self) -> String {
        let side = |v: &[KernelRef]| match v.len() {
            0 => "-".to_string(),
            1 => v[0].short_name.clone(),
            n => format!("{} (+{} more)", v[0].short_name, n - 1),
        };
        match self.matched {
            Match::Name | Match::Disappeared => side(&self.base),
            Match::Appeared => side(&self.new),
            Match::Family | Match::Role => format!("{} → {}", side(&self.base), side(&self.new)),
        }
    }
}

static SHAPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+x\d+").expect("valid"));
static ARCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:sm|gfx|compute)\d+[a-z]?|kepler|maxwell|pascal|volta|turing|ampere|ada|hopper|blackwell)$",
    )
    .expect("valid")
});
static TUNING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:stages?|align[abc]?|warps?|warpsize|ldg|knob|splitk?|slicek?|kernel|cta|cga|unroll|vec|tile)\d+|stages|knob|coop[ab]?)$",
    )
    .expect("valid")
});
static PRECISION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:(?:bf|fp|tf|f|s|u|i|int|uint|h|d)\d+|e[45]m[23])+|[hsbtd]{3}|half|float|double|bfloat\d*)$",
    )
    .expect("valid")
});
static LAYOUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[tn]{2,3}|nchw|nhwc|ncdhw|ndhwc|nhwckrsc|ndhwckrsc|kcrs|krsc|chwn|nc\d*hw\d*)$")
        .expect("valid")
});
/// Filter and vector shapes written as letter-number runs: `t1r3s3`, `g1`,
/// `f2f`, `32kcrs`.
static MIXED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:(?:[a-z]\d+)+[a-z]?|\d+[a-z]+)$").expect("valid"));
/// An operation word carrying a precision/MMA-shape prefix: `s16816gemm`,
/// `h1688gemm`, `i8816fprop`, `sgemm`, `hgemv`.
static OP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[a-z]?\d+|[shdczi])(gemm|gemv|fprop|dgrad|wgrad)$").expect("valid"));

/// The family of a kernel: its category and its (short) name with the tokens
/// that tune an implementation removed: tile shapes (`128x64`,
/// `tilesize128x128x64`), stage and alignment counts (`64x3`, `stage3`,
/// `align2`), architectures (`sm90`, `80`, `ampere`), precisions (`f16`,
/// `f16f32`, `bf16`, `hsh`), operand layouts (`tn`, `nhwc`,
/// `channels_last`), filter and vector shapes (`t1r3s3`, `32kcrs`), pure
/// numbers and one- or two-letter flags. Template arguments are already
/// gone from the short name.
///
/// ```
/// use trace_report::analysis::category::Category;
/// use trace_report::diff::matching::family;
/// let a = family(Category::Conv, "sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x128x64_warpgroupsize1x1x1_g1_execute_segment_k_off_kernel__5x_cudnn");
/// let b = family(Category::Conv, "sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize64x128x64_warpgroupsize1x1x1_g1_execute_segment_k_off_kernel__5x_cudnn");
/// assert_eq!(a, b);
/// assert_eq!(family(Category::Gemm, "cutlass_80_tensorop_f16_s16816gemm_f16_256x128_64x3_tn_align2"), "gemm:cutlass_tensorop_gemm");
/// assert_eq!(family(Category::Gemm, "cutlass_75_tensorop_f16_s1688gemm_f16_64x64_tn_align1"), "gemm:cutlass_tensorop_gemm");
/// assert_eq!(family(Category::Gemm, "nvjet_sm90_hsh_128x256_64x4_2x1_v_bz_coopA_TNN"), "gemm:nvjet");
/// ```
pub fn family(category: Category, short_name: &str) -> String {
    let lower = short_name.to_ascii_lowercase();
    let lower = lower
        .replace("channels_last", "_")
        .replace("channelslast", "_")
        .replace("channels_first", "_");
    let mut kept: Vec<&str> = Vec::new();
    for tok in lower.split(|c: char| !c.is_ascii_alphanumeric()) {
        if tok.len() <= 2
            || tok.bytes().all(|b| b.is_ascii_digit())
            || SHAPE.is_match(tok)
            || ARCH.is_match(tok)
            || TUNING.is_match(tok)
            || PRECISION.is_match(tok)
            || LAYOUT.is_match(tok)
            || MIXED.is_match(tok)
        {
            continue;
        }
        match OP.captures(tok).and_then(|c| c.get(1)) {
            Some(op) => kept.push(op.as_str()),
            None => kept.push(tok),
        }
    }
    format!("{}:{}", category.label(), kept.join("_"))
}

type Groups<'k> = BTreeMap<String, Vec<&'k KernelRow>>;

fn by_family<'k>(v: &[&'k KernelRow]) -> Groups<'k> {
    let mut g: Groups = BTreeMap::new();
    for k in v {
        g.entry(family(k.category, &k.short_name)).or_default().push(k);
    }
    g
}

/// Kernels of matrix categories by category, and the others.
#[allow(clippy::type_complexity)]
fn by_role(g: Groups<'_>) -> (BTreeMap<Category, Vec<&KernelRow>>, Vec<&KernelRow>) {
    let mut roles: BTreeMap<Category, Vec<&KernelRow>> = BTreeMap::new();
    let mut rest = Vec::new();
    for k in g.into_values().flatten() {
        if k.category.is_matrix() {
            roles.entry(k.category).or_default().push(k);
        } else {
            rest.push(k);
        }
    }
    (roles, rest)
}

fn to_ref(k: &KernelRow) -> KernelRef {
    KernelRef {
        name: k.name.clone(),
        short_name: k.short_name.clone(),
        count: k.count,
        total_ns: k.total_ns,
    }
}

/// Match the kernel tables of two reports; `base_div`/`new_div` normalise
/// each side (iteration count, or 1 for window totals).
pub fn compare(base: &[KernelRow], new: &[KernelRow], base_div: f64, new_div: f64) -> Vec<KernelDelta> {
    let row = |matched, category, family: String, b: Vec<&KernelRow>, n: Vec<&KernelRow>| {
        let sum = |v: &[&KernelRow]| -> (u64, Ns) {
            v.iter().fold((0, 0), |(c, t), k| (c + k.count, t + k.total_ns))
        };
        let (bc, bt) = sum(&b);
        let (nc, nt) = sum(&n);
        let base_ns = bt as f64 / base_div;
        let new_ns = nt as f64 / new_div;
        KernelDelta {
            matched,
            category,
            family,
            base: b.into_iter().map(to_ref).collect(),
            new: n.into_iter().map(to_ref).collect(),
            base_count: bc as f64 / base_div,
            new_count: nc as f64 / new_div,
            base_ns,
            new_ns,
            delta_ns: new_ns - base_ns,
            change_pct: super::stats::pct(new_ns - base_ns, base_ns),
        }
    };
    let mut rows = Vec::new();

    // 1. Same kernel: one canonical identity whatever tool spelled the
    // name (nsys `<(int)4>` and Kineto `<4>` are one kernel; see
    // `model::kernel_name`). A report lists each name once; tolerate repeats.
    let key = |k: &KernelRow| canonical(&k.name);
    let mut new_by_name: HashMap<String, Vec<&KernelRow>> = HashMap::new();
    for k in new {
        new_by_name.entry(key(k)).or_default().push(k);
    }
    let mut base_by_name: Vec<(String, Vec<&KernelRow>)> = Vec::new();
    let mut base_index: HashMap<String, usize> = HashMap::new();
    for k in base {
        let i = *base_index.entry(key(k)).or_insert_with(|| {
            base_by_name.push((key(k), Vec::new()));
            base_by_name.len() - 1
        });
        base_by_name[i].1.push(k);
    }
    let mut base_left: Vec<&KernelRow> = Vec::new();
    for (name, b) in base_by_name {
        match new_by_name.remove(&name) {
            Some(n) => rows.push(row(
                Match::Name,
                b[0].category,
                family(b[0].category, &b[0].short_name),
                b,
                n,
            )),
            None => base_left.extend(b),
        }
    }
    let new_left: Vec<&KernelRow> = new.iter().filter(|k| new_by_name.contains_key(&key(k))).collect();

    // 2. Same family.
    let mut bf = by_family(&base_left);
    let mut nf = by_family(&new_left);
    let shared: Vec<String> = bf.keys().filter(|f| nf.contains_key(*f)).cloned().collect();
    for f in shared {
        let (b, n) = (
            bf.remove(&f).unwrap_or_default(),
            nf.remove(&f).unwrap_or_default(),
        );
        rows.push(row(Match::Family, b[0].category, f, b, n));
    }

    // 3. Same role, for library-chosen implementations.
    let (mut br, mut b_rest) = by_role(bf);
    let (mut nr, mut n_rest) = by_role(nf);
    let shared: Vec<Category> = br.keys().filter(|c| nr.contains_key(*c)).copied().collect();
    for c in shared {
        let (mut b, mut n) = (
            br.remove(&c).unwrap_or_default(),
            nr.remove(&c).unwrap_or_default(),
        );
        b.sort_by(|x, y| y.total_ns.cmp(&x.total_ns).then_with(|| x.name.cmp(&y.name)));
        n.sort_by(|x, y| y.total_ns.cmp(&x.total_ns).then_with(|| x.name.cmp(&y.name)));
        rows.push(row(Match::Role, c, c.label().to_string(), b, n));
    }
    b_rest.extend(br.into_values().flatten());
    n_rest.extend(nr.into_values().flatten());

    // 4. The rest.
    for k in b_rest {
        rows.push(row(
            Match::Disappeared,
            k.category,
            family(k.category, &k.short_name),
            vec![k],
            Vec::new(),
        ));
    }
    for k in n_rest {
        rows.push(row(
            Match::Appeared,
            k.category,
            family(k.category, &k.short_name),
            Vec::new(),
            vec![k],
        ));
    }
    for r in &mut rows {
        r.base
            .sort_by(|x, y| y.total_ns.cmp(&x.total_ns).then_with(|| x.name.cmp(&y.name)));
        r.new
            .sort_by(|x, y| y.total_ns.cmp(&x.total_ns).then_with(|| x.name.cmp(&y.name)));
    }
    rows.sort_by(|a, b| {
        b.delta_ns
            .abs()
            .total_cmp(&a.delta_ns.abs())
            .then(b.base_ns.max(b.new_ns).total_cmp(&a.base_ns.max(a.new_ns)))
            .then_with(|| a.family.cmp(&b.family))
            .then_with(|| a.label().cmp(&b.label()))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::category::categorize;
    use crate::analysis::kernels::readable_short_name;

    fn fam(full: &str, short: &str) -> String {
        family(categorize(full), &readable_short_name(full, short))
    }

    #[test]
    fn families_from_real_names() {
        let same = [
            // cuDNN tactics that differ in tile shape only.
            (
                "sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x128x64_warpgroupsize1x1x1_g1_execute_segment_k_off_kernel__5x_cudnn",
                "sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize64x128x64_warpgroupsize1x1x1_g1_execute_segment_k_off_kernel__5x_cudnn",
            ),
            // Alignment variants.
            (
                "sm80_xmma_fprop_implicit_gemm_indexed_wo_smem_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x32x16_stage1_warpsize4x1x1_g1_tensor16x8x16_aligna2_alignc8_execute_kernel__5x_cudnn",
                "sm80_xmma_fprop_implicit_gemm_indexed_wo_smem_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x32x16_stage1_warpsize4x1x1_g1_tensor16x8x16_aligna2_alignc4_execute_kernel__5x_cudnn",
            ),
            // CUTLASS generations, tiles and alignments.
            (
                "void cutlass::Kernel2<cutlass_80_tensorop_f16_s16816gemm_f16_256x128_64x3_tn_align2>(T1::Params)",
                "void cutlass::Kernel2<cutlass_75_tensorop_f16_s1688gemm_f16_128x128_nn_align1>(T1::Params)",
            ),
            // Precision.
            (
                "ampere_sgemm_128x64_nn",
                "ampere_h16816gemm_256x128_ldg8_stages_32x3_nn",
            ),
            (
                "nvjet_sm90_hsh_128x128_64x6_1x2_h_bz_bias_TNT",
                "nvjet_sm90_bsb_192x128_64x5_1x2_h_bz_coopB_bias_TNT",
            ),
            // Layout variants of the same operation.
            (
                "void at::native::batch_norm_transform_input_kernel<c10::Half, c10::Half, float, (bool)1, int>(...)",
                "void at::native::batch_norm_transform_input_channels_last_kernel<c10::Half, float, c10::Half, (int)4>(...)",
            ),
            (
                "void at::native::<unnamed>::max_pool_forward_nchw<c10::Half, int>(...)",
                "void at::native::<unnamed>::max_pool_forward_nhwc<c10::Half, int>(...)",
            ),
        ];
        for (a, b) in same {
            let short = |s: &str| {
                // nsys short names: the function name without scope or template.
                let head = s.split('<').next().unwrap_or(s);
                let head = head.split('(').next().unwrap_or(head);
                head.rsplit("::")
                    .next()
                    .unwrap_or(head)
                    .trim_start_matches("void ")
                    .to_string()
            };
            assert_eq!(fam(a, &short(a)), fam(b, &short(b)), "{a} vs {b}");
        }
        let different = [
            (
                "nvjet_sm90_hsh_128x128_64x6_1x2_h_bz_bias_TNT",
                "cutlass_80_tensorop_f16_s16816gemm_f16_256x128_64x3_tn_align2",
            ),
            ("nchwToNhwcKernel", "nhwcToNchwKernel"),
            ("triton_poi_fused_add_0", "triton_poi_fused_mul_0"),
            ("conv2d_grouped_direct_kernel", "conv3d_grouped_direct_kernel"),
            ("max_pool2d_kernel", "max_pool3d_kernel"),
        ];
        for (a, b) in different {
            assert_ne!(fam(a, a), fam(b, b), "{a} vs {b}");
        }
        assert_eq!(
            fam("triton_poi_fused_add_0", "triton_poi_fused_add_0"),
            "elementwise:triton_poi_fused_add"
        );
    }

    fn k(name: &str, count: u64, total: Ns) -> KernelRow {
        let category = categorize(name);
        KernelRow {
            name: name.into(),
            short_name: name.into(),
            canonical_name: canonical(name),
            count,
            total_ns: total,
            mean_ns: total / count as i64,
            min_ns: 0,
            max_ns: 0,
            category,
            tensor_core: Default::default(),
            tensor_core_evidence: Default::default(),
            tensor_core_reason: None,
            tensor_core_reason_kind: None,
            roofline: None,
        }
    }

    #[test]
    fn levels() {
        let base = vec![
            k("nvjet_sm90_hsh_128x128_64x6_1x2_h_bz_bias_TNT", 10, 1000),
            k("nchwToNhwcKernel", 10, 500),
            k("vectorized_layer_norm_kernel", 10, 300),
            k(
                "sm90_xmma_fprop_implicit_gemm_f16f16_tilesize128x128x64_cudnn",
                10,
                200,
            ),
            k("elementwise_add_kernel", 10, 50),
        ];
        let new = vec![
            k(
                "cutlass_80_tensorop_f16_s16816gemm_f16_256x128_64x3_tn_align2",
                10,
                4000,
            ),
            k("cutlass_75_tensorop_f16_s1688gemm_f16_64x64_tn_align1", 10, 500),
            k("vectorized_layer_norm_kernel", 10, 310),
            k(
                "sm90_xmma_fprop_implicit_gemm_f16f16_tilesize64x128x64_cudnn",
                10,
                260,
            ),
            k("elementwise_mul_kernel", 10, 40),
        ];
        let rows = compare(&base, &new, 10.0, 10.0);
        let kinds: Vec<(Match, &str)> = rows.iter().map(|r| (r.matched, r.family.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                (Match::Role, "gemm"),
                (Match::Disappeared, "layout:nchwtonhwckernel"),
                (Match::Family, "conv:xmma_fprop_implicit_gemm_cudnn"),
                (Match::Disappeared, "elementwise:elementwise_add_kernel"),
                (Match::Appeared, "elementwise:elementwise_mul_kernel"),
                (Match::Name, "normalization:vectorized_layer_norm_kernel"),
            ]
        );
        assert_eq!(
            (rows[0].base_ns, rows[0].new_ns, rows[0].delta_ns),
            (100.0, 450.0, 350.0)
        );
        assert_eq!(rows[0].new.len(), 2);
        assert_eq!(rows[0].new[0].total_ns, 4000, "largest first");
        let same = compare(&base, &base, 10.0, 10.0);
        assert!(same.iter().all(|r| r.matched == Match::Name && r.delta_ns == 0.0));
    }
}
