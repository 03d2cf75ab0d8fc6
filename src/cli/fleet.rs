//! `batch` and `query`: the fleet commands' arguments, validated into
//! [`BatchConfig`] and [`QueryConfig`] like the rest of [`super`].

use std::path::{Path, PathBuf};

use clap::Args;

use super::{InputFormatParser, ReportArgs, is_trace_name};
use crate::dataset::{self, query::QueryFormat};
use crate::error::{Error, Result};
use crate::findings::Severity;
use crate::input::InputFormat;
use crate::input::Options as ReadOptions;
use crate::output::Format;
use crate::pipeline::AnalysisOptions;

/// `trace-report batch INPUTS... [--dataset OUT]`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 every trace analysed; 1 a trace could not be analysed \
                        (said on stderr, recorded in the dataset's `errors` table) or a finding \
                        at or above --fail-on; 2 error (bad arguments, nothing analysed, a \
                        dataset that cannot be written)."
)]
pub struct BatchArgs {
    /// Traces, or folders searched recursively for them (.sqlite,
    /// .nsys-rep, .json, .json.gz; saved reports left out).
    #[arg(required = true, value_name = "TRACE|DIR")]
    pub inputs: Vec<PathBuf>,

    /// Also write a Parquet dataset of every trace into this folder (added
    /// to what is there).
    #[arg(long, value_name = "OUT")]
    pub dataset: Option<PathBuf>,

    /// A partition of the dataset, e.g. build=new or host=h200-a
    /// (repeatable, in the order the folders nest).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,

    /// The batch's date partition (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,

    /// Traces analysed at once (memory is about this many traces).
    #[arg(short, long, value_name = "N", default_value_t = 2)]
    pub jobs: usize,

    /// Root of the per-trace report folders (ROOT/<trace name>/).
    #[arg(short = 'o', long = "output", value_name = "ROOT", default_value = "reports")]
    pub output: PathBuf,

    /// Write no per-trace reports (only the dataset and the summary lines).
    #[arg(long)]
    pub no_reports: bool,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Force the input format instead of detecting it (every input).
    #[arg(long, value_name = "FORMAT", value_parser = InputFormatParser)]
    pub input_format: Option<InputFormat>,

    /// Exit with status 1 when a trace has a finding of this severity or worse.
    #[arg(long, value_name = "SEVERITY", value_enum, ignore_case = true)]
    pub fail_on: Option<Severity>,
}

/// A validated batch.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// The trace files (folders expanded, sorted).
    pub inputs: Vec<PathBuf>,
    /// Root of the report folders.
    pub reports: PathBuf,
    /// Report formats; empty with `--no-reports`.
    pub formats: Vec<Format>,
    pub read: ReadOptions,
    pub analysis: AnalysisOptions,
    pub dataset: Option<PathBuf>,
    pub date: String,
    /// `--label`s, in the order given: the partition folders below the date.
    pub labels: Vec<(String, String)>,
    pub jobs: usize,
    pub fail_on: Option<Severity>,
    /// Whether the analysis cache is used (`--no-cache` turns it off).
    pub cache: bool,
    pub quiet: bool,
}

impl BatchArgs {
    pub fn into_config(self) -> Result<BatchConfig> {
        let r = &self.report;
        let mut labels: Vec<(String, String)> = Vec::new();
        for l in &self.labels {
            let (k, v) = dataset::parse_label(l)?;
            if labels.iter().any(|(seen, _)| *seen == k) {
                return Err(Error::usage(format!("--label: the key '{k}' is given twice")));
            }
            labels.push((k, v));
        }
        if !labels.is_empty() && self.dataset.is_none() {
            return Err(Error::usage(
                "--label partitions a dataset: give --dataset OUT too",
            ));
        }
        if self.jobs == 0 {
            return Err(Error::usage("--jobs: expected 1 or more"));
        }
        let date = match &self.date {
            Some(d) => dataset::parse_date(d)?,
            None => dataset::today(),
        };
        let analysis = r.analysis(None, None)?;
        Ok(BatchConfig {
            inputs: batch_inputs(&self.inputs)?,
            formats: if self.no_reports { Vec::new() } else { r.formats()? },
            read: r.read(self.input_format)?,
            analysis,
            dataset: self.dataset,
            date,
            labels,
            jobs: self.jobs,
            fail_on: self.fail_on,
            cache: !r.no_cache,
            quiet: r.quiet,
            reports: self.output,
        })
    }
}

/// The traces of a batch: each file argument, and every trace file below
/// each folder argument (recursively, sorted; hidden entries and saved
/// reports left out).
pub fn batch_inputs(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::input(dir, crate::error::io_problem(&e)))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.is_file() && is_trace_name(&name) && !name.ends_with("diff.json") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    for a in args {
        if a.is_dir() {
            let before = files.len();
            walk(a, &mut files)?;
            if files.len() == before {
                return Err(Error::input(
                    a,
                    "is a directory with no trace files below it (.sqlite, .nsys-rep, .json, .json.gz)",
                ));
            }
        } else {
            // A missing file is the batch's to report, trace by trace.
            files.push(a.clone());
        }
    }
    Ok(files)
}

/// `trace-report query OUT "SQL"`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// A dataset folder written by `batch --dataset`.
    #[arg(value_name = "OUT")]
    pub dataset: PathBuf,

    /// The query (polars SQL) over the tables traces, kernels, iterations,
    /// findings and errors, partition columns included.
    #[arg(value_name = "SQL")]
    pub sql: String,

    /// How the result is printed: an aligned table, CSV, or JSON (one
    /// object per line).
    #[arg(long, value_enum, default_value = "table")]
    pub format: QueryFormat,
}

/// A validated query.
#[derive(Debug, Clone)]
pub struct QueryConfig {
    pub dataset: PathBuf,
    pub sql: String,
    pub format: QueryFormat,
}

impl QueryArgs {
    pub fn into_config(self) -> Result<QueryConfig> {
        if self.sql.trim().is_empty() {
            return Err(Error::usage("query: the SQL is empty"));
        }
        Ok(QueryConfig {
            dataset: self.dataset,
            sql: self.sql,
            format: self.format,
        })
    }
}
