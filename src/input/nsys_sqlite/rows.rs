//! Reading values out of SQLite rows defensively: a NULL or a value of the
//! wrong type is "absent", never a panic (rows that cannot be used are
//! counted by `model::build::RowCheck`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::c_int;
use std::marker::PhantomData;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ffi};

use crate::model::NameId;

/// A query stepped through SQLite's C API: the big tables have tens of
/// millions of rows, and the safe row API checks the column count and wraps
/// a `Result` around every value, which cost as much as SQLite's own work
/// per value. The values read are the same (SQLite's own type of each
/// value decides what a getter gives).
pub struct RawQuery<'c> {
    stmt: *mut ffi::sqlite3_stmt,
    db: *mut ffi::sqlite3,
    columns: usize,
    _conn: PhantomData<&'c Connection>,
}

impl<'c> RawQuery<'c> {
    /// Prepare `sql` on `conn` and bind `params` (integers, ?1, ?2, ...).
    pub fn new(conn: &'c Connection, sql: &str, params: &[i64]) -> rusqlite::Result<RawQuery<'c>> {
        // Check the SQL and the parameters through the safe API first: the
        // same errors, the same messages.
        {
            let stmt = conn.prepare(sql)?;
            if stmt.parameter_count() != params.len() {
                return Err(rusqlite::Error::InvalidParameterCount(
                    params.len(),
                    stmt.parameter_count(),
                ));
            }
        }
        let len = c_int::try_from(sql.len())
            .map_err(|_| rusqlite::Error::ToSqlConversionFailure("SQL too long".into()))?;
        // SAFETY: `db` is the live handle of `conn`, which outlives the
        // query ('c); the statement is finalized in Drop. SQL bytes with
        // their length need no NUL terminator.
        unsafe {
            let db = conn.handle();
            let mut stmt = std::ptr::null_mut();
            let rc = ffi::sqlite3_prepare_v2(db, sql.as_ptr().cast(), len, &mut stmt, std::ptr::null_mut());
            let mut q = RawQuery {
                stmt,
                db,
                columns: 0,
                _conn: PhantomData,
            };
            if rc != ffi::SQLITE_OK || stmt.is_null() {
                return Err(q.error(rc));
            }
            for (i, &v) in params.iter().enumerate() {
                let rc = ffi::sqlite3_bind_int64(stmt, i as c_int + 1, v);
                if rc != ffi::SQLITE_OK {
                    return Err(q.error(rc));
                }
            }
            q.columns = ffi::sqlite3_column_count(stmt).max(0) as usize;
            Ok(q)
        }
    }

    /// The next row, or None at the end.
    pub fn next(&mut self) -> rusqlite::Result<Option<RawRow<'_>>> {
        // SAFETY: a prepared statement of a live connection (see `new`).
        let rc = unsafe { ffi::sqlite3_step(self.stmt) };
        match rc {
            ffi::SQLITE_ROW => Ok(Some(RawRow(Inner::Stmt {
                stmt: self.stmt,
                columns: self.columns,
                _query: PhantomData,
            }))),
            ffi::SQLITE_DONE => Ok(None),
            _ => Err(self.error(rc)),
        }
    }

    fn error(&self, rc: c_int) -> rusqlite::Error {
        // SAFETY: the connection's handle is live; the message is copied
        // before any other call on it.
        let msg = unsafe {
            let m = ffi::sqlite3_errmsg(self.db);
            (!m.is_null()).then(|| std::ffi::CStr::from_ptr(m).to_string_lossy().into_owned())
        };
        let code = unsafe { ffi::sqlite3_extended_errcode(self.db) };
        rusqlite::Error::SqliteFailure(ffi::Error::new(if code != 0 { code } else { rc }), msg)
    }
}

impl Drop for RawQuery<'_> {
    fn drop(&mut self) {
        // SAFETY: finalizing a statement we prepared, once (NULL is a no-op).
        unsafe {
            ffi::sqlite3_finalize(self.stmt);
        }
    }
}

/// The current row of a [`RawQuery`] (valid until the next step), or the
/// values a scan of the file decoded (see [`super::pages`]).
pub struct RawRow<'q>(Inner<'q>);

enum Inner<'q> {
    Stmt {
        stmt: *mut ffi::sqlite3_stmt,
        columns: usize,
        _query: PhantomData<&'q mut ()>,
    },
    Values(&'q [ValueRef<'q>]),
}

impl<'q> RawRow<'q> {
    /// A row of already decoded values.
    pub fn from_values(values: &'q [ValueRef<'q>]) -> RawRow<'q> {
        RawRow(Inner::Values(values))
    }
}

impl RawRow<'_> {
    #[inline]
    pub(super) fn value(&self, i: usize) -> Option<ValueRef<'_>> {
        let (stmt, columns) = match self.0 {
            Inner::Values(v) => return v.get(i).copied(),
            Inner::Stmt { stmt, columns, .. } => (stmt, columns),
        };
        if i >= columns {
            return None;
        }
        let c = i as c_int;
        // SAFETY: a column index below the column count, on the row the
        // statement is on; text pointers are read with their byte length
        // (after the text call, as SQLite asks) and borrowed for the row.
        unsafe {
            Some(match ffi::sqlite3_column_type(stmt, c) {
                ffi::SQLITE_INTEGER => ValueRef::Integer(ffi::sqlite3_column_int64(stmt, c)),
                ffi::SQLITE_FLOAT => ValueRef::Real(ffi::sqlite3_column_double(stmt, c)),
                ffi::SQLITE_TEXT => {
                    let p = ffi::sqlite3_column_text(stmt, c);
                    let n = ffi::sqlite3_column_bytes(stmt, c).max(0) as usize;
                    if p.is_null() {
                        ValueRef::Text(b"")
                    } else {
                        ValueRef::Text(std::slice::from_raw_parts(p.cast::<u8>(), n))
                    }
                }
                ffi::SQLITE_BLOB => ValueRef::Blob(&[]),
                _ => ValueRef::Null,
            })
        }
    }

    /// An integer column; reals are truncated, numeric text parsed,
    /// anything else is absent.
    #[inline]
    pub fn int(&self, i: usize) -> Option<i64> {
        int_of(self.value(i)?)
    }

    /// A numeric column (integer or real) as stored; anything else is
    /// absent.
    pub fn number(&self, i: usize) -> Option<f64> {
        match self.value(i)? {
            ValueRef::Integer(v) => Some(v as f64),
            ValueRef::Real(v) => Some(v),
            _ => None,
        }
    }

    /// A text column borrowed from the row; invalid UTF-8 (SQLite stores
    /// TEXT bytes unchecked) is replaced with U+FFFD, so a name with a bad
    /// byte stays legible instead of vanishing.
    pub fn text_ref(&self, i: usize) -> Option<Cow<'_, str>> {
        match self.value(i)? {
            ValueRef::Text(t) => Some(String::from_utf8_lossy(t)),
            _ => None,
        }
    }

    /// A text column as an owned string; invalid UTF-8 is replaced with
    /// U+FFFD, integers are formatted.
    pub fn text(&self, i: usize) -> Option<String> {
        text_of(self.value(i)?)
    }
}

#[inline]
fn int_of(v: ValueRef) -> Option<i64> {
    match v {
        ValueRef::Integer(v) => Some(v),
        ValueRef::Real(f) if f.is_finite() && f.abs() < 9.2e18 => Some(f as i64),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn text_of(v: ValueRef) -> Option<String> {
    match v {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(v) => Some(v.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        _ => None,
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

    /// The raw reader gives what the safe API gives for every storage class.
    #[test]
    fn raw_rows_read_like_the_safe_api() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t(a, b);
             INSERT INTO t VALUES (42, 'x'), (2.9, ' 17 '), (NULL, CAST(X'66FF' AS TEXT)), (X'00', 1e300), ('nope', 5);",
        )
        .unwrap();
        let mut q =
            RawQuery::new(&conn, "SELECT a, b FROM t WHERE rowid BETWEEN ?1 AND ?2", &[1, 5]).unwrap();
        let mut seen = Vec::new();
        while let Some(r) = q.next().unwrap() {
            seen.push((
                r.int(0),
                r.int(1),
                r.text(1),
                r.text_ref(0).map(|c| c.into_owned()),
                r.int(7),
            ));
        }
        let mut safe = conn.prepare("SELECT a, b FROM t").unwrap();
        let ints: Vec<(Option<i64>, Option<i64>)> = safe
            .query_map([], |row| Ok((int_of(row.get_ref(0)?), int_of(row.get_ref(1)?))))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(seen.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(), ints);
        assert_eq!(seen[0], (Some(42), None, Some("x".into()), None, None));
        assert_eq!(seen[1].0, Some(2));
        assert_eq!(seen[1].1, Some(17));
        let mut q = RawQuery::new(&conn, "SELECT a, b FROM t", &[]).unwrap();
        let mut numbers = Vec::new();
        while let Some(r) = q.next().unwrap() {
            numbers.push((r.number(0), r.number(1)));
        }
        assert_eq!(numbers[0], (Some(42.0), None));
        assert_eq!(numbers[1], (Some(2.9), None), "numeric text is not a number here");
        assert_eq!(numbers[3], (None, Some(1e300)));
        assert_eq!(seen[2].2.as_deref(), Some("f\u{fffd}"));
        assert_eq!(seen[3].1, None, "1e300 is no integer");
        assert_eq!(seen[4].3.as_deref(), Some("nope"));
        assert!(RawQuery::new(&conn, "SELECT nosuch FROM t", &[]).is_err());
        assert!(RawQuery::new(&conn, "SELECT a FROM t WHERE rowid = ?1", &[]).is_err());
    }

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
