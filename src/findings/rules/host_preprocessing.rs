//! TR301 `host-preprocessing`.

use crate::declare_rule;
use crate::findings::host_phase::{self, Side};
use crate::findings::{Context, Finding};

declare_rule! {
    /// The GPU idles while the host prepares the input: decoding, resizing,
    /// normalising or tokenising on the CPU before the GPU gets any work.
    ///
    /// How: the preprocess phase is the NVTX ranges nested in each iteration
    /// whose names match the preprocess pattern (`--phase preprocess=REGEX`;
    /// default `pre.?process|preproc|decode|resize|normali[sz]|tokeni[sz]|
    /// load|upload`). In a trace whose iterations hold no phase ranges at
    /// all it is each iteration's head: from its start to its first GPU
    /// operation. The
    /// time that counts is the attribution's `idle: host` bucket in that
    /// phase: no kernel, copy or memset runs on any GPU and the host is not
    /// in a synchronize or launch call (those are `sync-stall` and
    /// `launch-bound`).
    ///
    /// Fires when: that time is at least 1% of the window and 10 us.
    ///
    /// Time at stake: that time. Moving the work to the GPU or preparing the
    /// next batch while the GPU runs the current one can hide at most it.
    ///
    /// Severity: warning from 5% of the window, error from 25%.
    pub struct HostPreprocessing {
        name: "host-preprocessing",
        code: "TR301",
        summary: "GPU idle while the host runs preprocessing",
    }
}

impl HostPreprocessing {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        host_phase::check(cx, Side::Pre, self).into_iter().collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::findings::Severity;
    use crate::findings::testing::{Analysis, Builder};
    use crate::model::Ns;

    const IT: Ns = 1_000_000;

    /// Iterations with `pre` ns of host-only preprocessing then 500 us of
    /// kernels, then `post` ns of host-only postprocessing; phases named
    /// when `named`.
    pub(crate) fn trace(pre: Ns, post: Ns, named: bool) -> Analysis {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            let e = s + pre + 500_000 + post + 2_000;
            b.range("iter", s, e);
            if named {
                b.range("preprocess", s, s + pre);
                b.range("infer", s + pre, s + pre + 502_000);
                b.range("postprocess", s + pre + 502_000, e);
            }
            b.kernel("k", s + pre + 2_000, s + pre + 502_000);
        }
        b.build()
    }

    #[test]
    fn named_phase_thresholds() {
        // 4 us of ~506 us: under 1%.
        assert!(trace(4_000, 0, true).check(&HostPreprocessing).is_empty());
        let f = trace(10_000, 0, true).check(&HostPreprocessing);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].time_at_stake_ns, 4 * 10_000);
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(f[0].evidence.phases, vec!["preprocess".to_string()]);
        assert!(f[0].title.contains("preprocess"));
        let f = trace(300_000, 0, true).check(&HostPreprocessing);
        assert_eq!(f[0].severity, Severity::Error);
    }

    #[test]
    fn annotated_phases_without_preprocess_have_none() {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            b.range("iter", s, s + 600_000);
            b.range("infer", s + 100_000, s + 600_000);
            b.kernel("k", s + 102_000, s + 600_000);
        }
        assert!(b.build().check(&HostPreprocessing).is_empty());
    }

    #[test]
    fn without_ranges_the_iteration_head_counts() {
        let a = trace(100_000, 0, false);
        let f = a.check(&HostPreprocessing);
        assert_eq!(f.len(), 1);
        // Head: from the iteration start to the first kernel, minus the
        // 1 us launch call just before it.
        assert_eq!(f[0].time_at_stake_ns, 4 * 101_000);
        assert_eq!(f[0].evidence.phases, vec!["unannotated".to_string()]);
    }
}
