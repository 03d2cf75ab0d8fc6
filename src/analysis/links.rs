//! Which API call issued each GPU operation, by (process id, correlation
//! id), computed once per trace for every analysis and rule that asks.
//!
//! Correlation ids are per process and, in every profiler we read, dense
//! counters (CUPTI numbers each API call), so the calls of one process go
//! into a vector indexed by `correlation - min`: building and looking up
//! are one pass each, with no hashing per event. A process whose ids are
//! sparse (more than [`MAX_DENSE_RATIO`] slots per call) gets a sorted
//! vector and binary search instead. When one process made every call and
//! its ids increase with the call's index (CUPTI's order), the calls
//! themselves are searched: no table at all.

use std::cell::Cell;

use crate::model::{ApiCall, Correlation, Trace};

/// Marks "no call" in the per-operation vectors.
const NONE: u32 = u32::MAX;
/// Most vector slots per call for the dense table.
const MAX_DENSE_RATIO: u64 = 8;

/// The calls of one process, by correlation id.
enum Table {
    Dense {
        min: u32,
        calls: Vec<u32>,
    },
    Sparse(Vec<(Correlation, u32)>),
    /// The trace's calls, in increasing id order (a dense table would cost
    /// 4 bytes per id: 100 MB on a 10M-kernel trace).
    Calls,
}

/// API call index by (pid, correlation); the first call wins when a
/// process repeats an id.
pub struct CallIndex<'t> {
    pids: Vec<(u32, Table)>,
    calls: &'t [ApiCall],
    /// Where the last search of [`Table::Calls`] ended: ids are mostly
    /// asked for in increasing order.
    at: Cell<usize>,
}

impl<'t> CallIndex<'t> {
    pub fn build(trace: &'t Trace) -> CallIndex<'t> {
        let pid_of = |thread: u32| trace.threads.get(thread as usize).map_or(0, |t| t.pid);
        let calls = &trace.api_calls;
        // Whether every call has an id, greater than the previous call's.
        let increasing = calls.windows(2).all(|w| w[0].correlation < w[1].correlation)
            && calls.first().is_some_and(|a| a.correlation != 0);
        // Per process: (pid, calls with an id, min id, max id).
        let mut stats: Vec<(u32, u64, u32, u32)> = Vec::new();
        for a in trace.api_calls.iter().filter(|a| a.correlation != 0) {
            let pid = pid_of(a.thread);
            match stats.iter_mut().find(|s| s.0 == pid) {
                Some(s) => {
                    s.1 += 1;
                    s.2 = s.2.min(a.correlation);
                    s.3 = s.3.max(a.correlation);
                }
                None => stats.push((pid, 1, a.correlation, a.correlation)),
            }
        }
        if let ([(pid, ..)], true) = (stats.as_slice(), increasing) {
            return CallIndex {
                pids: vec![(*pid, Table::Calls)],
                calls,
                at: Cell::new(0),
            };
        }
        let mut pids: Vec<(u32, Table)> = stats
            .iter()
            .map(|&(pid, n, min, max)| {
                let slots = u64::from(max - min) + 1;
                let table = if slots <= n.saturating_mul(MAX_DENSE_RATIO) {
                    Table::Dense {
                        min,
                        calls: vec![NONE; slots as usize],
                    }
                } else {
                    Table::Sparse(Vec::with_capacity(n as usize))
                };
                (pid, table)
            })
            .collect();
        let mut last = 0;
        for (i, a) in trace.api_calls.iter().enumerate() {
            if a.correlation == 0 {
                continue;
            }
            let pid = pid_of(a.thread);
            if pids[last].0 != pid {
                last = pids.iter().position(|p| p.0 == pid).unwrap_or(0);
            }
            match &mut pids[last].1 {
                Table::Dense { min, calls } => {
                    let slot = &mut calls[(a.correlation - *min) as usize];
                    if *slot == NONE {
                        *slot = i as u32;
                    }
                }
                Table::Sparse(v) => v.push((a.correlation, i as u32)),
                Table::Calls => {}
            }
        }
        for (_, t) in &mut pids {
            if let Table::Sparse(v) = t {
                // Stable: equal ids keep call order, and dedup keeps the first.
                v.sort_by_key(|e| e.0);
                v.dedup_by_key(|e| e.0);
            }
        }
        CallIndex {
            pids,
            calls,
            at: Cell::new(0),
        }
    }

    /// The index into `trace.api_calls` of the call with this id.
    pub fn get(&self, pid: u32, correlation: Correlation) -> Option<usize> {
        if correlation == 0 {
            return None;
        }
        let (_, table) = self.pids.iter().find(|p| p.0 == pid)?;
        let i = match table {
            Table::Dense { min, calls } => *calls.get(correlation.checked_sub(*min)? as usize)?,
            Table::Sparse(v) => v[v.binary_search_by_key(&correlation, |e| e.0).ok()?].1,
            Table::Calls => return self.search(correlation),
        };
        (i != NONE).then_some(i as usize)
    }
}

impl CallIndex<'_> {
    /// The call with this id in [`Table::Calls`]: galloping on from the
    /// last search when the id is not smaller, else a binary search.
    fn search(&self, correlation: Correlation) -> Option<usize> {
        let calls = self.calls;
        let below = |a: &ApiCall| a.correlation < correlation;
        let at = self.at.get().min(calls.len());
        let i = if calls.get(at).is_some_and(|a| a.correlation <= correlation) {
            let (mut lo, mut step) = (at, 1);
            while calls.get(lo + step).is_some_and(|a| a.correlation <= correlation) {
                lo += step;
                step *= 2;
            }
            let hi = (lo + step).min(calls.len());
            lo + calls[lo..hi].partition_point(below)
        } else {
            calls[..at].partition_point(below)
        };
        self.at.set(i);
        calls.get(i).filter(|a| a.correlation == correlation).map(|_| i)
    }
}

/// Per kernel and per copy: the API call that issued it.
#[derive(Debug, Default)]
pub struct Links {
    kernel_call: Vec<u32>,
    memcpy_call: Vec<u32>,
    memset_call: Vec<u32>,
}

impl Links {
    pub fn build(trace: &Trace) -> Links {
        let index = CallIndex::build(trace);
        let lookup = |pid, corr| index.get(pid, corr).map_or(NONE, |i| i as u32);
        Links {
            kernel_call: trace
                .kernels
                .iter()
                .map(|k| lookup(k.pid, k.correlation))
                .collect(),
            memcpy_call: trace
                .memcpys
                .iter()
                .map(|m| lookup(m.pid, m.correlation))
                .collect(),
            memset_call: trace
                .memsets
                .iter()
                .map(|m| lookup(m.pid, m.correlation))
                .collect(),
        }
    }

    /// The call that launched kernel `k` (index into `trace.kernels`).
    pub fn kernel_call(&self, k: usize) -> Option<usize> {
        self.kernel_call
            .get(k)
            .filter(|&&c| c != NONE)
            .map(|&c| c as usize)
    }

    /// The call that issued copy `m` (index into `trace.memcpys`).
    pub fn memcpy_call(&self, m: usize) -> Option<usize> {
        self.memcpy_call
            .get(m)
            .filter(|&&c| c != NONE)
            .map(|&c| c as usize)
    }

    /// The call that issued memset `m` (index into `trace.memsets`).
    pub fn memset_call(&self, m: usize) -> Option<usize> {
        self.memset_call
            .get(m)
            .filter(|&&c| c != NONE)
            .map(|&c| c as usize)
    }

    /// Whether any GPU operation was linked to a call.
    pub fn any(&self) -> bool {
        [&self.kernel_call, &self.memcpy_call, &self.memset_call]
            .iter()
            .any(|v| v.iter().any(|&c| c != NONE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApiCall, ApiKind, Thread};

    fn call(thread: u32, correlation: u32) -> ApiCall {
        ApiCall {
            start: 0,
            end: 1,
            name: 0,
            thread,
            correlation,
            kind: ApiKind::Launch,
        }
    }

    #[test]
    fn dense_sparse_and_per_process() {
        let mut t = Trace::default();
        for pid in [7, 8] {
            t.threads.push(Thread {
                pid,
                tid: 1,
                name: None,
            });
        }
        // Process 7: dense ids 5..9 (one repeated); process 8: sparse ids.
        t.api_calls = vec![
            call(0, 5),
            call(0, 6),
            call(1, 6),
            call(0, 0),
            call(1, 4_000_000_000),
            call(0, 9),
            call(0, 6),
        ];
        let ix = CallIndex::build(&t);
        assert!(matches!(ix.pids[0].1, Table::Dense { .. }));
        assert!(matches!(ix.pids[1].1, Table::Sparse(_)));
        assert_eq!(ix.get(7, 5), Some(0));
        assert_eq!(ix.get(7, 6), Some(1), "the first call with a repeated id");
        assert_eq!(ix.get(8, 6), Some(2));
        assert_eq!(ix.get(8, 4_000_000_000), Some(4));
        assert_eq!(ix.get(7, 9), Some(5));
        assert_eq!(ix.get(7, 7), None);
        assert_eq!(ix.get(7, 4), None);
        assert_eq!(ix.get(7, 10), None);
        assert_eq!(ix.get(8, 5), None);
        assert_eq!(ix.get(9, 5), None);
        assert_eq!(ix.get(7, 0), None);
    }

    #[test]
    fn one_process_with_increasing_ids_is_searched_in_the_calls() {
        let mut t = Trace::default();
        t.threads.push(Thread {
            pid: 7,
            tid: 1,
            name: None,
        });
        t.api_calls = [3, 4, 9, 10, 11, 40, 41, 100]
            .iter()
            .map(|&c| call(0, c))
            .collect();
        let ix = CallIndex::build(&t);
        assert!(matches!(ix.pids[0].1, Table::Calls));
        // Ids in any order, present or not, against a plain search.
        for c in [3, 4, 5, 11, 100, 2, 41, 40, 0, 101, 9, 12, 3, 1000, 10] {
            let want = t.api_calls.iter().position(|a| a.correlation == c && c != 0);
            assert_eq!(ix.get(7, c), want, "id {c}");
            assert_eq!(ix.get(8, c), None);
        }
        // A repeated id, a missing one or a second process: a table.
        t.api_calls[3].correlation = 9;
        assert!(!matches!(CallIndex::build(&t).pids[0].1, Table::Calls));
    }
}
