//! Exact time attribution over the window: every nanosecond of W lands in
//! one activity bucket and one phase.
//!
//! Activity, in priority order: `kernel` (a kernel runs on any GPU), else
//! `memcpy`, else `memset`, else GPU idle, split by what the host was doing:
//! `sync` (a synchronize call, or a copy/memset call that blocks the host,
//! in progress on any thread), else `launch` (a launch call in progress),
//! else `host` (the CPU is busy elsewhere: Python, preprocessing, NMS).
//!
//! ```text
//!  W        [==================================================)
//!  kernel        [=====)  [=)          [========)
//!  memcpy      [===)              [=)
//!  sync                     [=====)
//!  launch   [=)                      [=)
//!  bucket   L H  C K     K S     C    L K        H
//!  (K kernel, C memcpy, S idle-sync, L idle-launch, H idle-host)
//! ```
//!
//! Phase is orthogonal: host NVTX ranges nested in each iteration (see
//! [`super::phase`]), and `gpu_tail` where an iteration's GPU work runs
//! past its host range. Both are computed in one [`intervals::sweep`] over the
//! unions of each category, so the 4 x 6 phase-by-bucket table sums to |W|
//! exactly and every other total is a sum of its cells.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::intervals::{self, Cursor, Layer, Span};
use super::launch_layer::{self, LaunchCalls};
use super::links::Links;
use super::phase::{Phase, PhaseRules};
use super::span_list::{self, At, SpanList, Spans};
use super::tensor_core::launch::Launches;
use super::window::Window;
use crate::model::{ApiKind, MemKind, Memcpy, NameId, Ns, Trace};

/// Time per GPU activity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub kernel_ns: Ns,
    pub memcpy_ns: Ns,
    pub memset_ns: Ns,
    pub gpu_idle_ns: Ns,
}

/// GPU idle time by what the host was doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuIdle {
    pub sync_ns: Ns,
    pub launch_ns: Ns,
    pub host_ns: Ns,
}

/// Time per host phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phases {
    pub preprocess_ns: Ns,
    pub inference_ns: Ns,
    pub postprocess_ns: Ns,
    pub unannotated_ns: Ns,
    /// After an iteration's host range, until its last GPU work ends.
    #[serde(default)]
    pub gpu_tail_ns: Ns,
}

/// Activity within one phase, with its idle split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseActivity {
    #[serde(flatten)]
    pub activity: Activity,
    pub gpu_idle: GpuIdle,
}

/// The phase x activity table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseTable {
    pub preprocess: PhaseActivity,
    pub inference: PhaseActivity,
    pub postprocess: PhaseActivity,
    pub unannotated: PhaseActivity,
    #[serde(default)]
    pub gpu_tail: PhaseActivity,
}

impl PhaseTable {
    pub fn get(&self, p: Phase) -> &PhaseActivity {
        match p {
            Phase::Preprocess => &self.preprocess,
            Phase::Inference => &self.inference,
            Phase::Postprocess => &self.postprocess,
            Phase::Unannotated => &self.unannotated,
            Phase::GpuTail => &self.gpu_tail,
        }
    }
}

/// The attribution of a window (or of one iteration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub total_ns: Ns,
    pub activity: Activity,
    pub gpu_idle: GpuIdle,
    pub phase: Phases,
    pub phase_activity: PhaseTable,
}

/// One iteration's attribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IterationRow {
    pub index: usize,
    pub start_ns: Ns,
    pub duration_ns: Ns,
    pub activity: Activity,
    pub gpu_idle: GpuIdle,
    pub phase: Phases,
}

/// One GPU's own activity within the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceRow {
    pub id: u32,
    pub name: String,
    pub kernel_ns: Ns,
    pub memcpy_ns: Ns,
    pub memset_ns: Ns,
    pub gpu_idle_ns: Ns,
}

/// Buckets of the table, in column order.
const KERNEL: usize = 0;
const MEMCPY: usize = 1;
const MEMSET: usize = 2;
const IDLE_SYNC: usize = 3;
const IDLE_LAUNCH: usize = 4;
const IDLE_HOST: usize = 5;

/// Phase x bucket nanoseconds; rows in [`Phase::ALL`] order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Table(pub [[Ns; 6]; 5]);

impl Table {
    fn add(&mut self, mask: u64, ns: Ns) {
        self.0[phase_of(mask)][bucket_of(mask)] += ns;
    }

    /// Add `other`'s cells (the table of disjoint time).
    fn merge(&mut self, other: &Table) {
        for (row, o) in self.0.iter_mut().zip(&other.0) {
            for (c, x) in row.iter_mut().zip(o) {
                *c += x;
            }
        }
    }

    fn row_activity(row: &[Ns; 6]) -> PhaseActivity {
        PhaseActivity {
            activity: Activity {
                kernel_ns: row[KERNEL],
                memcpy_ns: row[MEMCPY],
                memset_ns: row[MEMSET],
                gpu_idle_ns: row[IDLE_SYNC] + row[IDLE_LAUNCH] + row[IDLE_HOST],
            },
            gpu_idle: GpuIdle {
                sync_ns: row[IDLE_SYNC],
                launch_ns: row[IDLE_LAUNCH],
                host_ns: row[IDLE_HOST],
            },
        }
    }

    /// Every total derived from the cells.
    pub fn attribution(&self) -> Attribution {
        let mut sum = [0; 6];
        for row in &self.0 {
            for (s, v) in sum.iter_mut().zip(row) {
                *s += v;
            }
        }
        let all = Table::row_activity(&sum);
        let row_total = |r: &[Ns; 6]| r.iter().sum::<Ns>();
        Attribution {
            total_ns: sum.iter().sum(),
            activity: all.activity,
            gpu_idle: all.gpu_idle,
            phase: Phases {
                preprocess_ns: row_total(&self.0[0]),
                inference_ns: row_total(&self.0[1]),
                postprocess_ns: row_total(&self.0[2]),
                unannotated_ns: row_total(&self.0[3]),
                gpu_tail_ns: row_total(&self.0[4]),
            },
            phase_activity: PhaseTable {
                preprocess: Table::row_activity(&self.0[0]),
                inference: Table::row_activity(&self.0[1]),
                postprocess: Table::row_activity(&self.0[2]),
                unannotated: Table::row_activity(&self.0[3]),
                gpu_tail: Table::row_activity(&self.0[4]),
            },
        }
    }
}

// Layer bits of the sweep.
const L_KERNEL: u64 = 1;
const L_MEMCPY: u64 = 1 << 1;
const L_MEMSET: u64 = 1 << 2;
const L_SYNC: u64 = 1 << 3;
const L_LAUNCH: u64 = 1 << 4;
const L_PRE: u64 = 1 << 5;
const L_POST: u64 = 1 << 6;
const L_INFER: u64 = 1 << 7;
const L_HOST: u64 = 1 << 8;

fn bucket_of(mask: u64) -> usize {
    if mask & L_KERNEL != 0 {
        KERNEL
    } else if mask & L_MEMCPY != 0 {
        MEMCPY
    } else if mask & L_MEMSET != 0 {
        MEMSET
    } else if mask & L_SYNC != 0 {
        IDLE_SYNC
    } else if mask & L_LAUNCH != 0 {
        IDLE_LAUNCH
    } else {
        IDLE_HOST
    }
}

fn phase_of(mask: u64) -> usize {
    if mask & L_PRE != 0 {
        0
    } else if mask & L_POST != 0 {
        2
    } else if mask & L_INFER != 0 {
        1
    } else if mask & L_HOST != 0 {
        3
    } else {
        4
    }
}

/// The unions the sweep walks: one per category.
#[derive(Debug, Default)]
pub struct Layers {
    /// Compact: as long as the trace has kernels.
    pub kernel: SpanList,
    pub memcpy: Vec<Span>,
    pub memset: Vec<Span>,
    pub sync: SpanList,
    /// Kernel launch calls (the layers above win wherever both cover).
    pub launch: Launch,
    pub preprocess: Vec<Span>,
    pub postprocess: Vec<Span>,
    pub inference: Vec<Span>,
    /// Where the host is inside an iteration: the union of the iterations'
    /// host ranges (the whole window when it has no iterations). Window
    /// time outside it is the GPU tail.
    pub host: Vec<Span>,
}

/// The launch layer's spans.
#[derive(Debug)]
pub enum Launch {
    /// Read from the trace's calls by each sweep ([`LaunchCalls`]), with
    /// the longest launch call.
    Calls { longest: Ns },
    /// Given as disjoint sorted spans.
    Spans(Vec<Span>),
}

impl Default for Launch {
    fn default() -> Launch {
        Launch::Spans(Vec::new())
    }
}

/// A layer as a sweep reads it.
enum Source<'a> {
    Spans(Cursor<'a>),
    List(At<'a, SpanList>),
    Calls(LaunchCalls<'a>),
}

impl Layer for Source<'_> {
    fn first_after(&mut self, t: Ns) -> Option<Span> {
        match self {
            Source::Spans(c) => c.first_after(t),
            Source::List(c) => c.first_after(t),
            Source::Calls(c) => c.first_after(t),
        }
    }
}

impl Layers {
    /// The launch layer within `[from, to)`, clipped to it.
    pub fn launch_in(&self, trace: &Trace, from: Ns, to: Ns) -> Vec<Span> {
        match &self.launch {
            Launch::Calls { longest } => LaunchCalls::new(&trace.api_calls, *longest).clipped(from, to),
            Launch::Spans(spans) => intervals::overlapping(spans, from, to)
                .iter()
                .map(|&(a, b)| (a.max(from), b.min(to)))
                .filter(|&(a, b)| a < b)
                .collect(),
        }
    }

    /// The host phase at time `t` (by the same priority as the table).
    pub fn phase_at(&self, t: Ns) -> Phase {
        let covers = |spans: &[Span]| {
            let i = spans.partition_point(|s| s.1 <= t);
            spans.get(i).is_some_and(|s| s.0 <= t)
        };
        if covers(&self.preprocess) {
            Phase::Preprocess
        } else if covers(&self.postprocess) {
            Phase::Postprocess
        } else if covers(&self.inference) {
            Phase::Inference
        } else if covers(&self.host) {
            Phase::Unannotated
        } else {
            Phase::GpuTail
        }
    }

    /// The layers in bit order, for a sweep over `trace`'s calls.
    fn sources<'a>(&'a self, trace: &'a Trace) -> [Source<'a>; 9] {
        let spans = |s: &'a [Span]| Source::Spans(Cursor::new(s));
        let launch = match &self.launch {
            Launch::Calls { longest } => Source::Calls(LaunchCalls::new(&trace.api_calls, *longest)),
            Launch::Spans(s) => spans(s),
        };
        [
            Source::List(At::new(&self.kernel)),
            spans(&self.memcpy),
            spans(&self.memset),
            Source::List(At::new(&self.sync)),
            launch,
            spans(&self.preprocess),
            spans(&self.postprocess),
            spans(&self.inference),
            spans(&self.host),
        ]
    }

    /// [`intervals::sweep`] of `spans` over these layers.
    fn sweep(&self, trace: &Trace, spans: &[Span], f: impl FnMut(Ns, Ns, u64)) {
        intervals::sweep_by(spans, &mut self.sources(trace), f);
    }
}

/// Whether a copy involves pageable host memory (the API call then blocks
/// the host even when it is the `Async` variant).
pub fn is_pageable(m: &Memcpy) -> bool {
    m.src == MemKind::Pageable || m.dst == MemKind::Pageable
}

/// Map (pid, correlation) to the copy it launched.
pub fn memcpy_by_correlation(trace: &Trace) -> HashMap<(u32, u32), usize> {
    trace
        .memcpys
        .iter()
        .enumerate()
        .filter(|(_, m)| m.correlation != 0)
        .map(|(i, m)| ((m.pid, m.correlation), i))
        .collect()
}

/// Host intervals that block on the GPU: synchronize calls, blocking
/// copy/memset calls, and async copies that touch pageable memory.
pub fn blocking_calls(trace: &Trace) -> SpanList {
    let by_corr = memcpy_by_correlation(trace);
    let spans = trace.api_calls.iter().filter(|a| match a.kind {
        ApiKind::Sync | ApiKind::Memcpy | ApiKind::Memset => true,
        ApiKind::MemcpyAsync => {
            let pid = trace.threads.get(a.thread as usize).map_or(0, |t| t.pid);
            by_corr
                .get(&(pid, a.correlation))
                .is_some_and(|&i| is_pageable(&trace.memcpys[i]))
        }
        _ => false,
    });
    SpanList::from_sorted(intervals::union_iter(spans.map(|a| (a.start, a.end))), 0)
}

/// Phase spans: ranges nested in each iteration on its thread, by phase.
pub fn phase_spans(trace: &Trace, window: &Window, rules: &PhaseRules) -> [Vec<Span>; 3] {
    let mut cache: HashMap<NameId, Option<Phase>> = HashMap::new();
    let (mut pre, mut post, mut infer) = (Vec::new(), Vec::new(), Vec::new());
    for it in &window.iterations {
        let lo = trace.ranges.partition_point(|r| r.start < it.start);
        let hi = trace.ranges.partition_point(|r| r.start < it.host_end);
        for (i, r) in trace.ranges[lo..hi].iter().enumerate() {
            if Some(lo + i) == it.range || r.thread != it.thread {
                continue;
            }
            let phase = *cache
                .entry(r.name)
                .or_insert_with(|| rules.classify(trace.name(r.name)));
            let span = (r.start.max(it.start), r.end.min(it.host_end));
            match phase {
                Some(Phase::Preprocess) => pre.push(span),
                Some(Phase::Postprocess) => post.push(span),
                Some(Phase::Inference) => infer.push(span),
                _ => {}
            }
        }
    }
    [
        intervals::union(pre),
        intervals::union(post),
        intervals::union(infer),
    ]
}

/// Build every layer for `trace` over `window`.
pub fn layers(trace: &Trace, window: &Window, rules: &PhaseRules) -> Layers {
    layers_with(trace, window, rules, gpu_layers(trace))
}

/// The layers that do not depend on the window: GPU activity, blocking
/// calls and launch time (built while the window is being chosen).
#[derive(Debug)]
pub struct GpuLayers {
    kernel: SpanList,
    memcpy: Vec<Span>,
    memset: Vec<Span>,
    sync: SpanList,
    launch: Launch,
}

pub fn gpu_layers(trace: &Trace) -> GpuLayers {
    let kernel = SpanList::from_sorted(
        intervals::union_iter(trace.kernels.iter().map(|k| (k.start, k.end))),
        trace.kernels.len(),
    );
    let memcpy = intervals::union_sorted(trace.memcpys.iter().map(|m| (m.start, m.end)));
    let memset = intervals::union_sorted(trace.memsets.iter().map(|m| (m.start, m.end)));
    let sync = blocking_calls(trace);
    let launch = Launch::Calls {
        longest: launch_layer::longest(&trace.api_calls),
    };
    GpuLayers {
        kernel,
        memcpy,
        memset,
        sync,
        launch,
    }
}

/// [`layers`] from GPU layers built beforehand.
pub fn layers_with(trace: &Trace, window: &Window, rules: &PhaseRules, gpu: GpuLayers) -> Layers {
    let [preprocess, postprocess, inference] = phase_spans(trace, window, rules);
    let GpuLayers {
        kernel,
        memcpy,
        memset,
        sync,
        launch,
    } = gpu;
    Layers {
        launch,
        kernel,
        memcpy,
        memset,
        sync,
        preprocess,
        postprocess,
        inference,
        host: host_spans(window),
    }
}

/// [`Layers::host`] of `window`.
fn host_spans(window: &Window) -> Vec<Span> {
    if window.iterations.is_empty() {
        return window.spans.clone();
    }
    intervals::union(window.iterations.iter().map(|i| (i.start, i.host_end)).collect())
}

/// The phase x bucket table of `spans` (disjoint, sorted).
pub fn table(trace: &Trace, spans: &[Span], layers: &Layers) -> Table {
    let mut t = Table::default();
    layers.sweep(trace, spans, |s, e, mask| t.add(mask, e - s));
    t
}

/// The window's GPU-idle time by cause, `[sync, launch, host]`, as
/// sorted disjoint spans: the same sweep and priorities as the table, so
/// each list's length is that cause's `gpu_idle` total.
pub fn idle_spans(trace: &Trace, window: &[Span], layers: &Layers) -> [Vec<Span>; 3] {
    let mut out: [Vec<Span>; 3] = Default::default();
    layers.sweep(trace, window, |s, e, mask| push_idle(&mut out, s, e, mask));
    out
}

/// Add a swept stretch to its idle cause's list (joining a touching one);
/// busy stretches are left out.
fn push_idle(out: &mut [Vec<Span>; 3], s: Ns, e: Ns, mask: u64) {
    let list = match bucket_of(mask) {
        IDLE_SYNC => &mut out[0],
        IDLE_LAUNCH => &mut out[1],
        IDLE_HOST => &mut out[2],
        _ => return,
    };
    match list.last_mut() {
        Some(last) if last.1 == s => last.1 = e,
        _ => list.push((s, e)),
    }
}

/// Where the trace records host activity: the union of its host spans, and
/// one nanosecond at each CPU sample. Idle time outside it has nothing to
/// break down.
pub fn host_region(trace: &Trace) -> Vec<Span> {
    let host = &trace.host;
    let mut spans: Vec<Span> = host.spans.iter().map(|s| (s.start, s.end)).collect();
    spans.extend(host.samples.iter().map(|s| (s.time, s.time.saturating_add(1))));
    intervals::union(spans)
}

/// Collects the idle stretches of a sweep (in time order) clipped to a
/// region (sorted disjoint spans):
///
/// ```text
///  sweep    [--idle--)[busy)[------idle------)
///  region      [=====)         [==)    [=======)
///  kept        [-----)         [--)    [-)
/// ```
struct Idle<'a> {
    out: &'a mut [Vec<Span>; 3],
    region: &'a [Span],
    at: usize,
}

impl<'a> Idle<'a> {
    fn new(out: &'a mut [Vec<Span>; 3], region: &'a [Span]) -> Idle<'a> {
        Idle { out, region, at: 0 }
    }

    fn add(&mut self, s: Ns, e: Ns, mask: u64) {
        if bucket_of(mask) < IDLE_SYNC {
            return;
        }
        let r = self.region;
        while self.at < r.len() && r[self.at].1 <= s {
            self.at += 1;
        }
        for &(a, b) in r[self.at..].iter().take_while(|x| x.0 < e) {
            push_idle(self.out, s.max(a), e.min(b), mask);
        }
    }
}

/// Everything the attribution reports.
#[derive(Debug)]
pub struct Result {
    /// The unions the sweep walked, for rules that ask "what was going on at t".
    pub layers: Layers,
    pub table: Table,
    pub total: Attribution,
    pub iterations: Vec<IterationRow>,
    pub devices: Vec<DeviceRow>,
    /// The window's GPU-idle spans by cause (as [`idle_spans`]) where the
    /// trace records host activity ([`host_region`]), kept from the table's
    /// sweep for the host-work breakdown; None without host activity. Only
    /// their overlap with host activity is kept: the full lists of a
    /// 10M-kernel trace hold millions of gaps.
    pub idle: Option<[Vec<Span>; 3]>,
    /// Built on first use and shared by the rules that need them.
    shared: Shared,
}

/// Indexes several rules need, built once on first use.
#[derive(Debug, Default)]
struct Shared {
    links: OnceLock<Links>,
    launches: OnceLock<Launches>,
}

impl Result {
    /// The API call behind each kernel and copy.
    pub fn links(&self, trace: &Trace) -> &Links {
        self.shared.links.get_or_init(|| Links::build(trace))
    }

    /// The NVTX range open at each kernel's launch.
    pub fn launches(&self, trace: &Trace) -> &Launches {
        self.shared
            .launches
            .get_or_init(|| Launches::from_links(trace, self.links(trace)))
    }

    /// Union of GPU activity: kernels, copies and memsets on any GPU.
    pub fn gpu_busy(&self) -> span_list::Union<'_> {
        span_list::Union::new(&self.gpu_busy_lists())
    }

    /// The lists whose union [`Self::gpu_busy`] is.
    pub fn gpu_busy_lists(&self) -> [&dyn Spans; 3] {
        let l = &self.layers;
        [&l.kernel, &l.memcpy, &l.memset]
    }
}

/// Attribute the window, each iteration and each device.
pub fn attribute(trace: &Trace, window: &Window, rules: &PhaseRules) -> Result {
    attribute_with(trace, window, rules, Links::build(trace))
}

/// [`attribute`] with the launch links already built (kept for the rules).
pub fn attribute_with(trace: &Trace, window: &Window, rules: &PhaseRules, links: Links) -> Result {
    attribute_from(trace, window, rules, links, gpu_layers(trace))
}

/// [`attribute_with`] with the GPU layers built beforehand.
pub fn attribute_from(
    trace: &Trace,
    window: &Window,
    rules: &PhaseRules,
    links: Links,
    gpu: GpuLayers,
) -> Result {
    let layers = layers_with(trace, window, rules, gpu);
    let region = (!trace.host.is_empty()).then(|| host_region(trace));
    let mut idle: Option<[Vec<Span>; 3]> = region.as_ref().map(|_| Default::default());
    let keep = idle
        .as_mut()
        .zip(region.as_deref())
        .map(|(out, region)| Idle::new(out, region));
    let (table, per_iteration) = tables(trace, window, &layers, keep);
    let iterations = window
        .iterations
        .iter()
        .zip(per_iteration)
        .enumerate()
        .map(|(index, (it, t))| {
            let a = t.attribution();
            IterationRow {
                index,
                start_ns: it.start,
                duration_ns: it.end - it.start,
                activity: a.activity,
                gpu_idle: a.gpu_idle,
                phase: a.phase,
            }
        })
        .collect();
    Result {
        table,
        total: table.attribution(),
        iterations,
        devices: devices(trace, window, &table),
        idle,
        layers,
        shared: Shared {
            links: OnceLock::from(links),
            ..Shared::default()
        },
    }
}

/// The window's table and each iteration's (and, when asked, the window's
/// idle spans: the same sweep). When iterations do not overlap (one
/// thread's loop), the window is exactly their union and one sweep over the
/// iterations fills both; otherwise each is swept apart.
fn tables(trace: &Trace, window: &Window, layers: &Layers, idle: Option<Idle>) -> (Table, Vec<Table>) {
    let its = &window.iterations;
    let disjoint = its.windows(2).all(|w| w[0].end <= w[1].start);
    let whole = |idle: Option<Idle>| {
        let mut t = Table::default();
        let mut keep = idle;
        layers.sweep(trace, &window.spans, |s, e, mask| {
            t.add(mask, e - s);
            if let Some(keep) = keep.as_mut() {
                keep.add(s, e, mask);
            }
        });
        t
    };
    if !disjoint || its.is_empty() {
        let per = its
            .iter()
            .map(|it| table(trace, &[(it.start, it.end)], layers))
            .collect();
        return (whole(idle), per);
    }
    let spans: Vec<Span> = its.iter().map(|it| (it.start, it.end)).collect();
    // Each span is swept afresh, so the two halves of the iterations go to
    // two cores: their tables add up, and the second half's idle spans
    // follow the first's (joined at the seam as one sweep would).
    let half = its.len() / 2;
    let mut later: [Vec<Span>; 3] = Default::default();
    let later_keep = idle.as_ref().map(|k| Idle::new(&mut later, k.region));
    let ((mut total, mut per, keep), (total2, per2)) = crate::workers::join(
        || sweep_iterations(trace, layers, its, &spans, (0, half), idle),
        || {
            let (t, p, _) = sweep_iterations(trace, layers, its, &spans, (half, its.len()), later_keep);
            (t, p)
        },
    );
    total.merge(&total2);
    per.extend(per2);
    if let Some(keep) = keep {
        for (list, more) in keep.out.iter_mut().zip(later) {
            let mut more = more.into_iter().peekable();
            if let (Some(last), Some(&(s, e))) = (list.last_mut(), more.peek()) {
                if last.1 == s {
                    last.1 = e;
                    more.next();
                }
            }
            list.extend(more);
        }
    }
    (total, per)
}

/// The tables of iterations `from..to` (disjoint, in time order; `spans`
/// are theirs) and their sum, feeding `keep` the idle spans.
fn sweep_iterations<'k>(
    trace: &Trace,
    layers: &Layers,
    its: &[crate::analysis::window::Iteration],
    spans: &[Span],
    (from, to): (usize, usize),
    mut keep: Option<Idle<'k>>,
) -> (Table, Vec<Table>, Option<Idle<'k>>) {
    let mut per = vec![Table::default(); to - from];
    let mut total = Table::default();
    let mut i = from;
    layers.sweep(trace, &spans[from..to], |s, e, mask| {
        while its[i].end <= s {
            i += 1;
        }
        per[i - from].add(mask, e - s);
        total.add(mask, e - s);
        if let Some(keep) = keep.as_mut() {
            keep.add(s, e, mask);
        }
    });
    (total, per, keep)
}

/// Each GPU's busy time within the window, by its own kernels, copies and
/// memsets (same priority as the window attribution).
pub fn devices(trace: &Trace, window: &Window, table: &Table) -> Vec<DeviceRow> {
    // All activity on one GPU: its row is the window's.
    if let [d] = trace.devices.as_slice() {
        let on_d = trace.kernels.iter().all(|k| k.device == d.id)
            && trace.memcpys.iter().all(|m| m.device == d.id)
            && trace.memsets.iter().all(|m| m.device == d.id);
        if on_d {
            let a = table.attribution().activity;
            return vec![DeviceRow {
                id: d.id,
                name: d.name.clone(),
                kernel_ns: a.kernel_ns,
                memcpy_ns: a.memcpy_ns,
                memset_ns: a.memset_ns,
                gpu_idle_ns: a.gpu_idle_ns,
            }];
        }
    }
    trace
        .devices
        .iter()
        .map(|d| {
            let k = intervals::union_sorted(
                trace
                    .kernels
                    .iter()
                    .filter(|k| k.device == d.id)
                    .map(|k| (k.start, k.end)),
            );
            let c = intervals::union_sorted(
                trace
                    .memcpys
                    .iter()
                    .filter(|m| m.device == d.id)
                    .map(|m| (m.start, m.end)),
            );
            let s = intervals::union_sorted(
                trace
                    .memsets
                    .iter()
                    .filter(|m| m.device == d.id)
                    .map(|m| (m.start, m.end)),
            );
            let mut row = DeviceRow {
                id: d.id,
                name: d.name.clone(),
                ..DeviceRow::default()
            };
            intervals::sweep(&window.spans, &[&k, &c, &s], |a, b, m| {
                let ns = b - a;
                match () {
                    _ if m & 1 != 0 => row.kernel_ns += ns,
                    _ if m & 2 != 0 => row.memcpy_ns += ns,
                    _ if m & 4 != 0 => row.memset_ns += ns,
                    _ => row.gpu_idle_ns += ns,
                }
            });
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities() {
        assert_eq!(bucket_of(L_KERNEL | L_MEMCPY | L_SYNC), KERNEL);
        assert_eq!(bucket_of(L_MEMCPY | L_MEMSET), MEMCPY);
        assert_eq!(bucket_of(L_SYNC | L_LAUNCH), IDLE_SYNC);
        assert_eq!(bucket_of(L_LAUNCH), IDLE_LAUNCH);
        assert_eq!(bucket_of(0), IDLE_HOST);
        assert_eq!(phase_of(L_PRE | L_POST | L_INFER), 0);
        assert_eq!(phase_of(L_POST | L_INFER), 2);
        assert_eq!(phase_of(L_INFER), 1);
        assert_eq!(phase_of(L_KERNEL | L_HOST), 3);
        assert_eq!(phase_of(L_KERNEL), 4, "outside the host ranges: the GPU tail");
    }

    #[test]
    fn table_sums_to_window() {
        let layers = Layers {
            kernel: [(10, 20), (40, 50)].into_iter().collect(),
            memcpy: vec![(15, 30)],
            memset: vec![(55, 57)],
            sync: [(30, 35)].into_iter().collect(),
            launch: Launch::Spans(vec![(0, 12), (33, 45)]),
            preprocess: vec![(0, 25)],
            postprocess: vec![(20, 60)],
            inference: vec![(30, 80)],
            host: vec![(0, 90)],
        };
        let a = table(&Trace::default(), &[(0, 100)], &layers).attribution();
        assert_eq!(a.total_ns, 100);
        assert_eq!(a.activity.kernel_ns, 20);
        assert_eq!(a.activity.memcpy_ns, 10); // 20..30
        assert_eq!(a.activity.memset_ns, 2);
        assert_eq!(a.gpu_idle.sync_ns, 5); // 30..35
        assert_eq!(a.gpu_idle.launch_ns, 10 + 5); // 0..10, 35..40
        assert_eq!(a.gpu_idle.host_ns, 100 - 20 - 10 - 2 - 5 - 15);
        assert_eq!(a.phase.preprocess_ns, 25);
        assert_eq!(a.phase.postprocess_ns, 35); // 25..60
        assert_eq!(a.phase.inference_ns, 20); // 60..80
        assert_eq!(a.phase.unannotated_ns, 10); // 80..90
        assert_eq!(a.phase.gpu_tail_ns, 10); // 90..100
        assert_eq!(a.phase_activity.preprocess.activity.kernel_ns, 10);
        assert_eq!(a.phase_activity.postprocess.activity.kernel_ns, 10);
        let cells: Ns = Phase::ALL
            .iter()
            .map(|&p| {
                let r = a.phase_activity.get(p).activity;
                r.kernel_ns + r.memcpy_ns + r.memset_ns + r.gpu_idle_ns
            })
            .sum();
        assert_eq!(cells, 100);
    }
}
