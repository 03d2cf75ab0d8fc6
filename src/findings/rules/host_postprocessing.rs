//! TR302 `host-postprocessing`.

use crate::declare_rule;
use crate::findings::host_phase::{self, Side};
use crate::findings::{Context, Finding};

declare_rule! {
    /// The GPU idles while the host post-processes the output: NMS,
    /// decoding boxes, detokenising or formatting results on the CPU after
    /// the GPU has finished the batch.
    ///
    /// How: the postprocess phase is the NVTX ranges nested in each
    /// iteration whose names match the postprocess pattern (`--phase
    /// postprocess=REGEX`; default `post.?process|nms|detokeni[sz]|
    /// download`). In a trace whose iterations hold no phase ranges at all
    /// it is each iteration's tail: from its last GPU operation to its end. The time that counts
    /// is the attribution's `idle: host` bucket in that phase: no kernel,
    /// copy or memset runs on any GPU and the host is not in a synchronize
    /// or launch call (those are `sync-stall` and `launch-bound`).
    ///
    /// Fires when: that time is at least 1% of the window and 10 us.
    ///
    /// Time at stake: that time. Moving the work to the GPU or
    /// post-processing batch N while the GPU runs batch N+1 can hide at
    /// most it.
    ///
    /// Severity: warning from 5% of the window, error from 25%.
    pub struct HostPostprocessing {
        name: "host-postprocessing",
        code: "TR302",
        summary: "GPU idle while the host runs postprocessing (e.g. CPU NMS)",
    }
}

impl HostPostprocessing {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        host_phase::check(cx, Side::Post, self).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Severity;
    use crate::findings::rules::host_preprocessing::tests::trace;

    #[test]
    fn thresholds_and_fallback() {
        assert!(trace(0, 4_000, true).check(&HostPostprocessing).is_empty());
        let f = trace(0, 10_000, true).check(&HostPostprocessing);
        assert_eq!(f.len(), 1);
        // The 2 us between the kernel's end and the phase start are
        // inference; the phase holds 10 us of idle host time.
        assert_eq!(f[0].time_at_stake_ns, 4 * 10_000);
        assert_eq!(f[0].severity, Severity::Info);
        let f = trace(0, 200_000, false).check(&HostPostprocessing);
        // Tail: from the last kernel's end to the iteration end.
        assert_eq!(f[0].time_at_stake_ns, 4 * 200_000);
        assert_eq!(f[0].severity, Severity::Error);
        // A preprocessing-only trace has no postprocessing finding.
        assert!(trace(300_000, 0, true).check(&HostPostprocessing).is_empty());
    }
}
