//! The two sides of a diff: a trace (read and analysed like the main
//! command) or a saved `report.json`, told apart by content: a report is a
//! JSON object whose `generator` starts with `trace-report` and which has a
//! `schema_version`.

use std::path::Path;
use std::sync::LazyLock;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

use crate::cache::{Analysed, Cache};
use crate::document::{Report, SCHEMA_VERSION};
use crate::error::{Error, Result};
use crate::input;
use crate::pipeline::AnalysisOptions;
use crate::progress::Progress;

/// What a side was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// A trace, analysed now.
    Trace,
    /// A saved `report.json`.
    Report,
}

/// The `kind` of a diff document, so that one is not mistaken for a report.
pub const DIFF_KIND: &str = "trace-report-diff";

/// One loaded side.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: String,
    pub kind: InputKind,
    pub report: Report,
}

/// The keys that identify a document; everything else is skipped unread.
#[derive(Deserialize)]
struct Probe {
    schema_version: Option<serde_json::Value>,
    generator: Option<String>,
    kind: Option<String>,
}

/// Our own report, recognisable from its first bytes as written.
static REPORT_HEAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""generator"\s*:\s*"trace-report"#).expect("valid"));

fn json_object(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Whether `path` (whose first bytes are `head`) is a trace-report JSON
/// document. A JSON object that no trace reader claims is probed in full
/// for its top-level keys, so reformatted reports (keys sorted) are found too.
fn is_report(path: &Path, head: &[u8]) -> Result<bool> {
    if !json_object(head) {
        return Ok(false);
    }
    if REPORT_HEAD.is_match(head) {
        return Ok(true);
    }
    if input::InputFormat::ALL.iter().any(|f| f.sniff(path, head)) {
        return Ok(false);
    }
    let file = std::fs::File::open(path).map_err(|e| Error::input(path, crate::error::io_problem(&e)))?;
    let probe: Option<Probe> = serde_json::from_reader(std::io::BufReader::new(file)).ok();
    Ok(probe.is_some_and(|p| {
        p.schema_version.is_some() && p.generator.is_some_and(|g| g.starts_with("trace-report"))
    }))
}

/// Read a saved report, refusing other schema versions and diff documents.
fn read_report(path: &Path) -> Result<Report> {
    let bytes = std::fs::read(path).map_err(|e| Error::input(path, crate::error::io_problem(&e)))?;
    let probe: Probe =
        serde_json::from_slice(&bytes).map_err(|e| Error::input(path, format!("not valid JSON: {e}")))?;
    if probe.kind.as_deref() == Some(DIFF_KIND) {
        return Err(Error::input(
            path,
            "is a trace-report diff document; diff compares traces or report.json files",
        ));
    }
    match probe.schema_version.as_ref().and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(Error::input(
                path,
                format!(
                    "report.json has schema_version {v}; this trace-report reads schema_version {SCHEMA_VERSION} (re-create the report from its trace)"
                ),
            ));
        }
        None => {
            return Err(Error::input(path, "report.json has no numeric schema_version"));
        }
    }
    let report: Report = serde_json::from_slice(&bytes)
        .map_err(|e| Error::input(path, format!("not a valid trace-report report.json: {e}")))?;
    durations_add_up(&report).map_err(|what| {
        Error::input(
            path,
            format!("report.json: {what} are not durations this tool writes (negative, or their sum overflows); re-create the report from its trace"),
        )
    })?;
    Ok(report)
}

/// Whether the times a diff adds up are non-negative and their sums fit,
/// as in every report this tool writes; else what is wrong.
fn durations_add_up(r: &Report) -> std::result::Result<(), &'static str> {
    fn sum(
        mut times: impl Iterator<Item = i64>,
        what: &'static str,
    ) -> std::result::Result<(), &'static str> {
        times
            .try_fold(0i64, |acc, t| if t < 0 { None } else { acc.checked_add(t) })
            .map(|_| ())
            .ok_or(what)
    }
    let a = &r.attribution.window;
    sum(
        [r.window.duration_ns, a.total_ns, a.activity.gpu_idle_ns].into_iter(),
        "the window's times",
    )?;
    sum(r.iterations.iter().map(|i| i.duration_ns), "the iteration times")?;
    sum(r.kernels.iter().map(|k| k.total_ns), "the kernel times")?;
    sum(r.memcpy.iter().map(|m| m.total_ns), "the copy times")?;
    sum(
        r.findings.iter().map(|f| f.time_at_stake_ns),
        "the findings' times at stake",
    )?;
    fn counts(mut v: impl Iterator<Item = u64>, what: &'static str) -> std::result::Result<(), &'static str> {
        v.try_fold(0u64, |a, c| a.checked_add(c)).map(|_| ()).ok_or(what)
    }
    counts(r.kernels.iter().map(|k| k.count), "the kernel counts")?;
    counts(r.memcpy.iter().map(|m| m.count), "the copy counts")?;
    counts(r.memcpy.iter().map(|m| m.bytes), "the copy sizes")?;
    Ok(())
}

/// Load one side: a saved report as it is, or a trace analysed with `opts`.
pub fn load(
    path: &Path,
    read: &input::Options,
    opts: &AnalysisOptions,
    progress: &Progress,
) -> Result<Loaded> {
    load_cached(path, read, opts, &Cache::off(), progress)
}

/// [`load`], taking a trace's report from `cache` when it holds it (and
/// storing it there when not).
pub fn load_cached(
    path: &Path,
    read: &input::Options,
    opts: &AnalysisOptions,
    cache: &Cache,
    progress: &Progress,
) -> Result<Loaded> {
    let shown = path.display().to_string();
    if read.format.is_none() {
        let head = input::read_head(path)?;
        if is_report(path, &head)? {
            return Ok(Loaded {
                path: shown,
                kind: InputKind::Report,
                report: read_report(path)?,
            });
        }
    }
    Ok(Loaded {
        path: shown,
        kind: InputKind::Trace,
        report: Analysed::report(cache, path, read, opts, progress)?,
    })
}

/// A name for a side in folder names: the trace's name, or for a saved
/// `report.json` the folder it lies in (`reports/resnet/report.json` ->
/// `resnet`).
pub fn side_name(path: &Path) -> String {
    let name = crate::text::report_name(path);
    let generic = path
        .file_name()
        .is_some_and(|f| f.to_string_lossy().eq_ignore_ascii_case("report.json"));
    if generic {
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(dir) = abs.parent().and_then(Path::file_name) {
            return crate::text::report_name(Path::new(dir));
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        assert!(json_object(b"  \n{\"a\":1}"));
        assert!(json_object(b"\xEF\xBB\xBF{"));
        assert!(!json_object(b"SQLite format 3\0"));
        assert!(
            REPORT_HEAD.is_match(b"{\n  \"schema_version\": 1,\n  \"generator\": \"trace-report 0.1.0\"")
        );
    }
}
