//! The report's renderers: HTML, Markdown, JSON and the terminal summary of
//! the [`Report`](crate::document::Report) document. Renderers return bytes;
//! `crate::output` is the one place that writes files.

pub mod charts;
pub mod copies;
pub mod host_work;
pub mod html;
pub mod html_engine;
pub mod html_findings;
pub mod html_job;
pub mod html_roofline;
pub mod html_tensor;
pub mod job_text;
pub mod json;
pub mod markdown;
pub mod md_roofline;
pub mod overview;
pub mod phase_table;
pub mod summary;
pub mod table;
pub mod terminal;
