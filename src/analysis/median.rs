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
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
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
        }
    }
}
