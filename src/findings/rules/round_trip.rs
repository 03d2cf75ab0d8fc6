//! TR102 `round-trip`.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use crate::analysis::span_list::SpanList;
use crate::declare_rule;
use crate::findings::facts::{self, CopyOp, Draft, Where};
use crate::findings::{Context, EvidenceTable, Finding, Rule};
use crate::model::Ns;
use crate::text::format;

/// Smallest device-to-host copy that can start a round trip.
pub const MIN_BYTES: u64 = 4096;
/// Smallest time at stake, as a share of the window, that fires the rule.
pub const MIN_SHARE: f64 = 0.005;

declare_rule! {
    /// A device-to-host copy whose data goes straight back to the device:
    /// the next host-to-device copy issued by the same process, in the same
    /// iteration, moves the same number of bytes. Typical of a tensor pulled
    /// to the CPU for an operation the GPU could do (`.cpu()` / `.numpy()`,
    /// then `.cuda()` again).
    ///
    /// How: copies whose GPU start lies in the window, in the order the host
    /// issued them (their API calls, found by correlation id). A
    /// device-to-host copy of at least 4 KiB pairs with the next
    /// host-to-device copy of its process when that copy is in the same
    /// iteration and has the same byte count (when several downloads wait
    /// for one upload, the latest of equal size pairs). The trace does not
    /// record the bytes themselves, so equal size is the evidence; below
    /// 4 KiB equal sizes match by chance (two scalars).
    ///
    /// Fires when: the pairs' time at stake is at least 0.5% of the window
    /// and 10 us.
    ///
    /// Time at stake: for each pair, the time the two copies hold the host
    /// (their API calls) or the GPU (their execution) while no kernel runs.
    /// Keeping the data on the GPU removes both copies; the host work
    /// between them is not counted.
    ///
    /// Severity: warning from 5% of the window, error from 25%.
    pub struct RoundTrip {
        name: "round-trip",
        code: "TR102",
        summary: "data copied to the host and straight back to the device",
    }
}

impl RoundTrip {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        let ops = facts::copies(cx);
        check(self, cx, &ops).into_iter().collect()
    }
}

/// Round trips among `ops` (host order): pairs of indexes into `ops`,
/// (download, upload).
pub fn pairs(cx: &Context, ops: &[CopyOp]) -> Vec<(usize, usize)> {
    let trace = cx.trace;
    let mut pending: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let m = op.copy(trace);
        if facts::is_download(m.kind) && m.bytes >= MIN_BYTES && op.place.iteration.is_some() {
            pending.entry(m.pid).or_default().push(i);
        } else if facts::is_upload(m.kind) {
            let Some(waiting) = pending.remove(&m.pid) else {
                continue;
            };
            let back = waiting.into_iter().rev().find(|&d| {
                let dm = ops[d].copy(trace);
                dm.bytes == m.bytes && ops[d].place.iteration == op.place.iteration
            });
            if let Some(d) = back {
                out.push((d, i));
            }
        }
    }
    out
}

/// Time of the union of two spans in the window with no kernel running.
fn exposed_pair(cx: &Context, kernels: &SpanList, a: (Ns, Ns), b: (Ns, Ns)) -> Ns {
    let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    if second.0 <= first.1 {
        facts::exposed(cx, kernels, first.0, first.1.max(second.1))
    } else {
        facts::exposed(cx, kernels, first.0, first.1) + facts::exposed(cx, kernels, second.0, second.1)
    }
}

fn check(rule: &dyn Rule, cx: &Context, ops: &[CopyOp]) -> Option<Finding> {
    let trace = cx.trace;
    let found = pairs(cx, ops);
    if found.is_empty() {
        return None;
    }
    let kernels = &cx.attribution.layers.kernel;
    let window_ns = cx.window.duration();
    let mut wh = Where::default();
    // Rows keyed by (bytes, phase out, phase back).
    let mut rows: std::collections::BTreeMap<(u64, &str, &str), (u64, HashSet<usize>, Ns, Ns, Ns)> =
        Default::default();
    let (mut stake, mut gpu, mut bytes) = (0, 0, 0u64);
    let mut flagged: HashSet<usize> = HashSet::new();
    for &(d, u) in &found {
        let (dop, uop) = (&ops[d], &ops[u]);
        let (dm, um) = (dop.copy(trace), uop.copy(trace));
        wh.add(dop.place);
        wh.add(uop.place);
        flagged.insert(dop.index);
        flagged.insert(uop.index);
        let at_stake = exposed_pair(cx, kernels, dop.span(trace), uop.span(trace));
        let copy_ns = (dm.end - dm.start) + (um.end - um.start);
        let gap = (uop.host_start - dop.span(trace).1).max(0);
        stake += at_stake;
        gpu += copy_ns;
        bytes += dm.bytes + um.bytes;
        let row = rows
            .entry((dm.bytes, dop.place.phase.label(), uop.place.phase.label()))
            .or_default();
        row.0 += 1;
        if let Some(i) = dop.place.iteration {
            row.1.insert(i);
        }
        row.2 += copy_ns;
        row.3 += gap;
        row.4 += at_stake;
    }
    if !facts::clears(stake, window_ns, MIN_SHARE) {
        return None;
    }
    let n = found.len() as u64;
    let table = EvidenceTable::new(
        &[
            "bytes",
            "pairs",
            "iterations",
            "out (phase)",
            "back (phase)",
            "copy_ns",
            "mean host gap_ns",
            "at_stake_ns",
        ],
        rows.iter()
            .rev()
            .map(|((b, out, back), r)| {
                vec![
                    json!(b),
                    json!(r.0),
                    json!(r.1.len()),
                    json!(out),
                    json!(back),
                    json!(r.2),
                    json!(r.3 / r.0.max(1) as Ns),
                    json!(r.4),
                ]
            })
            .collect(),
    );
    let (&(b, _, _), _) = rows.iter().next_back()?;
    let draft = Draft {
        title: format!(
            "{} device-to-host {} per iteration ({} each) went straight back to the GPU ({n} in {} iterations)",
            facts::count_label(facts::per_iteration_count(cx, n as f64)),
            if facts::per_iteration_count(cx, n as f64) == 1.0 {
                "copy"
            } else {
                "copies"
            },
            format::bytes(b),
            wh.iterations.len()
        ),
        stake,
        facts: vec![
            ("round_trips", json!(n)),
            ("bytes", json!(bytes)),
            ("iterations_with_round_trip", json!(wh.iterations.len())),
            ("window_iterations", json!(cx.window.iterations.len())),
            ("copy_ns", json!(gpu)),
        ],
        table,
        recommendation: "Keep the tensor on the GPU: do the operation between the two copies with GPU \
                         ops instead of on the CPU (no .cpu()/.numpy() then .cuda()); if the host needs a \
                         value, copy only that value, asynchronously into pinned memory."
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
    use crate::findings::testing::Builder;
    use crate::model::{CopyKind, MemKind};

    const IT: Ns = 1_000_000;

    /// `n` iterations of 1 ms; each has a download of `down` bytes at 100 us
    /// and an upload of `up` bytes at 500 us, each copy 50 us.
    fn trace(n: i64, down: u64, up: u64) -> crate::findings::testing::Analysis {
        let mut b = Builder::default();
        for i in 0..n {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            b.kernel("k", s + 10_000, s + 90_000);
            b.copy(
                CopyKind::DtoH,
                MemKind::Pinned,
                down,
                (s + 100_000, s + 160_000),
                (s + 105_000, s + 155_000),
            );
            b.copy(
                CopyKind::HtoD,
                MemKind::Pinned,
                up,
                (s + 500_000, s + 560_000),
                (s + 505_000, s + 555_000),
            );
            b.kernel("k", s + 600_000, s + 900_000);
        }
        b.build()
    }

    #[test]
    fn equal_sizes_pair_and_stake_is_the_exposed_copy_time() {
        let a = trace(4, 1 << 20, 1 << 20);
        let f = a.check(&RoundTrip);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.evidence.facts["round_trips"], json!(4));
        // Each copy holds host or GPU for 60 us, no kernel meanwhile.
        assert_eq!(f.time_at_stake_ns, 4 * 120_000);
        assert_eq!(f.evidence.iterations, vec![0, 1, 2, 3]);
        assert!(f.time_at_stake_ns <= a.window_ns());
        // 120 us of a ~1 ms iteration: 12%.
        assert_eq!(f.severity, Severity::Warning);
    }

    #[test]
    fn different_sizes_or_small_copies_do_not_pair() {
        assert!(trace(4, 1 << 20, (1 << 20) + 4).check(&RoundTrip).is_empty());
        assert!(trace(4, 4095, 4095).check(&RoundTrip).is_empty());
        assert_eq!(trace(4, 4096, 4096).check(&RoundTrip).len(), 1);
    }

    #[test]
    fn upload_in_the_next_iteration_does_not_pair() {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            // Upload first, then a download of the same size: the next
            // upload is in the next iteration.
            b.copy(
                CopyKind::HtoD,
                MemKind::Pinned,
                1 << 20,
                (s + 100_000, s + 160_000),
                (s + 105_000, s + 155_000),
            );
            b.copy(
                CopyKind::DtoH,
                MemKind::Pinned,
                1 << 20,
                (s + 500_000, s + 560_000),
                (s + 505_000, s + 555_000),
            );
        }
        assert!(b.build().check(&RoundTrip).is_empty());
    }
}
