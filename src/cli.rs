//! Command-line arguments, turned into a validated [`Config`] in one step
//! ([`Cli::into_config`]); nothing past this module sees raw arguments.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::phase::PhaseRules;
use crate::analysis::window::WindowChoice;
use crate::error::{Error, Result};
use crate::findings::Severity;
use crate::pipeline::AnalysisOptions;

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
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The trace: an Nsight Systems SQLite export (nsys export --type sqlite).
    #[arg(required = true, value_name = "TRACE")]
    pub trace: Option<PathBuf>,

    /// Output folder (default: reports/<trace name>), or '-' to write one
    /// format to stdout.
    #[arg(short = 'o', long = "output", value_name = "DIR|-")]
    pub output: Option<String>,

    /// Which outputs to write.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "html,md,json")]
    pub format: Vec<Format>,

    /// NVTX range name that marks one iteration (default: detected).
    #[arg(long, value_name = "NAME")]
    pub iteration: Option<String>,

    /// Analyse the whole capture (span of all GPU activity), ignoring iterations.
    #[arg(long, conflicts_with = "iteration")]
    pub whole_capture: bool,

    /// Override a phase pattern: preprocess=REGEX, postprocess=REGEX or
    /// inference=REGEX (case-insensitive; repeatable).
    #[arg(long = "phase", value_name = "NAME=REGEX")]
    pub phases: Vec<String>,

    /// Nsight Compute CSV (ncu --csv --page raw) with
    /// sm__inst_executed_pipe_tensor_op_* counters: measured Tensor Core
    /// verdicts for the kernels it profiled.
    #[arg(long, value_name = "FILE.csv")]
    pub ncu: Option<PathBuf>,

    /// Force the input format instead of detecting it.
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<String>,

    /// Exit with status 1 when a finding of this severity or worse is
    /// reported (info, warning, error).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,

    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// An output document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Html,
    Md,
    Json,
}

impl Format {
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Html => "report.html",
            Format::Md => "report.md",
            Format::Json => "report.json",
        }
    }
}

/// Where reports go.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputTarget {
    Dir(PathBuf),
    Stdout(Format),
}

/// A validated analysis run.
#[derive(Debug, Clone)]
pub struct Config {
    pub input: PathBuf,
    pub input_format: Option<String>,
    pub output: OutputTarget,
    pub formats: Vec<Format>,
    pub analysis: AnalysisOptions,
    pub fail_on: Option<Severity>,
    pub quiet: bool,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Action {
    Analyze(Box<Config>),
    Explain(String),
    Rules,
}

impl Cli {
    /// Validate everything at once.
    pub fn into_action(self) -> Result<Action> {
        match self.command {
            Some(Command::Explain { rule }) => Ok(Action::Explain(rule)),
            Some(Command::Rules) => Ok(Action::Rules),
            None => Ok(Action::Analyze(Box::new(self.analyze.into_config()?))),
        }
    }
}

impl AnalyzeArgs {
    pub fn into_config(self) -> Result<Config> {
        let input = self.trace.ok_or_else(|| Error::usage("no trace file given"))?;
        let mut formats = self.format;
        formats.dedup();
        if formats.is_empty() {
            return Err(Error::usage("--format needs at least one of html, md, json"));
        }
        let output = match self.output.as_deref() {
            Some("-") if formats.len() == 1 => OutputTarget::Stdout(formats[0]),
            Some("-") => {
                return Err(Error::usage(
                    "-o - writes one format to stdout: choose it with --format html, md or json",
                ));
            }
            Some(dir) => OutputTarget::Dir(PathBuf::from(dir)),
            None => OutputTarget::Dir(Path::new("reports").join(report_name(&input))),
        };
        let window = match (self.iteration, self.whole_capture) {
            (Some(name), _) => WindowChoice::Named(name),
            (None, true) => WindowChoice::WholeCapture,
            (None, false) => WindowChoice::Auto,
        };
        let fail_on = match self.fail_on.as_deref() {
            None => None,
            Some(s) => Some(Severity::parse(s).ok_or_else(|| {
                Error::usage(format!(
                    "--fail-on: unknown severity '{s}' (info, warning, error)"
                ))
            })?),
        };
        Ok(Config {
            input,
            input_format: self.input_format,
            output,
            formats,
            analysis: AnalysisOptions {
                window,
                phases: PhaseRules::with_overrides(&self.phases)?,
                ncu: self.ncu,
            },
            fail_on,
            quiet: self.quiet,
        })
    }
}

/// The report folder name for a trace: its file name without the trace
/// extensions (`run.nsys-rep`, `x.sqlite`, `t.json.gz` -> `run`, `x`, `t`).
pub fn report_name(input: &Path) -> String {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trace".into());
    let mut stem = name.as_str();
    for ext in [
        ".gz",
        ".json",
        ".sqlite",
        ".sqlite3",
        ".db",
        ".nsys-rep",
        ".qdrep",
    ] {
        if let Some(s) = stem.strip_suffix(ext) {
            if !s.is_empty() {
                stem = s;
            }
        }
    }
    // Keep the folder name portable and inert.
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.trim_matches('.').is_empty() {
        "trace".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("trace-report").chain(args.iter().copied()))
    }

    #[test]
    fn report_names() {
        assert_eq!(report_name(Path::new("a/b/resnet.sqlite")), "resnet");
        assert_eq!(report_name(Path::new("t.kineto.json.gz")), "t.kineto");
        assert_eq!(report_name(Path::new("run.nsys-rep")), "run");
        assert_eq!(report_name(Path::new("we ird<x>.sqlite")), "we_ird_x_");
        assert_eq!(report_name(Path::new("..")), "trace");
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
        assert!(
            parse(&["x.sqlite", "--fail-on", "loud"])
                .unwrap()
                .into_action()
                .is_err()
        );
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
}
