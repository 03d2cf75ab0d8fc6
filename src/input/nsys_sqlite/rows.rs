//! Reading values out of SQLite rows defensively: a NULL or a value of the
//! wrong type is "absent", never a panic, and rows that cannot be used are
//! counted and reported once per table.

use std::borrow::Cow;
use std::collections::HashMap;

use rusqlite::Row;
use rusqlite::types::ValueRef;

use crate::model::NameId;

/// A row with lenient typed getters.
pub struct RowReader<'a, 'r>(pub &'a Row<'r>);

impl RowReader<'_, '_> {
    /// An integer column; reals are truncated, numeric text parsed,
    /// anything else is absent.
    pub fn int(&self, i: usize) -> Option<i64> {
        match self.0.get_ref(i).ok()? {
            ValueRef::Integer(v) => Some(v),
            ValueRef::Real(f) if f.is_finite() && f.abs() < 9.2e18 => Some(f as i64),
            ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
            _ => None,
        }
    }

    /// A text column borrowed from the row; invalid UTF-8 (SQLite stores
    /// TEXT bytes unchecked) is replaced with U+FFFD, so a name with a bad
    /// byte stays legible instead of vanishing.
    pub fn text_ref(&self, i: usize) -> Option<Cow<'_, str>> {
        match self.0.get_ref(i).ok()? {
            ValueRef::Text(t) => Some(String::from_utf8_lossy(t)),
            _ => None,
        }
    }

    /// A text column as an owned string; invalid UTF-8 is replaced with
    /// U+FFFD, integers are formatted.
    pub fn text(&self, i: usize) -> Option<String> {
        match self.0.get_ref(i).ok()? {
            ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Integer(v) => Some(v.to_string()),
            ValueRef::Real(f) => Some(f.to_string()),
            _ => None,
        }
    }
}

/// Counts of unusable rows in one table.
pub struct BadRows {
    table: &'static str,
    null: u64,
    reversed: u64,
    unfinished: u64,
    out_of_range: u64,
}

impl BadRows {
    pub fn new(table: &'static str) -> BadRows {
        BadRows {
            table,
            null: 0,
            reversed: 0,
            unfinished: 0,
            out_of_range: 0,
        }
    }

    /// A row lacks a value it cannot do without.
    pub fn null(&mut self) {
        self.null += 1;
    }

    /// A row ends before it starts.
    pub fn reversed(&mut self) {
        self.reversed += 1;
    }

    /// A range that was never closed.
    pub fn unfinished(&mut self) {
        self.unfinished += 1;
    }

    /// A non-negative id or count that must fit 32 bits; absent is 0.
    pub fn u32(&mut self, v: Option<i64>) -> u32 {
        match v {
            None => 0,
            Some(v) => u32::try_from(v).unwrap_or_else(|_| {
                self.out_of_range += 1;
                0
            }),
        }
    }

    /// A non-negative byte count; absent is 0.
    pub fn u64(&mut self, v: Option<i64>) -> u64 {
        match v {
            None => 0,
            Some(v) => u64::try_from(v).unwrap_or_else(|_| {
                self.out_of_range += 1;
                0
            }),
        }
    }

    /// Count `other`'s rows too (parts of one table read apart).
    pub fn add(&mut self, other: &BadRows) {
        self.null += other.null;
        self.reversed += other.reversed;
        self.unfinished += other.unfinished;
        self.out_of_range += other.out_of_range;
    }

    /// Add one warning per kind of problem seen.
    pub fn report(&self, warnings: &mut Vec<String>) {
        let t = self.table;
        if self.null > 0 {
            warnings.push(format!(
                "{t}: {} row(s) with NULL or non-numeric times/names skipped",
                self.null
            ));
        }
        if self.reversed > 0 {
            warnings.push(format!(
                "{t}: {} row(s) ending before they start skipped",
                self.reversed
            ));
        }
        if self.unfinished > 0 {
            warnings.push(format!(
                "{t}: {} range(s) still open at the end of the capture skipped",
                self.unfinished
            ));
        }
        if self.out_of_range > 0 {
            warnings.push(format!(
                "{t}: {} negative or out-of-range id/byte value(s) read as 0",
                self.out_of_range
            ));
        }
    }
}

/// Map from an SQLite integer id to a [`NameId`]: a dense vector when the
/// ids are small (the usual StringIds), a hash map otherwise.
#[derive(Default)]
pub struct IdMap {
    dense: Vec<NameId>,
    sparse: HashMap<i64, NameId>,
}

/// Marks an empty slot in the dense vector.
const EMPTY: NameId = NameId::MAX;
/// Ids up to this bound use the dense vector (4 bytes each).
const DENSE_LIMIT: i64 = 1 << 24;

impl IdMap {
    pub fn insert(&mut self, id: i64, name: NameId) {
        if (0..DENSE_LIMIT).contains(&id) {
            let i = id as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, EMPTY);
            }
            self.dense[i] = name;
        } else {
            self.sparse.insert(id, name);
        }
    }

    pub fn get(&self, id: i64) -> Option<NameId> {
        if (0..DENSE_LIMIT).contains(&id) {
            self.dense.get(id as usize).copied().filter(|&n| n != EMPTY)
        } else {
            self.sparse.get(&id).copied()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_map_dense_and_sparse() {
        let mut m = IdMap::default();
        m.insert(3, 7);
        m.insert(-5, 8);
        m.insert(1 << 40, 9);
        assert_eq!(m.get(3), Some(7));
        assert_eq!(m.get(2), None);
        assert_eq!(m.get(-5), Some(8));
        assert_eq!(m.get(1 << 40), Some(9));
        assert_eq!(m.get(100), None);
    }

    #[test]
    fn bad_rows_are_reported_once_per_kind() {
        let mut b = BadRows::new("T");
        b.null();
        b.null();
        assert_eq!(b.u32(Some(-1)), 0);
        assert_eq!(b.u32(Some(5)), 5);
        assert_eq!(b.u64(None), 0);
        let mut w = Vec::new();
        b.report(&mut w);
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("2 row(s)"));
    }
}
