//! Input formats. Each reader is one module that can tell whether an input
//! is its own (from the first bytes) and turns it into the one [`Trace`]
//! model; nothing downstream knows which format a trace came from.

pub mod cuda_graph;
pub mod decimal;
pub mod gzip;
pub mod json_stream;
pub mod kineto;
pub mod nsys_json;
pub mod nsys_rep;
pub mod nsys_sqlite;
pub mod nvtx_domain;
pub mod trtexec;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::Trace;
use crate::progress::Progress;

/// How many leading bytes readers get to recognise their format.
pub const HEAD_LEN: usize = 64 * 1024;

/// One input format.
pub trait Reader: Sync {
    /// Stable name, as accepted by `--input-format`.
    fn name(&self) -> &'static str;
    /// One line for `--help` and error messages.
    fn description(&self) -> &'static str;
    /// Whether this input is this reader's, judged by content: `head` is
    /// the file's first bytes.
    fn sniff(&self, path: &Path, head: &[u8]) -> bool;
    /// Read the whole input into the model.
    fn read(&self, path: &Path, progress: &Progress) -> Result<Trace>;
}

/// Every reader, in detection order.
pub fn readers() -> &'static [&'static dyn Reader] {
    &[
        &nsys_sqlite::NsysSqlite,
        &nsys_rep::NsysRep,
        &nsys_json::NsysJson,
        &kineto::Kineto,
        &trtexec::Trtexec,
    ]
}

/// The reader named `name`.
pub fn reader_named(name: &str) -> Option<&'static dyn Reader> {
    readers().iter().copied().find(|r| r.name() == name)
}

/// The first bytes of `path` (decompressed when the file is gzip), with a
/// clear error for missing, unreadable, non-regular and corrupt gzip files.
pub fn read_head(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::input(path, io_problem(&e)))?;
    if meta.is_dir() {
        return Err(Error::input(path, "is a directory, not a trace file"));
    }
    let mut file = File::open(path).map_err(|e| Error::input(path, io_problem(&e)))?;
    let mut head = Vec::with_capacity(HEAD_LEN);
    file.by_ref()
        .take(HEAD_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::input(path, io_problem(&e)))?;
    if head.is_empty() {
        return Err(Error::input(path, "the file is empty"));
    }
    if gzip::is_gzip(&head) {
        return gzip::head(path, HEAD_LEN);
    }
    Ok(head)
}

/// Pick the reader for `path`: the one named by `forced`, or the first
/// whose `sniff` accepts the content.
pub fn detect(path: &Path, forced: Option<&str>) -> Result<&'static dyn Reader> {
    if let Some(name) = forced {
        return reader_named(name).ok_or_else(|| {
            let known: Vec<_> = readers().iter().map(|r| r.name()).collect();
            Error::usage(format!(
                "unknown input format '{name}' (known: {})",
                known.join(", ")
            ))
        });
    }
    let head = read_head(path)?;
    readers()
        .iter()
        .copied()
        .find(|r| r.sniff(path, &head))
        .ok_or_else(|| {
            let known: Vec<_> = readers().iter().map(|r| r.description()).collect();
            Error::input(
                path,
                format!(
                    "not a recognised trace format (expected one of: {})",
                    known.join("; ")
                ),
            )
        })
}

/// Detect the format and read `path` into a sorted [`Trace`].
pub fn load(path: &Path, forced: Option<&str>, progress: &Progress) -> Result<Trace> {
    let reader = detect(path, forced)?;
    if forced.is_some() {
        read_head(path)?;
    }
    let mut trace = reader.read(path, progress)?;
    trace.source.format = reader.name().to_string();
    if trace.source.path.is_empty() {
        trace.source.path = path.display().to_string();
    }
    crate::timing::time("sort", || trace.sort());
    crate::memory::release_free();
    Ok(trace)
}

/// A short description of an I/O error without the OS error number.
pub fn io_problem(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file".into(),
        PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}
