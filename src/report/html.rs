//! `report.html`: one self-contained page (inline CSS and SVG, no scripts,
//! no fonts or images from the network). Every string from the trace goes
//! through [`escape::html`].

use std::fmt::Write;

use super::table::{self, Cell, Table};
use super::{charts, copies, phase_table, summary};
use crate::document::Report;
use crate::model::Ns;
use crate::text::escape::{html as h, truncate};
use crate::text::format::{ns, pct};

/// The shared stylesheet, inlined in every page.
pub const CSS: &str = include_str!("style.css");

/// The full page: headline and one iteration first, then what to fix
/// first, where the time goes, and the details.
pub fn render(r: &Report) -> Vec<u8> {
    let mut s = String::with_capacity(64 * 1024);
    let file = r.source.path.rsplit(['/', '\\']).next().unwrap_or(&r.source.path);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <title>trace-report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        h(file)
    );
    header(&mut s, r, file);
    super::overview::section(&mut s, r);
    super::html_findings::fix_first(&mut s, r);
    attribution(&mut s, r);
    // What the host ran while the GPU waited, right after the attribution
    // it explains.
    super::host_work::html(&mut s, r);
    super::html_findings::section(&mut s, r);
    super::html_engine::render(&mut s, r);
    iterations(&mut s, r);
    kernels(&mut s, r);
    super::html_tensor::section(&mut s, r);
    super::html_roofline::section(&mut s, r);
    memcpy(&mut s, r);
    environment(&mut s, r);
    s.push_str("</main>\n</body>\n</html>\n");
    s.into_bytes()
}

fn header(s: &mut String, r: &Report, file: &str) {
    let a = &r.attribution.window;
    let total = a.total_ns;
    let gpus = super::terminal::gpu_list(r);
    let _ = writeln!(s, "<h1>{}</h1>", h(file));
    let _ = writeln!(
        s,
        "<div class=\"sub\">{} · {} · {} · {}</div>",
        h(&if gpus.is_empty() {
            "GPU unknown".to_string()
        } else {
            gpus.join(" + ")
        }),
        h(&r.source.format),
        h(r.source
            .profiler_version
            .as_deref()
            .unwrap_or("profiler version unknown")),
        h(&r.window.reason)
    );
    let _ = writeln!(s, "<p class=\"headline\">{}</p>", h(&summary::headline(r)));
    s.push_str("<div class=\"cards\">\n");
    match &r.iteration_time {
        Some(t) => card(
            s,
            "iteration time (p50)",
            &ns(t.p50_ns),
            &format!(
                "mean {} · p90 {} · max {} · {} iterations",
                ns(t.mean_ns),
                ns(t.p90_ns),
                ns(t.max_ns),
                t.count
            ),
        ),
        None => card(s, "window", &ns(total), "no iteration ranges"),
    }
    let gpu = r.source.gpus.first();
    card(
        s,
        "GPU",
        &gpu.map_or("unknown".to_string(), |g| g.name.clone()),
        &match (gpus.len(), gpu.and_then(|g| g.compute_capability.as_deref())) {
            (0, _) => "the input names no GPU".to_string(),
            (_, Some(cc)) if r.source.gpus.len() == 1 => format!("compute capability {cc}"),
            _ => gpus.join(" + "),
        },
    );
    card(
        s,
        "GPU busy",
        &pct(total - a.activity.gpu_idle_ns, total),
        &summary::busy_note(r),
    );
    let (fixes, folded) = summary::fixes(r);
    card(
        s,
        "fix first",
        &fixes.first().map_or("nothing".to_string(), |f| {
            format!("{} {}", f.finding.code, f.finding.rule)
        }),
        &fixes
            .first()
            .map(|f| {
                format!(
                    "up to {} {} · {} findings",
                    ns(f.stake_ns),
                    summary::unit(r),
                    fixes.len() + folded.len()
                )
            })
            .unwrap_or_else(|| "no rule fired".into()),
    );
    s.push_str("</div>\n");
}

/// One headline card: a label, its value and a note (every text escaped).
pub fn card(s: &mut String, label: &str, value: &str, note: &str) {
    let _ = writeln!(
        s,
        "<div class=\"card\"><div class=\"l\">{}</div><div class=\"v\">{}</div><div class=\"sub\">{}</div></div>",
        h(label),
        h(value),
        h(note)
    );
}

fn attribution(s: &mut String, r: &Report) {
    let a = &r.attribution.window;
    let total = a.total_ns;
    let unit = summary::unit(r);
    let per = |v: Ns| ns(summary::per_iteration(r, v));
    let _ = writeln!(s, "<h2 id=\"attribution\">Where the time goes ({unit})</h2>");
    let _ = writeln!(
        s,
        "<p class=\"sub\">Every nanosecond of the window ({} in total{}) is counted once: kernel if any kernel runs on any GPU, else memcpy, else memset, else GPU idle split by what the host was doing (sync wait, launching, busy elsewhere). Phases come from NVTX ranges nested in each iteration. Times are {unit}; shares are of the window.</p>",
        ns(total),
        if r.window.iterations > 0 {
            format!(", {} iterations", r.window.iterations)
        } else {
            String::new()
        }
    );
    s.push_str(&table::bucket_legend());
    let chart = charts::attribution(r);
    if !chart.is_empty() {
        let _ = writeln!(s, "<div class=\"chart\">{chart}</div>");
    }
    let mut cols: Vec<(&str, bool)> = vec![("phase", false), (unit, true), ("share", true)];
    cols.extend(phase_table::BUCKET_LABELS.iter().map(|b| (*b, true)));
    let mut t = Table::new(&cols);
    let row = |row: &phase_table::Row, bold: bool| {
        let mut v = vec![
            if bold {
                Cell::bold(row.label)
            } else {
                Cell::text(row.label)
            },
            Cell::num(per(row.total_ns)),
            Cell::num(pct(row.total_ns, total)),
        ];
        v.extend(row.buckets.iter().map(|&b| Cell::num(per(b))));
        v
    };
    for p in phase_table::phases(r) {
        t.row(row(&p, false));
    }
    t.footer.push(row(&phase_table::total(r), true));
    s.push_str(&t.html());
    if r.attribution.devices.len() > 1 {
        let _ = writeln!(s, "<h3>Per GPU ({unit})</h3>");
        let mut t = Table::new(&[
            ("GPU", false),
            ("kernel", true),
            ("memcpy", true),
            ("memset", true),
            ("idle", true),
        ]);
        for d in &r.attribution.devices {
            t.row(vec![
                Cell::text(format!("{} {}", d.id, d.name)),
                Cell::num(per(d.kernel_ns)),
                Cell::num(per(d.memcpy_ns)),
                Cell::num(per(d.memset_ns)),
                Cell::num(per(d.gpu_idle_ns)),
            ]);
        }
        s.push_str(&t.html());
    }
}

fn iterations(s: &mut String, r: &Report) {
    if r.iterations.is_empty() {
        return;
    }
    s.push_str("<h2 id=\"iterations\">Iterations</h2>\n");
    if let Some(t) = &r.iteration_time {
        let _ = writeln!(
            s,
            "<p>{} iterations: mean {}, p50 {}, p90 {}, min {}, max {}, standard deviation {}.</p>",
            t.count,
            ns(t.mean_ns),
            ns(t.p50_ns),
            ns(t.p90_ns),
            ns(t.min_ns),
            ns(t.max_ns),
            ns(t.stddev_ns)
        );
    }
    let chart = charts::iterations(r);
    if !chart.is_empty() {
        s.push_str(&table::bucket_legend());
        let _ = writeln!(s, "<div class=\"chart\">{chart}</div>");
    }
    let mut t = Table::new(&[
        ("iteration", true),
        ("duration", true),
        ("kernel", true),
        ("memcpy", true),
        ("idle: sync", true),
        ("idle: launch", true),
        ("idle: host", true),
    ]);
    for it in &r.iterations {
        t.row(vec![
            Cell::num(it.index.to_string()),
            Cell::num(ns(it.duration_ns)),
            Cell::num(ns(it.activity.kernel_ns)),
            Cell::num(ns(it.activity.memcpy_ns)),
            Cell::num(ns(it.gpu_idle.sync_ns)),
            Cell::num(ns(it.gpu_idle.launch_ns)),
            Cell::num(ns(it.gpu_idle.host_ns)),
        ]);
    }
    let _ = writeln!(
        s,
        "<details><summary>every iteration ({})</summary>{}</details>",
        table::plural(r.iterations.len(), "row", "rows"),
        t.html()
    );
}

fn kernels(s: &mut String, r: &Report) {
    s.push_str("<h2 id=\"kernels\">Kernels</h2>\n");
    if r.kernels.is_empty() {
        s.push_str("<p>No kernels started in the window.</p>\n");
        return;
    }
    let chart = charts::top_kernels(r, 12);
    if !chart.is_empty() {
        let _ = writeln!(s, "<div class=\"chart\">{chart}</div>");
    }
    let unit = summary::unit(r);
    let ktotal: i64 = r.kernels.iter().map(|k| k.total_ns).sum();
    let shown = r.kernels.len().min(50);
    let _ = writeln!(
        s,
        "<p class=\"sub\">{shown} of {} kernel names, by total time (kernels whose GPU start lies in the window); calls and time {unit}, the window total in the last column.</p>",
        r.kernels.len()
    );
    let mut t = Table::new(&[
        ("kernel", false),
        ("category", false),
        (
            if r.window.iterations > 0 {
                "calls / iteration"
            } else {
                "calls"
            },
            true,
        ),
        (unit, true),
        ("share", true),
        ("mean", true),
        ("min", true),
        ("max", true),
        ("window total", true),
    ]);
    let n = summary::iterations(r) as f64;
    for k in r.kernels.iter().take(shown) {
        t.row(vec![
            Cell::name(truncate(&k.name, 200)).titled(truncate(&k.name, 2000)),
            Cell::text(k.category.label()),
            Cell::num(summary::number(k.count as f64 / n)),
            Cell::num(ns(summary::per_iteration(r, k.total_ns))),
            Cell::num(pct(k.total_ns, ktotal)),
            Cell::num(ns(k.mean_ns)),
            Cell::num(ns(k.min_ns)),
            Cell::num(ns(k.max_ns)),
            Cell::num(ns(k.total_ns)),
        ]);
    }
    s.push_str(&t.html());
}

fn memcpy(s: &mut String, r: &Report) {
    let unit = summary::unit(r);
    let _ = writeln!(s, "<h2 id=\"memcpy\">Memory copies ({unit})</h2>");
    if r.memcpy.is_empty() && r.memset.count == 0 {
        s.push_str("<p>No copies or memsets started in the window.</p>\n");
        return;
    }
    s.push_str(&copies::table(r, true).html());
}

fn environment(s: &mut String, r: &Report) {
    s.push_str("<h2 id=\"environment\">Environment</h2>\n<table>\n");
    let mut row = |k: &str, v: &str| {
        let _ = writeln!(s, "<tr><th>{}</th><td>{}</td></tr>", h(k), h(v));
    };
    row("trace", &r.source.path);
    row("format", &r.source.format);
    row(
        "profiler",
        r.source.profiler_version.as_deref().unwrap_or("unknown"),
    );
    if let Some(v) = &r.source.export_schema_version {
        row("export schema", v);
    }
    for g in &r.source.gpus {
        let cc = g
            .compute_capability
            .as_deref()
            .map(|c| format!(" (compute capability {c})"))
            .unwrap_or_default();
        row(&format!("GPU {}", g.id), &format!("{}{cc}", g.name));
    }
    row(
        "window",
        &format!(
            "{}: {} from {} to {} ns ({} iterations)",
            r.window.reason,
            ns(r.window.duration_ns),
            r.window.start_ns,
            r.window.end_ns,
            r.window.iterations
        ),
    );
    row("generator", &r.generator);
    s.push_str("</table>\n");
    if !r.warnings.is_empty() {
        s.push_str("<h3>Input warnings</h3><ul class=\"warnings\">\n");
        for w in &r.warnings {
            let _ = writeln!(s, "<li>{}</li>", h(w));
        }
        s.push_str("</ul>\n");
    }
}
