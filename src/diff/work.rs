//! FLOPs and bytes per unit of comparison on both sides: a change that cut
//! time but not work (the same math ran faster), or work but not time (the
//! cut work was not what bound the run), shows here.

use serde::{Deserialize, Serialize};

use super::deltas::Normalization;
use crate::document::Report;
use crate::model::Ns;

/// Below this relative change (2%) a quantity reads as unchanged.
pub const SAME: f64 = 0.02;

/// FLOPs, bytes and kernel time of both sides, normalised like the other deltas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkDelta {
    pub base_flops: Option<f64>,
    pub new_flops: Option<f64>,
    pub flops_change_pct: Option<f64>,
    pub base_bytes: Option<f64>,
    pub new_bytes: Option<f64>,
    pub bytes_change_pct: Option<f64>,
    /// Kernel time of the kernels with work.
    pub base_kernel_ns: f64,
    pub new_kernel_ns: f64,
    pub time_change_pct: Option<f64>,
    /// Where each side's work comes from (`counters`, `shapes`, `engine_dims`).
    pub base_sources: Vec<String>,
    pub new_sources: Vec<String>,
    /// The reading, in one sentence.
    pub reading: String,
}

fn change(b: Option<f64>, n: Option<f64>) -> Option<f64> {
    match (b, n) {
        (Some(b), Some(n)) if b > 0.0 => Some(100.0 * (n - b) / b),
        _ => None,
    }
}

fn sources(r: &Report) -> Vec<String> {
    let s = &r.roofline.sources;
    [
        ("counters", s.counters),
        ("shapes", s.shapes),
        ("engine_dims", s.engine_dims),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(k, _)| k.to_string())
    .collect()
}

/// The work delta, when at least one side has FLOPs.
pub fn compare(base: &Report, new: &Report, norm: &Normalization) -> Option<WorkDelta> {
    let (b, n) = (&base.roofline, &new.roofline);
    if b.flops.is_none() && n.flops.is_none() {
        return None;
    }
    let bd = norm.base_divisor.max(f64::MIN_POSITIVE);
    let nd = norm.new_divisor.max(f64::MIN_POSITIVE);
    let per = |x: Option<f64>, d: f64| x.map(|v| v / d);
    let (bf, nf) = (per(b.flops, bd), per(n.flops, nd));
    let (bb, nb) = (per(b.bytes, bd), per(n.bytes, nd));
    let (bt, nt) = (
        b.kernel_ns_with_work as f64 / bd,
        n.kernel_ns_with_work as f64 / nd,
    );
    let fc = change(bf, nf);
    let bc = change(bb, nb);
    let tc = change(Some(bt), Some(nt));
    let same = |x: Option<f64>| x.is_some_and(|v| v.abs() < SAME * 100.0);
    let down = |x: Option<f64>| x.is_some_and(|v| v <= -SAME * 100.0);
    let up = |x: Option<f64>| x.is_some_and(|v| v >= SAME * 100.0);
    let reading = if fc.is_none() || bc.is_none() {
        "only one side has FLOPs and bytes: the work cannot be compared".to_string()
    } else if same(fc) && same(bc) && down(tc) {
        "the same work ran faster: time fell, FLOPs and bytes did not".to_string()
    } else if same(fc) && same(bc) && up(tc) {
        "the same work ran slower: time rose, FLOPs and bytes did not".to_string()
    } else if (down(fc) || down(bc)) && same(tc) {
        "less work in the same time: what was cut did not bind the run".to_string()
    } else if (down(fc) || down(bc)) && down(tc) {
        "less work and less time".to_string()
    } else if (up(fc) || up(bc)) && !up(tc) {
        "more work in no more time".to_string()
    } else if up(fc) || up(bc) {
        "more work and more time".to_string()
    } else {
        "work and time unchanged".to_string()
    };
    Some(WorkDelta {
        base_flops: bf,
        new_flops: nf,
        flops_change_pct: fc,
        base_bytes: bb,
        new_bytes: nb,
        bytes_change_pct: bc,
        base_kernel_ns: bt,
        new_kernel_ns: nt,
        time_change_pct: tc,
        base_sources: sources(base),
        new_sources: sources(new),
        reading,
    })
}

/// Kernel time as the renderers show it.
pub fn ns_of(v: f64) -> Ns {
    v.round() as Ns
}

fn si(v: Option<f64>, unit: &str) -> String {
    v.map_or("-".into(), |x| crate::report::html_roofline::si(x, unit))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:+.1}%"))
}

/// The table's rows: label, BASE, NEW, change.
fn rows(w: &WorkDelta) -> [[String; 4]; 3] {
    [
        [
            "FLOPs".into(),
            si(w.base_flops, ""),
            si(w.new_flops, ""),
            pct(w.flops_change_pct),
        ],
        [
            "bytes".into(),
            si(w.base_bytes, "B"),
            si(w.new_bytes, "B"),
            pct(w.bytes_change_pct),
        ],
        [
            "kernel time with work".into(),
            crate::text::format::ns(ns_of(w.base_kernel_ns)),
            crate::text::format::ns(ns_of(w.new_kernel_ns)),
            pct(w.time_change_pct),
        ],
    ]
}

/// The Markdown piece.
pub fn markdown(s: &mut String, d: &super::Diff) {
    let Some(w) = &d.work else { return };
    let unit = d.normalization.unit();
    s.push_str(&format!(
        "### Work (FLOPs and bytes, {unit})\n\n| | BASE | NEW | change |\n|---|---:|---:|---:|\n"
    ));
    for r in rows(w) {
        s.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    s.push_str(&format!("\n{}.\n\n", crate::text::escape::markdown(&w.reading)));
}

/// The HTML piece.
pub fn html(s: &mut String, d: &super::Diff) {
    let Some(w) = &d.work else { return };
    let unit = d.normalization.unit();
    let h = crate::text::escape::html;
    s.push_str(&format!(
        "<h2 id=\"work\">Work: FLOPs and bytes ({})</h2>\n<table><tr><th></th><th class=\"n\">BASE</th><th class=\"n\">NEW</th><th class=\"n\">change</th></tr>\n",
        h(unit)
    ));
    let rows = rows(w).map(|[label, base, new, change]| {
        format!(
            "<tr><td>{label}</td><td class=\"n\">{base}</td><td class=\"n\">{new}</td><td class=\"n\">{change}</td></tr>"
        )
    });
    s.push_str(&rows.join("\n"));
    s.push_str(&format!(
        "</table>\n<p>{}. Sources: BASE {}, NEW {}.</p>\n",
        h(&w.reading),
        h(&w.base_sources.join(", ")),
        h(&w.new_sources.join(", "))
    ));
}
