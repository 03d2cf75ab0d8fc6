//! TR304 `launch-bound`.

use serde_json::json;

use crate::analysis::intervals::{self, Span};
use crate::analysis::median::{Counts, median_of};
use crate::analysis::span_list;
use crate::declare_rule;
use crate::findings::facts::{self, Draft, Where};
use crate::findings::{Context, EvidenceTable, Finding, Rule, Severity};
use crate::model::{ApiKind, Ns};
use crate::text::format;

/// Longest GPU idle gap counted as per-kernel launch overhead.
pub const MAX_GAP_NS: Ns = 100_000;
/// Gap a CUDA graph still leaves between two kernels.
pub const GRAPH_GAP_NS: Ns = 2_000;
/// Launch-call duration assumed when the trace records no launch calls.
pub const DEFAULT_LAUNCH_NS: Ns = 5_000;
/// Fewest kernels per iteration (in the window without iterations).
pub const MIN_KERNELS_PER_ITERATION: f64 = 20.0;
/// Smallest share of kernels shorter than the median launch call.
pub const MIN_SHORT_SHARE: f64 = 0.5;
/// Smallest time at stake, as a share of the window, that fires the rule.
pub const MIN_SHARE: f64 = 0.05;

declare_rule! {
    /// Many short kernels with the GPU idle between them: the host cannot
    /// issue kernels as fast as the GPU runs them, so every kernel pays the
    /// launch call and the framework's per-operator overhead in GPU idle
    /// time.
    ///
    /// How: kernels whose GPU start lies in the window; a kernel is short
    /// when it runs for less than the host takes to issue one: the median
    /// interval between consecutive launch calls (`cudaLaunchKernel`,
    /// `cuLaunchKernelEx`, ...) on one thread, counting intervals of at
    /// most 100 us, and never less than the median launch call itself (5 us
    /// when no launch call is recorded). A short kernel finishes before the
    /// host can issue the next, so the GPU idles. The time involved is the GPU
    /// idle gaps between consecutive GPU operations (kernels, copies,
    /// memsets on any GPU) that last at most 100 us, less any part spent
    /// in a synchronize call or in a pre/postprocess phase (those are
    /// `sync-stall`, `host-preprocessing` and `host-postprocessing`).
    /// Longer gaps are host work, not launch overhead.
    ///
    /// Fires when: there are at least 20 kernels per iteration (in the
    /// window without iterations), at least half of them are short, and
    /// the time at stake is at least 5% of the window and 10 us.
    ///
    /// Time at stake: each counted gap less 2 us, the gap a CUDA graph
    /// still leaves between kernels: what replaying the captured kernels
    /// as a graph could save. An upper bound: it assumes the whole forward
    /// can be captured.
    ///
    /// Severity: by its time at stake like every rule (warning from 5% of
    /// the window; it fires from there), but never error: removing launch overhead means
    /// capturing or compiling the model, which the trace cannot show to be
    /// possible (CUDA graphs and `torch.compile(mode="reduce-overhead")`
    /// need static shapes and no host synchronisation or data-dependent
    /// control flow inside the captured part), and tracing itself lengthens
    /// every launch call. An LLM `generate()` loop with most of its window
    /// in launch gaps is a warning, ranked first by its time at stake.
    pub struct LaunchBound {
        name: "launch-bound",
        code: "TR304",
        summary: "many short kernels with GPU idle between them (launch overhead)",
    }
}

impl LaunchBound {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        check(self, cx).into_iter().collect()
    }
}

/// Call `f(start, end, counted)` for each gap of at most MAX_GAP_NS between
/// busy spans inside a span of `window`, where `counted` (> 0) is the part
/// not covered by `excluded`.
fn each_gap(
    window: &[Span],
    busy: &mut span_list::Union,
    excluded: &mut span_list::Union,
    mut f: impl FnMut(Ns, Ns, Ns),
) {
    let mut inside = Vec::new();
    for &(ws, we) in window {
        // Clipped to the window span: the gaps between its spans are the same.
        busy.clipped(ws, we, &mut inside);
        for pair in inside.windows(2) {
            let (gs, ge) = (pair[0].1, pair[1].0);
            if gs < ws || ge > we || ge - gs > MAX_GAP_NS {
                continue;
            }
            let counted = ge - gs - excluded.covered(gs, ge);
            if counted > 0 {
                f(gs, ge, counted);
            }
        }
    }
}

/// Gap histogram bucket upper bounds.
/// The time since the previous launch on `a`'s thread (`last` holds each
/// thread's), when there is one and it is at most [`MAX_GAP_NS`].
fn issue_gap(last: &mut Vec<Option<Ns>>, a: &crate::model::ApiCall) -> Option<Ns> {
    let t = a.thread as usize;
    if t >= last.len() {
        last.resize(t + 1, None);
    }
    let gap = a.start - last[t].replace(a.start)?;
    (gap <= MAX_GAP_NS).then_some(gap)
}

const BUCKETS: [Ns; 6] = [2_000, 5_000, 10_000, 20_000, 50_000, MAX_GAP_NS];

fn check(rule: &dyn Rule, cx: &Context) -> Option<Finding> {
    let trace = cx.trace;
    let window_ns = cx.window.duration();
    let kernels = || {
        cx.window
            .indexes(&trace.kernels, |k| k.start)
            .map(|i| &trace.kernels[i])
    };
    let n_kernels = kernels().count();
    let n_its = cx.window.iterations.len().max(1);
    let per_iteration = n_kernels as f64 / n_its as f64;
    if per_iteration < MIN_KERNELS_PER_ITERATION {
        return None;
    }
    // Medians over every launch and kernel: read again, not listed.
    let launches = || {
        cx.window
            .indexes(&trace.api_calls, |a| a.start)
            .map(|i| &trace.api_calls[i])
            .filter(|a| a.kind == ApiKind::Launch)
    };
    // Per launch after a thread's first: the time since its previous one.
    let issue = || {
        let mut last: Vec<Option<Ns>> = vec![None; trace.threads.len()];
        launches().filter_map(move |a| issue_gap(&mut last, a))
    };
    // One read of the launches counts both their durations and the gaps
    // between them; the medians then rarely need another.
    let (mut calls, mut gaps) = (Counts::default(), Counts::default());
    let mut last: Vec<Option<Ns>> = vec![None; trace.threads.len()];
    for a in launches() {
        calls.add(a.end - a.start);
        if let Some(g) = issue_gap(&mut last, a) {
            gaps.add(g);
        }
    }
    let launch_ns = median_of(&calls, || launches().map(|a| a.end - a.start)).unwrap_or(DEFAULT_LAUNCH_NS);
    let issue_ns = median_of(&gaps, issue).unwrap_or(launch_ns).max(launch_ns);
    let duration = |k: &crate::model::Kernel| k.end - k.start;
    let mut durations = Counts::default();
    for k in kernels() {
        durations.add(duration(k));
    }
    let short = durations.below(issue_ns).map_or_else(
        || kernels().filter(|k| duration(k) < issue_ns).count(),
        |n| n as usize,
    );
    let short_share = short as f64 / n_kernels as f64;
    if short_share < MIN_SHORT_SHARE {
        return None;
    }
    let kernel_median = median_of(&durations, || kernels().map(duration)).unwrap_or(0);
    let l = &cx.attribution.layers;
    let mut busy = facts::gpu_busy(cx);
    // Read as one union, not built (the sync layer alone can be millions).
    let excluded = || span_list::Union::new(&[&l.sync, &l.preprocess, &l.postprocess]);
    let mut n_gaps: u64 = 0;
    let (mut involved, mut stake) = (0, 0);
    let mut hist = [(0u64, 0 as Ns, 0 as Ns); BUCKETS.len()];
    let mut wh = Where::default();
    // Gaps come in time order: cursors, not a search per gap.
    let mut placer = facts::Placer::new(cx);
    each_gap(&cx.window.spans, &mut busy, &mut excluded(), |gs, ge, counted| {
        let saving = (counted - GRAPH_GAP_NS).max(0);
        involved += counted;
        stake += saving;
        n_gaps += 1;
        wh.add(placer.place(gs));
        let b = BUCKETS
            .iter()
            .position(|&ub| ge - gs <= ub)
            .unwrap_or(BUCKETS.len() - 1);
        hist[b].0 += 1;
        hist[b].1 += counted;
        hist[b].2 += saving;
    });
    if !facts::clears(stake, window_ns, MIN_SHARE) {
        return None;
    }
    let mut lo = 0;
    let rows = BUCKETS
        .iter()
        .zip(hist)
        .map(|(&ub, (n, inv, sav))| {
            let row = vec![
                json!(format!("{}-{} us", lo / 1000, ub / 1000)),
                json!(n),
                json!(inv),
                json!(sav),
            ];
            lo = ub;
            row
        })
        .collect();
    let draft = Draft {
        title: format!(
            "launch-bound: {per_iteration:.0} kernels per iteration, {:.0}% shorter than the host takes to issue one ({}); GPU idle {} ({} of the window) in short gaps between them",
            short_share * 100.0,
            format::ns(issue_ns),
            facts::per_iteration_label(cx, involved),
            facts::pct_label(involved, window_ns)
        ),
        stake,
        facts: vec![
            ("kernels", json!(n_kernels)),
            ("per_iteration", json!(per_iteration)),
            ("median_kernel_ns", json!(kernel_median)),
            ("median_launch_call_ns", json!(launch_ns)),
            ("median_issue_interval_ns", json!(issue_ns)),
            ("short_kernels", json!(short)),
            ("short_share", json!(short_share)),
            ("gaps", json!(n_gaps)),
            ("gap_ns", json!(involved)),
            ("window_kernel_ns", json!(cx.attribution.total.activity.kernel_ns)),
        ],
        table: EvidenceTable::new(&["gap", "gaps", "idle_ns", "at_stake_ns"], rows),
        recommendation: "Capture the steady-state forward as a CUDA graph (torch.compile(mode=\"reduce-overhead\"), \
                         torch.cuda.CUDAGraph, TensorRT) so one launch replays every kernel, and fuse small \
                         elementwise kernels (torch.compile); a larger batch also spreads the per-kernel cost. \
                         Graphs need static shapes (pad or bucket variable lengths, one graph per bucket) and \
                         no host synchronisation or data-dependent control flow inside the captured part."
            .into(),
    };
    let mut f = draft.finish(cx, rule, &wh, |it| {
        // The gaps again, within this iteration only (storing them all
        // would cost 16 bytes per kernel).
        let i = &cx.window.iterations[it];
        let mut marks: Vec<(&str, Span)> = Vec::new();
        let spans = intervals::overlapping(&cx.window.spans, i.start, i.end);
        let mut busy = facts::gpu_busy(cx);
        each_gap(spans, &mut busy, &mut excluded(), |gs, ge, _| {
            if ge > i.start && gs < i.end {
                marks.push(("GPU idle between kernels", (gs, ge)));
            }
        });
        facts::timeline(cx, it, &|_| false, &marks)
    });
    // Never an error: see the rule's documentation.
    f.severity = f.severity.min(Severity::Warning);
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testing::{Analysis, Builder};

    const IT: Ns = 1_000_000;

    /// Per iteration: `n` kernels of `dur`, each after a `gap` (launch calls
    /// take 1 us, see the builder).
    fn trace(n: i64, dur: Ns, gap: Ns) -> Analysis {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            let mut t = s + 10_000;
            for _ in 0..n {
                b.kernel("k", t, t + dur);
                t += dur + gap;
            }
        }
        b.build()
    }

    #[test]
    fn short_kernels_with_gaps_fire_by_their_stake() {
        // 20 kernels of 500 ns, 20 us apart: 19 gaps per iteration, 34%
        // of the window at stake: error by share, capped at warning.
        let a = trace(20, 500, 20_000);
        let f = a.check(&LaunchBound);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence.facts["gaps"], json!(4 * 19));
        assert_eq!(f[0].time_at_stake_ns, 4 * 19 * (20_000 - GRAPH_GAP_NS));
        assert!(f[0].time_at_stake_ns <= a.window_ns());
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].recommendation.contains("static shapes"));
        // 19 x 4 us gaps less 2 us: 38 us of 1 ms, 3.8%: silent; 19 x 5 us
        // less 2 us: 57 us, 5.7%: a warning from the floor up.
        assert!(trace(20, 500, 4_000).check(&LaunchBound).is_empty());
        let f = trace(20, 500, 5_000).check(&LaunchBound);
        assert_eq!(f[0].severity, Severity::Warning);
    }

    #[test]
    fn thresholds() {
        // 19 kernels per iteration.
        assert!(trace(19, 500, 20_000).check(&LaunchBound).is_empty());
        // Kernels longer than the host's issue interval: the host launches
        // every 2 us and runs ahead; the gaps are not the launches' doing.
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            for k in 0..20 {
                let (call, run) = (s + k * 2_000, s + 100_000 + k * 40_000);
                b.kernel_at("k", (call, call + 1_000), run, run + 30_000);
            }
        }
        assert!(b.build().check(&LaunchBound).is_empty());
        // Gaps over 100 us are host work, not launch overhead.
        assert!(trace(20, 500, 101_000).check(&LaunchBound).is_empty());
        // 19 x 3 us gaps less 2 us: 19 us per 1 ms, under 5%.
        assert!(trace(20, 500, 3_000).check(&LaunchBound).is_empty());
    }
}
