//! SVG charts drawn with plotters, returned as strings to inline in HTML.
//! Labels from the trace are shortened and escaped before plotting.

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::prelude::*;

use crate::document::Report;
use crate::model::Ns;
use crate::text::escape;

/// The six attribution buckets with their colours, in stacking order.
pub const BUCKETS: [(&str, RGBColor); 6] = [
    ("kernel", RGBColor(0x4C, 0x78, 0xA8)),
    ("memcpy", RGBColor(0xF5, 0x85, 0x18)),
    ("memset", RGBColor(0xEE, 0xCA, 0x3B)),
    ("idle: sync", RGBColor(0xE4, 0x57, 0x56)),
    ("idle: launch", RGBColor(0xB2, 0x79, 0xA2)),
    ("idle: host", RGBColor(0x9D, 0x9D, 0x9D)),
];

/// CSS hex of a bucket colour, for HTML legends and tables.
pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn ms(ns: Ns) -> f64 {
    ns as f64 / 1e6
}

/// Run a drawing closure on an SVG canvas; errors give an empty chart.
fn svg(size: (u32, u32), draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>) -> String {
    let mut buf = String::new();
    let ok = {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        let r = root
            .fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|_| draw(&root));
        r.and_then(|_| root.present().map_err(|e| e.to_string())).is_ok()
    };
    if ok { scalable(buf) } else { String::new() }
}

/// Width of every chart in viewBox units: drawn at 1,200 and scaled to the
/// page, so 19-unit plotters text (14 px in its SVG) stays at least 11 px
/// down to a 950-px-wide chart.
pub const WIDTH: u32 = 1200;
/// Font sizes as plotters takes them (its SVG writes about 0.74 of this).
const TEXT: u32 = 19;
const CAPTION: u32 = 23;

/// Let the SVG scale with its container: `width="100%"` with the viewBox
/// kept, no fixed height.
fn scalable(svg: String) -> String {
    let Some(end) = svg.find("viewBox=") else {
        return svg;
    };
    let head = &svg[..end];
    let Some(start) = head.find("<svg") else {
        return svg;
    };
    format!("{}<svg width=\"100%\" {}", &svg[..start], &svg[end..])
}

/// The axes of a chart with one labelled row per entry over a value axis.
struct Rows<'l> {
    title: &'l str,
    /// Value (x) axis range and its description.
    x: std::ops::Range<f64>,
    x_desc: &'l str,
    x_area: u32,
    /// Row labels, already shortened and escaped; `labels[0]` is drawn at
    /// the bottom unless `top_first`.
    labels: &'l [String],
    label_area: u32,
    top_first: bool,
}

type RowChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordi32>>>;

/// Build and draw the mesh of a [`Rows`] chart; row `i` spans y `i..i+1`.
fn row_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    a: &Rows,
) -> Result<RowChart<'a, 'b>, String> {
    let n = a.labels.len();
    let mut chart = ChartBuilder::on(root)
        .caption(a.title, ("sans-serif", CAPTION))
        .margin(8)
        .x_label_area_size(a.x_area)
        .y_label_area_size(a.label_area)
        .build_cartesian_2d(a.x.clone(), (0..n as i32 - 1).into_segmented())
        .map_err(|e| e.to_string())?;
    // Labels longer than the label area are cut to fit it (about 9 units
    // a character at this font size: digits and underscores are wide),
    // not clipped at the picture's left edge.
    let fits = (a.label_area.saturating_sub(12) / 9) as usize;
    let label = |i: i32| {
        let i = i as usize;
        let i = if a.top_first { n.saturating_sub(1 + i) } else { i };
        escape::truncate(a.labels.get(i).map_or("", String::as_str), fits)
    };
    chart
        .configure_mesh()
        .label_style(("sans-serif", TEXT))
        .axis_desc_style(("sans-serif", TEXT))
        .max_light_lines(2)
        .disable_y_mesh()
        .x_desc(a.x_desc)
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => label(*i),
            _ => String::new(),
        })
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(chart)
}

/// Stacked horizontal bars over `rows`: each row's six bucket values in ns.
fn stacked_rows(title: &str, rows: &[(String, [Ns; 6])], width: u32) -> String {
    let max = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<Ns>())
        .max()
        .unwrap_or(0)
        .max(1);
    let height = 100 + 40 * rows.len() as u32;
    let labels: Vec<String> = rows.iter().map(|(l, _)| escape::truncate(l, 18)).collect();
    svg((width, height), |root| {
        let axes = Rows {
            title,
            x: 0f64..ms(max) * 1.02,
            x_desc: "ms",
            x_area: 60,
            labels: &labels,
            label_area: 170,
            top_first: false,
        };
        let mut chart = row_chart(root, &axes)?;
        for (b, (_, color)) in BUCKETS.iter().enumerate() {
            let bars = rows.iter().enumerate().map(|(i, (_, v))| {
                let x0: Ns = v[..b].iter().sum();
                let i = i as i32;
                let mut r = Rectangle::new(
                    [
                        (ms(x0), SegmentValue::Exact(i)),
                        (ms(x0 + v[b]), SegmentValue::Exact(i + 1)),
                    ],
                    color.filled(),
                );
                r.set_margin(5, 5, 0, 0);
                r
            });
            chart.draw_series(bars).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// Where the window's time goes: one bar per phase, stacked by activity.
pub fn attribution(report: &Report) -> String {
    let n = super::summary::iterations(report);
    let rows: Vec<(String, [Ns; 6])> = super::phase_table::phases(report)
        .into_iter()
        .filter(|row| row.total_ns > 0)
        .map(|row| (row.label.to_string(), row.buckets.map(|b| b / n)))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    stacked_rows(
        if report.window.iterations > 0 {
            "Time per iteration by phase and GPU activity"
        } else {
            "Window time by phase and GPU activity"
        },
        &rows,
        WIDTH,
    )
}

/// Per-iteration stacked columns.
pub fn iterations(report: &Report) -> String {
    let its = &report.iterations;
    if its.is_empty() {
        return String::new();
    }
    let max = its.iter().map(|i| i.duration_ns).max().unwrap_or(1).max(1);
    let n = its.len() as i32;
    svg((WIDTH, 340), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Iteration time by GPU activity", ("sans-serif", CAPTION))
            .margin(8)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0f64..ms(max) * 1.05)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", TEXT))
            .axis_desc_style(("sans-serif", TEXT))
            .max_light_lines(2)
            .disable_x_mesh()
            .x_desc("iteration")
            .y_desc("ms")
            .x_labels(its.len().min(30))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => i.to_string(),
                _ => String::new(),
            })
            .draw()
            .map_err(|e| e.to_string())?;
        for (b, (_, color)) in BUCKETS.iter().enumerate() {
            let bars = its.iter().enumerate().map(|(i, it)| {
                let v = [
                    it.activity.kernel_ns,
                    it.activity.memcpy_ns,
                    it.activity.memset_ns,
                    it.gpu_idle.sync_ns,
                    it.gpu_idle.launch_ns,
                    it.gpu_idle.host_ns,
                ];
                let y0: Ns = v[..b].iter().sum();
                let i = i as i32;
                let mut r = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), ms(y0)),
                        (SegmentValue::Exact(i + 1), ms(y0 + v[b])),
                    ],
                    color.filled(),
                );
                r.set_margin(0, 0, 2, 2);
                r
            });
            chart.draw_series(bars).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// Horizontal bars of the top kernels by total time.
pub fn top_kernels(report: &Report, n: usize) -> String {
    let top: Vec<_> = report.kernels.iter().take(n).collect();
    if top.is_empty() {
        return String::new();
    }
    let max = top[0].total_ns.max(1);
    let names: Vec<(&str, &str)> = top
        .iter()
        .map(|k| (k.name.as_str(), k.short_name.as_str()))
        .collect::<Vec<_>>();
    let labels: Vec<String> = super::summary::kernel_labels(&names, 40)
        .iter()
        .map(|l| escape::terminal(l))
        .collect();
    let height = 100 + 30 * top.len() as u32;
    svg((WIDTH, height), |root| {
        // Largest at the top.
        let axes = Rows {
            title: "Top kernels by total time",
            x: 0f64..ms(max) * 1.02,
            x_desc: "ms",
            x_area: 60,
            labels: &labels,
            label_area: 330,
            top_first: true,
        };
        let mut chart = row_chart(root, &axes)?;
        let color = BUCKETS[0].1;
        chart
            .draw_series(top.iter().enumerate().map(|(i, k)| {
                let y = (top.len() - 1 - i) as i32;
                let mut r = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(y)),
                        (ms(k.total_ns), SegmentValue::Exact(y + 1)),
                    ],
                    color.filled(),
                );
                r.set_margin(3, 3, 0, 0);
                r
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// Colour of flagged spans in finding timelines.
pub const FLAGGED: RGBColor = RGBColor(0xB9, 0x1C, 0x1C);

/// A finding's iteration timeline: one row per lane, spans in ms from the
/// iteration's start, the finding's own operations in [`FLAGGED`] red.
/// Spans closer than a pixel are merged so busy lanes stay small.
pub fn timeline(t: &crate::findings::Timeline, caption: &str) -> String {
    let span = (t.end_ns - t.start_ns).max(1);
    if t.lanes.is_empty() || t.items.is_empty() {
        return String::new();
    }
    let (width, plot_px) = (WIDTH, 900i64);
    let px = (span / plot_px).max(1);
    // Merge per (lane, flagged) at pixel resolution; keep a pixel minimum.
    let mut items: Vec<_> = t
        .items
        .iter()
        .filter(|i| i.lane < t.lanes.len())
        .copied()
        .collect();
    items.sort_by_key(|i| (i.lane, i.flagged, i.start_ns));
    let mut merged: Vec<crate::findings::TimelineItem> = Vec::with_capacity(items.len());
    for i in items {
        match merged.last_mut() {
            Some(m) if m.lane == i.lane && m.flagged == i.flagged && i.start_ns <= m.end_ns + px => {
                m.end_ns = m.end_ns.max(i.end_ns);
            }
            _ => merged.push(i),
        }
    }
    let n = t.lanes.len() as i32;
    let labels: Vec<String> = t.lanes.iter().map(|l| escape::truncate(l, 26)).collect();
    let height = 100 + 30 * t.lanes.len() as u32;
    let lane_color = |lane: &str| {
        if lane.starts_with("host") {
            RGBColor(0x9D, 0x9D, 0x9D)
        } else if lane.contains("copies") {
            BUCKETS[1].1
        } else {
            BUCKETS[0].1
        }
    };
    svg((width, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", CAPTION))
            .margin(8)
            .x_label_area_size(60)
            .y_label_area_size(230)
            .build_cartesian_2d(0f64..ms(span), (0..n).into_segmented())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", TEXT))
            .axis_desc_style(("sans-serif", TEXT))
            .disable_y_mesh()
            .x_desc("ms from the iteration's start")
            .y_labels(t.lanes.len())
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get((n - 1 - *i) as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()
            .map_err(|e| e.to_string())?;
        let rects = merged.iter().map(|i| {
            let y = n - 1 - i.lane as i32;
            let x0 = (i.start_ns - t.start_ns).max(0);
            let x1 = (i.end_ns - t.start_ns).max(x0 + px);
            let color = if i.flagged {
                FLAGGED
            } else {
                lane_color(&t.lanes[i.lane])
            };
            let mut r = Rectangle::new(
                [
                    (ms(x0), SegmentValue::Exact(y)),
                    (ms(x1), SegmentValue::Exact(y + 1)),
                ],
                color.filled(),
            );
            r.set_margin(4, 4, 0, 0);
            r
        });
        chart.draw_series(rects).map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// Colour of a time saving (faster) and of a time loss (slower).
pub const BETTER: RGBColor = RGBColor(0x2E, 0x9E, 0x5B);
pub const WORSE: RGBColor = RGBColor(0xD6, 0x45, 0x45);

/// Stacked horizontal bars by attribution bucket, one per labelled row
/// (values in ns, in [`BUCKETS`] order): e.g. BASE and NEW side by side.
pub fn stacked(title: &str, rows: &[(String, [Ns; 6])]) -> String {
    if rows.is_empty() || rows.iter().all(|(_, v)| v.iter().sum::<Ns>() == 0) {
        return String::new();
    }
    stacked_rows(title, rows, WIDTH)
}

/// One strip of dots per series (each value one dot, in ms) with the
/// series mean as a vertical tick: distributions side by side.
pub fn distributions(title: &str, series: &[(String, Vec<Ns>)]) -> String {
    let all = series.iter().flat_map(|(_, v)| v.iter().copied());
    let (lo, hi) = all.fold((Ns::MAX, Ns::MIN), |(a, b), x| (a.min(x), b.max(x)));
    if series.is_empty() || lo > hi {
        return String::new();
    }
    let pad = ((hi - lo) as f64 * 0.05).max(hi as f64 * 0.01).max(1.0);
    let (x0, x1) = (ms(lo) - pad / 1e6, ms(hi) + pad / 1e6);
    let labels: Vec<String> = series.iter().map(|(l, _)| escape::truncate(l, 18)).collect();
    let height = 110 + 60 * series.len() as u32;
    svg((WIDTH, height), |root| {
        let axes = Rows {
            title,
            x: x0.max(0.0)..x1,
            x_desc: "ms",
            x_area: 60,
            labels: &labels,
            label_area: 170,
            top_first: false,
        };
        let mut chart = row_chart(root, &axes)?;
        let colors = [BUCKETS[0].1, BUCKETS[1].1, BUCKETS[4].1];
        for (i, (_, values)) in series.iter().enumerate() {
            let color = colors[i % colors.len()];
            chart
                .draw_series(values.iter().map(|&v| {
                    Circle::new(
                        (ms(v), SegmentValue::CenterOf(i as i32)),
                        5,
                        color.mix(0.45).filled(),
                    )
                }))
                .map_err(|e| e.to_string())?;
            if !values.is_empty() {
                let mean = values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64 / 1e6;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![
                            (mean, SegmentValue::Exact(i as i32)),
                            (mean, SegmentValue::Exact(i as i32 + 1)),
                        ],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })
}

/// Horizontal bars around zero (values in ns; negative drawn in
/// [`BETTER`], positive in [`WORSE`]), first row at the top.
pub fn diverging(title: &str, rows: &[(String, f64)]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let max = rows.iter().map(|(_, v)| v.abs()).fold(0.0, f64::max).max(1.0) / 1e6;
    let labels: Vec<String> = rows
        .iter()
        .map(|(l, _)| escape::truncate(&escape::terminal(l), 40))
        .collect();
    let n = rows.len();
    let height = 100 + 30 * n as u32;
    svg((WIDTH, height), |root| {
        let axes = Rows {
            title,
            x: -max * 1.05..max * 1.05,
            x_desc: "ms (negative: less time)",
            x_area: 60,
            labels: &labels,
            label_area: 330,
            top_first: true,
        };
        let mut chart = row_chart(root, &axes)?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
                let y = (n - 1 - i) as i32;
                let color = if *v < 0.0 { BETTER } else { WORSE };
                let mut r = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(y)),
                        (v / 1e6, SegmentValue::Exact(y + 1)),
                    ],
                    color.filled(),
                );
                r.set_margin(3, 3, 0, 0);
                r
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}
