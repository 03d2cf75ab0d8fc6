//! Host ranges projected onto the GPU through their launches: the GPU work
//! each range asked for, wherever and whenever it ran.
//!
//! A GPU operation belongs to the range that was open on the host when the
//! API call that issued it started (found by correlation id, per process):
//! the range of its process whose span holds the call's start, the
//! latest-starting one when several do (ranges of several threads), on
//! any thread of the process (PyTorch launches backward kernels from its
//! autograd thread while the main thread's `step` range is open). In an
//! asynchronous loop the host queues work and moves on, so the work of
//! iteration i runs after its host range has ended, often while the host
//! is inside iteration i+1 or later:
//!
//! ```text
//!  host   [it 0][it 1][it 2] ......... sync ........ [it 3] ...
//!  GPU         [k0 k0 k0][k1 k1 k1][k2 k2 k2]             [k3 ...
//!  it 0   [=====================)                         (start .. end of its last GPU work)
//!  it 1         [===========================)
//!  it 2               [====================================)
//!              '-- GPU tail of it 0: after its host range --'
//! ```
//!
//! An iteration then spans from its host range's start to the later of
//! the range's end and the end of the last GPU work it launched (its
//! extent); nsys's NVTX GPU projection follows the same launches. Without
//! any launch records (no correlation ids) operations are placed by their
//! GPU start instead.
//!
//! One pass over the GPU operations serves every group of ranges asked
//! about at once, with a cursor per group and process: GPU operations come
//! roughly in launch order, so each lookup is a step or two.

use super::links::Links;
use crate::model::{Ns, Trace};

/// One host range of a group, as the projection sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostRange {
    pub start: Ns,
    pub end: Ns,
    pub pid: u32,
}

/// What one group of ranges launched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Launched {
    /// GPU time (kernels, copies, memsets; each operation's own duration)
    /// launched from inside the group's ranges.
    pub inside_ns: Ns,
    /// GPU time launched by the group's processes between the start of
    /// their first range and the end of their last: the work issued while
    /// the program was in the loop these ranges mark (warm-up before and
    /// shutdown after left out).
    pub during_ns: Ns,
    /// Per range (in the order given): the end of the last GPU work it
    /// launched, None when it launched none.
    pub gpu_end: Vec<Option<Ns>>,
}

impl Launched {
    /// `inside_ns / during_ns` (0 when nothing was launched meanwhile).
    pub fn share_during(&self) -> f64 {
        if self.during_ns <= 0 {
            0.0
        } else {
            self.inside_ns as f64 / self.during_ns as f64
        }
    }
}

/// Lookup of the range holding a time, for the ranges of one process.
struct Process {
    pid: u32,
    /// Indexes into the group's ranges, sorted by start.
    order: Vec<usize>,
    starts: Vec<Ns>,
    ends: Vec<Ns>,
    /// `reach[i]`: the latest end among `order[..=i]`.
    reach: Vec<Ns>,
    /// How many ranges start at or before the previous time looked up.
    started: usize,
}

impl Process {
    fn new(pid: u32, ranges: &[HostRange]) -> Process {
        let mut order: Vec<usize> = (0..ranges.len()).filter(|&i| ranges[i].pid == pid).collect();
        order.sort_by_key(|&i| ranges[i].start);
        let starts: Vec<Ns> = order.iter().map(|&i| ranges[i].start).collect();
        let ends: Vec<Ns> = order.iter().map(|&i| ranges[i].end).collect();
        let reach = ends
            .iter()
            .scan(Ns::MIN, |m, &e| {
                *m = (*m).max(e);
                Some(*m)
            })
            .collect();
        Process {
            pid,
            order,
            starts,
            ends,
            reach,
            started: 0,
        }
    }

    fn first(&self) -> Ns {
        self.starts[0]
    }

    fn last(&self) -> Ns {
        *self.reach.last().expect("a process has ranges")
    }

    /// The latest-starting range holding `t` (index into the group).
    fn at(&mut self, t: Ns) -> Option<usize> {
        let n = self.started;
        if n > self.starts.len() || (n > 0 && self.starts[n - 1] > t) {
            self.started = self.starts.partition_point(|&s| s <= t);
        } else {
            let ahead = &self.starts[n..];
            // Step a few; gallop by binary search beyond.
            let step = ahead.iter().take(4).take_while(|&&s| s <= t).count();
            self.started = if step == 4 {
                n + ahead.partition_point(|&s| s <= t)
            } else {
                n + step
            };
        }
        (0..self.started)
            .rev()
            .take_while(|&i| self.reach[i] > t)
            .find(|&i| self.ends[i] > t)
            .map(|i| self.order[i])
    }
}

/// One group's lookups and tallies.
struct Group {
    processes: Vec<Process>,
    /// Index into `processes` of the previous lookup.
    last: usize,
    out: Launched,
}

impl Group {
    fn new(ranges: &[HostRange]) -> Group {
        let mut pids: Vec<u32> = ranges.iter().map(|r| r.pid).collect();
        pids.sort_unstable();
        pids.dedup();
        Group {
            processes: pids.iter().map(|&p| Process::new(p, ranges)).collect(),
            last: 0,
            out: Launched {
                gpu_end: vec![None; ranges.len()],
                ..Launched::default()
            },
        }
    }

    fn add(&mut self, pid: u32, t: Ns, dur: Ns, end: Ns) {
        if self.processes.get(self.last).is_none_or(|p| p.pid != pid) {
            match self.processes.iter().position(|p| p.pid == pid) {
                Some(i) => self.last = i,
                None => return,
            }
        }
        let p = &mut self.processes[self.last];
        if t < p.first() || t >= p.last() {
            return;
        }
        self.out.during_ns += dur;
        if let Some(r) = p.at(t) {
            self.out.inside_ns += dur;
            let e = &mut self.out.gpu_end[r];
            *e = Some(e.map_or(end, |x: Ns| x.max(end)));
        }
    }
}

/// What each group of ranges launched, and the GPU time of every
/// operation in the trace (the whole, for shares of all GPU work).
pub fn launched(trace: &Trace, links: &Links, groups: &[&[HostRange]]) -> (Vec<Launched>, Ns) {
    let mut gs: Vec<Group> = groups.iter().map(|r| Group::new(r)).collect();
    let by_call = links.any();
    let pid_of = |thread: u32| trace.threads.get(thread as usize).map_or(0, |t| t.pid);
    let mut total: Ns = 0;
    let mut visit = |call: Option<usize>, start: Ns, end: Ns, pid: u32| {
        let dur = end - start;
        total += dur;
        let (pid, t) = match (by_call, call) {
            (true, Some(c)) => {
                let a = &trace.api_calls[c];
                (pid_of(a.thread), a.start)
            }
            (true, None) => return,
            (false, _) => (pid, start),
        };
        for g in gs.iter_mut() {
            g.add(pid, t, dur, end);
        }
    };
    for (i, k) in trace.kernels.iter().enumerate() {
        visit(links.kernel_call(i), k.start, k.end, k.pid);
    }
    for (i, m) in trace.memcpys.iter().enumerate() {
        visit(links.memcpy_call(i), m.start, m.end, m.pid);
    }
    for (i, m) in trace.memsets.iter().enumerate() {
        visit(links.memset_call(i), m.start, m.end, m.pid);
    }
    (gs.into_iter().map(|g| g.out).collect(), total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_starting_holder_with_hints() {
        let r = |start, end| HostRange { start, end, pid: 1 };
        // Two threads' ranges overlap: [0,10) [5,30) [12,20).
        let ranges = [r(0, 10), r(5, 30), r(12, 20)];
        let mut p = Process::new(1, &ranges);
        assert_eq!(p.at(3), Some(0));
        assert_eq!(p.at(7), Some(1));
        assert_eq!(p.at(15), Some(2));
        assert_eq!(p.at(25), Some(1));
        assert_eq!(p.at(30), None);
        assert_eq!(p.at(2), Some(0), "a time earlier than the previous one");
        assert_eq!(p.at(-1), None);
    }

    #[test]
    fn gallops_over_many_ranges() {
        let ranges: Vec<HostRange> = (0..100)
            .map(|i| HostRange {
                start: i * 10,
                end: i * 10 + 5,
                pid: 3,
            })
            .collect();
        let mut p = Process::new(3, &ranges);
        assert_eq!(p.at(1), Some(0));
        assert_eq!(p.at(903), Some(90));
        assert_eq!(p.at(907), None);
        assert_eq!(p.at(991), Some(99));
    }
}
