//! `report.json`: the report document, pretty-printed.

use crate::document::Report;

pub fn render(report: &Report) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(report).expect("a report always serializes");
    out.push(b'\n');
    out
}
