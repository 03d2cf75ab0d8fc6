//! trace-report: turns a GPU profiling capture of a model-inference run
//! into an attribution of its time, findings and reports.
//!
//! Data flows one way, up [`LAYERS`]: [`input`] (bytes to model) ->
//! [`model`] (one normalized trace, time in ns) -> [`analysis`] and
//! [`findings`] (pure functions to serde types) -> [`document`] (the report)
//! -> [`report`] and [`diff`] (renderers return bytes) -> [`output`] (the
//! one place that writes files) -> [`capture`], [`cli`] and [`run`] on top.

pub mod analysis;
pub mod capture;
pub mod cli;
pub mod diff;
pub mod document;
pub mod error;
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

/// The top-level modules, bottom to top: each may use only the modules
/// listed before it (and itself), never one after it, so imports point one
/// way and form no cycle. `tests/layers.rs` checks every `crate::` path in
/// `src/` against this list.
pub const LAYERS: &[&str] = &[
    // Leaf helpers every layer may use.
    "error",    // the one error type; I/O error text
    "text",     // numbers, durations and sizes as text; escaping; file-name stems
    "memory",   // handing freed heap back to the system
    "timing",   // per-stage timings (TRACE_REPORT_TIMINGS)
    "progress", // the progress bar on stderr
    "limits",   // the memory cap and its one-line error
    // The normalized trace.
    "model", // Nsight Systems as a tool: locate nsys, export .nsys-rep to SQLite.
    "nsys", // Bytes to model: one reader per format; the ncu CSV.
    "input", // Pure analyses and findings of a loaded trace.
    "analysis", "findings", // The report document (report.json) and the steps that build it.
    "document", "pipeline", // Renderers: report, then the comparison of two reports.
    "report", "diff", // The one place that writes files.
    "output", // `profile`: running a command under nsys.
    "capture", // Arguments to a validated configuration, and carrying it out.
    "cli", "run",
];
