//! TR202 `concat-copy`.

use serde_json::json;

use crate::analysis::category::Category;
use crate::declare_rule;
use crate::findings::facts;
use crate::findings::kernel_family::{self, Family};
use crate::findings::{Context, Finding, Rule};

/// Smallest share of the window's kernel time that fires the rule.
pub const MIN_KERNEL_SHARE: f64 = 0.01;

declare_rule! {
    /// Time in kernels that only move data from one GPU buffer to another:
    /// concatenation (`CatArrayBatchedCopy`, `concat`), contiguous copies of
    /// strided views (PyTorch's `direct_copy_kernel_cuda`, e.g. a
    /// `.contiguous()` after a transpose or a slice) and dtype copies
    /// (`float16_copy_kernel_cuda`). The bytes are written once, then read
    /// and written again.
    ///
    /// How: kernels whose GPU start lies in the window and whose demangled
    /// name the `copy` category matches (`catarraybatchedcopy|cat_array|
    /// concat|direct_copy|copy_kernel|copy_device|memcpy`, case-insensitive).
    /// Phase and iteration come from the host time of each kernel's launch
    /// call.
    ///
    /// Fires when: their GPU time is at least 1% of the window's kernel time
    /// and at least 10 us.
    ///
    /// Time at stake: the GPU time they occupy (the union of their spans):
    /// writing the parts straight into their final place removes them.
    ///
    /// Severity: warning from 5% of the window, error from 25%.
    pub struct ConcatCopy {
        name: "concat-copy",
        code: "TR202",
        summary: "concatenation and copy kernels that only move data",
    }
}

impl ConcatCopy {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        let fam = kernel_family::collect(cx, &[Category::Copy]);
        check(self, cx, &fam).into_iter().collect()
    }
}

fn check(rule: &dyn Rule, cx: &Context, fam: &Family) -> Option<Finding> {
    if !fam.clears(MIN_KERNEL_SHARE) {
        return None;
    }
    let is = |pats: &[&str]| {
        fam.names
            .iter()
            .filter(|(id, _)| {
                let n = cx.trace.name(**id).to_ascii_lowercase();
                pats.iter().any(|p| n.contains(p))
            })
            .map(|(_, r)| r.count)
            .sum::<u64>()
    };
    let concat = is(&["catarraybatchedcopy", "cat_array", "concat"]);
    let mut rec = Vec::new();
    if concat > 0 {
        rec.push(
            "Avoid the concatenation: preallocate the output and have each producer write into its \
             slice (out= or a view), or let the consumer take the parts.",
        );
    }
    if fam.count > concat {
        rec.push(
            "For contiguous copies of transposed or sliced views, keep the layout the consumer reads \
             (many ops accept strided input) or produce the tensor contiguous in the first place; \
             fuse dtype conversions into the producer (torch.compile does both).",
        );
    }
    let title = format!(
        "copy-only kernels take {} of GPU kernel time ({} concatenations and {} other copies{})",
        facts::pct_label(fam.union_ns, fam.kernel_ns),
        facts::count_label(facts::per_iteration_count(cx, concat as f64)),
        facts::count_label(facts::per_iteration_count(cx, (fam.count - concat) as f64)),
        if cx.window.iterations.is_empty() {
            ""
        } else {
            " per iteration"
        }
    );
    let extra = vec![
        ("concat_kernels", json!(concat)),
        ("copy_kernels", json!(fam.count - concat)),
    ];
    Some(fam.finding(cx, rule, "GPU: copy kernels", title, extra, rec.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Severity;
    use crate::findings::rules::layout_transpose::tests::trace;

    #[test]
    fn fires_from_one_percent_of_kernel_time() {
        let name = "void at::native::<unnamed>::CatArrayBatchedCopy_vectorized<OpaqueType<4>, unsigned int, 2, 128, 1>";
        assert!(trace(name, 5_000).check(&ConcatCopy).is_empty());
        let f = trace(name, 6_000).check(&ConcatCopy);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence.facts["concat_kernels"], json!(4));
        assert_eq!(f[0].evidence.facts["copy_kernels"], json!(0));
        assert_eq!(f[0].time_at_stake_ns, 24_000);
        assert_eq!(f[0].severity, Severity::Info);
    }

    #[test]
    fn layout_kernels_are_not_copies() {
        assert!(trace("nhwcToNchwKernel", 100_000).check(&ConcatCopy).is_empty());
    }
}
