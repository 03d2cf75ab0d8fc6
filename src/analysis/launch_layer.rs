//! The attribution's launch layer, the union of the kernel launch calls,
//! read from the trace's calls as a sweep goes. Stored, it would take 16
//! bytes a launch (150 MB on a 10M-kernel trace); reading it again costs
//! one pass over the calls per sweep.
//!
//! The union is the calls' own, not less the GPU activity and blocking
//! calls above it: every sweep gives those priority, so the buckets are the
//! same.

use super::intervals::{Layer, Span};
use crate::model::{ApiCall, ApiKind, Ns};

/// The union of the launch calls in `calls` (sorted by start), as a
/// [`Layer`].
#[derive(Debug, Clone)]
pub struct LaunchCalls<'a> {
    calls: &'a [ApiCall],
    /// The longest launch call: a call starting before `t - longest` ends
    /// before `t`.
    longest: Ns,
    /// The next call to read.
    next: usize,
    /// The last union span read.
    open: Option<Span>,
    /// The time last asked for.
    at: Ns,
}

fn counts(a: &ApiCall) -> bool {
    a.kind == ApiKind::Launch && a.end > a.start
}

/// The longest launch call in `calls`, for [`LaunchCalls::new`].
pub fn longest(calls: &[ApiCall]) -> Ns {
    calls
        .iter()
        .filter(|a| counts(a))
        .map(|a| a.end - a.start)
        .max()
        .unwrap_or(0)
}

impl<'a> LaunchCalls<'a> {
    /// `longest` must be [`longest`]`(calls)`.
    pub fn new(calls: &'a [ApiCall], longest: Ns) -> LaunchCalls<'a> {
        LaunchCalls {
            calls,
            longest,
            next: 0,
            open: None,
            at: Ns::MIN,
        }
    }

    /// The next union span from `next` on.
    fn read(&mut self) -> Option<Span> {
        let mut span: Option<Span> = None;
        while let Some(a) = self.calls.get(self.next) {
            if counts(a) {
                match &mut span {
                    None => span = Some((a.start, a.end)),
                    Some((_, e)) if a.start <= *e => *e = (*e).max(a.end),
                    Some(_) => break,
                }
            }
            self.next += 1;
        }
        span
    }

    /// The union within `[from, to)`, clipped to it.
    pub fn clipped(&mut self, from: Ns, to: Ns) -> Vec<Span> {
        let mut out = Vec::new();
        let mut t = from;
        while t < to {
            let Some((s, e)) = self.first_after(t) else { break };
            if s >= to {
                break;
            }
            out.push((s.max(from), e.min(to)));
            t = e;
        }
        out
    }
}

impl Layer for LaunchCalls<'_> {
    fn first_after(&mut self, t: Ns) -> Option<Span> {
        // Calls starting before `reach` end before t: they can be skipped.
        let reach = t.saturating_sub(self.longest);
        let before = |a: &ApiCall| a.start < reach;
        if t < self.at {
            self.next = self.calls.partition_point(before);
            self.open = None;
        } else if self.open.is_none_or(|o| o.1 <= t) && self.calls.get(self.next).is_some_and(before) {
            self.next += self.calls[self.next..].partition_point(before);
            self.open = None;
        }
        self.at = t;
        loop {
            if let Some(o) = self.open.filter(|o| o.1 > t) {
                return Some(o);
            }
            self.open = Some(self.read()?);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::intervals::{self, Cursor};

    fn call(start: Ns, len: Ns, kind: ApiKind) -> ApiCall {
        ApiCall {
            start,
            end: start + len,
            name: 0,
            thread: 0,
            correlation: 0,
            kind,
        }
    }

    #[test]
    fn reads_the_union_of_launch_calls_at_any_time() {
        let mut rand = intervals::xorshift(0x9E37_79B9_7F4A_7C15);
        let mut next = |m: i64| (rand() % m as u64) as i64;
        for round in 0..300 {
            let mut calls: Vec<ApiCall> = (0..next(30))
                .map(|_| {
                    let kind = if next(4) == 0 {
                        ApiKind::Sync
                    } else {
                        ApiKind::Launch
                    };
                    // Now and then a long call, so that skips must not pass it.
                    let len = if next(10) == 0 { next(80) } else { next(6) };
                    call(next(200), len, kind)
                })
                .collect();
            calls.sort_by_key(|a| (a.start, a.end));
            // The oracle: the union built from the launch calls.
            let union = intervals::union(
                calls
                    .iter()
                    .filter(|a| a.kind == ApiKind::Launch)
                    .map(|a| (a.start, a.end))
                    .collect(),
            );
            let mut want = Cursor::new(&union);
            let mut got = LaunchCalls::new(&calls, longest(&calls));
            let mut t = next(20) - 10;
            for _ in 0..40 {
                t = if next(5) == 0 {
                    next(300) - 20
                } else {
                    t + next(30)
                };
                let (w, g) = (want.first_after(t), got.first_after(t));
                // A span covering t may be read from a later call on; only
                // its end counts then (the sweep's use).
                match (w, g) {
                    (Some((ws, we)), Some((gs, ge))) if ws <= t => {
                        assert!(gs <= t && ge == we, "round {round} t {t}: {w:?} {g:?}")
                    }
                    _ => assert_eq!(w, g, "round {round} t {t}"),
                }
            }
            let mut got = LaunchCalls::new(&calls, longest(&calls));
            for (from, to) in [(0, 300), (50, 60), (10, 20), (100, 101)] {
                let want: Vec<Span> = intervals::overlapping(&union, from, to)
                    .iter()
                    .map(|&(a, b)| (a.max(from), b.min(to)))
                    .collect();
                assert_eq!(got.clipped(from, to), want, "round {round} {from}..{to}");
            }
        }
    }
}
