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
/// highest in which the least and the greatest value differ.
pub fn median<I: Iterator<Item = Ns>>(values: impl Fn() -> I) -> Option<Ns> {
    let (mut n, mut lo, mut hi) = (0u64, u64::MAX, 0u64);
    for k in values().map(key) {
        n += 1;
        lo = lo.min(k);
        hi = hi.max(k);
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
    let mut counts = vec![0u64; 1 << 16];
    loop {
        counts.fill(0);
        for k in values().map(key) {
            if high(k, shift + 16) == known {
                counts[((k >> shift) & 0xFFFF) as usize] += 1;
            }
        }
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
        let fixed: [&[Ns]; 6] = [
            &[],
            &[7],
            &[3, 3, 3],
            &[Ns::MIN, Ns::MAX, 0],
            &[-5, 5, -1, 1, 0, 70_000, -70_000],
            &[1 << 40, (1 << 40) + 1, 1 << 40, 65_536, 65_535],
        ];
        for v in fixed {
            assert_eq!(median(|| v.iter().copied()), oracle(v), "{v:?}");
        }
        for round in 0..400 {
            let n = (next() % 60) as usize;
            // Narrow and wide ranges, negatives, duplicates.
            let width = [4u64, 70_000, 1 << 33, u64::MAX][round % 4];
            let v: Vec<Ns> = (0..n)
                .map(|_| {
                    let r = next() % width;
                    if width == u64::MAX { r as Ns } else { r as Ns - (width / 3) as Ns }
                })
                .collect();
            assert_eq!(median(|| v.iter().copied()), oracle(&v), "{v:?}");
        }
    }
}
