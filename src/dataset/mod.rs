//! The fleet dataset: many traces' reports as Parquet tables that any SQL
//! engine reads (polars here, DuckDB, Spark), hive-partitioned by the
//! batch's date and the user's labels (`--label build=new`):
//!
//! ```text
//! OUT/traces/date=2026-11-30/build=new/part-<batch>-0.parquet
//! OUT/kernels/date=2026-11-30/build=new/part-<batch>-0.parquet
//! OUT/iterations/...   OUT/findings/...   OUT/errors/...
//! ```
//!
//! The partition columns (`date`, the labels' keys) live in the folder
//! names only, as hive readers expect. A batch writes its part files under
//! a name derived from its inputs, so running the same batch again replaces
//! its files instead of adding duplicates. Renderers return bytes; the
//! caller writes them.

pub mod query;
pub mod rows;

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};

/// Version of the dataset's schema (a column in every table); bumped when a
/// column changes meaning or is removed.
pub const SCHEMA_VERSION: i64 = 1;

/// The tables, in the order they are written.
pub const TABLES: [&str; 5] = ["traces", "kernels", "iterations", "findings", "errors"];

/// A batch's partition: its date and the user's labels, in the order the
/// folders nest.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub labels: Vec<(String, String)>,
}

impl Partition {
    /// The partition folder below a table: `date=D/KEY=VALUE/...`.
    pub fn dir(&self) -> PathBuf {
        let mut d = PathBuf::from(format!("date={}", self.date));
        for (k, v) in &self.labels {
            d.push(format!("{k}={v}"));
        }
        d
    }

    /// The label keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.labels.iter().map(|(k, _)| k.clone()).collect()
    }
}

/// Column names a label key may not take (they would clash with a table's).
fn reserved(key: &str) -> bool {
    let t = rows::Tables::default();
    key == "date"
        || t.all()
            .iter()
            .any(|tb| tb.schema().iter().any(|(c, _, _)| *c == key))
}

/// Parse `--label KEY=VALUE`: a key usable as a column name in every engine
/// and a value safe as a folder name.
pub fn parse_label(s: &str) -> Result<(String, String)> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| Error::usage(format!("--label: expected KEY=VALUE, got '{s}'")))?;
    let key_ok = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !key_ok {
        return Err(Error::usage(format!(
            "--label: the key '{k}' must be lowercase letters, digits and _ (a column name in every SQL engine)"
        )));
    }
    if reserved(k) {
        return Err(Error::usage(format!(
            "--label: '{k}' is a column of the dataset; choose another key (host, run, build, ...)"
        )));
    }
    let value_ok = !v.is_empty()
        && v.len() <= 100
        && v.chars().all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
        && !v.starts_with('.');
    if !value_ok {
        return Err(Error::usage(format!(
            "--label: the value '{v}' must be 1-100 letters, digits, '.', '_', '+' or '-' (it names a folder)"
        )));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    civil_date(secs.div_euclid(86_400))
}

/// Days since 1970-01-01 to `YYYY-MM-DD` (proleptic Gregorian).
pub fn civil_date(days: i64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Check `--date YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<String> {
    let b = s.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u32>().unwrap_or(0));
    if ok {
        Ok(s.to_string())
    } else {
        Err(Error::usage(format!("--date: expected YYYY-MM-DD, got '{s}'")))
    }
}

/// The label keys an existing dataset is partitioned by (in folder
/// order), or `None` for a folder with no dataset yet: a dataset holds one
/// list of keys, or readers would see ragged partitions.
pub fn existing_label_keys(out: &Path) -> Option<Vec<String>> {
    let sub_dirs = |dir: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let date = sub_dirs(&out.join("traces")).into_iter().next()?;
    let mut keys = Vec::new();
    let mut dir = date;
    while let Some(next) = sub_dirs(&dir).into_iter().next() {
        let name = next.file_name()?.to_string_lossy().into_owned();
        let (k, _) = name.split_once('=')?;
        keys.push(k.to_string());
        dir = next;
    }
    Some(keys)
}

/// A frame as Parquet bytes (zstd, with statistics).
pub fn parquet_bytes(df: &mut DataFrame) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)
        .map_err(|e| Error::output("parquet", e.to_string()))?;
    Ok(buf)
}

/// A stable 64-bit FNV-1a hash, as 16 hex digits: names part files and
/// trace ids so that a rerun lands on the same names.
pub fn hash_hex(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in p.iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// A trace's id: its absolute path, size and modification time.
pub fn trace_id(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let meta = std::fs::metadata(path).ok();
    let size = meta.as_ref().map_or(0, |m| m.len());
    let mtime = meta
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    hash_hex(&[
        abs.to_string_lossy().as_bytes(),
        &size.to_le_bytes(),
        &mtime.to_le_bytes(),
    ])
}

/// The file a table's `chunk`-th part of batch `batch` goes to.
pub fn part_path(out: &Path, table: &str, p: &Partition, batch: &str, chunk: usize) -> PathBuf {
    out.join(table)
        .join(p.dir())
        .join(format!("part-{batch}-{chunk}.parquet"))
}

/// The README's schema tables, generated from the code (a test keeps the
/// README in step).
pub fn schema_markdown() -> String {
    let mut s = String::new();
    for t in rows::Tables::default().all() {
        s.push_str(&format!(
            "`{}`:

| column | type | meaning |
|---|---|---|
",
            t.name
        ));
        for (c, ty, doc) in t.schema() {
            s.push_str(&format!("| `{c}` | {ty} | {doc} |\n"));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_787), "2026-11-30");
        assert_eq!(civil_date(-1), "1969-12-31");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert!(parse_date("2026-11-30").is_ok());
        assert!(parse_date("2026-13-30").is_err());
        assert!(parse_date("26-11-30").is_err());
    }

    #[test]
    fn labels() {
        assert_eq!(
            parse_label("build=base").unwrap(),
            ("build".into(), "base".into())
        );
        assert_eq!(
            parse_label("host=h200-a.1").unwrap(),
            ("host".into(), "h200-a.1".into())
        );
        assert!(parse_label("build").is_err());
        assert!(parse_label("Build=x").is_err());
        assert!(parse_label("date=x").is_err());
        assert!(parse_label("trace_id=x").is_err());
        assert!(parse_label("build=a/b").is_err());
        assert!(parse_label("build=..").is_err());
        assert!(parse_label("build=").is_err());
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(hash_hex(&[b"a"]), hash_hex(&[b"a"]));
        assert_ne!(hash_hex(&[b"a", b"b"]), hash_hex(&[b"ab"]));
    }
}
