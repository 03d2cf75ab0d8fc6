//! `report.md`: a compact summary for a pull-request comment (well under
//! GitHub's 65,536-character limit: tables are capped, names shortened).

use std::fmt::Write;

use super::phase_table;
use crate::document::Report;
use crate::text::escape::{markdown as md, truncate};
use crate::text::format::{bytes, fact, ns, pct};

/// Rows of the kernel table.
const TOP_KERNELS: usize = 10;
/// Tensor Core misses listed.
const TOP_MISSES: usize = 3;
/// Findings listed.
const TOP_FINDINGS: usize = 10;
/// Findings whose recommendation is repeated under the table.
const TOP_RECOMMENDATIONS: usize = 3;
/// Longest kernel name shown.
const NAME_CHARS: usize = 90;
/// Input warnings listed in the summary (the rest are in report.json).
const MAX_WARNINGS: usize = 10;
/// Hard cap on the whole document.
pub const MAX_CHARS: usize = 60_000;

pub fn render(r: &Report) -> Vec<u8> {
    let mut s = String::new();
    let a = &r.attribution.window;
    let total = a.total_ns;
    let file = r.source.path.rsplit(['/', '\\']).next().unwrap_or(&r.source.path);
    let _ = writeln!(s, "## trace-report: {}\n", md(file));

    let busy = total - a.activity.gpu_idle_ns;
    let (big, big_ns) = super::terminal::biggest_bucket(r);
    match (&r.iteration_time, &r.window.iteration_range) {
        (Some(t), Some(name)) => {
            let _ = writeln!(
                s,
                "**Iteration time p50 {}** (mean {}, p90 {}, max {}) over {} `{}` iterations · **GPU busy {}** · biggest bucket: **{}** ({})\n",
                ns(t.p50_ns),
                ns(t.mean_ns),
                ns(t.p90_ns),
                ns(t.max_ns),
                t.count,
                md(name).replace('`', "'"),
                pct(busy, total),
                big,
                pct(big_ns, total)
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "**Window {}** ({}) · **GPU busy {}** · biggest bucket: **{}** ({})\n",
                ns(total),
                md(&r.window.reason),
                pct(busy, total),
                big,
                pct(big_ns, total)
            );
        }
    }

    // Findings first: they are what a reviewer acts on.
    if r.findings.is_empty() {
        s.push_str("**Findings:** none.\n\n");
    } else {
        s.push_str(
            "### Findings\n\n| severity | code | rule | time at stake | where | finding |\n|---|---|---|---:|---|---|\n",
        );
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
            let _ = writeln!(
                s,
                "| {} | {} | `{}` | {} ({}) | {} | {} |",
                f.severity.label(),
                md(&f.code),
                md(&f.rule).replace('`', "'"),
                ns(f.time_at_stake_ns),
                pct(f.time_at_stake_ns, total),
                md(&place),
                md(&truncate(&f.title, 160))
            );
        }
        if r.findings.len() > TOP_FINDINGS {
            let _ = writeln!(
                s,
                "\n…and {} more in the HTML report.",
                r.findings.len() - TOP_FINDINGS
            );
        }
        s.push('\n');
        // What to do about the largest ones.
        for f in r.findings.iter().take(TOP_RECOMMENDATIONS) {
            let _ = writeln!(
                s,
                "- **{} {}**: {}",
                md(&f.code),
                md(&f.rule),
                md(&truncate(&f.recommendation, 400))
            );
        }
        s.push('\n');
    }

    tensor_cores(&mut s, r);
    super::md_roofline::section(&mut s, r);

    s.push_str("### Where the time goes\n\n");
    s.push_str("| phase | time |");
    for b in phase_table::BUCKET_LABELS {
        let _ = write!(s, " {b} |");
    }
    s.push_str("\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in phase_table::phases(r) {
        let _ = write!(
            s,
            "| {} | {} ({}) |",
            row.label,
            ns(row.total_ns),
            pct(row.total_ns, total)
        );
        for v in row.buckets {
            let _ = write!(s, " {} |", ns(v));
        }
        s.push('\n');
    }
    let t = phase_table::total(r);
    let _ = write!(s, "| **total** | **{}** |", ns(t.total_ns));
    for v in t.buckets {
        let _ = write!(s, " {} |", ns(v));
    }
    s.push_str("\n\n");
    super::host_work::markdown(&mut s, r);

    if !r.kernels.is_empty() {
        let ktotal: i64 = r.kernels.iter().map(|k| k.total_ns).sum();
        let _ = writeln!(
            s,
            "### Top kernels ({} of {})\n",
            r.kernels.len().min(TOP_KERNELS),
            r.kernels.len()
        );
        s.push_str("| kernel | category | calls | total | mean | share of kernel time |\n|---|---|---:|---:|---:|---:|\n");
        for k in r.kernels.iter().take(TOP_KERNELS) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                md(&truncate(&k.name, NAME_CHARS)),
                k.category.label(),
                k.count,
                ns(k.total_ns),
                ns(k.mean_ns),
                pct(k.total_ns, ktotal)
            );
        }
        s.push('\n');
    }

    if !r.memcpy.is_empty() {
        s.push_str(
            "### Memory copies\n\n| kind | count | bytes | total | pageable |\n|---|---:|---:|---:|---:|\n",
        );
        for m in &r.memcpy {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                m.kind,
                m.count,
                bytes(m.bytes),
                ns(m.total_ns),
                m.pageable_count
            );
        }
        s.push('\n');
    }

    if let Some(f) = r.findings.first() {
        if !f.evidence.facts.is_empty() {
            let _ = writeln!(
                s,
                "<details><summary>Evidence for {} {}</summary>\n",
                md(&f.code),
                md(&f.rule)
            );
            for (k, v) in &f.evidence.facts {
                let _ = writeln!(s, "- {}: {}", md(k), md(&fact(k, v)));
            }
            let _ = writeln!(s, "\nRecommendation: {}\n\n</details>\n", md(&f.recommendation));
        }
    }

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

    let names: Vec<String> = r.source.gpus.iter().map(|g| md(&g.name)).collect();
    let gpus = crate::text::format::counted(names.iter().map(String::as_str));
    let _ = writeln!(
        s,
        "<sub>{} · {} · {} · window: {}{}</sub>",
        md(&r.generator),
        md(r.source
            .profiler_version
            .as_deref()
            .unwrap_or("profiler version unknown")),
        if gpus.is_empty() {
            "GPU unknown".to_string()
        } else {
            gpus.join(", ")
        },
        md(&r.window.reason),
        if r.warnings.is_empty() {
            String::new()
        } else {
            format!(" · {} input warning(s)", r.warnings.len())
        }
    );

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

/// One line on Tensor Core use, then the largest misses.
fn tensor_cores(s: &mut String, r: &Report) {
    let t = &r.tensor_cores;
    if t.eligible_ns == 0 {
        return;
    }
    let _ = writeln!(
        s,
        "**Tensor Cores:** {} of matrix time ({} of {}) on Tensor Cores · {} on CUDA cores · {} unknown\n",
        pct(t.tensor_core_ns, t.eligible_ns),
        ns(t.tensor_core_ns),
        ns(t.eligible_ns),
        ns(t.cuda_core_ns),
        ns(t.unknown_ns)
    );
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
            md(&truncate(k.tensor_core_reason.as_deref().unwrap_or(""), 200))
        );
    }
    if !misses.is_empty() {
        s.push('\n');
    }
}
