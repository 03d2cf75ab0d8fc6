//! The few lines printed after an analysis.

use crate::document::Report;
use crate::findings::Severity;
use crate::text::escape::{terminal as clean, truncate};
use crate::text::format::{ns, pct};

/// The biggest attribution bucket: (label, ns).
pub fn biggest_bucket(r: &Report) -> (&'static str, i64) {
    let a = &r.attribution.window;
    [
        ("kernels", a.activity.kernel_ns),
        ("memcpy", a.activity.memcpy_ns),
        ("memset", a.activity.memset_ns),
        ("GPU idle: host busy", a.gpu_idle.host_ns),
        ("GPU idle: sync wait", a.gpu_idle.sync_ns),
        ("GPU idle: launching", a.gpu_idle.launch_ns),
    ]
    .into_iter()
    .max_by_key(|(_, v)| *v)
    .unwrap_or(("-", 0))
}

/// GPU names with repeats counted: `8x NVIDIA A100`, in first-seen order.
pub fn gpu_list(r: &Report) -> Vec<String> {
    let names: Vec<String> = r.source.gpus.iter().map(|g| clean(&g.name)).collect();
    crate::text::format::counted(names.iter().map(String::as_str))
}

/// The headline numbers as text lines.
pub fn render(r: &Report) -> String {
    let a = &r.attribution.window;
    let total = a.total_ns;
    let mut out = String::new();
    let gpus = gpu_list(r);
    out.push_str(&format!(
        "{} ({}{}{})\n",
        clean(&r.source.path),
        r.source.format,
        r.source
            .profiler_version
            .as_deref()
            .map(|v| format!(", {}", clean(v)))
            .unwrap_or_default(),
        if gpus.is_empty() {
            String::new()
        } else {
            format!(", {}", gpus.join(" + "))
        }
    ));
    match (&r.window.iteration_range, &r.iteration_time) {
        (Some(name), Some(t)) => out.push_str(&format!(
            "window: {} '{}' iterations, {}; iteration p50 {} (mean {}, p90 {}, max {})\n",
            t.count,
            clean(name),
            ns(r.window.duration_ns),
            ns(t.p50_ns),
            ns(t.mean_ns),
            ns(t.p90_ns),
            ns(t.max_ns)
        )),
        _ => out.push_str(&format!(
            "window: {} ({})\n",
            ns(r.window.duration_ns),
            r.window.scope.describe()
        )),
    }
    let busy = total - a.activity.gpu_idle_ns;
    out.push_str(&format!(
        "GPU busy {} (kernel {}, memcpy {}, memset {}); idle {} (sync {}, launch {}, host {})\n",
        pct(busy, total),
        pct(a.activity.kernel_ns, total),
        pct(a.activity.memcpy_ns, total),
        pct(a.activity.memset_ns, total),
        pct(a.activity.gpu_idle_ns, total),
        pct(a.gpu_idle.sync_ns, total),
        pct(a.gpu_idle.launch_ns, total),
        pct(a.gpu_idle.host_ns, total),
    ));
    let tail = if a.phase.gpu_tail_ns > 0 {
        format!(", gpu tail {}", pct(a.phase.gpu_tail_ns, total))
    } else {
        String::new()
    };
    out.push_str(&format!(
        "phases: preprocess {}, inference {}, postprocess {}, unannotated {}{tail}\n",
        pct(a.phase.preprocess_ns, total),
        pct(a.phase.inference_ns, total),
        pct(a.phase.postprocess_ns, total),
        pct(a.phase.unannotated_ns, total),
    ));
    if let Some(k) = r.kernels.first() {
        let its = super::summary::iterations(r);
        out.push_str(&format!(
            "top kernel: {} ({}, {} {unit}; {} calls, {} in the window)\n",
            truncate(&clean(&k.short_name), 60),
            k.category.label(),
            ns(k.total_ns / its),
            k.count,
            ns(k.total_ns),
            unit = super::summary::unit(r),
        ));
    }
    out.push_str(&format!("{}\n", super::summary::headline(r)));
    let warn = r
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .count();
    let (fixes, folded) = super::summary::fixes(r);
    match fixes.first() {
        Some(f) => out.push_str(&format!(
            "findings: {} ({} warning or worse); fix first: {} {}, {} at stake {}{}: {}\n",
            r.findings.len(),
            warn,
            f.finding.code,
            f.finding.rule,
            ns(f.stake_ns),
            super::summary::unit(r),
            if r.window.iterations > 0 {
                format!(" ({} in the window)", ns(f.finding.time_at_stake_ns))
            } else {
                String::new()
            },
            truncate(&clean(super::summary::title(f.finding)), 70),
        )),
        None if !folded.is_empty() => out.push_str(&format!(
            "findings: {}, each under 0.1% of the window\n",
            folded.len()
        )),
        None => out.push_str("findings: none\n"),
    }
    if !r.warnings.is_empty() {
        out.push_str(&format!(
            "input warnings: {} (see the report)\n",
            r.warnings.len()
        ));
    }
    out
}
