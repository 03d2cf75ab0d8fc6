//! TR104 `tiny-memcpy`.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;

use crate::declare_rule;
use crate::findings::facts::{self, CopyOp, Draft, Group, Where};
use crate::findings::{Context, EvidenceTable, Finding, Rule};
use crate::model::Ns;

/// Largest copy that counts as tiny.
pub const MAX_BYTES: u64 = 64 * 1024;
/// Most host time between two tiny copies of one run.
pub const RUN_GAP_NS: Ns = 100_000;
/// Fewest tiny copies per iteration (on average) that fire the rule.
pub const MIN_PER_ITERATION: f64 = 4.0;
/// Smallest time at stake, as a share of the window, that fires the rule.
pub const MIN_SHARE: f64 = 0.005;

declare_rule! {
    /// Many small host<->device copies (`.item()` reads, scalar uploads,
    /// small index tensors), each paying a call, a copy-engine round trip
    /// and usually a synchronization: a fixed cost of several microseconds
    /// that dwarfs moving a few bytes.
    ///
    /// How: host-to-device and device-to-host copies of at most 64 KiB whose
    /// GPU start lies in the window (at PCIe bandwidth 64 KiB moves in about
    /// the fixed cost of a copy, so below it latency dominates). Copies
    /// issued by one host thread in one iteration form a run when at most
    /// 100 us of host time separates one copy (call or execution, whichever
    /// ends later) from the next call (a few Python statements; longer gaps
    /// are other host work).
    ///
    /// Fires when: there are at least 4 tiny copies per iteration on
    /// average (in the window when there are no iterations), at least one
    /// run has 2 or more copies, and the time at stake is at least 0.5% of
    /// the window and 10 us.
    ///
    /// Time at stake: for each run of n copies, the time from its first call
    /// to its last copy's end while no kernel runs, times (n-1)/n: batching
    /// the run into one copy (one `.tolist()`, one packed upload) leaves one
    /// copy's worth. Lone tiny copies are counted in the evidence but put
    /// nothing at stake here (their synchronization is `sync-stall`'s). The
    /// time other copies execute inside a run is not the run's (a 200 MB
    /// copy issued between two tiny ones), and the total never exceeds the
    /// time the runs span together (runs of several threads overlap) nor
    /// the window.
    ///
    /// Severity: warning from 5% of the window, error from 25%.
    pub struct TinyMemcpy {
        name: "tiny-memcpy",
        code: "TR104",
        summary: "many small copies (.item(), scalars), each paying launch and sync latency",
    }
}

impl TinyMemcpy {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        check(self, cx).into_iter().collect()
    }
}

/// A run of tiny copies: indexes into the op list and its host span.
struct Run {
    ops: Vec<usize>,
    start: Ns,
    end: Ns,
}

/// Runs of tiny copies, per thread (or stream when the call is unknown).
fn runs(cx: &Context, ops: &[CopyOp], tiny: &[usize]) -> Vec<Run> {
    let trace = cx.trace;
    let mut open: BTreeMap<(u64, Option<usize>), Run> = BTreeMap::new();
    let mut out = Vec::new();
    for &i in tiny {
        let op = &ops[i];
        let m = op.copy(trace);
        let lane = match op.thread(trace) {
            Some(t) => u64::from(t),
            None => (1 << 40) | u64::from(m.stream),
        };
        let key = (lane, op.place.iteration);
        let (s, e) = op.span(trace);
        match open.get_mut(&key) {
            Some(r) if s - r.end <= RUN_GAP_NS => {
                r.ops.push(i);
                r.end = r.end.max(e);
            }
            _ => {
                if let Some(r) = open.insert(
                    key,
                    Run {
                        ops: vec![i],
                        start: s,
                        end: e,
                    },
                ) {
                    out.push(r);
                }
            }
        }
    }
    out.extend(open.into_values());
    out
}

fn check(rule: &dyn Rule, cx: &Context) -> Option<Finding> {
    let trace = cx.trace;
    let ops = facts::copies(cx);
    let tiny: Vec<usize> = (0..ops.len())
        .filter(|&i| {
            let m = ops[i].copy(trace);
            m.bytes <= MAX_BYTES && (facts::is_upload(m.kind) || facts::is_download(m.kind))
        })
        .collect();
    let n_its = cx.window.iterations.len().max(1);
    let per_iteration = tiny.len() as f64 / n_its as f64;
    if tiny.is_empty() || per_iteration < MIN_PER_ITERATION {
        return None;
    }
    let kernels = &cx.attribution.layers.kernel;
    let window_ns = cx.window.duration();
    let all_runs = runs(cx, &ops, &tiny);
    let mut stake = 0;
    let mut longest = 0;
    let mut flagged: HashSet<usize> = HashSet::new();
    let mut groups: BTreeMap<(&str, u64, &str), Group> = BTreeMap::new();
    let mut wh = Where::default();
    let mut in_runs = 0u64;
    let mut spans: Vec<(Ns, Ns)> = Vec::new();
    for r in &all_runs {
        let n = r.ops.len() as Ns;
        let at_stake = if n >= 2 {
            in_runs += n as u64;
            spans.push((r.start, r.end));
            let own: Ns = r
                .ops
                .iter()
                .map(|&i| {
                    let m = ops[i].copy(trace);
                    facts::exposed(cx, kernels, m.start, m.end)
                })
                .sum();
            let all_copies =
                facts::exposed_covered(cx, kernels, &cx.attribution.layers.memcpy, r.start, r.end);
            let others = (all_copies - own).max(0);
            (facts::exposed(cx, kernels, r.start, r.end) - others).max(0) * (n - 1) / n
        } else {
            0
        };
        longest = longest.max(r.ops.len());
        stake += at_stake;
        for &i in &r.ops {
            let op = &ops[i];
            let m = op.copy(trace);
            flagged.insert(op.index);
            wh.add(op.place);
            let call_ns = op
                .call
                .map_or(0, |c| trace.api_calls[c].end - trace.api_calls[c].start);
            groups
                .entry((m.kind.label(), m.bytes, op.place.phase.label()))
                .or_default()
                .add_copy(m, op.place.iteration, call_ns, at_stake / n);
        }
    }
    stake = facts::cap_stake(cx, stake, spans);
    if longest < 2 || !facts::clears(stake, window_ns, MIN_SHARE) {
        return None;
    }
    let bytes: u64 = groups.values().map(|g| g.bytes).sum();
    let rows: Vec<(u64, Vec<serde_json::Value>)> = groups
        .iter()
        .map(|((kind, b, phase), g)| {
            (
                g.count,
                vec![
                    json!(kind),
                    json!(b),
                    json!(phase),
                    json!(g.count),
                    json!(g.count as f64 / n_its as f64),
                    json!(g.iterations.len()),
                    json!(g.gpu_ns),
                    json!(g.host_ns),
                    json!(g.at_stake_ns),
                ],
            )
        })
        .collect();
    let draft = Draft {
        title: format!(
            "{} tiny copies per iteration ({} in the window, runs of up to {longest}) pay a call and a sync each",
            facts::count_label(per_iteration),
            tiny.len()
        ),
        stake,
        facts: vec![
            ("tiny_copies", json!(tiny.len())),
            ("per_iteration", json!(per_iteration)),
            ("bytes", json!(bytes)),
            (
                "runs_of_two_or_more",
                json!(all_runs.iter().filter(|r| r.ops.len() >= 2).count()),
            ),
            ("copies_in_runs", json!(in_runs)),
            ("longest_run", json!(longest)),
        ],
        table: EvidenceTable::largest_first(
            &[
                "kind",
                "bytes",
                "phase",
                "copies",
                "per iteration",
                "iterations",
                "copy_ns",
                "call_ns",
                "at_stake_ns",
            ],
            rows,
        ),
        recommendation: "Batch small transfers: read many scalars at once (stack them and call .tolist() / \
                         .cpu() once instead of .item() in a loop), keep scalars as GPU tensors instead of \
                         uploading them, and pack small uploads into one pinned buffer."
            .into(),
    };
    Some(draft.finish(cx, rule, &wh, |it| {
        facts::timeline(cx, it, &|i| flagged.contains(&i), &[])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Severity;
    use crate::findings::testing::{Analysis, Builder};
    use crate::model::{CopyKind, MemKind};

    const IT: Ns = 1_000_000;

    /// `reads` 4-byte reads per iteration, `gap` ns apart, each call 10 us.
    fn trace(reads: i64, gap: Ns) -> Analysis {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            b.kernel("k", s + 10_000, s + 100_000);
            for r in 0..reads {
                let c = s + 200_000 + r * (10_000 + gap);
                b.copy(
                    CopyKind::DtoH,
                    MemKind::Pinned,
                    4,
                    (c, c + 10_000),
                    (c + 5_000, c + 7_000),
                );
            }
        }
        b.build()
    }

    #[test]
    fn a_run_of_reads_fires_with_n_minus_1_over_n_of_its_span() {
        let a = trace(16, 10_000);
        let f = a.check(&TinyMemcpy);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.evidence.facts["tiny_copies"], json!(64));
        assert_eq!(f.evidence.facts["longest_run"], json!(16));
        // Span per iteration: 16 calls of 10 us with 15 gaps of 10 us = 310 us.
        assert_eq!(f.time_at_stake_ns, 4 * (310_000 * 15 / 16));
        // 29% of 1 ms iterations.
        assert_eq!(f.severity, Severity::Error);
    }

    /// Large copies issued between tiny ones are not the tiny ones' time,
    /// and the stake never exceeds the window.
    #[test]
    fn large_copies_inside_a_run_are_not_at_stake() {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            for r in 0..8 {
                let c = s + 10_000 + r * 100_000;
                b.copy(
                    CopyKind::DtoH,
                    MemKind::Pinned,
                    4,
                    (c, c + 5_000),
                    (c + 1_000, c + 3_000),
                );
                // A 200 MB upload of 90 us right after each read.
                b.copy(
                    CopyKind::HtoD,
                    MemKind::Pinned,
                    200 << 20,
                    (c + 5_000, c + 6_000),
                    (c + 6_000, c + 96_000),
                );
            }
        }
        let f = b.build().check(&TinyMemcpy);
        // Per iteration the run spans 705 us (8 reads 100 us apart, 5 us
        // each), of which 7 large copies take 630 us (the last starts after
        // the run): 75 us are the reads', 7/8 of it at stake (without the
        // rule for other copies: 705 us).
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].time_at_stake_ns, 4 * (75_000 * 7 / 8));
        assert!(f[0].time_at_stake_ns <= 4 * IT);
    }

    #[test]
    fn thresholds() {
        // 3 per iteration: under 4.
        assert!(trace(3, 10_000).check(&TinyMemcpy).is_empty());
        assert_eq!(trace(4, 10_000).check(&TinyMemcpy).len(), 1);
        // Reads 110 us apart never form a run; 100 us apart they do.
        assert!(trace(6, 110_000).check(&TinyMemcpy).is_empty());
        assert_eq!(trace(6, 100_000).check(&TinyMemcpy).len(), 1);
    }
}
