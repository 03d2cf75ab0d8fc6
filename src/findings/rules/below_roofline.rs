//! TR501 `below-roofline`.

use serde_json::json;

use crate::analysis::category::Category;
use crate::analysis::kernels::KernelRow;
use crate::analysis::roofline::{self, Placement};
use crate::declare_rule;
use crate::findings::facts::{self, Draft, Where};
use crate::findings::{Context, EvidenceTable, Finding, Rule};
use crate::model::Ns;
use crate::text::format;

/// A kernel reaching less than this percentage of the roof that binds at
/// its intensity is far below both roofs.
pub const FAR_BELOW_PERCENT: f64 = 10.0;
/// Smallest share of the window's kernel time such kernels must hold.
pub const MIN_KERNEL_SHARE: f64 = 0.05;
/// The share of its roof a kernel is assumed to reach once fixed (well-tuned
/// library kernels reach 50-90%).
pub const TARGET_PERCENT: f64 = 50.0;
/// Kernels listed in the evidence.
const MAX_ROWS: usize = 20;

declare_rule! {
    /// Kernels that reach only a small part of what the GPU allows at their
    /// arithmetic intensity: the roofline shows them far below both the
    /// memory roof and the compute roof while they hold a large share of GPU
    /// time. The FLOPs they do are few; the time goes to launches, to
    /// layout work, to tiny tiles or to passes over memory that a fused
    /// kernel would not make.
    ///
    /// How: every kernel with work (FLOPs and bytes from Nsight Compute
    /// counters, operator shapes or engine layer dimensions) on a GPU with
    /// known peaks is placed under its binding roof (memory bandwidth x
    /// intensity, or the compute peak of its precision); those below 10% of
    /// it are far below both roofs.
    ///
    /// Fires when: they hold at least 5% of the window's kernel time and
    /// at least 10 us.
    ///
    /// Time at stake: for each such kernel, its time less the time it would
    /// take at 50% of its roof: time x (1 - achieved% / 50%).
    ///
    /// The fix depends on the kind: fuse chains of elementwise and
    /// normalisation kernels (torch.compile, TensorRT); use channels_last
    /// end to end to drop layout conversions; give 1x1 and depthwise
    /// convolutions a larger batch or let TensorRT fuse them with their
    /// neighbours; replace growing concatenations (a KV cache built with
    /// torch.cat) with a preallocated static cache written in place.
    ///
    /// Severity: warning from 5% of the window, error from 25%.
    pub struct BelowRoofline {
        name: "below-roofline",
        code: "TR501",
        summary: "kernels far below both roofs holding a large share of GPU time",
    }
}

impl BelowRoofline {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        check(self, cx).into_iter().collect()
    }
}

/// The kind of fix a kernel needs.
fn fix(k: &KernelRow) -> (&'static str, &'static str) {
    let n = k.name.to_ascii_lowercase();
    match k.category {
        Category::Copy if n.contains("cat") || n.contains("concat") => (
            "concatenation",
            "preallocate the output (a static KV cache) and write each part in place instead of concatenating",
        ),
        Category::Copy | Category::Layout => (
            "layout/copy",
            "keep one layout end to end (channels_last for convolutions) so layout conversions and copies disappear",
        ),
        Category::Conv
            if n.contains("depthwise")
                || n.contains("grouped")
                || n.contains("c1_k1")
                || n.contains("1x1") =>
        {
            (
                "1x1/depthwise convolution",
                "give the 1x1/depthwise convolutions a larger batch, or let TensorRT fuse them with their neighbours",
            )
        }
        Category::Conv | Category::Gemm | Category::Attention => (
            "small matrix work",
            "batch the small matrix operations (larger batch, grouped GEMM) so each launch does more work",
        ),
        Category::Elementwise
        | Category::Normalization
        | Category::Softmax
        | Category::Reduction
        | Category::Pooling => (
            "elementwise chain",
            "fuse the chain of elementwise and normalisation kernels (torch.compile, TensorRT) so the data passes through memory once",
        ),
        _ => (
            "other",
            "check what the kernel waits on; it uses a small part of both roofs",
        ),
    }
}

/// Far below both roofs: under the threshold of the binding roof, which
/// only FLOPs and bytes together decide (a measured bandwidth alone says
/// nothing of the compute roof).
fn far_below(p: &Placement) -> bool {
    p.flops.is_some() && p.roof_percent.is_some_and(|x| x < FAR_BELOW_PERCENT)
}

fn check(rule: &dyn Rule, cx: &Context) -> Option<Finding> {
    let kernels = cx.kernels;
    let kernel_ns: Ns = kernels.iter().map(|k| k.total_ns).sum();
    let low: Vec<(&KernelRow, &Placement)> = kernels
        .iter()
        .filter_map(|k| k.roofline.as_ref().filter(|p| far_below(p)).map(|p| (k, p)))
        .collect();
    let low_ns: Ns = low.iter().map(|(k, _)| k.total_ns).sum();
    if low.is_empty() || !facts::clears(low_ns, kernel_ns, MIN_KERNEL_SHARE) {
        return None;
    }
    let stake: Ns = low
        .iter()
        .map(|(k, p)| {
            let got = p.roof_percent.unwrap_or(0.0).max(0.0);
            (k.total_ns as f64 * (1.0 - got / TARGET_PERCENT)).round() as Ns
        })
        .sum();
    let mut kinds: Vec<(&str, &str, Ns)> = Vec::new();
    for (k, _) in &low {
        let (kind, rec) = fix(k);
        match kinds.iter_mut().find(|(x, _, _)| *x == kind) {
            Some(e) => e.2 += k.total_ns,
            None => kinds.push((kind, rec, k.total_ns)),
        }
    }
    kinds.sort_by(|a, b| b.2.cmp(&a.2));
    let rows = low
        .iter()
        .take(MAX_ROWS)
        .map(|(k, p)| {
            vec![
                json!(k.short_name),
                json!(roofline::group(k.category)),
                json!(k.total_ns),
                json!(facts::share(k.total_ns, kernel_ns)),
                json!(p.roof_percent.map(|x| (x * 10.0).round() / 10.0)),
                json!(p.bound.map(|b| b.label())),
                json!(fix(k).0),
            ]
        })
        .collect();
    let rec: Vec<String> = kinds
        .iter()
        .map(|(kind, rec, ns)| format!("{} ({}): {}.", kind, format::ns(*ns), rec))
        .collect();
    let draft = Draft {
        title: format!(
            "{} kernels far below both roofs (< {}% of the binding roof) take {} of GPU kernel time",
            low.len(),
            FAR_BELOW_PERCENT,
            facts::pct_label(low_ns, kernel_ns)
        ),
        stake,
        facts: vec![
            ("kernel_names", json!(low.len())),
            ("total_ns", json!(low_ns)),
            ("window_kernel_ns", json!(kernel_ns)),
            ("share_of_kernel_time", json!(facts::share(low_ns, kernel_ns))),
            ("far_below_percent", json!(FAR_BELOW_PERCENT)),
        ],
        table: EvidenceTable::new(
            &[
                "kernel",
                "group",
                "total_ns",
                "share of kernel time",
                "% of roof",
                "verdict",
                "kind",
            ],
            rows,
        ),
        recommendation: rec.join(" "),
    };
    // Kernels over the whole window: no phase, iteration or timeline.
    Some(draft.finish(cx, rule, &Where::default(), |_| None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::roofline::{Bound, Roof, WorkSource};
    use crate::findings::rules::layout_transpose::tests::trace;

    fn placement(percent: f64) -> Placement {
        Placement {
            work_source: WorkSource::Shapes,
            flops: Some(1e6),
            bytes: 1e6,
            precision: None,
            tensor_core_roof: false,
            arithmetic_intensity: Some(1.0),
            achieved_flops_per_s: Some(1e9),
            achieved_bytes_per_s: 1e9,
            roof: Some(Roof::Memory),
            roof_percent: Some(percent),
            bound: Some(Bound::MemoryBound),
            gpu_metrics: None,
        }
    }

    /// 4 iterations, each a 500 us convolution and the named kernel.
    fn run(name: &str, ns: Ns, percent: f64) -> Vec<Finding> {
        let mut a = trace(name, ns);
        for k in &mut a.kernels {
            if k.short_name != "sm90_xmma_fprop_implicit_gemm_f16f16" {
                k.roofline = Some(placement(percent));
            }
        }
        a.check(&BelowRoofline)
    }

    #[test]
    fn fires_from_five_percent_of_kernel_time() {
        let name = "void at::native::vectorized_elementwise_kernel<4, at::native::GeluCUDAKernelImpl>";
        // 26 us of 526 us per iteration: 4.9% of kernel time.
        assert!(run(name, 26_000, 5.0).is_empty());
        // 27 us of 527 us: 5.1%.
        let f = run(name, 27_000, 5.0);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "TR501");
        // At 5% of the roof, 1 - 5/50 = 90% of the time is at stake.
        assert_eq!(f[0].time_at_stake_ns, 4 * 24_300);
        assert!(f[0].recommendation.contains("fuse"), "{}", f[0].recommendation);
    }

    #[test]
    fn fires_below_ten_percent_of_the_roof_only() {
        let name = "void at::native::vectorized_elementwise_kernel<4, at::native::GeluCUDAKernelImpl>";
        assert!(run(name, 100_000, FAR_BELOW_PERCENT).is_empty());
        assert_eq!(run(name, 100_000, FAR_BELOW_PERCENT - 0.1).len(), 1);
        // No peaks (no roof_percent): nothing.
        let mut a = trace(name, 100_000);
        for k in &mut a.kernels {
            let mut p = placement(1.0);
            p.roof_percent = None;
            k.roofline = Some(p);
        }
        assert!(a.check(&BelowRoofline).is_empty());
    }

    #[test]
    fn doc_states_the_thresholds() {
        let doc = BelowRoofline::DOC;
        for n in [
            format!("below {}% of", FAR_BELOW_PERCENT),
            format!(
                "at least {}% of the window's kernel time",
                MIN_KERNEL_SHARE * 100.0
            ),
            format!("{}% of its roof", TARGET_PERCENT),
            format!("at least {} us", facts::MIN_STAKE_NS / 1000),
            "warning from 5%".into(),
            "error from 25%".into(),
        ] {
            assert!(doc.contains(&n), "explain text lacks '{n}'");
        }
    }

    #[test]
    fn fix_per_kind() {
        let f = run("nchwToNhwcKernel", 100_000, 2.0);
        assert!(f[0].recommendation.contains("channels_last"));
        let f = run(
            "void at::native::CatArrayBatchedCopy<float, unsigned int, 4, 64, 64>",
            100_000,
            2.0,
        );
        assert!(
            f[0].recommendation.contains("static KV cache"),
            "{}",
            f[0].recommendation
        );
        let f = run("conv2d_c1_k1_nchw_shmem_tiling", 100_000, 2.0);
        assert!(
            f[0].recommendation
                .contains("a larger batch, or let TensorRT fuse"),
            "{}",
            f[0].recommendation
        );
    }
}
