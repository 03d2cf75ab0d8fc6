//! The one place that writes files. Renderers return bytes; this writes
//! each to a temporary file beside its target and renames it into place,
//! so a report is never half-written, and refuses to overwrite the input.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::diff::Diff;
use crate::document::Report;
use crate::error::{Error, Result};
use crate::report;

/// An output document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Html,
    Md,
    Json,
}

impl Format {
    /// The name `--format` takes.
    pub fn label(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Md => "md",
            Format::Json => "json",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Format::Html => "report.html",
            Format::Md => "report.md",
            Format::Json => "report.json",
        }
    }

    /// The file a diff writes in this format.
    pub fn diff_file_name(self) -> &'static str {
        match self {
            Format::Html => "diff.html",
            Format::Md => "diff.md",
            Format::Json => "diff.json",
        }
    }
}

/// Where reports go.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputTarget {
    Dir(PathBuf),
    Stdout(Format),
    /// `-o FILE.html` (`.md`, `.json`) with one `--format`: that one file.
    File(PathBuf, Format),
}

impl OutputTarget {
    /// `-o` as given: `-` (stdout, one format), a file named for one
    /// format, or a folder; `default` when absent.
    pub fn parse(
        output: Option<&str>,
        formats: &[Format],
        default: impl FnOnce() -> PathBuf,
    ) -> Result<OutputTarget> {
        let one = (formats.len() == 1).then(|| formats[0]);
        let Some(o) = output else {
            return Ok(OutputTarget::Dir(default()));
        };
        if o == "-" {
            return one.map(OutputTarget::Stdout).ok_or_else(|| {
                Error::usage("-o - writes one format to stdout: choose it with --format html, md or json")
            });
        }
        let path = PathBuf::from(o);
        let named =
            path.extension()
                .and_then(|e| e.to_str())
                .and_then(|e| match e.to_ascii_lowercase().as_str() {
                    "html" | "htm" => Some(Format::Html),
                    "md" | "markdown" => Some(Format::Md),
                    "json" => Some(Format::Json),
                    _ => None,
                });
        match (named, one) {
            (None, _) => Ok(OutputTarget::Dir(path)),
            (Some(n), Some(f)) if n == f => Ok(OutputTarget::File(path, f)),
            (Some(n), Some(f)) => Err(Error::usage(format!(
                "-o {o} names a {} file but --format is {}: make them agree, or give -o a folder",
                n.label(),
                f.label()
            ))),
            (Some(n), None) => Err(Error::usage(format!(
                "-o {o} is one file but {} formats were asked for: add --format {} to write just that file, or give -o a folder",
                formats.len(),
                n.label()
            ))),
        }
    }
}

/// A renderer of one document kind in one format. Exporters only return
/// bytes (as hyperfine's do); [`write`] and [`write_diff`] are the one
/// place that writes them.
pub trait Exporter<D: ?Sized>: Sync {
    fn render(&self, doc: &D) -> Vec<u8>;
}

/// `report.html` / `diff.html`.
pub struct Html;
/// `report.md` / `diff.md`.
pub struct Markdown;
/// `report.json` / `diff.json`.
pub struct Json;

impl Exporter<Report> for Html {
    fn render(&self, r: &Report) -> Vec<u8> {
        report::html::render(r)
    }
}
impl Exporter<Report> for Markdown {
    fn render(&self, r: &Report) -> Vec<u8> {
        report::markdown::render(r)
    }
}
impl Exporter<Report> for Json {
    fn render(&self, r: &Report) -> Vec<u8> {
        report::json::render(r)
    }
}
impl Exporter<Diff> for Html {
    fn render(&self, d: &Diff) -> Vec<u8> {
        crate::diff::render_html::render(d)
    }
}
impl Exporter<Diff> for Markdown {
    fn render(&self, d: &Diff) -> Vec<u8> {
        crate::diff::render_md::render(d)
    }
}
impl Exporter<Diff> for Json {
    fn render(&self, d: &Diff) -> Vec<u8> {
        crate::diff::render_json(d)
    }
}

/// The exporter of `format` for documents of kind `D`.
pub fn exporter<D: 'static>(format: Format) -> &'static dyn Exporter<D>
where
    Html: Exporter<D>,
    Markdown: Exporter<D>,
    Json: Exporter<D>,
{
    match format {
        Format::Html => &Html,
        Format::Md => &Markdown,
        Format::Json => &Json,
    }
}

/// Render one format.
pub fn render(report: &Report, format: Format) -> Vec<u8> {
    exporter::<Report>(format).render(report)
}

/// Write the chosen formats; returns the files written (none for stdout).
pub fn write(
    report: &Report,
    target: &OutputTarget,
    formats: &[Format],
    input: &Path,
) -> Result<Vec<PathBuf>> {
    write_doc(report, target, formats, Format::file_name, &[input])
}

/// Write a diff's chosen formats (`diff.html`, `diff.md`, `diff.json`),
/// never onto one of its `inputs`; returns the files written (none for
/// stdout).
pub fn write_diff(
    d: &Diff,
    target: &OutputTarget,
    formats: &[Format],
    inputs: &[&Path],
) -> Result<Vec<PathBuf>> {
    write_doc(d, target, formats, Format::diff_file_name, inputs)
}

/// The one writer: each format's exporter renders, this writes to stdout,
/// one named file, or `file_name(format)` in a folder, never onto an input.
fn write_doc<D: Sync + 'static>(
    doc: &D,
    target: &OutputTarget,
    formats: &[Format],
    file_name: fn(Format) -> &'static str,
    inputs: &[&Path],
) -> Result<Vec<PathBuf>>
where
    Html: Exporter<D>,
    Markdown: Exporter<D>,
    Json: Exporter<D>,
{
    let first = inputs.first().copied().unwrap_or(Path::new(""));
    let to_file = |path: &Path, bytes: &[u8]| -> Result<()> {
        if inputs.iter().any(|i| same_file(path, i)) {
            return Err(Error::output(path, "refusing to overwrite an input"));
        }
        write_file(path, bytes, first)
    };
    match target {
        OutputTarget::Stdout(f) => to_stdout(&exporter::<D>(*f).render(doc)),
        OutputTarget::File(path, f) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir).map_err(|e| Error::output(dir, crate::error::io_problem(&e)))?;
            }
            to_file(path, &exporter::<D>(*f).render(doc))?;
            Ok(vec![path.clone()])
        }
        OutputTarget::Dir(dir) => {
            fs::create_dir_all(dir).map_err(|e| Error::output(dir, crate::error::io_problem(&e)))?;
            // Rendered side by side, written in order.
            let rendered = crate::workers::map(formats, |&f| exporter::<D>(f).render(doc));
            let mut written = Vec::new();
            for (&f, bytes) in formats.iter().zip(rendered) {
                let path = dir.join(file_name(f));
                to_file(&path, &bytes)?;
                written.push(path);
            }
            Ok(written)
        }
    }
}

/// A document to stdout; no file written.
fn to_stdout(bytes: &[u8]) -> Result<Vec<PathBuf>> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(Vec::new()),
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Vec::new()),
        Err(e) => Err(Error::output("stdout", e.to_string())),
    }
}

/// Write a job report's chosen formats (`job.html`, `job.md`,
/// `job.json`), never onto one of its `inputs`.
pub fn write_job(
    j: &crate::analysis::job::JobReport,
    target: &OutputTarget,
    formats: &[Format],
    inputs: &[&Path],
) -> Result<Vec<PathBuf>> {
    let render = |f: Format| match f {
        Format::Html => report::html_job::render(j),
        Format::Md => report::job_text::markdown(j),
        Format::Json => report::job_text::json(j),
    };
    match target {
        OutputTarget::Stdout(f) => to_stdout(&render(*f)),
        OutputTarget::File(path, f) => {
            if inputs.iter().any(|i| same_file(path, i)) {
                return Err(Error::output(path, "refusing to overwrite an input"));
            }
            write_file(
                path,
                &render(*f),
                inputs.first().copied().unwrap_or(Path::new("")),
            )?;
            Ok(vec![path.clone()])
        }
        OutputTarget::Dir(dir) => {
            fs::create_dir_all(dir).map_err(|e| Error::output(dir, crate::error::io_problem(&e)))?;
            let mut written = Vec::new();
            for &f in formats {
                let name = match f {
                    Format::Html => "job.html",
                    Format::Md => "job.md",
                    Format::Json => "job.json",
                };
                let path = dir.join(name);
                if inputs.iter().any(|i| same_file(&path, i)) {
                    return Err(Error::output(&path, "refusing to overwrite an input"));
                }
                write_file(
                    &path,
                    &render(f),
                    inputs.first().copied().unwrap_or(Path::new("")),
                )?;
                written.push(path);
            }
            Ok(written)
        }
    }
}

/// Write `bytes` to `path` atomically, never onto `input`.
pub fn write_file(path: &Path, bytes: &[u8], input: &Path) -> Result<()> {
    if same_file(path, input) {
        return Err(Error::output(path, "refusing to overwrite the input trace"));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = fs::write(&tmp, bytes).and_then(|_| fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::output(path, crate::error::io_problem(&e)));
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
