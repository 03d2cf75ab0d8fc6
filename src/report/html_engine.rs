//! The engine section of `report.html` (TensorRT profiles): summary cards,
//! time by layer type and precision, and the layer table with what each
//! layer's notes say (conversions, INT8 fallbacks, misaligned dimensions).
//! Nothing is written for traces without an engine.

use std::fmt::Write;

use crate::analysis::engine::{EngineReport, GroupRow, LayerRow};
use crate::document::Report;
use crate::text::escape::{html as h, truncate};
use crate::text::format::{ns, pct};

/// Append the section to `s` when the report has an engine.
pub fn render(s: &mut String, r: &Report) {
    let Some(e) = &r.engine else { return };
    s.push_str("<h2 id=\"engine\">Engine layers</h2>\n");
    let _ = writeln!(
        s,
        "<p class=\"sub\">{} layers; one inference = the sum of the layers' average times{}. The timeline the rest of this report analyses is synthetic: {}.</p>",
        e.layers.len(),
        e.profiled_iterations
            .map(|n| format!(", averaged over {n} profiled inferences"))
            .unwrap_or_default(),
        h(&e.timeline)
    );
    cards(s, e);
    groups(s, "By layer type", "type", &e.by_type, e.total_ns);
    groups(s, "By precision", "precision", &e.by_precision, e.total_ns);
    layers(s, e);
}

fn card(s: &mut String, label: &str, value: &str, sub: &str) {
    let _ = writeln!(
        s,
        "<div class=\"card\"><div class=\"l\">{}</div><div class=\"v\">{}</div><div class=\"sub\">{}</div></div>",
        h(label),
        h(value),
        h(sub)
    );
}

fn cards(s: &mut String, e: &EngineReport) {
    s.push_str("<div class=\"cards\">\n");
    card(
        s,
        "inference",
        &ns(e.total_ns),
        &format!(
            "build precision {}",
            e.build_precision.as_deref().unwrap_or("not recorded")
        ),
    );
    card(
        s,
        "conversions",
        &pct(e.conversions.total_ns, e.total_ns),
        &format!(
            "{} reformat/quantize layers, {}",
            e.conversions.count,
            ns(e.conversions.total_ns)
        ),
    );
    if e.int8 {
        card(
            s,
            "INT8 fallbacks",
            &e.int8_fallbacks.count.to_string(),
            &format!("compute layers not in INT8: {}", ns(e.int8_fallbacks.total_ns)),
        );
    }
    card(
        s,
        "misaligned",
        &e.misaligned.count.to_string(),
        &format!("compute layers with dims off 8/16: {}", ns(e.misaligned.total_ns)),
    );
    s.push_str("</div>\n");
}

fn groups(s: &mut String, title: &str, what: &str, rows: &[GroupRow], total: i64) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "<h3>{}</h3><table><tr><th>{}</th><th class=\"n\">layers</th><th class=\"n\">time</th><th class=\"n\">share</th></tr>",
        h(title),
        h(what)
    );
    for g in rows {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            h(&g.name),
            g.count,
            ns(g.total_ns),
            pct(g.total_ns, total)
        );
    }
    s.push_str("</table>\n");
}

/// What is notable about a layer, in words.
fn notes(l: &LayerRow) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = &l.conversion {
        let what = match (c.layout_changes, c.precision_changes) {
            (true, true) => "layout and precision conversion",
            (true, false) => "layout conversion",
            (false, true) => "precision conversion",
            (false, false) => "copy without a format change",
        };
        let by = if c.inserted { " inserted by TensorRT" } else { "" };
        out.push(format!("{what}{by}: {} -> {}", c.from, c.to));
    }
    if l.int8_fallback {
        out.push(format!("runs in {} in an INT8 engine", l.precision));
    }
    out.extend(l.misaligned.iter().cloned());
    if !l.profiled {
        out.push("not timed by the profile".into());
    }
    out
}

fn dims(l: &LayerRow) -> String {
    let show = |ts: &[crate::analysis::engine::TensorRow]| {
        ts.iter()
            .map(|t| {
                let d: Vec<String> = t.dims.iter().map(|x| x.to_string()).collect();
                d.join("x")
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("{} -> {}", show(&l.inputs), show(&l.outputs))
}

fn layers(s: &mut String, e: &EngineReport) {
    s.push_str("<h3>Layers</h3><p class=\"sub\">In execution order. The tactic is the kernel TensorRT chose (its name is the kernel name in the kernel table).</p>\n");
    s.push_str("<table><tr><th class=\"n\">#</th><th>layer</th><th>type</th><th>precision</th><th>dimensions</th><th class=\"n\">time</th><th class=\"n\">share</th><th>tactic</th><th>Tensor Cores</th><th>notes</th></tr>\n");
    for l in &e.layers {
        let notes = notes(l);
        let _ = writeln!(
            s,
            "<tr><td class=\"n\">{}</td><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}%</td><td class=\"name\" title=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            l.index,
            h(&truncate(&l.name, 200)),
            h(&l.layer_type),
            h(&l.precision),
            h(&dims(l)),
            ns(l.time_ns),
            l.percent,
            h(&truncate(l.tactic.as_deref().unwrap_or(""), 2000)),
            h(&truncate(l.tactic.as_deref().unwrap_or("-"), 120)),
            l.tensor_core
                .map(|v| serde_json::to_value(v)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default())
                .unwrap_or_else(|| "-".into()),
            notes.iter().map(|n| h(n)).collect::<Vec<_>>().join("<br>")
        );
    }
    s.push_str("</table>\n");
}
