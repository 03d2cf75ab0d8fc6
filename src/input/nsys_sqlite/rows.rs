//! Reading values out of SQLite rows defensively: a NULL or a value of the
//! wrong type is "absent", never a panic (rows that cannot be used are
//! counted by `model::build::RowCheck`).

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
}
