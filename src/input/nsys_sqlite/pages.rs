//! Table scans read straight from the database file, by SQLite's documented
//! file format (<https://www.sqlite.org/fileformat2.html>), for the plain
//! queries the reader runs on the big tables: `SELECT col, NULL, ... FROM t`,
//! optionally `WHERE rowid BETWEEN ?1 AND ?2`.
//!
//! SQLite's own scan spends most of its time in its bytecode engine, one row
//! and one column at a time; decoding the leaf pages here gives the same
//! values, in the same (rowid) order, for a fraction of the CPU. Anything
//! this reader does not handle gives `None` from [`Scan::plan`] and the
//! query goes through SQLite as before: other SQL, WAL-mode files, text
//! encodings other than UTF-8, tables without rowid, generated columns,
//! columns with a default value (rows written before an `ALTER TABLE` would
//! need it). `TRACE_REPORT_SQLITE_LIBRARY=1` sends every query through
//! SQLite.
//!
//! A table is a B-tree of pages; interior pages list child pages with the
//! largest rowid under each, leaf pages hold the rows:
//!
//! ```text
//!  root (interior)   [ p7 | 100 ][ p9 | 250 ] right: p12
//!                      /            |              \
//!  leaves           p7: 1..=100   p9: 101..=250   p12: 251..
//! ```
//!
//! The leaves are listed first from the interior pages (a few in a
//! thousand; every leaf is at the depth of the first, so no leaf is read to
//! list it), then read in order, runs of consecutive pages in one read.

use std::fs::File;
use std::path::Path;

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::error::{Error, Result};

/// Most columns a plan may select.
const MAX_FIELDS: usize = 16;
/// Highest column index a plan may read.
const MAX_COLUMN: usize = 1000;
/// Pages read at once when the leaves are consecutive in the file.
const RUN_PAGES: usize = 64;
/// Deepest B-tree accepted (SQLite's own limit is 20).
const MAX_DEPTH: usize = 40;

/// Why a scan stopped: the file does not follow the format.
#[derive(Debug)]
pub struct Corrupt(pub String);

fn corrupt<T>(page: u32, what: &str) -> std::result::Result<T, Corrupt> {
    Err(Corrupt(format!("page {page}: {what}")))
}

/// What one output column of the query is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Null,
    Rowid,
    /// Record column `index`; `real`: REAL affinity, whose integral values
    /// SQLite stores as integers and reads back as reals.
    Column {
        index: usize,
        real: bool,
    },
}

/// The database file's page geometry.
struct Pages {
    file: File,
    page_size: usize,
    /// Page size less the bytes reserved at the end of each page.
    usable: usize,
    page_count: u32,
}

impl Pages {
    /// None when the header says this reader should leave the file to
    /// SQLite (WAL mode, an encoding other than UTF-8, an unusual layout).
    fn open(path: &Path) -> Option<Pages> {
        let file = File::open(path).ok()?;
        let mut h = [0u8; 100];
        read_at(&file, &mut h, 0).ok()?;
        if &h[..16] != b"SQLite format 3\0" {
            return None;
        }
        let page_size = match u16::from_be_bytes([h[16], h[17]]) {
            1 => 65536,
            n if n >= 512 && n.is_power_of_two() => n as usize,
            _ => return None,
        };
        // 1/1: rollback journal; 2 means WAL, whose newest pages may be in
        // the -wal file.
        if h[18] != 1 || h[19] != 1 || h[21] != 64 || h[22] != 32 || h[23] != 32 {
            return None;
        }
        if u32::from_be_bytes([h[56], h[57], h[58], h[59]]) != 1 {
            return None;
        }
        let usable = page_size - h[20] as usize;
        if usable < 480 {
            return None;
        }
        let len = file.metadata().ok()?.len();
        let page_count = u32::try_from(len / page_size as u64).ok()?;
        Some(Pages {
            file,
            page_size,
            usable,
            page_count,
        })
    }

    /// Read pages `first..first + n` into `buf`.
    fn read(&self, first: u32, n: usize, buf: &mut Vec<u8>) -> std::result::Result<(), Corrupt> {
        if first == 0 || u64::from(first) + n as u64 - 1 > u64::from(self.page_count) {
            return corrupt(first, "page number past the end of the file");
        }
        buf.resize(n * self.page_size, 0);
        let at = u64::from(first - 1) * self.page_size as u64;
        read_at(&self.file, buf, at).or_else(|e| corrupt(first, &format!("read failed ({e})")))
    }

    /// The leaf pages of the table B-tree rooted at `root`, in rowid order,
    /// each with the largest rowid it may hold; only leaves that may hold a
    /// rowid in `range`.
    fn leaves(&self, root: u32, range: (i64, i64)) -> std::result::Result<Vec<u32>, Corrupt> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        let mut visited: u64 = 0;
        // Every leaf of a B-tree is at the same depth: once the first is
        // read, the others are listed unread (the scan checks each type).
        let mut leaf_depth = None;
        // (page, lowest rowid it may hold, highest, depth)
        let mut stack = vec![(root, i64::MIN, i64::MAX, 0usize)];
        while let Some((page, lo, hi, depth)) = stack.pop() {
            visited += 1;
            if visited > u64::from(self.page_count) || depth > MAX_DEPTH {
                return corrupt(page, "the table's B-tree loops");
            }
            if leaf_depth == Some(depth) {
                out.push(page);
                continue;
            }
            self.read(page, 1, &mut buf)?;
            let hdr = if page == 1 { 100 } else { 0 };
            match buf[hdr] {
                0x0D if leaf_depth.is_none() => {
                    leaf_depth = Some(depth);
                    out.push(page);
                }
                0x0D => return corrupt(page, "leaves at different depths"),
                0x05 => {
                    let n = u16::from_be_bytes([buf[hdr + 3], buf[hdr + 4]]) as usize;
                    let right =
                        u32::from_be_bytes([buf[hdr + 8], buf[hdr + 9], buf[hdr + 10], buf[hdr + 11]]);
                    let mut children = Vec::with_capacity(n + 1);
                    let mut low = lo;
                    for i in 0..n {
                        let cell = cell_offset(&buf, hdr + 12, i, self.usable).ok_or_else(|| bad(page))?;
                        let child = buf
                            .get(cell..cell + 4)
                            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                            .ok_or_else(|| bad(page))?;
                        let (key, _) = varint(buf.get(cell + 4..).unwrap_or(&[])).ok_or_else(|| bad(page))?;
                        let key = key as i64;
                        children.push((child, low, key.min(hi)));
                        low = key.saturating_add(1);
                    }
                    children.push((right, low, hi));
                    // Depth first, leftmost child on top of the stack.
                    for &(child, a, b) in children.iter().rev() {
                        if b >= range.0 && a <= range.1 {
                            stack.push((child, a, b, depth + 1));
                        }
                    }
                }
                _ => return corrupt(page, "not a table B-tree page"),
            }
        }
        Ok(out)
    }

    /// The whole payload of a cell whose first `local` bytes are on the
    /// page and the rest on the overflow chain starting at `next`.
    fn overflow(
        &self,
        local: &[u8],
        size: usize,
        mut next: u32,
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), Corrupt> {
        out.clear();
        out.extend_from_slice(local);
        let mut buf = Vec::new();
        let mut hops = 0u64;
        while out.len() < size {
            hops += 1;
            if next == 0 || hops > u64::from(self.page_count) {
                return corrupt(next, "overflow chain ends early or loops");
            }
            self.read(next, 1, &mut buf)?;
            let take = (size - out.len()).min(self.usable - 4);
            out.extend_from_slice(&buf[4..4 + take]);
            next = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        }
        Ok(())
    }
}

fn bad(page: u32) -> Corrupt {
    Corrupt(format!("page {page}: cell out of bounds"))
}

/// Offset of cell `i` from the cell pointer array at `array`.
fn cell_offset(page: &[u8], array: usize, i: usize, usable: usize) -> Option<usize> {
    let p = page.get(array + 2 * i..array + 2 * i + 2)?;
    let off = u16::from_be_bytes([p[0], p[1]]) as usize;
    (off < usable && off >= array).then_some(off)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(buf)
}

/// SQLite's variable-length integer: up to 9 bytes, big-endian, 7 bits a
/// byte with the high bit saying "more", all 8 bits in the ninth. Most are
/// one byte (serial types, small sizes).
#[inline(always)]
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    match b.first() {
        Some(&x) if x < 0x80 => Some((u64::from(x), 1)),
        _ => varint_long(b),
    }
}

fn varint_long(b: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..8 {
        let x = *b.get(i)?;
        v = (v << 7) | u64::from(x & 0x7f);
        if x & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    Some(((v << 8) | u64::from(*b.get(8)?), 9))
}

/// Bytes a value of serial type `t` takes in the record body.
#[inline(always)]
fn serial_size(t: u64) -> usize {
    match t {
        0 | 8 | 9 | 10 | 11 => 0,
        1 => 1,
        2 => 2,
        3 => 3,
        4 => 4,
        5 => 6,
        6 | 7 => 8,
        t => usize::try_from((t - 12) / 2).unwrap_or(usize::MAX),
    }
}

/// The big-endian signed integer of the first `N` bytes of `b`.
#[inline(always)]
fn be<const N: usize>(b: &[u8]) -> Option<i64> {
    let s: [u8; N] = b.get(..N)?.try_into().ok()?;
    let mut w = [if s[0] & 0x80 != 0 { 0xFF } else { 0 }; 8];
    w[8 - N..].copy_from_slice(&s);
    Some(i64::from_be_bytes(w))
}

/// The value of serial type `t` at the start of `b`.
#[inline(always)]
fn serial_value(t: u64, b: &[u8]) -> Option<ValueRef<'_>> {
    let v = match t {
        0 => return Some(ValueRef::Null),
        1 => be::<1>(b)?,
        2 => be::<2>(b)?,
        3 => be::<3>(b)?,
        4 => be::<4>(b)?,
        5 => be::<6>(b)?,
        6 => be::<8>(b)?,
        7 => return Some(ValueRef::Real(f64::from_be_bytes(b.get(..8)?.try_into().ok()?))),
        8 => 0,
        9 => 1,
        10 | 11 => return None,
        t if t % 2 == 0 => {
            b.get(..((t - 12) / 2) as usize)?;
            return Some(ValueRef::Blob(&[]));
        }
        t => return Some(ValueRef::Text(b.get(..((t - 13) / 2) as usize)?)),
    };
    Some(ValueRef::Integer(v))
}

/// Marks a record column the query does not select.
const SKIP: u8 = u8::MAX;

/// Decode one record's selected columns into `out` (NULL-filled by the
/// caller): `slots[c]` is the output place of record column `c`; columns
/// past the record's end (rows older than the column) stay NULL, as plans
/// only take columns without a default.
/// `REAL`: some selected column has REAL affinity (a separate copy, so that
/// the common all-integer scan does not convert every value on the side).
fn decode<'a, const REAL: bool>(
    payload: &'a [u8],
    slots: &[u8],
    fields: &[Field],
    out: &mut [ValueRef<'a>],
) -> Option<()> {
    let (header, mut p) = varint(payload)?;
    let header = usize::try_from(header).ok()?;
    if header > payload.len() || header < p {
        return None;
    }
    let mut body = header;
    for &slot in slots {
        if p >= header {
            break;
        }
        let (t, n) = varint(&payload[p..header])?;
        p += n;
        if slot != SKIP {
            let v = serial_value(t, payload.get(body..)?)?;
            out[slot as usize] = match (v, REAL) {
                (ValueRef::Integer(i), true)
                    if matches!(fields[slot as usize], Field::Column { real: true, .. }) =>
                {
                    ValueRef::Real(i as f64)
                }
                (v, _) => v,
            };
        }
        body = body.saturating_add(serial_size(t));
    }
    Some(())
}

/// A planned scan of one table.
pub struct Scan {
    pages: Pages,
    root: u32,
    fields: Vec<Field>,
    /// Output place of each record column up to the last one selected.
    slots: Vec<u8>,
    /// Output place of the rowid, if selected.
    rowid_slot: Option<usize>,
    range: (i64, i64),
}

impl Scan {
    /// A scan that gives what `sql` with `params` gives on `conn` (opened
    /// on `path`), or None when the query is not one this reader handles.
    pub fn plan(conn: &Connection, path: &Path, sql: &str, params: &[i64]) -> Option<Scan> {
        if std::env::var_os("TRACE_REPORT_SQLITE_LIBRARY").is_some_and(|v| v != "0") {
            return None;
        }
        let parsed = parse(sql)?;
        let range = match (parsed.rowid_between, params) {
            (false, []) => (i64::MIN, i64::MAX),
            (true, &[a, b]) => (a, b),
            _ => return None,
        };
        let (root, table_sql): (i64, String) = conn
            .query_row(
                "SELECT rootpage, sql FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                [&parsed.table],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok()?;
        let root = u32::try_from(root).ok().filter(|&r| r > 0)?;
        // (name, declared type, default, pk, hidden) in record order.
        let mut stmt = conn
            .prepare("SELECT name, type, dflt_value IS NOT NULL, pk, hidden FROM pragma_table_xinfo(?1)")
            .ok()?;
        let columns: Vec<(String, String, bool, i64, i64)> = stmt
            .query_map([&parsed.table], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .ok()?
            .collect::<rusqlite::Result<_>>()
            .ok()?;
        if columns.is_empty() || columns.iter().any(|c| c.4 != 0) {
            return None;
        }
        let pks: Vec<usize> = (0..columns.len()).filter(|&i| columns[i].3 > 0).collect();
        // `INTEGER PRIMARY KEY` is the rowid itself (stored as NULL in the
        // record), except declared DESC; leave that rarity to SQLite.
        let alias = match pks.as_slice() {
            [i] if columns[*i].1.eq_ignore_ascii_case("INTEGER") => {
                if table_sql.to_ascii_uppercase().contains("DESC") {
                    return None;
                }
                Some(*i)
            }
            _ => None,
        };
        let mut fields = Vec::new();
        for item in &parsed.items {
            fields.push(match item {
                None => Field::Null,
                Some(name) => {
                    let i = columns.iter().position(|c| c.0.eq_ignore_ascii_case(name))?;
                    if alias == Some(i) {
                        Field::Rowid
                    } else if columns[i].2 || i > MAX_COLUMN {
                        return None;
                    } else {
                        Field::Column {
                            index: i,
                            real: real_affinity(&columns[i].1),
                        }
                    }
                }
            });
        }
        if fields.is_empty() || fields.len() > MAX_FIELDS {
            return None;
        }
        let last_column = fields
            .iter()
            .filter_map(|f| match f {
                Field::Column { index, .. } => Some(*index),
                _ => None,
            })
            .max();
        let mut slots = vec![SKIP; last_column.map_or(0, |c| c + 1)];
        let mut rowid_slot = None;
        for (i, f) in fields.iter().enumerate() {
            // A column or the rowid selected twice: left to SQLite.
            let taken = match *f {
                Field::Column { index, .. } => std::mem::replace(&mut slots[index], i as u8) != SKIP,
                Field::Rowid => rowid_slot.replace(i).is_some(),
                Field::Null => false,
            };
            if taken {
                return None;
            }
        }
        let pages = Pages::open(path)?;
        // An index B-tree (a table WITHOUT ROWID) is not a rowid table.
        let mut buf = Vec::new();
        pages.read(root, 1, &mut buf).ok()?;
        let kind = buf[if root == 1 { 100 } else { 0 }];
        (kind == 0x05 || kind == 0x0D).then_some(Scan {
            pages,
            root,
            fields,
            slots,
            rowid_slot,
            range,
        })
    }

    /// Call `each` with the selected values of every row, in rowid order.
    /// A file that breaks the format is an input error naming `path`.
    pub fn run(&self, path: &Path, mut each: impl FnMut(&[ValueRef<'_>]) -> Result<()>) -> Result<()> {
        let mut failed = None;
        let scanned = self.rows(|values| each(values).map_err(|e| failed = Some(e)).is_ok());
        match (failed, scanned) {
            (Some(e), _) => Err(e),
            (None, Err(Corrupt(what))) => Err(Error::input(
                path,
                format!("the SQLite file is corrupt or truncated ({what})"),
            )),
            (None, Ok(())) => Ok(()),
        }
    }

    /// Every row's values until `each` says stop (false).
    fn rows(&self, mut each: impl FnMut(&[ValueRef<'_>]) -> bool) -> std::result::Result<(), Corrupt> {
        let pages = &self.pages;
        let leaves = pages.leaves(self.root, self.range)?;
        let mut buf = Vec::new();
        let mut spill = Vec::new();
        let (usable, page_size) = (pages.usable, pages.page_size);
        let any_real = self
            .fields
            .iter()
            .any(|f| matches!(f, Field::Column { real: true, .. }));
        // Largest payload kept whole on a leaf page, and the smallest.
        let max_local = usable - 35;
        let min_local = (usable - 12) * 32 / 255 - 23;
        let mut i = 0;
        while i < leaves.len() {
            let mut n = 1;
            while n < RUN_PAGES && i + n < leaves.len() && leaves[i + n] == leaves[i] + n as u32 {
                n += 1;
            }
            pages.read(leaves[i], n, &mut buf)?;
            for k in 0..n {
                let page_no = leaves[i] + k as u32;
                let page = &buf[k * page_size..(k + 1) * page_size];
                let hdr = if page_no == 1 { 100 } else { 0 };
                if page[hdr] != 0x0D {
                    return corrupt(page_no, "not a table leaf page");
                }
                let cells = u16::from_be_bytes([page[hdr + 3], page[hdr + 4]]) as usize;
                for c in 0..cells {
                    let cell = cell_offset(page, hdr + 8, c, usable).ok_or_else(|| bad(page_no))?;
                    let rest = &page[cell..usable];
                    let (size, a) = varint(rest).ok_or_else(|| bad(page_no))?;
                    let (rowid, b) = varint(&rest[a..]).ok_or_else(|| bad(page_no))?;
                    let rowid = rowid as i64;
                    if rowid < self.range.0 || rowid > self.range.1 {
                        continue;
                    }
                    let size = usize::try_from(size).map_err(|_| bad(page_no))?;
                    let body = &rest[a + b..];
                    let payload: &[u8] = if size <= max_local {
                        body.get(..size).ok_or_else(|| bad(page_no))?
                    } else {
                        // Past max_local the cell keeps a prefix on the page
                        // and chains the rest through overflow pages.
                        if size > 1 << 30 {
                            return corrupt(page_no, "record larger than 1 GiB");
                        }
                        let k = min_local + (size - min_local) % (usable - 4);
                        let local = if k <= max_local { k } else { min_local };
                        let next = body.get(local..local + 4).ok_or_else(|| bad(page_no))?;
                        let next = u32::from_be_bytes([next[0], next[1], next[2], next[3]]);
                        pages.overflow(&body[..local], size, next, &mut spill)?;
                        &spill
                    };
                    let mut values = [ValueRef::Null; MAX_FIELDS];
                    let values = &mut values[..self.fields.len()];
                    if let Some(i) = self.rowid_slot {
                        values[i] = ValueRef::Integer(rowid);
                    }
                    let decoded = if any_real {
                        decode::<true>(payload, &self.slots, &self.fields, values)
                    } else {
                        decode::<false>(payload, &self.slots, &self.fields, values)
                    };
                    if decoded.is_none() {
                        return corrupt(page_no, "malformed record");
                    }
                    if !each(values) {
                        return Ok(());
                    }
                }
            }
            i += n;
        }
        Ok(())
    }
}

/// SQLite's affinity rule for REAL: the declared type names REAL, FLOA or
/// DOUB and not INT (which wins).
fn real_affinity(declared: &str) -> bool {
    let t = declared.to_ascii_uppercase();
    !t.contains("INT")
        && !t.contains("CHAR")
        && !t.contains("CLOB")
        && !t.contains("TEXT")
        && !t.contains("BLOB")
        && (t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB"))
}

/// The parts of a plain query: the selected columns (None: `NULL`), the
/// table, and whether it ends in `WHERE rowid BETWEEN ?1 AND ?2`.
#[derive(Debug, PartialEq)]
struct Parsed {
    items: Vec<Option<String>>,
    table: String,
    rowid_between: bool,
}

fn parse(sql: &str) -> Option<Parsed> {
    let words = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let rest = words.strip_prefix("SELECT ")?;
    let (list, rest) = rest.split_once(" FROM ")?;
    let (table, rowid_between) = match rest.split_once(' ') {
        None => (rest, false),
        Some((t, "WHERE rowid BETWEEN ?1 AND ?2")) => (t, true),
        Some(_) => return None,
    };
    let items = list
        .split(',')
        .map(|item| match item.trim() {
            "NULL" => Some(None),
            s => ident(s).map(Some),
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Parsed {
        items,
        table: ident(table)?,
        rowid_between,
    })
}

/// A bare identifier, or one quoted with `"` (`""` inside for a quote).
fn ident(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        let name = inner.replace("\"\"", "\"");
        // A lone quote inside would have ended the identifier.
        return (!name.is_empty()
            && inner.matches('"').count() % 2 == 0
            && !inner.contains(',')
            && !inner.contains(' '))
        .then_some(name);
    }
    let ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::query::{self, Prepared};
    use super::super::rows::RawQuery;
    use super::*;
    use std::path::PathBuf;

    /// A value owned, to compare the two readers.
    #[derive(Debug, PartialEq)]
    enum Owned {
        Null,
        Int(i64),
        Real(u64),
        Text(Vec<u8>),
        Blob,
    }

    fn own(v: ValueRef) -> Owned {
        match v {
            ValueRef::Null => Owned::Null,
            ValueRef::Integer(i) => Owned::Int(i),
            ValueRef::Real(f) => Owned::Real(f.to_bits()),
            ValueRef::Text(t) => Owned::Text(t.to_vec()),
            ValueRef::Blob(_) => Owned::Blob,
        }
    }

    /// The rows SQLite's own engine gives (the oracle).
    fn by_sqlite(conn: &Connection, sql: &str, params: &[i64]) -> Vec<Vec<Owned>> {
        let mut q = RawQuery::new(conn, sql, params).unwrap();
        let columns = conn.prepare(sql).unwrap().column_count();
        let mut out = Vec::new();
        while let Some(r) = q.next().unwrap() {
            out.push((0..columns).map(|i| own(r.value(i).unwrap())).collect());
        }
        out
    }

    fn by_pages(path: &Path, conn: &Connection, sql: &str, params: &[i64]) -> Option<Vec<Vec<Owned>>> {
        let scan = Scan::plan(conn, path, sql, params)?;
        let mut out = Vec::new();
        scan.run(path, |v| {
            out.push(v.iter().map(|&x| own(x)).collect());
            Ok(())
        })
        .unwrap();
        Some(out)
    }

    fn open(path: &Path) -> Connection {
        super::super::open_read_only(path).unwrap()
    }

    fn sqlite_files() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in ["sample_traces", "tests/fixtures"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "sqlite") {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn same_rows_as_sqlite_on_every_bundled_export() {
        let files = sqlite_files();
        assert!(files.len() >= 15, "{files:?}");
        let mut planned = 0;
        for path in &files {
            let conn = open(path);
            let mut kernels_planned = false;
            for q in query::ALL {
                let tables: Vec<Option<&str>> = if q.file.ends_with("enum.sql") {
                    query::ENUM_TABLES.iter().map(|&t| Some(t)).collect()
                } else {
                    vec![None]
                };
                for t in tables {
                    let Ok(Prepared::Ready { sql, .. }) = q.prepare(&conn, t) else {
                        continue;
                    };
                    if conn.prepare(&sql).is_err() {
                        continue;
                    }
                    let Some(rows) = by_pages(path, &conn, &sql, &[]) else {
                        continue;
                    };
                    assert_eq!(rows, by_sqlite(&conn, &sql, &[]), "{} {}", path.display(), q.file);
                    planned += 1;
                    kernels_planned |= q.file.ends_with("kernels.sql");
                    // A rowid range, as the two reading threads split the runtime table.
                    let ranged = format!("{sql} WHERE rowid BETWEEN ?1 AND ?2");
                    for range in [[2, 40], [i64::MIN, 0], [17, 17], [5, 3]] {
                        let got = by_pages(path, &conn, &ranged, &range).expect("ranged plan");
                        assert_eq!(
                            got,
                            by_sqlite(&conn, &ranged, &range),
                            "{} {} {range:?}",
                            path.display(),
                            q.file
                        );
                    }
                }
            }
            assert!(
                kernels_planned,
                "kernel table not read from pages in {}",
                path.display()
            );
        }
        assert!(planned > 5 * files.len(), "{planned}");
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tr-pages-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("t.sqlite")
    }

    /// Integers of every stored width, both signs.
    const WIDTHS: [i64; 16] = [
        0,
        1,
        -1,
        127,
        -128,
        32767,
        -32768,
        8_388_607,
        -8_388_608,
        2_147_483_647,
        -2_147_483_648,
        (1 << 47) - 1,
        -(1 << 47),
        i64::MAX,
        i64::MIN,
        1_000_003,
    ];

    /// A file whose rows need every part of the format: several B-tree
    /// levels, overflow chains, each integer width, reals stored as
    /// integers, NULLs and blobs, rows older than a column.
    fn crafted(path: &Path, page_size: u32) {
        let mut c = Connection::open(path).unwrap();
        c.execute_batch(&format!(
            "PRAGMA page_size={page_size}; PRAGMA journal_mode=DELETE;
             CREATE TABLE x (id INTEGER PRIMARY KEY, t TEXT, r REAL, i INTEGER, b BLOB);"
        ))
        .unwrap();
        let tx = c.transaction().unwrap();
        for k in 0..3000i64 {
            let text = "é".repeat((k % 50) as usize * 37);
            let r = if k % 2 == 0 { k as f64 } else { k as f64 + 0.5 };
            let b: Option<Vec<u8>> = (k % 7 == 0).then(|| vec![7u8; (k % 900) as usize]);
            tx.execute(
                "INSERT INTO x VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![k * 3 - 4000, text, r, WIDTHS[(k % 16) as usize], b],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        c.execute_batch(
            "ALTER TABLE x ADD COLUMN late INTEGER;
             INSERT INTO x (t, late) SELECT 'new', value FROM generate_series(1, 100);",
        )
        .unwrap_or_else(|_| {
            // Without the series extension: the same rows one by one.
            for v in 1..=100 {
                c.execute("INSERT INTO x (t, late) VALUES ('new', ?1)", [v])
                    .unwrap();
            }
        });
    }

    const SELECT_X: &str = "SELECT \"id\", \"t\", \"r\", \"i\", \"b\", NULL, \"late\" FROM \"x\"";

    #[test]
    fn same_rows_as_sqlite_on_every_part_of_the_format() {
        let mut small = PathBuf::new();
        for page_size in [512, 4096, 65536] {
            let path = temp(&format!("format{page_size}"));
            if page_size == 512 {
                small = path.clone();
            }
            crafted(&path, page_size);
            let conn = open(&path);
            let got = by_pages(&path, &conn, SELECT_X, &[]).expect("plan");
            assert_eq!(got.len(), 3100);
            assert_eq!(got, by_sqlite(&conn, SELECT_X, &[]), "page size {page_size}");
            let ranged = "SELECT t, id FROM x WHERE rowid BETWEEN ?1 AND ?2";
            for range in [
                [-4000, -3000],
                [0, 5000],
                [100, 99],
                [i64::MIN, i64::MAX],
                [4996, 9000],
            ] {
                let got = by_pages(&path, &conn, ranged, &range).expect("plan");
                assert_eq!(got, by_sqlite(&conn, ranged, &range), "{page_size} {range:?}");
            }
        }
        // The 512-byte file really has overflow pages and interior levels.
        let path = small;
        let conn = open(&path);
        let scan = Scan::plan(&conn, &path, SELECT_X, &[]).unwrap();
        assert!(scan.pages.leaves(scan.root, (i64::MIN, i64::MAX)).unwrap().len() > 500);
    }

    #[test]
    fn other_queries_and_files_are_left_to_sqlite() {
        let path = temp("fallback");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE plain (a INTEGER, b TEXT);
                 CREATE TABLE nr (a INTEGER PRIMARY KEY, b TEXT) WITHOUT ROWID;
                 CREATE TABLE dflt (a INTEGER, b INTEGER DEFAULT 5);
                 CREATE TABLE gen (a INTEGER, b INTEGER GENERATED ALWAYS AS (a + 1));
                 CREATE TABLE desc_pk (a INTEGER PRIMARY KEY DESC, b TEXT);
                 INSERT INTO plain VALUES (1, 'x');",
            )
            .unwrap();
        }
        let conn = open(&path);
        let plan = |sql: &str, params: &[i64]| Scan::plan(&conn, &path, sql, params).is_some();
        assert!(plan("SELECT a, b FROM plain", &[]));
        assert!(plan("SELECT \"a\", NULL FROM \"plain\"\n", &[]));
        assert!(
            !plan("SELECT a, b FROM plain", &[1, 2]),
            "parameters without a range"
        );
        assert!(!plan("SELECT count(*) FROM plain", &[]));
        assert!(!plan("SELECT a, b, a FROM plain", &[]), "a column twice");
        assert!(!plan("SELECT a FROM plain WHERE a > 1", &[]));
        assert!(!plan("SELECT a FROM plain ORDER BY a", &[]));
        assert!(!plan("SELECT a, b FROM nr", &[]), "WITHOUT ROWID");
        assert!(!plan("SELECT b FROM dflt", &[]), "a default value");
        assert!(plan("SELECT a FROM dflt", &[]));
        assert!(!plan("SELECT a FROM gen", &[]), "generated column");
        assert!(!plan("SELECT a, b FROM desc_pk", &[]));
        assert!(!plan("SELECT nope FROM plain", &[]));
        assert!(!plan("SELECT a FROM missing", &[]));
        drop(conn);
        let wal = temp("wal");
        {
            let c = Connection::open(&wal).unwrap();
            c.execute_batch(
                "PRAGMA journal_mode=WAL; CREATE TABLE plain (a INTEGER); INSERT INTO plain VALUES (1);",
            )
            .unwrap();
        }
        assert!(Pages::open(&wal).is_none(), "WAL mode");
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let good = temp("damage");
        crafted(&good, 512);
        let conn = open(&good);
        let whole = Scan::plan(&conn, &good, SELECT_X, &[]).unwrap();
        let leaves = whole.pages.leaves(whole.root, (i64::MIN, i64::MAX)).unwrap();
        let page = leaves[leaves.len() / 2] as u64;
        let at = (page - 1) * 512;
        let bytes = std::fs::read(&good).unwrap();
        // (what is overwritten, with what)
        let damage: [(u64, &[u8]); 4] = [
            (at + 3, &[0xFF, 0xFF]), // more cells than the page holds
            (at + 8, &[0x00, 0x01]), // a cell pointer into the header
            (at, &[0x02]),           // not a table page
            (at + 8, &[0x01, 0xFF]), // a cell past the record's end
        ];
        for (i, (offset, with)) in damage.iter().enumerate() {
            let path = temp(&format!("damaged{i}"));
            let mut b = bytes.clone();
            b[*offset as usize..*offset as usize + with.len()].copy_from_slice(with);
            std::fs::write(&path, &b).unwrap();
            let conn = open(&path);
            let scan = Scan::plan(&conn, &path, SELECT_X, &[]).expect("page 1 is intact");
            let e = scan.run(&path, |_| Ok(())).unwrap_err().to_string();
            assert!(
                e.contains("corrupt or truncated")
                    && e.contains(&*path.to_string_lossy())
                    && e.contains(&format!("page {page}")),
                "{i}: {e}"
            );
        }
        // Cut in half: an error, not a short table.
        let path = temp("cut");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let scan = Scan {
            pages: Pages::open(&path).unwrap(),
            ..whole
        };
        let e = scan.run(&path, |_| Ok(())).unwrap_err().to_string();
        assert!(e.contains("corrupt or truncated"), "{e}");
    }

    #[test]
    fn queries_parse_as_plain_scans() {
        let p = parse("SELECT \"start\", NULL, x_1\nFROM \"T\" WHERE rowid BETWEEN ?1 AND ?2").unwrap();
        assert_eq!(p.items, [Some("start".into()), None, Some("x_1".into())]);
        assert_eq!((p.table.as_str(), p.rowid_between), ("T", true));
        assert_eq!(
            parse("SELECT \"a\"\"b\" FROM t").unwrap().items,
            [Some("a\"b".into())]
        );
        for bad in [
            "SELECT a+1 FROM t",
            "SELECT a FROM t, u",
            "SELECT * FROM t",
            "SELECT a FROM t LIMIT 3",
            "DELETE FROM t",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0xFF; 9]), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81]), None);
    }
}
