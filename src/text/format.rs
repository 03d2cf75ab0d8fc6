//! Human-readable numbers, shared by every renderer.

/// Nanoseconds, as `model::Ns` (this leaf sits below the model).
type Ns = i64;

/// A duration: `850 ns`, `12.3 us`, `4.56 ms`, `1.234 s`.
pub fn ns(v: Ns) -> String {
    let a = v.unsigned_abs() as f64;
    let sign = if v < 0 { "-" } else { "" };
    if a < 1e3 {
        format!("{sign}{a:.0} ns")
    } else if a < 1e6 {
        format!("{sign}{:.1} us", a / 1e3)
    } else if a < 1e9 {
        format!("{sign}{:.2} ms", a / 1e6)
    } else {
        format!("{sign}{:.3} s", a / 1e9)
    }
}

/// A byte count in binary units: `512 B`, `4.0 KiB`, `64.0 MiB`.
pub fn bytes(v: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = v as f64;
    let mut u = 0;
    while x >= 1024.0 && u < UNITS.len() - 1 {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v} B")
    } else {
        format!("{x:.1} {}", UNITS[u])
    }
}

/// `part` as a percentage of `whole`, one decimal: `42.0%`.
pub fn pct(part: Ns, whole: Ns) -> String {
    if whole == 0 {
        return "-".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// Names with repeats counted, in first-seen order: `["8x NVIDIA H100", "NVIDIA A10"]`.
pub fn counted<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for name in names {
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }
    counts
        .into_iter()
        .map(|(n, c)| if c > 1 { format!("{c}x {n}") } else { n.to_string() })
        .collect()
}

/// A fact value from findings evidence, formatted by its key's suffix.
pub fn fact(key: &str, value: &serde_json::Value) -> String {
    if key.contains("share") && value.is_f64() {
        return format!("{:.1}%", value.as_f64().unwrap_or(0.0) * 100.0);
    }
    match (value.as_i64(), value.as_u64()) {
        (Some(v), _) if key.ends_with("_ns") => ns(v),
        (_, Some(v)) if key.ends_with("_bytes") || key == "bytes" => bytes(v),
        _ => match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() => format!("{f:.3}"),
                _ => n.to_string(),
            },
            other => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(ns(850), "850 ns");
        assert_eq!(ns(12_345), "12.3 us");
        assert_eq!(ns(4_560_000), "4.56 ms");
        assert_eq!(ns(1_234_000_000), "1.234 s");
        assert_eq!(ns(-2_000), "-2.0 us");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(64 << 20), "64.0 MiB");
        assert_eq!(pct(1, 4), "25.0%");
        assert_eq!(pct(1, 0), "-");
        assert_eq!(fact("wasted_ns", &serde_json::json!(1500)), "1.5 us");
        assert_eq!(fact("copy_bytes", &serde_json::json!(4096)), "4.0 KiB");
        assert_eq!(fact("count", &serde_json::json!(3)), "3");
        assert_eq!(fact("share_of_window", &serde_json::json!(0.7164)), "71.6%");
        assert_eq!(fact("per_iteration", &serde_json::json!(18.0)), "18.000");
    }

    #[test]
    fn repeated_names_are_counted_not_merged_across_kinds() {
        let names = ["H100", "A10", "H100", "H100"];
        assert_eq!(counted(names), vec!["3x H100".to_string(), "A10".to_string()]);
        assert!(counted([]).is_empty());
    }
}
