//! Copy and memset totals over the window, by copy direction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::attribution::is_pageable;
use super::window::Window;
use crate::model::{CopyKind, Ns, Trace};

/// One row per copy direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemcpyRow {
    /// `HtoD`, `DtoH`, `DtoD`, `PtoP`, ...
    pub kind: String,
    pub count: u64,
    pub bytes: u64,
    pub total_ns: Ns,
    /// Copies from or to pageable host memory.
    pub pageable_count: u64,
}

/// Memsets in the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemsetRow {
    pub count: u64,
    pub bytes: u64,
    pub total_ns: Ns,
}

/// Copies whose GPU start lies in the window, by direction (largest time first).
pub fn summarize(trace: &Trace, window: &Window) -> Vec<MemcpyRow> {
    let mut by_kind: BTreeMap<CopyKind, MemcpyRow> = BTreeMap::new();
    for m in window
        .indexes(&trace.memcpys, |m| m.start)
        .map(|i| &trace.memcpys[i])
    {
        let row = by_kind.entry(m.kind).or_insert_with(|| MemcpyRow {
            kind: m.kind.label().to_string(),
            count: 0,
            bytes: 0,
            total_ns: 0,
            pageable_count: 0,
        });
        row.count += 1;
        row.bytes += m.bytes;
        row.total_ns += m.end - m.start;
        row.pageable_count += u64::from(is_pageable(m));
    }
    let mut rows: Vec<MemcpyRow> = by_kind.into_values().collect();
    rows.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then_with(|| a.kind.cmp(&b.kind)));
    rows
}

/// Memsets whose GPU start lies in the window.
pub fn memsets(trace: &Trace, window: &Window) -> MemsetRow {
    let mut row = MemsetRow::default();
    for m in window
        .indexes(&trace.memsets, |m| m.start)
        .map(|i| &trace.memsets[i])
    {
        row.count += 1;
        row.bytes += m.bytes;
        row.total_ns += m.end - m.start;
    }
    row
}
