//! The big tables: kernels and runtime API calls (tens of millions of rows
//! in long captures), plus copies and memsets.
//!
//! SQLite reads one row at a time on one core, so the tables are read on two
//! threads with one read-only connection each:
//!
//! ```text
//!  worker:  kernels ....................... | runtime rows (m, max] ..
//!  caller:  memcpy memset sync | runtime rows [min, m] ................
//! ```
//!
//! `m` balances the two (a kernel row costs about 1.35 runtime rows). Rows
//! come back in rowid order and each part is merged in that order, so the
//! model (names, thread numbering, warnings, errors) is the same as one
//! reader would make. Both threads only read the name tables: a StringIds id
//! the export lacks is noted and named once they are done.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;

use super::pages;
use super::rows::{RawQuery, RawRow};
use super::{PROGRESS_STEP, Strings, Threads, sql_error};
use crate::error::Result;
use crate::input::nsys_ids::global_pid;
use crate::model::build::RowCheck;
use crate::model::{ApiCall, ApiKind, CopyKind, Kernel, MemKind, Memcpy, Memset, NameId, Names, Thread};
use crate::progress::Progress;

/// Runtime rows below which one thread reads them all.
const MIN_SPLIT_ROWS: i64 = 100_000;
/// Cost of a kernel row in runtime rows, for balancing (measured on the
/// 10M-kernel ResNet export: 0.47 us against 0.35 us per row).
const KERNEL_ROW_COST: f64 = 1.35;

/// Run `sql` with integer `params` on `conn`, calling `each` per row and
/// advancing `progress`. Plain table scans read the file directly (see
/// [`pages`]); the rest goes through SQLite.
pub(super) fn scan_rows(
    conn: &Connection,
    path: &Path,
    sql: &str,
    params: &[i64],
    progress: Option<&Progress>,
    mut each: impl FnMut(&RawRow) -> Result<()>,
) -> Result<()> {
    let mut n: u64 = 0;
    let mut step = |row: &RawRow| -> Result<()> {
        each(row)?;
        n += 1;
        if n % PROGRESS_STEP == 0 {
            if let Some(p) = progress {
                p.inc(PROGRESS_STEP);
            }
        }
        Ok(())
    };
    if let Some(scan) = pages::Scan::plan(conn, path, sql, params) {
        return scan.run(path, |values| step(&RawRow::from_values(values)));
    }
    let mut rows = RawQuery::new(conn, sql, params).map_err(|e| sql_error(path, &e))?;
    while let Some(row) = rows.next().map_err(|e| sql_error(path, &e))? {
        step(&row)?;
    }
    Ok(())
}

/// (min, max) rowid of `table`: two B-tree lookups, unlike count(*) (and
/// unlike `min(rowid), max(rowid)` in one query, which scans). None for an
/// empty table or one without rowids.
pub(super) fn rowid_range(conn: &Connection, table: &str) -> Option<(i64, i64)> {
    let one = |f: &str| {
        conn.query_row(&format!("SELECT {f}(rowid) FROM \"{table}\""), [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .ok()
        .flatten()
    };
    one("min").zip(one("max")).filter(|(a, b)| a <= b)
}

/// Rows to reserve room for: the rowid span, capped so that a bogus rowid
/// cannot ask for more than the file could hold.
pub(super) fn capacity(range: Option<(i64, i64)>, path: &Path) -> usize {
    let file_rows = std::fs::metadata(path).map_or(0, |m| m.len() / 16);
    range.map_or(0, |(a, b)| (b - a + 1).clamp(0, file_rows as i64) as usize)
}

/// Which part of the runtime table the second thread reads: rows with
/// rowid above the returned value, or None for no split.
pub(super) fn split_point(runtime: Option<(i64, i64)>, other_rows: i64) -> Option<i64> {
    let (lo, hi) = runtime?;
    let rows = hi - lo + 1;
    if rows < MIN_SPLIT_ROWS {
        return None;
    }
    // The caller's share f of the runtime rows evens the two threads:
    // f * rows = (1 - f) * rows + cost(other rows).
    let f = (rows as f64 + KERNEL_ROW_COST * other_rows as f64) / (2.0 * rows as f64);
    (f < 0.95).then(|| lo + (f * rows as f64) as i64)
}

/// A name a thread could not resolve: StringIds lacks `id`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Unknown {
    pub row: usize,
    /// Kernels: 0 the demangled name, 1 the short name.
    pub field: u8,
    pub id: i64,
}

/// Kernel rows, in table order.
#[derive(Default)]
pub(super) struct KernelRows {
    pub kernels: Vec<Kernel>,
    pub bad: Option<RowCheck>,
    pub unknown: Vec<Unknown>,
}

pub(super) fn read_kernels(
    conn: &Connection,
    path: &Path,
    sql: &str,
    names: (&Names, &Strings),
    capacity: usize,
    progress: &Progress,
) -> Result<KernelRows> {
    let strings = names.1;
    let mut out = KernelRows {
        kernels: Vec::with_capacity(capacity),
        bad: Some(RowCheck::new("CUPTI_ACTIVITY_KIND_KERNEL")),
        unknown: Vec::new(),
    };
    let (kernels, unknown) = (&mut out.kernels, &mut out.unknown);
    let bad = out.bad.as_mut().expect("set above");
    scan_rows(conn, path, sql, &[], Some(progress), |r| {
        let Some((start, end)) = bad.span(r.int(0), r.int(1)) else {
            return Ok(());
        };
        let Some(name_id) = r.int(5) else {
            bad.null();
            return Ok(());
        };
        let row = kernels.len();
        let mut resolve = |id: i64, field: u8| {
            strings.0.get(id).unwrap_or_else(|| {
                unknown.push(Unknown { row, field, id });
                0
            })
        };
        let name = resolve(name_id, 0);
        let short_name = resolve(r.int(6).unwrap_or(name_id), 1);
        kernels.push(Kernel {
            start,
            end,
            name,
            short_name,
            device: bad.u32(r.int(2)),
            stream: bad.u32(r.int(3)),
            correlation: bad.u32(r.int(4)),
            pid: r.int(7).map_or(0, global_pid),
        });
        Ok(())
    })?;
    Ok(out)
}

/// Name the rows' unknown ids (`<string #id>`, as [`Strings::get`] does).
pub(super) fn resolve_kernels(rows: &mut KernelRows, names: &mut Names, strings: &mut Strings) {
    for u in &rows.unknown {
        let n = strings.get(names, u.id);
        let k = &mut rows.kernels[u.row];
        if u.field == 0 {
            k.name = n;
        } else {
            k.short_name = n;
        }
    }
}

pub(super) fn read_memcpys(
    conn: &Connection,
    path: &Path,
    sql: &str,
    kinds: (&HashMap<i64, String>, &HashMap<i64, String>),
    out: &mut Vec<Memcpy>,
    progress: &Progress,
) -> Result<RowCheck> {
    // Decode each enum id once.
    let copy: HashMap<i64, CopyKind> = kinds.0.iter().map(|(&i, n)| (i, CopyKind::parse(n))).collect();
    let mem: HashMap<i64, MemKind> = kinds.1.iter().map(|(&i, n)| (i, MemKind::parse(n))).collect();
    let mut bad = RowCheck::new("CUPTI_ACTIVITY_KIND_MEMCPY");
    scan_rows(conn, path, sql, &[], Some(progress), |r| {
        let Some((start, end)) = bad.span(r.int(0), r.int(1)) else {
            return Ok(());
        };
        let mem_kind = |i: usize| {
            r.int(i)
                .and_then(|k| mem.get(&k).copied())
                .unwrap_or(MemKind::Unknown)
        };
        out.push(Memcpy {
            start,
            end,
            bytes: bad.u64(r.int(2)),
            kind: r
                .int(3)
                .and_then(|k| copy.get(&k).copied())
                .unwrap_or(CopyKind::Unknown),
            src: mem_kind(4),
            dst: mem_kind(5),
            device: bad.u32(r.int(6)),
            stream: bad.u32(r.int(7)),
            correlation: bad.u32(r.int(8)),
            pid: r.int(9).map_or(0, global_pid),
        });
        Ok(())
    })?;
    Ok(bad)
}

pub(super) fn read_memsets(
    conn: &Connection,
    path: &Path,
    sql: &str,
    out: &mut Vec<Memset>,
    progress: &Progress,
) -> Result<RowCheck> {
    let mut bad = RowCheck::new("CUPTI_ACTIVITY_KIND_MEMSET");
    scan_rows(conn, path, sql, &[], Some(progress), |r| {
        let Some((start, end)) = bad.span(r.int(0), r.int(1)) else {
            return Ok(());
        };
        out.push(Memset {
            start,
            end,
            bytes: bad.u64(r.int(2)),
            device: bad.u32(r.int(3)),
            stream: bad.u32(r.int(4)),
            correlation: bad.u32(r.int(5)),
            pid: r.int(6).map_or(0, global_pid),
        });
        Ok(())
    })?;
    Ok(bad)
}

/// Correlation ids of blocking synchronization: a bit per id when the ids
/// are dense (the usual case), else a sorted list.
#[derive(Debug, Default)]
pub(super) struct Blocking {
    bits: Vec<u64>,
    sorted: Vec<u32>,
}

impl Blocking {
    pub fn new(mut ids: Vec<u32>) -> Blocking {
        let max = ids.iter().copied().max().unwrap_or(0) as usize;
        if max < 64 * 64 * ids.len().max(1) {
            let mut bits = vec![0u64; max / 64 + 1];
            for c in ids {
                bits[c as usize / 64] |= 1 << (c % 64);
            }
            Blocking {
                bits,
                sorted: Vec::new(),
            }
        } else {
            ids.sort_unstable();
            ids.dedup();
            Blocking {
                bits: Vec::new(),
                sorted: ids,
            }
        }
    }

    pub fn contains(&self, c: u32) -> bool {
        match self.bits.get(c as usize / 64) {
            Some(w) => w & (1 << (c % 64)) != 0,
            None => !self.sorted.is_empty() && self.sorted.binary_search(&c).is_ok(),
        }
    }
}

/// Runtime rows of one rowid range.
pub(super) struct RuntimeRows {
    pub calls: Vec<ApiCall>,
    /// Calls read but not kept (kind Other).
    pub other: u64,
    pub bad: RowCheck,
    /// Host threads in order of first appearance in this part.
    pub threads: Threads,
    pub thread_list: Vec<Thread>,
    /// Calls whose name id StringIds lacks (`row` indexes `calls`).
    pub unknown: Vec<Unknown>,
}

/// Read the runtime rows with rowid in `range` (all rows when None).
pub(super) fn read_runtime(
    conn: &Connection,
    path: &Path,
    sql: &str,
    range: Option<(i64, i64)>,
    names: (&Names, &Strings),
    blocking: &Blocking,
    capacity: usize,
    progress: &Progress,
) -> Result<RuntimeRows> {
    let (names, strings) = names;
    let mut out = RuntimeRows {
        calls: Vec::with_capacity(capacity),
        other: 0,
        bad: RowCheck::new("CUPTI_ACTIVITY_KIND_RUNTIME"),
        threads: Threads::default(),
        thread_list: Vec::new(),
        unknown: Vec::new(),
    };
    // Each distinct function name is classified once; ids are small.
    let mut kinds: Vec<Option<(NameId, ApiKind)>> = Vec::new();
    let mut sparse: HashMap<i64, (NameId, ApiKind)> = HashMap::new();
    let mut classify = |id: i64| -> (NameId, ApiKind) {
        let slot = match usize::try_from(id) {
            Ok(i) if i < 1 << 24 => {
                if i >= kinds.len() {
                    kinds.resize(i + 1, None);
                }
                &mut kinds[i]
            }
            _ => return *sparse.entry(id).or_insert_with(|| named(names, strings, id)),
        };
        *slot.get_or_insert_with(|| named(names, strings, id))
    };
    let sql = match range {
        Some(_) => format!("{sql} WHERE rowid BETWEEN ?1 AND ?2"),
        None => sql.to_string(),
    };
    let params = range.map_or([i64::MIN, i64::MAX], |(a, b)| [a, b]);
    let RuntimeRows {
        calls,
        other,
        bad,
        threads,
        thread_list,
        unknown,
    } = &mut out;
    let params: &[i64] = if range.is_some() { &params } else { &[] };
    scan_rows(conn, path, &sql, params, Some(progress), |r| {
        let Some((start, end)) = bad.span(r.int(0), r.int(1)) else {
            return Ok(());
        };
        let Some(name_id) = r.int(2) else {
            bad.null();
            return Ok(());
        };
        let (name, mut kind) = classify(name_id);
        let correlation = bad.u32(r.int(4));
        if kind == ApiKind::Other && correlation != 0 && blocking.contains(correlation) {
            kind = ApiKind::Sync;
        }
        if kind == ApiKind::Other {
            *other += 1;
            return Ok(());
        }
        if name == UNKNOWN {
            unknown.push(Unknown {
                row: calls.len(),
                field: 0,
                id: name_id,
            });
        }
        let thread = threads.get(thread_list, r.int(3));
        calls.push(ApiCall {
            start,
            end,
            name,
            thread,
            correlation,
            kind,
        });
        Ok(())
    })?;
    Ok(out)
}

/// A name id not in StringIds, until it is named.
const UNKNOWN: NameId = NameId::MAX;

/// The name and kind of a runtime function name id.
fn named(names: &Names, strings: &Strings, id: i64) -> (NameId, ApiKind) {
    match strings.0.get(id) {
        Some(n) => (n, ApiKind::classify(names.get(n))),
        None => (UNKNOWN, ApiKind::classify(&format!("<string #{id}>"))),
    }
}

/// Join runtime parts (in rowid order) into the trace's calls and threads,
/// numbering threads and naming unknown ids as one pass would have.
pub(super) fn merge_runtime(
    parts: Vec<RuntimeRows>,
    calls: &mut Vec<ApiCall>,
    threads: &mut Threads,
    thread_list: &mut Vec<Thread>,
    names: &mut Names,
    strings: &mut Strings,
) -> (u64, RowCheck) {
    let mut other = 0;
    let mut bad = RowCheck::new("CUPTI_ACTIVITY_KIND_RUNTIME");
    for part in parts {
        // Local thread index -> trace thread index.
        let map: Vec<u32> = part
            .threads
            .keys()
            .iter()
            .zip(part.thread_list)
            .map(|(&key, t)| threads.insert(thread_list, key, t))
            .collect();
        let base = calls.len();
        if calls.is_empty() {
            *calls = part.calls;
        } else {
            calls.extend_from_slice(&part.calls);
        }
        let identity = map.iter().enumerate().all(|(i, &t)| i as u32 == t);
        if !identity {
            for c in &mut calls[base..] {
                c.thread = map[c.thread as usize];
            }
        }
        for u in part.unknown {
            calls[base + u.row].name = strings.get(names, u.id);
        }
        other += part.other;
        bad.add(&part.bad);
    }
    (other, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_sets() {
        let dense = Blocking::new(vec![3, 70, 5]);
        assert!(!dense.bits.is_empty());
        assert!(dense.contains(70) && dense.contains(3) && !dense.contains(4) && !dense.contains(1 << 30));
        let sparse = Blocking::new(vec![4_000_000_000, 7]);
        assert!(sparse.bits.is_empty());
        assert!(sparse.contains(7) && sparse.contains(4_000_000_000) && !sparse.contains(8));
        assert!(!Blocking::new(Vec::new()).contains(0));
    }

    #[test]
    fn split_balances_the_threads() {
        assert_eq!(split_point(None, 10), None);
        assert_eq!(split_point(Some((1, 1000)), 10), None, "small tables");
        // 26M runtime rows, 10M kernel rows: the caller reads ~76%.
        let m = split_point(Some((1, 26_000_000)), 10_000_000).unwrap();
        assert!((19_000_000..20_500_000).contains(&m), "{m}");
        // Few runtime rows beside many kernels: no split.
        assert_eq!(split_point(Some((1, 200_000)), 10_000_000), None);
    }
}
