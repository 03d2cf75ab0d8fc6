//! TR201 `layout-transpose`.

use crate::analysis::category::Category;
use crate::declare_rule;
use crate::findings::facts;
use crate::findings::kernel_family::{self, Family};
use crate::findings::{Context, Finding, Rule};

/// Smallest share of the window's kernel time that fires the rule.
pub const MIN_KERNEL_SHARE: f64 = 0.01;

declare_rule! {
    /// Time in kernels that only convert a tensor's memory layout: cuDNN's
    /// `nchwToNhwc` / `nhwcToNchw` (inserted around convolutions when the
    /// tensors are NCHW but the fastest kernels want NHWC), materialised
    /// transposes and permutes (`transpose`, `permute`, `genericTranspose`),
    /// TensorRT reformat layers (`reformat`, `copyPacked`, `shuffle`). The
    /// model and the engine disagree on layout and pay a copy to reconcile.
    ///
    /// How: kernels whose GPU start lies in the window and whose demangled
    /// name the `layout` category matches (`trace-report` kernel
    /// categories: `nchwtonhwc|nhwctonchw|nhwcaddpadding|transpose|permute|
    /// reformat|tensortransform|converttensor|copypacked|shuffle`,
    /// case-insensitive). Phase and iteration come from the host time of
    /// each kernel's launch call.
    ///
    /// Fires when: their GPU time is at least 1% of the window's kernel time
    /// and at least 10 us.
    ///
    /// Time at stake: the GPU time they occupy (the union of their spans).
    /// Running the model in the layout its kernels want removes them; the
    /// launches they cost the host are not counted.
    ///
    /// Severity: warning from 5% of the window, error from 25%.
    pub struct LayoutTranspose {
        name: "layout-transpose",
        code: "TR201",
        summary: "time in layout conversion kernels (NCHW<->NHWC, transposes, reformats)",
    }
}

impl LayoutTranspose {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        let fam = kernel_family::collect(cx, &[Category::Layout]);
        check(self, cx, &fam).into_iter().collect()
    }
}

fn recommendation(cx: &Context, fam: &Family) -> String {
    let names: Vec<String> = fam
        .names
        .keys()
        .map(|&id| cx.trace.name(id).to_ascii_lowercase())
        .collect();
    let any = |pats: &[&str]| names.iter().any(|n| pats.iter().any(|p| n.contains(p)));
    let mut out = Vec::new();
    if any(&["nchwtonhwc", "nhwctonchw", "nhwcaddpadding"]) {
        out.push(
            "The convolutions run in NHWC but the tensors are NCHW, so cuDNN converts before and after \
             them: convert the model and its input to channels_last once \
             (model.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)).",
        );
    }
    if any(&["reformat", "copypacked", "shuffle"]) {
        out.push(
            "TensorRT inserts reformat layers where adjacent layers disagree on format or precision: \
             feed the engine the input format it prefers (--inputIOFormats) and keep neighbouring \
             layers in one precision.",
        );
    }
    if any(&["transpose", "permute", "tensortransform", "converttensor"]) {
        out.push(
            "A transpose or permute is materialised: let the consumer read the transposed view \
             (matmul takes transposed operands) or have the producer write the layout the consumer \
             needs.",
        );
    }
    if out.is_empty() {
        out.push("Use one memory layout end to end so no conversion kernels are needed.");
    }
    out.join(" ")
}

fn check(rule: &dyn Rule, cx: &Context, fam: &Family) -> Option<Finding> {
    if !fam.clears(MIN_KERNEL_SHARE) {
        return None;
    }
    let n_its = cx.window.iterations.len();
    let title = format!(
        "layout conversion kernels take {} of GPU kernel time ({} calls{})",
        facts::pct_label(fam.union_ns, fam.kernel_ns),
        fam.count,
        if n_its > 0 {
            format!(", {:.0} per iteration", fam.count as f64 / n_its as f64)
        } else {
            String::new()
        }
    );
    let rec = recommendation(cx, fam);
    Some(fam.finding(cx, rule, "GPU: layout conversions", title, Vec::new(), rec))
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;
    use crate::findings::Severity;
    use crate::findings::testing::{Analysis, Builder};
    use crate::model::Ns;

    const IT: Ns = 1_000_000;

    /// Per iteration: a 500 us convolution and one `name` kernel of `ns`.
    pub(crate) fn trace(name: &str, ns: Ns) -> Analysis {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            b.kernel("sm90_xmma_fprop_implicit_gemm_f16f16", s + 100_000, s + 600_000);
            b.kernel(name, s + 600_000, s + 600_000 + ns);
        }
        b.build()
    }

    #[test]
    fn fires_from_one_percent_of_kernel_time() {
        let name = "void cudnn::ops::nchwToNhwcKernel<__half, __half, float, false, true>";
        // 5 us of 505 us: under 1%.
        assert!(trace(name, 5_000).check(&LayoutTranspose).is_empty());
        let f = trace(name, 6_000).check(&LayoutTranspose);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].time_at_stake_ns, 4 * 6_000);
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(f[0].evidence.facts["kernels"], json!(4));
        assert!(f[0].recommendation.contains("channels_last"));
        // 100 us per 1 ms iteration: 10% of the window.
        let f = trace(name, 100_000).check(&LayoutTranspose);
        assert_eq!(f[0].severity, Severity::Warning);
    }

    #[test]
    fn other_kernels_do_not_fire() {
        assert!(
            trace("void at::native::vectorized_elementwise_kernel<add>", 100_000)
                .check(&LayoutTranspose)
                .is_empty()
        );
    }
}
