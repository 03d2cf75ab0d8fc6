//! Which NVTX range launched each kernel: the innermost push/pop range open
//! on the launching thread when the launch call started, found through the
//! kernel's correlation id. Host time, not GPU time: GPU work can lag the
//! host by whole iterations (a loop of large GEMMs queues many ranges' worth
//! of kernels before the first one finishes), so the range open on the host
//! while a kernel *runs* is usually not the one that launched it.

use std::collections::HashMap;

use crate::analysis::window::Window;
use crate::model::{NameId, Ns, RangeKind, Trace};

const NONE: u32 = u32::MAX;

/// Launch ranges of every kernel and the nesting of ranges.
#[derive(Debug, Clone)]
pub struct Launches {
    /// Per kernel (index into `trace.kernels`): innermost launching range.
    range: Vec<u32>,
    /// Per range (index into `trace.ranges`): the range enclosing it on its thread.
    parent: Vec<u32>,
}

impl Launches {
    pub fn build(trace: &Trace) -> Launches {
        let mut range = vec![NONE; trace.kernels.len()];
        let mut parent = vec![NONE; trace.ranges.len()];
        // Kernels by (process, correlation id), sorted: a graph launch has
        // many kernels under one id. No allocation per kernel.
        let key = |pid: u32, corr: u32| (u64::from(pid) << 32) | u64::from(corr);
        let mut by_corr: Vec<(u64, u32)> = trace
            .kernels
            .iter()
            .enumerate()
            .filter(|(_, k)| k.correlation != 0)
            .map(|(i, k)| (key(k.pid, k.correlation), i as u32))
            .collect();
        by_corr.sort_unstable();
        let kernels_of = |k: u64| {
            let from = by_corr.partition_point(|e| e.0 < k);
            let to = by_corr.partition_point(|e| e.0 <= k);
            &by_corr[from..to]
        };
        // Launch calls per thread: (host start, call index).
        let mut calls: HashMap<u32, Vec<(Ns, u32)>> = HashMap::new();
        for (i, a) in trace.api_calls.iter().enumerate() {
            let pid = trace.threads.get(a.thread as usize).map_or(0, |t| t.pid);
            if a.correlation != 0 && !kernels_of(key(pid, a.correlation)).is_empty() {
                calls.entry(a.thread).or_default().push((a.start, i as u32));
            }
        }
        let mut ranges: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, r) in trace.ranges.iter().enumerate() {
            if r.kind == RangeKind::PushPop {
                ranges.entry(r.thread).or_default().push(i);
            }
        }
        for (thread, list) in &ranges {
            let mut queries = calls.remove(thread).unwrap_or_default();
            queries.sort_unstable();
            let mut stack: Vec<usize> = Vec::new();
            let mut next = 0;
            let open_until = |t: Ns, stack: &mut Vec<usize>, parent: &mut Vec<u32>, next: &mut usize| {
                while *next < list.len() && trace.ranges[list[*next]].start <= t {
                    let r = list[*next];
                    while stack
                        .last()
                        .is_some_and(|&top| trace.ranges[top].end <= trace.ranges[r].start)
                    {
                        stack.pop();
                    }
                    parent[r] = stack.last().map_or(NONE, |&p| p as u32);
                    stack.push(r);
                    *next += 1;
                }
                while stack.last().is_some_and(|&top| trace.ranges[top].end <= t) {
                    stack.pop();
                }
            };
            for &(t, call) in &queries {
                open_until(t, &mut stack, &mut parent, &mut next);
                if let Some(&r) = stack.last() {
                    let a = &trace.api_calls[call as usize];
                    let pid = trace.threads.get(a.thread as usize).map_or(0, |t| t.pid);
                    for &(_, k) in kernels_of(key(pid, a.correlation)) {
                        range[k as usize] = r as u32;
                    }
                }
            }
            open_until(Ns::MAX, &mut stack, &mut parent, &mut next);
        }
        Launches { range, parent }
    }

    /// The innermost range open when kernel `k` was launched.
    pub fn range_of(&self, k: usize) -> Option<usize> {
        self.range.get(k).filter(|&&r| r != NONE).map(|&r| r as usize)
    }

    /// For the kernels of the window, per kernel name: the innermost ranges
    /// that launched them with the GPU time launched from each, largest first.
    pub fn ranges_by_kernel(&self, trace: &Trace, window: &Window) -> HashMap<NameId, Vec<(NameId, Ns)>> {
        let mut acc: HashMap<NameId, HashMap<NameId, Ns>> = HashMap::new();
        for (i, k) in trace.kernels.iter().enumerate() {
            if !window.contains(k.start) {
                continue;
            }
            if let Some(r) = self.range_of(i) {
                *acc.entry(k.name)
                    .or_default()
                    .entry(trace.ranges[r].name)
                    .or_default() += k.end - k.start;
            }
        }
        acc.into_iter()
            .map(|(k, m)| {
                let mut v: Vec<(NameId, Ns)> = m.into_iter().collect();
                v.sort_by_key(|&(r, t)| (std::cmp::Reverse(t), r));
                (k, v)
            })
            .collect()
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
        let l = Launches::build(&t);
        assert_eq!(l.range_of(0), Some(1));
        assert_eq!(l.range_of(1), Some(2));
        assert_eq!(l.range_of(2), Some(0));
        assert_eq!(l.range_of(3), None);
        assert_eq!(l.chain(2).collect::<Vec<_>>(), [2, 0]);
    }
}
