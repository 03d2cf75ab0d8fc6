//! The few lines printed after a diff.

use super::Diff;
use super::matching::Match;
use super::text::{delta, headline, pct, sample_sizes};
use crate::text::escape::{terminal as clean, truncate};

/// Kernel rows listed.
const TOP: usize = 5;

pub fn render(d: &Diff) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "diff: {} -> {}\n",
        clean(&d.base.path),
        clean(&d.new.path)
    ));
    out.push_str(&format!("verdict {} over {}\n", headline(d), sample_sizes(d)));
    out.push_str(&format!(
        "  test: {}; {}\n",
        d.verdict.test,
        clean(&d.verdict.reason)
    ));
    let unit = d.normalization.unit();
    let line = |group: &[&str]| -> String {
        let mut rows: Vec<_> = d
            .attribution
            .iter()
            .filter(|a| group.contains(&a.group.as_str()) && a.delta_ns != 0.0)
            .collect();
        rows.sort_by(|a, b| b.delta_ns.abs().total_cmp(&a.delta_ns.abs()));
        let parts: Vec<String> = rows
            .iter()
            .map(|a| {
                let label = if a.group == "gpu_idle" {
                    format!("idle {}", a.name)
                } else {
                    a.name.clone()
                };
                format!("{label} {}", delta(a.delta_ns))
            })
            .collect();
        if parts.is_empty() {
            "no change".to_string()
        } else {
            parts.join(", ")
        }
    };
    out.push_str(&format!(
        "time ({unit}): {}\n",
        line(&["activity", "gpu_idle"]).replace("gpu_idle ", "GPU idle ")
    ));
    out.push_str(&format!("phases ({unit}): {}\n", line(&["phase"])));
    let cats: Vec<String> = d
        .categories
        .iter()
        .filter(|c| c.delta_ns != 0.0)
        .take(4)
        .map(|c| format!("{} {}", c.category.label(), delta(c.delta_ns)))
        .collect();
    if !cats.is_empty() {
        out.push_str(&format!(
            "kernel time by category ({unit}): {}\n",
            cats.join(", ")
        ));
    }
    if let Some(t) = &d.tensor_cores {
        let share = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{:.1}%", x * 100.0));
        out.push_str(&format!(
            "Tensor Core share of matrix time: {} -> {}\n",
            share(t.base_share),
            share(t.new_share)
        ));
    }
    if let Some(p) = &d.precision {
        out.push_str(&format!("precision: {}\n", p.summary));
    }
    let top: Vec<_> = d.kernels.iter().filter(|k| k.delta_ns != 0.0).take(TOP).collect();
    if !top.is_empty() {
        out.push_str(&format!("top kernel changes ({unit}):\n"));
        for k in top {
            out.push_str(&format!(
                "  {:>11} {:>8}  {:<11} {}\n",
                delta(k.delta_ns),
                pct(k.change_pct),
                k.matched.label(),
                truncate(&clean(&k.label()), 90)
            ));
        }
    }
    let appeared = d.kernels_matched(Match::Appeared).count();
    let gone = d.kernels_matched(Match::Disappeared).count();
    if appeared + gone > 0 {
        out.push_str(&format!("kernels: {appeared} appeared, {gone} disappeared\n"));
    }
    let changed = d
        .findings
        .iter()
        .filter(|f| f.status != super::findings::Status::Unchanged)
        .count();
    if changed > 0 {
        out.push_str(&format!("findings: {changed} resolved, new or changed\n"));
    }
    for w in &d.comparability {
        out.push_str(&format!("warning: {}\n", clean(w)));
    }
    out
}
