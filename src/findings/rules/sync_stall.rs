//! TR303 `sync-stall`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::analysis::attribution::{is_pageable, memcpy_by_correlation};
use crate::analysis::intervals::{self, Span};
use crate::declare_rule;
use crate::findings::facts::{self, Draft, Where};
use crate::findings::{Context, EvidenceTable, Finding, Rule};
use crate::model::kinds::base_api_name;
use crate::model::{ApiKind, Ns};

/// Smallest time at stake, as a share of the window, that fires the rule.
pub const MIN_SHARE: f64 = 0.01;

declare_rule! {
    /// The GPU idles while the host waits in a synchronize call or a
    /// blocking copy: nothing is queued behind the wait, so the GPU sits
    /// empty until the host returns and launches more work. Typical causes:
    /// `torch.cuda.synchronize()` or `.item()` / `.cpu()` in the loop,
    /// `cudaDeviceSynchronize` for timing, blocking `cudaMemcpy`.
    ///
    /// How: API calls whose start lies in the window and that block the
    /// host: `*Synchronize` (device, stream, event, context), and blocking
    /// (non-Async) copies and memsets. Copies of pageable memory are left
    /// to `pageable-memcpy`. For each call, the time no kernel, copy or
    /// memset runs on any GPU; calls overlapping on several threads count
    /// once.
    ///
    /// Fires when: that time is at least 1% of the window and 10 us.
    ///
    /// Time at stake: that time. Without the wait the host would have
    /// queued the next work earlier; the GPU cannot gain more than the time
    /// it sat idle during the waits.
    ///
    /// Severity: warning from 5% of the window, error from 25%.
    pub struct SyncStall {
        name: "sync-stall",
        code: "TR303",
        summary: "GPU idle while the host waits in synchronize calls or blocking copies",
    }
}

impl SyncStall {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        check(self, cx).into_iter().collect()
    }
}

fn check(rule: &dyn Rule, cx: &Context) -> Option<Finding> {
    let trace = cx.trace;
    let by_corr = memcpy_by_correlation(trace);
    let mut busy = facts::gpu_busy(cx);
    let window_ns = cx.window.duration();
    let mut spans: Vec<Span> = Vec::new();
    let mut groups: BTreeMap<(&str, &str), (u64, Ns, Ns, BTreeSet<usize>)> = BTreeMap::new();
    let mut wh = Where::default();
    // Calls come in start order: cursors, not searches per call.
    let mut placer = facts::Placer::new(cx);
    let mut window_at = intervals::Cursor::new(&cx.window.spans);
    for i in cx.window.indexes(&trace.api_calls, |a| a.start) {
        let a = &trace.api_calls[i];
        let blocking = match a.kind {
            ApiKind::Sync | ApiKind::Memset => true,
            ApiKind::Memcpy => !by_corr
                .get(&(facts::pid_of(trace, a.thread), a.correlation))
                .is_some_and(|&i| is_pageable(&trace.memcpys[i])),
            _ => false,
        };
        if !blocking {
            continue;
        }
        let idle = facts::exposed_union_in(&mut window_at, &mut busy, a.start, a.end);
        let p = placer.place(a.start);
        if idle > 0 {
            wh.add(p);
        }
        // Their union as they come (by start), not a list of every call.
        if a.end > a.start {
            match spans.last_mut() {
                Some(last) if a.start <= last.1 => last.1 = last.1.max(a.end),
                _ => spans.push((a.start, a.end)),
            }
        }
        let g = groups
            .entry((base_api_name(trace.name(a.name)), p.phase.label()))
            .or_default();
        g.0 += 1;
        g.1 += a.end - a.start;
        g.2 += idle;
        g.3.extend(p.iteration);
    }
    let stake: Ns = spans
        .iter()
        .map(|&(s, e)| facts::exposed_union(cx, &mut busy, s, e))
        .sum();
    if !facts::clears(stake, window_ns, MIN_SHARE) {
        return None;
    }
    let calls: u64 = groups.values().map(|g| g.0).sum();
    let call_ns: Ns = groups.values().map(|g| g.1).sum();
    let rows: Vec<(Ns, Vec<serde_json::Value>)> = groups
        .iter()
        .map(|((name, phase), g)| {
            (
                g.2,
                vec![
                    json!(name),
                    json!(phase),
                    json!(g.0),
                    json!(g.3.len()),
                    json!(g.1),
                    json!(g.2),
                ],
            )
        })
        .collect();
    let table = EvidenceTable::largest_first(
        &["call", "phase", "calls", "iterations", "call_ns", "gpu idle_ns"],
        rows,
    );
    let top = table
        .rows
        .first()
        .and_then(|r| r[0].as_str().map(String::from))
        .unwrap_or_default();
    let draft = Draft {
        title: format!(
            "GPU idle {} ({} of the window) while the host waits in {calls} blocking calls (mostly {top})",
            facts::per_iteration_label(cx, stake),
            facts::pct_label(stake, window_ns)
        ),
        stake,
        facts: vec![
            ("blocking_calls", json!(calls)),
            ("call_ns", json!(call_ns)),
            ("gpu_idle_ns", json!(stake)),
        ],
        table,
        recommendation: "Take synchronisation out of the loop: no torch.cuda.synchronize(), .item(), .cpu() \
                         or printing of GPU tensors mid-iteration; copy results with non_blocking=True into \
                         pinned memory and wait once per iteration (an event), or let the next batch's work \
                         be queued before waiting."
            .into(),
    };
    Some(draft.finish(cx, rule, &wh, |it| {
        let i = &cx.window.iterations[it];
        let mine: Vec<Span> = intervals::overlapping(&spans, i.start, i.end).to_vec();
        let mut marks = Vec::new();
        let mut busy = facts::gpu_busy(cx);
        let mut inside = Vec::new();
        for &(a, b) in &mine {
            busy.clipped(a, b, &mut inside);
            let mut t = a;
            for &(x, y) in inside.iter().chain([&(b, b)]) {
                if x > t {
                    marks.push(("GPU idle, host waiting", (t, x)));
                }
                t = y;
            }
        }
        facts::timeline(cx, it, &|_| false, &marks)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Severity;
    use crate::findings::testing::Builder;

    const IT: Ns = 1_000_000;

    fn trace(wait_idle: Ns) -> crate::findings::testing::Analysis {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            b.kernel("k", s + 10_000, s + 500_000);
            // The wait starts while the kernel runs and returns
            // `wait_idle` after it ends.
            b.api(
                "cudaStreamSynchronize_v3020",
                s + 400_000,
                s + 500_000 + wait_idle,
            );
        }
        b.build()
    }

    #[test]
    fn only_idle_time_during_the_wait_counts() {
        assert!(trace(9_000).check(&SyncStall).is_empty());
        let f = trace(20_000).check(&SyncStall);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].time_at_stake_ns, 4 * 20_000);
        assert_eq!(f[0].evidence.facts["blocking_calls"], json!(4));
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(trace(60_000).check(&SyncStall)[0].severity, Severity::Warning);
    }
}
