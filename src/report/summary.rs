//! What every renderer says first, computed once: the headline sentence,
//! the findings ranked by time at stake per iteration with the best-case
//! iteration time if fixed, and human labels for evidence facts.
//!
//! Findings' times are window totals in `report.json`; people read them per
//! iteration (the unit they optimise), with the window total as secondary
//! text.

use crate::document::Report;
use crate::findings::Finding;
use crate::model::Ns;
use crate::text::format::{ns, pct};

/// Findings under this share of the window are folded into one line.
pub const FOLD_SHARE: f64 = 0.001;

/// Iterations the window holds (1 without iterations: the window is the unit).
pub fn iterations(r: &Report) -> Ns {
    r.window.iterations.max(1) as Ns
}

/// The unit of per-iteration figures: `per iteration` or `in the window`.
pub fn unit(r: &Report) -> &'static str {
    if r.window.iterations > 0 {
        "per iteration"
    } else {
        "in the window"
    }
}

/// A window total as a per-iteration figure.
pub fn per_iteration(r: &Report, total_ns: Ns) -> Ns {
    total_ns / iterations(r)
}

/// The time one iteration takes: the mean iteration time, else the window.
pub fn iteration_ns(r: &Report) -> Ns {
    r.iteration_time
        .as_ref()
        .map_or(r.window.duration_ns, |t| t.mean_ns)
}

/// One finding ranked for "Fix first".
pub struct Fix<'a> {
    /// Index into `report.findings`.
    pub index: usize,
    pub finding: &'a Finding,
    /// Time at stake per iteration.
    pub stake_ns: Ns,
    /// The iteration time if the finding were fixed in full (the best case:
    /// what the rule puts at stake is an upper bound on the saving).
    pub best_case_ns: Ns,
}

impl Fix<'_> {
    /// `51.1 ms -> no less than ~19.0 ms`.
    pub fn projection(&self, r: &Report) -> String {
        format!(
            "{} → no less than ~{}",
            ns(iteration_ns(r)),
            ns(self.best_case_ns)
        )
    }

    /// `388.7 ms over 12 iterations, 63.4% of the window`.
    pub fn window_note(&self, r: &Report) -> String {
        let total = self.finding.time_at_stake_ns;
        if r.window.iterations > 0 {
            format!(
                "{} over {} iterations, {} of the window",
                ns(total),
                r.window.iterations,
                pct(total, r.window.duration_ns)
            )
        } else {
            format!("{} of the window", pct(total, r.window.duration_ns))
        }
    }
}

/// Findings ranked by time at stake per iteration (the order of
/// `report.findings`, which is by window total, is the same ranking), and
/// the ones too small to list (under [`FOLD_SHARE`] of the window).
pub fn fixes(r: &Report) -> (Vec<Fix<'_>>, Vec<&Finding>) {
    let window = r.window.duration_ns;
    let it = iteration_ns(r);
    let mut shown = Vec::new();
    let mut folded = Vec::new();
    for (index, f) in r.findings.iter().enumerate() {
        if window > 0 && (f.time_at_stake_ns as f64) < FOLD_SHARE * window as f64 {
            folded.push(f);
            continue;
        }
        let stake_ns = per_iteration(r, f.time_at_stake_ns);
        shown.push(Fix {
            index,
            finding: f,
            stake_ns,
            best_case_ns: (it - stake_ns).max(0),
        });
    }
    shown.sort_by(|a, b| b.stake_ns.cmp(&a.stake_ns).then(a.index.cmp(&b.index)));
    (shown, folded)
}

/// A finding's title without a leading `rule:` that repeats its name.
pub fn title(f: &Finding) -> &str {
    f.title
        .strip_prefix(f.rule.as_str())
        .and_then(|t| t.strip_prefix(':'))
        .map_or(f.title.as_str(), str::trim_start)
}

/// One line for the folded findings: `2 more under 0.1% of the window: TR401, TR403`.
pub fn folded_line(folded: &[&Finding]) -> Option<String> {
    if folded.is_empty() {
        return None;
    }
    let codes: Vec<String> = folded.iter().map(|f| format!("{} {}", f.code, f.rule)).collect();
    Some(format!(
        "{} more under {:.1}% of the window each: {}",
        folded.len(),
        FOLD_SHARE * 100.0,
        codes.join(", ")
    ))
}

/// The share of the window each part takes, 0..1.
fn share(part: Ns, whole: Ns) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The headline: what the GPU does with an iteration, in one sentence.
/// An idle GPU says what it waits on; a busy one says whether it is
/// computing or copying.
pub fn headline(r: &Report) -> String {
    let a = &r.attribution.window;
    let total = a.total_ns;
    if total <= 0 {
        return "The window is empty: no GPU activity and no iterations.".into();
    }
    let idle = a.activity.gpu_idle_ns;
    let copies = a.activity.memcpy_ns + a.activity.memset_ns;
    let busy = total - idle;
    if share(idle, total) >= 0.5 {
        let mut causes = [
            ("host work between GPU calls", a.gpu_idle.host_ns),
            ("kernel launches", a.gpu_idle.launch_ns),
            ("synchronisation", a.gpu_idle.sync_ns),
        ];
        causes.sort_by(|x, y| y.1.cmp(&x.1));
        let listed: Vec<String> = causes
            .iter()
            .filter(|(_, v)| share(*v, total) >= 0.01)
            .map(|(n, v)| format!("{n} {}", pct(*v, total)))
            .collect();
        format!(
            "The GPU is idle {} of the time: it waits on {}. The host, not the GPU, sets the pace.",
            pct(idle, total),
            if listed.is_empty() {
                "the host".to_string()
            } else {
                listed.join(", ")
            }
        )
    } else if copies > a.activity.kernel_ns {
        format!(
            "The GPU is busy {} of the time, mostly copying memory ({}), not computing (kernels {}).",
            pct(busy, total),
            pct(copies, total),
            pct(a.activity.kernel_ns, total)
        )
    } else {
        format!(
            "The GPU is busy {} of the time (kernels {}, copies {}); idle {}.",
            pct(busy, total),
            pct(a.activity.kernel_ns, total),
            pct(copies, total),
            pct(idle, total)
        )
    }
}

/// The busy card's note: whether busy means computing or copying.
pub fn busy_note(r: &Report) -> String {
    let a = &r.attribution.window;
    let total = a.total_ns;
    let copies = a.activity.memcpy_ns + a.activity.memset_ns;
    // "Busy" only means copying when the GPU is busy at all.
    if copies > a.activity.kernel_ns && share(total - a.activity.gpu_idle_ns, total) >= 0.2 {
        format!(
            "busy copying, not computing: copies {} · kernels {}",
            pct(copies, total),
            pct(a.activity.kernel_ns, total)
        )
    } else {
        format!(
            "kernels {} · copies {}",
            pct(a.activity.kernel_ns, total),
            pct(copies, total)
        )
    }
}

/// `s` cut to at most `max` characters at a word boundary, with `…`.
pub fn clip_words(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    let at = cut
        .rfind([' ', ',', ';', ')'])
        .filter(|&i| i > cut.len() / 2)
        .unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end_matches([' ', ',', ';']))
}

/// A number of things: integers as integers, fractions with one decimal.
pub fn number(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A human label for an evidence fact key.
pub fn fact_label(key: &str) -> String {
    let known = match key {
        "share_of_window" => "share of the window",
        "at_stake_ns" => "time at stake (window)",
        "per_iteration" => "per iteration",
        "window_kernel_ns" => "kernel time in the window",
        "window_iterations" => "iterations in the window",
        "total_ns" => "total time",
        "kernel_names" => "kernel names",
        "gpu_ns" => "GPU time",
        "copy_ns" | "memcpy_ns" => "copy time",
        "tiny_copies" => "tiny copies",
        "short_share" => "short kernels (share)",
        "short_kernels" => "short kernels",
        "round_trips" => "round trips",
        "recurring_uploads_per_iteration" => "recurring uploads per iteration",
        "ranges" => "NVTX ranges",
        "phase_ns" => "phase time",
        "per_iteration_idle_ns" => "GPU idle per iteration",
        "per_iteration_bytes" => "bytes per iteration",
        "pageable_copies" => "pageable copies",
        "median_launch_call_ns" => "median launch call",
        "median_kernel_ns" => "median kernel",
        "median_issue_interval_ns" => "median time between launches",
        "longest_run" => "longest run",
        "kernel_ns" => "kernel time",
        "iterations_with_upload" => "iterations with the upload",
        "iterations_with_round_trip" => "iterations with a round trip",
        "involved_ns" => "time involved",
        "gpu_idle_sync_ns" => "GPU idle in sync waits",
        "gpu_idle_ns" => "GPU idle",
        "gpu_idle_launch_ns" => "GPU idle while launching",
        "gpu_idle_host_ns" => "GPU idle, host busy",
        "gaps" => "idle gaps",
        "gap_ns" => "time in idle gaps",
        "from_nvtx_ranges" => "phase taken from",
        "copy_kernels" => "copy kernels",
        "copies_in_runs" => "copies in runs",
        "concat_kernels" => "concatenation kernels",
        "call_ns" => "time in the calls",
        "blocking_calls" => "blocking calls",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    key.strip_suffix("_ns")
        .or_else(|| key.strip_suffix("_bytes"))
        .unwrap_or(key)
        .replace('_', " ")
}

/// A fact's value for people: units by key, integers as integers,
/// booleans in words.
pub fn fact_value(key: &str, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Bool(b) if key == "from_nvtx_ranges" => if *b {
            "NVTX ranges"
        } else {
            "each iteration's head or tail (no phase ranges)"
        }
        .into(),
        serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        serde_json::Value::Number(n) if n.is_f64() && !key.contains("share") => {
            number(n.as_f64().unwrap_or(0.0))
        }
        _ => crate::text::format::fact(key, v),
    }
}

/// A demangled kernel name made short but telling: no `void`, no
/// namespace qualifiers, no integer casts, so the template arguments that
/// tell two instances apart (`CUDAFunctor_add<Half>`) stay readable.
pub fn compact_kernel_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let name = name.trim().strip_prefix("void ").unwrap_or(name.trim());
    let mut word = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            word.clear(); // a qualifier: drop it
            continue;
        }
        out.push_str(&word);
        word.clear();
        if c == '(' {
            // `(int)8` -> `8`; keep other parentheses (`(T1::Params)`).
            let rest: String = chars.clone().take_while(|&d| d != ')').collect();
            if matches!(
                rest.as_str(),
                "int"
                    | "unsigned int"
                    | "long"
                    | "unsigned long"
                    | "bool"
                    | "char"
                    | "signed char"
                    | "unsigned char"
                    | "short"
            ) {
                for _ in 0..=rest.chars().count() {
                    chars.next();
                }
                continue;
            }
        }
        if c == ' ' && (out.ends_with(',') || out.ends_with('<') || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.push_str(&word);
    out
}

/// Labels for kernel rows that tell rows apart: the short name when it is
/// unique among `names`, else the compacted full name (template
/// arguments), numbered if even that repeats. `names`: (full, short).
pub fn kernel_labels(names: &[(&str, &str)], max: usize) -> Vec<String> {
    let mut labels: Vec<String> = names
        .iter()
        .map(|(full, short)| {
            if names.iter().filter(|(_, s)| s == short).count() > 1 {
                // Keep both the name and the arguments that tell it apart.
                let compact = compact_kernel_name(full);
                match compact.strip_prefix(short) {
                    Some(rest) if compact.chars().count() > max => {
                        let head = crate::text::escape::truncate(short, max * 2 / 5);
                        let n = head.chars().count();
                        format!(
                            "{head}{}",
                            crate::text::escape::truncate(rest, max.saturating_sub(n))
                        )
                    }
                    _ => crate::text::escape::truncate(&compact, max),
                }
            } else {
                crate::text::escape::truncate(short, max)
            }
        })
        .collect();
    for i in 0..labels.len() {
        let same: Vec<usize> = (0..labels.len()).filter(|&j| labels[j] == labels[i]).collect();
        if same.len() > 1 {
            for (k, j) in same.into_iter().enumerate() {
                labels[j] = format!("{} #{}", labels[j], k + 1);
            }
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_numbers() {
        assert_eq!(clip_words("short", 10), "short");
        assert_eq!(
            clip_words("FP16 GEMM (64 is below the tile)", 20),
            "FP16 GEMM (64 is…"
        );
        assert_eq!(number(352.0), "352");
        assert_eq!(number(42072.0004), "42072");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(fact_label("from_nvtx_ranges"), "phase taken from");
        assert_eq!(fact_label("some_new_ns"), "some new");
        assert_eq!(fact_value("per_iteration", &serde_json::json!(352.0)), "352");
        assert_eq!(
            fact_value("from_nvtx_ranges", &serde_json::json!(true)),
            "NVTX ranges"
        );
        assert_eq!(fact_value("share_of_window", &serde_json::json!(0.5)), "50.0%");
    }

    #[test]
    fn same_named_kernels_get_distinct_labels() {
        let a = "void at::native::vectorized_elementwise_kernel<(int)8, at::native::CUDAFunctor_add<c10::Half>, at::detail::Array<char *, (int)3>>(int, T2, T3)";
        let b = "void at::native::vectorized_elementwise_kernel<(int)4, at::native::FillFunctor<float>, at::detail::Array<char *, (int)1>>(int, T2, T3)";
        assert_eq!(
            compact_kernel_name(a),
            "vectorized_elementwise_kernel<8,CUDAFunctor_add<Half>,Array<char *,3>>(int,T2,T3)"
        );
        let l = kernel_labels(
            &[
                (a, "vectorized_elementwise_kernel"),
                (b, "vectorized_elementwise_kernel"),
                ("a::k<1>", "k"),
                ("b::k<1>", "k"),
            ],
            40,
        );
        assert!(
            l[0].contains("CUDAFunctor_add") && l[1].contains("FillFunctor"),
            "{l:?}"
        );
        assert_eq!(l[2..], ["k<1> #1".to_string(), "k<1> #2".to_string()]);
    }
}
