//! The first picture of `report.html`: the representative iteration as
//! lanes on one time axis (see [`crate::findings::overview`]), drawn as
//! an SVG that scales with the page (a viewBox, width 100%) and says what
//! it summarised.

use std::fmt::Write;

use super::charts::{self, BUCKETS, FLAGGED};
use crate::document::Report;
use crate::findings::overview::{ItemKind, Overview};
use crate::model::Ns;
use crate::text::escape::{html as h, truncate};
use crate::text::format::ns;

/// Width of the drawing in viewBox units; text is 14 units, so it stays
/// above 11 px down to a 790-px-wide chart.
const W: f64 = 1200.0;
const LABEL_W: f64 = 236.0;
const RIGHT: f64 = 14.0;
const LANE_H: f64 = 24.0;
const LANE_GAP: f64 = 6.0;
const TOP: f64 = 6.0;
const AXIS_H: f64 = 46.0;
const FONT: f64 = 14.0;
/// Merged items covering less than this share of their stretch are drawn
/// as a density bar (pale stretch, solid height = share covered).
const DENSE: f64 = 0.9;

const PREPROCESS: plotters::style::RGBColor = plotters::style::RGBColor(0x54, 0xA2, 0x4B);
const INFERENCE: plotters::style::RGBColor = plotters::style::RGBColor(0xA0, 0xCB, 0xE8);
const POSTPROCESS: plotters::style::RGBColor = plotters::style::RGBColor(0xB6, 0x99, 0x2D);

/// Colour and legend name of each kind, in legend order.
pub const KINDS: [(ItemKind, &str); 10] = [
    (ItemKind::Preprocess, "preprocess"),
    (ItemKind::Inference, "inference"),
    (ItemKind::Postprocess, "postprocess"),
    (ItemKind::Kernel, "kernel"),
    (ItemKind::Memcpy, "memcpy"),
    (ItemKind::Memset, "memset"),
    (ItemKind::IdleSync, "idle: sync"),
    (ItemKind::IdleLaunch, "idle: launch"),
    (ItemKind::IdleHost, "idle: host"),
    (ItemKind::Flagged, "a finding's operations"),
];

fn color(k: ItemKind) -> plotters::style::RGBColor {
    match k {
        ItemKind::Preprocess => PREPROCESS,
        ItemKind::Inference => INFERENCE,
        ItemKind::Postprocess => POSTPROCESS,
        ItemKind::Kernel => BUCKETS[0].1,
        ItemKind::Memcpy => BUCKETS[1].1,
        ItemKind::Memset => BUCKETS[2].1,
        ItemKind::IdleSync => BUCKETS[3].1,
        ItemKind::IdleLaunch => BUCKETS[4].1,
        ItemKind::IdleHost => BUCKETS[5].1,
        ItemKind::Flagged => FLAGGED,
    }
}

/// The legend entries for the kinds this overview draws.
pub fn legend(o: &Overview) -> Vec<(&'static str, plotters::style::RGBColor)> {
    KINDS
        .iter()
        .filter(|(k, _)| o.items.iter().any(|i| i.kind == *k))
        .map(|&(k, n)| (n, color(k)))
        .collect()
}

/// Tick step and unit for a span: about 8 ticks at 1, 2 or 5 x 10^k.
fn ticks(span: Ns) -> (f64, f64, &'static str) {
    let (div, unit) = if span < 2_000_000 {
        (1e3, "us")
    } else if span < 2_000_000_000 {
        (1e6, "ms")
    } else {
        (1e9, "s")
    };
    let v = span as f64 / div;
    let raw = v / 8.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    (step, div, unit)
}

/// The SVG (empty without lanes).
pub fn svg(o: &Overview) -> String {
    let origin = if o.iteration.is_some() {
        "iteration's"
    } else {
        "window's"
    };
    svg_with_axis(o, &format!("from the {origin} start"))
}

/// The SVG with `axis` after the unit under the time axis.
fn svg_with_axis(o: &Overview, axis: &str) -> String {
    if o.lanes.is_empty() || o.end_ns <= o.start_ns {
        return String::new();
    }
    let span = o.end_ns - o.start_ns;
    let plot_w = W - LABEL_W - RIGHT;
    let x = |t: Ns| LABEL_W + (t - o.start_ns) as f64 / span as f64 * plot_w;
    let n = o.lanes.len() as f64;
    let height = TOP + n * (LANE_H + LANE_GAP) + AXIS_H;
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        "<svg viewBox=\"0 0 {W} {height}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         font-family=\"sans-serif\" font-size=\"{FONT}\">"
    );
    let lane_y = |l: usize| TOP + l as f64 * (LANE_H + LANE_GAP);
    for (l, name) in o.lanes.iter().enumerate() {
        let y = lane_y(l);
        let _ = write!(
            s,
            "<rect x=\"{LABEL_W}\" y=\"{y}\" width=\"{plot_w}\" height=\"{LANE_H}\" fill=\"#f3f4f7\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{}</title>{}</text>",
            LABEL_W - 8.0,
            y + LANE_H / 2.0 + FONT * 0.35,
            h(name),
            h(&truncate(name, 29))
        );
    }
    for i in &o.items {
        let x0 = x(i.start_ns);
        let w = (x(i.end_ns) - x0).max(1.0);
        // GPU idle causes get a third of the lane each (sync, launch,
        // host), so a dense lane still shows all three.
        let (y, lh) = match i.kind {
            ItemKind::IdleSync => (lane_y(i.lane), LANE_H / 3.0),
            ItemKind::IdleLaunch => (lane_y(i.lane) + LANE_H / 3.0, LANE_H / 3.0),
            ItemKind::IdleHost => (lane_y(i.lane) + 2.0 * LANE_H / 3.0, LANE_H / 3.0),
            _ => (lane_y(i.lane), LANE_H),
        };
        let c = charts::css(color(i.kind));
        let density = i.density();
        if i.count > 1 && density < DENSE {
            // Merged operations that leave gaps: the stretch pale, the
            // share they cover as the height of a solid bar, so a lane of
            // thousands of short kernels reads as how busy it was where.
            let bh = (lh * density).max(1.5);
            let _ = write!(
                s,
                "<g><title>{} operations merged: busy {} of {} ({:.0}%)</title>\
                 <rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{lh:.1}\" fill=\"{c}\" fill-opacity=\"0.22\"/>\
                 <rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{bh:.1}\" fill=\"{c}\"/></g>",
                i.count,
                ns(i.busy()),
                ns(i.end_ns - i.start_ns),
                density * 100.0,
                y + lh - bh
            );
            continue;
        }
        let _ = write!(
            s,
            "<rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{lh:.1}\" fill=\"{c}\">"
        );
        if i.count > 1 {
            let _ = write!(
                s,
                "<title>{} merged, {}</title>",
                i.count,
                ns(i.end_ns - i.start_ns)
            );
        }
        s.push_str("</rect>");
    }
    // The axis: ticks below the lanes, the unit on a line of its own.
    let (step, div, unit) = ticks(span);
    let y0 = TOP + n * (LANE_H + LANE_GAP);
    let _ = write!(
        s,
        "<line x1=\"{LABEL_W}\" x2=\"{}\" y1=\"{y0}\" y2=\"{y0}\" stroke=\"#555\"/>",
        W - RIGHT
    );
    let mut k = 0.0;
    while k * step <= span as f64 / div + 1e-9 {
        let t = o.start_ns + (k * step * div) as Ns;
        let xt = x(t);
        let label = if step >= 1.0 {
            format!("{}", (k * step).round() as i64)
        } else {
            format!("{:.*}", (-step.log10().floor()) as usize, k * step)
        };
        let anchor = if xt > W - RIGHT - 20.0 { "end" } else { "middle" };
        let _ = write!(
            s,
            "<line x1=\"{xt:.1}\" x2=\"{xt:.1}\" y1=\"{y0}\" y2=\"{}\" stroke=\"#555\"/>\
             <text x=\"{xt:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{label}</text>",
            y0 + 5.0,
            y0 + 5.0 + FONT
        );
        k += 1.0;
    }
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#5b6478\">{unit} {}</text></svg>",
        W - RIGHT,
        y0 + 10.0 + 2.0 * FONT,
        h(axis)
    );
    s
}

/// The section: heading, legend, picture and what it summarised.
pub fn section(s: &mut String, r: &Report) {
    let Some(o) = &r.overview else { return };
    let chart = svg(o);
    if chart.is_empty() {
        return;
    }
    let what = match o.iteration {
        Some(i) => format!(
            "Iteration {i} of {} (the median-duration one), {}",
            r.window.iterations,
            ns(o.end_ns - o.start_ns)
        ),
        None => format!("The whole window (no iterations), {}", ns(o.end_ns - o.start_ns)),
    };
    let _ = writeln!(s, "<h2 id=\"timeline\">One iteration</h2>");
    s.push_str(&super::table::legend_html(&legend(o)));
    let _ = writeln!(s, "<div class=\"chart wide\">{chart}</div>");
    let marks = o.items.len();
    let merged: u64 = o.items.iter().filter(|i| i.count > 1).map(|i| i.count).sum();
    let mut notes = vec![format!(
        "{what}: {} GPU operations; spans of one lane closer than {} (1/{} of the span, under a pixel) are drawn merged ({} spans in {} marks), none dropped",
        o.operations,
        ns(o.resolution_ns),
        crate::findings::overview::RESOLUTION,
        merged,
        marks
    )];
    if o.items.iter().any(|i| i.count > 1 && i.density() < DENSE) {
        notes.push(
            "where merged spans leave gaps, the stretch is pale and the solid bar's height is the share of it they cover"
                .into(),
        );
    }
    if o.folded_streams > 0 {
        notes.push(format!(
            "the {} least busy streams share the lane '{} other streams'",
            o.folded_streams, o.folded_streams
        ));
    }
    for m in &o.marks {
        if let (Some(note), Some(f)) = (&m.note, r.findings.get(m.finding)) {
            notes.push(format!("{} {}: {note}", f.code, f.rule));
        }
    }
    let _ = writeln!(s, "<p class=\"sub\">{}.</p>", h(&notes.join("; ")));
    if let Some(z) = &o.zoom {
        zoom(s, o, z);
    }
}

/// The zoom of a dense iteration: its middle stretch, where single
/// operations are wide enough to see.
fn zoom(s: &mut String, o: &Overview, z: &Overview) {
    let chart = svg_with_axis(
        z,
        &format!("from the stretch's start ({} into the iteration)", ns(z.start_ns - o.start_ns)),
    );
    if chart.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "<h3>Zoom: the middle 1/{} of the iteration, {}</h3>",
        crate::findings::overview::ZOOM_FRACTION,
        ns(z.end_ns - z.start_ns)
    );
    s.push_str(&super::table::legend_html(&legend(z)));
    let _ = writeln!(s, "<div class=\"chart wide\">{chart}</div>");
    let merged: u64 = z.items.iter().filter(|i| i.count > 1).map(|i| i.count).sum();
    let _ = writeln!(
        s,
        "<p class=\"sub\">{} GPU operations in this stretch ({} of the iteration's {}); spans closer than {} are drawn merged ({} spans of operations, idle time and findings' marks), none dropped; a finding's lane shows its operations at the resolution the finding stored them.</p>",
        z.operations,
        crate::text::format::pct(z.end_ns - z.start_ns, o.end_ns - o.start_ns),
        o.operations,
        ns(z.resolution_ns),
        merged
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_steps() {
        assert_eq!(ticks(51_100_000), (10.0, 1e6, "ms"));
        assert_eq!(ticks(1_028_000_000), (200.0, 1e6, "ms"));
        assert_eq!(ticks(800_000), (100.0, 1e3, "us"));
        assert_eq!(ticks(3_000_000_000), (0.5, 1e9, "s"));
    }
}
