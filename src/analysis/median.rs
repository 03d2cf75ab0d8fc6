//! The exact median of values read several times over, without storing
//! them: a rule's medians over every launch call or kernel of a 10M-kernel
//! trace would each hold an 80 MB list.

use crate::model::Ns;

/// Order-preserving map of `i64` onto `u64`.
fn key(v: Ns) -> u64 {
    (v as u64) ^ (1 << 63)
}

fn value(k: u64) -> Ns {
    (k ^ (1 << 63)) as Ns
}

/// `k` with the bits below `bit` cleared.
fn high(k: u64, bit: u32) -> u64 {
    if bit >= 64 { 0 } else { k >> bit << bit }
}

/// The value of rank `n / 2` (from 0) of the `n` values `values()` yields,
/// the one `select_nth_unstable(n / 2)` picks; None when there are none.
/// One pass for the count and bounds, then one per 16-bit digit from the
/// highest in which the least and the greatest value differ. The first
/// pass also counts the digits the next one would when the values are
/// durations (0 to 4.29 s): two passes in all, one under 65.5 us.
pub fn median<I: Iterator<Item = Ns>>(values: impl Fn() -> I) -> Option<Ns> {
    let (mut n, mut lo, mut hi) = (0u64, u64::MAX, 0u64);
    // Guesses: the low digit of values under 2^16, the second of values
    // under 2^32.
    let mut low = vec![0u64; 1 << 16];
    let mut mid = vec![0u64; 1 << 16];
    for v in values() {
        let k = key(v);
        n += 1;
        lo = lo.min(k);
        hi = hi.max(k);
        if (0..1 << 32).contains(&v) {
            mid[(v >> 16) as usize] += 1;
            if v < 1 << 16 {
                low[v as usize] += 1;
            }
        }
    }
    if n == 0 {
        return None;
    }
    if lo == hi {
        return Some(value(lo));
    }
    let mut rank = n / 2;
    let top = 63 - (lo ^ hi).leading_zeros();
    let mut shift = top / 16 * 16;
    // The bits known so far, those from `shift + 16` up at first.
    let mut known = high(lo, shift + 16);
    // The first digit's counts when a guess counted every value.
    let (least, most) = (value(lo), value(hi));
    let mut counts = match shift {
        0 if least >= 0 && most < 1 << 16 => low,
        16 if least >= 0 && most < 1 << 32 => mid,
        _ => Vec::new(),
    };
    let mut first = !counts.is_empty();
    counts.resize(1 << 16, 0);
    loop {
        if !first {
            counts.fill(0);
            for k in values().map(key) {
                if high(k, shift + 16) == known {
                    counts[((k >> shift) & 0xFFFF) as usize] += 1;
                }
            }
        }
        first = false;
        let mut digit = 0;
        while rank >= counts[digit] {
            rank -= counts[digit];
            digit += 1;
        }
        known |= (digit as u64) << shift;
        if shift == 0 {
            return Some(value(known));
        }
        shift -= 16;
    }
}

/// Values under this are counted exactly by [`Counts`].
const EXACT: Ns = 1 << 16;

/// Exact counts of the values in [0, 65.5 us), and how many fall below,
/// filled in one pass that can feed several at once: the median of launch
/// calls, issue gaps or short kernels (almost always in that range) then
/// needs no second read of the values.
pub struct Counts {
    n: u64,
    below: u64,
    exact: Vec<u64>,
}

impl Default for Counts {
    fn default() -> Counts {
        Counts {
            n: 0,
            below: 0,
            exact: vec![0; EXACT as usize],
        }
    }
}

impl Counts {
    #[inline]
    pub fn add(&mut self, v: Ns) {
        self.n += 1;
        if v < 0 {
            self.below += 1;
        } else if v < EXACT {
            self.exact[v as usize] += 1;
        }
    }

    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The value of rank `n / 2`, when it lies in the exactly counted
    /// range; None otherwise (or without values).
    fn median(&self) -> Option<Ns> {
        let mut rank = (self.n / 2).checked_sub(self.below)?;
        for (v, &c) in self.exact.iter().enumerate() {
            if rank < c {
                return Some(v as Ns);
            }
            rank -= c;
        }
        None
    }

    /// How many values are below `x`, when `x` is in [0, 65.5 us].
    pub fn below(&self, x: Ns) -> Option<u64> {
        (0..=EXACT)
            .contains(&x)
            .then(|| self.below + self.exact[..x as usize].iter().sum::<u64>())
    }
}

/// The median of the values `counts` saw, which `values()` yields again:
/// from the counts when it lies in their exact range, else by [`median`].
pub fn median_of<I: Iterator<Item = Ns>>(counts: &Counts, values: impl Fn() -> I) -> Option<Ns> {
    if counts.is_empty() {
        return None;
    }
    counts.median().or_else(|| median(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle(v: &[Ns]) -> Option<Ns> {
        let mut v = v.to_vec();
        let mid = v.len() / 2;
        (!v.is_empty()).then(|| *v.select_nth_unstable(mid).1)
    }

    #[test]
    fn matches_select_nth() {
        let mut next = crate::analysis::intervals::xorshift(0x9E37_79B9_7F4A_7C15);
        let fixed: [&[Ns]; 12] = [
            &[],
            &[7],
            &[3, 3, 3],
            &[Ns::MIN, Ns::MAX, 0],
            &[-5, 5, -1, 1, 0, 70_000, -70_000],
            &[1 << 40, (1 << 40) + 1, 1 << 40, 65_536, 65_535],
            &[0, 65_535, 65_535, 1, 2],
            &[65_536, 0, (1 << 32) - 1, 5, 70_000, 70_001],
            &[(1 << 32) - 1, 1 << 32, 3],
            &[-1, 0, 1],
            &[65_536, 65_540, 65_538],
            &[(1 << 32) + 7, (1 << 32) + 3, (1 << 32) + 5],
        ];
        for v in fixed {
            assert_eq!(median(|| v.iter().copied()), oracle(v), "{v:?}");
            assert_eq!(median_of(&counted(v), || v.iter().copied()), oracle(v), "{v:?}");
        }
        for round in 0..400 {
            let n = (next() % 60) as usize;
            // Narrow and wide ranges, negatives, duplicates.
            let width = [4u64, 70_000, 1 << 33, u64::MAX, 60_000, 1 << 31][round % 6];
            let v: Vec<Ns> = (0..n)
                .map(|_| {
                    let r = next() % width;
                    match round % 6 {
                        3 => r as Ns,
                        // Durations: from 0, under 2^16 or 2^32.
                        4 | 5 => r as Ns,
                        _ => r as Ns - (width / 3) as Ns,
                    }
                })
                .collect();
            assert_eq!(median(|| v.iter().copied()), oracle(&v), "{v:?}");
            let c = counted(&v);
            assert_eq!(median_of(&c, || v.iter().copied()), oracle(&v), "{v:?}");
            for x in [0, 1, 5, 65_535, EXACT, EXACT + 1, -1] {
                let want = (0..=EXACT)
                    .contains(&x)
                    .then(|| v.iter().filter(|&&y| y < x).count() as u64);
                assert_eq!(c.below(x), want, "{x} {v:?}");
            }
        }
    }

    fn counted(v: &[Ns]) -> Counts {
        let mut c = Counts::default();
        for &x in v {
            c.add(x);
        }
        c
    }

    #[test]
    fn counts_answer_only_inside_their_range() {
        // The median 70,000 is past the exact range: the fallback reads again.
        let v = [70_000, 70_000, 3];
        assert_eq!(counted(&v).median(), None);
        assert_eq!(median_of(&counted(&v), || v.iter().copied()), Some(70_000));
        // Negatives below the rank: None from the counts, then exact.
        let v = [-3, -2, 5];
        assert_eq!(counted(&v).median(), None);
        assert_eq!(median_of(&counted(&v), || v.iter().copied()), Some(-2));
        assert_eq!(counted(&[4, 9, 1]).median(), Some(4));
    }
}
