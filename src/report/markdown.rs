//! `report.md`: a compact summary for a pull-request comment (well under
//! GitHub's 65,536-character limit: tables are capped, names shortened).

use std::fmt::Write;

use super::table::{Cell, Table};
use super::{copies, phase_table, summary};
use crate::document::Report;
use crate::text::escape::{markdown as md, truncate};
use crate::text::format::{ns, pct};

/// Rows of the kernel table.
const TOP_KERNELS: usize = 10;
/// Tensor Core misses listed.
const TOP_MISSES: usize = 3;
/// Fixes shown before the fold.
const TOP_FIXES: usize = 3;
/// Findings listed in the folded table.
const TOP_FINDINGS: usize = 10;
/// Findings whose recommendation is repeated in the fold.
const TOP_RECOMMENDATIONS: usize = 3;
/// Longest kernel name shown.
const NAME_CHARS: usize = 90;
/// Input warnings listed in the summary (the rest are in report.json).
const MAX_WARNINGS: usize = 10;
/// Hard cap on a whole Markdown document (GitHub allows 65,536 characters
/// in a comment); the diff's too.
pub const MAX_CHARS: usize = 60_000;
/// What the summary above the fold should stay within, in words.
pub const WORD_BUDGET: usize = 350;

/// The summary a pull request shows: headline, the top fixes with their
/// stakes per iteration, one attribution line, the Tensor Core share and
/// the warnings, in about [`WORD_BUDGET`] words; everything else behind
/// `<details>`.
pub fn render(r: &Report) -> Vec<u8> {
    let mut s = String::new();
    let a = &r.attribution.window;
    let total = a.total_ns;
    let unit = summary::unit(r);
    let file = r.source.path.rsplit(['/', '\\']).next().unwrap_or(&r.source.path);
    let _ = writeln!(s, "## trace-report: {}\n", md(file));

    let gpus = super::terminal::gpu_list(r);
    let on = if gpus.is_empty() {
        String::new()
    } else {
        format!(" on {}", md(&gpus.join(" + ")))
    };
    match (&r.iteration_time, &r.window.iteration_range) {
        (Some(t), Some(name)) => {
            let _ = writeln!(
                s,
                "**Iteration {}** (p50 of {} `{}` iterations; mean {}, p90 {}){on} · **GPU busy {}** ({})\n",
                ns(t.p50_ns),
                t.count,
                md(name).replace('`', "'"),
                ns(t.mean_ns),
                ns(t.p90_ns),
                pct(total - a.activity.gpu_idle_ns, total),
                md(&summary::busy_note(r))
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "**Window {}** (no iterations){on} · **GPU busy {}** ({})\n",
                ns(total),
                pct(total - a.activity.gpu_idle_ns, total),
                md(&summary::busy_note(r))
            );
        }
    }
    let _ = writeln!(s, "{}\n", md(&summary::headline(r)));

    let (fixes, folded) = summary::fixes(r);
    if fixes.is_empty() && folded.is_empty() {
        s.push_str("**Findings:** none.\n\n");
    } else {
        s.push_str("### Fix first\n\n");
        let mut t = Table::new(&[
            ("#", true),
            ("finding", false),
            (&format!("at stake {unit}"), true),
            ("if fixed (best case)", true),
        ]);
        for f in fixes.iter().take(TOP_FIXES) {
            let fi = f.finding;
            t.row(vec![
                Cell::num((f.index + 1).to_string()),
                Cell::text(format!(
                    "{} {} {}: {}",
                    fi.severity.label(),
                    fi.code,
                    fi.rule,
                    summary::clip_words(summary::title(fi), 70)
                )),
                Cell::num(format!(
                    "{} ({} of the window)",
                    ns(f.stake_ns),
                    pct(fi.time_at_stake_ns, r.window.duration_ns)
                )),
                Cell::num(f.projection(r)),
            ]);
        }
        s.push_str(&t.markdown());
        let more = fixes.len().saturating_sub(TOP_FIXES);
        let mut tail = Vec::new();
        if more > 0 {
            tail.push(format!("{more} more below"));
        }
        if let Some(line) = summary::folded_line(&folded) {
            tail.push(line);
        }
        if !tail.is_empty() {
            let _ = writeln!(s, "\n{}.", md(&tail.join("; ")));
        }
        s.push('\n');
    }

    let per = |v| ns(summary::per_iteration(r, v));
    let _ = writeln!(
        s,
        "**Where the time goes ({unit}):** kernels {} · copies {} · GPU idle: host {}, launch {}, sync {} · phases: {}\n",
        per(a.activity.kernel_ns),
        per(a.activity.memcpy_ns + a.activity.memset_ns),
        per(a.gpu_idle.host_ns),
        per(a.gpu_idle.launch_ns),
        per(a.gpu_idle.sync_ns),
        phase_table::phases(r)
            .iter()
            .filter(|p| p.total_ns > 0)
            .map(|p| format!("{} {}", p.label, pct(p.total_ns, total)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    tensor_core_line(&mut s, r);
    if !r.warnings.is_empty() {
        let _ = writeln!(
            s,
            "**Input warnings:** {} · {}\n",
            r.warnings.len(),
            md(&summary::clip_words(&r.warnings[0], 140))
        );
    }

    // The fold: everything a reviewer may open.
    s.push_str("<details><summary>All findings, phases, kernels and copies</summary>\n\n");
    details(&mut s, r);
    s.push_str("</details>\n\n");

    if !r.warnings.is_empty() {
        // Folded: they matter (a whole-graph capture, a missing table) but
        // should not push the findings down a PR comment.
        let _ = writeln!(
            s,
            "<details><summary>Input warnings ({})</summary>\n",
            r.warnings.len()
        );
        for w in r.warnings.iter().take(MAX_WARNINGS) {
            let _ = writeln!(s, "- {}", md(&truncate(w, 400)));
        }
        if r.warnings.len() > MAX_WARNINGS {
            let _ = writeln!(s, "- … {} more in report.json", r.warnings.len() - MAX_WARNINGS);
        }
        s.push_str("\n</details>\n\n");
    }

    let _ = writeln!(
        s,
        "<sub>{} · {} · {} · window: {}</sub>",
        md(&r.generator),
        md(r.source
            .profiler_version
            .as_deref()
            .unwrap_or("profiler version unknown")),
        if gpus.is_empty() {
            "GPU unknown".to_string()
        } else {
            md(&gpus.join(", "))
        },
        md(&r.window.reason),
    );

    capped(s)
}

/// The document's bytes, cut to [`MAX_CHARS`] (at a character boundary,
/// saying so) for GitHub's comment limit.
pub fn capped(mut s: String) -> Vec<u8> {
    if s.len() > MAX_CHARS {
        let mut cut = MAX_CHARS - 40;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n\n…(truncated)\n");
    }
    s.into_bytes()
}

/// The folded part: all findings, recommendations, the phase table, top
/// kernels, copies and the top finding's evidence.
fn details(s: &mut String, r: &Report) {
    let unit = summary::unit(r);
    let total = r.attribution.window.total_ns;
    if !r.findings.is_empty() {
        let _ = writeln!(s, "### Findings ({unit})\n");
        let mut t = Table::new(&[
            ("severity", false),
            ("code", false),
            ("rule", false),
            (unit, true),
            ("window total", true),
            ("where", false),
            ("finding", false),
        ]);
        for f in r.findings.iter().take(TOP_FINDINGS) {
            let mut place = f.evidence.phases.join(", ");
            if !f.evidence.iterations.is_empty() {
                if !place.is_empty() {
                    place.push_str("; ");
                }
                place.push_str(&format!(
                    "{}/{} iterations",
                    f.evidence.iterations.len(),
                    r.window.iterations
                ));
            }
            if place.is_empty() {
                place = "kernels by name".into();
            }
            t.row(vec![
                Cell::text(f.severity.label()),
                Cell::text(&f.code),
                Cell::code(&f.rule),
                Cell::num(ns(summary::per_iteration(r, f.time_at_stake_ns))),
                Cell::num(format!(
                    "{} ({})",
                    ns(f.time_at_stake_ns),
                    pct(f.time_at_stake_ns, total)
                )),
                Cell::text(place),
                Cell::text(summary::clip_words(&f.title, 160)),
            ]);
        }
        s.push_str(&t.markdown());
        if r.findings.len() > TOP_FINDINGS {
            let _ = writeln!(
                s,
                "\n…and {} more in the HTML report.",
                r.findings.len() - TOP_FINDINGS
            );
        }
        s.push('\n');
        for f in r.findings.iter().take(TOP_RECOMMENDATIONS) {
            let _ = writeln!(
                s,
                "- **{} {}**: {}",
                md(&f.code),
                md(&f.rule),
                md(&summary::clip_words(&f.recommendation, 400))
            );
        }
        s.push('\n');
    }
    tensor_misses(s, r);

    let _ = writeln!(s, "### Where the time goes ({unit})\n");
    let per = |v| ns(summary::per_iteration(r, v));
    let mut cols: Vec<(&str, bool)> = vec![("phase", false), ("time", true)];
    cols.extend(phase_table::BUCKET_LABELS.iter().map(|b| (*b, true)));
    let mut t = Table::new(&cols);
    let row = |p: &phase_table::Row, bold: bool| {
        let mut v = vec![
            if bold {
                Cell::bold(p.label)
            } else {
                Cell::text(p.label)
            },
            Cell::num(format!("{} ({})", per(p.total_ns), pct(p.total_ns, total))),
        ];
        v.extend(p.buckets.iter().map(|&b| Cell::num(per(b))));
        v
    };
    for p in phase_table::phases(r) {
        t.row(row(&p, false));
    }
    t.footer.push(row(&phase_table::total(r), true));
    s.push_str(&t.markdown());
    s.push('\n');
    super::host_work::markdown(s, r);
    super::md_roofline::section(s, r);

    if !r.kernels.is_empty() {
        let ktotal: i64 = r.kernels.iter().map(|k| k.total_ns).sum();
        let _ = writeln!(
            s,
            "### Top kernels ({} of {}, {unit})\n",
            r.kernels.len().min(TOP_KERNELS),
            r.kernels.len()
        );
        let top: Vec<_> = r.kernels.iter().take(TOP_KERNELS).collect();
        let names: Vec<(&str, &str)> = top
            .iter()
            .map(|k| (k.name.as_str(), k.short_name.as_str()))
            .collect();
        let labels = summary::kernel_labels(&names, NAME_CHARS);
        let n = summary::iterations(r) as f64;
        let mut t = Table::new(&[
            ("kernel", false),
            ("category", false),
            ("calls", true),
            ("time", true),
            ("mean", true),
            ("share of kernel time", true),
        ]);
        for (k, label) in top.iter().zip(labels) {
            t.row(vec![
                Cell::text(label),
                Cell::text(k.category.label()),
                Cell::num(summary::number(k.count as f64 / n)),
                Cell::num(per(k.total_ns)),
                Cell::num(ns(k.mean_ns)),
                Cell::num(pct(k.total_ns, ktotal)),
            ]);
        }
        s.push_str(&t.markdown());
        s.push('\n');
    }

    if !r.memcpy.is_empty() {
        let _ = writeln!(s, "### Memory copies ({unit})\n");
        let t = copies::table(r, false);
        s.push_str(&t.markdown());
        s.push('\n');
    }

    if let Some(f) = r.findings.first() {
        if !f.evidence.facts.is_empty() {
            let _ = writeln!(
                s,
                "**Evidence for {} {}** (window totals)\n",
                md(&f.code),
                md(&f.rule)
            );
            for (k, v) in &f.evidence.facts {
                let _ = writeln!(
                    s,
                    "- {}: {}",
                    md(&summary::fact_label(k)),
                    md(&summary::fact_value(k, v))
                );
            }
            s.push('\n');
        }
    }
}

/// One line on Tensor Core use.
fn tensor_core_line(s: &mut String, r: &Report) {
    let t = &r.tensor_cores;
    if t.eligible_ns == 0 {
        return;
    }
    let _ = writeln!(
        s,
        "**Tensor Cores:** {} of matrix time ({} of {} {}) on Tensor Cores · {} on CUDA cores · {} unknown\n",
        pct(t.tensor_core_ns, t.eligible_ns),
        ns(summary::per_iteration(r, t.tensor_core_ns)),
        ns(summary::per_iteration(r, t.eligible_ns)),
        summary::unit(r),
        ns(summary::per_iteration(r, t.cuda_core_ns)),
        ns(summary::per_iteration(r, t.unknown_ns))
    );
}

/// The largest Tensor Core misses, with their reasons.
fn tensor_misses(s: &mut String, r: &Report) {
    let mut misses: Vec<_> = r
        .kernels
        .iter()
        .filter(|k| crate::analysis::tensor_core::is_eligible(k) && k.tensor_core_reason.is_some())
        .collect();
    misses.sort_by_key(|k| std::cmp::Reverse(k.total_ns));
    for k in misses.iter().take(TOP_MISSES) {
        let _ = writeln!(
            s,
            "- {} ({}, Tensor Cores: {}, by {}): {}",
            md(&truncate(&k.name, NAME_CHARS)),
            ns(k.total_ns),
            k.tensor_core.label(),
            k.tensor_core_evidence.label(),
            md(&summary::clip_words(
                k.tensor_core_reason.as_deref().unwrap_or(""),
                240
            ))
        );
    }
    if !misses.is_empty() {
        s.push('\n');
    }
}
