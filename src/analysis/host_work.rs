//! What the host ran while the GPU waited: the window's GPU-idle time of
//! each cause (`sync`, `launch`, `host`, as in the attribution) broken
//! down by what the threads that drive the GPU were running, from whatever
//! the capture recorded:
//!
//! - timed spans, measured exactly: Python functions and framework
//!   operators (PyTorch profiler), OS runtime calls (nsys `osrt`). Each
//!   name gets its *self* time (it was the innermost span running) and its
//!   *total* time (it was on the stack) inside the cause's idle time:
//!
//!   ```text
//!    idle (host)   [==========================)
//!    preprocess  [==================================)
//!    python_busy     [=========)
//!    sort                         [========)
//!    self: preprocess = gaps between its children inside idle
//!   ```
//!
//! - CPU samples (nsys `--sample`): a sample lying in a cause's idle time
//!   counts for its leaf function and module; one sample stands for one
//!   sampling period of CPU time (an estimate, within about one period per
//!   name, more for rare names). Off-CPU time (sleeping, waiting on I/O)
//!   has no samples: the OS calls show it.
//!
//! Counted threads: the threads that run the iterations (their ranges),
//! and per process the one that launched the most kernels in the window
//! (else made the most CUDA calls). Helper threads that also call CUDA
//! (NCCL's watchdog polling events, a pinned-memory thread) spend their
//! time waiting by design and would read as the host's work. With several
//! counted threads, their times add up and can exceed the idle time.

use hashbrown::HashMap;

use serde::{Deserialize, Serialize};

use super::attribution;
use super::intervals::{self, Span};
use super::window::Window;
use crate::model::{ApiKind, Frame, HostSpan, HostSpanKind, NameId, Ns, Trace};

/// Rows kept per list.
const TOP: usize = 10;
/// Shortest idle time, in sampling periods, whose samples get a time
/// estimate.
const MIN_PERIODS: Ns = 10;

/// The gap causes, in the order of `causes`.
pub const CAUSES: [&str; 3] = ["sync", "launch", "host"];

/// The report's `host_work` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostWork {
    /// What the capture recorded: `python-functions`, `operators`,
    /// `os-runtime`, `cpu-samples`.
    pub sources: Vec<String>,
    /// The threads counted: those that run the iterations, and per
    /// process the one that launched the most kernels in the window (else
    /// made the most CUDA calls).
    pub threads: Vec<HostThread>,
    /// CPU time one sample stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_period_ns: Option<Ns>,
    /// `profiler` (stated in the capture) or `median-gap` (the median time
    /// between a thread's consecutive samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_period_source: Option<String>,
    /// One entry per cause, in [`CAUSES`] order.
    pub causes: Vec<CauseWork>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostThread {
    pub pid: u32,
    pub tid: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What the host ran during one cause's GPU-idle time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CauseWork {
    /// `sync`, `launch` or `host`.
    pub cause: String,
    /// The cause's GPU-idle time in the window (`attribution.gpu_idle`).
    pub gpu_idle_ns: Ns,
    /// Python functions, largest self time first.
    #[serde(default)]
    pub python: Vec<TimedRow>,
    /// Framework operators, largest self time first.
    #[serde(default)]
    pub operators: Vec<TimedRow>,
    /// Outermost OS runtime calls, largest time first (self = total).
    #[serde(default)]
    pub os_calls: Vec<TimedRow>,
    /// Time inside any OS runtime call (of any counted thread): mostly
    /// off-CPU time, sleeping or waiting. Absent without OS runtime data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_call_ns: Option<Ns>,
    /// Without Python frames or CPU samples: the idle time in which no
    /// counted thread was inside a recorded operator or OS call, i.e. time
    /// on the CPU that the capture says nothing about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub untraced_ns: Option<Ns>,
    /// CPU samples, when the capture has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<SampledWork>,
}

/// A timed name's share of a cause's idle time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedRow {
    pub name: String,
    /// Spans of this name that overlap the cause's idle time.
    pub count: u64,
    /// Time it was the innermost span.
    pub self_ns: Ns,
    /// Time it was on the stack (recursive calls count once each, so this
    /// can exceed the idle time for recursive functions).
    pub total_ns: Ns,
}

/// CPU samples inside a cause's idle time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampledWork {
    pub samples: u64,
    /// `samples x sample_period_ns`: CPU time, an estimate (absent when
    /// the period is unknown, or when the cause's idle time is shorter
    /// than 10 periods: a few samples then say where, not how long).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_ns: Option<Ns>,
    /// Leaf functions (where the CPU was), most samples first.
    pub functions: Vec<SampledRow>,
    /// Leaf modules (the interpreter, NumPy, libtorch, libc, ...).
    pub modules: Vec<SampledRow>,
    /// Where native code was entered: in samples with a call stack whose
    /// leaf is in a native library, the outermost frame of that library
    /// before its caller (NumPy's `array_sort` under `np.sort`), most
    /// samples first. nsys unwinds only some samples (one in four in
    /// 2025.3), so these count fewer samples than `modules`.
    #[serde(default)]
    pub library_entries: Vec<SampledRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampledRow {
    /// The function (`(unresolved)` for a bare address, `(no stack)` for a
    /// sample without frames) or, in `modules`, the module's file name.
    pub name: String,
    /// The module's path as recorded.
    pub module: String,
    /// `python` (the interpreter itself: pure-Python code), `kernel`, or
    /// `native` (a compiled library or program).
    pub module_kind: String,
    pub samples: u64,
    /// `samples x sample_period_ns`; absent for `library_entries` (they
    /// count only the samples that were unwound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_ns: Option<Ns>,
}

/// Accumulated time of one name.
#[derive(Default, Clone, Copy)]
struct Acc {
    count: u64,
    self_ns: Ns,
    total_ns: Ns,
}

/// Lengths of a sorted disjoint span list, for overlap queries in log time.
struct Covered<'a> {
    spans: &'a [Span],
    prefix: Vec<Ns>,
}

impl<'a> Covered<'a> {
    fn new(spans: &'a [Span]) -> Covered<'a> {
        let mut prefix = Vec::with_capacity(spans.len() + 1);
        prefix.push(0);
        let mut sum = 0;
        for &(s, e) in spans {
            sum += e - s;
            prefix.push(sum);
        }
        Covered { spans, prefix }
    }

    /// How much of `[s, e)` the spans cover (a scan from the first span:
    /// sweeps use [`Self::overlap_after`]).
    #[cfg(test)]
    fn overlap(&self, s: Ns, e: Ns) -> Ns {
        self.overlap_after(&mut 0, s, e)
    }

    /// [`Self::overlap`] for queries whose start never decreases: `at`
    /// (the first span that may still matter) only moves forward, and the
    /// end is found by galloping from it, so a sorted sweep of short
    /// queries costs O(1) each instead of two binary searches.
    fn overlap_after(&self, at: &mut usize, s: Ns, e: Ns) -> Ns {
        let spans = self.spans;
        let n = spans.len();
        while *at < n && spans[*at].1 <= s {
            *at += 1;
        }
        let i = *at;
        if e <= s || i == n || spans[i].0 >= e {
            return 0;
        }
        // j: the first span starting at or after e (> i, as spans[i] starts before e).
        let (mut lo, mut hi, mut step) = (i, i + 1, 1);
        while hi < n && spans[hi].0 < e {
            lo = hi;
            step *= 2;
            hi = i + step;
        }
        let hi = hi.min(n);
        let j = lo + spans[lo..hi].partition_point(|x| x.0 < e);
        let mut len = self.prefix[j] - self.prefix[i];
        len -= (s - spans[i].0).max(0);
        len -= (spans[j - 1].1 - e).max(0);
        len
    }

    fn contains(&self, t: Ns) -> bool {
        let i = self.spans.partition_point(|x| x.1 <= t);
        self.spans.get(i).is_some_and(|x| x.0 <= t)
    }
}

/// The `host_work` section, or None when the capture recorded nothing of
/// what the host threads ran.
pub fn analyze(trace: &Trace, window: &Window, attribution: &attribution::Result) -> Option<HostWork> {
    let host = &trace.host;
    if host.is_empty() || window.spans.is_empty() {
        return None;
    }
    let driving = driving_threads(trace, window);
    let drives = |t: u32| driving.get(t as usize).copied().unwrap_or(false);
    let (lo, hi) = (window.start(), window.end());
    let spans: Vec<&HostSpan> = host
        .spans
        .iter()
        .filter(|s| drives(s.thread) && s.end > lo && s.start < hi)
        .collect();
    let samples: Vec<_> = host
        .samples
        .iter()
        .filter(|s| drives(s.thread) && s.time >= lo && s.time < hi)
        .collect();
    if spans.is_empty() && samples.is_empty() {
        return None;
    }
    // The attribution kept them (where the host recorded activity) from
    // its sweep; sweeping again costs as much as the attribution.
    let swept;
    let idle = match &attribution.idle {
        Some(idle) => idle,
        None => {
            swept = attribution::idle_spans(trace, &window.spans, &attribution.layers);
            &swept
        }
    };
    let covered: Vec<Covered> = idle.iter().map(|s| Covered::new(s)).collect();
    // The causes' idle totals; the spans above may cover only the part
    // where the host recorded something.
    let g = attribution.total.gpu_idle;

    let mut sources = Vec::new();
    let mut causes: Vec<CauseWork> = CAUSES
        .iter()
        .zip([g.sync_ns, g.launch_ns, g.host_ns])
        .map(|(c, idle_ns)| CauseWork {
            cause: (*c).to_string(),
            gpu_idle_ns: idle_ns,
            python: Vec::new(),
            operators: Vec::new(),
            os_calls: Vec::new(),
            os_call_ns: None,
            untraced_ns: None,
            samples: None,
        })
        .collect();
    for (kind, label) in [
        (HostSpanKind::Python, "python-functions"),
        (HostSpanKind::Operator, "operators"),
        (HostSpanKind::OsCall, "os-runtime"),
    ] {
        let of_kind: Vec<&HostSpan> = spans.iter().copied().filter(|s| s.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        sources.push(label.to_string());
        if kind == HostSpanKind::OsCall {
            let union = intervals::union(of_kind.iter().map(|s| (s.start, s.end)).collect());
            for (cw, cov) in causes.iter_mut().zip(&covered) {
                // The union is sorted: one forward sweep, not a scan from
                // the first idle span per interval (quadratic on LLM traces).
                let mut at = 0;
                cw.os_call_ns = Some(union.iter().map(|&(a, b)| cov.overlap_after(&mut at, a, b)).sum());
            }
        }
        let per_cause = timed(&of_kind, &covered);
        for (cw, acc) in causes.iter_mut().zip(per_cause) {
            let rows = top_timed(trace, acc);
            match kind {
                HostSpanKind::Python => cw.python = rows,
                HostSpanKind::Operator => cw.operators = rows,
                HostSpanKind::OsCall => cw.os_calls = rows,
            }
        }
    }
    if !sources.iter().any(|s| s == "python-functions") && samples.is_empty() {
        let recorded = intervals::union(spans.iter().map(|s| (s.start, s.end)).collect());
        for (cw, cov) in causes.iter_mut().zip(&covered) {
            let mut at = 0;
            let inside: Ns = recorded
                .iter()
                .map(|&(a, b)| cov.overlap_after(&mut at, a, b))
                .sum();
            cw.untraced_ns = Some(cw.gpu_idle_ns - inside);
        }
    }
    let (mut period, mut period_source) = (None, None);
    if !samples.is_empty() {
        sources.push("cpu-samples".to_string());
        (period, period_source) = match host.sample_period {
            Some(p) => (Some(p), Some("profiler".to_string())),
            None => (median_gap(&host.samples), Some("median-gap".to_string())),
        };
        let mut modules: HashMap<NameId, ModuleClass> = HashMap::new();
        for (cw, cov) in causes.iter_mut().zip(&covered) {
            let mut functions: HashMap<(Option<NameId>, NameId), u64> = HashMap::new();
            let mut entries: HashMap<(Option<NameId>, NameId), u64> = HashMap::new();
            let mut n = 0u64;
            for s in samples.iter().filter(|s| cov.contains(s.time)) {
                n += 1;
                let stack = host.stack(s);
                if let Some(e) = library_entry(stack, |m| {
                    modules
                        .entry(m)
                        .or_insert_with(|| classify_module(trace.name(m)))
                        .kind
                        == "native"
                }) {
                    let resolved = !is_address(trace.name(e.symbol));
                    *entries
                        .entry((resolved.then_some(e.symbol), e.module))
                        .or_default() += 1;
                }
                let key = match stack.first() {
                    Some(f) => {
                        let resolved = !is_address(trace.name(f.symbol));
                        (resolved.then_some(f.symbol), f.module)
                    }
                    None => (None, 0),
                };
                *functions.entry(key).or_default() += 1;
            }
            // Samples of an idle time only a few periods long place where
            // the CPU was, not how long: no time estimate then.
            let est_period = period.filter(|&p| cw.gpu_idle_ns >= MIN_PERIODS * p);
            let mut work = sampled(trace, n, est_period, &functions, &mut modules);
            work.library_entries = function_rows(trace, None, &entries, &mut modules);
            cw.samples = Some(work);
        }
    }
    let mut threads: Vec<HostThread> = driving
        .iter()
        .enumerate()
        .filter(|&(_, &d)| d)
        .filter_map(|(i, _)| trace.threads.get(i))
        .map(|t| HostThread {
            pid: t.pid,
            tid: t.tid,
            name: t.name.clone(),
        })
        .collect();
    threads.truncate(16);
    Some(HostWork {
        sources,
        threads,
        sample_period_ns: period,
        sample_period_source: period_source,
        causes,
    })
}

/// Per thread index: whether it is its process's driving thread.
fn driving_threads(trace: &Trace, window: &Window) -> Vec<bool> {
    let (lo, hi) = (window.start(), window.end());
    // (launch calls, all calls) per thread, in the window.
    let mut calls = vec![(0u64, 0u64); trace.threads.len()];
    for a in trace.api_calls.iter().filter(|a| a.end > lo && a.start < hi) {
        if let Some(c) = calls.get_mut(a.thread as usize) {
            c.0 += u64::from(a.kind == ApiKind::Launch);
            c.1 += 1;
        }
    }
    let mut best: HashMap<u32, (u64, u64, usize)> = HashMap::new();
    for (i, &(launches, all)) in calls.iter().enumerate() {
        if all == 0 {
            continue;
        }
        let pid = trace.threads[i].pid;
        let e = best.entry(pid).or_insert((launches, all, i));
        if (launches, all) > (e.0, e.1) {
            *e = (launches, all, i);
        }
    }
    let mut driving = vec![false; trace.threads.len()];
    for (_, _, i) in best.into_values() {
        driving[i] = true;
    }
    // The loop that runs the iterations: where pre- and postprocessing
    // happen, even when another thread launches more (autograd's backward).
    for it in &window.iterations {
        if let Some(d) = driving.get_mut(it.thread as usize) {
            *d = true;
        }
    }
    driving
}

/// Self and total time per name inside each cause's idle time, for spans
/// of one kind (sorted by start, parents first).
fn timed(spans: &[&HostSpan], covered: &[Covered]) -> Vec<HashMap<NameId, Acc>> {
    let mut out: Vec<HashMap<NameId, Acc>> = vec![HashMap::new(); covered.len()];
    // Total: each span's own overlap (spans come sorted by start).
    let mut at = vec![0usize; covered.len()];
    for s in spans {
        for ((acc, cov), at) in out.iter_mut().zip(covered).zip(&mut at) {
            let ns = cov.overlap_after(at, s.start, s.end);
            if ns > 0 {
                let a = acc.entry(s.name).or_default();
                a.count += 1;
                a.total_ns += ns;
            }
        }
    }
    // Self: the innermost span at each instant, one thread at a time
    // (its stretches come in time order).
    let mut by_thread: HashMap<u32, Vec<&HostSpan>> = HashMap::new();
    for s in spans {
        by_thread.entry(s.thread).or_default().push(s);
    }
    for list in by_thread.values() {
        let mut at = vec![0usize; covered.len()];
        innermost(list, |s, e, name| {
            for ((acc, cov), at) in out.iter_mut().zip(covered).zip(&mut at) {
                let ns = cov.overlap_after(at, s, e);
                if ns > 0 {
                    acc.entry(name).or_default().self_ns += ns;
                }
            }
        });
    }
    out
}

/// Call `f(start, end, name)` for each stretch of time where a span of
/// `spans` (one thread, sorted by start, parents first) is the innermost:
///
/// ```text
///  parent  [==========================)
///  child        [======)   [==)
///  f        [--P-)[--C--)[P)[C)[--P---)
/// ```
///
/// A child that outlives its parent (clipped or broken nesting) is cut
/// where the parent ends.
fn innermost(spans: &[&HostSpan], mut f: impl FnMut(Ns, Ns, NameId)) {
    let mut stack: Vec<(Ns, NameId)> = Vec::new();
    let mut t = Ns::MIN;
    for s in spans {
        while let Some(&(end, name)) = stack.last() {
            if end > s.start {
                break;
            }
            if end > t {
                f(t, end, name);
                t = end;
            }
            stack.pop();
        }
        if let Some(&(_, name)) = stack.last() {
            if s.start > t {
                f(t, s.start, name);
            }
        }
        t = t.max(s.start);
        let end = stack.last().map_or(s.end, |p| s.end.min(p.0));
        stack.push((end, s.name));
    }
    while let Some((end, name)) = stack.pop() {
        if end > t {
            f(t, end, name);
            t = end;
        }
    }
}

fn top_timed(trace: &Trace, acc: HashMap<NameId, Acc>) -> Vec<TimedRow> {
    let mut rows: Vec<(NameId, Acc)> = acc.into_iter().filter(|(_, a)| a.total_ns > 0).collect();
    rows.sort_by_key(|(n, a)| (std::cmp::Reverse(a.self_ns), std::cmp::Reverse(a.total_ns), *n));
    rows.truncate(TOP);
    rows.into_iter()
        .map(|(n, a)| TimedRow {
            name: trace.name(n).to_string(),
            count: a.count,
            self_ns: a.self_ns,
            total_ns: a.total_ns,
        })
        .collect()
}

/// Whether a symbol is a bare address (`0x56713c`): unresolved.
fn is_address(symbol: &str) -> bool {
    symbol
        .strip_prefix("0x")
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// How a module is shown: its file name and kind.
#[derive(Clone)]
struct ModuleClass {
    file: String,
    kind: &'static str,
}

fn classify_module(path: &str) -> ModuleClass {
    let file = path.rsplit('/').next().unwrap_or(path).to_string();
    let lower = file.to_ascii_lowercase();
    let kind = if lower.starts_with("python") || lower.starts_with("libpython") {
        "python"
    } else if lower.contains("kernel") || lower.contains("vmlinux") || lower.starts_with('[') {
        "kernel"
    } else {
        "native"
    };
    ModuleClass { file, kind }
}

fn sampled(
    trace: &Trace,
    n: u64,
    period: Option<Ns>,
    functions: &HashMap<(Option<NameId>, NameId), u64>,
    classes: &mut HashMap<NameId, ModuleClass>,
) -> SampledWork {
    let est = |k: u64| period.map(|p| (k as Ns).saturating_mul(p));
    let mut by_module: HashMap<NameId, u64> = HashMap::new();
    for (&(_, m), &k) in functions {
        *by_module.entry(m).or_default() += k;
    }
    let functions = function_rows(trace, period, functions, classes);
    let mut m: Vec<_> = by_module.into_iter().collect();
    m.sort_by_key(|&(m, k)| (std::cmp::Reverse(k), m));
    m.truncate(TOP);
    let modules = m
        .into_iter()
        .map(|(m, k)| {
            let c = classes
                .entry(m)
                .or_insert_with(|| classify_module(trace.name(m)))
                .clone();
            SampledRow {
                name: if m == 0 { "(no stack)".into() } else { c.file },
                module: trace.name(m).to_string(),
                module_kind: c.kind.to_string(),
                samples: k,
                estimated_ns: est(k),
            }
        })
        .collect();
    SampledWork {
        samples: n,
        estimated_ns: est(n),
        functions,
        modules,
        library_entries: Vec::new(),
    }
}

/// The top (function, module) rows of a sample count map.
fn function_rows(
    trace: &Trace,
    period: Option<Ns>,
    counts: &HashMap<(Option<NameId>, NameId), u64>,
    classes: &mut HashMap<NameId, ModuleClass>,
) -> Vec<SampledRow> {
    let mut f: Vec<_> = counts.iter().map(|(&key, &k)| (key, k)).collect();
    f.sort_by_key(|&((s, m), k)| (std::cmp::Reverse(k), s, m));
    f.truncate(TOP);
    f.into_iter()
        .map(|((s, m), k)| {
            let kind = classes
                .entry(m)
                .or_insert_with(|| classify_module(trace.name(m)))
                .kind;
            let name = match s {
                Some(s) => trace.name(s).to_string(),
                None if m == 0 => "(no stack)".to_string(),
                None => "(unresolved)".to_string(),
            };
            SampledRow {
                name,
                module: trace.name(m).to_string(),
                module_kind: kind.to_string(),
                samples: k,
                estimated_ns: period.map(|p| (k as Ns).saturating_mul(p)),
            }
        })
        .collect()
}

/// In a stack (leaf first) whose leaf lies in a native library, the
/// outermost frame of that library's leading run: the function its caller
/// (another module) called. None without a caller in the stack.
///
/// ```text
///  depth 0  partition_unrolled  _multiarray_umath.so   <- leaf
///  ...      qsort_, PyArray_Sort  _multiarray_umath.so
///  depth 13 array_sort          _multiarray_umath.so   <- entry
///  depth 14 0x551a56            python3.12             (the caller)
/// ```
fn library_entry(stack: &[Frame], mut native: impl FnMut(NameId) -> bool) -> Option<Frame> {
    let leaf = stack.first()?;
    if !native(leaf.module) {
        return None;
    }
    let run = stack.iter().take_while(|f| f.module == leaf.module).count();
    (run < stack.len()).then(|| stack[run - 1])
}

/// The median time between consecutive samples of one thread: the period
/// when the thread runs most of the time (longer when it mostly sleeps).
fn median_gap(samples: &[crate::model::CpuSample]) -> Option<Ns> {
    let mut last: HashMap<u32, Ns> = HashMap::new();
    let mut gaps = Vec::new();
    for s in samples {
        if let Some(prev) = last.insert(s.thread, s.time) {
            if s.time > prev {
                gaps.push(s.time - prev);
            }
        }
    }
    if gaps.is_empty() {
        return None;
    }
    let mid = gaps.len() / 2;
    Some(*gaps.select_nth_unstable(mid).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: Ns, end: Ns, name: NameId) -> HostSpan {
        HostSpan {
            start,
            end,
            name,
            thread: 0,
            kind: HostSpanKind::Python,
        }
    }

    #[test]
    fn innermost_tiles_the_parent() {
        let spans = [span(0, 100, 1), span(10, 30, 2), span(12, 20, 3), span(50, 60, 2)];
        let refs: Vec<&HostSpan> = spans.iter().collect();
        let mut got = Vec::new();
        innermost(&refs, |s, e, n| got.push((s, e, n)));
        assert_eq!(
            got,
            vec![
                (0, 10, 1),
                (10, 12, 2),
                (12, 20, 3),
                (20, 30, 2),
                (30, 50, 1),
                (50, 60, 2),
                (60, 100, 1)
            ]
        );
        let total: Ns = got.iter().map(|g| g.1 - g.0).sum();
        assert_eq!(total, 100);
    }

    #[test]
    fn innermost_cuts_a_child_that_outlives_its_parent() {
        let spans = [span(0, 10, 1), span(5, 20, 2), span(30, 40, 3)];
        let refs: Vec<&HostSpan> = spans.iter().collect();
        let mut got = Vec::new();
        innermost(&refs, |s, e, n| got.push((s, e, n)));
        assert_eq!(got, vec![(0, 5, 1), (5, 10, 2), (30, 40, 3)]);
    }

    #[test]
    fn overlap_of_spans() {
        let spans = [(10, 20), (30, 40), (50, 60)];
        let c = Covered::new(&spans);
        assert_eq!(c.overlap(0, 100), 30);
        assert_eq!(c.overlap(15, 35), 10);
        assert_eq!(c.overlap(12, 18), 6);
        assert_eq!(c.overlap(20, 30), 0);
        assert_eq!(c.overlap(55, 55), 0);
        assert!(c.contains(10) && !c.contains(20) && c.contains(59));
        // The forward-only form agrees with the stateless one on a sweep.
        let mut at = 0;
        for (a, b) in [(0, 5), (5, 15), (12, 100), (35, 36), (40, 55), (61, 70)] {
            assert_eq!(c.overlap_after(&mut at, a, b), c.overlap(a, b), "{a}..{b}");
        }
    }

    #[test]
    fn modules_and_addresses() {
        assert!(is_address("0x56713c") && !is_address("0x") && !is_address("PyLong_AsLong"));
        assert_eq!(classify_module("/usr/bin/python3.12").kind, "python");
        assert_eq!(
            classify_module("/x/numpy/_core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so").kind,
            "native"
        );
        assert_eq!(classify_module("/usr/lib/libpython3.11.so.1.0").kind, "python");
    }
}
