//! trace-report: turns a GPU profiling capture of a model-inference run
//! into an attribution of its time, findings and reports.
//!
//! Data flows one way, up [`LAYERS`]: [`input`] (bytes to model) ->
//! [`model`] (one normalized trace, time in ns) -> [`analysis`] and
//! [`findings`] (pure functions to serde types) -> [`document`] (the report)
//! -> [`report`], [`diff`] and [`dataset`] (renderers return bytes) ->
//! [`output`] (the one place that writes files) -> [`capture`], [`cli`],
//! [`batch`] and [`run`] on top.

pub mod analysis;
pub mod batch;
pub mod cache;
pub mod capture;
pub mod cli;
pub mod dataset;
pub mod diff;
pub mod document;
pub mod error;
pub mod file_state;
pub mod findings;
pub mod input;
pub mod limits;
pub mod memory;
pub mod model;
pub mod nsys;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod run;
pub mod text;
pub mod timing;
pub mod workers;

/// The top-level modules, bottom to top: each may use only the modules
/// listed before it (and itself), never one after it, so imports point one
/// way and form no cycle. `tests/layers.rs` checks every `crate::` path in
/// `src/` against this list.
#[rustfmt::skip]
pub const LAYERS: &[&str] = &[
    // Leaf helpers every layer may use.
    "error",    // the one error type; I/O error text
    "text",     // numbers, durations and sizes as text; escaping; file-name stems
    "memory",   // handing freed heap back to the system
    "timing",   // per-stage timings (TRACE_REPORT_TIMINGS)
    "progress", // the progress bar on stderr
    "limits",   // the memory cap and its one-line error
    "workers",  // independent pure work run on every core
    "file_state", // a file's version without reading it all; where caches live
    // The layers proper, bottom up.
    "model",    // the normalized trace and its one builder
    "nsys",     // Nsight Systems as a tool: locate nsys, export .nsys-rep to SQLite
    "input",    // bytes to model: one reader per format; the ncu CSV
    "analysis", // pure analyses of a loaded trace
    "findings", // the rules (pure)
    "document", // the report document (report.json)
    "pipeline", // from a loaded trace to the document
    "cache",    // analysed traces kept between runs
    "report",   // the report's renderers
    "diff",     // comparing two reports, and its renderers
    "dataset",  // reports as Parquet tables (bytes), and SQL over them
    "output",   // the one place that writes files
    "capture",  // `profile`: running a command under nsys
    "cli",      // arguments to a validated configuration
    "batch",    // many traces, a few at a time, into reports and a dataset
    "run",      // carrying it out
];
