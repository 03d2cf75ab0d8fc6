//! `report.html`: one self-contained page (inline CSS and SVG, no scripts,
//! no fonts or images from the network). Every string from the trace goes
//! through [`escape::html`].

use std::fmt::Write;

use super::{charts, phase_table};
use crate::document::Report;
use crate::text::escape::{html as h, truncate};
use crate::text::format::{bytes, ns, pct};

/// The shared stylesheet, inlined in every page.
pub const CSS: &str = include_str!("style.css");

/// The full page.
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
    super::html_findings::section(&mut s, r);
    super::html_engine::render(&mut s, r);
    attribution(&mut s, r);
    super::host_work::html(&mut s, r);
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
    let _ = writeln!(s, "<h1>{}</h1>", h(file));
    let _ = writeln!(
        s,
        "<div class=\"sub\">{} · {} · {}</div>",
        h(&r.source.format),
        h(r.source
            .profiler_version
            .as_deref()
            .unwrap_or("profiler version unknown")),
        h(&r.window.reason)
    );
    let (big, big_ns) = super::terminal::biggest_bucket(r);
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
    card(
        s,
        "GPU busy",
        &pct(total - a.activity.gpu_idle_ns, total),
        &format!(
            "kernels {} · copies {}",
            pct(a.activity.kernel_ns, total),
            pct(a.activity.memcpy_ns, total)
        ),
    );
    card(
        s,
        "biggest bucket",
        big,
        &format!("{} of the window ({})", pct(big_ns, total), ns(big_ns)),
    );
    card(
        s,
        "findings",
        &r.findings.len().to_string(),
        &r.findings
            .first()
            .map(|f| format!("top: {} ({} at stake)", f.rule, ns(f.time_at_stake_ns)))
            .unwrap_or_else(|| "nothing to fix found".into()),
    );
    s.push_str("</div>\n");
}

fn card(s: &mut String, label: &str, value: &str, note: &str) {
    let _ = writeln!(
        s,
        "<div class=\"card\"><div class=\"l\">{}</div><div class=\"v\">{}</div><div class=\"sub\">{}</div></div>",
        h(label),
        h(value),
        h(note)
    );
}

fn legend(s: &mut String) {
    s.push_str("<div class=\"legend\">");
    for (name, color) in charts::BUCKETS {
        let _ = write!(
            s,
            "<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>",
            charts::css(color),
            h(name)
        );
    }
    s.push_str("</div>\n");
}

fn attribution(s: &mut String, r: &Report) {
    let a = &r.attribution.window;
    let total = a.total_ns;
    s.push_str("<h2 id=\"attribution\">Where the time goes</h2>\n");
    let _ = writeln!(
        s,
        "<p class=\"sub\">Every nanosecond of the window ({}) is counted once: kernel if any kernel runs on any GPU, else memcpy, else memset, else GPU idle split by what the host was doing (sync wait, launching, busy elsewhere). Phases come from NVTX ranges nested in each iteration.</p>",
        ns(total)
    );
    legend(s);
    let chart = charts::attribution(r);
    if !chart.is_empty() {
        let _ = writeln!(s, "<div class=\"chart\">{chart}</div>");
    }
    s.push_str("<table><tr><th>phase</th><th class=\"n\">time</th><th class=\"n\">share</th>");
    for b in phase_table::BUCKET_LABELS {
        let _ = write!(s, "<th class=\"n\">{b}</th>");
    }
    s.push_str("</tr>\n");
    let cells = |row: &phase_table::Row, cell: &str| {
        let mut t = format!(
            "<tr><{cell}>{}</{cell}><{cell} class=\"n\">{}</{cell}><{cell} class=\"n\">{}</{cell}>",
            row.label,
            ns(row.total_ns),
            pct(row.total_ns, total)
        );
        for v in row.buckets {
            let _ = write!(t, "<{cell} class=\"n\">{}</{cell}>", ns(v));
        }
        t.push_str("</tr>\n");
        t
    };
    for row in phase_table::phases(r) {
        s.push_str(&cells(&row, "td"));
    }
    s.push_str(&cells(&phase_table::total(r), "th"));
    s.push_str("</table>\n");
    if r.attribution.devices.len() > 1 {
        s.push_str("<h3>Per GPU</h3><table><tr><th>GPU</th><th class=\"n\">kernel</th><th class=\"n\">memcpy</th><th class=\"n\">memset</th><th class=\"n\">idle</th></tr>\n");
        for d in &r.attribution.devices {
            let _ = writeln!(
                s,
                "<tr><td>{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                d.id,
                h(&d.name),
                ns(d.kernel_ns),
                ns(d.memcpy_ns),
                ns(d.memset_ns),
                ns(d.gpu_idle_ns)
            );
        }
        s.push_str("</table>\n");
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
        legend(s);
        let _ = writeln!(s, "<div class=\"chart\">{chart}</div>");
    }
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
    let ktotal: i64 = r.kernels.iter().map(|k| k.total_ns).sum();
    let shown = r.kernels.len().min(50);
    let _ = writeln!(
        s,
        "<p class=\"sub\">{shown} of {} kernel names, by total time (kernels whose GPU start lies in the window).</p>",
        r.kernels.len()
    );
    s.push_str("<table><tr><th>kernel</th><th>category</th><th class=\"n\">calls</th><th class=\"n\">total</th><th class=\"n\">share</th><th class=\"n\">mean</th><th class=\"n\">min</th><th class=\"n\">max</th></tr>\n");
    for k in r.kernels.iter().take(shown) {
        let _ = writeln!(
            s,
            "<tr><td class=\"name\" title=\"{}\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            h(&truncate(&k.name, 2000)),
            h(&truncate(&k.name, 200)),
            k.category.label(),
            k.count,
            ns(k.total_ns),
            pct(k.total_ns, ktotal),
            ns(k.mean_ns),
            ns(k.min_ns),
            ns(k.max_ns)
        );
    }
    s.push_str("</table>\n");
}

fn memcpy(s: &mut String, r: &Report) {
    s.push_str("<h2 id=\"memcpy\">Memory copies</h2>\n");
    if r.memcpy.is_empty() && r.memset.count == 0 {
        s.push_str("<p>No copies or memsets started in the window.</p>\n");
        return;
    }
    s.push_str("<table><tr><th>kind</th><th class=\"n\">count</th><th class=\"n\">bytes</th><th class=\"n\">total</th><th class=\"n\">pageable</th></tr>\n");
    for m in &r.memcpy {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            h(&m.kind),
            m.count,
            bytes(m.bytes),
            ns(m.total_ns),
            m.pageable_count
        );
    }
    if r.memset.count > 0 {
        let _ = writeln!(
            s,
            "<tr><td>memset</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">-</td></tr>",
            r.memset.count,
            bytes(r.memset.bytes),
            ns(r.memset.total_ns)
        );
    }
    s.push_str("</table>\n");
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
