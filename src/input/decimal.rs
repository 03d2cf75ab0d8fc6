//! Exact decimal numbers to integer nanoseconds.
//!
//! Profilers write times as decimal text in microseconds (Kineto:
//! `"ts": 4603816446635.630`) or milliseconds (trtexec: `"averageMs":
//! 0.00474854`). Going through `f64` loses the last digits of large
//! timestamps (4.6e15 ns needs 53 bits and then some), so the text is read
//! as an integer mantissa and a power of ten and scaled exactly; digits below
//! one nanosecond are rounded half away from zero.

/// Nanoseconds per microsecond, as a power of ten.
pub const US: i32 = 3;
/// Nanoseconds per millisecond, as a power of ten.
pub const MS: i32 = 6;

/// Most significant digits kept (u128 holds 38).
const MAX_DIGITS: u32 = 36;

/// The value of the JSON number `text` times `10^scale`, rounded to an
/// integer; None for text that is not a number or a result outside i64.
///
/// ```
/// use trace_report::input::decimal::{to_ns, US, MS};
/// assert_eq!(to_ns(b"1234567.891", US), Some(1234567891));
/// assert_eq!(to_ns(b"4603816446635.630", US), Some(4603816446635630));
/// assert_eq!(to_ns(b"0.00474854", MS), Some(4749));
/// assert_eq!(to_ns(b"1.5e3", US), Some(1500000));
/// assert_eq!(to_ns(b"-2.0005", US), Some(-2001));
/// assert_eq!(to_ns(b"12", US), Some(12000));
/// assert_eq!(to_ns(b"abc", US), None);
/// ```
pub fn to_ns(text: &[u8], scale: i32) -> Option<i64> {
    let mut i = 0;
    let negative = text.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    let mut mantissa: u128 = 0;
    let mut digits = 0u32;
    // Power of ten of the last kept digit.
    let mut exp: i32 = 0;
    let mut any = false;
    let mut seen_point = false;
    while i < text.len() {
        let b = text[i];
        match b {
            b'0'..=b'9' => {
                any = true;
                if digits < MAX_DIGITS {
                    if mantissa != 0 || b != b'0' {
                        digits += 1;
                    }
                    mantissa = mantissa * 10 + u128::from(b - b'0');
                    if seen_point {
                        exp -= 1;
                    }
                } else {
                    // Digits past MAX_DIGITS are far below a nanosecond.
                    if !seen_point {
                        exp += 1;
                    }
                }
            }
            b'.' if !seen_point => seen_point = true,
            b'e' | b'E' => break,
            _ => return None,
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if i < text.len() {
        // Exponent part.
        let rest = std::str::from_utf8(&text[i + 1..]).ok()?;
        let e: i32 = rest.strip_prefix('+').unwrap_or(rest).parse().ok()?;
        exp = exp.checked_add(e)?;
    }
    let exp = exp.checked_add(scale)?;
    let magnitude: u128 = if exp >= 0 {
        let factor = 10u128.checked_pow(exp as u32)?;
        mantissa.checked_mul(factor)?
    } else if exp < -38 {
        0
    } else {
        let d = 10u128.pow((-exp) as u32);
        let (q, r) = (mantissa / d, mantissa % d);
        if r * 2 >= d { q + 1 } else { q }
    };
    let v = i64::try_from(magnitude).ok()?;
    Some(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_without_drift() {
        // Every microsecond timestamp with three decimals maps to its digits.
        for (t, ns) in [
            ("0", 0),
            ("0.001", 1),
            ("0.0005", 1),
            ("0.0004", 0),
            ("1661203462598772", 1_661_203_462_598_772_000),
            ("1661203462598772.999", 1_661_203_462_598_772_999),
            ("9007199254740993.123", 9_007_199_254_740_993_123),
            ("1e0", 1000),
            ("2.5E-3", 3),
            ("1.234e+2", 123400),
        ] {
            assert_eq!(to_ns(t.as_bytes(), US), Some(ns), "{t}");
        }
        // f64 would drift here: 4603816446635.63 * 1000 = 4603816446635629.
        assert_eq!(to_ns(b"4603816446635.630", US), Some(4_603_816_446_635_630));
    }

    #[test]
    fn rejects_garbage_and_overflow() {
        for t in [
            "",
            "-",
            ".",
            "1.2.3",
            "1e",
            "0x10",
            "nan",
            "1e400",
            "99999999999999999999",
        ] {
            assert_eq!(to_ns(t.as_bytes(), US), None, "{t}");
        }
    }

    #[test]
    fn many_digits() {
        assert_eq!(
            to_ns(b"1.0000000000000000000000000000000000000000001", US),
            Some(1000)
        );
        assert_eq!(to_ns(b"0.00050000000000000000000000000000000000001", US), Some(1));
    }
}
