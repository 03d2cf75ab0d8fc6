//! Carrying out a validated command; returns the process exit status.

use std::io::Write;

use crate::cli::{Action, Config, DiffConfig, ProfileConfig};
use crate::error::{Error, Result};
use crate::findings;
use crate::output::OutputTarget;
use crate::progress::Progress;
use crate::report::terminal;
use crate::{capture, diff, input, nsys, output, pipeline, timing};

/// Exit status for success.
pub const EXIT_OK: i32 = 0;
/// Exit status for findings at or above `--fail-on`, or a tripped gate.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit status for errors.
pub const EXIT_ERROR: i32 = 2;

pub fn run(action: Action) -> Result<i32> {
    match action {
        Action::Analyze(cfg) => analyze(&cfg),
        Action::Explain(rule) => explain(&rule),
        Action::Diff(cfg) => compare(&cfg),
        Action::Profile(p) => profile(&p),
        Action::Rules => {
            let mut out = String::new();
            for r in findings::rules() {
                out.push_str(&format!("{:<7} {:<22} {}\n", r.code(), r.name(), r.summary()));
            }
            print(&out);
            Ok(EXIT_OK)
        }
    }
}

fn explain(rule: &str) -> Result<i32> {
    match findings::rule(rule) {
        Some(r) => {
            // Doc comments keep the space after `///`: drop it.
            let doc: Vec<&str> = r
                .doc()
                .lines()
                .map(|l| l.strip_prefix(' ').unwrap_or(l))
                .collect();
            print(&format!("{} ({})\n\n{}\n", r.name(), r.code(), doc.join("\n")));
            Ok(EXIT_OK)
        }
        None => Err(crate::error::Error::usage(format!(
            "no rule named '{rule}' (trace-report rules lists them)"
        ))),
    }
}

fn analyze(cfg: &Config) -> Result<i32> {
    let progress = Progress::stderr(!cfg.quiet);
    let trace = timing::time("load", || input::load(&cfg.input, &cfg.read, &progress))?;
    progress.finish();
    let report = timing::time("analyze", || pipeline::analyze(&trace, &cfg.analysis))?;
    timing::time("free trace", || drop(trace));
    let written = timing::time("write", || {
        output::write(&report, &cfg.output, &cfg.formats, &cfg.input)
    })?;
    if !cfg.quiet {
        // With `-o -` stdout carries the report: the summary goes to stderr.
        let mut summary = terminal::render(&report);
        if !written.is_empty() {
            let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
            summary.push_str(&format!("wrote {}\n", files.join(", ")));
        }
        match cfg.output {
            OutputTarget::Stdout(_) => eprint!("{summary}"),
            OutputTarget::Dir(_) | OutputTarget::File(..) => print(&summary),
        }
    }
    let gate = cfg
        .fail_on
        .is_some_and(|min| report.findings.iter().any(|f| f.severity >= min));
    Ok(if gate { EXIT_FINDINGS } else { EXIT_OK })
}

/// Capture the command under nsys, then analyse its report like the main
/// command does.
fn profile(p: &ProfileConfig) -> Result<i32> {
    let found = nsys::find(p.report.read.nsys.as_deref())?.ok_or_else(|| {
        Error::tool(format!(
            "profile needs Nsight Systems' nsys and none was found (searched {}); \
             install Nsight Systems or pass --nsys PATH",
            nsys::SEARCHED
        ))
    })?;
    capture::profile::run(&found, &p.capture, &Progress::stderr(!p.report.quiet))?;
    if !p.report.quiet {
        eprintln!(
            "trace-report: captured {}",
            crate::error::shown(&p.capture.report)
        );
    }
    // Export with the nsys that captured it.
    let mut cfg = p.report.clone();
    cfg.read.nsys = Some(found.path);
    analyze(&cfg)
}

fn compare(cfg: &DiffConfig) -> Result<i32> {
    let load = |path| {
        let progress = Progress::stderr(!cfg.quiet);
        diff::input::load(path, &cfg.read, &cfg.analysis, &progress)
    };
    let base = load(&cfg.base)?;
    let new = load(&cfg.new)?;
    let d = diff::compare(&base, &new, &cfg.options);
    drop((base, new));
    let written = output::write_diff(&d, &cfg.output, &cfg.formats, &[&cfg.base, &cfg.new])?;
    let gate = cfg.fail_if_slower.filter(|&p| d.gate(p));
    if !cfg.quiet {
        let mut summary = diff::terminal::render(&d);
        if !written.is_empty() {
            let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
            summary.push_str(&format!("wrote {}\n", files.join(", ")));
        }
        if let Some(p) = gate {
            summary.push_str(&format!(
                "gate: NEW is slower by {} (more than {p}%): exit 1\n",
                diff::text::pct(d.verdict.change_pct)
            ));
        }
        match cfg.output {
            OutputTarget::Stdout(_) => eprint!("{summary}"),
            OutputTarget::Dir(_) | OutputTarget::File(..) => print(&summary),
        }
    }
    Ok(if gate.is_some() { EXIT_FINDINGS } else { EXIT_OK })
}

/// Print to stdout, ignoring a closed pipe.
fn print(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes()).and_then(|_| out.flush());
}
