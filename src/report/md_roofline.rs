//! The roofline piece of `report.md`: the GPU's roofs and their source,
//! the share table and the top kernels under the roofs.

use std::fmt::Write;

use super::html_roofline::{intensity, opt_si, roof_text, si};
use crate::document::Report;
use crate::text::escape::{markdown as md, truncate};
use crate::text::format::ns;

/// Kernels listed.
const TOP: usize = 8;

/// Append the section to `s` (nothing when no source has work and the
/// trace has no device-to-device copies).
pub fn section(s: &mut String, r: &Report) {
    let x = &r.roofline;
    let any = r.kernels.iter().any(|k| k.roofline.is_some());
    if !any && x.copies.is_empty() {
        return;
    }
    s.push_str("### Roofline\n\n");
    match &x.peaks {
        Some(p) => {
            let _ = writeln!(
                s,
                "Roofs of the {}: memory {}/s, FP32 {}, FP16 Tensor Core {} (dense; [{}]({})).\n",
                md(&p.name),
                si(p.memory_bytes_per_s, "B"),
                p.fp32_flops.map_or("-".into(), |v| si(v, "FLOP/s")),
                p.fp16_flops.map_or("-".into(), |v| si(v, "FLOP/s")),
                md(&truncate(&p.source.title, 80)),
                p.source.url.replace(['(', ')', ' '], "")
            );
        }
        None => {
            for n in &x.notes {
                let _ = writeln!(s, "{}\n", md(n));
            }
        }
    }
    if any {
        s.push_str("| kernels | share of time | share of FLOPs |\n|---|---:|---:|\n");
        for g in &x.by_group {
            let _ = writeln!(
                s,
                "| {} | {:.1}% | {} |",
                md(&g.group),
                100.0 * g.time_share,
                g.flop_share.map_or("-".into(), |f| format!("{:.1}%", 100.0 * f))
            );
        }
        let _ = write!(
            s,
            "\n| kernel | time {} | FLOP/B | FLOP/s | bytes/s | of roof | verdict | source |\n|---|---:|---:|---:|---:|---|---|---|\n",
            super::summary::unit(r)
        );
        for k in r.kernels.iter().filter(|k| k.roofline.is_some()).take(TOP) {
            let p = k.roofline.as_ref().expect("filtered");
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
                md(&truncate(&k.short_name, 60)),
                ns(k.total_ns / super::summary::iterations(r)),
                intensity(p),
                opt_si(p.achieved_flops_per_s, ""),
                si(p.achieved_bytes_per_s, "B/s"),
                roof_text(p),
                p.bound.map_or("-", |b| b.label()),
                p.work_source.label()
            );
        }
        s.push('\n');
    }
    for c in &x.copies {
        let _ = writeln!(
            s,
            "Device-to-device copies: {} moved in {}, {}/s{}.\n",
            si(c.bytes, "B"),
            ns(c.total_ns),
            si(c.achieved_bytes_per_s, "B"),
            c.roof_percent
                .map(|p| format!(" ({p:.0}% of the memory roof)"))
                .unwrap_or_default()
        );
    }
}
