//! The findings section of `report.html`: each finding with its time at
//! stake, where it happens, its evidence, a timeline of one iteration with
//! the finding's operations marked, and the recommendation.

use std::fmt::Write;

use super::charts;
use crate::document::Report;
use crate::findings::{Finding, Severity};
use crate::text::escape::{html as h, truncate};
use crate::text::format::{fact, ns, pct};

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

pub fn section(s: &mut String, r: &Report) {
    let list = &r.findings;
    s.push_str("<h2 id=\"findings\">Findings</h2>\n");
    if list.is_empty() {
        s.push_str(
            "<p>No findings: none of the rules fired on this trace (<code>trace-report rules</code> lists them).</p>\n",
        );
        return;
    }
    let count = |sev: Severity| list.iter().filter(|f| f.severity == sev).count();
    let _ = writeln!(
        s,
        "<p class=\"sub\">{} findings ({} error, {} warning, {} info), largest time at stake first. \
         Time at stake is what fixing the finding could save at most; findings can share time \
         (a pageable copy that is also re-uploaded counts in both), so they do not add up. \
         <code>trace-report explain RULE</code> prints how each rule decides.</p>",
        list.len(),
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
        "<div class=\"finding {sev}\" id=\"finding-{index}\"><h3><span class=\"badge {sev}\">{sev}</span>{} <code>{}</code> — {}</h3>",
        h(&f.code),
        h(&f.rule),
        h(&f.title)
    );
    let _ = writeln!(
        s,
        "<div><b>Time at stake:</b> {} ({} of the window)</div>",
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
    if !f.evidence.facts.is_empty() {
        s.push_str("<dl class=\"facts\">\n");
        for (k, v) in &f.evidence.facts {
            let _ = writeln!(
                s,
                "<div><dt>{}</dt><dd>{}</dd></div>",
                h(&label(k)),
                h(&truncate(&fact(k, v), 200))
            );
        }
        s.push_str("</dl>\n");
    }
    if let Some(t) = &f.evidence.timeline {
        let caption = format!("Iteration {}: the finding's operations in red", t.iteration);
        let chart = charts::timeline(t, &caption);
        if !chart.is_empty() {
            let _ = writeln!(s, "<div class=\"chart\">{chart}</div>");
        }
    }
    if let Some(t) = &f.evidence.table {
        let open = if t.rows.len() <= OPEN_ROWS { " open" } else { "" };
        let _ = write!(
            s,
            "<details{open}><summary>operations ({} rows)</summary><table><tr>",
            t.rows.len()
        );
        for c in &t.columns {
            let _ = write!(s, "<th>{}</th>", h(&label(c)));
        }
        s.push_str("</tr>\n");
        for row in t.rows.iter().take(MAX_ROWS) {
            s.push_str("<tr>");
            for (c, v) in t.columns.iter().zip(row) {
                let text = fact(c, v);
                let class = if v.is_number() {
                    " class=\"n\""
                } else if text.len() > 60 {
                    " class=\"name\""
                } else {
                    ""
                };
                let _ = write!(s, "<td{class}>{}</td>", h(&truncate(&text, 200)));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</table>");
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
