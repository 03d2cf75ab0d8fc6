//! Carrying out a validated command; returns the process exit status.

use std::io::Write;

use crate::cache::{Analysed, Cache};
use crate::cli::{Action, BatchConfig, Config, DiffConfig, JobConfig, ProfileConfig, QueryConfig};
use crate::error::{Error, Result};
use crate::findings;
use crate::output::OutputTarget;
use crate::progress::Progress;
use crate::report::terminal;
use crate::{analysis, batch, capture, dataset, diff, input, nsys, output, pipeline, report, timing};

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
        Action::Job(cfg) => job(&cfg),
        Action::Batch(cfg) => run_batch(&cfg),
        Action::Query(cfg) => query(&cfg),
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
    let (report, ranks) = analysed(cfg)?;
    let mut written = timing::time("write", || {
        output::write(&report, &cfg.output, &cfg.formats, &cfg.input)
    })?;
    let mut job_summary = String::new();
    if !ranks.is_empty() {
        let j = analysis::job::analyze(ranks, pipeline::generator());
        written.extend(output::write_job(&j, &cfg.output, &cfg.formats, &[&cfg.input])?);
        job_summary = report::job_text::terminal(&j);
    }
    if !cfg.quiet {
        // With `-o -` stdout carries the report: the summary goes to stderr.
        let mut summary = terminal::render(&report);
        summary.push_str(&job_summary);
        show_written(&mut summary, &written);
        show(&summary, &cfg.output);
    }
    let gate = cfg
        .fail_on
        .is_some_and(|min| report.findings.iter().any(|f| f.severity >= min));
    Ok(if gate { EXIT_FINDINGS } else { EXIT_OK })
}

/// The report of `cfg`'s trace and, when it goes to a folder and the
/// capture has several processes with GPU work, their rank timelines:
/// from the analysis cache, else analysed (and stored).
fn analysed(cfg: &Config) -> Result<(crate::document::Report, Vec<analysis::job::RankTimeline>)> {
    let want_ranks = matches!(cfg.output, OutputTarget::Dir(_));
    let cache = Cache::new(cfg.cache);
    let key = cache.analysis_key(Analysed::KIND, &cfg.input, &cfg.read, &cfg.analysis);
    let hit = key.as_ref().and_then(|k| cache.get::<Analysed>(k));
    if let Some(a) = hit.filter(|a| !want_ranks || a.complete()) {
        let ranks = if want_ranks {
            a.ranks.unwrap_or_default()
        } else {
            Vec::new()
        };
        return Ok((a.report, ranks));
    }
    let progress = Progress::stderr(!cfg.quiet);
    let trace = timing::time("load", || input::load(&cfg.input, &cfg.read, &progress))?;
    progress.finish();
    let report = timing::time("analyze", || pipeline::analyze(&trace, &cfg.analysis))?;
    // A capture of several processes with GPU work is a job of ranks too.
    let gpu_processes = want_ranks.then(|| analysis::job::ranks::gpu_processes(&trace).len());
    let ranks = if gpu_processes.is_some_and(|n| n > 1) {
        Some(timing::time("ranks", || {
            pipeline::rank_timelines(&trace, &cfg.analysis)
        })?)
    } else {
        None
    };
    timing::time("free trace", || drop(trace));
    let a = Analysed {
        report,
        gpu_processes,
        ranks,
    };
    if let Some(k) = &key {
        timing::time("cache", || cache.put(k, &a));
    }
    Ok((a.report, a.ranks.unwrap_or_default()))
}

/// The ranks of one job: each input is loaded, reduced to its ranks'
/// timelines and dropped before the next, so memory is one trace's.
fn job(cfg: &JobConfig) -> Result<i32> {
    let mut ranks = Vec::new();
    let cache = Cache::new(cfg.cache);
    for input in &cfg.inputs {
        let key = cache.analysis_key("ranks", input, &cfg.read, &cfg.analysis);
        if let Some(hit) = key
            .as_ref()
            .and_then(|k| cache.get::<Vec<analysis::job::RankTimeline>>(k))
        {
            ranks.extend(hit);
            continue;
        }
        let progress = Progress::stderr(!cfg.quiet);
        let trace = timing::time("load", || input::load(input, &cfg.read, &progress))?;
        progress.finish();
        let mine = pipeline::rank_timelines(&trace, &cfg.analysis)?;
        drop(trace);
        if let Some(k) = &key {
            cache.put(k, &mine);
        }
        ranks.extend(mine);
    }
    let j = analysis::job::analyze(ranks, pipeline::generator());
    let inputs: Vec<&std::path::Path> = cfg.inputs.iter().map(|p| p.as_path()).collect();
    let written = output::write_job(&j, &cfg.output, &cfg.formats, &inputs)?;
    if !cfg.quiet {
        let mut summary = report::job_text::terminal(&j);
        show_written(&mut summary, &written);
        show(&summary, &cfg.output);
    }
    Ok(EXIT_OK)
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
    let cache = Cache::new(cfg.cache);
    let load = |path| {
        let progress = Progress::stderr(!cfg.quiet);
        diff::input::load_cached(path, &cfg.read, &cfg.analysis, &cache, &progress)
    };
    let base = load(&cfg.base)?;
    let new = load(&cfg.new)?;
    let d = diff::compare(&base, &new, &cfg.options);
    drop((base, new));
    let written = output::write_diff(&d, &cfg.output, &cfg.formats, &[&cfg.base, &cfg.new])?;
    let gate = cfg.fail_if_slower.filter(|&p| d.gate(p));
    if !cfg.quiet {
        let mut summary = diff::terminal::render(&d);
        show_written(&mut summary, &written);
        if let Some(p) = gate {
            summary.push_str(&format!(
                "gate: NEW is slower by {} (more than {p}%): exit 1\n",
                diff::text::pct(d.verdict.change_pct)
            ));
        }
        show(&summary, &cfg.output);
    }
    Ok(if gate.is_some() { EXIT_FINDINGS } else { EXIT_OK })
}

/// The terminal summary: on stdout, or on stderr when stdout carries a
/// report (`-o -`).
fn show(summary: &str, output: &OutputTarget) {
    match output {
        OutputTarget::Stdout(_) => eprint!("{summary}"),
        OutputTarget::Dir(_) | OutputTarget::File(..) => print(summary),
    }
}

/// The summary's `wrote FILE, FILE` line.
fn show_written(summary: &mut String, written: &[std::path::PathBuf]) {
    if !written.is_empty() {
        let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        summary.push_str(&format!("wrote {}\n", files.join(", ")));
    }
}

/// Many traces: 2 when none could be analysed, 1 when some could not (or
/// one tripped `--fail-on`), like the main command's statuses per trace.
fn run_batch(cfg: &BatchConfig) -> Result<i32> {
    let o = batch::run(cfg)?;
    if o.analysed == 0 {
        return Err(Error::usage(format!(
            "none of the {} trace(s) could be analysed",
            cfg.inputs.len()
        )));
    }
    Ok(if o.failed > 0 || o.gated > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

fn query(cfg: &QueryConfig) -> Result<i32> {
    let df = dataset::query::run(&cfg.dataset, &cfg.sql)?;
    print_bytes(&dataset::query::render(&df, cfg.format));
    Ok(EXIT_OK)
}

/// Print to stdout, ignoring a closed pipe.
fn print(s: &str) {
    print_bytes(s.as_bytes());
}

fn print_bytes(b: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(b).and_then(|_| out.flush());
}
