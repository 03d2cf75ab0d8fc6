//! The report a person reads: the first screen's order, the one timeline
//! (nothing dropped, checked against SQL counts of the operations in the
//! iteration drawn), per-iteration stakes, and the Markdown summary as a
//! GitHub-flavoured renderer shows it (tables and <details> render, about
//! 350 words above the fold).

mod common;

use common::{open, sample};
use pulldown_cmark::{Options, Parser, html};
use trace_report::document::Report;
use trace_report::findings::overview::ItemKind;
use trace_report::input;
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;
use trace_report::report;

const SAMPLES: [&str; 7] = [
    "resnet50_fp16_nchw_cpupre.sqlite",
    "resnet50_fp16_cl_gpupre.sqlite",
    "redundant_copies.sqlite",
    "bert_fp16_aligned.sqlite",
    "bert_fp16_misaligned.sqlite",
    "detector_cpu_nms.sqlite",
    "gemm_int8_fp16_fp32.sqlite",
];

fn report(name: &str) -> Report {
    let trace = input::load(&sample(name), &Default::default(), &Progress::hidden()).expect("load sample");
    pipeline::analyze(&trace, &AnalysisOptions::default()).expect("analyze")
}

/// Words outside `<details>` blocks (what a PR comment shows unopened).
fn words_above_the_fold(md: &str) -> usize {
    let mut depth = 0usize;
    let mut n = 0;
    for line in md.lines() {
        let opens = line.matches("<details").count();
        let closes = line.matches("</details>").count();
        if depth == 0 && opens == 0 {
            n += line
                .split_whitespace()
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .count();
        }
        depth = (depth + opens).saturating_sub(closes);
    }
    n
}

fn gfm(md: &str) -> String {
    let mut out = String::new();
    html::push_html(&mut out, Parser::new_ext(md, Options::ENABLE_TABLES));
    out
}

#[test]
fn the_timeline_draws_every_operation_of_the_iteration() {
    for name in SAMPLES {
        let r = report(name);
        let o = r.overview.as_ref().expect("an overview");
        // Oracle: GPU operations that overlap the iteration drawn.
        let conn = open(&sample(name));
        let mut count = 0i64;
        for table in [
            "CUPTI_ACTIVITY_KIND_KERNEL",
            "CUPTI_ACTIVITY_KIND_MEMCPY",
            "CUPTI_ACTIVITY_KIND_MEMSET",
        ] {
            if common::has_table(&conn, table) {
                count += conn
                    .query_row(
                        &format!("SELECT count(*) FROM {table} WHERE start < ?2 AND end > ?1"),
                        [o.start_ns, o.end_ns],
                        |row| row.get::<_, i64>(0),
                    )
                    .unwrap();
            }
        }
        assert_eq!(o.operations as i64, count, "{name}");
        let drawn: u64 = o
            .items
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::Kernel | ItemKind::Memcpy | ItemKind::Memset))
            .map(|i| i.count)
            .sum();
        assert_eq!(
            drawn as i64, count,
            "{name}: every operation drawn (merged or not)"
        );
        // The iteration drawn is the median-duration one.
        let it = o.iteration.expect("samples have iterations");
        let mut d: Vec<i64> = r.iterations.iter().map(|i| i.duration_ns).collect();
        d.sort();
        assert_eq!(r.iterations[it].duration_ns, d[(d.len() - 1) / 2], "{name}");
        // Every marked finding has a lane with its operations.
        for m in &o.marks {
            if let Some(l) = m.lane {
                assert!(o.items.iter().any(|i| i.lane == l && i.kind == ItemKind::Flagged));
            }
        }
    }
}

#[test]
fn the_first_screen_comes_first_and_reads_per_iteration() {
    let r = report("resnet50_fp16_nchw_cpupre.sqlite");
    let html = String::from_utf8(report::html::render(&r)).unwrap();
    let at = |id: &str| {
        html.find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert!(at("timeline") < at("fix-first"));
    assert!(at("fix-first") < at("attribution"));
    assert!(at("attribution") < at("findings"));
    // The GPU is named in the header, before the timeline.
    assert!(html.find("NVIDIA H100 80GB HBM3").unwrap() < at("timeline"));
    // Per iteration: the top finding's window stake divided by 12.
    let f = &r.findings[0];
    let per = trace_report::text::format::ns(f.time_at_stake_ns / 12);
    assert!(html.contains(&format!("<td class=\"n\">{per}<br>")), "{per}");
    // The best case: mean iteration time less the stake per iteration.
    let mean = r.iteration_time.as_ref().unwrap().mean_ns;
    let best = trace_report::text::format::ns(mean - f.time_at_stake_ns / 12);
    assert!(html.contains(&format!("no less than ~{best}")), "{best}");
    // Charts scale with the page; no fixed-width SVG.
    assert!(!html.contains("<svg width=\"860\""));
    assert!(html.matches("<svg width=\"100%\"").count() >= 3);
    // Counts are integers, facts have human labels, no "(1 rows)".
    assert!(!html.contains(".000<"), "a count printed as a float");
    assert!(!html.contains("at_stake"));
    assert!(!html.contains("from nvtx ranges"));
    assert!(!html.contains("(1 rows)"));
}

/// Finding headings and the Fix first section, without secondary text.
fn primary_text(html: &str) -> String {
    let mut out = String::new();
    let fix = html.find("id=\"fix-first\"").unwrap_or(0);
    let end = html[fix..].find("<h2").map_or(html.len(), |e| fix + e);
    out.push_str(&html[fix..end]);
    for part in html.split("<h3").skip(1) {
        out.push_str(part.split("</h3>").next().unwrap_or(""));
    }
    // Drop <span class="sub">...</span> (secondary text).
    let mut clean = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find("<span class=\"sub\">") {
        clean.push_str(&rest[..i]);
        rest = rest[i..].find("</span>").map_or("", |j| &rest[i + j..]);
    }
    clean.push_str(rest);
    clean
}

/// The window total of a time, as titles would print it.
fn window_label(total: i64) -> String {
    trace_report::text::format::ns(total)
}

#[test]
fn finding_titles_state_time_per_iteration_and_never_lead_with_window_totals() {
    for name in SAMPLES {
        let r = report(name);
        let n = r.window.iterations.max(1) as i64;
        let html = String::from_utf8(report::html::render(&r)).unwrap();
        let md = String::from_utf8(report::markdown::render(&r)).unwrap();
        for f in &r.findings {
            // A title that names the stake names it per iteration: the
            // window total divided by the iteration count (the oracle is
            // the finding's own window total, not the title).
            if f.title.contains("GPU idle ") {
                let per = format!("{} per iteration", window_label(f.time_at_stake_ns / n));
                let involved = f.title.contains(&per) || f.title.contains(" per iteration (");
                assert!(involved, "{name}: {}", f.title);
            }
            if n > 1 && f.time_at_stake_ns >= 1_000_000 {
                let total = window_label(f.time_at_stake_ns);
                assert!(
                    !f.title.contains(&total),
                    "{name}: window total in the title: {}",
                    f.title
                );
                // In the HTML's headings and Fix first the window total is
                // only secondary text.
                let primary = primary_text(&html);
                assert!(!primary.contains(&total), "{name}: {total} as a primary figure");
            }
        }
        // Markdown's Fix first rows lead with the per-iteration stake.
        if let Some(top) = r.findings.iter().max_by_key(|f| f.time_at_stake_ns) {
            let per = trace_report::text::format::ns(top.time_at_stake_ns / n);
            assert!(md.contains(&format!("| {per} (")), "{name}: {per}");
        }
    }
}

#[test]
fn an_idle_gpu_says_what_it_waits_on_and_a_copying_gpu_says_so() {
    let idle = report("resnet50_fp16_nchw_cpupre.sqlite");
    let a = &idle.attribution.window;
    assert!(
        a.activity.gpu_idle_ns * 2 > a.total_ns,
        "the oracle's premise: idle most of the time"
    );
    let text = report::terminal::render(&idle);
    assert!(
        text.contains("The GPU is idle") && text.contains("host work"),
        "{text}"
    );
    let copying = report("redundant_copies.sqlite");
    let a = &copying.attribution.window;
    assert!(
        a.activity.memcpy_ns > a.activity.kernel_ns,
        "the oracle's premise: mostly copies"
    );
    let html = String::from_utf8(report::html::render(&copying)).unwrap();
    assert!(html.contains("busy copying, not computing"));
    let md = String::from_utf8(report::markdown::render(&copying)).unwrap();
    assert!(md.contains("mostly copying memory"), "{md}");
}

#[test]
fn markdown_renders_on_github_and_stays_short() {
    for name in SAMPLES {
        let r = report(name);
        let md = String::from_utf8(report::markdown::render(&r)).unwrap();
        let words = words_above_the_fold(&md);
        assert!(words <= 350, "{name}: {words} words above the fold\n{md}");
        let out = gfm(&md);
        assert!(out.contains("<details>") && out.contains("<summary>"), "{name}");
        if !r.findings.is_empty() {
            // The Fix first table and the folded tables render as tables.
            assert!(out.matches("<table>").count() >= 2, "{name}: {out}");
            let fix = out.split("Fix first").nth(1).unwrap();
            let rows = fix.split("</table>").next().unwrap().matches("<tr>").count();
            let (fixes, _) = report::summary::fixes(&r);
            assert_eq!(rows, 1 + fixes.len().min(3), "{name}: header + top 3 fixes");
        }
        assert!(!md.contains("at\\_stake\\_ns"), "{name}: raw keys");
    }
}
