//! Interval algebra on half-open spans `[start, end)` in nanoseconds.
//!
//! GPU work overlaps across streams and devices, so time is never a sum of
//! event durations: every total here is the length of a union.
//!
//! ```text
//!  stream 1:  [=====k1=====]      [==k3==]
//!  stream 2:       [====k2====]
//!  union:     [================]  [======]
//!             ^a               ^b ^c     ^d   busy = (b-a) + (d-c)
//! ```
//!
//! [`sweep`] walks several such unions ("layers") at once and reports each
//! elementary segment with the set of layers covering it, so that one pass
//! assigns every nanosecond of a window to exactly one bucket:
//!
//! ```text
//!  window   [==========================================)
//!  kernel       [======)        [===)
//!  memcpy            [=======)
//!  sync                               [======)
//!  segments [--)[----)[-)[---)[-)[---)[------)[------)
//!  bucket    idle kern kern cpy idle kern sync  idle
//! ```
//!
//! Each layer is sorted, disjoint and non-touching (the output of
//! [`union`]); the sweep advances one cursor per layer, so a window costs
//! O(boundaries x layers) with no sorting.

use crate::model::Ns;

/// A half-open interval `[start, end)`.
pub type Span = (Ns, Ns);

/// Union of spans in any order: sorted, disjoint, with touching spans merged
/// and empty spans dropped.
pub fn union(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_unstable();
    union_sorted(spans)
}

/// Union of spans already sorted by start.
pub fn union_sorted(spans: impl IntoIterator<Item = Span>) -> Vec<Span> {
    union_iter(spans).collect()
}

/// [`union_sorted`] as it goes, without collecting.
pub fn union_iter(spans: impl IntoIterator<Item = Span>) -> impl Iterator<Item = Span> {
    let mut spans = spans.into_iter().filter(|&(s, e)| e > s);
    let mut open = spans.next();
    std::iter::from_fn(move || {
        let (s, mut e) = open?;
        loop {
            match spans.next() {
                Some((a, b)) if a <= e => e = e.max(b),
                next => {
                    open = next;
                    return Some((s, e));
                }
            }
        }
    })
}

/// Union of several start-sorted span lists, merged as it goes: no
/// concatenated copy of the inputs (those can be tens of millions long).
pub fn union_merged(lists: &[&[Span]]) -> Vec<Span> {
    let mut pos = vec![0usize; lists.len()];
    union_sorted(std::iter::from_fn(move || {
        let (i, s) = lists
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.get(pos[i]).map(|&s| (i, s)))
            .min_by_key(|&(_, s)| s)?;
        pos[i] += 1;
        Some(s)
    }))
}

/// `spans` (disjoint, sorted) less the time any list of `cover` (each
/// disjoint, sorted) covers.
pub fn subtract_sorted(spans: impl IntoIterator<Item = Span>, cover: &[&[Span]]) -> Vec<Span> {
    let mut cursors: Vec<Cursor> = cover.iter().map(|c| Cursor::new(c)).collect();
    let mut hits: Vec<Span> = Vec::new();
    let mut out = Vec::new();
    for (s, e) in spans {
        hits.clear();
        for c in &mut cursors {
            hits.extend_from_slice(c.overlapping(s, e));
        }
        hits.sort_unstable();
        let mut t = s;
        for &(a, b) in &hits {
            if a > t {
                out.push((t, a.min(e)));
            }
            t = t.max(b);
            if t >= e {
                break;
            }
        }
        if t < e {
            out.push((t, e));
        }
    }
    out
}

/// Total length of disjoint spans.
pub fn total(spans: &[Span]) -> Ns {
    spans.iter().map(|(s, e)| e - s).sum()
}

/// Intersection of two disjoint sorted span lists.
pub fn intersect(a: &[Span], b: &[Span]) -> Vec<Span> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let s = a[i].0.max(b[j].0);
        let e = a[i].1.min(b[j].1);
        if s < e {
            out.push((s, e));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The part of a disjoint sorted list that may overlap `[from, to)`.
pub fn overlapping(spans: &[Span], from: Ns, to: Ns) -> &[Span] {
    let lo = spans.partition_point(|s| s.1 <= from);
    let hi = lo + spans[lo..].partition_point(|s| s.0 < to);
    &spans[lo..hi]
}

/// Lookups in a disjoint sorted span list for times that mostly come in
/// order (events walked by start): each moves a cursor forward instead of
/// binary-searching from scratch; a time earlier than the previous one
/// searches again. Same answers as [`overlapping`].
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    spans: &'a [Span],
    /// Index of the first span ending after `at`.
    i: usize,
    at: Ns,
}

impl<'a> Cursor<'a> {
    pub fn new(spans: &'a [Span]) -> Cursor<'a> {
        Cursor {
            spans,
            i: 0,
            at: Ns::MIN,
        }
    }

    /// Index of the first span ending after `t`.
    fn seek(&mut self, t: Ns) -> usize {
        if t < self.at {
            self.i = self.spans.partition_point(|s| s.1 <= t);
        } else {
            // Short steps forward are the common case; long ones gallop.
            let mut step = 1;
            while self.spans.get(self.i + step - 1).is_some_and(|s| s.1 <= t) {
                self.i += step;
                step *= 2;
            }
            let rest = &self.spans[self.i..(self.i + step - 1).min(self.spans.len())];
            self.i += rest.partition_point(|s| s.1 <= t);
        }
        self.at = t;
        self.i
    }

    /// The part of the list that may overlap `[from, to)`.
    pub fn overlapping(&mut self, from: Ns, to: Ns) -> &'a [Span] {
        let lo = self.seek(from);
        let spans = self.spans;
        let hi = lo + spans[lo..].iter().take_while(|s| s.0 < to).count();
        &spans[lo..hi]
    }

    /// Whether a span covers `t`.
    pub fn covers(&mut self, t: Ns) -> bool {
        let i = self.seek(t);
        self.spans.get(i).is_some_and(|s| s.0 <= t)
    }
}

/// A layer [`sweep_by`] walks: disjoint sorted spans, read at times that
/// mostly increase.
pub trait Layer {
    /// The first span ending after `t`.
    fn first_after(&mut self, t: Ns) -> Option<Span>;
}

impl Layer for Cursor<'_> {
    fn first_after(&mut self, t: Ns) -> Option<Span> {
        let i = self.seek(t);
        self.spans.get(i).copied()
    }
}

/// Walk `window` (disjoint, sorted) and call `f(start, end, mask)` for
/// every elementary segment, where bit `i` of `mask` says whether
/// `layers[i]` covers the segment. Segments tile the window exactly.
pub fn sweep(window: &[Span], layers: &[&[Span]], f: impl FnMut(Ns, Ns, u64)) {
    let mut cursors: Vec<Cursor> = layers.iter().map(|l| Cursor::new(l)).collect();
    sweep_by(window, &mut cursors, f);
}

/// [`sweep`] over layers of any kind.
pub fn sweep_by<L: Layer>(window: &[Span], layers: &mut [L], mut f: impl FnMut(Ns, Ns, u64)) {
    assert!(layers.len() <= 64, "at most 64 layers");
    // Per layer: its next boundary (the end of its span while it covers,
    // else the next span's start; MAX when the layer is exhausted). A step
    // touches only the layers whose boundary it reaches.
    let n = layers.len();
    let mut next: Vec<Ns> = vec![Ns::MAX; n];
    let enter = |layer: &mut L, i: usize, t: Ns, mask: &mut u64| match layer.first_after(t) {
        Some((s, e)) if s <= t => {
            *mask |= 1 << i;
            e
        }
        Some((s, _)) => s,
        None => Ns::MAX,
    };
    for &(ws, we) in window {
        let mut mask: u64 = 0;
        for (i, layer) in layers.iter_mut().enumerate() {
            next[i] = enter(layer, i, ws, &mut mask);
        }
        let mut t = ws;
        while t < we {
            let b = next.iter().copied().fold(we, Ns::min);
            f(t, b, mask);
            t = b;
            if t >= we {
                break;
            }
            for (i, layer) in layers.iter_mut().enumerate() {
                if next[i] <= t {
                    // Its span ends at t (the next may start there) or
                    // starts at t.
                    mask &= !(1 << i);
                    next[i] = enter(layer, i, t, &mut mask);
                }
            }
        }
    }
}

/// A small deterministic generator (xorshift) for the tests of the
/// analyses: no test dependency needed.
#[cfg(test)]
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_merges_overlapping_and_touching() {
        let u = union(vec![(5, 7), (0, 3), (2, 4), (4, 5), (10, 12), (11, 11), (20, 19)]);
        assert_eq!(u, vec![(0, 7), (10, 12)]);
        assert_eq!(total(&u), 9);
    }

    #[test]
    fn overlapping_streams_count_once() {
        // Two streams: k1 [0,10) and k2 [5,15) overlap; k3 [20,25).
        let u = union(vec![(0, 10), (20, 25), (5, 15)]);
        assert_eq!(total(&u), 20);
    }

    #[test]
    fn intersect_and_overlapping() {
        let a = [(0, 10), (20, 30)];
        let b = [(5, 25)];
        assert_eq!(intersect(&a, &b), vec![(5, 10), (20, 25)]);
        assert_eq!(overlapping(&a, 10, 20), &[] as &[Span]);
        assert_eq!(overlapping(&a, 9, 21), &a[..]);
        assert_eq!(overlapping(&a, 25, 100), &a[1..]);
    }

    #[test]
    fn subtract_matches_brute_force() {
        let spans: Vec<Span> = vec![(0, 10), (12, 20), (25, 40), (50, 51)];
        let a: Vec<Span> = vec![(2, 4), (8, 13), (30, 35)];
        let b: Vec<Span> = vec![(3, 6), (19, 26), (35, 36), (50, 51)];
        let got = subtract_sorted(spans.iter().copied(), &[&a, &b]);
        let inside = |l: &[Span], t: Ns| l.iter().any(|&(s, e)| s <= t && t < e);
        let want = union_sorted(
            (0..60)
                .filter(|&t| inside(&spans, t) && !inside(&a, t) && !inside(&b, t))
                .map(|t| (t, t + 1)),
        );
        assert_eq!(got, want);
        assert_eq!(got, vec![(0, 2), (6, 8), (13, 19), (26, 30), (36, 40)]);
    }

    #[test]
    fn union_merged_is_the_union_of_the_concatenation() {
        let a: Vec<Span> = vec![(0, 5), (10, 20), (30, 31)];
        let b: Vec<Span> = vec![(4, 8), (20, 25), (40, 40)];
        let c: Vec<Span> = vec![(26, 30)];
        let mut all: Vec<Span> = [a.clone(), b.clone(), c.clone()].concat();
        all.sort();
        assert_eq!(union_merged(&[&a, &b, &c]), union_sorted(all));
        assert_eq!(union_merged(&[&a, &b, &c]), vec![(0, 8), (10, 25), (26, 31)]);
        assert!(union_merged(&[&[], &[]]).is_empty());
    }

    #[test]
    fn cursor_matches_overlapping_in_any_order() {
        let spans: Vec<Span> = (0..200).map(|i| (i * 10, i * 10 + 4)).collect();
        let mut c = Cursor::new(&spans);
        for (from, to) in [
            (0, 3),
            (5, 9),
            (13, 45),
            (44, 1000),
            (12, 13),
            (1500, 1600),
            (2000, 2100),
            (3, 4),
        ] {
            assert_eq!(
                c.overlapping(from, to),
                overlapping(&spans, from, to),
                "{from}..{to}"
            );
        }
        let mut c = Cursor::new(&spans);
        for t in [0, 4, 5, 10, 13, 14, 1999, 2000, 7, 3] {
            let i = spans.partition_point(|s| s.1 <= t);
            assert_eq!(c.covers(t), spans.get(i).is_some_and(|s| s.0 <= t), "{t}");
        }
    }

    /// Brute force: the mask at every integer time.
    fn masks_by_ns(window: &[Span], layers: &[&[Span]]) -> Vec<(Ns, u64)> {
        let mut out = Vec::new();
        for &(ws, we) in window {
            for t in ws..we {
                let mut m = 0;
                for (i, l) in layers.iter().enumerate() {
                    if l.iter().any(|&(s, e)| s <= t && t < e) {
                        m |= 1 << i;
                    }
                }
                out.push((t, m));
            }
        }
        out
    }

    fn sweep_by_ns(window: &[Span], layers: &[&[Span]]) -> Vec<(Ns, u64)> {
        let mut out = Vec::new();
        let mut last_end = None;
        sweep(window, layers, |s, e, m| {
            assert!(s < e, "empty segment {s}..{e}");
            if let Some(le) = last_end {
                assert!(s >= le, "segments out of order");
            }
            last_end = Some(e);
            for t in s..e {
                out.push((t, m));
            }
        });
        out
    }

    #[test]
    fn sweep_matches_brute_force_with_overlapping_streams() {
        let kernels = union(vec![(2, 8), (4, 12), (15, 18), (30, 40)]);
        let copies = union(vec![(6, 16), (35, 50)]);
        let sync = union(vec![(0, 3), (19, 33)]);
        let window = union(vec![(1, 20), (25, 45), (48, 60)]);
        let layers: [&[Span]; 3] = [&kernels, &copies, &sync];
        assert_eq!(sweep_by_ns(&window, &layers), masks_by_ns(&window, &layers));
    }

    #[test]
    fn sweep_tiles_window_exactly() {
        let a = union(vec![(0, 100)]);
        let window = vec![(10, 20), (30, 40)];
        let mut covered = 0;
        sweep(&window, &[&a], |s, e, m| {
            assert_eq!(m, 1);
            covered += e - s;
        });
        assert_eq!(covered, 20);
    }

    #[test]
    fn sweep_pseudo_random_against_brute_force() {
        // A small deterministic generator; no test dependency needed.
        let mut rand = xorshift(0x9E37_79B9_7F4A_7C15);
        let mut next = |m: i64| (rand() % m as u64) as i64;
        for _ in 0..200 {
            let mut layers: Vec<Vec<Span>> = Vec::new();
            for _ in 0..4 {
                let n = next(6);
                let spans = (0..n).map(|_| {
                    let s = next(100);
                    (s, s + next(30))
                });
                layers.push(union(spans.collect()));
            }
            let window = union(
                (0..3)
                    .map(|_| {
                        let s = next(120);
                        (s, s + next(40))
                    })
                    .collect(),
            );
            let refs: Vec<&[Span]> = layers.iter().map(|l| l.as_slice()).collect();
            assert_eq!(sweep_by_ns(&window, &refs), masks_by_ns(&window, &refs));
        }
    }
}
