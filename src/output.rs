//! The one place that writes files. Renderers return bytes; this writes
//! each to a temporary file beside its target and renames it into place,
//! so a report is never half-written, and refuses to overwrite the input.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

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
}

/// Render one format.
pub fn render(report: &Report, format: Format) -> Vec<u8> {
    match format {
        Format::Html => report::html::render(report),
        Format::Md => report::markdown::render(report),
        Format::Json => report::json::render(report),
    }
}

/// Write the chosen formats; returns the files written (none for stdout).
pub fn write(
    report: &Report,
    target: &OutputTarget,
    formats: &[Format],
    input: &Path,
) -> Result<Vec<PathBuf>> {
    match target {
        OutputTarget::Stdout(f) => {
            let bytes = render(report, *f);
            let mut out = std::io::stdout().lock();
            match out.write_all(&bytes).and_then(|_| out.flush()) {
                Ok(()) => Ok(Vec::new()),
                // A closed pipe (`| head`) is the reader's choice, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Vec::new()),
                Err(e) => Err(Error::output("stdout", e.to_string())),
            }
        }
        OutputTarget::Dir(dir) => {
            fs::create_dir_all(dir).map_err(|e| Error::output(dir, crate::error::io_problem(&e)))?;
            let mut written = Vec::new();
            for &f in formats {
                let path = dir.join(f.file_name());
                write_file(&path, &render(report, f), input)?;
                written.push(path);
            }
            Ok(written)
        }
    }
}

/// Write a diff's chosen formats (`diff.html`, `diff.md`, `diff.json`),
/// never onto one of its `inputs`; returns the files written (none for
/// stdout).
pub fn write_diff(
    d: &crate::diff::Diff,
    target: &OutputTarget,
    formats: &[Format],
    inputs: &[&Path],
) -> Result<Vec<PathBuf>> {
    let render = |f: Format| match f {
        Format::Html => crate::diff::render_html::render(d),
        Format::Md => crate::diff::render_md::render(d),
        Format::Json => crate::diff::render_json(d),
    };
    match target {
        OutputTarget::Stdout(f) => {
            let bytes = render(*f);
            let mut out = std::io::stdout().lock();
            match out.write_all(&bytes).and_then(|_| out.flush()) {
                Ok(()) => Ok(Vec::new()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Vec::new()),
                Err(e) => Err(Error::output("stdout", e.to_string())),
            }
        }
        OutputTarget::Dir(dir) => {
            fs::create_dir_all(dir).map_err(|e| Error::output(dir, crate::error::io_problem(&e)))?;
            let mut written = Vec::new();
            for &f in formats {
                let path = dir.join(f.diff_file_name());
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
