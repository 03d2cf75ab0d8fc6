//! "What the host was doing while the GPU waited": the `host_work`
//! section in HTML and Markdown. Times are per iteration when the window
//! has iterations (window totals otherwise).

use std::fmt::Write;

use crate::analysis::host_work::{CauseWork, HostWork, SampledRow, TimedRow};
use crate::document::Report;
use crate::model::Ns;
use crate::text::escape::{html as h, truncate};
use crate::text::format::{ns, pct};

/// Rows per source in a cause's HTML table.
const ROWS: usize = 6;
/// Fewest samples for the Markdown line to quote their shares.
const MIN_SAMPLES: u64 = 5;

/// How a cause reads in a heading.
fn cause_label(cause: &str) -> &'static str {
    match cause {
        "sync" => "GPU idle while the host waited on it (sync)",
        "launch" => "GPU idle while the host launched work (launch)",
        _ => "GPU idle while the host was busy elsewhere (host)",
    }
}

fn source_label(source: &str) -> &'static str {
    match source {
        "python-functions" => "Python functions (PyTorch profiler with_stack)",
        "operators" => "framework operators",
        "os-runtime" => "OS runtime calls (nsys osrt)",
        "cpu-samples" => "CPU samples with native call stacks (nsys --sample)",
        _ => "other",
    }
}

/// Divides window totals into per-iteration values.
struct Per(i64);

impl Per {
    fn of(r: &Report) -> Per {
        Per(r.window.iterations.max(1) as i64)
    }
    fn t(&self, v: Ns) -> String {
        ns(v / self.0)
    }
    fn unit(&self) -> &'static str {
        if self.0 > 1 {
            "per iteration"
        } else {
            "in the window"
        }
    }
}

/// Whether a cause has anything to show.
fn has_rows(c: &CauseWork) -> bool {
    !c.python.is_empty()
        || !c.operators.is_empty()
        || !c.os_calls.is_empty()
        || c.samples.as_ref().is_some_and(|s| s.samples > 0)
}

/// The HTML section; nothing when the capture recorded no host activity.
pub fn html(s: &mut String, r: &Report) {
    let Some(hw) = &r.host_work else { return };
    let per = Per::of(r);
    s.push_str("<h2 id=\"host-work\">What the host was doing while the GPU waited</h2>\n");
    let sources: Vec<&str> = hw.sources.iter().map(|x| source_label(x)).collect();
    let threads: Vec<String> = hw
        .threads
        .iter()
        .map(|t| match &t.name {
            Some(n) if n.contains(&t.tid.to_string()) => n.clone(),
            Some(n) => format!("{} (pid {}, tid {})", n, t.pid, t.tid),
            None => format!("pid {}, tid {}", t.pid, t.tid),
        })
        .collect();
    let _ = writeln!(
        s,
        "<p class=\"sub\">From {}, on the threads that made CUDA calls ({}). Times are {}; shares are of that cause's GPU-idle time. \
         Self time: the function or call was the innermost one running; total: it was on the stack.{}</p>",
        h(&sources.join(", ")),
        h(&threads.join("; ")),
        per.unit(),
        period_note(hw)
    );
    for c in hw.causes.iter().filter(|c| c.gpu_idle_ns > 0 && has_rows(c)) {
        let _ = writeln!(
            s,
            "<h3>{}: {} {}</h3>",
            h(cause_label(&c.cause)),
            h(&per.t(c.gpu_idle_ns)),
            per.unit()
        );
        let timed = !c.python.is_empty() || !c.operators.is_empty() || !c.os_calls.is_empty();
        if timed {
            s.push_str(
                "<table><tr><th>measured</th><th>name</th><th class=\"n\">calls</th><th class=\"n\">self</th><th class=\"n\">total</th><th class=\"n\">self share</th></tr>\n",
            );
            timed_rows(s, "Python", &c.python, c.gpu_idle_ns, &per, ROWS);
            // With Python frames, operators repeat much of them.
            let ops = if c.python.is_empty() { ROWS } else { 3 };
            timed_rows(s, "operator", &c.operators, c.gpu_idle_ns, &per, ops);
            timed_rows(s, "OS call", &c.os_calls, c.gpu_idle_ns, &per, ROWS);
            s.push_str("</table>\n");
        }
        if let Some(rest) = unexplained(c) {
            let _ = writeln!(
                s,
                "<p class=\"sub\">{} {} of this idle time was spent outside any recorded call, on the CPU, where this capture recorded nothing: {HINT}.</p>",
                h(&per.t(rest)),
                per.unit()
            );
        }
        if let Some(sw) = c.samples.as_ref().filter(|x| x.samples > 0) {
            s.push_str(
                "<table><tr><th>sampled</th><th>name</th><th class=\"n\">samples</th><th class=\"n\">CPU time</th><th class=\"n\">share</th></tr>\n",
            );
            sampled_rows(s, "module", &sw.modules, sw.samples, &per);
            sampled_rows(s, "function", &sw.functions, sw.samples, &per);
            sampled_rows(s, "library entry", &sw.library_entries, 0, &per);
            s.push_str("</table>\n");
            let _ = writeln!(
                s,
                "<p class=\"sub\">{} CPU sample{} in this idle time{}. Shares are of these samples; a library entry is \
                 where a native library was called into, counted in the samples that carry a call stack. \
                 Off-CPU time (sleep, I/O, locks) has no samples: the OS calls show it.</p>",
                sw.samples,
                if sw.samples == 1 { "" } else { "s" },
                sw.estimated_ns
                    .map(|e| format!(" (about {} of CPU time {})", per.t(e), per.unit()))
                    .unwrap_or_default()
            );
        }
    }
}

fn period_note(hw: &HostWork) -> String {
    match (hw.sample_period_ns, hw.sample_period_source.as_deref()) {
        (Some(p), Some("profiler")) => format!(
            " One CPU sample stands for {} of CPU time (the profiler's period).",
            ns(p)
        ),
        (Some(p), _) => format!(
            " One CPU sample stands for about {} of CPU time (the median gap between a thread's samples).",
            ns(p)
        ),
        _ => String::new(),
    }
}

/// Up to `n` rows with self time (a frame that only encloses others, such
/// as `<module>`, says nothing here; its total is in report.json).
fn timed_rows(s: &mut String, source: &str, rows: &[TimedRow], idle: Ns, per: &Per, n: usize) {
    for row in rows.iter().filter(|r| r.self_ns > 0).take(n) {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"name\" title=\"{}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            h(source),
            h(&truncate(&row.name, 2000)),
            h(&truncate(&row.name, 120)),
            row.count,
            h(&per.t(row.self_ns)),
            h(&per.t(row.total_ns)),
            pct(row.self_ns, idle)
        );
    }
}

/// Sampled rows; `of` is the samples shares are of (0: no share).
fn sampled_rows(s: &mut String, source: &str, rows: &[SampledRow], of: u64, per: &Per) {
    for row in rows.iter().take(ROWS) {
        let kind = match row.module_kind.as_str() {
            "python" => " · Python interpreter",
            "kernel" => " · OS kernel",
            _ => "",
        };
        let file = row.module.rsplit('/').next().unwrap_or(&row.module);
        let module = short_module(file);
        let label = if row.name == file {
            format!("{module}{kind}")
        } else {
            format!("{} ({module}{kind})", row.name)
        };
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"name\" title=\"{}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            h(source),
            h(&truncate(&format!("{} in {}", row.name, row.module), 2000)),
            h(&truncate(&label, 120)),
            row.samples,
            h(&row
                .estimated_ns
                .map(|e| format!("~{}", per.t(e)))
                .unwrap_or_default()),
            if of > 0 {
                pct(row.samples as Ns, of as Ns)
            } else {
                String::new()
            }
        );
    }
}

/// How to see what ran on the CPU when only OS calls were recorded.
const HINT: &str = "capture CPU samples (trace-report profile --host-sampling on) or use the PyTorch profiler with with_stack=True";

/// The idle time in which no counted thread was inside a recorded
/// operator or OS call, when nothing else (Python frames, samples) says
/// what ran there: None when there is nothing to add.
fn unexplained(c: &CauseWork) -> Option<Ns> {
    let rest = c.untraced_ns?;
    // Under a tenth of the idle time is not worth a line.
    (rest * 10 >= c.gpu_idle_ns && rest > 0).then_some(rest)
}

/// A module's file name without its ABI and version suffixes:
/// `_multiarray_umath.cpython-312-x86_64-linux-gnu.so` -> `_multiarray_umath`,
/// `libc.so.6` -> `libc`.
fn short_module(file: &str) -> &str {
    let cut = [".cpython-", ".so", ".abi3"]
        .iter()
        .filter_map(|m| file.find(m))
        .filter(|&i| i > 0)
        .min();
    cut.map_or(file, |i| &file[..i])
}

/// Inline code in Markdown: the text is literal there, so only backticks
/// (which would close it) and line breaks are replaced.
fn code(s: &str) -> String {
    let t: String = truncate(s, 60)
        .chars()
        .map(|c| {
            if c == '`' {
                '\''
            } else if c.is_control() {
                '?'
            } else {
                c
            }
        })
        .collect();
    format!("`{t}`")
}

/// One Markdown line per cause that has something to say.
pub fn markdown(s: &mut String, r: &Report) {
    let Some(hw) = &r.host_work else { return };
    let per = Per::of(r);
    let causes: Vec<&CauseWork> = hw
        .causes
        .iter()
        .filter(|c| c.gpu_idle_ns > 0 && has_rows(c))
        .collect();
    if causes.is_empty() {
        return;
    }
    let mut lines = String::new();
    for c in causes {
        let mut parts: Vec<String> = Vec::new();
        let named = |rows: &[TimedRow], n: usize| -> Vec<String> {
            // Under 1% of the idle time is not worth words here.
            rows.iter()
                .filter(|x| x.self_ns > 0 && x.self_ns * 100 >= c.gpu_idle_ns)
                .take(n)
                .map(|x| format!("{} {}", code(&x.name), per.t(x.self_ns)))
                .collect()
        };
        let py = named(&c.python, 3);
        if !py.is_empty() {
            parts.push(format!("Python {}", py.join(", ")));
        } else {
            let ops = named(&c.operators, 3);
            if !ops.is_empty() {
                parts.push(format!("operators {}", ops.join(", ")));
            }
        }
        let os = named(&c.os_calls, 2);
        if !os.is_empty() {
            parts.push(format!("OS calls {}", os.join(", ")));
        }
        // A handful of samples says little; the HTML lists them anyway.
        if let Some(sw) = c.samples.as_ref().filter(|x| x.samples >= MIN_SAMPLES) {
            let mods: Vec<String> = sw
                .modules
                .iter()
                .take(3)
                .map(|m| {
                    let kind = if m.module_kind == "python" {
                        " (Python)"
                    } else {
                        ""
                    };
                    format!(
                        "{}{kind} {}",
                        code(short_module(&m.name)),
                        pct(m.samples as Ns, sw.samples as Ns)
                    )
                })
                .collect();
            parts.push(format!("CPU samples {}", mods.join(", ")));
        }
        if let Some(rest) = unexplained(c) {
            parts.push(format!(
                "{} outside any recorded call, where what ran on the CPU was not recorded ({HINT})",
                per.t(rest)
            ));
        }
        if parts.is_empty() {
            continue;
        }
        let _ = writeln!(
            lines,
            "- **{}** {}: {}",
            c.cause,
            per.t(c.gpu_idle_ns),
            parts.join("; ")
        );
    }
    if !lines.is_empty() {
        let _ = writeln!(
            s,
            "### What the host was doing while the GPU waited ({})\n",
            per.unit()
        );
        s.push_str(&lines);
        s.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::{code, short_module};

    #[test]
    fn module_names() {
        assert_eq!(
            short_module("_multiarray_umath.cpython-312-x86_64-linux-gnu.so"),
            "_multiarray_umath"
        );
        assert_eq!(short_module("libc.so.6"), "libc");
        assert_eq!(short_module("python3.12"), "python3.12");
        assert_eq!(short_module(".so"), ".so");
    }

    #[test]
    fn code_spans_stay_closed() {
        assert_eq!(code("a`b\nc"), "`a'b?c`");
    }
}
