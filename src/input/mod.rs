//! Input formats. Each reader is one module that can tell whether an input
//! is its own (from the first bytes) and turns it into the one [`Trace`]
//! model; nothing downstream knows which format a trace came from.

pub mod cuda_graph;
pub mod decimal;
pub mod gzip;
pub mod json_stream;
pub mod kineto;
pub mod ncu;
pub mod nsys_ids;
pub mod nsys_json;
pub mod nsys_rep;
pub mod nsys_sqlite;
pub mod nvtx_domain;
pub mod trtexec;

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io_problem};
use crate::model::{NameId, Trace};
use crate::progress::Progress;

/// How many leading bytes readers get to recognise their format.
pub const HEAD_LEN: usize = 64 * 1024;

/// A trace format, as `--input-format` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    NsysSqlite,
    NsysRep,
    NsysJson,
    Kineto,
    Trtexec,
}

impl InputFormat {
    /// Every format, in detection order.
    pub const ALL: &[InputFormat] = &[
        InputFormat::NsysSqlite,
        InputFormat::NsysRep,
        InputFormat::NsysJson,
        InputFormat::Kineto,
        InputFormat::Trtexec,
    ];

    /// Stable name, as accepted by `--input-format`.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::NsysSqlite => "nsys-sqlite",
            InputFormat::NsysRep => "nsys-rep",
            InputFormat::NsysJson => "nsys-json",
            InputFormat::Kineto => "kineto",
            InputFormat::Trtexec => "trtexec",
        }
    }

    /// One line for `--help` and error messages.
    pub fn description(self) -> &'static str {
        match self {
            InputFormat::NsysSqlite => "Nsight Systems SQLite export (nsys export --type sqlite)",
            InputFormat::NsysRep => "Nsight Systems report (.nsys-rep; needs nsys to export it)",
            InputFormat::NsysJson => {
                "Nsight Systems JSON export (nsys export --type json, .json or .json.gz)"
            }
            InputFormat::Kineto => "PyTorch profiler / Kineto Chrome-trace JSON (.json, .json.gz)",
            InputFormat::Trtexec => {
                "TensorRT trtexec --exportLayerInfo / --exportProfile JSON (either file; the other is found by name)"
            }
        }
    }

    /// The format called `name`, with a usage error listing the known ones.
    pub fn named(name: &str) -> Result<InputFormat> {
        InputFormat::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let known: Vec<_> = InputFormat::ALL.iter().map(|f| f.name()).collect();
                Error::usage(format!(
                    "unknown input format '{name}' (known: {})",
                    known.join(", ")
                ))
            })
    }

    /// Whether `path`, whose first bytes are `head`, is in this format.
    pub fn sniff(self, path: &Path, head: &[u8]) -> bool {
        match self.reader() {
            Some(r) => r.sniff(path, head),
            None => nsys_rep::sniff(path, head),
        }
    }

    /// The reader of this format; none for `.nsys-rep`, which is exported
    /// to SQLite before it is read.
    fn reader(self) -> Option<&'static dyn Reader> {
        match self {
            InputFormat::NsysSqlite => Some(&nsys_sqlite::NsysSqlite),
            InputFormat::NsysRep => None,
            InputFormat::NsysJson => Some(&nsys_json::NsysJson),
            InputFormat::Kineto => Some(&kineto::Kineto),
            InputFormat::Trtexec => Some(&trtexec::Trtexec),
        }
    }
}

/// One input format's reader: one module that can tell whether an input
/// is its own and turns it into the model.
pub trait Reader: Sync {
    fn format(&self) -> InputFormat;
    /// Whether this input is this reader's, judged by content: `head` is
    /// the file's first bytes.
    fn sniff(&self, path: &Path, head: &[u8]) -> bool;
    /// Read the whole input into the model.
    fn read(&self, path: &Path, progress: &Progress) -> Result<Trace>;
}

/// Every reader, in detection order.
pub fn readers() -> impl Iterator<Item = &'static dyn Reader> {
    InputFormat::ALL.iter().filter_map(|f| f.reader())
}

/// How to read an input: what the command line says about it.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--input-format`: skip detection.
    pub format: Option<InputFormat>,
    /// `--nsys PATH`: the nsys that exports `.nsys-rep` inputs.
    pub nsys: Option<PathBuf>,
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

/// The format of `path`: `forced`, or the first whose `sniff` accepts the
/// content.
pub fn detect(path: &Path, forced: Option<InputFormat>) -> Result<InputFormat> {
    if let Some(f) = forced {
        return Ok(f);
    }
    let head = read_head(path)?;
    InputFormat::ALL
        .iter()
        .copied()
        .find(|f| f.sniff(path, &head))
        .ok_or_else(|| {
            let known: Vec<_> = InputFormat::ALL.iter().map(|f| f.description()).collect();
            Error::input(
                path,
                format!(
                    "not a recognised trace format (expected one of: {})",
                    known.join("; ")
                ),
            )
        })
}

/// Detect the format and read `path` into a sorted [`Trace`]. A `.nsys-rep`
/// is first exported to SQLite (nsys's own format is private), and the
/// export is read.
pub fn load(path: &Path, opts: &Options, progress: &Progress) -> Result<Trace> {
    let format = detect(path, opts.format)?;
    if opts.format.is_some() {
        read_head(path)?;
    }
    let (readable, reader) = match format.reader() {
        Some(reader) => (Cow::Borrowed(path), reader),
        None => (
            Cow::Owned(crate::nsys::export::sqlite_for(
                path,
                opts.nsys.as_deref(),
                progress,
            )?),
            &nsys_sqlite::NsysSqlite as &dyn Reader,
        ),
    };
    let mut trace = reader.read(&readable, progress)?;
    trace.source.format = format.name().to_string();
    if trace.source.path.is_empty() || format == InputFormat::NsysRep {
        trace.source.path = path.display().to_string();
    }
    crate::timing::time("demangle", || demangle_kernel_names(&mut trace));
    crate::timing::time("sort", || trace.sort());
    crate::memory::release_free();
    Ok(trace)
}

/// Kernel names some source delivered mangled (`_Z...`: Kineto when its
/// own demangling failed, some nsys exports), demangled, whatever the
/// format: a mangled convolution reads as nothing to the categories and
/// Tensor Core rules. Costs one pass over the distinct names, and over the
/// kernels only when a name needs it.
fn demangle_kernel_names(trace: &mut Trace) {
    use crate::model::kernel_name::demangle;
    let mut map: Vec<Option<(NameId, NameId)>> = Vec::new();
    for id in 0..trace.names.len() as NameId {
        let Some(full) = demangle(trace.names.get(id)) else {
            continue;
        };
        let short = kineto::short_name::short_name(&full).to_string();
        if map.is_empty() {
            map = vec![None; trace.names.len()];
        }
        let full = trace.names.intern(&full);
        let short = trace.names.intern(&short);
        map[id as usize] = Some((full, short));
    }
    if map.is_empty() {
        return;
    }
    for k in &mut trace.kernels {
        if let Some(Some((full, short))) = map.get(k.name as usize) {
            k.name = *full;
            k.short_name = *short;
        }
    }
}
