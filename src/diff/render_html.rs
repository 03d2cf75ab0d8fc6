//! `diff.html`: one self-contained page (inline CSS and SVG, no scripts, no
//! network) with both sides side by side. Every string from a trace goes
//! through [`escape::html`](crate::text::escape::html).

use std::fmt::Write;

use super::Diff;
use super::findings::Status;
use super::matching::{KernelDelta, KernelRef, Match};
use super::text::{count, delta, measure, ns, pct, sample_sizes};
use crate::model::Ns;
use crate::report::charts;
use crate::report::table::{Cell, Table};
use crate::text::escape::{html as h, truncate};
use crate::text::format;

/// Rows of the kernel table and bars of its chart.
const TOP_KERNELS: usize = 50;
const TOP_BARS: usize = 15;

use crate::report::html::CSS;

/// The full page.
pub fn render(d: &Diff) -> Vec<u8> {
    let mut s = String::with_capacity(96 * 1024);
    let title = format!("{} vs {}", d.base.file_name(), d.new.file_name());
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <title>trace-report diff: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        h(&title)
    );
    header(&mut s, d);
    iterations(&mut s, d);
    attribution(&mut s, d);
    kernels(&mut s, d);
    memcpy(&mut s, d);
    tensor_cores(&mut s, d);
    super::work::html(&mut s, d);
    findings(&mut s, d);
    sources(&mut s, d);
    s.push_str("</main>\n</body>\n</html>\n");
    s.into_bytes()
}

fn card(s: &mut String, class: &str, label: &str, value: &str, note: &str) {
    let _ = writeln!(
        s,
        "<div class=\"card {class}\"><div class=\"l\">{}</div><div class=\"v\">{}</div><div class=\"sub\">{}</div></div>",
        h(label),
        h(value),
        h(note)
    );
}

use super::tables::tone;

fn header(s: &mut String, d: &Diff) {
    let v = &d.verdict;
    let _ = writeln!(s, "<h1>{} → {}</h1>", h(d.base.file_name()), h(d.new.file_name()));
    let _ = writeln!(
        s,
        "<div class=\"sub\">{}: {}</div>",
        v.verdict.label(),
        h(&measure(d, "→"))
    );
    s.push_str("<div class=\"cards\">\n");
    card(
        s,
        &format!("verdict-{}", v.verdict.label()),
        "verdict",
        v.verdict.label(),
        &v.reason,
    );
    card(
        s,
        "",
        "change",
        &pct(v.change_pct),
        &match v.ci_pct {
            Some([lo, hi]) => format!("{:.0}% CI {lo:+.2}% .. {hi:+.2}%", v.confidence * 100.0),
            None => "no confidence interval".into(),
        },
    );
    card(
        s,
        "",
        match v.basis {
            super::stats::Basis::Iterations => "mean iteration",
            super::stats::Basis::WindowTotals => "window",
            super::stats::Basis::EngineInference => "one inference",
        },
        &format!("{} → {}", ns(v.base_ns), ns(v.new_ns)),
        &sample_sizes(d),
    );
    s.push_str("</div>\n");
    let _ = writeln!(s, "<p class=\"sub\">Test: {}.</p>", h(&v.test));
    if !d.comparability.is_empty() {
        s.push_str("<div class=\"warnings\"><b>Not fully comparable</b><ul>\n");
        for w in &d.comparability {
            let _ = writeln!(s, "<li>{}</li>", h(w));
        }
        s.push_str("</ul></div>\n");
    }
}

fn iterations(s: &mut String, d: &Diff) {
    s.push_str("<h2 id=\"iterations\">Iteration time</h2>\n");
    if d.base.iteration_ns.is_empty() && d.new.iteration_ns.is_empty() {
        let _ = writeln!(
            s,
            "<p>Neither side has iterations: windows of {} and {} are compared.</p>",
            format::ns(d.base.window_ns),
            format::ns(d.new.window_ns)
        );
        return;
    }
    let chart = charts::distributions(
        "Iteration times (dots) and means (bars)",
        &[
            ("BASE".to_string(), d.base.iteration_ns.clone()),
            ("NEW".to_string(), d.new.iteration_ns.clone()),
        ],
    );
    if !chart.is_empty() {
        let _ = writeln!(s, "<div class=\"chart\">{chart}</div>");
    }
    s.push_str(&super::tables::iterations(d).html());
}

fn buckets(d: &Diff, side_new: bool) -> [Ns; 6] {
    let get = |group: &str, name: &str| {
        d.attribution
            .iter()
            .find(|a| a.group == group && a.name == name)
            .map_or(0, |a| if side_new { a.new_ns } else { a.base_ns }.round() as Ns)
    };
    [
        get("activity", "kernel"),
        get("activity", "memcpy"),
        get("activity", "memset"),
        get("gpu_idle", "sync"),
        get("gpu_idle", "launch"),
        get("gpu_idle", "host"),
    ]
}

fn attribution(s: &mut String, d: &Diff) {
    let unit = d.normalization.unit();
    let _ = writeln!(s, "<h2 id=\"attribution\">Where the time goes ({unit})</h2>");
    let _ = writeln!(s, "<p class=\"sub\">{}.</p>", h(&d.normalization.explain()));
    s.push_str(&crate::report::table::bucket_legend());
    let chart = charts::stacked(
        &format!("GPU activity, {unit}"),
        &[
            ("BASE".to_string(), buckets(d, false)),
            ("NEW".to_string(), buckets(d, true)),
        ],
    );
    if !chart.is_empty() {
        let _ = writeln!(s, "<div class=\"chart\">{chart}</div>");
    }
    s.push_str(&super::tables::attribution(d).html());
}

/// Kernels of a row shown before the rest fold away.
const NAMES_SHOWN: usize = 3;

fn names(v: &[KernelRef]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    let one = |k: &KernelRef| {
        format!(
            "<span title=\"{}\">{}</span> ({}×, {})",
            h(&truncate(&k.name, 2000)),
            h(&truncate(&k.short_name, 160)),
            k.count,
            format::ns(k.total_ns)
        )
    };
    let head: Vec<String> = v.iter().take(NAMES_SHOWN).map(one).collect();
    let mut out = head.join("<br>");
    if v.len() > NAMES_SHOWN {
        let rest: Vec<String> = v.iter().skip(NAMES_SHOWN).map(one).collect();
        let _ = write!(
            out,
            "<details><summary>{} more</summary>{}</details>",
            v.len() - NAMES_SHOWN,
            rest.join("<br>")
        );
    }
    out
}

fn kernel_rows(s: &mut String, rows: &[&KernelDelta]) {
    s.push_str("<table><tr><th>BASE kernels</th><th>NEW kernels</th><th>match</th><th>category</th><th class=\"n\">BASE</th><th class=\"n\">NEW</th><th class=\"n\">Δ</th><th class=\"n\">change</th><th class=\"n\">calls</th></tr>\n");
    for k in rows {
        let _ = writeln!(
            s,
            "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n {}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{} → {}</td></tr>",
            names(&k.base),
            names(&k.new),
            k.matched.label(),
            k.category.label(),
            ns(k.base_ns),
            ns(k.new_ns),
            tone(k.delta_ns),
            delta(k.delta_ns),
            pct(k.change_pct),
            count(k.base_count),
            count(k.new_count)
        );
    }
    s.push_str("</table>\n");
}

/// A chart label that shows both sides of a matched group.
fn bar_label(k: &KernelDelta) -> String {
    match (k.matched, k.base.first(), k.new.first()) {
        (Match::Family | Match::Role, Some(b), Some(n)) => format!(
            "{}: {} → {}",
            k.category.label(),
            truncate(&b.short_name, 14),
            truncate(&n.short_name, 14)
        ),
        _ => k.label(),
    }
}

fn kernels(s: &mut String, d: &Diff) {
    let unit = d.normalization.unit();
    s.push_str("<h2 id=\"kernels\">Kernels</h2>\n");
    if d.kernels.is_empty() {
        s.push_str("<p>No kernels on either side.</p>\n");
        return;
    }
    let _ = writeln!(s, "<h3>By category ({unit})</h3>");
    s.push_str(&super::tables::categories(d).html());
    let _ = writeln!(s, "<h3>By kernel ({unit})</h3>");
    let bars: Vec<(String, f64)> = d
        .kernels
        .iter()
        .filter(|k| k.delta_ns != 0.0)
        .take(TOP_BARS)
        .map(|k| (bar_label(k), k.delta_ns))
        .collect();
    let chart = charts::diverging(&format!("Largest kernel time changes, {unit}"), &bars);
    if !chart.is_empty() {
        let _ = writeln!(s, "<div class=\"chart\">{chart}</div>");
    }
    let _ = writeln!(
        s,
        "<p class=\"sub\">Matched by demangled name, then by family (category and name without tile, stage, alignment, precision and layout tokens), then by role (GEMM, convolution and attention kernels are interchangeable implementations); the rest appeared or disappeared. Ordered by time impact, {unit}; {} of {} rows shown.</p>",
        d.kernels.len().min(TOP_KERNELS),
        d.kernels.len()
    );
    let top: Vec<&KernelDelta> = d.kernels.iter().take(TOP_KERNELS).collect();
    kernel_rows(s, &top);
    for (m, title) in [(Match::Disappeared, "Disappeared"), (Match::Appeared, "Appeared")] {
        let rows: Vec<&KernelDelta> = d.kernels_matched(m).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "<h3>{title}: {} kernel(s), {} {unit}</h3>",
            rows.len(),
            delta(rows.iter().map(|k| k.delta_ns).sum())
        );
        kernel_rows(s, &rows);
    }
}

fn memcpy(s: &mut String, d: &Diff) {
    let unit = d.normalization.unit();
    let _ = writeln!(s, "<h2 id=\"memcpy\">Memory copies ({unit})</h2>");
    if d.memcpy.is_empty() {
        s.push_str("<p>No copies or memsets on either side.</p>\n");
        return;
    }
    s.push_str(&super::tables::memcpy(d).html());
}

fn tensor_cores(s: &mut String, d: &Diff) {
    if let Some(p) = &d.precision {
        let _ = writeln!(
            s,
            "<div class=\"finding {}\"><b>{}INT8 against {}</b>: {}</div>",
            if p.int8_slower { "warning" } else { "info" },
            if p.int8_slower {
                "int8-slower (TR404): "
            } else {
                ""
            },
            h(if p.int8_side == "new" {
                &p.base_precision
            } else {
                &p.new_precision
            }),
            h(&p.summary)
        );
    }
    let Some(t) = &d.tensor_cores else { return };
    let unit = d.normalization.unit();
    let share = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.1}%", v * 100.0));
    let _ = writeln!(
        s,
        "<h2 id=\"tensor-cores\">Tensor Cores</h2>\n<table><tr><th></th><th class=\"n\">BASE</th><th class=\"n\">NEW</th></tr>\n\
         <tr><td>share of eligible time on Tensor Cores</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n\
         <tr><td>eligible matrix time ({unit})</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n\
         <tr><td>on Tensor Cores ({unit})</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n\
         <tr><td>unknown ({unit})</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr></table>",
        share(t.base_share),
        share(t.new_share),
        ns(t.base_eligible_ns),
        ns(t.new_eligible_ns),
        ns(t.base_tensor_core_ns),
        ns(t.new_tensor_core_ns),
        ns(t.base_unknown_ns),
        ns(t.new_unknown_ns)
    );
}

fn findings(s: &mut String, d: &Diff) {
    let _ = writeln!(
        s,
        "<h2 id=\"findings\">Findings ({})</h2>",
        d.normalization.unit()
    );
    if d.findings.is_empty() {
        s.push_str("<p>No findings on either side.</p>\n");
        return;
    }
    s.push_str(&super::tables::findings(d, false, usize::MAX).html());
    let unchanged = d
        .findings
        .iter()
        .filter(|f| f.status == Status::Unchanged)
        .count();
    if unchanged > 0 {
        let _ = writeln!(s, "<p class=\"sub\">{unchanged} finding(s) unchanged.</p>");
    }
}

fn sources(s: &mut String, d: &Diff) {
    s.push_str("<h2 id=\"sources\">Inputs</h2>\n");
    let mut t = Table::new(&[("", false), ("BASE", false), ("NEW", false)]);
    let (b, n) = (&d.base, &d.new);
    let mut row = |k: &str, b: Cell, n: Cell| t.row(vec![Cell::bold(k), b, n]);
    // Paths break anywhere so a long one cannot push the table off the page.
    row("file", Cell::name(&b.path), Cell::name(&n.path));
    let kind = |x: super::input::InputKind| match x {
        super::input::InputKind::Trace => "trace",
        super::input::InputKind::Report => "saved report",
    };
    row("input", Cell::text(kind(b.input)), Cell::text(kind(n.input)));
    row("trace", Cell::name(&b.source_path), Cell::name(&n.source_path));
    row("format", Cell::text(&b.format), Cell::text(&n.format));
    row(
        "GPUs",
        Cell::text(b.gpus.join(", ")),
        Cell::text(n.gpus.join(", ")),
    );
    let structure = |x: &super::Side| match &x.iteration_range {
        Some(r) => format!(
            "{} '{r}' iterations, window {}",
            x.iterations,
            format::ns(x.window_ns)
        ),
        None => format!("no iterations, window {}", format::ns(x.window_ns)),
    };
    row("window", Cell::text(structure(b)), Cell::text(structure(n)));
    row("generator", Cell::text(&b.generator), Cell::text(&n.generator));
    s.push_str(&t.html());
    let warnings: Vec<String> = b
        .warnings
        .iter()
        .map(|w| format!("BASE: {w}"))
        .chain(n.warnings.iter().map(|w| format!("NEW: {w}")))
        .collect();
    if !warnings.is_empty() {
        s.push_str("<h3>Input warnings</h3><ul>\n");
        for w in warnings {
            let _ = writeln!(s, "<li>{}</li>", h(&w));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("<h3>Notes</h3><ul>\n");
    for note in &d.notes {
        let _ = writeln!(s, "<li>{}</li>", h(note));
    }
    let _ = writeln!(s, "<li>{}</li></ul>", h(&d.generator));
}
