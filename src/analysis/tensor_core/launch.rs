//! Which NVTX range launched each kernel: the innermost push/pop range open
//! on the launching thread when the launch call started, found through the
//! kernel's correlation id. Host time, not GPU time: GPU work can lag the
//! host by whole iterations (a loop of large GEMMs queues many ranges' worth
//! of kernels before the first one finishes), so the range open on the host
//! while a kernel *runs* is usually not the one that launched it.

use std::collections::HashMap;

use crate::analysis::links::Links;
use crate::analysis::window::Window;
use crate::model::{NameId, Ns, RangeKind, Trace};

const NONE: u32 = u32::MAX;
/// A call that launched a kernel, before its range is known.
const LAUNCHED: u32 = u32::MAX - 1;

/// The ranges of one thread and those open at the time reached so far.
#[derive(Default)]
struct Open {
    list: Vec<u32>,
    next: usize,
    stack: Vec<u32>,
}

impl Open {
    /// Advance to host time `t`: open the ranges that start by then (noting
    /// each one's parent), close those that ended; the innermost open one.
    fn until(&mut self, trace: &Trace, t: Ns, parent: &mut [u32]) -> u32 {
        let end = |r: u32| trace.ranges[r as usize].end;
        while let Some(&r) = self.list.get(self.next) {
            let start = trace.ranges[r as usize].start;
            if start > t {
                break;
            }
            while self.stack.last().is_some_and(|&top| end(top) <= start) {
                self.stack.pop();
            }
            parent[r as usize] = self.stack.last().copied().unwrap_or(NONE);
            self.stack.push(r);
            self.next += 1;
        }
        while self.stack.last().is_some_and(|&top| end(top) <= t) {
            self.stack.pop();
        }
        self.stack.last().copied().unwrap_or(NONE)
    }
}

/// Launch ranges of every kernel and the nesting of ranges.
#[derive(Debug, Clone)]
pub struct Launches {
    /// Per kernel (index into `trace.kernels`): innermost launching range;
    /// None when kernels come in call order: [`Ranges`] then finds them
    /// again as it goes (a list costs 4 bytes a kernel).
    range: Option<Vec<u32>>,
    /// Per range (index into `trace.ranges`): the range enclosing it on its thread.
    parent: Vec<u32>,
}

/// Per thread: its push/pop ranges in (start, longest first) order.
fn open_lists(trace: &Trace) -> Vec<Open> {
    let mut threads: Vec<Open> = Vec::new();
    for (i, r) in trace.ranges.iter().enumerate() {
        if r.kind == RangeKind::PushPop {
            let t = r.thread as usize;
            if t >= threads.len() {
                threads.resize_with(t + 1, Open::default);
            }
            threads[t].list.push(i as u32);
        }
    }
    threads
}

/// The range open at the start of call `c` on its thread.
fn open_at(trace: &Trace, threads: &mut [Open], c: usize, parent: &mut [u32]) -> u32 {
    let a = &trace.api_calls[c];
    match threads.get_mut(a.thread as usize) {
        Some(open) => open.until(trace, a.start, parent),
        None => NONE,
    }
}

/// The launching ranges of kernels asked for in increasing index order.
pub struct Ranges<'a> {
    launches: &'a Launches,
    trace: &'a Trace,
    links: &'a Links,
    threads: Vec<Open>,
    parent: Vec<u32>,
}

impl Ranges<'_> {
    /// The innermost range open when kernel `k` was launched.
    pub fn of(&mut self, k: usize) -> Option<usize> {
        let r = match &self.launches.range {
            Some(range) => range.get(k).copied().unwrap_or(NONE),
            // Kernels in call order: the calls come in time order too.
            None => self.links.kernel_call(k).map_or(NONE, |c| {
                open_at(self.trace, &mut self.threads, c, &mut self.parent)
            }),
        };
        (r != NONE).then_some(r as usize)
    }
}

impl Launches {
    pub fn build(trace: &Trace) -> Launches {
        Launches::from_links(trace, &Links::build(trace))
    }

    /// From the kernels' launch calls: one pass over the calls in host
    /// time order, keeping per thread the stack of ranges open.
    pub fn from_links(trace: &Trace, links: &Links) -> Launches {
        let mut parent = vec![NONE; trace.ranges.len()];
        let mut threads = open_lists(trace);
        // Kernels launched in call order (one stream, or streams fed in
        // turn): nothing per kernel to keep, each reader walks the calls.
        let in_call_order = (0..trace.kernels.len())
            .filter_map(|k| links.kernel_call(k))
            .is_sorted();
        if in_call_order {
            for open in &mut threads {
                open.until(trace, Ns::MAX, &mut parent);
            }
            return Launches { range: None, parent };
        }
        // Per call: LAUNCHED when it launched a kernel, then the range open
        // at its start.
        let mut call_range = vec![NONE; trace.api_calls.len()];
        for k in 0..trace.kernels.len() {
            if let Some(c) = links.kernel_call(k) {
                call_range[c] = LAUNCHED;
            }
        }
        // Calls are sorted by start: each thread's calls come in time order.
        for c in 0..trace.api_calls.len() {
            if call_range[c] != LAUNCHED {
                continue;
            }
            call_range[c] = open_at(trace, &mut threads, c, &mut parent);
        }
        for open in &mut threads {
            open.until(trace, Ns::MAX, &mut parent);
        }
        let range = (0..trace.kernels.len())
            .map(|k| links.kernel_call(k).map_or(NONE, |c| call_range[c]))
            .collect();
        Launches {
            range: Some(range),
            parent,
        }
    }

    /// The launching range of each kernel, asked for in increasing order.
    pub fn ranges<'a>(&'a self, trace: &'a Trace, links: &'a Links) -> Ranges<'a> {
        let stored = self.range.is_some();
        Ranges {
            launches: self,
            trace,
            links,
            threads: if stored { Vec::new() } else { open_lists(trace) },
            parent: if stored {
                Vec::new()
            } else {
                vec![NONE; trace.ranges.len()]
            },
        }
    }

    /// For the kernels of the window, per kernel name: the innermost ranges
    /// that launched them with the GPU time launched from each, largest first.
    pub fn ranges_by_kernel(
        &self,
        trace: &Trace,
        window: &Window,
        links: &Links,
    ) -> HashMap<NameId, Vec<(NameId, Ns)>> {
        let mut ranges = self.ranges(trace, links);
        // (kernel name, range name) -> time; hashbrown's fast hasher, as
        // this runs once per kernel.
        let mut acc: hashbrown::HashMap<(NameId, NameId), Ns> = hashbrown::HashMap::new();
        for i in window.indexes(&trace.kernels, |k| k.start) {
            if let Some(r) = ranges.of(i) {
                let k = &trace.kernels[i];
                *acc.entry((k.name, trace.ranges[r].name)).or_default() += k.end - k.start;
            }
        }
        let mut out: HashMap<NameId, Vec<(NameId, Ns)>> = HashMap::new();
        for ((k, r), t) in acc {
            out.entry(k).or_default().push((r, t));
        }
        for v in out.values_mut() {
            v.sort_by_key(|&(r, t)| (std::cmp::Reverse(t), r));
        }
        out
    }

    /// `r` and the ranges enclosing it, innermost first.
    pub fn chain(&self, r: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(r), move |&x| {
            self.parent.get(x).filter(|&&p| p != NONE).map(|&p| p as usize)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApiCall, ApiKind, Kernel, Range, Thread};

    #[test]
    fn kernels_map_to_the_range_open_at_launch_not_at_run() {
        let mut t = Trace::default();
        let outer = t.names.intern("iter");
        let a = t.names.intern("a");
        let b = t.names.intern("b");
        t.threads.push(Thread {
            pid: 7,
            tid: 1,
            name: None,
        });
        let range = |start, end, name| Range {
            start,
            end,
            name,
            thread: 0,
            kind: RangeKind::PushPop,
            domain: 0,
        };
        t.ranges = vec![range(0, 100, outer), range(10, 20, a), range(30, 40, b)];
        let call = |start, correlation| ApiCall {
            start,
            end: start + 1,
            name: 0,
            thread: 0,
            correlation,
            kind: ApiKind::Launch,
        };
        t.api_calls = vec![call(12, 1), call(35, 2), call(50, 3)];
        // Kernels run long after their launches (GPU lag).
        let kernel = |start, correlation| Kernel {
            start,
            end: start + 5,
            name: 0,
            short_name: 0,
            device: 0,
            stream: 0,
            pid: 7,
            correlation,
        };
        t.kernels = vec![kernel(500, 1), kernel(600, 2), kernel(700, 3), kernel(800, 9)];
        let links = Links::build(&t);
        let l = Launches::from_links(&t, &links);
        assert!(l.range.is_none(), "in call order: nothing stored");
        let mut r = l.ranges(&t, &links);
        assert_eq!(r.of(0), Some(1));
        assert_eq!(r.of(1), Some(2));
        assert_eq!(r.of(2), Some(0));
        assert_eq!(r.of(3), None);
        let mut r = l.ranges(&t, &links);
        assert_eq!(r.of(2), Some(0), "kernels skipped");
        assert_eq!(l.chain(2).collect::<Vec<_>>(), [2, 0]);
        // Kernels run out of launch order (two streams): the calls are
        // visited in their own order instead, with the same answers.
        t.kernels = vec![kernel(500, 2), kernel(600, 1), kernel(700, 9), kernel(800, 3)];
        let links = Links::build(&t);
        let l = Launches::from_links(&t, &links);
        assert!(l.range.is_some());
        let mut r = l.ranges(&t, &links);
        assert_eq!(r.of(0), Some(2));
        assert_eq!(r.of(1), Some(1));
        assert_eq!(r.of(2), None);
        assert_eq!(r.of(3), Some(0));
        assert_eq!(l.chain(1).collect::<Vec<_>>(), [1, 0]);
    }
}
