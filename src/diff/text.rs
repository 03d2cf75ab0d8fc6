//! Wording and number formats shared by the diff renderers.

use super::Diff;
use super::stats::Basis;
use crate::text::format;

/// A normalised duration (fractional ns), e.g. `4.56 ms`.
pub fn ns(v: f64) -> String {
    format::ns(v.round() as i64)
}

/// A signed change: `+1.23 ms`, `-850 ns`, `0 ns`.
pub fn delta(v: f64) -> String {
    let r = v.round() as i64;
    if r > 0 {
        format!("+{}", format::ns(r))
    } else {
        format::ns(r)
    }
}

/// A signed percentage, `+12.3%`, or `-` when undefined.
pub fn pct(v: Option<f64>) -> String {
    match v {
        Some(p) if p.is_finite() => format!("{p:+.1}%"),
        _ => "-".into(),
    }
}

/// A normalised count: integer when whole, else two decimals.
pub fn count(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.2}")
    }
}

/// A normalised byte amount.
pub fn bytes(v: f64) -> String {
    format::bytes(v.round().max(0.0) as u64)
}

/// The headline: `faster: mean iteration 51.12 ms -> 8.00 ms (-84.4%, 95% CI -85.1% .. -83.7%)`.
pub fn headline(d: &Diff) -> String {
    format!("{}: {}", d.verdict.verdict.label(), measure(d, "->"))
}

/// The measurement behind the verdict: `mean iteration 51.12 ms -> 8.00 ms
/// (-84.4%, 95% CI ...)`, with `arrow` between the sides.
pub fn measure(d: &Diff, arrow: &str) -> String {
    let v = &d.verdict;
    let what = match v.basis {
        Basis::Iterations => "mean iteration",
        Basis::WindowTotals => match v.work_ratio {
            Some(r) if r != 1.0 => "window, NEW scaled to BASE's work,",
            _ => "window",
        },
        Basis::EngineInference => "one inference",
    };
    let ci = match v.ci_pct {
        Some([lo, hi]) => format!(", {:.0}% CI {lo:+.1}% .. {hi:+.1}%", v.confidence * 100.0),
        None => String::new(),
    };
    format!(
        "{what} {} {arrow} {} ({}{ci})",
        ns(v.base_ns),
        ns(v.new_ns),
        pct(v.change_pct)
    )
}

/// The iteration counts behind the verdict, in words.
pub fn sample_sizes(d: &Diff) -> String {
    match d.verdict.basis {
        Basis::Iterations => format!(
            "{} BASE and {} NEW iterations",
            d.base.iterations, d.new.iterations
        ),
        Basis::WindowTotals => "one window per side".into(),
        Basis::EngineInference => "one averaged inference per engine profile".into(),
    }
}
