//! GPU idle while the host runs a pre- or postprocessing phase: shared by
//! `host-preprocessing` and `host-postprocessing`.
//!
//! The phase is the NVTX ranges the attribution classified (so the numbers
//! equal the report's phase table). A trace whose iterations hold no phase
//! ranges at all falls back to each iteration's head (before its first GPU
//! operation) or tail (after its last one); one that annotates other phases
//! but not this one has none of it.

use std::collections::BTreeMap;

use serde_json::json;

use super::facts::{self, Draft, Where};
use super::{Context, EvidenceTable, Finding, Rule};
use crate::analysis::attribution::{self, PhaseActivity};
use crate::analysis::intervals::{self, Span};
use crate::analysis::phase::Phase;
use crate::model::{Ns, RangeKind};

/// Smallest time at stake, as a share of the window, that fires the rules.
pub const MIN_SHARE: f64 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Pre,
    Post,
}

impl Side {
    fn phase(self) -> Phase {
        match self {
            Side::Pre => Phase::Preprocess,
            Side::Post => Phase::Postprocess,
        }
    }
}

/// The phase's spans (disjoint, sorted) and whether they come from ranges.
fn spans(cx: &Context, side: Side) -> (Vec<Span>, bool) {
    let l = &cx.attribution.layers;
    let ranges = match side {
        Side::Pre => &l.preprocess,
        Side::Post => &l.postprocess,
    };
    if !ranges.is_empty() {
        return (ranges.clone(), true);
    }
    if !(l.preprocess.is_empty() && l.inference.is_empty() && l.postprocess.is_empty()) {
        // Phases are annotated, just not this one: there is none.
        return (Vec::new(), true);
    }
    let mut busy = facts::gpu_busy(cx);
    let mut inside = Vec::new();
    let mut out = Vec::new();
    // Host time: the iterations' host ranges (an iteration's GPU tail is
    // not the host's).
    for it in &cx.window.iterations {
        busy.clipped(it.start, it.host_end, &mut inside);
        let (Some(first), Some(last)) = (inside.first(), inside.last()) else {
            continue;
        };
        out.push(match side {
            Side::Pre => (it.start, first.0.max(it.start)),
            Side::Post => (last.1.min(it.host_end), it.host_end),
        });
    }
    (intervals::union(out), false)
}

/// The activity of `spans` that counts for `side`: its phase row when the
/// phase is annotated, else everything.
fn activity(spans: &[Span], cx: &Context, side: Side, annotated: bool) -> PhaseActivity {
    let a = attribution::table(cx.trace, spans, &cx.attribution.layers).attribution();
    if annotated {
        *a.phase_activity.get(side.phase())
    } else {
        PhaseActivity {
            activity: a.activity,
            gpu_idle: a.gpu_idle,
        }
    }
}

fn clip(spans: &[Span], s: Ns, e: Ns) -> Vec<Span> {
    intervals::overlapping(spans, s, e)
        .iter()
        .map(|&(a, b)| (a.max(s), b.min(e)))
        .filter(|(a, b)| b > a)
        .collect()
}

/// Names of push/pop ranges lying inside `spans`, by total time.
fn range_names(cx: &Context, spans: &[Span]) -> Vec<String> {
    let mut by_name: BTreeMap<u32, Ns> = BTreeMap::new();
    for r in &cx.trace.ranges {
        if r.kind == RangeKind::PushPop && r.end > r.start && facts::uncovered(spans, r.start, r.end) == 0 {
            *by_name.entry(r.name).or_default() += r.end - r.start;
        }
    }
    let mut v: Vec<(Ns, u32)> = by_name.into_iter().map(|(n, t)| (t, n)).collect();
    v.sort_by(|a, b| b.cmp(a));
    v.into_iter()
        .take(5)
        .map(|(_, n)| cx.trace.name(n).to_string())
        .collect()
}

/// The finding for `side`, if the GPU idles enough while the host is in it.
pub fn check(cx: &Context, side: Side, rule: &dyn Rule) -> Option<Finding> {
    let (spans, annotated) = spans(cx, side);
    if spans.is_empty() {
        return None;
    }
    let window_ns = cx.window.duration();
    let total = activity(&spans, cx, side, annotated);
    let stake = total.gpu_idle.host_ns;
    if !facts::clears(stake, window_ns, MIN_SHARE) {
        return None;
    }
    let phase_ns = total.activity.kernel_ns
        + total.activity.memcpy_ns
        + total.activity.memset_ns
        + total.activity.gpu_idle_ns;
    let mut wh = Where::default();
    wh.phases.insert(if annotated {
        side.phase()
    } else {
        Phase::Unannotated
    });
    let mut rows = Vec::new();
    for (i, it) in cx.window.iterations.iter().enumerate() {
        let part = clip(&spans, it.start, it.end);
        if part.is_empty() {
            continue;
        }
        let a = activity(&part, cx, side, annotated);
        if a.gpu_idle.host_ns > 0 {
            wh.iterations.insert(i);
        }
        rows.push(vec![
            json!(i),
            json!(intervals::total(&part)),
            json!(a.activity.kernel_ns),
            json!(a.activity.memcpy_ns),
            json!(a.gpu_idle.host_ns),
        ]);
    }
    let names = if annotated {
        range_names(cx, &spans)
    } else {
        Vec::new()
    };
    let n_its = cx.window.iterations.len().max(1) as Ns;
    let what = match side {
        Side::Pre => "preprocessing",
        Side::Post => "postprocessing",
    };
    let place = if annotated {
        if names.is_empty() {
            format!("{} ranges", side.phase().label())
        } else {
            format!("ranges {}", names.join(", "))
        }
    } else {
        match side {
            Side::Pre => "before each iteration's first GPU operation (no preprocess ranges)".to_string(),
            Side::Post => "after each iteration's last GPU operation (no postprocess ranges)".to_string(),
        }
    };
    let recommendation = match side {
        Side::Pre => {
            "Move the parallel part of the preprocessing to the GPU (upload the raw uint8 batch from \
             pinned memory, then convert, normalise and transpose there), or prepare batch N+1 on \
             other CPU workers (DataLoader num_workers, a producer thread) while the GPU runs batch N."
        }
        Side::Post => {
            "Run the postprocessing on the GPU (torchvision.ops.batched_nms, top-k or thresholding \
             before the copy) and copy only the results the host needs, or overlap the \
             postprocessing of batch N with the inference of batch N+1 (a consumer thread)."
        }
    };
    let draft = Draft {
        title: format!(
            "GPU idle {} ({} of the window) while the host runs {what}: {place}",
            facts::per_iteration_label(cx, stake),
            facts::pct_label(stake, window_ns)
        ),
        stake,
        facts: vec![
            ("phase_ns", json!(phase_ns)),
            ("gpu_idle_host_ns", json!(stake)),
            ("gpu_idle_sync_ns", json!(total.gpu_idle.sync_ns)),
            ("gpu_idle_launch_ns", json!(total.gpu_idle.launch_ns)),
            ("kernel_ns", json!(total.activity.kernel_ns)),
            ("memcpy_ns", json!(total.activity.memcpy_ns)),
            ("per_iteration_idle_ns", json!(stake / n_its)),
            ("from_nvtx_ranges", json!(annotated)),
            ("ranges", json!(names.join(", "))),
        ],
        table: EvidenceTable::new(
            &[
                "iteration",
                "phase_ns",
                "kernel_ns",
                "memcpy_ns",
                "gpu idle, host busy_ns",
            ],
            rows,
        ),
        recommendation: recommendation.into(),
    };
    Some(draft.finish(cx, rule, &wh, |it| {
        let i = &cx.window.iterations[it];
        // GPU idle with no synchronize or launch call: the host's.
        let [_, _, host] =
            attribution::idle_spans(cx.trace, &clip(&spans, i.start, i.end), &cx.attribution.layers);
        let idle: Vec<_> = host.into_iter().map(|s| ("GPU idle, host busy", s)).collect();
        facts::timeline(cx, it, &|_| false, &idle)
    }))
}
