//! TR103 `pageable-memcpy`.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;

use super::reupload::memkind_label;
use crate::declare_rule;
use crate::findings::facts::{self, Draft, Group, Where};
use crate::findings::{Context, EvidenceTable, Finding, Rule};
use crate::model::{CopyKind, MemKind, Ns};
use crate::text::format;

/// How much faster a pinned copy is assumed to be than a pageable one.
pub const PINNED_SPEEDUP: i64 = 2;
/// Most fixed cost of one pageable copy's call beyond moving its bytes (the
/// driver's bounce-buffer handshake): the H100 samples' pageable calls of
/// 37 KiB and less take 5 to 42 us.
pub const CALL_OVERHEAD_NS: Ns = 50_000;
/// Smallest time at stake, as a share of the window, that fires the rule.
pub const MIN_SHARE: f64 = 0.005;

declare_rule! {
    /// Copies from or to pageable (not page-locked) host memory. The driver
    /// stages them through a pinned bounce buffer: the call blocks the host
    /// (even `cudaMemcpyAsync`), the GPU waits while the host fills the
    /// buffer, and the copy cannot overlap other work.
    ///
    /// How: copies whose GPU start lies in the window with a pageable
    /// source or destination, as the profiler records the memory kind (nsys:
    /// `srcKind` / `dstKind` decoded through `ENUM_CUDA_MEM_KIND`).
    /// Host-to-host copies are left out. Each copy holds the GPU for its
    /// execution and the host for its API call; the time it is involved is
    /// its execution plus the part of its call when the GPU runs nothing at
    /// all (a blocking call that waits behind other work, a 200 MB copy
    /// queued before it, is waiting for that work, not staging: that is
    /// `sync-stall`'s), outside kernels and inside the window. Staging n
    /// bytes through the bounce buffer takes about as long as moving them,
    /// plus a fixed handshake, so the idle part of the call counts up to the
    /// copy's own duration plus 50 us: a 704-byte read whose call sits 87 ms
    /// with the GPU idle is not 87 ms of staging.
    ///
    /// Fires when: the time at stake is at least 0.5% of the window and
    /// 10 us.
    ///
    /// Time at stake: the time involved minus the time a pinned copy would
    /// still take, assumed to be half the pageable copy's exposed GPU time
    /// (pinned copies run at 2x or more the bandwidth of pageable ones on
    /// PCIe systems: 43.5 against 9.4 GB/s in the H100 sample traces).
    /// Overlapping the pinned copy with compute could save more. The total
    /// never exceeds the time the copies' calls and executions occupy
    /// together (copies from several threads overlap) nor the window.
    ///
    /// Severity: warning from 5% of the window, error from 25%.
    pub struct PageableMemcpy {
        name: "pageable-memcpy",
        code: "TR103",
        summary: "copies from/to pageable host memory (staged and synchronous)",
    }
}

impl PageableMemcpy {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        check(self, cx).into_iter().collect()
    }
}

fn check(rule: &dyn Rule, cx: &Context) -> Option<Finding> {
    let trace = cx.trace;
    let kernels = &cx.attribution.layers.kernel;
    let window_ns = cx.window.duration();
    let mut groups: BTreeMap<(CopyKind, &str, &str, u64, &str), Group> = BTreeMap::new();
    let mut wh = Where::default();
    let mut flagged: HashSet<usize> = HashSet::new();
    let mut busy = facts::gpu_busy(cx);
    let (mut stake, mut involved_all) = (0, 0);
    let mut spans: Vec<(Ns, Ns)> = Vec::new();
    for op in facts::copies(cx) {
        let m = op.copy(trace);
        let pageable = m.src == MemKind::Pageable || m.dst == MemKind::Pageable;
        if !pageable || m.kind == CopyKind::HtoH {
            continue;
        }
        let copy_exposed = facts::exposed(cx, kernels, m.start, m.end);
        // The call's time while the GPU is idle; disjoint from the copy's
        // own execution, which keeps the GPU busy.
        let call_idle = op.call.map_or(0, |c| {
            let a = &trace.api_calls[c];
            facts::exposed_union(cx, &mut busy, a.start, a.end).min(m.end - m.start + CALL_OVERHEAD_NS)
        });
        let involved = copy_exposed + call_idle;
        let at_stake = involved - copy_exposed / PINNED_SPEEDUP;
        spans.push(op.span(trace));
        stake += at_stake;
        involved_all += involved;
        wh.add(op.place);
        flagged.insert(op.index);
        groups
            .entry((
                m.kind,
                memkind_label(m.src),
                memkind_label(m.dst),
                m.bytes,
                op.place.phase.label(),
            ))
            .or_default()
            .add_copy(m, op.place.iteration, involved, at_stake);
    }
    stake = facts::cap_stake(cx, stake, spans);
    if groups.is_empty() || !facts::clears(stake, window_ns, MIN_SHARE) {
        return None;
    }
    let count: u64 = groups.values().map(|g| g.count).sum();
    let bytes: u64 = groups.values().map(|g| g.bytes).sum();
    let gpu: Ns = groups.values().map(|g| g.gpu_ns).sum();
    let rows: Vec<(Ns, Vec<serde_json::Value>)> = groups
        .iter()
        .map(|((kind, src, dst, b, phase), g)| {
            (
                g.at_stake_ns,
                vec![
                    json!(kind.label()),
                    json!(format!("{src} -> {dst}")),
                    json!(b),
                    json!(phase),
                    json!(g.count),
                    json!(g.iterations.len()),
                    json!(g.gpu_ns),
                    json!(g.host_ns),
                    json!(g.at_stake_ns),
                ],
            )
        })
        .collect();
    let (top_kind, top_bytes) = groups
        .iter()
        .max_by_key(|(_, g)| g.at_stake_ns)
        .map(|(k, _)| (k.0, k.3))
        .unwrap_or((CopyKind::Unknown, 0));
    let draft = Draft {
        title: format!(
            "{} staged through pageable host memory; largest cost: {} {}",
            match cx.window.iterations.len() {
                0 => format!("{count} copies ({})", format::bytes(bytes)),
                n => format!(
                    "{} {} per iteration ({}; {count} in the window)",
                    facts::count_label(count as f64 / n as f64),
                    if count == n as u64 { "copy" } else { "copies" },
                    format::bytes(bytes / n as u64)
                ),
            },
            top_kind.label(),
            format::bytes(top_bytes)
        ),
        stake,
        facts: vec![
            ("pageable_copies", json!(count)),
            ("bytes", json!(bytes)),
            ("copy_ns", json!(gpu)),
            ("involved_ns", json!(involved_all)),
        ],
        table: EvidenceTable::largest_first(
            &[
                "kind",
                "memory",
                "bytes",
                "phase",
                "copies",
                "iterations",
                "copy_ns",
                "involved_ns",
                "at_stake_ns",
            ],
            rows,
        ),
        recommendation: "Use page-locked (pinned) host buffers: allocate them once (torch.empty(..., \
                         pin_memory=True), DataLoader(pin_memory=True), cudaHostAlloc) and reuse them, then \
                         copy with non_blocking=True / cudaMemcpyAsync so the copy overlaps compute."
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

    const IT: Ns = 1_000_000;

    fn trace(host: MemKind, call_ns: Ns, copy_ns: Ns) -> crate::findings::testing::Analysis {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            b.copy(
                CopyKind::HtoD,
                host,
                4 << 20,
                (s + 10_000, s + 10_000 + call_ns),
                (s + 10_000 + call_ns - copy_ns, s + 10_000 + call_ns),
            );
            b.kernel("k", s + 500_000, s + 900_000);
        }
        b.build()
    }

    #[test]
    fn stake_is_staging_plus_half_the_copy() {
        let a = trace(MemKind::Pageable, 200_000, 100_000);
        let f = a.check(&PageableMemcpy);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        // 200 us involved, the copy's 100 us would take 50 us pinned.
        assert_eq!(f.time_at_stake_ns, 4 * 150_000);
        assert_eq!(f.evidence.facts["pageable_copies"], json!(4));
        assert_eq!(f.evidence.facts["bytes"], json!(4u64 * (4 << 20)));
        assert_eq!(f.severity, Severity::Warning);
    }

    #[test]
    fn time_outside_the_window_does_not_count() {
        let mut b = Builder::default();
        for i in 1..5 {
            let s = i * IT;
            b.range("iter", s, s + 100_000);
            // The call starts 50 us before the iteration: only its part
            // inside counts.
            b.copy(
                CopyKind::HtoD,
                MemKind::Pageable,
                4 << 20,
                (s - 50_000, s + 10_000),
                (s + 5_000, s + 10_000),
            );
            // The iteration's own GPU work, which makes it an iteration.
            b.kernel("k", s + 20_000, s + 30_000);
        }
        let a = b.build();
        let f = a.check(&PageableMemcpy);
        assert_eq!(f[0].evidence.facts["involved_ns"], json!(4 * 10_000));
        assert_eq!(f[0].time_at_stake_ns, 4 * (10_000 - 2_500));
        assert!(f[0].time_at_stake_ns <= a.window_ns());
    }

    /// Tiny pageable reads whose calls wait behind 200 MB copies: the wait
    /// is the large copies' time, not staging, and the stake stays within
    /// the time the reads take and the window.
    #[test]
    fn tiny_copies_behind_large_ones_put_only_their_own_time_at_stake() {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            b.copy(
                CopyKind::HtoD,
                MemKind::Pinned,
                200 << 20,
                (s + 1_000, s + 2_000),
                (s + 2_000, s + 802_000),
            );
            // Eight threads each read 4 bytes; their calls wait for the
            // upload, then copy for 2 us with 1 us of call after it.
            for t in 0..8u32 {
                b.copy_on_thread(
                    t,
                    CopyKind::DtoH,
                    MemKind::Pageable,
                    4,
                    (s + 3_000, s + 805_000),
                    (s + 802_000, s + 804_000),
                );
            }
        }
        let a = b.build();
        let f = a.check(&PageableMemcpy);
        assert_eq!(f.len(), 1);
        // Each read: 2 us of copy plus 1 us of idle call = 3 us involved,
        // less 1 us a pinned copy would take: 2 us; 32 reads (the old
        // count took each 802 us call: 6.4x the window).
        assert_eq!(f[0].time_at_stake_ns, 32 * 2_000);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].time_at_stake_ns <= a.window_ns());
    }

    /// A tiny pageable read whose call sits 80 ms with the GPU idle: the
    /// wait is not staging (it was 43% of a window at severity error on a
    /// public trace); the idle call counts up to the copy's 2 us.
    #[test]
    fn a_long_idle_call_is_not_staging() {
        let mut b = Builder::default();
        for i in 0..4 {
            let s = i * 100 * IT;
            b.range("iter", s, s + 100 * IT - 10);
            b.kernel("k", s + 1_000, s + 5 * IT);
            b.copy(
                CopyKind::DtoH,
                MemKind::Pageable,
                704,
                (s + 5 * IT, s + 85 * IT),
                (s + 85 * IT - 2_000, s + 85 * IT),
            );
            b.kernel("k", s + 86 * IT, s + 99 * IT);
        }
        let a = b.build();
        // 2 us copy + (2 + 50) us of idle call, less 1 us pinned: 53 us
        // each, 212 us in 400 ms: under the 0.5% floor (it was 80 ms each).
        assert!(a.check(&PageableMemcpy).is_empty());
    }

    #[test]
    fn pinned_copies_and_noise_do_not_fire() {
        assert!(
            trace(MemKind::Pinned, 200_000, 100_000)
                .check(&PageableMemcpy)
                .is_empty()
        );
        // 4 us at stake per 1 ms iteration: 0.4%, under the 0.5% floor.
        assert!(
            trace(MemKind::Pageable, 6_000, 4_000)
                .check(&PageableMemcpy)
                .is_empty()
        );
        // 6 us: 0.6%, over it, as info.
        let f = trace(MemKind::Pageable, 8_000, 4_000).check(&PageableMemcpy);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Info);
    }
}
