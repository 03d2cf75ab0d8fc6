//! Facts several rules need: where a host time lies (phase, iteration),
//! which API call issued a GPU operation, how much of a span the GPU spent
//! busy, and one iteration drawn as a timeline for a chart.
//!
//! A GPU operation's place is the host time of the API call that issued it
//! (found by correlation id, keyed with the process id because ids are per
//! process), else its GPU start: phases are host ranges, and a copy issued
//! in `infer` may run after the host has moved on.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{Context, Evidence, EvidenceTable, Finding, Rule, Severity, Timeline, TimelineItem};
use crate::analysis::intervals::{self, Cursor, Span};
use crate::analysis::phase::Phase;
use crate::analysis::span_list::{self, Spans};
use crate::model::{CopyKind, Memcpy, Ns, Trace};

/// `part / whole`, 0 for an empty whole.
pub fn share(part: Ns, whole: Ns) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Least time at stake of any finding, whatever its share: below it the
/// waste is within what tracing itself costs (about a microsecond per
/// traced call), so it is not measurable. Guards degenerate windows.
pub const MIN_STAKE_NS: Ns = 10_000;

/// Whether `stake_ns` clears a rule's noise floor: at least `min_share` of
/// `whole_ns` and at least [`MIN_STAKE_NS`].
pub fn clears(stake_ns: Ns, whole_ns: Ns, min_share: f64) -> bool {
    stake_ns >= MIN_STAKE_NS && share(stake_ns, whole_ns) >= min_share
}

/// A share as a percentage for titles: `12.5%`.
pub fn pct_label(part: Ns, whole: Ns) -> String {
    format!("{:.1}%", share(part, whole) * 100.0)
}

/// A window total as titles state it: per iteration when the window has
/// iterations (`32.39 ms per iteration`), else the window total (`388.71 ms`).
/// People optimise one iteration; the window total stays in the facts.
pub fn per_iteration_label(cx: &Context, total: Ns) -> String {
    match cx.window.iterations.len() as Ns {
        0 => crate::text::format::ns(total),
        n => format!("{} per iteration", crate::text::format::ns(total / n)),
    }
}

/// A count or size per iteration (`2`, `0.5`), the total without iterations.
pub fn per_iteration_count(cx: &Context, total: f64) -> f64 {
    match cx.window.iterations.len() {
        0 => total,
        n => total / n as f64,
    }
}

/// A count for titles: integers as integers, else one decimal.
pub fn count_label(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// Where a host time lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub phase: Phase,
    /// Index into `window.iterations`; None outside every iteration.
    pub iteration: Option<usize>,
}

/// The phase and iteration of host time `t`.
pub fn place(cx: &Context, t: Ns) -> Place {
    Place {
        phase: cx.attribution.layers.phase_at(t),
        iteration: cx.window.iteration_at(t),
    }
}

/// [`place`] for many times in (mostly) increasing order: cursors instead
/// of binary searches from scratch.
pub struct Placer<'a> {
    window: &'a crate::analysis::window::Window,
    pre: Cursor<'a>,
    post: Cursor<'a>,
    infer: Cursor<'a>,
    host: Cursor<'a>,
    /// Iterations starting at or before the previous time.
    started: usize,
}

impl<'a> Placer<'a> {
    pub fn new(cx: &Context<'a>) -> Placer<'a> {
        let l = &cx.attribution.layers;
        Placer {
            window: cx.window,
            pre: Cursor::new(&l.preprocess),
            post: Cursor::new(&l.postprocess),
            infer: Cursor::new(&l.inference),
            host: Cursor::new(&l.host),
            started: 0,
        }
    }

    /// The same as [`place`]`(cx, t)`.
    pub fn place(&mut self, t: Ns) -> Place {
        // The attribution's priority: preprocess, postprocess, inference.
        let phase = if self.pre.covers(t) {
            Phase::Preprocess
        } else if self.post.covers(t) {
            Phase::Postprocess
        } else if self.infer.covers(t) {
            Phase::Inference
        } else if self.host.covers(t) {
            Phase::Unannotated
        } else {
            Phase::GpuTail
        };
        Place {
            phase,
            iteration: self.window.iteration_at_hint(t, &mut self.started),
        }
    }
}

/// Collects the places of a finding's operations for its evidence.
#[derive(Debug, Default, Clone)]
pub struct Where {
    pub phases: BTreeSet<Phase>,
    pub iterations: BTreeSet<usize>,
    /// The place added last: neighbours in time share one, so a rule that
    /// adds a place per kernel or gap mostly skips the two set inserts.
    last: Option<Place>,
}

impl Where {
    pub fn add(&mut self, p: Place) {
        if self.last.replace(p) == Some(p) {
            return;
        }
        self.phases.insert(p.phase);
        if let Some(i) = p.iteration {
            self.iterations.insert(i);
        }
    }

    /// Write the phases and iterations into `ev`.
    pub fn fill(&self, ev: &mut Evidence) {
        ev.phases = self.phases.iter().map(|p| p.label().to_string()).collect();
        ev.iterations = self.iterations.iter().copied().collect();
    }

    /// The iteration a chart shows: the window's representative one (see
    /// [`Window::representative`](crate::analysis::window::Window::representative))
    /// when involved, so that every finding can be marked on the report's
    /// one timeline; else the median-duration one among those involved.
    pub fn representative(&self, cx: &Context) -> Option<usize> {
        if let Some(r) = cx.window.representative().filter(|r| self.iterations.contains(r)) {
            return Some(r);
        }
        let mut its: Vec<(Ns, usize)> = self
            .iterations
            .iter()
            .filter_map(|&i| cx.window.iterations.get(i).map(|it| (it.end - it.start, i)))
            .collect();
        its.sort_unstable();
        its.get(its.len() / 2).map(|&(_, i)| i)
    }
}

/// Process id of the thread an API call ran on.
pub fn pid_of(trace: &Trace, thread: u32) -> u32 {
    trace.threads.get(thread as usize).map_or(0, |t| t.pid)
}

/// A copy in the window with the API call that issued it.
#[derive(Debug, Clone, Copy)]
pub struct CopyOp {
    /// Index into `trace.memcpys`.
    pub index: usize,
    /// Index into `trace.api_calls`, when the call was recorded.
    pub call: Option<usize>,
    /// When the host issued it: the call's start, else the GPU start.
    pub host_start: Ns,
    pub place: Place,
}

impl CopyOp {
    pub fn copy<'t>(&self, trace: &'t Trace) -> &'t Memcpy {
        &trace.memcpys[self.index]
    }

    /// The span during which the copy holds the host (its API call) or
    /// the GPU (its execution).
    pub fn span(&self, trace: &Trace) -> Span {
        let m = self.copy(trace);
        match self.call.map(|c| &trace.api_calls[c]) {
            Some(a) => (a.start.min(m.start), a.end.max(m.end)),
            None => (m.start, m.end),
        }
    }

    /// The host thread that issued it, if known.
    pub fn thread(&self, trace: &Trace) -> Option<u32> {
        self.call.map(|c| trace.api_calls[c].thread)
    }
}

/// Copies whose GPU start lies in the window, in the order the host issued
/// them.
pub fn copies(cx: &Context) -> Vec<CopyOp> {
    let trace = cx.trace;
    let links = cx.attribution.links(trace);
    let mut placer = Placer::new(cx);
    let mut ops: Vec<CopyOp> = cx
        .window
        .indexes(&trace.memcpys, |m| m.start)
        .map(|i| {
            let m = &trace.memcpys[i];
            let call = links.memcpy_call(i);
            let host_start = call.map_or(m.start, |c| trace.api_calls[c].start);
            CopyOp {
                index: i,
                call,
                host_start,
                place: placer.place(host_start),
            }
        })
        .collect();
    ops.sort_by_key(|o| (o.host_start, o.index));
    ops
}

/// Copies between host and device memory in this direction.
pub fn is_upload(k: CopyKind) -> bool {
    matches!(k, CopyKind::HtoD | CopyKind::HtoA)
}

pub fn is_download(k: CopyKind) -> bool {
    matches!(k, CopyKind::DtoH | CopyKind::AtoH)
}

/// Union of GPU activity: kernels, copies and memsets on any GPU.
pub fn gpu_busy<'a>(cx: &Context<'a>) -> span_list::Union<'a> {
    cx.attribution.gpu_busy()
}

/// How much of `[s, e)` the disjoint sorted `spans` cover.
pub fn covered<S: Spans + ?Sized>(spans: &S, s: Ns, e: Ns) -> Ns {
    if e <= s {
        return 0;
    }
    (spans.first_ending_after(s)..spans.count())
        .map(|i| spans.at(i))
        .take_while(|&(a, _)| a < e)
        .map(|(a, b)| b.min(e) - a.max(s))
        .filter(|&d| d > 0)
        .sum()
}

/// How much of `[s, e)` lies in the window and outside `cover`: the part
/// of an operation that counts. Operations can reach past the window (a
/// call that starts before the first iteration), so every time a rule
/// puts at stake goes through here and never exceeds the window.
pub fn exposed<S: Spans + ?Sized>(cx: &Context, cover: &S, s: Ns, e: Ns) -> Ns {
    intervals::overlapping(&cx.window.spans, s, e)
        .iter()
        .map(|&(ws, we)| uncovered(cover, s.max(ws), e.min(we)))
        .sum()
}

/// [`exposed`] with a union of lists as the cover.
pub fn exposed_union(cx: &Context, cover: &mut span_list::Union, s: Ns, e: Ns) -> Ns {
    intervals::overlapping(&cx.window.spans, s, e)
        .iter()
        .map(|&(ws, we)| {
            let (a, b) = (s.max(ws), e.min(we));
            (b - a).max(0) - cover.covered(a, b)
        })
        .sum()
}

/// [`exposed_union`] through a cursor on the window, for spans visited in
/// time order.
pub fn exposed_union_in(window: &mut Cursor, cover: &mut span_list::Union, s: Ns, e: Ns) -> Ns {
    window
        .overlapping(s, e)
        .iter()
        .map(|&(ws, we)| {
            let (a, b) = (s.max(ws), e.min(we));
            (b - a).max(0) - cover.covered(a, b)
        })
        .sum()
}

/// How much of `[s, e)` lies in the window, outside `cover` and inside
/// `within` (disjoint sorted spans): time of some activity that counts.
pub fn exposed_covered<S: Spans + ?Sized>(cx: &Context, cover: &S, within: &[Span], s: Ns, e: Ns) -> Ns {
    intervals::overlapping(within, s, e)
        .iter()
        .map(|&(a, b)| exposed(cx, cover, a.max(s), b.min(e)))
        .sum()
}

/// A rule's summed time at stake, capped by the time its operations occupy
/// together (`spans`: each operation's host call and GPU execution, in any
/// order, overlapping or not) within the window and outside kernels, and by
/// the window: operations of several threads overlap, and no fix saves more
/// than the time they take.
pub fn cap_stake(cx: &Context, stake: Ns, spans: Vec<Span>) -> Ns {
    let kernels = &cx.attribution.layers.kernel;
    let occupied: Ns = intervals::union(spans)
        .into_iter()
        .map(|(s, e)| exposed(cx, kernels, s, e))
        .sum();
    stake.min(occupied).min(cx.window.duration()).max(0)
}

/// How much of `[s, e)` the disjoint sorted `spans` leave uncovered.
pub fn uncovered<S: Spans + ?Sized>(spans: &S, s: Ns, e: Ns) -> Ns {
    (e - s).max(0) - covered(spans, s, e)
}

/// A timeline's resolution: spans of one lane closer than
/// `span / TIMELINE_RESOLUTION` (under a pixel of any chart) are stored
/// merged, so a dense iteration stays small without dropping anything.
pub const TIMELINE_RESOLUTION: Ns = 4000;

/// A merged item spans at most this many resolution steps (1/200 of the
/// iteration, as the overview's), so a dense lane keeps how busy it was
/// where (see `overview`).
pub const MAX_MERGED_STEPS: Ns = 20;

/// `busy / len` as a share in 0..=1 (1 for an empty length).
pub fn density(busy: Ns, len: Ns) -> f64 {
    if len <= 0 {
        1.0
    } else {
        (busy as f64 / len as f64).clamp(0.0, 1.0)
    }
}

/// Covered time an item `[a, b)` covering `busy` adds past `covered_to`
/// (what a merged run already covers), assuming its cover is spread evenly.
pub fn new_cover(a: Ns, b: Ns, busy: Ns, covered_to: Ns) -> Ns {
    let len = b - a;
    let fresh = (b - a.max(covered_to)).max(0);
    if len <= 0 || fresh >= len {
        busy.min(len.max(0))
    } else {
        (busy as f64 * fresh as f64 / len as f64) as Ns
    }
}

/// Merge spans of one lane and flag closer than `res` (items in any order):
/// nothing is dropped, neighbours become one span that counts them and the
/// time they cover; a run starts a new span past [`MAX_MERGED_STEPS`] steps.
pub fn merge_items(mut items: Vec<TimelineItem>, res: Ns) -> Vec<TimelineItem> {
    items.sort_unstable_by_key(|i| (i.lane, i.flagged, i.start_ns));
    let mut out: Vec<TimelineItem> = Vec::with_capacity(items.len().min(1 << 16));
    for i in items {
        match out.last_mut() {
            Some(m)
                if m.lane == i.lane
                    && m.flagged == i.flagged
                    && i.start_ns <= m.end_ns + res
                    && i.start_ns < m.start_ns + MAX_MERGED_STEPS * res =>
            {
                let busy = m.busy_ns.unwrap_or(m.end_ns - m.start_ns)
                    + new_cover(
                        i.start_ns,
                        i.end_ns,
                        i.busy_ns.unwrap_or(i.end_ns - i.start_ns),
                        m.end_ns,
                    );
                m.end_ns = m.end_ns.max(i.end_ns);
                m.count += i.count;
                m.busy_ns = (busy < m.end_ns - m.start_ns).then_some(busy);
            }
            _ => out.push(i),
        }
    }
    out
}

/// One iteration drawn as lanes: host phases, kernels (merged), copies by
/// direction, then the caller's `marks` (lane name, span), which are
/// flagged. Copies for which `flag_copy` is true are flagged too.
pub fn timeline(
    cx: &Context,
    iteration: usize,
    flag_copy: &dyn Fn(usize) -> bool,
    marks: &[(&str, Span)],
) -> Option<Timeline> {
    let it = cx.window.iterations.get(iteration)?;
    let (s, e) = (it.start, it.end);
    let l = &cx.attribution.layers;
    let mut lanes: Vec<String> = Vec::new();
    let mut items: Vec<TimelineItem> = Vec::new();
    let lane_of = |lanes: &mut Vec<String>, name: &str| match lanes.iter().position(|n| n == name) {
        Some(i) => i,
        None => {
            lanes.push(name.to_string());
            lanes.len() - 1
        }
    };
    let push = |items: &mut Vec<TimelineItem>, lane: usize, a: Ns, b: Ns, flagged: bool| {
        let (a, b) = (a.max(s), b.min(e));
        if b > a {
            items.push(TimelineItem {
                lane,
                start_ns: a,
                end_ns: b,
                flagged,
                count: 1,
                busy_ns: None,
            });
        }
    };
    let kernels = crate::analysis::span_list::At::new(&l.kernel).overlapping(s, e);
    for (name, part) in [
        (
            "host: preprocess",
            intervals::overlapping(&l.preprocess, s, e).to_vec(),
        ),
        (
            "host: inference",
            intervals::overlapping(&l.inference, s, e).to_vec(),
        ),
        (
            "host: postprocess",
            intervals::overlapping(&l.postprocess, s, e).to_vec(),
        ),
        ("GPU: kernels", kernels.map(|i| l.kernel.at(i)).collect()),
    ] {
        if !part.is_empty() {
            let lane = lane_of(&mut lanes, name);
            for (a, b) in part {
                push(&mut items, lane, a, b, false);
            }
        }
    }
    let lo = cx.trace.memcpys.partition_point(|m| m.start < s);
    let hi = cx.trace.memcpys.partition_point(|m| m.start < e);
    for (i, m) in cx.trace.memcpys[lo..hi].iter().enumerate() {
        let name = match m.kind {
            k if is_upload(k) => "GPU: HtoD copies",
            k if is_download(k) => "GPU: DtoH copies",
            _ => "GPU: other copies",
        };
        let lane = lane_of(&mut lanes, name);
        push(&mut items, lane, m.start, m.end, flag_copy(lo + i));
    }
    for &(name, (a, b)) in marks {
        let lane = lane_of(&mut lanes, name);
        push(&mut items, lane, a, b, true);
    }
    Some(Timeline {
        iteration,
        start_ns: s,
        end_ns: e,
        lanes,
        items: merge_items(items, ((e - s) / TIMELINE_RESOLUTION).max(1)),
    })
}

/// Totals of one group of operations, for evidence tables.
#[derive(Debug, Default, Clone)]
pub struct Group {
    pub count: u64,
    pub bytes: u64,
    pub gpu_ns: Ns,
    pub host_ns: Ns,
    pub at_stake_ns: Ns,
    pub iterations: BTreeSet<usize>,
}

impl Group {
    /// Count one copy: its bytes and GPU time, `host_ns` and `at_stake_ns`
    /// of it, and its iteration.
    pub fn add_copy(&mut self, m: &Memcpy, iteration: Option<usize>, host_ns: Ns, at_stake_ns: Ns) {
        self.count += 1;
        self.bytes += m.bytes;
        self.gpu_ns += m.end - m.start;
        self.host_ns += host_ns;
        self.at_stake_ns += at_stake_ns;
        self.iterations.extend(iteration);
    }
}

/// Groups keyed for an evidence table, in key order.
pub type Groups<K> = BTreeMap<K, Group>;

/// A fact map from pairs.
pub fn fact_map(
    pairs: impl IntoIterator<Item = (&'static str, serde_json::Value)>,
) -> BTreeMap<String, serde_json::Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// What one finding of a time-at-stake rule states of its own;
/// [`Draft::finish`] adds what every such finding carries alike.
pub struct Draft {
    pub title: String,
    pub stake: Ns,
    pub facts: Vec<(&'static str, serde_json::Value)>,
    pub table: EvidenceTable,
    pub recommendation: String,
}

impl Draft {
    /// `rule`'s finding: the draft's facts plus the stake and its share of
    /// the window, the places in `wh` and a timeline of their
    /// representative iteration drawn by `draw`, and the severity of the
    /// stake's share.
    pub fn finish(
        self,
        cx: &Context,
        rule: &dyn Rule,
        wh: &Where,
        draw: impl FnOnce(usize) -> Option<Timeline>,
    ) -> Finding {
        let window_ns = cx.window.duration();
        let mut facts = fact_map(self.facts);
        facts.insert("at_stake_ns".into(), json!(self.stake));
        facts.insert("share_of_window".into(), json!(share(self.stake, window_ns)));
        let mut evidence = Evidence {
            facts,
            table: Some(self.table),
            ..Evidence::default()
        };
        wh.fill(&mut evidence);
        evidence.timeline = wh.representative(cx).and_then(draw);
        Finding {
            rule: rule.name().into(),
            code: rule.code().into(),
            severity: Severity::for_share(self.stake, window_ns),
            title: self.title,
            time_at_stake_ns: self.stake,
            evidence,
            recommendation: self.recommendation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover() {
        let spans: &[Span] = &[(0, 10), (20, 30)];
        assert_eq!(covered(spans, 5, 25), 10);
        assert_eq!(uncovered(spans, 5, 25), 10);
        assert_eq!(covered(spans, 10, 20), 0);
        assert_eq!(covered(spans, 30, 10), 0);
        assert_eq!(uncovered(spans, 30, 10), 0);
    }

    #[test]
    fn noise_floor() {
        assert!(clears(10_000, 1_000_000, 0.01));
        assert!(!clears(9_999, 100_000, 0.01), "under 10 us");
        assert!(!clears(10_000, 1_000_001, 0.01), "under 1%");
        assert!(!clears(10_000, 0, 0.01));
    }

    #[test]
    fn labels() {
        // Titles use the renderers' formats (one definition, in text).
        assert_eq!(crate::text::format::bytes(64 << 20), "64.0 MiB");
        assert_eq!(crate::text::format::ns(9_131_191), "9.13 ms");
        assert_eq!(pct_label(1, 8), "12.5%");
        assert_eq!(share(1, 0), 0.0);
    }
}
