//! The memory-copies table the HTML and Markdown reports share: per
//! iteration (or over the window) by copy kind. The HTML report adds the
//! window totals and a memset row.

use super::summary;
use super::table::{Cell, Table};
use crate::document::Report;
use crate::text::format::{bytes, ns};

/// The table; `totals` adds the window-total column and the memset row.
pub fn table(r: &Report, totals: bool) -> Table {
    let n = summary::iterations(r);
    let mut columns = vec![
        ("kind", false),
        ("count", true),
        ("bytes", true),
        ("time", true),
        ("pageable", true),
    ];
    if totals {
        columns.push(("window total", true));
    }
    let mut t = Table::new(&columns);
    for m in &r.memcpy {
        let mut row = vec![
            Cell::text(&m.kind),
            Cell::num(summary::number(m.count as f64 / n as f64)),
            Cell::num(bytes(m.bytes / n as u64)),
            Cell::num(ns(m.total_ns / n)),
            Cell::num(summary::number(m.pageable_count as f64 / n as f64)),
        ];
        if totals {
            row.push(Cell::num(format!("{} copies, {}", m.count, ns(m.total_ns))));
        }
        t.row(row);
    }
    if totals && r.memset.count > 0 {
        t.row(vec![
            Cell::text("memset"),
            Cell::num(summary::number(r.memset.count as f64 / n as f64)),
            Cell::num(bytes(r.memset.bytes / n as u64)),
            Cell::num(ns(r.memset.total_ns / n)),
            Cell::num("-"),
            Cell::num(format!("{} memsets, {}", r.memset.count, ns(r.memset.total_ns))),
        ]);
    }
    t
}
