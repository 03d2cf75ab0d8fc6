//! Command-line arguments, turned into a validated [`Action`] in one step
//! ([`Cli::into_action`]); nothing past this module sees raw arguments.
//!
//! The flags the analysing commands share (the main command, `profile` and
//! `diff`) are declared once ([`ReportArgs`], flattened into each) and
//! validated by the same code, so `--nsys`, `--format`, `--phase` and the
//! window flags mean and check the same everywhere.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::phase::PhaseRules;
use crate::analysis::window::WindowChoice;
use crate::capture::profile::CaptureOptions;
use crate::error::{Error, Result};
use crate::findings::Severity;
use crate::input::{InputFormat, Options as ReadOptions};
use crate::output::{Format, OutputTarget};
use crate::pipeline::AnalysisOptions;

mod fleet;
pub use fleet::{BatchArgs, BatchConfig, QueryArgs, QueryConfig, batch_inputs};

#[derive(Debug, Parser)]
#[command(
    name = "trace-report",
    version,
    about = "Turn a GPU profiling capture of a model-inference run into answers: where the time goes, per iteration, and what to fix.",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Exit status: 0 success, 1 findings at or above --fail-on (or a diff gate), 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub analyze: AnalyzeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the documentation of a rule (by name or code).
    Explain {
        /// Rule name (e.g. reupload) or code (e.g. TR101).
        rule: String,
    },
    /// List the rules.
    Rules,
    /// Run a command under Nsight Systems (nsys profile -t cuda,nvtx,osrt),
    /// keep the .nsys-rep and write the reports.
    Profile(ProfileArgs),
    /// Compare two builds: BASE and NEW traces or saved report.json files.
    Diff(DiffArgs),
    /// Analyse many traces, a few at a time: each one's reports and,
    /// with --dataset, a Parquet dataset of all of them.
    Batch(BatchArgs),
    /// Run SQL over a dataset written by `batch --dataset`.
    Query(QueryArgs),
}

/// The flags of every command that analyses traces and writes reports.
#[derive(Debug, Clone, Default, Args)]
pub struct ReportArgs {
    /// Which outputs to write.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "html,md,json")]
    pub format: Vec<Format>,

    /// NVTX range name that marks one iteration (default: detected; saved
    /// reports keep their own window).
    #[arg(long, value_name = "NAME")]
    pub iteration: Option<String>,

    /// Analyse the whole capture (span of all GPU activity), ignoring iterations.
    #[arg(long, conflicts_with = "iteration")]
    pub whole_capture: bool,

    /// Override a phase pattern: preprocess=REGEX, postprocess=REGEX or
    /// inference=REGEX (case-insensitive; repeatable).
    #[arg(long = "phase", value_name = "NAME=REGEX")]
    pub phases: Vec<String>,

    /// Print nothing of our own but errors (a profiled command's output
    /// still shows).
    #[arg(short, long)]
    pub quiet: bool,

    /// The Nsight Systems CLI, for .nsys-rep inputs and `profile` (default:
    /// $NSYS, PATH, then the usual install folders).
    #[arg(long, value_name = "PATH")]
    pub nsys: Option<PathBuf>,

    /// Analyse the trace even when the analysis cache holds its result, and
    /// store nothing there.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Capture name: writes NAME.nsys-rep (default: named after the
    /// command's script or program, numbered so nothing is overwritten).
    #[arg(short = 'o', long = "output", value_name = "NAME")]
    pub name: Option<PathBuf>,

    /// Also sample GPU metrics (nsys --gpu-metrics-devices=all).
    #[arg(long)]
    pub gpu_metrics: bool,

    /// Sample the host's CPUs with call stacks (nsys --sample=process-tree
    /// --cpuctxsw=process-tree), to show what the host ran while the GPU
    /// waited. auto: when the kernel allows it (perf_event_paranoid <= 2).
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub host_sampling: HostSampling,

    /// Overwrite NAME.nsys-rep if it exists.
    #[arg(long)]
    pub force: bool,

    /// Report folder (default: reports/<NAME>), or '-' to write one format
    /// to stdout.
    #[arg(long, value_name = "DIR|-")]
    pub report_dir: Option<String>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Exit with status 1 when a finding of this severity or worse is reported.
    #[arg(long, value_name = "SEVERITY", value_enum, ignore_case = true)]
    pub fail_on: Option<Severity>,

    /// The command to profile and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// When `profile` samples the host's CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HostSampling {
    Auto,
    On,
    Off,
}

#[derive(Debug, Default, Args)]
pub struct AnalyzeArgs {
    /// The trace, recognised by content: an Nsight Systems report
    /// (.nsys-rep) or its SQLite or JSON export, a PyTorch profiler
    /// (Kineto) trace (.json, .json.gz), or a TensorRT trtexec layer
    /// profile (--exportProfile / --exportLayerInfo JSON). Several traces,
    /// or a folder of them, are the ranks of one job: a job report
    /// (job.html, job.md, job.json).
    #[arg(required = true, value_name = "TRACE")]
    pub trace: Vec<PathBuf>,

    /// Output folder (default: reports/<trace name>), '-' to write one
    /// format to stdout, or FILE.html|.md|.json with one --format.
    #[arg(short = 'o', long = "output", value_name = "DIR|FILE|-")]
    pub output: Option<String>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Nsight Compute CSV (ncu --csv --page raw) with
    /// sm__inst_executed_pipe_tensor_op_* counters: measured Tensor Core
    /// verdicts for the kernels it profiled.
    #[arg(long, value_name = "FILE.csv")]
    pub ncu: Option<PathBuf>,

    /// GPU peaks table (JSON of the form of data/gpu_peaks.json) replacing
    /// the built-in one for the roofline.
    #[arg(long, value_name = "FILE.json")]
    pub gpu_peaks: Option<PathBuf>,

    /// Force the input format instead of detecting it.
    #[arg(long, value_name = "FORMAT", value_parser = InputFormatParser)]
    pub input_format: Option<InputFormat>,

    /// Exit with status 1 when a finding of this severity or worse is
    /// reported.
    #[arg(long, value_name = "SEVERITY", value_enum, ignore_case = true)]
    pub fail_on: Option<Severity>,
}

/// `trace-report diff BASE NEW`.
#[derive(Debug, Args)]
#[command(
    after_help = "Verdict: Welch's t 95% confidence interval on the difference of mean iteration times; \
                  faster/slower when it lies entirely beyond ±threshold, no-change when entirely within, \
                  inconclusive otherwise or with fewer than 3 iterations a side.\n\
                  Exit status: 0 success, 1 --fail-if-slower tripped, 2 error."
)]
pub struct DiffArgs {
    /// The baseline: a trace or a saved report.json.
    #[arg(value_name = "BASE")]
    pub base: PathBuf,

    /// The build to judge: a trace or a saved report.json.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// Output folder (default: reports/diff-<base>-vs-<new>), or '-' to
    /// write one format to stdout.
    #[arg(short = 'o', long = "output", value_name = "DIR|-")]
    pub output: Option<String>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Force the trace format instead of detecting it (both inputs).
    #[arg(long, value_name = "FORMAT", value_parser = InputFormatParser)]
    pub input_format: Option<InputFormat>,

    /// Exit with status 1 when NEW is slower by more than PCT percent (mean
    /// iteration time) and the verdict is `slower`.
    #[arg(long, value_name = "PCT")]
    pub fail_if_slower: Option<f64>,

    /// Changes smaller than PCT percent count as no change.
    #[arg(long, value_name = "PCT", default_value_t = crate::diff::stats::DEFAULT_THRESHOLD_PCT)]
    pub threshold: f64,
}

impl ValueEnum for Severity {
    fn value_variants<'a>() -> &'a [Self] {
        &[Severity::Info, Severity::Warning, Severity::Error]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let v = PossibleValue::new(self.label());
        Some(match self {
            Severity::Warning => v.alias("warn"),
            _ => v,
        })
    }
}

impl ValueEnum for InputFormat {
    fn value_variants<'a>() -> &'a [Self] {
        InputFormat::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.description()))
    }
}

/// `--input-format`: the formats as a value enum, with the error naming
/// the unknown one and the known ones.
#[derive(Clone)]
pub(crate) struct InputFormatParser;

impl TypedValueParser for InputFormatParser {
    type Value = InputFormat;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> std::result::Result<InputFormat, clap::Error> {
        InputFormat::named(&value.to_string_lossy())
            .map_err(|e| clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}\n")))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            InputFormat::ALL.iter().filter_map(ValueEnum::to_possible_value),
        ))
    }
}

impl ReportArgs {
    /// The chosen formats, each once.
    pub(crate) fn formats(&self) -> Result<Vec<Format>> {
        let mut formats = self.format.clone();
        formats.dedup();
        if formats.is_empty() {
            return Err(Error::usage("--format needs at least one of html, md, json"));
        }
        Ok(formats)
    }

    /// Where the reports go: `output` (a folder, a file named for the one
    /// format, or `-` for one format on stdout), else `default`.
    fn target(&self, output: Option<&str>, default: impl FnOnce() -> PathBuf) -> Result<OutputTarget> {
        OutputTarget::parse(output, &self.formats()?, default)
    }

    /// The window and phase choices, with `ncu` counters and `gpu_peaks`.
    pub(crate) fn analysis(
        &self,
        ncu: Option<PathBuf>,
        gpu_peaks: Option<PathBuf>,
    ) -> Result<AnalysisOptions> {
        let window = match (&self.iteration, self.whole_capture) {
            (Some(name), _) => WindowChoice::Named(name.clone()),
            (None, true) => WindowChoice::WholeCapture,
            (None, false) => WindowChoice::Auto,
        };
        Ok(AnalysisOptions {
            window,
            phases: PhaseRules::with_overrides(&self.phases)?,
            ncu,
            gpu_peaks,
        })
    }

    /// Whether a window or phase flag was given.
    fn shapes_analysis(&self) -> bool {
        self.iteration.is_some() || self.whole_capture || !self.phases.is_empty()
    }

    /// How inputs are read; a named nsys must work (a bare name is looked
    /// up on PATH).
    pub(crate) fn read(&self, format: Option<InputFormat>) -> Result<ReadOptions> {
        let nsys = match &self.nsys {
            Some(p) => crate::nsys::find(Some(p))?.map(|f| f.path),
            None => None,
        };
        Ok(ReadOptions { format, nsys })
    }
}

/// A validated analysis run.
#[derive(Debug, Clone)]
pub struct Config {
    pub input: PathBuf,
    /// How the input is read (format, nsys; `--nsys PATH` checked to be an
    /// executable file).
    pub read: ReadOptions,
    pub output: OutputTarget,
    pub formats: Vec<Format>,
    pub analysis: AnalysisOptions,
    pub fail_on: Option<Severity>,
    pub quiet: bool,
    /// Whether the analysis cache is used (`--no-cache` turns it off).
    pub cache: bool,
}

/// A validated `profile` run: the capture, then the analysis of its report.
#[derive(Debug, Clone)]
pub struct ProfileConfig {
    pub capture: CaptureOptions,
    pub report: Config,
}

/// A validated diff run.
#[derive(Debug, Clone)]
pub struct DiffConfig {
    pub base: PathBuf,
    pub new: PathBuf,
    /// How both sides are read (format, nsys).
    pub read: ReadOptions,
    pub output: OutputTarget,
    pub formats: Vec<Format>,
    pub analysis: AnalysisOptions,
    pub options: crate::diff::DiffOptions,
    pub fail_if_slower: Option<f64>,
    pub quiet: bool,
    pub cache: bool,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Action {
    Analyze(Box<Config>),
    Explain(String),
    Rules,
    Profile(Box<ProfileConfig>),
    Diff(Box<DiffConfig>),
    Job(Box<JobConfig>),
    Batch(Box<BatchConfig>),
    Query(Box<QueryConfig>),
}

impl Action {
    /// The files this action reads (for messages such as running out of memory).
    pub fn inputs(&self) -> Vec<&std::path::Path> {
        match self {
            Action::Analyze(c) => vec![&c.input],
            Action::Profile(p) => vec![&p.report.input],
            Action::Diff(d) => vec![&d.base, &d.new],
            Action::Job(j) => j.inputs.iter().map(|p| p.as_path()).collect(),
            // Traces are read a few at a time: name none in particular.
            Action::Batch(_) => Vec::new(),
            Action::Query(q) => vec![&q.dataset],
            Action::Explain(_) | Action::Rules => Vec::new(),
        }
    }
}

impl Cli {
    /// Validate everything at once.
    pub fn into_action(self) -> Result<Action> {
        match self.command {
            Some(Command::Explain { rule }) => Ok(Action::Explain(rule)),
            Some(Command::Rules) => Ok(Action::Rules),
            Some(Command::Profile(p)) => Ok(Action::Profile(Box::new(p.into_config()?))),
            Some(Command::Diff(args)) => Ok(Action::Diff(Box::new(args.into_config()?))),
            Some(Command::Batch(args)) => Ok(Action::Batch(Box::new(args.into_config()?))),
            Some(Command::Query(args)) => Ok(Action::Query(Box::new(args.into_config()?))),
            None => self.analyze.into_action(),
        }
    }
}

impl AnalyzeArgs {
    /// One trace file: its report; several, or a folder: a job report.
    pub fn into_action(self) -> Result<Action> {
        let job = self.trace.len() > 1 || self.trace.first().is_some_and(|p| p.is_dir());
        if !job {
            return Ok(Action::Analyze(Box::new(self.into_config()?)));
        }
        if self.ncu.is_some() {
            return Err(Error::usage(
                "--ncu applies to one trace, not to a job of several",
            ));
        }
        if self.fail_on.is_some() {
            return Err(Error::usage(
                "--fail-on applies to one trace, not to a job of several",
            ));
        }
        let inputs = job_inputs(&self.trace)?;
        let name = match self.trace.as_slice() {
            [one] => format!("job-{}", crate::text::report_name(one)),
            _ => "job".to_string(),
        };
        let config = AnalyzeArgs {
            trace: vec![inputs[0].clone()],
            output: self.output.or_else(|| Some(format!("reports/{name}"))),
            ..self
        }
        .into_config()?;
        Ok(Action::Job(Box::new(JobConfig {
            inputs,
            read: config.read,
            output: config.output,
            formats: config.formats,
            analysis: config.analysis,
            quiet: config.quiet,
            cache: config.cache,
        })))
    }

    pub fn into_config(self) -> Result<Config> {
        let input = self
            .trace
            .into_iter()
            .next()
            .ok_or_else(|| Error::usage("no trace file given"))?;
        let r = &self.report;
        Ok(Config {
            output: r.target(self.output.as_deref(), || {
                Path::new("reports").join(crate::text::report_name(&input))
            })?,
            formats: r.formats()?,
            analysis: r.analysis(self.ncu, self.gpu_peaks)?,
            read: r.read(self.input_format)?,
            fail_on: self.fail_on,
            quiet: r.quiet,
            cache: !r.no_cache,
            input,
        })
    }
}

impl ProfileArgs {
    pub fn into_config(self) -> Result<ProfileConfig> {
        let report = crate::capture::profile::report_path(self.name.as_deref(), self.force, &self.command)?;
        // The analysis half is the main command's, on the report to be written.
        let config = AnalyzeArgs {
            trace: vec![report.clone()],
            output: self.report_dir,
            report: self.report,
            ncu: None,
            gpu_peaks: None,
            input_format: Some(InputFormat::NsysRep),
            fail_on: self.fail_on,
        }
        .into_config()?;
        Ok(ProfileConfig {
            capture: CaptureOptions {
                report,
                gpu_metrics: self.gpu_metrics,
                host_sampling: match self.host_sampling {
                    HostSampling::On => true,
                    HostSampling::Off => false,
                    HostSampling::Auto => crate::capture::profile::sampling_allowed(),
                },
                force: self.force,
                command: self.command,
                stdout_to_stderr: matches!(config.output, OutputTarget::Stdout(_)),
            },
            report: config,
        })
    }
}

impl DiffArgs {
    pub fn into_config(self) -> Result<DiffConfig> {
        let r = &self.report;
        let percent = |flag: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(v)
            } else {
                Err(Error::usage(format!(
                    "{flag}: expected a percentage of 0 or more, got {v}"
                )))
            }
        };
        let fail_if_slower = self
            .fail_if_slower
            .map(|v| percent("--fail-if-slower", v))
            .transpose()?;
        let threshold_pct = percent("--threshold", self.threshold)?;
        Ok(DiffConfig {
            output: r.target(self.output.as_deref(), || {
                Path::new("reports").join(format!(
                    "diff-{}-vs-{}",
                    crate::diff::input::side_name(&self.base),
                    crate::diff::input::side_name(&self.new)
                ))
            })?,
            formats: r.formats()?,
            analysis: r.analysis(None, None)?,
            read: r.read(self.input_format)?,
            options: crate::diff::DiffOptions {
                threshold_pct,
                analysis_options_given: r.shapes_analysis(),
            },
            fail_if_slower,
            quiet: r.quiet,
            cache: !r.no_cache,
            base: self.base,
            new: self.new,
        })
    }
}

/// A validated job run: the ranks of one job, one trace (or more) each.
#[derive(Debug, Clone)]
pub struct JobConfig {
    /// The trace files, in the order given (folders expanded, sorted).
    pub inputs: Vec<PathBuf>,
    /// How each input is read (format, nsys).
    pub read: ReadOptions,
    pub output: OutputTarget,
    pub formats: Vec<Format>,
    pub analysis: AnalysisOptions,
    pub quiet: bool,
    pub cache: bool,
}

/// The files of a job: each argument, a folder's files (sorted; hidden
/// files and reports left out).
pub fn job_inputs(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for a in args {
        if a.is_dir() {
            let entries = std::fs::read_dir(a).map_err(|e| Error::input(a, crate::error::io_problem(&e)))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .filter(|p| {
                    let n = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    !n.starts_with('.') && is_trace_name(&n)
                })
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(Error::input(
                    a,
                    "is a directory with no trace files (.sqlite, .nsys-rep, .json, .json.gz): give a trace, or a folder of the ranks of one job",
                ));
            }
            files.extend(found);
        } else {
            files.push(a.clone());
        }
    }
    Ok(files)
}

/// Whether a file name looks like a trace a folder of ranks would hold.
pub(crate) fn is_trace_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        ".sqlite",
        ".sqlite3",
        ".db",
        ".nsys-rep",
        ".qdrep",
        ".json",
        ".json.gz",
    ]
    .iter()
    .any(|e| n.ends_with(e))
        && !n.ends_with("report.json")
        && !n.ends_with("job.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("trace-report").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_and_validation() {
        let cfg = match parse(&["x.sqlite"]).unwrap().into_action().unwrap() {
            Action::Analyze(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(cfg.output, OutputTarget::Dir(PathBuf::from("reports/x")));
        assert_eq!(cfg.formats, vec![Format::Html, Format::Md, Format::Json]);
        assert_eq!(cfg.analysis.window, WindowChoice::Auto);

        let cfg = match parse(&["x.sqlite", "-o", "-", "--format", "json"])
            .unwrap()
            .into_action()
            .unwrap()
        {
            Action::Analyze(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(cfg.output, OutputTarget::Stdout(Format::Json));
        assert!(parse(&["x.sqlite", "-o", "-"]).unwrap().into_action().is_err());
        // An unknown severity is refused while parsing (a value enum).
        assert!(parse(&["x.sqlite", "--fail-on", "loud"]).is_err());
        assert!(
            parse(&["x.sqlite", "--phase", "nope"])
                .unwrap()
                .into_action()
                .is_err()
        );
        assert!(parse(&["x.sqlite", "--iteration", "a", "--whole-capture"]).is_err());
        assert!(parse(&[]).is_err());
        match parse(&["x.sqlite", "--ncu", "k.csv"])
            .unwrap()
            .into_action()
            .unwrap()
        {
            Action::Analyze(c) => assert_eq!(c.analysis.ncu, Some(PathBuf::from("k.csv"))),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&["rules"]).unwrap().into_action().unwrap(),
            Action::Rules
        ));
        assert!(matches!(
            parse(&["explain", "reupload"]).unwrap().into_action().unwrap(),
            Action::Explain(r) if r == "reupload"
        ));
    }

    #[test]
    fn diff_defaults_and_validation() {
        let cfg = match parse(&["diff", "a/base.sqlite", "b/new.sqlite"])
            .unwrap()
            .into_action()
            .unwrap()
        {
            Action::Diff(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            cfg.output,
            OutputTarget::Dir(PathBuf::from("reports/diff-base-vs-new"))
        );
        assert_eq!(cfg.fail_if_slower, None);
        assert_eq!(cfg.options.threshold_pct, 1.0);
        assert!(!cfg.options.analysis_options_given);
        let cfg = match parse(&[
            "diff",
            "x/report.json",
            "y.sqlite",
            "--whole-capture",
            "--fail-if-slower",
            "2.5",
            "-o",
            "-",
            "--format",
            "md",
        ])
        .unwrap()
        .into_action()
        .unwrap()
        {
            Action::Diff(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(cfg.output, OutputTarget::Stdout(Format::Md));
        assert_eq!(cfg.fail_if_slower, Some(2.5));
        assert_eq!(cfg.analysis.window, WindowChoice::WholeCapture);
        assert!(cfg.options.analysis_options_given);
        assert!(
            parse(&["diff", "a", "b", "--fail-if-slower=-1"])
                .unwrap()
                .into_action()
                .is_err()
        );
        assert!(
            parse(&["diff", "a", "b", "--threshold=inf"])
                .unwrap()
                .into_action()
                .is_err()
        );
        assert!(parse(&["diff", "a"]).is_err());
        // Shared flags are checked alike: a --nsys that is not there.
        assert!(
            parse(&["diff", "a", "b", "--nsys", "/no/such/nsys"])
                .unwrap()
                .into_action()
                .is_err()
        );
        assert!(parse(&["diff", "a", "b", "--input-format", "perfetto"]).is_err());
        // A saved report.json is named after its folder.
        let cfg = match parse(&["diff", "reports/resnet/report.json", "b.sqlite"])
            .unwrap()
            .into_action()
            .unwrap()
        {
            Action::Diff(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            cfg.output,
            OutputTarget::Dir(PathBuf::from("reports/diff-resnet-vs-b"))
        );
    }
}
