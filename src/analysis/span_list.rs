//! Disjoint sorted spans in half the room: [`SpanList`] keeps each span as
//! two 32-bit offsets from its block's first start (8 bytes, not 16), which
//! on a 10M-kernel trace saves 75 MB on the kernel union alone. A block
//! whose spans reach further than 4.29 s from its first start keeps them
//! whole. [`Spans`] reads either kind by index.

use std::ops::Range;

use super::intervals::{Layer, Span};
use crate::model::Ns;

/// Disjoint sorted spans read by index.
pub trait Spans {
    fn count(&self) -> usize;
    fn at(&self, i: usize) -> Span;

    /// Index of the first span ending after `t`.
    fn first_ending_after(&self, t: Ns) -> usize {
        let (mut lo, mut hi) = (0, self.count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.at(mid).1 <= t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

impl Spans for [Span] {
    fn count(&self) -> usize {
        self.len()
    }
    fn at(&self, i: usize) -> Span {
        self[i]
    }
    fn first_ending_after(&self, t: Ns) -> usize {
        self.partition_point(|s| s.1 <= t)
    }
}

impl Spans for Vec<Span> {
    fn count(&self) -> usize {
        self.len()
    }
    fn at(&self, i: usize) -> Span {
        self[i]
    }
    fn first_ending_after(&self, t: Ns) -> usize {
        self.as_slice().first_ending_after(t)
    }
}

/// Spans per block.
const BLOCK: usize = 64;
/// [`Block::wide`] of a block stored as offsets.
const NARROW: usize = usize::MAX;

#[derive(Debug, Clone, Copy)]
struct Block {
    /// The start of the block's first span.
    base: Ns,
    /// Where its spans start in `wide`, or [`NARROW`].
    wide: usize,
}

/// Disjoint sorted spans, 8 bytes each where they fit.
#[derive(Debug, Clone, Default)]
pub struct SpanList {
    blocks: Vec<Block>,
    /// Per span: start and end less its block's base (unused in wide blocks).
    offsets: Vec<(u32, u32)>,
    wide: Vec<Span>,
}

impl SpanList {
    /// From disjoint spans sorted by start; `capacity`: about how many.
    pub fn from_sorted(spans: impl IntoIterator<Item = Span>, capacity: usize) -> SpanList {
        let mut b = Builder::with_capacity(capacity);
        for s in spans {
            b.push(s);
        }
        b.finish()
    }

    fn push_block(&mut self, spans: &[Span]) {
        let base = spans[0].0;
        let reach = spans[spans.len() - 1].1 - base;
        if u32::try_from(reach).is_ok() {
            self.blocks.push(Block { base, wide: NARROW });
            self.offsets
                .extend(spans.iter().map(|&(s, e)| ((s - base) as u32, (e - base) as u32)));
        } else {
            self.blocks.push(Block {
                base,
                wide: self.wide.len(),
            });
            self.wide.extend_from_slice(spans);
            self.offsets.extend(spans.iter().map(|_| (0, 0)));
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Span> + '_ {
        (0..self.len()).map(|i| self.at(i))
    }
}

impl FromIterator<Span> for SpanList {
    fn from_iter<I: IntoIterator<Item = Span>>(spans: I) -> SpanList {
        SpanList::from_sorted(spans, 0)
    }
}

impl Spans for SpanList {
    fn count(&self) -> usize {
        self.len()
    }

    fn at(&self, i: usize) -> Span {
        let b = self.blocks[i / BLOCK];
        if b.wide == NARROW {
            let (s, e) = self.offsets[i];
            (b.base + Ns::from(s), b.base + Ns::from(e))
        } else {
            self.wide[b.wide + i % BLOCK]
        }
    }
}

/// A [`SpanList`] from disjoint spans pushed in order.
#[derive(Debug, Default)]
pub struct Builder {
    list: SpanList,
    block: Vec<Span>,
}

impl Builder {
    pub fn with_capacity(capacity: usize) -> Builder {
        Builder {
            list: SpanList {
                blocks: Vec::with_capacity(capacity.div_ceil(BLOCK)),
                offsets: Vec::with_capacity(capacity),
                wide: Vec::new(),
            },
            block: Vec::with_capacity(BLOCK),
        }
    }

    pub fn push(&mut self, s: Span) {
        self.block.push(s);
        if self.block.len() == BLOCK {
            self.list.push_block(&self.block);
            self.block.clear();
        }
    }

    pub fn finish(mut self) -> SpanList {
        if !self.block.is_empty() {
            self.list.push_block(&self.block);
        }
        self.list
    }
}

/// A cursor over [`Spans`], for times that mostly come in order (as
/// `intervals::Cursor` over a slice).
#[derive(Debug, Clone)]
pub struct At<'a, S: ?Sized> {
    spans: &'a S,
    /// Index of the first span ending after `at`.
    i: usize,
    at: Ns,
}

impl<'a, S: Spans + ?Sized> At<'a, S> {
    pub fn new(spans: &'a S) -> At<'a, S> {
        At {
            spans,
            i: 0,
            at: Ns::MIN,
        }
    }

    pub fn spans(&self) -> &'a S {
        self.spans
    }

    /// Index of the first span ending after `t`.
    fn seek(&mut self, t: Ns) -> usize {
        let n = self.spans.count();
        if t < self.at {
            self.i = self.spans.first_ending_after(t);
        } else {
            // Short steps forward are the common case; long ones gallop.
            let ends_by = |i: usize| i < n && self.spans.at(i).1 <= t;
            let mut step = 1;
            while ends_by(self.i + step - 1) {
                self.i += step;
                step *= 2;
            }
            // The answer lies in [i, i + step - 1]: halve it.
            let mut hi = (self.i + step - 1).min(n);
            while self.i < hi {
                let mid = self.i + (hi - self.i) / 2;
                if self.spans.at(mid).1 <= t {
                    self.i = mid + 1;
                } else {
                    hi = mid;
                }
            }
        }
        self.at = t;
        self.i
    }

    /// Indexes of the spans that may overlap `[from, to)`.
    pub fn overlapping(&mut self, from: Ns, to: Ns) -> Range<usize> {
        let lo = self.seek(from);
        let mut hi = lo;
        while hi < self.spans.count() && self.spans.at(hi).0 < to {
            hi += 1;
        }
        lo..hi
    }
}

impl<S: Spans + ?Sized> Layer for At<'_, S> {
    fn first_after(&mut self, t: Ns) -> Option<Span> {
        let i = self.seek(t);
        (i < self.spans.count()).then(|| self.spans.at(i))
    }
}

/// Several disjoint sorted span lists read as their union without building
/// it: on a 10M-kernel trace the union would copy the largest list (about
/// 160 MB). Queries clip the union to a range, which is all its users need;
/// like [`At`], times mostly in order cost a short step each.
pub struct Union<'a> {
    cursors: Vec<At<'a, dyn Spans + 'a>>,
}

/// Most lists a [`Union`] reads.
const UNION_LISTS: usize = 4;

impl<'a> Union<'a> {
    pub fn new(lists: &[&'a (dyn Spans + 'a)]) -> Union<'a> {
        assert!(lists.len() <= UNION_LISTS, "at most {UNION_LISTS} lists");
        Union {
            cursors: lists.iter().map(|&l| At::new(l)).collect(),
        }
    }

    /// Call `f(start, end)` for the union's spans within `[from, to)`,
    /// clipped to it, in order.
    fn each(&mut self, from: Ns, to: Ns, mut f: impl FnMut(Ns, Ns)) {
        if to <= from {
            return;
        }
        let mut hits = [(0usize, 0usize); UNION_LISTS];
        for (h, c) in hits.iter_mut().zip(&mut self.cursors) {
            let r = c.overlapping(from, to);
            *h = (r.start, r.end);
        }
        // A merge of the sorted hits (each list's are few): the next span
        // is the earliest head.
        let mut open: Option<Span> = None;
        loop {
            let mut first: Option<(usize, Span)> = None;
            for (i, c) in self.cursors.iter().enumerate() {
                let (lo, hi) = hits[i];
                if lo < hi {
                    let s = c.spans().at(lo);
                    if first.is_none_or(|(_, f)| s < f) {
                        first = Some((i, s));
                    }
                }
            }
            let Some((i, (a, b))) = first else { break };
            hits[i].0 += 1;
            let (a, b) = (a.max(from), b.min(to));
            match &mut open {
                Some(o) if a <= o.1 => o.1 = o.1.max(b),
                _ => {
                    if let Some((s, e)) = open.replace((a, b)) {
                        f(s, e);
                    }
                }
            }
        }
        if let Some((s, e)) = open {
            f(s, e);
        }
    }

    /// The union's spans within `[from, to)`, clipped to it, in order,
    /// into `out` (cleared first).
    pub fn clipped(&mut self, from: Ns, to: Ns, out: &mut Vec<Span>) {
        out.clear();
        self.each(from, to, |a, b| out.push((a, b)));
    }

    /// How much of `[from, to)` the union covers.
    pub fn covered(&mut self, from: Ns, to: Ns) -> Ns {
        let mut total = 0;
        self.each(from, to, |a, b| total += b - a);
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::intervals;

    #[test]
    fn reads_back_what_it_stores_narrow_and_wide() {
        let mut rand = intervals::xorshift(0x9E37_79B9_7F4A_7C15);
        let mut next = |m: u64| (rand() % m) as Ns;
        for round in 0..60 {
            // Gaps and lengths now and then past u32 (wide blocks), from a
            // negative start.
            let mut t = -(1 << 40) + next(1000);
            let n = next(400) as usize;
            let spans: Vec<Span> = (0..n)
                .map(|_| {
                    let far = next(50) == 0;
                    let s = t + 1 + if far { next(1 << 34) } else { next(1000) };
                    let e = s
                        + 1
                        + if far && round % 2 == 0 {
                            next(1 << 33)
                        } else {
                            next(500)
                        };
                    t = e;
                    (s, e)
                })
                .collect();
            let list = SpanList::from_sorted(spans.iter().copied(), n);
            assert_eq!(list.len(), n);
            assert_eq!(list.iter().collect::<Vec<_>>(), spans);
            let mut cursor = At::new(&list);
            let mut want = intervals::Cursor::new(&spans);
            for _ in 0..50 {
                let (from, to) = match spans.get(next(n as u64 + 1) as usize) {
                    Some(&(s, e)) => (s + next(3) as Ns - 1, e + next(2000) as Ns),
                    None => (t + next(10) as Ns, t + 100),
                };
                assert_eq!(
                    list.first_ending_after(from),
                    spans.partition_point(|s| s.1 <= from)
                );
                let got: Vec<Span> = cursor.overlapping(from, to).map(|i| list.at(i)).collect();
                assert_eq!(got, want.overlapping(from, to), "{from}..{to}");
            }
        }
        assert!(SpanList::from_sorted([], 0).is_empty());
    }

    #[test]
    fn union_view_matches_the_built_union() {
        let mut rand = intervals::xorshift(0x2545_F491_4F6C_DD1D);
        let mut next = |m: i64| (rand() % m as u64) as i64;
        for round in 0..300 {
            let lists: Vec<Vec<Span>> = (0..1 + round % 3)
                .map(|_| {
                    let n = next(12);
                    intervals::union(
                        (0..n)
                            .map(|_| {
                                let s = next(200);
                                (s, s + next(25))
                            })
                            .collect(),
                    )
                })
                .collect();
            let refs: Vec<&[Span]> = lists.iter().map(|l| l.as_slice()).collect();
            let built = intervals::union_merged(&refs);
            let dyns: Vec<&dyn Spans> = lists.iter().map(|l| l as &dyn Spans).collect();
            let mut view = Union::new(&dyns);
            let mut got = Vec::new();
            // Mostly forward, sometimes back.
            let mut t = 0;
            for _ in 0..20 {
                let from = if next(4) == 0 { next(220) } else { t + next(15) - 3 };
                let to = from + next(40) - 2;
                t = from.max(0);
                let want: Vec<Span> = intervals::overlapping(&built, from, to.max(from))
                    .iter()
                    .map(|&(a, b)| (a.max(from), b.min(to)))
                    .filter(|&(a, b)| a < b)
                    .collect();
                view.clipped(from, to, &mut got);
                assert_eq!(got, want, "{from}..{to} of {lists:?}");
                assert_eq!(view.covered(from, to), intervals::total(&want), "{from}..{to}");
            }
        }
    }
}
