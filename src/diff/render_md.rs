//! `diff.md`: the comparison as a pull-request comment (capped well under
//! GitHub's 65,536 characters: tables are cut, names shortened).

use std::fmt::Write;

use super::Diff;
use super::findings::Status;
use super::matching::{KernelDelta, Match};
use super::text::{count, delta, measure, ns, pct, sample_sizes};
use crate::text::escape::{markdown as md, truncate};

/// Rows of the kernel-change table.
const TOP_KERNELS: usize = 15;
/// Rows of each appeared/disappeared list.
const TOP_LISTED: usize = 10;
const NAME_CHARS: usize = 80;

fn kernel_cell(k: &KernelDelta) -> String {
    md(&truncate(&k.label(), 2 * NAME_CHARS))
}

pub fn render(d: &Diff) -> Vec<u8> {
    let mut s = String::new();
    let unit = d.normalization.unit();
    let _ = writeln!(
        s,
        "## trace-report diff: {} → {}\n",
        md(d.base.file_name()),
        md(d.new.file_name())
    );
    let v = &d.verdict;
    let _ = writeln!(
        s,
        "**Verdict: {}** — {} over {}\n",
        v.verdict.label(),
        md(&measure(d, "→")),
        sample_sizes(d)
    );
    let _ = writeln!(
        s,
        "<sub>Test: {}. Result: {}.</sub>\n",
        md(&v.test),
        md(&v.reason)
    );
    if !d.comparability.is_empty() {
        s.push_str("> **Not fully comparable:**\n");
        for w in &d.comparability {
            let _ = writeln!(s, "> - {}", md(w));
        }
        s.push('\n');
    }

    if d.base.iteration_time.is_some() && d.new.iteration_time.is_some() {
        s.push_str("### Iteration time\n\n");
        s.push_str(&super::tables::iterations(d).markdown());
        s.push('\n');
    }

    let _ = writeln!(s, "### Where the time goes ({unit})\n");
    s.push_str(&super::tables::attribution(d).markdown());
    s.push('\n');

    if !d.categories.is_empty() {
        let _ = writeln!(s, "### Kernel time by category ({unit})\n");
        s.push_str(&super::tables::categories(d).markdown());
        s.push('\n');
    }

    if !d.kernels.is_empty() {
        let _ = writeln!(
            s,
            "### Kernel changes ({unit}, top {} of {} rows by time impact)\n",
            d.kernels.len().min(TOP_KERNELS),
            d.kernels.len()
        );
        s.push_str("| kernel (BASE → NEW) | match | category | BASE | NEW | Δ | change | calls |\n|---|---|---|---:|---:|---:|---:|---:|\n");
        for k in d.kernels.iter().take(TOP_KERNELS) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} → {} |",
                kernel_cell(k),
                k.matched.label(),
                k.category.label(),
                ns(k.base_ns),
                ns(k.new_ns),
                delta(k.delta_ns),
                pct(k.change_pct),
                count(k.base_count),
                count(k.new_count)
            );
        }
        s.push('\n');
        for (m, title) in [(Match::Disappeared, "Disappeared"), (Match::Appeared, "Appeared")] {
            let rows: Vec<_> = d.kernels_matched(m).collect();
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                "<details><summary>{title}: {} kernel(s), {} {unit}</summary>\n",
                rows.len(),
                delta(rows.iter().map(|k| k.delta_ns).sum())
            );
            s.push_str("| kernel | category | time | calls |\n|---|---|---:|---:|\n");
            for k in rows.iter().take(TOP_LISTED) {
                let (t, c, r) = if m == Match::Appeared {
                    (k.new_ns, k.new_count, &k.new)
                } else {
                    (k.base_ns, k.base_count, &k.base)
                };
                let name = r.first().map_or("", |x| x.name.as_str());
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    md(&truncate(name, NAME_CHARS)),
                    k.category.label(),
                    ns(t),
                    count(c)
                );
            }
            if rows.len() > TOP_LISTED {
                let _ = writeln!(s, "\n…and {} more in the HTML report.", rows.len() - TOP_LISTED);
            }
            s.push_str("\n</details>\n\n");
        }
    }

    if !d.memcpy.is_empty() {
        let _ = writeln!(s, "### Memory copies ({unit})\n");
        s.push_str(&super::tables::memcpy(d).markdown());
        s.push('\n');
    }

    super::work::markdown(&mut s, d);

    if let Some(t) = &d.tensor_cores {
        let share = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.1}%", v * 100.0));
        let _ = writeln!(
            s,
            "### Tensor Cores\n\nShare of eligible matrix time on Tensor Cores: {} → {} ({} pp); eligible {} → {}, on Tensor Cores {} → {} ({unit}).\n",
            share(t.base_share),
            share(t.new_share),
            t.delta_pp.map_or("-".into(), |p| format!("{p:+.1}")),
            ns(t.base_eligible_ns),
            ns(t.new_eligible_ns),
            ns(t.base_tensor_core_ns),
            ns(t.new_tensor_core_ns)
        );
    }

    if let Some(p) = &d.precision {
        let _ = writeln!(
            s,
            "**{}INT8 vs {}:** {}\n",
            if p.int8_slower {
                "int8-slower (TR404): "
            } else {
                ""
            },
            if p.int8_side == "new" {
                &p.base_precision
            } else {
                &p.new_precision
            },
            md(&p.summary)
        );
    }

    let moved: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.status != Status::Unchanged)
        .collect();
    if d.findings.is_empty() {
        s.push_str("**Findings:** none on either side.\n\n");
    } else if moved.is_empty() {
        let _ = writeln!(s, "**Findings:** the same {} on both sides.\n", d.findings.len());
    } else {
        let _ = writeln!(s, "### Findings ({unit} time at stake)\n");
        s.push_str(&super::tables::findings(d, true, 20).markdown());
        s.push('\n');
    }

    let _ = writeln!(
        s,
        "<sub>{} · BASE {} ({}) · NEW {} ({}) · {}</sub>",
        md(&d.generator),
        md(&d.base.path),
        md(&d.base.gpus.join(", ")),
        md(&d.new.path),
        md(&d.new.gpus.join(", ")),
        md(&d.normalization.explain())
    );

    crate::report::markdown::capped(s)
}
