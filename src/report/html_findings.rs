//! The findings section of `report.html`: each finding with its time at
//! stake, where it happens, its evidence, a timeline of one iteration with
//! the finding's operations marked, and the recommendation.

use std::fmt::Write;

use super::table::{self, Cell, Table};
use super::{charts, summary};
use crate::document::Report;
use crate::findings::{Finding, Severity};
use crate::text::escape::{html as h, truncate};
use crate::text::format::{ns, pct};

/// Rows of an operations table shown before cutting.
const MAX_ROWS: usize = 100;
/// Tables with at most this many rows are shown open.
const OPEN_ROWS: usize = 12;

/// Iteration indexes as ranges: `0-3, 5, 7-11`.
pub fn iteration_ranges(its: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < its.len() {
        let mut j = i;
        while j + 1 < its.len() && its[j + 1] == its[j] + 1 {
            j += 1;
        }
        out.push(if j > i {
            format!("{}-{}", its[i], its[j])
        } else {
            its[i].to_string()
        });
        i = j + 1;
    }
    out.join(", ")
}

/// A fact key as a label: the `_ns` unit goes (values show theirs),
/// underscores become spaces (`at_stake_ns` -> `at stake`).
pub fn label(key: &str) -> String {
    key.strip_suffix("_ns").unwrap_or(key).replace('_', " ")
}

/// "Fix first": the findings ranked by time at stake per iteration, each
/// with the best-case iteration time if fixed; tiny ones folded into one
/// line.
pub fn fix_first(s: &mut String, r: &Report) {
    let unit = summary::unit(r);
    let _ = writeln!(s, "<h2 id=\"fix-first\">Fix first</h2>");
    let (fixes, folded) = summary::fixes(r);
    if fixes.is_empty() && folded.is_empty() {
        s.push_str(
            "<p>No findings: none of the rules fired on this trace (<code>trace-report rules</code> lists them).</p>\n",
        );
        return;
    }
    // Four columns, the window total as secondary text under the
    // per-iteration stake, so the table fits a 1,024-px laptop page.
    let mut t = Table::new(&[
        ("#", true),
        ("finding", false),
        (&format!("at stake {unit}"), true),
        ("iteration if fixed (best case)", true),
    ]);
    t.class = Some("fix");
    for f in &fixes {
        let fi = f.finding;
        t.row(vec![
            Cell::num((f.index + 1).to_string()),
            Cell::text(format!(
                "{} {} {} — {}",
                fi.severity.label(),
                fi.code,
                fi.rule,
                summary::clip_words(summary::title(fi), 150)
            ))
            .titled(&fi.title),
            Cell::num(ns(f.stake_ns)).noted(f.window_note(r)),
            Cell::num(format!("no less than ~{}", ns(f.best_case_ns)))
                .noted(format!("from the mean {}", ns(summary::iteration_ns(r)))),
        ]);
    }
    s.push_str(&t.html());
    if let Some(line) = summary::folded_line(&folded) {
        let _ = writeln!(s, "<p class=\"sub\">{}.</p>", h(&line));
    }
    let _ = writeln!(
        s,
        "<p class=\"sub\">Time at stake is what fixing the finding could save at most, so the iteration time if fixed is a floor, not a forecast; findings can share time (a pageable copy that is also re-uploaded counts in both), so they do not add up. Each is explained below.</p>"
    );
}

pub fn section(s: &mut String, r: &Report) {
    let list = &r.findings;
    if list.is_empty() {
        return;
    }
    s.push_str("<h2 id=\"findings\">Findings in detail</h2>\n");
    let count = |sev: Severity| list.iter().filter(|f| f.severity == sev).count();
    let _ = writeln!(
        s,
        "<p class=\"sub\">{} ({} error, {} warning, {} info), largest time at stake first. \
         <code>trace-report explain RULE</code> prints how each rule decides.</p>",
        table::plural(list.len(), "finding", "findings"),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    for (i, f) in list.iter().enumerate() {
        finding(s, r, i, f);
    }
}

fn finding(s: &mut String, r: &Report, index: usize, f: &Finding) {
    let sev = f.severity.label();
    let window = r.window.duration_ns;
    let _ = writeln!(
        s,
        "<div class=\"finding {sev}\" id=\"finding-{index}\"><h3><span class=\"badge {sev}\">{sev}</span>#{} {} <code>{}</code> — {}</h3>",
        index + 1,
        h(&f.code),
        h(&f.rule),
        h(summary::title(f))
    );
    let _ = writeln!(
        s,
        "<div><b>Time at stake:</b> {} {} <span class=\"sub\">({} in the window, {} of it)</span></div>",
        ns(summary::per_iteration(r, f.time_at_stake_ns)),
        summary::unit(r),
        ns(f.time_at_stake_ns),
        pct(f.time_at_stake_ns, window)
    );
    if !f.evidence.phases.is_empty() || !f.evidence.iterations.is_empty() {
        let mut parts = Vec::new();
        if !f.evidence.phases.is_empty() {
            parts.push(format!("phases {}", f.evidence.phases.join(", ")));
        }
        if !f.evidence.iterations.is_empty() {
            parts.push(format!(
                "iterations {} ({} of {})",
                truncate(&iteration_ranges(&f.evidence.iterations), 160),
                f.evidence.iterations.len(),
                r.window.iterations
            ));
        }
        let _ = writeln!(s, "<div><b>Where:</b> {}</div>", h(&parts.join(" · ")));
    }
    // The evidence is over the whole window (times are window totals unless
    // their label says otherwise); the stake is on the line above.
    let facts: Vec<_> = f.evidence.facts.iter().filter(|(k, _)| *k != "at_stake_ns").collect();
    if !facts.is_empty() {
        let _ = writeln!(
            s,
            "<div class=\"sub\">Evidence over the whole window{}:</div>",
            match r.window.iterations {
                0 => String::new(),
                n => format!(" ({n} iterations; times are totals unless their label says otherwise)"),
            }
        );
        s.push_str("<dl class=\"facts\">\n");
        for (k, v) in facts {
            let _ = writeln!(
                s,
                "<div><dt>{}</dt><dd>{}</dd></div>",
                h(&summary::fact_label(k)),
                h(&summary::clip_words(&summary::fact_value(k, v), 200))
            );
        }
        s.push_str("</dl>\n");
    }
    // A finding on the overview is drawn there; one whose operations lie in
    // another iteration keeps its own picture.
    let on_overview = r
        .overview
        .as_ref()
        .is_some_and(|o| o.marks.iter().any(|m| m.finding == index && m.lane.is_some()));
    if let (Some(t), false) = (&f.evidence.timeline, on_overview) {
        let caption = format!("Iteration {}: the finding's operations in red", t.iteration);
        let chart = charts::timeline(t, &caption);
        if !chart.is_empty() {
            let _ = writeln!(s, "<div class=\"chart\">{chart}</div>");
        }
    } else if on_overview {
        let _ = writeln!(
            s,
            "<div class=\"sub\">Its operations are marked on the <a href=\"#timeline\">iteration timeline</a> above.</div>"
        );
    }
    if let Some(t) = &f.evidence.table {
        let open = if t.rows.len() <= OPEN_ROWS { " open" } else { "" };
        let _ = write!(
            s,
            "<details{open}><summary>operations ({})</summary>",
            table::plural(t.rows.len(), "row", "rows")
        );
        let mut tab = Table {
            columns: t
                .columns
                .iter()
                .map(|c| Cell::text(summary::fact_label(c)))
                .collect(),
            ..Table::default()
        };
        for row in t.rows.iter().take(MAX_ROWS) {
            tab.row(
                t.columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| {
                        let text = summary::fact_value(c, v);
                        if v.is_number() {
                            Cell::num(text)
                        } else if text.len() > 60 {
                            Cell::name(truncate(&text, 200)).titled(truncate(&text, 2000))
                        } else {
                            Cell::text(text)
                        }
                    })
                    .collect(),
            );
        }
        s.push_str(&tab.html());
        if t.rows.len() > MAX_ROWS {
            let _ = write!(
                s,
                "<p class=\"sub\">{} more rows in report.json.</p>",
                t.rows.len() - MAX_ROWS
            );
        }
        s.push_str("</details>\n");
    }
    let _ = writeln!(
        s,
        "<div><b>Recommendation:</b> {}</div><div class=\"sub\">trace-report explain {}</div></div>",
        h(&f.recommendation),
        h(&f.rule)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(iteration_ranges(&[0, 1, 2, 3, 5, 7, 8]), "0-3, 5, 7-8");
        assert_eq!(iteration_ranges(&[4]), "4");
        assert_eq!(iteration_ranges(&[]), "");
        assert_eq!(label("at_stake_ns"), "at stake");
        assert_eq!(label("per_iteration_bytes"), "per iteration bytes");
        assert_eq!(label("gpu idle, host busy_ns"), "gpu idle, host busy");
    }
}
