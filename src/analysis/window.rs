//! The analysis window: the steady-state iterations of the run.
//!
//! Warm-up is not steady state (cuDNN autotuning in warm-up can cost 10x an
//! iteration), so the window is the union of the iteration ranges:
//!
//! ```text
//!  thread 1: [pre][infer][post] [pre][infer][post] [iter: [pre][infer][post]] [iter: ...] ...
//!            '----- warm-up, not annotated -----'  '--------- window W (union of iter) ---------'
//! ```
//!
//! Which ranges are the iterations:
//!
//! 1. `--iteration NAME` names them; else the profiler's own step markers
//!    (PyTorch's `ProfilerStep#N`) when the trace has them.
//! 2. Else detection. Candidates are the application's push/pop ranges
//!    (the default NVTX domain; see [`crate::model::Range::domain`]) whose
//!    name occurs at least [`MIN_ITERATIONS`] times and never nested in
//!    another range on its thread (`preprocess` above appears at top level
//!    during warm-up but nested in `iter` later, so it does not qualify).
//!    Libraries' ranges never qualify: XLA's per-thunk ranges (domain
//!    `TSL`), NCCL's, nsys's MPI tracing, PyTorch's own optimizer,
//!    DataLoader and collective `record_function`s; they are a piece of a
//!    step, never a step.
//! 3. Each candidate is projected onto the GPU through its launches (see
//!    [`super::projection`]): the GPU work launched from inside its ranges.
//!    A candidate qualifies when that is at least [`MIN_SHARE`] of the GPU
//!    work its processes issued between its first range's start and its
//!    last range's end (warm-up, autotuning and shutdown outside the loop
//!    are normal and left out: a JAX step can launch 13% of all GPU time
//!    and 100% of what was issued while the steps ran). Among qualifying
//!    candidates the one that launches the most GPU work wins (ties: more
//!    ranges, longer in total, then the name). An optimizer's, a
//!    collective's or a data fetch's ranges launch a small part of what
//!    runs meanwhile and lose to the step; a range that launches nothing
//!    is never an iteration.
//! 4. Without a qualifying candidate the window is the span of all GPU
//!    activity, and the window's `reason` says why each candidate was
//!    turned down.
//!
//! An iteration ends with the last GPU work it launched when that runs
//! past its host range (an asynchronous loop); the window is the union of
//! these extents.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::intervals::{self, Span};
use super::links::Links;
use super::projection::{self, HostRange, Launched};
use crate::error::{Error, Result};
use crate::model::{DEFAULT_DOMAIN, NameId, Ns, RangeKind, Trace};

/// Fewest occurrences for a range name to count as an iteration marker.
pub const MIN_ITERATIONS: usize = 3;

/// How the window is chosen.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum WindowChoice {
    /// Detect the iteration range; fall back to the GPU span.
    #[default]
    Auto,
    /// Use ranges with this name as iterations.
    Named(String),
    /// The span of all GPU activity.
    WholeCapture,
}

/// One iteration: an occurrence of the iteration range, projected onto
/// the GPU (see [`super::projection`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iteration {
    /// Start of the host range.
    pub start: Ns,
    /// End of the iteration: the later of its host range's end and the
    /// end of the last GPU work launched inside it.
    pub end: Ns,
    /// End of the host range.
    pub host_end: Ns,
    /// Index into `trace.ranges`; None for the synthetic whole-window one.
    pub range: Option<usize>,
    pub thread: u32,
}

/// The chosen window.
#[derive(Debug, Clone)]
pub struct Window {
    pub scope: Scope,
    pub iteration_name: Option<String>,
    pub iterations: Vec<Iteration>,
    /// Union of the iterations (or the GPU span): disjoint, sorted.
    pub spans: Vec<Span>,
    /// Why this window, for the report.
    pub reason: String,
    /// Share of all GPU work (time) launched from inside the iterations;
    /// None without iterations or GPU work.
    pub gpu_work_share: Option<f64>,
    /// Something the user should know about this choice (iterations that
    /// launch no GPU work).
    pub warning: Option<String>,
    /// `reach[i]`: the latest end among iterations `0..=i`.
    reach: Vec<Ns>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Union of iteration ranges.
    Iterations,
    /// No iteration range found: span of all GPU activity.
    GpuSpan,
    /// `--whole-capture`: span of all GPU activity.
    WholeCapture,
}

impl Scope {
    /// The scope in words, for people (never the Rust variant's name).
    pub fn describe(self) -> &'static str {
        match self {
            Scope::Iterations => "iterations",
            Scope::GpuSpan => "span of all GPU activity: no iterations found",
            Scope::WholeCapture => "whole capture, as asked",
        }
    }
}

impl Window {
    pub fn start(&self) -> Ns {
        self.spans.first().map_or(0, |s| s.0)
    }

    pub fn end(&self) -> Ns {
        self.spans.last().map_or(0, |s| s.1)
    }

    /// Length of the union.
    pub fn duration(&self) -> Ns {
        intervals::total(&self.spans)
    }

    /// Index of the iteration containing `t` (the latest-starting one when
    /// iterations of several threads overlap).
    pub fn iteration_at(&self, t: Ns) -> Option<usize> {
        let n = self.iterations.partition_point(|i| i.start <= t);
        // Walk back only while some earlier iteration still ends after t.
        (0..n)
            .rev()
            .take_while(|&i| self.reach[i] > t)
            .find(|&i| self.iterations[i].end > t)
    }

    /// [`iteration_at`](Self::iteration_at) for times in (mostly)
    /// increasing order: `started` carries, from one call to the next, how
    /// many iterations start at or before the time (start with 0).
    pub fn iteration_at_hint(&self, t: Ns, started: &mut usize) -> Option<usize> {
        let its = &self.iterations;
        let n = *started;
        if n > its.len() || (n > 0 && its[n - 1].start > t) {
            *started = its.partition_point(|i| i.start <= t);
        } else {
            *started = n + its[n..].iter().take_while(|i| i.start <= t).count();
        }
        (0..*started)
            .rev()
            .take_while(|&i| self.reach[i] > t)
            .find(|&i| its[i].end > t)
    }

    /// The iteration of median duration (ties: the earlier): the one the
    /// report draws, and the one every finding's chart prefers.
    pub fn representative(&self) -> Option<usize> {
        let mut its: Vec<(Ns, usize)> = self
            .iterations
            .iter()
            .enumerate()
            .map(|(i, it)| (it.end - it.start, i))
            .collect();
        its.sort_unstable();
        its.get(its.len().saturating_sub(1) / 2).map(|&(_, i)| i)
    }

    /// Whether `t` lies in the window.
    pub fn contains(&self, t: Ns) -> bool {
        let i = self.spans.partition_point(|s| s.1 <= t);
        self.spans.get(i).is_some_and(|s| s.0 <= t)
    }

    /// Indexes of the items of a list sorted by `start` whose start lies in
    /// the window, in order: two binary searches per window span instead
    /// of one [`contains`](Self::contains) per item.
    pub fn indexes<'a, T, F>(&'a self, items: &'a [T], start: F) -> impl Iterator<Item = usize> + 'a
    where
        F: Fn(&T) -> Ns + Copy + 'a,
    {
        self.spans.iter().flat_map(move |&(s, e)| {
            let lo = items.partition_point(|x| start(x) < s);
            let hi = lo + items[lo..].partition_point(|x| start(x) < e);
            lo..hi
        })
    }
}

/// For each push/pop range, whether another range on its thread contains it.
pub fn nested_flags(trace: &Trace) -> Vec<bool> {
    let mut nested = vec![false; trace.ranges.len()];
    // Per thread, ranges in (start asc, end desc) order; a stack of open ranges.
    let mut by_thread: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, r) in trace.ranges.iter().enumerate() {
        if r.kind == RangeKind::PushPop {
            by_thread.entry(r.thread).or_default().push(i);
        }
    }
    for idx in by_thread.values_mut() {
        idx.sort_by_key(|&i| (trace.ranges[i].start, std::cmp::Reverse(trace.ranges[i].end)));
        let mut stack: Vec<usize> = Vec::new();
        for &i in idx.iter() {
            let r = &trace.ranges[i];
            while let Some(&top) = stack.last() {
                if trace.ranges[top].end <= r.start {
                    stack.pop();
                } else {
                    break;
                }
            }
            if let Some(&top) = stack.last() {
                if trace.ranges[top].start <= r.start && r.end <= trace.ranges[top].end {
                    nested[i] = true;
                }
            }
            stack.push(i);
        }
    }
    nested
}

/// The name a range is grouped under for iteration detection: names that
/// differ only in a step number count as one, shown with `*` for the number
/// (`ProfilerStep#12` -> `ProfilerStep#*`). A number counts as a step
/// number after `#`, or after a word that means an iteration (`step 3`,
/// `iter_7`, `Iteration-2`, `batch12`); other trailing numbers are ids
/// (`aten::add, op_id = 812`) and keep names apart. Returns (group key,
/// shown name).
pub fn iteration_key(name: &str) -> (&str, String) {
    const STEP_WORDS: [&str; 5] = ["step", "iter", "iteration", "batch", "epoch"];
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 && digits < name.len() {
        let head = &name[..name.len() - digits];
        let key = head.strip_suffix(['#', '_', ' ', '-']).unwrap_or(head);
        let word = key
            .rsplit(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("");
        let step_word = STEP_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w));
        if (head.ends_with('#') || step_word) && !key.trim().is_empty() {
            return (key, format!("{head}*"));
        }
    }
    (name, name.to_string())
}

/// Least share of the GPU work issued while a candidate's ranges run that
/// they must launch themselves to mark the iterations.
pub const MIN_SHARE: f64 = 0.2;

/// Most candidates whose launches are weighed (the longest in total host
/// time): iterations are long ranges, and each candidate costs a cursor in
/// the one pass over the GPU operations.
const MAX_CANDIDATES: usize = 8;

/// One group of same-named ranges, as detection sees it.
#[derive(Debug, Clone)]
struct Group {
    /// Shown name (see [`iteration_key`]).
    name: String,
    domain: NameId,
    count: usize,
    nested: bool,
    total: Ns,
}

/// Push/pop range groups by (domain, shown name), in no particular order.
fn groups(trace: &Trace) -> Vec<Group> {
    let nested = nested_flags(trace);
    let mut keys: HashMap<u32, String> = HashMap::new();
    let mut stats: HashMap<(NameId, String), Group> = HashMap::new();
    for (i, r) in trace.ranges.iter().enumerate() {
        if r.kind != RangeKind::PushPop {
            continue;
        }
        let shown = keys
            .entry(r.name)
            .or_insert_with(|| iteration_key(trace.name(r.name)).1);
        let g = stats.entry((r.domain, shown.clone())).or_insert_with(|| Group {
            name: shown.clone(),
            domain: r.domain,
            count: 0,
            nested: false,
            total: 0,
        });
        g.count += 1;
        g.nested |= nested[i];
        g.total += r.end - r.start;
    }
    stats.into_values().collect()
}

/// Span of all GPU activity (kernels, copies, memsets).
pub fn gpu_span(trace: &Trace) -> Option<Span> {
    let starts = trace
        .kernels
        .iter()
        .map(|k| (k.start, k.end))
        .chain(trace.memcpys.iter().map(|m| (m.start, m.end)))
        .chain(trace.memsets.iter().map(|m| (m.start, m.end)));
    starts.fold(None, |acc, (s, e)| match acc {
        None => Some((s, e)),
        Some((a, b)) => Some((a.min(s), b.max(e))),
    })
}

/// Choose the window for `trace` (builds the launch links itself; the
/// pipeline shares its own through [`choose_with`]).
pub fn choose(trace: &Trace, choice: &WindowChoice) -> Result<Window> {
    choose_with(trace, choice, &Links::build(trace))
}

/// Choose the window for `trace`, with the API call behind each GPU
/// operation.
pub fn choose_with(trace: &Trace, choice: &WindowChoice, links: &Links) -> Result<Window> {
    match choice {
        WindowChoice::WholeCapture => Ok(span_window(
            trace,
            Scope::WholeCapture,
            "whole capture (--whole-capture): the span of all GPU activity".to_string(),
        )),
        WindowChoice::Named(name) => named(trace, links, name, false),
        WindowChoice::Auto => match &trace.iteration_range {
            Some(name) => named(trace, links, name, true),
            None => detect(trace, links),
        },
    }
}

/// The range names the trace has, most frequent first: `ranges are: iter
/// (15), preprocess (15), ...` (at most 12), or that it has none.
pub fn range_names(trace: &Trace) -> String {
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for r in &trace.ranges {
        *counts.entry(r.name).or_default() += 1;
    }
    if counts.is_empty() {
        return "the trace has no NVTX ranges (use --whole-capture)".into();
    }
    let mut v: Vec<(&str, usize)> = counts.into_iter().map(|(id, n)| (trace.name(id), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let shown: Vec<String> = v
        .iter()
        .take(12)
        .map(|(n, c)| {
            // Printed on a terminal: control characters made visible, long names cut.
            let n: String = n
                .chars()
                .take(60)
                .map(|ch| if ch.is_control() { '?' } else { ch })
                .collect();
            format!("'{n}' ({c})")
        })
        .collect();
    let more = if v.len() > 12 {
        format!(" and {} more", v.len() - 12)
    } else {
        String::new()
    };
    format!("range names in the trace: {}{more}", shown.join(", "))
}

/// The GPU span as the window.
fn span_window(trace: &Trace, scope: Scope, reason: String) -> Window {
    let spans: Vec<Span> = gpu_span(trace).into_iter().filter(|s| s.1 > s.0).collect();
    Window {
        scope,
        iteration_name: None,
        iterations: Vec::new(),
        spans,
        reason,
        gpu_work_share: None,
        warning: None,
        reach: Vec::new(),
    }
}

/// `part / whole` as a whole percentage for reasons.
fn pct(part: Ns, whole: Ns) -> String {
    if whole <= 0 {
        return "0%".into();
    }
    let p = part as f64 * 100.0 / whole as f64;
    if p > 0.0 && p < 1.0 {
        "<1%".into()
    } else {
        format!("{p:.0}%")
    }
}

/// Ranges the user or the profiler named.
fn named(trace: &Trace, links: &Links, name: &str, profiler: bool) -> Result<Window> {
    let host = iterations_named(trace, name);
    if host.is_empty() {
        return Err(Error::input(
            &trace.source.path,
            format!(
                "no NVTX range named '{name}' (--iteration); {}",
                range_names(trace)
            ),
        ));
    }
    let (launched, total) = projection::launched(trace, links, &[&host_ranges(trace, &host)]);
    let l = &launched[0];
    let why = if profiler {
        format!("iterations are the '{name}' ranges: the profiler's own step markers")
    } else {
        format!("iterations are the '{name}' ranges (--iteration)")
    };
    let warning = if total > 0 && l.inside_ns == 0 {
        Some(format!(
            "the '{name}' iterations launch no GPU work: every kernel, copy and memset was issued outside them, \
             so the window shows the host only (name another range with --iteration, or --whole-capture)"
        ))
    } else if total > 0 && l.share_during() < MIN_SHARE {
        Some(format!(
            "the '{name}' iterations launch only {} of the GPU work issued while they run: \
             most of the GPU's work lies outside the window",
            pct(l.inside_ns, l.during_ns)
        ))
    } else {
        None
    };
    Ok(iterations_window(trace, name, host, l, total, why, warning))
}

/// Detection: among the application's ranges, the one that launches the
/// most GPU work (see the module documentation).
fn detect(trace: &Trace, links: &Links) -> Result<Window> {
    let all = groups(trace);
    let top = |g: &Group| g.count >= MIN_ITERATIONS && !g.nested;
    let mut candidates: Vec<&Group> = all
        .iter()
        .filter(|g| g.domain == DEFAULT_DOMAIN && top(g))
        .collect();
    candidates.sort_by(|a, b| {
        b.total
            .cmp(&a.total)
            .then(b.count.cmp(&a.count))
            .then(a.name.cmp(&b.name))
    });
    candidates.truncate(MAX_CANDIDATES);
    let mut library: Vec<&Group> = all
        .iter()
        .filter(|g| g.domain != DEFAULT_DOMAIN && top(g))
        .collect();
    library.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    let skipped = if library.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = library
            .iter()
            .take(3)
            .map(|g| format!("'{}' (domain {})", g.name, trace.name(g.domain)))
            .collect();
        format!(
            "; library ranges never mark iterations unless named with --iteration: {}{}",
            list.join(", "),
            if library.len() > 3 { ", ..." } else { "" }
        )
    };
    // Each candidate's ranges, then one pass over the GPU operations.
    let hosts: Vec<Vec<Iteration>> = collect_iterations(trace, &candidates);
    let ranges: Vec<Vec<HostRange>> = hosts.iter().map(|h| host_ranges(trace, h)).collect();
    let refs: Vec<&[HostRange]> = ranges.iter().map(|r| r.as_slice()).collect();
    let (launched, total) = if candidates.is_empty() {
        (Vec::new(), 0)
    } else {
        projection::launched(trace, links, &refs)
    };
    let best = (0..candidates.len())
        .filter(|&i| launched[i].inside_ns > 0 && launched[i].share_during() >= MIN_SHARE)
        .max_by(|&a, &b| {
            let (ga, gb) = (candidates[a], candidates[b]);
            launched[a]
                .inside_ns
                .cmp(&launched[b].inside_ns)
                .then(ga.count.cmp(&gb.count))
                .then(ga.total.cmp(&gb.total))
                .then(gb.name.cmp(&ga.name))
        });
    if let Some(i) = best {
        let g = candidates[i];
        let l = &launched[i];
        let why = format!(
            "iterations are the '{}' ranges: of the application's NVTX ranges (default domain) seen >= {MIN_ITERATIONS} \
             times and never nested, the one that launches the most GPU work: {} of all of it, {} of what was \
             issued while they ran{skipped}",
            g.name,
            pct(l.inside_ns, total),
            pct(l.inside_ns, l.during_ns),
        );
        let host = hosts.into_iter().nth(i).expect("one per candidate");
        return Ok(iterations_window(trace, &g.name, host, l, total, why, None));
    }
    let reason = if candidates.is_empty() && library.is_empty() {
        format!(
            "no NVTX range occurs >= {MIN_ITERATIONS} times at top level: the window is the span of all GPU activity, warm-up included"
        )
    } else {
        let rejected: Vec<String> = candidates
            .iter()
            .zip(&launched)
            .take(3)
            .map(|(g, l)| {
                format!(
                    "'{}' ({} times) launches {} of the GPU work issued while it runs",
                    g.name,
                    g.count,
                    pct(l.inside_ns, l.during_ns)
                )
            })
            .collect();
        let rejected = if rejected.is_empty() {
            "no application range occurs >= 3 times at top level".to_string()
        } else {
            format!(
                "no application range launches at least {:.0}% of the GPU work issued while it runs ({})",
                MIN_SHARE * 100.0,
                rejected.join("; ")
            )
        };
        format!("{rejected}{skipped}: the window is the span of all GPU activity, warm-up included")
    };
    Ok(span_window(trace, Scope::GpuSpan, reason))
}

/// The ranges of `its` as the projection takes them.
fn host_ranges(trace: &Trace, its: &[Iteration]) -> Vec<HostRange> {
    its.iter()
        .map(|i| HostRange {
            start: i.start,
            end: i.host_end,
            pid: trace.threads.get(i.thread as usize).map_or(0, |t| t.pid),
        })
        .collect()
}

/// The window of iterations `host` (host ranges, sorted by start), each
/// projected onto the GPU by what it launched.
fn iterations_window(
    trace: &Trace,
    name: &str,
    host: Vec<Iteration>,
    l: &Launched,
    total: Ns,
    reason: String,
    warning: Option<String>,
) -> Window {
    let iterations: Vec<Iteration> = host
        .into_iter()
        .zip(&l.gpu_end)
        .map(|(it, e)| Iteration {
            end: e.map_or(it.host_end, |e| e.max(it.host_end)),
            ..it
        })
        .collect();
    let spans = intervals::union(iterations.iter().map(|i| (i.start, i.end)).collect());
    // Several processes (data-parallel ranks) each mark their own
    // iterations: say so, since their ranges overlap in time.
    let mut threads: Vec<u32> = iterations.iter().map(|i| i.thread).collect();
    threads.sort_unstable();
    threads.dedup();
    let reason = if threads.len() > 1 {
        let covered: Ns = spans.iter().map(|s| s.1 - s.0).sum();
        let summed: Ns = iterations.iter().map(|i| i.end - i.start).sum();
        let overlap = if covered < summed {
            ", overlapping in time"
        } else {
            ""
        };
        format!(
            "{reason}; they come from {} threads (e.g. one process per GPU){overlap}: \
             each thread's range counts as one iteration",
            threads.len()
        )
    } else {
        reason
    };
    let behind = iterations.iter().filter(|i| i.end > i.host_end).count();
    let reason = if behind * 2 > iterations.len() {
        format!(
            "{reason}; the GPU runs behind the host: {behind} of {} iterations end after their host range, \
             with the end of the last GPU work they launched",
            iterations.len()
        )
    } else {
        reason
    };
    let _ = trace;
    let reach = iterations
        .iter()
        .scan(Ns::MIN, |m, i| {
            *m = (*m).max(i.end);
            Some(*m)
        })
        .collect();
    Window {
        scope: Scope::Iterations,
        iteration_name: Some(name.to_string()),
        iterations,
        spans,
        reason,
        gpu_work_share: (total > 0).then(|| l.inside_ns as f64 / total as f64),
        warning,
        reach,
    }
}

/// Whether range name `full` answers to `name` (its own name, its group
/// key or its shown group name).
fn answers_to(full: &str, name: &str) -> bool {
    let (key, shown) = iteration_key(full);
    full == name || key == name || shown == name
}

/// Every range called `name`, as iterations sorted by start. When a name
/// also occurs nested (a user's `--iteration` choice may), only the
/// outermost occurrences count, so an iteration is never counted twice.
fn iterations_named(trace: &Trace, name: &str) -> Vec<Iteration> {
    let mut matches: HashMap<u32, bool> = HashMap::new();
    let mut its: Vec<Iteration> = Vec::new();
    for (i, r) in trace.ranges.iter().enumerate() {
        let hit = *matches
            .entry(r.name)
            .or_insert_with(|| answers_to(trace.name(r.name), name));
        if hit && r.end > r.start {
            its.push(iteration(i, r));
        }
    }
    outermost(its)
}

/// The ranges of each group (push/pop, its domain), in one pass.
fn collect_iterations(trace: &Trace, groups: &[&Group]) -> Vec<Vec<Iteration>> {
    let mut out: Vec<Vec<Iteration>> = vec![Vec::new(); groups.len()];
    if groups.is_empty() {
        return out;
    }
    let mut which: HashMap<(NameId, u32), Option<usize>> = HashMap::new();
    for (i, r) in trace.ranges.iter().enumerate() {
        if r.kind != RangeKind::PushPop || r.end <= r.start {
            continue;
        }
        let g = *which.entry((r.domain, r.name)).or_insert_with(|| {
            let shown = iteration_key(trace.name(r.name)).1;
            groups
                .iter()
                .position(|g| g.domain == r.domain && g.name == shown)
        });
        if let Some(g) = g {
            out[g].push(iteration(i, r));
        }
    }
    out.into_iter().map(outermost).collect()
}

fn iteration(i: usize, r: &crate::model::Range) -> Iteration {
    Iteration {
        start: r.start,
        end: r.end,
        host_end: r.end,
        range: Some(i),
        thread: r.thread,
    }
}

/// Sorted by start, without occurrences inside an earlier one on the same
/// thread: with starts sorted, only the last kept one per thread can
/// contain it.
fn outermost(mut its: Vec<Iteration>) -> Vec<Iteration> {
    its.sort_by_key(|i| (i.start, std::cmp::Reverse(i.host_end)));
    let mut last_end: HashMap<u32, Ns> = HashMap::new();
    let mut out: Vec<Iteration> = Vec::with_capacity(its.len());
    for it in its {
        let end = last_end.entry(it.thread).or_insert(Ns::MIN);
        if it.host_end <= *end {
            continue;
        }
        *end = it.host_end;
        out.push(it);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_numbers_group() {
        assert_eq!(
            iteration_key("ProfilerStep#12"),
            ("ProfilerStep", "ProfilerStep#*".to_string())
        );
        assert_eq!(iteration_key("step 3"), ("step", "step *".to_string()));
        assert_eq!(iteration_key("iter_7"), ("iter", "iter_*".to_string()));
        assert_eq!(iteration_key("iter"), ("iter", "iter".to_string()));
        assert_eq!(iteration_key("layer1"), ("layer1", "layer1".to_string()));
        assert_eq!(iteration_key("#12"), ("#12", "#12".to_string()));
        assert_eq!(
            iteration_key("Iteration-2"),
            ("Iteration", "Iteration-*".to_string())
        );
        assert_eq!(iteration_key("batch12"), ("batch", "batch*".to_string()));
        let op = "aten::lift_fresh, op_id = 999730";
        assert_eq!(iteration_key(op), (op, op.to_string()));
        assert_eq!(iteration_key("conv_3"), ("conv_3", "conv_3".to_string()));
        assert_eq!(iteration_key("42"), ("42", "42".to_string()));
    }
}
