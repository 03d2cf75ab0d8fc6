//! `trace-report batch`: many traces, a few at a time. Each trace is
//! loaded, analysed and written to its own report folder like the main
//! command does, then dropped; what the dataset keeps of it is a handful of
//! rows. Memory is `--jobs` traces plus the rows of at most [`CHUNK`]
//! traces, which go to Parquet part files as they fill.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{BatchConfig, OutputTarget};
use crate::dataset::{self, Partition, rows::Tables};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::report::Report;
use crate::{capture, input, output, pipeline};

/// Traces whose rows are written together as one part file per table.
pub const CHUNK: usize = 256;

/// One trace's outcome, sent from a worker.
struct Done {
    index: usize,
    result: Result<Report>,
    reports: PathBuf,
}

pub fn run(cfg: &BatchConfig) -> Result<i32> {
    let partition = cfg.dataset.as_ref().map(|_| Partition {
        date: cfg.date.clone(),
        key: cfg.label.0.clone(),
        value: cfg.label.1.clone(),
    });
    if let (Some(out), Some(p)) = (&cfg.dataset, &partition) {
        if let Some(key) = dataset::existing_label_key(out) {
            if key != p.key {
                return Err(Error::usage(format!(
                    "the dataset {} is partitioned by the label '{key}': give --label {key}=VALUE (one key per dataset)",
                    out.display()
                )));
            }
        }
    }
    let folders = report_folders(&cfg.inputs, &cfg.reports);
    let batch_id = batch_id(&cfg.inputs);
    let bar = bar(cfg.inputs.len() as u64, cfg.quiet);
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Done>();
    let mut tables = Tables::default();
    let mut chunk = 0;
    let mut failed = 0;
    let mut analysed = 0;
    let mut written_parts: Vec<PathBuf> = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..cfg.jobs.max(1).min(cfg.inputs.len().max(1)) {
            let tx = tx.clone();
            let (next, folders) = (&next, &folders);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = cfg.inputs.get(index) else { break };
                    let result = analyse_one(cfg, path, &folders[index]);
                    let done = Done {
                        index,
                        result,
                        reports: folders[index].clone(),
                    };
                    if tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut in_chunk = 0;
        for done in rx {
            let path = &cfg.inputs[done.index];
            match done.result {
                Ok(report) => {
                    analysed += 1;
                    tables.add(&report, &dataset::trace_id(path));
                    in_chunk += 1;
                    let line = format!("{}: {}", path.display(), summary_line(&report, &done.reports, cfg));
                    say(&bar, cfg.quiet, &line);
                }
                Err(e) => {
                    failed += 1;
                    bar_println(&bar, &format!("trace-report: error: {e}"));
                }
            }
            if let Some(b) = &bar {
                b.inc(1);
            }
            if in_chunk == CHUNK {
                if let (Some(out), Some(p)) = (&cfg.dataset, &partition) {
                    written_parts.extend(flush(&mut tables, out, p, &batch_id, chunk, cfg)?);
                }
                chunk += 1;
                in_chunk = 0;
            }
        }
        Ok(())
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // The last chunk, written even when empty so every table exists.
    if let (Some(out), Some(p)) = (&cfg.dataset, &partition) {
        if !tables.traces.is_empty() || chunk == 0 {
            written_parts.extend(flush(&mut tables, out, p, &batch_id, chunk, cfg)?);
            chunk += 1;
        }
        remove_stale_parts(out, p, &batch_id, chunk);
        if !cfg.quiet {
            println!(
                "dataset: {} trace(s) into {} ({}={}, date={}; {} part file(s))",
                analysed,
                out.display(),
                p.key,
                p.value,
                p.date,
                written_parts.len()
            );
        }
    }
    if failed > 0 {
        eprintln!("trace-report: {failed} of {} trace(s) failed (see the errors above)", cfg.inputs.len());
        return Ok(crate::run::EXIT_ERROR);
    }
    Ok(crate::run::EXIT_OK)
}

fn analyse_one(cfg: &BatchConfig, path: &Path, folder: &Path) -> Result<Report> {
    let report = capture::with_nsys(cfg.nsys.as_deref(), || -> Result<Report> {
        let trace = input::load(path, cfg.input_format.as_deref(), &Progress::hidden())?;
        pipeline::analyze(&trace, &cfg.analysis)
    })?;
    if !cfg.formats.is_empty() {
        output::write(&report, &OutputTarget::Dir(folder.to_path_buf()), &cfg.formats, path)?;
    }
    crate::memory::release_free();
    Ok(report)
}

fn summary_line(r: &Report, folder: &Path, cfg: &BatchConfig) -> String {
    let a = &r.attribution.window;
    let busy = crate::report::format::pct(a.total_ns - a.activity.gpu_idle_ns, a.total_ns);
    let it = match &r.iteration_time {
        Some(t) => format!("{} iterations, p50 {}", t.count, crate::report::format::ns(t.p50_ns)),
        None => format!("window {}", crate::report::format::ns(a.total_ns)),
    };
    let to = if cfg.formats.is_empty() {
        String::new()
    } else {
        format!(" -> {}", folder.display())
    };
    format!("{it}, GPU busy {busy}, {} finding(s){to}", r.findings.len())
}

/// Write the tables' rows as this chunk's part files; returns the files.
fn flush(
    tables: &mut Tables,
    out: &Path,
    p: &Partition,
    batch: &str,
    chunk: usize,
    cfg: &BatchConfig,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for table in tables.all_mut() {
        let mut df = table
            .take_frame()
            .map_err(|e| Error::output(out, format!("building the {} table: {e}", table.name)))?;
        let bytes = dataset::parquet_bytes(&mut df)?;
        let path = dataset::part_path(out, table.name, p, batch, chunk);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, crate::input::io_problem(&e)))?;
        }
        let guard = cfg.inputs.first().map(|p| p.as_path()).unwrap_or(Path::new(""));
        output::write_file(&path, &bytes, guard)?;
        written.push(path);
    }
    Ok(written)
}

/// A rerun with fewer traces than before leaves no chunks of the old run.
fn remove_stale_parts(out: &Path, p: &Partition, batch: &str, chunks: usize) {
    for table in dataset::TABLES {
        let mut c = chunks;
        loop {
            let path = dataset::part_path(out, table, p, batch, c);
            if std::fs::remove_file(&path).is_err() {
                break;
            }
            c += 1;
        }
    }
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
            let base = crate::cli::report_name(p);
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
    let style = ProgressStyle::with_template("{spinner} batch {wide_bar} {human_pos}/{human_len} {elapsed} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

fn bar_println(bar: &Option<ProgressBar>, line: &str) {
    match bar {
        Some(b) => b.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

fn say(bar: &Option<ProgressBar>, quiet: bool, line: &str) {
    if quiet {
        return;
    }
    let line = crate::report::escape::terminal(line);
    match bar {
        Some(b) => b.suspend(|| println!("{line}")),
        None => println!("{line}"),
    }
}
