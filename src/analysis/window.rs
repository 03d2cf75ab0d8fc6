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
//! The iteration range is found among push/pop range names that occur at
//! least [`MIN_ITERATIONS`] times and are never nested inside another range
//! on their thread: the most frequent wins (ties: longer total time, then
//! name). `preprocess` above appears at top level during warm-up but nested
//! in `iter` later, so it does not qualify. Without such a range the window
//! is the span of all GPU activity.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::intervals::{self, Span};
use crate::error::{Error, Result};
use crate::model::{Ns, RangeKind, Trace};

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

/// One iteration: an occurrence of the iteration range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iteration {
    pub start: Ns,
    pub end: Ns,
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

/// The iteration range name by the rule above, if any (the shown name of
/// its group, see [`iteration_key`]).
pub fn detect_iteration_name(trace: &Trace) -> Option<String> {
    let nested = nested_flags(trace);
    #[derive(Default)]
    struct Stat {
        count: usize,
        nested: bool,
        total: Ns,
    }
    let mut keys: HashMap<u32, String> = HashMap::new();
    let mut stats: HashMap<String, Stat> = HashMap::new();
    for (i, r) in trace.ranges.iter().enumerate() {
        if r.kind != RangeKind::PushPop {
            continue;
        }
        let shown = keys
            .entry(r.name)
            .or_insert_with(|| iteration_key(trace.name(r.name)).1);
        let s = stats.entry(shown.clone()).or_default();
        s.count += 1;
        s.nested |= nested[i];
        s.total += r.end - r.start;
    }
    stats
        .into_iter()
        .filter(|(_, s)| s.count >= MIN_ITERATIONS && !s.nested)
        .map(|(name, s)| (s.count, s.total, name))
        // Most frequent, then longest in total, then the smaller name.
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(b.2.cmp(&a.2)))
        .map(|(_, _, name)| name)
}

/// A warning when the GPU runs far behind the host: many more kernel
/// launches were issued inside the window than kernels started in it, so
/// work launched in an iteration executes after the iteration ended (the
/// host enqueues without waiting). Graph launches start many kernels each
/// and never trigger this.
pub fn lag_warning(trace: &Trace, window: &Window) -> Option<String> {
    if window.scope != Scope::Iterations {
        return None;
    }
    let launched = window
        .indexes(&trace.api_calls, |a| a.start)
        .filter(|&i| trace.api_calls[i].kind == crate::model::ApiKind::Launch)
        .count();
    let started = window.indexes(&trace.kernels, |k| k.start).count();
    // Below 3/4 of the launches, the lag is not noise.
    (launched >= 8 && started * 4 < launched * 3).then(|| {
        format!(
            "the GPU runs behind the host: {launched} kernel launches were issued inside the iterations but only \
             {started} kernels started there, so work launched in an iteration mostly executes after it ends; \
             tables count kernels by GPU start time (see --whole-capture)"
        )
    })
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
            let n: String = n.chars().take(60).map(|ch| if ch.is_control() { '?' } else { ch }).collect();
            format!("'{n}' ({c})")
        })
        .collect();
    let more = if v.len() > 12 { format!(" and {} more", v.len() - 12) } else { String::new() };
    format!("range names in the trace: {}{more}", shown.join(", "))
}

/// Choose the window for `trace`.
pub fn choose(trace: &Trace, choice: &WindowChoice) -> Result<Window> {
    let name = match choice {
        WindowChoice::WholeCapture => None,
        WindowChoice::Named(n) => Some(n.clone()),
        WindowChoice::Auto => detect_iteration_name(trace),
    };
    if let Some(name) = name {
        let iterations = iterations_named(trace, &name);
        if iterations.is_empty() {
            return Err(Error::input(
                &trace.source.path,
                format!("no NVTX range named '{name}' (--iteration); {}", range_names(trace)),
            ));
        }
        let spans = intervals::union(iterations.iter().map(|i| (i.start, i.end)).collect());
        let reason = match choice {
            WindowChoice::Named(_) => format!("iterations are the '{name}' ranges (--iteration)"),
            _ => format!(
                "iterations are the '{name}' ranges: the most frequent range name (>= {MIN_ITERATIONS} times) never nested in another range"
            ),
        };
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
        let reach = iterations
            .iter()
            .scan(Ns::MIN, |m, i| {
                *m = (*m).max(i.end);
                Some(*m)
            })
            .collect();
        return Ok(Window {
            scope: Scope::Iterations,
            iteration_name: Some(name),
            iterations,
            spans,
            reason,
            reach,
        });
    }
    let (scope, reason) = match choice {
        WindowChoice::WholeCapture => (
            Scope::WholeCapture,
            "whole capture (--whole-capture): the span of all GPU activity".to_string(),
        ),
        _ => (
            Scope::GpuSpan,
            format!(
                "no NVTX range occurs >= {MIN_ITERATIONS} times at top level: the window is the span of all GPU activity, warm-up included"
            ),
        ),
    };
    let spans: Vec<Span> = gpu_span(trace).into_iter().filter(|s| s.1 > s.0).collect();
    Ok(Window {
        scope,
        iteration_name: None,
        iterations: Vec::new(),
        spans,
        reason,
        reach: Vec::new(),
    })
}

/// Every range called `name`, as iterations sorted by start. When a name
/// also occurs nested (a user's `--iteration` choice may), only the
/// outermost occurrences count, so an iteration is never counted twice.
fn iterations_named(trace: &Trace, name: &str) -> Vec<Iteration> {
    // A range matches by its own name, its group key or its shown group name.
    let mut matches: HashMap<u32, bool> = HashMap::new();
    let mut its: Vec<Iteration> = Vec::new();
    for (i, r) in trace.ranges.iter().enumerate() {
        let hit = *matches.entry(r.name).or_insert_with(|| {
            let full = trace.name(r.name);
            let (key, shown) = iteration_key(full);
            full == name || key == name || shown == name
        });
        if hit && r.end > r.start {
            its.push(Iteration {
                start: r.start,
                end: r.end,
                range: Some(i),
                thread: r.thread,
            });
        }
    }
    its.sort_by_key(|i| (i.start, std::cmp::Reverse(i.end)));
    // Drop occurrences inside an earlier one on the same thread: with
    // starts sorted, only the last kept one per thread can contain it.
    let mut last_end: HashMap<u32, Ns> = HashMap::new();
    let mut out: Vec<Iteration> = Vec::with_capacity(its.len());
    for it in its {
        let end = last_end.entry(it.thread).or_insert(Ns::MIN);
        if it.end <= *end {
            continue;
        }
        *end = it.end;
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
