//! `trace-report batch`: many traces, a few at a time. Each trace is
//! loaded, analysed and written to its own report folder like the main
//! command does, then dropped; what the dataset keeps of it is a handful of
//! rows. Memory is `--jobs` traces plus the rows of at most [`CHUNK`]
//! traces, which go to Parquet part files as they fill.
//!
//! A trace that cannot be analysed does not stop the batch: it is said on
//! stderr and recorded in the dataset's `errors` table. Results come from
//! and go to the analysis cache like the main command's, so a batch over a
//! folder that gained one file analyses that file only.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cache::{Analysed, Cache};
use crate::cli::BatchConfig;
use crate::dataset::{self, Partition, rows::Tables};
use crate::document::Report;
use crate::error::{Error, Result};
use crate::output::OutputTarget;
use crate::progress::Progress;
use crate::{output, pipeline};

/// Traces whose rows are written together as one part file per table
/// (`TRACE_REPORT_BATCH_CHUNK` overrides it, for tests).
pub const CHUNK: usize = 256;

fn chunk_size() -> usize {
    std::env::var("TRACE_REPORT_BATCH_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(CHUNK)
}

/// What a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub analysed: usize,
    pub failed: usize,
    /// Traces with a finding at or above `--fail-on`.
    pub gated: usize,
}

/// One trace's result, sent from a worker.
struct Done {
    index: usize,
    result: Result<Report>,
}

pub fn run(cfg: &BatchConfig) -> Result<Outcome> {
    let partition = Partition {
        date: cfg.date.clone(),
        labels: cfg.labels.clone(),
    };
    if let Some(out) = &cfg.dataset {
        check_keys(out, &partition)?;
    }
    let folders = report_folders(&cfg.inputs, &cfg.reports);
    let batch_id = batch_id(&cfg.inputs);
    let bar = bar(cfg.inputs.len() as u64, cfg.quiet);
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Done>();
    let mut tables = Tables::default();
    let mut chunk = 0;
    let mut outcome = Outcome {
        analysed: 0,
        failed: 0,
        gated: 0,
    };
    let generator = pipeline::generator();
    let cache = Cache::new(cfg.cache);
    let chunk_traces = chunk_size();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..cfg.jobs.max(1).min(cfg.inputs.len().max(1)) {
            let tx = tx.clone();
            let (next, folders, cache) = (&next, &folders, &cache);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = cfg.inputs.get(index) else { break };
                    // A bug on one trace (the hook has said it) fails that
                    // trace, not the batch.
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        analyse_one(cfg, cache, path, &folders[index])
                    }))
                    .unwrap_or_else(|_| {
                        Err(Error::input(
                            path,
                            "internal error while analysing it (please report this)",
                        ))
                    });
                    if tx.send(Done { index, result }).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for done in rx {
            let path = &cfg.inputs[done.index];
            let id = dataset::trace_id(path);
            match done.result {
                Ok(report) => {
                    outcome.analysed += 1;
                    if cfg
                        .fail_on
                        .is_some_and(|min| report.findings.iter().any(|f| f.severity >= min))
                    {
                        outcome.gated += 1;
                    }
                    tables.add(&report, &id);
                    let line = format!(
                        "{}: {}",
                        path.display(),
                        summary_line(&report, &folders[done.index], cfg)
                    );
                    say(&bar, cfg.quiet, &line);
                }
                Err(e) => {
                    outcome.failed += 1;
                    tables.add_error(&path.display().to_string(), &id, &e.to_string(), &generator);
                    bar_println(&bar, &format!("trace-report: error: {e}"));
                }
            }
            if let Some(b) = &bar {
                b.inc(1);
            }
            if tables.traces_added() == chunk_traces {
                if let Some(out) = &cfg.dataset {
                    flush(&mut tables, out, &partition, &batch_id, chunk, cfg)?;
                }
                tables = Tables::default();
                chunk += 1;
            }
        }
        Ok(())
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some(out) = &cfg.dataset {
        // The last chunk, written even when empty so every table exists.
        if tables.traces_added() > 0 || chunk == 0 {
            flush(&mut tables, out, &partition, &batch_id, chunk, cfg)?;
            chunk += 1;
        }
        remove_stale_parts(out, &partition, &batch_id, chunk);
        replace_older_rows(out, &partition, &batch_id, cfg)?;
        if !cfg.quiet {
            println!(
                "dataset: {} trace(s) into {} ({}; {} part file(s) a table)",
                outcome.analysed,
                out.display(),
                partition.dir().display(),
                chunk
            );
        }
    }
    if outcome.failed > 0 {
        eprintln!(
            "trace-report: {} of {} trace(s) could not be analysed (see the errors above)",
            outcome.failed,
            cfg.inputs.len()
        );
    }
    Ok(outcome)
}

/// A dataset holds one list of label keys: a batch with other keys would
/// leave partitions no reader can line up.
fn check_keys(out: &Path, p: &Partition) -> Result<()> {
    let Some(keys) = dataset::existing_label_keys(out) else {
        return Ok(());
    };
    if keys == p.keys() {
        return Ok(());
    }
    let want = if keys.is_empty() {
        "no --label".to_string()
    } else {
        keys.iter()
            .map(|k| format!("--label {k}=VALUE"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    Err(Error::usage(format!(
        "the dataset {} is partitioned by [{}]: give {want} (one list of label keys a dataset)",
        out.display(),
        keys.join(", ")
    )))
}

/// One trace's report (from the analysis cache when it holds it), its
/// report files written.
fn analyse_one(cfg: &BatchConfig, cache: &Cache, path: &Path, folder: &Path) -> Result<Report> {
    let report = Analysed::report(cache, path, &cfg.read, &cfg.analysis, &Progress::hidden())?;
    if !cfg.formats.is_empty() {
        output::write(
            &report,
            &OutputTarget::Dir(folder.to_path_buf()),
            &cfg.formats,
            path,
        )?;
    }
    crate::memory::release_free();
    Ok(report)
}

fn summary_line(r: &Report, folder: &Path, cfg: &BatchConfig) -> String {
    let a = &r.attribution.window;
    let busy = crate::text::format::pct(a.total_ns - a.activity.gpu_idle_ns, a.total_ns);
    let it = match &r.iteration_time {
        Some(t) => format!(
            "{} iterations, p50 {}",
            t.count,
            crate::text::format::ns(t.p50_ns)
        ),
        None => format!("window {}", crate::text::format::ns(a.total_ns)),
    };
    let to = if cfg.formats.is_empty() {
        String::new()
    } else {
        format!(" -> {}", folder.display())
    };
    format!("{it}, GPU busy {busy}, {} finding(s){to}", r.findings.len())
}

/// Write the tables' rows as this chunk's part files.
fn flush(
    tables: &mut Tables,
    out: &Path,
    p: &Partition,
    batch: &str,
    chunk: usize,
    cfg: &BatchConfig,
) -> Result<()> {
    let guard = cfg.inputs.first().map(|p| p.as_path()).unwrap_or(Path::new(""));
    for table in tables.all_mut() {
        let mut df = table
            .take_frame()
            .map_err(|e| Error::output(out, format!("building the {} table: {e}", table.name)))?;
        let bytes = dataset::parquet_bytes(&mut df)?;
        let path = dataset::part_path(out, table.name, p, batch, chunk);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, crate::error::io_problem(&e)))?;
        }
        output::write_file(&path, &bytes, guard)?;
    }
    Ok(())
}

/// A rerun with fewer traces than before leaves no chunks of the old run.
fn remove_stale_parts(out: &Path, p: &Partition, batch: &str, chunks: usize) {
    for table in dataset::TABLES {
        let mut c = chunks;
        while std::fs::remove_file(dataset::part_path(out, table, p, batch, c)).is_ok() {
            c += 1;
        }
    }
}

/// A trace this batch analysed (or failed) has no rows left from an
/// earlier batch in the same partition: a batch over a folder that gained
/// a file replaces the rows of the files it had, never doubles them. Only
/// part files holding such rows are rewritten; shards of one file list
/// (disjoint traces) leave each other's files alone.
fn replace_older_rows(out: &Path, p: &Partition, batch: &str, cfg: &BatchConfig) -> Result<()> {
    let ids: std::collections::HashSet<String> = cfg.inputs.iter().map(|i| dataset::trace_id(i)).collect();
    let guard = cfg.inputs.first().map(|p| p.as_path()).unwrap_or(Path::new(""));
    for table in dataset::TABLES {
        for part in dataset::other_parts(out, table, p, batch) {
            match dataset::without_traces(&part, &ids)? {
                None => {}
                Some((0, _)) => std::fs::remove_file(&part)
                    .map_err(|e| Error::output(&part, crate::error::io_problem(&e)))?,
                Some((_, bytes)) => output::write_file(&part, &bytes, guard)?,
            }
        }
    }
    Ok(())
}

/// The batch's id: its inputs (absolute paths, sizes, times), so the same
/// batch run again writes the same part files.
fn batch_id(inputs: &[PathBuf]) -> String {
    let mut ids: Vec<String> = inputs.iter().map(|p| dataset::trace_id(p)).collect();
    ids.sort();
    let joined = ids.join(",");
    dataset::hash_hex(&[joined.as_bytes()])
}

/// One report folder per input under `root`, named like the main command's
/// (`root/<trace name>`), numbered when two inputs share a name.
fn report_folders(inputs: &[PathBuf], root: &Path) -> Vec<PathBuf> {
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    inputs
        .iter()
        .map(|p| {
            let base = crate::text::report_name(p);
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            let name = if *n == 1 { base } else { format!("{base}-{n}") };
            root.join(name)
        })
        .collect()
}

fn bar(len: u64, quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} batch {wide_bar} {human_pos}/{human_len} {elapsed} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

fn bar_println(bar: &Option<ProgressBar>, line: &str) {
    let line = crate::text::escape::terminal(line);
    match bar {
        Some(b) => b.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

fn say(bar: &Option<ProgressBar>, quiet: bool, line: &str) {
    if quiet {
        return;
    }
    let line = crate::text::escape::terminal(line);
    match bar {
        Some(b) => b.suspend(|| println!("{line}")),
        None => println!("{line}"),
    }
}
