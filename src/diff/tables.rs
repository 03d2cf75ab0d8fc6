//! The diff's tables, built once as [`Table`]s and rendered by both
//! `diff.html` and `diff.md`, so the two pages cannot drift apart.

use super::Diff;
use super::deltas::NormMode;
use super::findings::{FindingSide, Status};
use super::text::{bytes, count, delta, ns, pct};
use crate::model::Ns;
use crate::report::summary::clip_words;
use crate::report::table::{Cell, Table};
use crate::text::format;

/// `better`/`worse` for a time delta.
pub fn tone(v: f64) -> &'static str {
    if v < 0.0 {
        "better"
    } else if v > 0.0 {
        "worse"
    } else {
        ""
    }
}

/// Iteration statistics side by side (both sides with iterations).
pub fn iterations(d: &Diff) -> Table {
    let mut t = Table::new(&[("", false), ("BASE", true), ("NEW", true), ("change", true)]);
    type Getter = fn(&crate::analysis::iterations::IterationStats) -> Ns;
    let rows: [(&str, Getter); 6] = [
        ("mean", |t| t.mean_ns),
        ("p50", |t| t.p50_ns),
        ("p90", |t| t.p90_ns),
        ("min", |t| t.min_ns),
        ("max", |t| t.max_ns),
        ("std dev", |t| t.stddev_ns),
    ];
    for (name, f) in rows {
        let b = d.base.iteration_time.as_ref().map(f);
        let n = d.new.iteration_time.as_ref().map(f);
        let show = |x: Option<Ns>| x.map_or("-".into(), format::ns);
        let change = b
            .zip(n)
            .and_then(|(b, n)| super::stats::pct((n - b) as f64, b as f64));
        t.row(vec![
            Cell::text(name),
            Cell::num(show(b)),
            Cell::num(show(n)),
            Cell::num(pct(change)),
        ]);
    }
    t.row(vec![
        Cell::text("iterations"),
        Cell::num(d.base.iterations.to_string()),
        Cell::num(d.new.iterations.to_string()),
        Cell::num(""),
    ]);
    t
}

/// Attribution rows: total, activity, idle causes, phases.
pub fn attribution(d: &Diff) -> Table {
    let mut t = Table::new(&[
        ("", false),
        ("BASE", true),
        ("NEW", true),
        ("Δ", true),
        ("change", true),
    ]);
    for a in &d.attribution {
        let name = match a.group.as_str() {
            "total" => Cell::bold("total"),
            "gpu_idle" => Cell::text(format!("idle: {}", a.name)),
            "phase" => Cell::text(format!("phase: {}", a.name)),
            _ => Cell::text(a.name.replace('_', " ")),
        };
        t.row(vec![
            name,
            Cell::num(ns(a.base_ns)),
            Cell::num(ns(a.new_ns)),
            Cell::num(delta(a.delta_ns)).toned(tone(a.delta_ns)),
            Cell::num(pct(a.change_pct)),
        ]);
    }
    t
}

/// Kernel time by category.
pub fn categories(d: &Diff) -> Table {
    let mut t = Table::new(&[
        ("category", false),
        ("BASE", true),
        ("NEW", true),
        ("Δ", true),
        ("change", true),
        ("calls", true),
    ]);
    for c in &d.categories {
        t.row(vec![
            Cell::text(c.category.label()),
            Cell::num(ns(c.base_ns)),
            Cell::num(ns(c.new_ns)),
            Cell::num(delta(c.delta_ns)).toned(tone(c.delta_ns)),
            Cell::num(pct(c.change_pct)),
            Cell::num(format!("{} → {}", count(c.base_count), count(c.new_count))),
        ]);
    }
    t
}

/// Copies by kind.
pub fn memcpy(d: &Diff) -> Table {
    let mut t = Table::new(&[
        ("kind", false),
        ("count", true),
        ("bytes", true),
        ("BASE", true),
        ("NEW", true),
        ("Δ", true),
    ]);
    for m in &d.memcpy {
        t.row(vec![
            Cell::text(&m.kind),
            Cell::num(format!("{} → {}", count(m.base_count), count(m.new_count))),
            Cell::num(format!("{} → {}", bytes(m.base_bytes), bytes(m.new_bytes))),
            Cell::num(ns(m.base_ns)),
            Cell::num(ns(m.new_ns)),
            Cell::num(delta(m.delta_ns)).toned(tone(m.delta_ns)),
        ]);
    }
    t
}

/// A title without a leading `rule:` that repeats the rule's name.
fn untagged<'a>(title: &'a str, rule: &str) -> &'a str {
    title
        .strip_prefix(rule)
        .and_then(|t| t.strip_prefix(':'))
        .map_or(title, str::trim_start)
}

/// Findings on either side, time at stake in the diff's unit (per
/// iteration when both sides have iterations); `moved_only` leaves out
/// the unchanged ones.
pub fn findings(d: &Diff, moved_only: bool, max: usize) -> Table {
    let unit = d.normalization.unit();
    let mut t = Table::new(&[
        ("status", false),
        ("finding", false),
        ("severity", false),
        (&format!("at stake BASE ({unit})"), true),
        ("NEW", true),
    ]);
    // The normalised stake first, the window total as secondary text.
    let normalised = d.normalization.mode != NormMode::WindowTotal;
    let stake = |x: &Option<FindingSide>| match x {
        None => Cell::num("-"),
        Some(x) if normalised => Cell::num(ns(x.time_at_stake_norm_ns))
            .noted(format!("{} in the window", ns(x.time_at_stake_ns as f64))),
        Some(x) => Cell::num(ns(x.time_at_stake_norm_ns)),
    };
    let sev = |x: &Option<FindingSide>| x.as_ref().map_or("-", |x| x.severity.label());
    for f in d
        .findings
        .iter()
        .filter(|f| !moved_only || f.status != Status::Unchanged)
        .take(max)
    {
        t.row(vec![
            Cell::text(f.status.label()),
            Cell::text(format!(
                "{} {} — {}",
                f.code,
                f.rule,
                clip_words(untagged(f.title(), &f.rule), 140)
            ))
            .titled(f.title()),
            Cell::text(format!("{} → {}", sev(&f.base), sev(&f.new))),
            stake(&f.base),
            stake(&f.new),
        ]);
    }
    t
}
