//! The Tensor Core section of `report.html`: the share of matrix time on
//! Tensor Cores, a bar per category, and the matrix kernels that missed
//! them (or used a slow variant) with the reason. Strings from the trace go
//! through [`escape::html`](crate::text::escape::html).

use std::fmt::Write;

use crate::analysis::tensor_core::{self, names::Verdict};
use crate::document::Report;
use crate::model::Ns;
use crate::text::escape::{html as h, truncate};
use crate::text::format::{ns, pct};

const TENSOR: &str = "#2e7d32";
const CUDA: &str = "#c62828";
const UNKNOWN: &str = "#9e9e9e";
/// Rows of the misses table.
const MAX_ROWS: usize = 50;

/// Append the section to `s`.
pub fn section(s: &mut String, r: &Report) {
    let t = &r.tensor_cores;
    s.push_str("<h2 id=\"tensor-cores\">Tensor Cores</h2>\n");
    if t.eligible_ns == 0 {
        s.push_str("<p>No matrix work (GEMM, convolution, attention) in the window.</p>\n");
        return;
    }
    let _ = writeln!(
        s,
        "<p><b>{}</b> of the window's matrix time ({} in GEMM, convolution and attention kernels) ran on Tensor Cores; {} ({}) on CUDA cores; {} ({}) unknown.</p>",
        pct(t.tensor_core_ns, t.eligible_ns),
        ns(t.eligible_ns),
        ns(t.cuda_core_ns),
        pct(t.cuda_core_ns, t.eligible_ns),
        ns(t.unknown_ns),
        pct(t.unknown_ns, t.eligible_ns)
    );
    let mut sources = vec![format!("{} from kernel names", t.evidence.name)];
    if let Some(n) = &t.ncu {
        sources.insert(
            0,
            format!(
                "{} from Nsight Compute counters ({}: {} of {} kernel names matched)",
                t.evidence.counters,
                n.file.rsplit(['/', '\\']).next().unwrap_or(&n.file),
                n.matched,
                n.kernel_names
            ),
        );
    }
    if let Some(g) = &t.gpu_metrics {
        sources.insert(
            sources.len() - 1,
            format!(
                "{} from GPU metrics ({}, {} samples used)",
                t.evidence.gpu_metrics, g.metric, g.samples_used
            ),
        );
    }
    let _ = writeln!(
        s,
        "<p class=\"sub\">Verdicts per kernel name: {}.</p>",
        h(&sources.join("; "))
    );
    legend(s);
    let _ = writeln!(s, "<div class=\"chart\">{}</div>", chart(r));
    misses(s, r);
    all_kernels(s, r);
    if !t.disagreements.is_empty() {
        s.push_str("<h3>Measurements that contradict the kernel name</h3><ul>\n");
        for d in &t.disagreements {
            let _ = writeln!(
                s,
                "<li><code>{}</code>: the name says {}, {} say {}</li>",
                h(&truncate(&d.kernel, 200)),
                d.name_verdict.label(),
                d.source.label(),
                d.measured.label()
            );
        }
        s.push_str("</ul>\n");
    }
}

fn legend(s: &mut String) {
    s.push_str("<div class=\"legend\">");
    for (name, color) in [
        ("Tensor Cores", TENSOR),
        ("CUDA cores", CUDA),
        ("unknown", UNKNOWN),
    ] {
        let _ = write!(
            s,
            "<span><i class=\"sw\" style=\"background:{color}\"></i>{name}</span>"
        );
    }
    s.push_str("</div>\n");
}

/// One stacked bar per category of matrix work, and the total.
fn chart(r: &Report) -> String {
    let t = &r.tensor_cores;
    let mut bars: Vec<(String, [Ns; 3])> = t
        .by_category
        .iter()
        .map(|c| {
            (
                c.category.label().to_string(),
                [c.tensor_core_ns, c.cuda_core_ns, c.unknown_ns],
            )
        })
        .collect();
    if bars.len() > 1 {
        bars.push(("all".into(), [t.tensor_core_ns, t.cuda_core_ns, t.unknown_ns]));
    }
    let max = bars
        .iter()
        .map(|(_, v)| v.iter().sum::<Ns>())
        .max()
        .unwrap_or(1)
        .max(1);
    // Bars leave room for their label ("24.26 ms · 34.1% on Tensor Cores",
    // about 230 units) inside the 800-unit picture.
    let (left, width, row) = (110.0, 440.0, 30.0);
    let height = 20.0 + row * bars.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"{height}\" viewBox=\"0 0 800 {height}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + 15.0,
            h(label)
        );
        let mut x = left;
        for (value, color) in v.iter().zip([TENSOR, CUDA, UNKNOWN]) {
            let w = width * *value as f64 / max as f64;
            if w > 0.0 {
                let _ = write!(
                    svg,
                    "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" fill=\"{color}\"><title>{}</title></rect>",
                    h(&ns(*value))
                );
            }
            x += w;
        }
        let total: Ns = v.iter().sum();
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\">{} · {} on Tensor Cores</text>",
            x + 6.0,
            y + 15.0,
            h(&ns(total)),
            pct(v[0], total)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn misses(s: &mut String, r: &Report) {
    let mut rows: Vec<_> = r
        .kernels
        .iter()
        .filter(|k| tensor_core::is_eligible(k) && k.tensor_core_reason.is_some())
        .collect();
    rows.sort_by_key(|k| std::cmp::Reverse(k.total_ns));
    if rows.is_empty() {
        s.push_str(
            "<p>Every matrix kernel ran on Tensor Cores in a full-speed (16-byte aligned) variant.</p>\n",
        );
        return;
    }
    let _ = writeln!(
        s,
        "<h3>Matrix kernels that missed Tensor Cores or used a slow variant</h3>\n<p class=\"sub\">{} of {} kernel names, by total time.</p>",
        rows.len().min(MAX_ROWS),
        rows.len()
    );
    s.push_str("<table><tr><th>kernel</th><th>category</th><th>Tensor Cores</th><th>evidence</th><th class=\"n\">calls</th><th class=\"n\">total</th><th>why</th></tr>\n");
    for k in rows.iter().take(MAX_ROWS) {
        let verdict = match k.tensor_core {
            Verdict::Yes => "yes (slow variant)",
            v => v.label(),
        };
        let _ = writeln!(
            s,
            "<tr><td class=\"name\" title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            h(&truncate(&k.name, 2000)),
            h(&truncate(&k.name, 160)),
            k.category.label(),
            verdict,
            k.tensor_core_evidence.label(),
            k.count,
            ns(k.total_ns),
            h(k.tensor_core_reason.as_deref().unwrap_or(""))
        );
    }
    s.push_str("</table>\n");
}

/// Every kernel of the window with its verdict, folded.
fn all_kernels(s: &mut String, r: &Report) {
    let shown = r.kernels.len().min(4 * MAX_ROWS);
    let _ = writeln!(
        s,
        "<details><summary>Verdict of every kernel ({shown} of {} names)</summary><table><tr><th>kernel</th><th>category</th><th>Tensor Cores</th><th>evidence</th><th class=\"n\">total</th></tr>",
        r.kernels.len()
    );
    for k in r.kernels.iter().take(shown) {
        let _ = writeln!(
            s,
            "<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            h(&truncate(&k.name, 160)),
            k.category.label(),
            k.tensor_core.label(),
            k.tensor_core_evidence.label(),
            ns(k.total_ns)
        );
    }
    s.push_str("</table></details>\n");
}
