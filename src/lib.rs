//! trace-report: turns a GPU profiling capture of a model-inference run
//! into an attribution of its time, findings and reports.
//!
//! Data flows one way: [`input`] (bytes to model) -> [`model`] (one
//! normalized trace, time in ns) -> [`analysis`] and [`findings`] (pure
//! functions to serde types) -> [`report`] (HTML, Markdown, JSON, SVG) ->
//! [`output`] (the one place that writes files).

pub mod analysis;
pub mod batch;
pub mod capture;
pub mod cli;
pub mod dataset;
pub mod diff;
pub mod error;
pub mod findings;
pub mod input;
pub mod limits;
pub mod memory;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod run;
pub mod timing;
