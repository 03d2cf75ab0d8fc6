//! The one place that writes files. Renderers return bytes; this writes
//! each to a temporary file beside its target and renames it into place,
//! so a report is never half-written, and refuses to overwrite the input.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{Format, OutputTarget};
use crate::error::{Error, Result};
use crate::diff::Diff;
use crate::report::{self, Report};

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
fn write_doc<D: 'static>(
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
    let to_file = |path: &Path, f: Format| -> Result<()> {
        if inputs.iter().any(|i| same_file(path, i)) {
            return Err(Error::output(path, "refusing to overwrite an input"));
        }
        write_file(path, &exporter::<D>(f).render(doc), first)
    };
    match target {
        OutputTarget::Stdout(f) => {
            let bytes = exporter::<D>(*f).render(doc);
            let mut out = std::io::stdout().lock();
            match out.write_all(&bytes).and_then(|_| out.flush()) {
                Ok(()) => Ok(Vec::new()),
                // A closed pipe (`| head`) is the reader's choice, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Vec::new()),
                Err(e) => Err(Error::output("stdout", e.to_string())),
            }
        }
        OutputTarget::File(path, f) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir).map_err(|e| Error::output(dir, crate::input::io_problem(&e)))?;
            }
            to_file(path, *f)?;
            Ok(vec![path.clone()])
        }
        OutputTarget::Dir(dir) => {
            fs::create_dir_all(dir).map_err(|e| Error::output(dir, crate::input::io_problem(&e)))?;
            let mut written = Vec::new();
            for &f in formats {
                let path = dir.join(file_name(f));
                to_file(&path, f)?;
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
        return Err(Error::output(path, crate::input::io_problem(&e)));
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
