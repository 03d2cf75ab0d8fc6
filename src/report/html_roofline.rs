//! The roofline section of `report.html`: the GPU's roofs and where they
//! come from, a log-log roofline chart of the top kernels (points sized by
//! time, coloured by group), the "share of FLOPs vs share of time" table,
//! and per-kernel (and per-layer) work. Every name from the trace and the
//! peaks file goes through [`escape::html`](crate::text::escape::html).

use std::fmt::Write;

use crate::analysis::roofline::{self, Placement, Roof, Summary};
use crate::document::Report;
use crate::text::escape::{html as h, truncate};
use crate::text::format::ns;

/// Kernels drawn in the chart and listed in the table.
const MAX_POINTS: usize = 30;
const MAX_ROWS: usize = 25;

/// Colour of each group, in `roofline::GROUPS` order.
const COLORS: [&str; 6] = ["#1565c0", "#6a1b9a", "#ef6c00", "#c62828", "#2e7d32", "#757575"];

fn color(group: &str) -> &'static str {
    let i = roofline::GROUPS.iter().position(|g| *g == group).unwrap_or(5);
    COLORS[i]
}

/// `1.23 T` style numbers with SI prefixes.
pub fn si(v: f64, unit: &str) -> String {
    let a = v.abs();
    let (d, p) = if a >= 1e15 {
        (1e15, "P")
    } else if a >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let x = v / d;
    let digits = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{x:.digits$} {p}{unit}")
}

/// A figure the source may not know: `-` when absent.
pub fn opt_si(v: Option<f64>, unit: &str) -> String {
    v.map_or("-".into(), |v| si(v, unit))
}

/// Arithmetic intensity as text.
pub fn intensity(p: &Placement) -> String {
    match p.arithmetic_intensity {
        Some(ai) if ai >= 100.0 => format!("{ai:.0}"),
        Some(ai) if ai >= 1.0 => format!("{ai:.1}"),
        Some(ai) => format!("{ai:.3}"),
        None => "-".into(),
    }
}

/// `82% of compute` / `-`.
pub fn roof_text(p: &Placement) -> String {
    match (p.roof_percent, p.roof) {
        (Some(x), Some(r)) => format!(
            "{x:.0}% of {}",
            match r {
                Roof::Memory => "memory",
                Roof::Compute => "compute",
            }
        ),
        _ => "-".into(),
    }
}

/// Append the section to `s`.
pub fn section(s: &mut String, r: &Report) {
    let x = &r.roofline;
    s.push_str("<h2 id=\"roofline\">Roofline: FLOPs are not speed</h2>\n");
    let with_work: Vec<_> = r.kernels.iter().filter(|k| k.roofline.is_some()).collect();
    let layers_with_work = r
        .engine
        .as_ref()
        .map_or(0, |e| e.layers.iter().filter(|l| l.roofline.is_some()).count());
    peaks_line(s, x);
    for n in &x.notes {
        let _ = writeln!(s, "<p class=\"note\">{}</p>", h(n));
    }
    if with_work.is_empty() && layers_with_work == 0 && x.copies.is_empty() {
        return;
    }
    // Times, FLOPs and bytes per iteration (window totals secondary);
    // rates and shares are the same either way.
    let its = super::summary::iterations(r);
    if !with_work.is_empty() {
        let _ = writeln!(
            s,
            "<p>{} of {} kernel names ({} of {} kernel time {unit}) have work: {}. {} FLOPs and {} moved {unit}{}.</p>",
            with_work.len(),
            r.kernels.len(),
            ns(x.kernel_ns_with_work / its),
            ns(x.kernel_ns / its),
            sources(x),
            x.flops.map_or("Unknown".into(), |f| si(f / its as f64, "")),
            si(x.bytes.unwrap_or(0.0) / its as f64, "B"),
            if its > 1 {
                format!(
                    " ({} FLOPs and {} in the window)",
                    x.flops.map_or("unknown".into(), |f| si(f, "")),
                    si(x.bytes.unwrap_or(0.0), "B")
                )
            } else {
                String::new()
            },
            unit = super::summary::unit(r),
        );
        chart(s, r);
        shares(s, x, its, super::summary::unit(r));
        kernel_table(s, r, its);
    }
    for c in &x.copies {
        let _ = writeln!(
            s,
            "<p>Device-to-device copies: {} copies moved {} (each byte read and written once) in {}: {}/s{}.</p>",
            c.count,
            si(c.bytes, "B"),
            ns(c.total_ns),
            si(c.achieved_bytes_per_s, "B"),
            c.roof_percent
                .map(|p| format!(", {p:.0}% of the memory roof"))
                .unwrap_or_default()
        );
    }
    if layers_with_work > 0 {
        layer_table(s, r);
    }
}

fn sources(x: &Summary) -> String {
    let mut v = Vec::new();
    if x.sources.counters > 0 {
        v.push(format!(
            "{} from Nsight Compute counters (measured FLOPs and DRAM bytes)",
            x.sources.counters
        ));
    }
    if x.sources.shapes > 0 {
        v.push(format!(
            "{} from operator shapes (formula FLOPs, minimum bytes)",
            x.sources.shapes
        ));
    }
    if x.sources.engine_dims > 0 {
        v.push(format!(
            "{} from engine layer dimensions (formula FLOPs, tensor bytes)",
            x.sources.engine_dims
        ));
    }
    if x.sources.gpu_metrics > 0 {
        v.push(format!(
            "{} from sampled GPU metrics (measured DRAM bandwidth of long kernels, no FLOPs)",
            x.sources.gpu_metrics
        ));
    }
    v.join("; ")
}

fn peaks_line(s: &mut String, x: &Summary) {
    let Some(p) = &x.peaks else { return };
    let mut roofs = vec![format!("memory {}/s", si(p.memory_bytes_per_s, "B"))];
    for (label, v) in [
        ("FP64", p.fp64_flops),
        ("FP32", p.fp32_flops),
        ("TF32", p.tf32_flops),
        ("FP16", p.fp16_flops),
        ("BF16", p.bf16_flops),
        ("FP8", p.fp8_flops),
        ("INT8", p.int8_ops),
    ] {
        if let Some(v) = v {
            roofs.push(format!("{label} {}", si(v, "FLOP/s")));
        }
    }
    let _ = writeln!(
        s,
        "<p>Roofs of the <b>{}</b> ({}): {} (dense; FP16/BF16/TF32/FP8/INT8 on Tensor Cores). Source: {} (<code>{}</code>){}.</p>",
        h(&p.name),
        h(x.gpu.as_deref().unwrap_or("")),
        roofs.join(", "),
        h(&p.source.title),
        h(&p.source.url),
        if p.dense_from_sparse {
            "; the datasheet gives Tensor Core rates with sparsity only, dense = sparse / 2"
        } else {
            ""
        }
    );
}

/// The log-log chart: x FLOPs/byte, y FLOP/s, roofs as lines.
fn chart(s: &mut String, r: &Report) {
    let x = &r.roofline;
    let total: f64 = x.kernel_ns.max(1) as f64;
    let mut pts: Vec<(&crate::analysis::kernels::KernelRow, &Placement)> = r
        .kernels
        .iter()
        .filter_map(|k| k.roofline.as_ref().map(|p| (k, p)))
        .filter(|(_, p)| {
            p.flops.is_some_and(|f| f > 0.0) && p.bytes > 0.0 && p.achieved_flops_per_s.is_some_and(|f| f > 0.0)
        })
        .collect();
    pts.sort_by(|a, b| b.0.total_ns.cmp(&a.0.total_ns));
    pts.truncate(MAX_POINTS);
    if pts.is_empty() {
        s.push_str("<p>No kernel with both FLOPs and bytes to draw.</p>\n");
        return;
    }
    let peaks = x.peaks.as_ref();
    // Compute roofs worth drawing: those of the precisions the points use.
    let mut roofs: Vec<(String, f64)> = Vec::new();
    if let Some(p) = peaks {
        for (_, pl) in &pts {
            let prec = pl.precision.unwrap_or(if pl.tensor_core_roof {
                roofline::peaks::Precision::Fp16
            } else {
                roofline::peaks::Precision::Fp32
            });
            if let Some(v) = p.compute(prec, pl.tensor_core_roof) {
                let label = if pl.tensor_core_roof {
                    format!("{} TC", prec.label().to_uppercase())
                } else if prec == roofline::peaks::Precision::Fp64 {
                    "FP64".to_string()
                } else {
                    "FP32".to_string()
                };
                match roofs.iter_mut().find(|(_, x)| *x == v) {
                    // FP16 and BF16 share a rate: one line, both names.
                    Some((l, _)) if !l.split('/').any(|p| label.starts_with(p)) && !l.contains(&label) => {
                        *l = format!("{}/{}", label.split(' ').next().unwrap_or(""), l);
                    }
                    Some(_) => {}
                    None => roofs.push((label, v)),
                }
            }
        }
    }
    let (mut xmin, mut xmax, mut ymin, mut ymax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (_, p) in &pts {
        let ai = p.flops.unwrap_or(0.0) / p.bytes;
        xmin = xmin.min(ai);
        xmax = xmax.max(ai);
        let y = p.achieved_flops_per_s.unwrap_or(0.0);
        ymin = ymin.min(y);
        ymax = ymax.max(y);
    }
    if let Some(p) = peaks {
        for (_, v) in &roofs {
            ymax = ymax.max(*v);
            xmax = xmax.max(v / p.memory_bytes_per_s);
        }
    }
    let (lx0, lx1) = ((xmin / 3.0).log10().floor(), (xmax * 3.0).log10().ceil());
    let (ly0, ly1) = ((ymin / 3.0).log10().floor(), (ymax * 2.0).log10().ceil());
    let (w, hgt, left, right, top, bottom) = (860.0, 440.0, 78.0, 200.0, 20.0, 52.0);
    let (pw, ph) = (w - left - right, hgt - top - bottom);
    let px = |v: f64| left + (v.log10() - lx0) / (lx1 - lx0).max(1e-9) * pw;
    let py = |v: f64| top + ph - (v.log10() - ly0) / (ly1 - ly0).max(1e-9) * ph;
    // The legend above the picture, in HTML: inside it, it would share the
    // right margin with the compute roofs' labels.
    s.push_str("<div class=\"legend\">");
    for g in roofline::GROUPS {
        if pts.iter().any(|(k, _)| roofline::group(k.category) == g) {
            let _ = write!(
                s,
                "<span><i class=\"sw\" style=\"background:{};border-radius:5px\"></i>{}</span>",
                color(g),
                h(g)
            );
        }
    }
    s.push_str("</div>\n");
    let _ = write!(
        s,
        "<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {hgt}\" width=\"100%\" role=\"img\" aria-label=\"roofline chart\" font-family=\"sans-serif\" font-size=\"12\">\n<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{hgt}\" fill=\"#fff\"/>\n"
    );
    // Grid and axes, one line per decade.
    for d in (lx0 as i32)..=(lx1 as i32) {
        let xx = px(10f64.powi(d));
        let _ = writeln!(
            s,
            "<line x1=\"{xx:.1}\" y1=\"{top}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/><text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            top + ph,
            top + ph + 16.0,
            decade(d)
        );
    }
    for d in (ly0 as i32)..=(ly1 as i32) {
        let yy = py(10f64.powi(d));
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#eee\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#333\">{}</text>",
            left + pw,
            left - 6.0,
            yy + 4.0,
            si(10f64.powi(d), "")
        );
    }
    let _ = writeln!(
        s,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#999\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">arithmetic intensity (FLOPs per byte)</text>\n<text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\" fill=\"#333\">achieved FLOP/s</text>",
        left + pw / 2.0,
        hgt - 10.0,
        top + ph / 2.0
    );
    // Roofs: bandwidth x intensity up to each compute roof.
    if let Some(p) = peaks {
        let bw = p.memory_bytes_per_s;
        let x0 = 10f64.powf(lx0);
        let x1 = 10f64.powf(lx1);
        let top_roof = roofs.iter().map(|(_, v)| *v).fold(0.0, f64::max);
        let ridge = if top_roof > 0.0 { top_roof / bw } else { x1 };
        // The bandwidth line enters the plot where it crosses the bottom
        // (or the left edge) and ends at the highest compute roof.
        let start = x0.max(10f64.powf(ly0) / bw);
        let end = ridge.min(x1).max(start);
        let angle = ((ph / (ly1 - ly0).max(1e-9)) / (pw / (lx1 - lx0).max(1e-9)))
            .atan()
            .to_degrees();
        let (lx, ly) = (
            px(start) + 0.2 * (px(end) - px(start)),
            py(start * bw) + 0.2 * (py(end * bw) - py(start * bw)),
        );
        let _ = writeln!(
            s,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#000\" stroke-width=\"1.5\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#000\" transform=\"rotate({:.1} {:.1} {:.1})\">memory {}/s</text>",
            px(start),
            py(start * bw),
            px(end),
            py(end * bw),
            lx,
            ly - 6.0,
            -angle,
            lx,
            ly - 6.0,
            si(bw, "B")
        );
        for (label, v) in &roofs {
            let rx = v / bw;
            let _ = writeln!(
                s,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#000\" stroke-dasharray=\"5 3\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#000\">{} {}</text>",
                px(rx.max(x0)),
                py(*v),
                left + pw,
                py(*v),
                left + pw + 4.0,
                py(*v) + 4.0,
                h(label),
                si(*v, "FLOP/s")
            );
        }
    }
    for (k, p) in &pts {
        let share = k.total_ns as f64 / total;
        let radius = 3.0 + 15.0 * share.sqrt();
        let g = roofline::group(k.category);
        let _ = writeln!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{radius:.1}\" fill=\"{}\" fill-opacity=\"0.55\" stroke=\"{}\"><title>{} ({}): {} of kernel time, {} FLOP/B, {}FLOP/s, {}B/s, {}</title></circle>",
            px(p.flops.unwrap_or(0.0) / p.bytes),
            py(p.achieved_flops_per_s.unwrap_or(0.0)),
            color(g),
            color(g),
            h(&truncate(&k.short_name, 120)),
            h(g),
            crate::text::format::pct(k.total_ns, x.kernel_ns),
            intensity(p),
            opt_si(p.achieved_flops_per_s, ""),
            si(p.achieved_bytes_per_s, ""),
            h(&roof_text(p))
        );
    }
    s.push_str("</svg></div>\n");
    let _ = writeln!(
        s,
        "<p class=\"note\">The top {} kernels by time with FLOPs; area grows with time. A point on a roof ran at that limit; far below both, the kernel did little work per launch or waited on something else.</p>",
        pts.len()
    );
}

fn decade(d: i32) -> String {
    if (-3..=4).contains(&d) {
        let v = 10f64.powi(d);
        if d < 0 { format!("{v}") } else { format!("{v:.0}") }
    } else {
        format!("1e{d}")
    }
}

fn shares(s: &mut String, x: &Summary, its: i64, unit: &str) {
    let _ = writeln!(
        s,
        "<h3>Share of FLOPs vs share of time</h3>\n<table>\n<tr><th>kernels</th><th class=\"n\">share of kernel time</th><th class=\"n\">share of FLOPs</th><th class=\"n\">time {unit}</th><th class=\"n\">FLOPs {unit}</th><th class=\"n\">bytes {unit}</th></tr>",
    );
    let div = its as f64;
    for g in &x.by_group {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"n\">{:.1}%</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            h(&g.group),
            100.0 * g.time_share,
            g.flop_share.map_or("-".into(), |f| format!("{:.1}%", 100.0 * f)),
            ns(g.kernel_ns / its),
            g.flops.map_or("-".into(), |f| si(f / div, "")),
            g.bytes.map_or("-".into(), |b| si(b / div, "B")),
        );
    }
    s.push_str("</table>\n<p class=\"note\">FLOP shares are among the kernels with work; time shares among all kernels.</p>\n");
}

/// The roofline cells of a row; FLOPs and bytes divided by `div` (the
/// iterations), rates as they are.
fn row_cells(s: &mut String, p: &Placement, div: f64) {
    let _ = write!(
        s,
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td>",
        opt_si(p.flops.map(|f| f / div), ""),
        si(p.bytes / div, "B"),
        intensity(p),
        opt_si(p.achieved_flops_per_s, ""),
        si(p.achieved_bytes_per_s, "B/s"),
        roof_text(p),
        p.bound.map_or("-", |b| b.label()),
        p.work_source.label()
    );
}

const HEAD: &str = "<th class=\"n\">FLOPs</th><th class=\"n\">bytes</th><th class=\"n\">FLOP/B</th><th class=\"n\">FLOP/s</th><th class=\"n\">bytes/s</th><th>of roof</th><th>verdict</th><th>source</th>";

fn kernel_table(s: &mut String, r: &Report, its: i64) {
    let _ = writeln!(
        s,
        "<h3>Kernels under the roofs ({})</h3>\n<p class=\"sub\">Time, FLOPs and bytes {}; the rates and shares of the roof are the same for the window.</p>\n<table class=\"roof\">\n<tr><th>kernel</th><th>group</th><th class=\"n\">time</th>{HEAD}</tr>",
        super::summary::unit(r),
        super::summary::unit(r)
    );
    for k in r.kernels.iter().filter(|k| k.roofline.is_some()).take(MAX_ROWS) {
        let p = k.roofline.as_ref().expect("filtered");
        let _ = write!(
            s,
            "<tr><td class=\"name\" title=\"{}\">{}</td><td>{}</td><td class=\"n\">{}</td>",
            h(&k.name),
            h(&truncate(&k.short_name, 60)),
            h(roofline::group(k.category)),
            ns(k.total_ns / its)
        );
        row_cells(s, p, its as f64);
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
}

fn layer_table(s: &mut String, r: &Report) {
    let Some(e) = &r.engine else { return };
    let mut layers: Vec<_> = e.layers.iter().filter(|l| l.roofline.is_some()).collect();
    layers.sort_by(|a, b| b.time_ns.cmp(&a.time_ns));
    let _ = writeln!(
        s,
        "<h3>Engine layers under the roofs (one inference)</h3>\n<table class=\"roof\">\n<tr><th>layer</th><th>type</th><th class=\"n\">time</th>{HEAD}</tr>"
    );
    for l in layers.into_iter().take(MAX_ROWS) {
        let p = l.roofline.as_ref().expect("filtered");
        let _ = write!(
            s,
            "<tr><td class=\"name\" title=\"{}\">{}</td><td>{}</td><td class=\"n\">{}</td>",
            h(&l.name),
            h(&truncate(&l.name, 60)),
            h(&l.layer_type),
            ns(l.time_ns)
        );
        row_cells(s, p, 1.0);
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_prefixes() {
        assert_eq!(si(1.0995e12, ""), "1.10 T");
        assert_eq!(si(4.8e12, "B"), "4.80 TB");
        assert_eq!(si(989.5e12, "FLOP/s"), "990 TFLOP/s");
        assert_eq!(si(12.0, ""), "12.0 ");
    }
}
