//! The malformed-input corpus, generated at test time from the real
//! samples: every case is a file (or a pair for trtexec) plus what the
//! command must do with it. Nothing generated is committed.
//!
//! Expectations:
//! - `Err(text)`: exit 2, one line on stderr naming the file, containing `text`;
//! - `Warn(text)`: exit 0, a report whose `warnings` contain `text`;
//! - `Any`: one of the two (a corruption whose effect depends on which
//!   SQLite page it hit), but never a panic, a hang or another status.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use trace_report::input::nsys_sqlite::query;

#[derive(Debug, Clone)]
pub enum Expect {
    Err(&'static str),
    Warn(&'static str),
    Any,
}

/// How the case is run.
#[derive(Debug, Clone)]
pub enum Mode {
    /// `trace-report FILE [ARGS]`.
    Analyze(Vec<String>),
    /// `trace-report diff FILE GOOD` (the bad side first) or the reverse.
    Diff { bad_first: bool },
}

#[derive(Debug, Clone)]
pub struct Case {
    pub format: &'static str,
    pub name: String,
    pub path: PathBuf,
    pub mode: Mode,
    pub expect: Expect,
    /// Environment for the run (e.g. NSYS for .nsys-rep).
    pub env: Vec<(String, String)>,
    /// The file an error must name, when not `path` (a trtexec partner).
    pub names: Option<PathBuf>,
}

/// Deterministic xorshift for corruptions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Tables of optional capture features (GPU metrics, CPU samples, OS
/// calls, whole-graph launches, diagnostics) and the older exports'
/// metadata table: the sample lacks them or holds them incidentally, so
/// their columns are dropped from the real captures that have them (see
/// `sqlite_schema`) and the tiny export leaves them out.
pub const FEATURE_TABLES: &[&str] = &[
    "GPU_METRICS",
    "TARGET_INFO_GPU_METRICS",
    "COMPOSITE_EVENTS",
    "SAMPLING_CALLCHAINS",
    "DIAGNOSTIC_EVENT",
    "OSRT_API",
    "CUPTI_ACTIVITY_KIND_GRAPH_TRACE",
    "EXPORT_META_DATA",
];

/// The tables the SQLite reader reads from every export: those its queries
/// name in their `-- table:` headers, less [`FEATURE_TABLES`].
pub fn tables() -> Vec<&'static str> {
    query::tables()
        .into_iter()
        .filter(|t| !FEATURE_TABLES.contains(t))
        .collect()
}

/// A copy of a sample (via `VACUUM INTO`, never touching the sample).
pub fn copy_sample(sample: &Path, out: &Path) -> Connection {
    let _ = std::fs::remove_file(out);
    let src = Connection::open_with_flags(sample, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    src.execute("VACUUM INTO ?1", [out.to_str().unwrap()]).unwrap();
    drop(src);
    Connection::open(out).unwrap()
}

/// A small real export: `redundant_copies` with only the tables the
/// reader reads and the first `rows` rows of each activity table.
pub fn tiny_export(dir: &Path, rows: i64) -> PathBuf {
    let out = dir.join(format!("tiny-{rows}.sqlite"));
    if out.exists() {
        return out;
    }
    let tmp = dir.join(format!("tiny-{rows}.tmp.sqlite"));
    let conn = copy_sample(&repo().join("sample_traces/redundant_copies.sqlite"), &tmp);
    let read = tables();
    for t in table_names(&conn) {
        if !read.contains(&t.as_str()) {
            conn.execute(&format!("DROP TABLE {}", quote(&t)), []).unwrap();
        } else if t.starts_with("CUPTI_") || t == "NVTX_EVENTS" {
            conn.execute(&format!("DELETE FROM {} WHERE rowid > {rows}", quote(&t)), [])
                .unwrap();
        }
    }
    conn.execute_batch("VACUUM").unwrap();
    drop(conn);
    std::fs::rename(&tmp, &out).unwrap();
    out
}

pub fn table_names(conn: &Connection) -> Vec<String> {
    conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

pub fn columns(conn: &Connection, table: &str) -> Vec<String> {
    conn.prepare("SELECT name FROM pragma_table_info(?1)")
        .unwrap()
        .query_map([table], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Drop a column by rebuilding the table (works for key columns too, where
/// ALTER TABLE DROP COLUMN refuses).
pub fn drop_column(conn: &Connection, table: &str, column: &str) {
    let keep: Vec<String> = columns(conn, table)
        .into_iter()
        .filter(|c| c != column)
        .map(|c| quote(&c))
        .collect();
    // A base without the table (or with only that column) has nothing to
    // rebuild.
    if keep.is_empty() {
        return;
    }
    let t = quote(table);
    let tmp = quote(&format!("{table}__rebuilt"));
    conn.execute_batch(&format!(
        "CREATE TABLE {tmp} AS SELECT {} FROM {t}; DROP TABLE {t}; ALTER TABLE {tmp} RENAME TO {t};",
        keep.join(", ")
    ))
    .unwrap();
}

/// Columns each query file reads, and whether the table or the column is
/// required (from `queries/*.sql`: `-- table:` / `-- required:` / `-- optional:`).
pub fn query_columns() -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for q in query::ALL {
        let table = q.header_values("table")[0];
        // The older exports' metadata table: no capture here has it to drop
        // columns from (tests/wild_inputs.rs builds one).
        if table == "EXPORT_META_DATA" {
            continue;
        }
        let tables: &[&str] = if table == "{{table}}" {
            query::ENUM_TABLES
        } else {
            &[table]
        };
        for t in tables {
            for c in q.header_values("required") {
                out.push((t.to_string(), c.to_string(), true));
            }
            for c in q.header_values("optional") {
                out.push((t.to_string(), c.to_string(), false));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The corpus builder: files go into `dir`.
pub struct Corpus {
    pub dir: PathBuf,
    pub cases: Vec<Case>,
    n: usize,
}

impl Corpus {
    pub fn new(dir: &Path) -> Corpus {
        std::fs::create_dir_all(dir).unwrap();
        Corpus {
            dir: dir.to_path_buf(),
            cases: Vec::new(),
            n: 0,
        }
    }

    /// A fresh path for a case file named `name` (kept unique).
    pub fn path(&mut self, name: &str) -> PathBuf {
        self.n += 1;
        let d = self.dir.join(format!("c{:03}", self.n));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    pub fn add(&mut self, format: &'static str, name: &str, bytes: &[u8], expect: Expect) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        self.push(format, &p, Mode::Analyze(vec![]), expect);
        p
    }

    pub fn push(&mut self, format: &'static str, path: &Path, mode: Mode, expect: Expect) {
        self.cases.push(Case {
            format,
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            path: path.to_path_buf(),
            mode,
            expect,
            env: Vec::new(),
            names: None,
        });
    }

    /// A copy of the tiny export changed by `sql` (run on the copy).
    pub fn sqlite_variant(&mut self, name: &str, sql: &str, expect: Expect) -> PathBuf {
        let tiny = tiny_export(&self.dir, 300);
        let p = self.path(name);
        std::fs::copy(&tiny, &p).unwrap();
        let conn = Connection::open(&p).unwrap();
        if conn
            .execute_batch("SAVEPOINT a")
            .and_then(|_| conn.execute_batch(sql))
            .is_err()
        {
            // NOT NULL and key constraints: rebuild the tables the SQL names
            // without them, then apply it.
            conn.execute_batch("ROLLBACK TO a").unwrap();
            for t in tables().into_iter().filter(|t| sql.contains(*t)) {
                drop_column(&conn, t, "");
            }
            conn.execute_batch(sql)
                .unwrap_or_else(|e| panic!("{name}: {e}: {sql}"));
        }
        conn.execute_batch("RELEASE a").unwrap();
        drop(conn);
        self.push("nsys-sqlite", &p, Mode::Analyze(vec![]), expect);
        p
    }

    pub fn sqlite_with(&mut self, name: &str, f: impl FnOnce(&Connection), expect: Expect) -> PathBuf {
        let tiny = tiny_export(&self.dir, 300);
        self.sqlite_from(&tiny, name, f, expect)
    }

    /// A copy of `base` changed by `f`.
    pub fn sqlite_from(
        &mut self,
        base: &Path,
        name: &str,
        f: impl FnOnce(&Connection),
        expect: Expect,
    ) -> PathBuf {
        let p = self.path(name);
        std::fs::copy(base, &p).unwrap();
        let conn = Connection::open(&p).unwrap();
        f(&conn);
        drop(conn);
        self.push("nsys-sqlite", &p, Mode::Analyze(vec![]), expect);
        p
    }
}

/// Every case of every format.
pub fn build(dir: &Path) -> Corpus {
    let mut c = Corpus::new(dir);
    sqlite_bytes(&mut c);
    sqlite_not_nsys(&mut c);
    sqlite_schema(&mut c);
    sqlite_values(&mut c);
    kineto(&mut c);
    nsys_json(&mut c);
    trtexec(&mut c);
    nsys_rep(&mut c);
    report_json(&mut c);
    wrong_extension(&mut c);
    c
}

/// A copy of the GPU-metrics fixture (a real capture with GPU_METRICS).
fn corpus_gpumetrics(dir: &Path) -> PathBuf {
    repo()
        .join("tests/fixtures/gemm_gpumetrics_subset.sqlite")
        .canonicalize()
        .unwrap_or_else(|_| dir.to_path_buf())
}

/// Truncated and corrupted SQLite files (header, pages, random bytes).
fn sqlite_bytes(c: &mut Corpus) {
    let tiny = std::fs::read(tiny_export(&c.dir, 300)).unwrap();
    let n = tiny.len();
    let page = u16::from_be_bytes([tiny[16], tiny[17]]) as usize;
    // Truncations: inside the header, at page boundaries, mid-file.
    for cut in [
        10,
        16,
        50,
        99,
        100,
        101,
        512,
        page - 1,
        page,
        page + 1,
        2 * page,
        n / 4,
        n / 2,
        3 * n / 4,
        n - page,
        n - 1,
    ] {
        let expect = if cut < 16 {
            Expect::Err("not a recognised trace format")
        } else {
            Expect::Err("")
        };
        c.add("nsys-sqlite", &format!("cut-{cut}.sqlite"), &tiny[..cut], expect);
    }
    // Header fields (https://www.sqlite.org/fileformat.html, section 1.3).
    let fields: &[(&str, usize, &[u8])] = &[
        ("magic", 0, b"SQLite format 4\0"),
        ("magic-case", 0, b"sqlite format 3\0"),
        ("pagesize-0", 16, &[0, 0]),
        ("pagesize-3", 16, &[0, 3]),
        ("pagesize-odd", 16, &[0x12, 0x34]),
        ("pagesize-1", 16, &[0, 1]),
        ("write-version", 18, &[9]),
        ("read-version", 19, &[9]),
        ("reserved", 20, &[255]),
        ("max-payload", 21, &[0]),
        ("min-payload", 22, &[255]),
        ("leaf-payload", 23, &[0]),
        ("pages-huge", 28, &[0x7f, 0xff, 0xff, 0xff]),
        ("pages-zero", 28, &[0, 0, 0, 0]),
        ("freelist-trunk", 32, &[0x7f, 0xff, 0xff, 0xff]),
        ("freelist-count", 36, &[0xff, 0xff, 0xff, 0xff]),
        ("schema-format", 44, &[0, 0, 0, 9]),
        ("encoding-utf16", 56, &[0, 0, 0, 2]),
        ("encoding-bad", 56, &[0, 0, 0, 9]),
        ("vacuum-mode", 52, &[0xff, 0xff, 0xff, 0xff]),
        ("valid-for", 92, &[0xff, 0xff, 0xff, 0xff]),
        ("btree-page1-type", 100, &[0x00]),
        ("btree-page1-cells", 103, &[0xff, 0xff]),
        ("btree-page1-content", 105, &[0x00, 0x01]),
    ];
    for (name, at, bytes) in fields {
        let mut b = tiny.clone();
        b[*at..*at + bytes.len()].copy_from_slice(bytes);
        let expect = if *at < 16 {
            Expect::Err("not a recognised trace format")
        } else {
            Expect::Any
        };
        c.add("nsys-sqlite", &format!("header-{name}.sqlite"), &b, expect);
    }
    // Whole pages overwritten: zeros, 0xff, random bytes.
    let pages = n / page;
    let mut rng = Rng::new(7);
    for i in 0..30 {
        let p = if i < 4 { i } else { rng.below(pages) };
        let mut b = tiny.clone();
        let start = p * page + if p == 0 { 100 } else { 0 };
        for (k, byte) in b[start..(p + 1) * page].iter_mut().enumerate() {
            *byte = match i % 3 {
                0 => 0,
                1 => 0xff,
                _ => (rng.next() >> (k % 8)) as u8,
            };
        }
        c.add(
            "nsys-sqlite",
            &format!("page-{p}-{}.sqlite", i % 3),
            &b,
            Expect::Any,
        );
    }
    // Random byte flips anywhere after the magic.
    for seed in 0..20 {
        let mut rng = Rng::new(1000 + seed);
        let mut b = tiny.clone();
        for _ in 0..32 {
            let at = 16 + rng.below(n - 16);
            b[at] ^= 1 << rng.below(8);
        }
        c.add("nsys-sqlite", &format!("flips-{seed}.sqlite"), &b, Expect::Any);
    }
}

/// SQLite files that are not nsys exports.
fn sqlite_not_nsys(c: &mut Corpus) {
    let make = |c: &mut Corpus, name: &str, sql: &str, expect: Expect| {
        let p = c.path(name);
        let conn = Connection::open(&p).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        c.push("nsys-sqlite", &p, Mode::Analyze(vec![]), expect);
    };
    make(
        c,
        "empty-db.sqlite",
        "PRAGMA user_version = 1;",
        Expect::Err("not an Nsight Systems export"),
    );
    make(
        c,
        "users.sqlite",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'a');",
        Expect::Err("not an Nsight Systems export"),
    );
    make(
        c,
        "meta-only.sqlite",
        "CREATE TABLE META_DATA_EXPORT (name TEXT, value TEXT); INSERT INTO META_DATA_EXPORT VALUES ('EXPORT_SCHEMA_VERSION', '3.20.3');",
        Expect::Err("without a CUPTI_ACTIVITY_KIND_KERNEL table"),
    );
    make(
        c,
        "strings-only.sqlite",
        "CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT);",
        Expect::Err("without a CUPTI_ACTIVITY_KIND_KERNEL table"),
    );
    make(
        c,
        "kernel-view.sqlite",
        "CREATE TABLE t (x); CREATE VIEW CUPTI_ACTIVITY_KIND_KERNEL AS SELECT x FROM t;",
        Expect::Err("lacks required column"),
    );
    make(
        c,
        "kernel-empty-cols.sqlite",
        "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (a, b, c);",
        Expect::Err("lacks required column"),
    );
    make(
        c,
        "kernel-minimal.sqlite",
        "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INT, end INT, deviceId INT, demangledName INT); \
         INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (100, 200, 0, 1);",
        Expect::Warn("no StringIds table"),
    );
    make(
        c,
        "kernel-empty.sqlite",
        "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INT, end INT, deviceId INT, demangledName INT);",
        Expect::Warn("the kernel table is empty"),
    );
    // A view whose evaluation fails at run time (division by a text cast
    // is fine in SQLite; a recursive view is an error when read).
    make(
        c,
        "kernel-bad-view.sqlite",
        "CREATE TABLE k (start INT, end INT, deviceId INT, demangledName INT); \
         CREATE VIEW CUPTI_ACTIVITY_KIND_KERNEL AS SELECT * FROM no_such_table;",
        Expect::Err(""),
    );
    // A database that needs a journal to be read (a hot journal) is read as
    // is: immutable mode never touches side files.
    make(
        c,
        "wal-mode.sqlite",
        "PRAGMA journal_mode = WAL; CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INT, end INT, deviceId INT, demangledName INT); \
         INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (100, 200, 0, 1);",
        Expect::Warn("no StringIds table"),
    );
}

/// nsys exports with tables or columns missing.
fn sqlite_schema(c: &mut Corpus) {
    for t in tables() {
        let expect = match t {
            "CUPTI_ACTIVITY_KIND_KERNEL" => Expect::Err("without a CUPTI_ACTIVITY_KIND_KERNEL table"),
            "TARGET_INFO_CUDA_DEVICE" => Expect::Any,
            _ => Expect::Warn(t),
        };
        c.sqlite_variant(&format!("no-{t}.sqlite"), &format!("DROP TABLE {t};"), expect);
    }
    // Every column a query reads, dropped.
    for (table, column, required) in query_columns() {
        let expect = match (table.as_str(), required) {
            ("CUPTI_ACTIVITY_KIND_KERNEL", true) => Expect::Err("lacks required column(s)"),
            ("TARGET_INFO_CUDA_DEVICE", _) => Expect::Any,
            (_, true) => Expect::Warn("lacks required column(s)"),
            (_, false) => Expect::Warn("lacks column(s)"),
        };
        let name = format!("drop-{table}-{column}.sqlite");
        if table.starts_with("GPU_METRICS") || table.starts_with("TARGET_INFO_GPU_METRICS") {
            // GPU metrics: the real capture that has them.
            let base = corpus_gpumetrics(&c.dir);
            let expect = Expect::Any;
            c.sqlite_from(&base, &name, |conn| drop_column(conn, &table, &column), expect);
        } else if [
            "COMPOSITE_EVENTS",
            "SAMPLING_CALLCHAINS",
            "DIAGNOSTIC_EVENT",
            "OSRT_API",
        ]
        .contains(&table.as_str())
        {
            // CPU samples and OS calls: the real capture that has them.
            let base = repo().join("tests/fixtures/host_work_sampled.sqlite");
            c.sqlite_from(&base, &name, |conn| drop_column(conn, &table, &column), expect);
        } else if table == "CUPTI_ACTIVITY_KIND_GRAPH_TRACE" {
            // Whole-graph launches: the real capture that has them.
            let base = repo().join("tests/fixtures/cuda_graph_whole.sqlite");
            c.sqlite_from(&base, &name, |conn| drop_column(conn, &table, &column), expect);
        } else {
            c.sqlite_with(&name, |conn| drop_column(conn, &table, &column), expect);
        }
    }
    // Tables renamed (a later nsys with a suffixed name, say).
    for t in ["CUPTI_ACTIVITY_KIND_KERNEL", "NVTX_EVENTS", "StringIds"] {
        let expect = if t == "CUPTI_ACTIVITY_KIND_KERNEL" {
            Expect::Err("without a CUPTI_ACTIVITY_KIND_KERNEL table")
        } else {
            Expect::Warn(t)
        };
        c.sqlite_variant(
            &format!("renamed-{t}.sqlite"),
            &format!("ALTER TABLE {t} RENAME TO {t}_V2;"),
            expect,
        );
    }
    // Every enum table gone at once.
    c.sqlite_variant(
        "no-enums.sqlite",
        "DROP TABLE ENUM_CUDA_MEMCPY_OPER; DROP TABLE ENUM_CUDA_MEM_KIND; DROP TABLE ENUM_NSYS_EVENT_TYPE; DROP TABLE ENUM_CUPTI_SYNC_TYPE;",
        Expect::Warn("cannot be decoded"),
    );
    // Export metadata of other schema versions.
    for (v, expect) in [
        ("2.5.0", Expect::Warn("export schema version 2.5.0")),
        ("4.0.0", Expect::Warn("export schema version 4.0.0")),
        ("banana", Expect::Warn("export schema version banana")),
    ] {
        c.sqlite_variant(
            &format!("schema-{v}.sqlite"),
            &format!("UPDATE META_DATA_EXPORT SET value = '{v}' WHERE name = 'EXPORT_SCHEMA_VERSION';"),
            expect,
        );
    }
    c.sqlite_variant(
        "meta-empty.sqlite",
        "DELETE FROM META_DATA_EXPORT;",
        Expect::Warn("export schema version unknown"),
    );
}

/// NULLs, wrong types, negative, reversed and extreme values.
fn sqlite_values(c: &mut Corpus) {
    let k = "CUPTI_ACTIVITY_KIND_KERNEL";
    let cases: &[(&str, String, Expect)] = &[
        ("kernel-null-start", format!("UPDATE {k} SET start = NULL WHERE rowid % 2 = 0;"), Expect::Warn("without usable times or names")),
        ("kernel-null-end", format!("UPDATE {k} SET end = NULL;"), Expect::Warn("without usable times or names")),
        ("kernel-null-name", format!("UPDATE {k} SET demangledName = NULL WHERE rowid < 10;"), Expect::Warn("without usable times or names")),
        ("kernel-null-device", format!("UPDATE {k} SET deviceId = NULL;"), Expect::Any),
        ("kernel-text-start", format!("UPDATE {k} SET start = 'soon';"), Expect::Warn("without usable times or names")),
        ("kernel-blob-end", format!("UPDATE {k} SET end = x'00ff';"), Expect::Warn("without usable times or names")),
        ("kernel-real-times", format!("UPDATE {k} SET start = start + 0.5, end = end + 0.25;"), Expect::Any),
        ("kernel-reversed", format!("UPDATE {k} SET start = end, end = start WHERE rowid % 3 = 0;"), Expect::Warn("ending before they start")),
        ("kernel-all-reversed", format!("UPDATE {k} SET start = end + 1;"), Expect::Warn("ending before they start")),
        ("kernel-negative", format!("UPDATE {k} SET start = -start, end = -start + 10;"), Expect::Any),
        ("kernel-huge", format!("UPDATE {k} SET end = 9223372036854775807 WHERE rowid = 1;"), Expect::Any),
        ("kernel-min", format!("UPDATE {k} SET start = -9223372036854775808 WHERE rowid = 2;"), Expect::Any),
        ("kernel-extremes", format!("UPDATE {k} SET start = -9223372036854775808, end = 9223372036854775807;"), Expect::Any),
        ("kernel-real-huge", format!("UPDATE {k} SET end = 1e300 WHERE rowid = 3;"), Expect::Any),
        ("kernel-device-negative", format!("UPDATE {k} SET deviceId = -1;"), Expect::Warn("out-of-range")),
        ("kernel-device-huge", format!("UPDATE {k} SET deviceId = 99999999999;"), Expect::Warn("out-of-range")),
        ("kernel-unknown-string", format!("UPDATE {k} SET demangledName = 987654321, shortName = -5;"), Expect::Any),
        ("kernel-zero-length", format!("UPDATE {k} SET end = start;"), Expect::Any),
        ("kernels-empty", format!("DELETE FROM {k};"), Expect::Warn("the kernel table is empty")),
        ("everything-empty", format!("DELETE FROM {k}; DELETE FROM CUPTI_ACTIVITY_KIND_MEMCPY; DELETE FROM CUPTI_ACTIVITY_KIND_MEMSET; DELETE FROM CUPTI_ACTIVITY_KIND_RUNTIME; DELETE FROM NVTX_EVENTS;"), Expect::Warn("the kernel table is empty")),
        ("one-kernel", format!("DELETE FROM {k} WHERE rowid > 1;"), Expect::Any),
        ("same-start", format!("UPDATE {k} SET start = 1000, end = 2000;"), Expect::Any),
        ("memcpy-null-bytes", "UPDATE CUPTI_ACTIVITY_KIND_MEMCPY SET bytes = NULL;".into(), Expect::Any),
        ("memcpy-negative-bytes", "UPDATE CUPTI_ACTIVITY_KIND_MEMCPY SET bytes = -4096;".into(), Expect::Warn("out-of-range")),
        ("memcpy-unknown-kind", "UPDATE CUPTI_ACTIVITY_KIND_MEMCPY SET copyKind = 77, srcKind = -3, dstKind = 'x';".into(), Expect::Any),
        ("memcpy-reversed", "UPDATE CUPTI_ACTIVITY_KIND_MEMCPY SET start = end + 5;".into(), Expect::Warn("ending before they start")),
        ("memset-null", "UPDATE CUPTI_ACTIVITY_KIND_MEMSET SET start = NULL;".into(), Expect::Any),
        ("runtime-null-name", "UPDATE CUPTI_ACTIVITY_KIND_RUNTIME SET nameId = NULL;".into(), Expect::Warn("without usable times or names")),
        ("runtime-reversed", "UPDATE CUPTI_ACTIVITY_KIND_RUNTIME SET end = start - 1;".into(), Expect::Warn("ending before they start")),
        ("runtime-text-tid", "UPDATE CUPTI_ACTIVITY_KIND_RUNTIME SET globalTid = 'main';".into(), Expect::Any),
        ("nvtx-open", "UPDATE NVTX_EVENTS SET end = NULL;".into(), Expect::Any),
        ("nvtx-reversed", "UPDATE NVTX_EVENTS SET end = start - 100 WHERE end IS NOT NULL;".into(), Expect::Any),
        ("nvtx-null-type", "UPDATE NVTX_EVENTS SET eventType = NULL;".into(), Expect::Any),
        ("nvtx-null-text", "UPDATE NVTX_EVENTS SET text = NULL, textId = NULL;".into(), Expect::Any),
        ("nvtx-nested-equal", "UPDATE NVTX_EVENTS SET start = 5, end = 10 WHERE end IS NOT NULL;".into(), Expect::Any),
        ("strings-null", "UPDATE StringIds SET value = NULL;".into(), Expect::Any),
        ("strings-blob", "UPDATE StringIds SET value = x'c328a0a1ff';".into(), Expect::Any),
        ("strings-duplicate-ids", "CREATE TABLE s2 AS SELECT id % 7 AS id, value FROM StringIds; DROP TABLE StringIds; ALTER TABLE s2 RENAME TO StringIds;".into(), Expect::Any),
        ("gpu-weird", "UPDATE TARGET_INFO_GPU SET id = -1, cuDevice = 'zero', computeMajor = -9, name = NULL;".into(), Expect::Any),
        ("enum-null", "UPDATE ENUM_CUDA_MEMCPY_OPER SET name = NULL; UPDATE ENUM_NSYS_EVENT_TYPE SET id = NULL;".into(), Expect::Any),
        ("threads-weird", "UPDATE ThreadNames SET nameId = -1, globalTid = NULL;".into(), Expect::Any),
        ("meta-null", "UPDATE META_DATA_EXPORT SET value = NULL;".into(), Expect::Any),
    ];
    for (name, sql, expect) in cases {
        c.sqlite_variant(&format!("{name}.sqlite"), sql, expect.clone());
    }
}

fn kineto_text() -> Vec<u8> {
    gunzip(&repo().join("tests/fixtures/kineto/redundant_copies.kineto.json.gz"))
}

/// One Kineto event with the given body, inside a minimal trace that has
/// a valid kernel (so that the file is usable apart from the event).
fn kineto_with(event: &str) -> Vec<u8> {
    format!(
        r#"{{"schemaVersion": 1, "traceEvents": [
  {{"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 7, "ts": 10, "dur": 5, "args": {{"device": 0, "stream": 7, "correlation": 1}}}},
  {event}
]}}"#
    )
    .into_bytes()
}

fn kineto(c: &mut Corpus) {
    let text = kineto_text();
    let n = text.len();
    // Recognised only once the "traceEvents" key is in the file.
    let key = text.windows(13).position(|w| w == b"\"traceEvents\"").unwrap() + 13;
    for cut in [
        1,
        2,
        15,
        16,
        17,
        100,
        1000,
        key,
        n / 3,
        n / 2,
        n - 100,
        n - 3,
        n - 1,
    ] {
        let expect = if cut < key {
            Expect::Err("not a recognised trace format")
        } else {
            Expect::Err("truncated")
        };
        c.add("kineto", &format!("cut-{cut}.json"), &text[..cut], expect);
    }
    let gz = gzip(&text);
    for cut in [2, 10, 11, 100, gz.len() / 2, gz.len() - 8, gz.len() - 1] {
        c.add(
            "kineto",
            &format!("cut-{cut}.json.gz"),
            &gz[..cut],
            Expect::Err(""),
        );
    }
    // A flipped byte inside the compressed stream, or in the CRC.
    for (i, at) in [gz.len() / 3, gz.len() / 2, gz.len() - 6].into_iter().enumerate() {
        let mut b = gz.clone();
        b[at] ^= 0x55;
        c.add("kineto", &format!("corrupt-{i}.json.gz"), &b, Expect::Err(""));
    }
    // Syntax damage at various places of a valid trace.
    let mut rng = Rng::new(42);
    for (i, junk) in [b"}".as_slice(), b",", b"\"", b"]", b"x", b"\x00", b"{"]
        .iter()
        .cycle()
        .take(14)
        .enumerate()
    {
        let at = 200 + rng.below(n - 400);
        let mut b = text.clone();
        b.splice(at..at + 1, junk.iter().copied());
        c.add("kineto", &format!("syntax-{i}.json"), &b, Expect::Any);
    }
    let small: &[(&str, &[u8], Expect)] = &[
        ("empty-events.json", br#"{"traceEvents": []}"#, Expect::Err("without GPU activity")),
        ("empty-array.json", br#"[]"#, Expect::Err("not a recognised trace format")),
        ("events-null.json", br#"{"traceEvents": null}"#, Expect::Err("an array of events")),
        ("events-object.json", br#"{"traceEvents": {"ph": "X"}}"#, Expect::Err("an array of events")),
        ("events-numbers.json", br#"{"traceEvents": [1, 2, "x", null, true]}"#, Expect::Err("")),
        ("no-events.json", br#"{"traceEvents": [{"ph": "M"}]}"#, Expect::Err("without GPU activity")),
        ("nan.json", br#"{"traceEvents": [{"ph": "X", "cat": "kernel", "ts": NaN, "dur": 1}]}"#, Expect::Err("malformed")),
        ("bom.json", b"\xEF\xBB\xBF{\"traceEvents\": []}", Expect::Err("")),
        ("utf16.json", b"\xFF\xFE{\x00\"\x00t\x00r\x00a\x00c\x00e\x00E\x00v\x00e\x00n\x00t\x00s\x00\"\x00", Expect::Err("not a recognised trace format")),
        ("trailing.json", br#"{"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": 1}]} {"#, Expect::Err("the end of the document")),
        ("dup-key.json", br#"{"traceEvents": [], "traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": 1}]}"#, Expect::Any),
        ("key-not-string.json", br#"{"traceEvents": [], 5: 1}"#, Expect::Err("bad member name")),
        ("bad-escape.json", br#"{"traceEvents": [{"ph": "X", "cat": "kernel", "name": "a\qb", "ts": 1, "dur": 1}]}"#, Expect::Err("malformed")),
        ("lone-surrogate.json", br#"{"traceEvents": [{"ph": "X", "cat": "kernel", "name": "a\ud800b", "ts": 1, "dur": 1}]}"#, Expect::Err("")),
        ("raw-invalid-utf8.json", b"{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"a\xff\xfeb\", \"ts\": 1, \"dur\": 1}]}", Expect::Err("")),
        ("device-props-bad.json", br#"{"deviceProperties": 5, "traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": 1}]}"#, Expect::Err("bad \"deviceProperties\"")),
    ];
    for (name, bytes, expect) in small {
        c.add("kineto", name, bytes, expect.clone());
    }
    let events: &[(&str, &str, Expect)] = &[
        (
            "ts-text",
            r#"{"ph": "X", "cat": "kernel", "name": "k2", "ts": "soon", "dur": 1}"#,
            Expect::Warn("without usable times"),
        ),
        (
            "ts-missing",
            r#"{"ph": "X", "cat": "kernel", "name": "k2", "dur": 1}"#,
            Expect::Warn("without usable times"),
        ),
        (
            "dur-negative",
            r#"{"ph": "X", "cat": "kernel", "name": "k2", "ts": 20, "dur": -5}"#,
            Expect::Warn("ending before they start"),
        ),
        (
            "ts-huge",
            r#"{"ph": "X", "cat": "kernel", "name": "k2", "ts": 1e300, "dur": 1}"#,
            Expect::Warn("without usable times"),
        ),
        (
            "ts-max",
            r#"{"ph": "X", "cat": "kernel", "name": "k2", "ts": 9223372036854775, "dur": 9223372036854775}"#,
            Expect::Any,
        ),
        (
            "ts-negative",
            r#"{"ph": "X", "cat": "kernel", "name": "k2", "ts": -9000000000000000, "dur": 1}"#,
            Expect::Any,
        ),
        (
            "name-number",
            r#"{"ph": "X", "cat": "kernel", "name": 5, "ts": 20, "dur": 1}"#,
            Expect::Any,
        ),
        (
            "cat-object",
            r#"{"ph": "X", "cat": {"a": 1}, "name": "k2", "ts": 20, "dur": 1}"#,
            Expect::Any,
        ),
        (
            "args-array",
            r#"{"ph": "X", "cat": "kernel", "name": "k2", "ts": 20, "dur": 1, "args": [1, 2]}"#,
            Expect::Any,
        ),
        (
            "array",
            r#"["X", "kernel", "k2", 0, 7, 20, 1]"#,
            Expect::Warn("unexpected types"),
        ),
        ("number", "17", Expect::Warn("unexpected types")),
        ("bareword", "nope", Expect::Err("malformed trace event")),
        (
            "pid-text",
            r#"{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": "host", "tid": "t", "ts": 20, "dur": 1}"#,
            Expect::Any,
        ),
        (
            "begin-end",
            r#"{"ph": "B", "cat": "user_annotation", "name": "r", "pid": 1, "tid": 1, "ts": 20}"#,
            Expect::Warn("begin/end"),
        ),
        (
            "range-reversed",
            r#"{"ph": "X", "cat": "user_annotation", "name": "r", "pid": 1, "tid": 1, "ts": 20, "dur": -1}"#,
            Expect::Warn("ending before they start"),
        ),
        (
            "step-huge",
            r#"{"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#1", "pid": 1, "tid": 1, "ts": -9223372036854775, "dur": 9223372036854775}"#,
            Expect::Any,
        ),
        (
            "memcpy-bytes-neg",
            r#"{"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoD (Pageable -> Device)", "pid": 0, "tid": 7, "ts": 20, "dur": 1, "args": {"bytes": -1}}"#,
            Expect::Any,
        ),
        (
            "dims-weird",
            r#"{"ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 1, "tid": 1, "ts": 1, "dur": 30, "args": {"External id": 1, "Input Dims": [[-1, 99999999999999999999], "x", [[[]]]], "Input type": 7}}"#,
            Expect::Any,
        ),
        (
            "device-huge",
            r#"{"ph": "X", "cat": "kernel", "name": "k2", "ts": 20, "dur": 1, "args": {"device": 99999999999, "stream": -1}}"#,
            Expect::Any,
        ),
    ];
    for (name, ev, expect) in events {
        c.add(
            "kineto",
            &format!("event-{name}.json"),
            &kineto_with(ev),
            expect.clone(),
        );
    }
    // Deep nesting: inside an event (serde's recursion limit) and as events.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    c.add(
        "kineto",
        "deep-args.json",
        &kineto_with(&format!(
            r#"{{"ph": "X", "cat": "kernel", "name": "k2", "ts": 20, "dur": 1, "args": {{"x": {deep}}}}}"#
        )),
        Expect::Any,
    );
    c.add(
        "kineto",
        "deep-unclosed.json",
        format!(r#"{{"traceEvents": [{}"#, "[".repeat(1_000_000)).as_bytes(),
        Expect::Err("truncated"),
    );
    c.add(
        "kineto",
        "deep-metadata.json",
        format!(r#"{{"deviceProperties": {deep}, "traceEvents": []}}"#).as_bytes(),
        Expect::Err(""),
    );
    // A 20 MB name: usable, and held once.
    let long = "x".repeat(20 << 20);
    c.add(
        "kineto",
        "huge-name.json",
        &kineto_with(&format!(
            r#"{{"ph": "X", "cat": "kernel", "name": "{long}", "ts": 20, "dur": 1}}"#
        )),
        Expect::Any,
    );
    // A huge string that never ends.
    c.add(
        "kineto",
        "huge-unterminated.json",
        format!(r#"{{"traceEvents": [{{"ph": "X", "name": "{long}"#).as_bytes(),
        Expect::Err("truncated"),
    );
}

fn nsys_json(c: &mut Corpus) {
    let text = gunzip(&repo().join("tests/fixtures/nsys_json/redundant_copies.nsys.json.gz"));
    let n = text.len();
    let first_nl = text.iter().position(|&b| b == b'\n').unwrap();
    for cut in [
        9,
        10,
        100,
        first_nl,
        first_nl + 1,
        first_nl + 30,
        n / 2,
        n - 200,
        n - 2,
    ] {
        let expect = if cut < 10 { Expect::Any } else { Expect::Any };
        c.add("nsys-json", &format!("cut-{cut}.json"), &text[..cut], expect);
    }
    let gz = gzip(&text);
    for cut in [5, gz.len() / 2, gz.len() - 4] {
        c.add(
            "nsys-json",
            &format!("cut-{cut}.json.gz"),
            &gz[..cut],
            Expect::Err(""),
        );
    }
    let strings = &text[..=first_nl];
    let with = |lines: &str| {
        let mut b = strings.to_vec();
        b.extend_from_slice(lines.as_bytes());
        b
    };
    let kernel = |start: &str, end: &str, name: &str| {
        format!(
            "{{\"Type\":79,\"CudaEvent\":{{\"startNs\":{start},\"endNs\":{end},\"correlationId\":1,\"deviceId\":0,\"streamId\":7,\"kernel\":{{\"demangledName\":{name},\"shortName\":{name}}}}}}}\n"
        )
    };
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "only-strings.json",
            strings.to_vec(),
            Expect::Warn("no CUDA kernel records"),
        ),
        (
            "no-strings.json",
            kernel("1", "2", "3").into_bytes(),
            Expect::Err(""),
        ),
        (
            "strings-not-array.json",
            b"{\"data\": 5}\n".to_vec(),
            Expect::Err(""),
        ),
        (
            "strings-numbers.json",
            b"{\"data\": [1, 2, 3]}\n".to_vec(),
            Expect::Any,
        ),
        ("kernel-ok.json", with(&kernel("100", "200", "5")), Expect::Any),
        (
            "kernel-reversed.json",
            with(&kernel("200", "100", "5")),
            Expect::Warn("ending before they start"),
        ),
        (
            "kernel-no-times.json",
            with(&kernel("null", "null", "5")),
            Expect::Warn("without usable times or names"),
        ),
        (
            "kernel-text-times.json",
            with(&kernel("\"a\"", "\"b\"", "5")),
            Expect::Warn("without usable times or names"),
        ),
        (
            "kernel-bad-name.json",
            with(&kernel("100", "200", "99999999999")),
            Expect::Any,
        ),
        (
            "kernel-neg-name.json",
            with(&kernel("100", "200", "-1")),
            Expect::Any,
        ),
        (
            "kernel-extreme.json",
            with(&kernel("-9223372036854775808", "9223372036854775807", "5")),
            Expect::Any,
        ),
        (
            "kernel-float-times.json",
            with(&kernel("1.5e3", "2.5e3", "5")),
            Expect::Any,
        ),
        (
            "kernel-wrong-type.json",
            with("{\"Type\":79,\"CudaEvent\":{\"kernel\":7}}\n"),
            Expect::Warn("unexpected types"),
        ),
        (
            "line-array.json",
            with("[1,2,3]\n"),
            Expect::Warn("unexpected types"),
        ),
        (
            "line-garbage.json",
            with("this is not json\n"),
            Expect::Err("line 2 is not a JSON object"),
        ),
        (
            "line-truncated.json",
            with("{\"Type\":79,\"CudaEvent\":{\"startNs\":1\n"),
            Expect::Err("line 2"),
        ),
        (
            "line-deep.json",
            with(&format!("{}{}\n", "[".repeat(50_000), "]".repeat(50_000))),
            Expect::Warn("unexpected types"),
        ),
        (
            "line-deep-open.json",
            with(&format!("{{\"NvtxEvent\":{}\n", "{\"a\":".repeat(50_000))),
            Expect::Err("line 2"),
        ),
        (
            "line-deep-object.json",
            with(&format!(
                "{{\"NvtxEvent\":{{\"Text\":{}{}}}}}\n",
                "[".repeat(50_000),
                "]".repeat(50_000)
            )),
            Expect::Any,
        ),
        (
            "nvtx-open.json",
            with(
                "{\"Type\":59,\"NvtxEvent\":{\"Type\":59,\"Timestamp\":5,\"Text\":\"r\",\"GlobalTid\":1}}\n",
            ),
            Expect::Any,
        ),
        (
            "nvtx-reversed.json",
            with(
                "{\"Type\":59,\"NvtxEvent\":{\"Type\":59,\"Timestamp\":5,\"EndTimestamp\":1,\"Text\":\"r\",\"GlobalTid\":1}}\n",
            ),
            Expect::Any,
        ),
        (
            "api-weird.json",
            with(
                "{\"Type\":48,\"TraceProcessEvent\":{\"startNs\":5,\"endNs\":1,\"eventClass\":0,\"name\":1,\"globalTid\":\"x\"}}\n",
            ),
            Expect::Any,
        ),
        ("blank-lines.json", with("\n\n\r\n   \n"), Expect::Any),
        (
            "crlf.json",
            text.iter()
                .flat_map(|&b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] })
                .collect(),
            Expect::Any,
        ),
        (
            "huge-line.json",
            with(&format!(
                "{{\"NvtxEvent\":{{\"Text\":\"{}\"}}}}\n",
                "y".repeat(8 << 20)
            )),
            Expect::Any,
        ),
        (
            "two-string-tables.json",
            {
                let mut b = strings.to_vec();
                b.extend_from_slice(strings);
                b
            },
            Expect::Any,
        ),
    ];
    for (name, bytes, expect) in cases {
        c.add("nsys-json", name, &bytes, expect);
    }
    // Random line damage in the real export.
    let mut rng = Rng::new(9);
    for i in 0..8 {
        let at = first_nl + 1 + rng.below(n - first_nl - 2);
        let mut b = text.clone();
        b[at] = [b'"', b'{', b'}', b'\n', b':', b'\\', b'0', 0xff][i];
        c.add("nsys-json", &format!("damaged-{i}.json"), &b, Expect::Any);
    }
}

fn trtexec(c: &mut Corpus) {
    let dir = repo().join("tests/fixtures/trtexec");
    let graph = std::fs::read(dir.join("tiny_int8.graph.json")).unwrap();
    let profile = std::fs::read(dir.join("tiny_int8.profile.json")).unwrap();
    // A pair: the profile (given) and a graph beside it.
    let pair = |c: &mut Corpus,
                name: &str,
                profile: &[u8],
                graph: Option<&[u8]>,
                given_graph: bool,
                expect: Expect| {
        let p = c.path(&format!("{name}.profile.json"));
        std::fs::write(&p, profile).unwrap();
        let g = p.with_file_name(format!("{name}.graph.json"));
        if let Some(graph) = graph {
            std::fs::write(&g, graph).unwrap();
        }
        let given = if given_graph { g.clone() } else { p };
        c.push("trtexec", &given, Mode::Analyze(vec![]), expect);
        if !given_graph && graph.is_some() {
            // A broken partner is the file an error names.
            c.cases.last_mut().unwrap().names = Some(g);
        }
    };
    for cut in [1, 2, 20, profile.len() / 2, profile.len() - 2] {
        pair(
            c,
            &format!("pcut{cut}"),
            &profile[..cut],
            Some(&graph),
            false,
            Expect::Any,
        );
    }
    for cut in [1, 20, graph.len() / 2, graph.len() - 2] {
        pair(
            c,
            &format!("gcut{cut}"),
            &profile,
            Some(&graph[..cut]),
            true,
            Expect::Any,
        );
        pair(
            c,
            &format!("gcutp{cut}"),
            &profile,
            Some(&graph[..cut]),
            false,
            Expect::Any,
        );
    }
    let rows: &[(&str, &str, Expect)] = &[
        (
            "negative",
            r#"[{"count": 1}, {"name": "a", "timeMs": -1, "averageMs": -1}]"#,
            Expect::Err("negative time"),
        ),
        (
            "nan",
            r#"[{"count": 1}, {"name": "a", "timeMs": NaN, "averageMs": 1}]"#,
            Expect::Err(""),
        ),
        (
            "huge",
            r#"[{"count": 1}, {"name": "a", "timeMs": 1e300, "averageMs": 1e300}]"#,
            Expect::Err("no averageMs/timeMs"),
        ),
        (
            "big",
            r#"[{"count": 1}, {"name": "a", "averageMs": 9000000000000}, {"name": "b", "averageMs": 9000000000000}]"#,
            Expect::Any,
        ),
        (
            "count-zero",
            r#"[{"count": 0}, {"name": "a", "timeMs": 5}]"#,
            Expect::Err("no averageMs/timeMs"),
        ),
        (
            "count-negative",
            r#"[{"count": -3}, {"name": "a", "timeMs": 5, "averageMs": 1}]"#,
            Expect::Err(""),
        ),
        (
            "no-rows",
            r#"[{"count": 1}]"#,
            Expect::Err("not a recognised trace format"),
        ),
        (
            "no-rows-named",
            r#"[{"count": 1}, {"timeMs": 1}]"#,
            Expect::Err("no layer rows"),
        ),
        (
            "name-number",
            r#"[{"count": 1}, {"name": 5, "averageMs": 1}]"#,
            Expect::Err(""),
        ),
        (
            "time-text",
            r#"[{"count": 1}, {"name": "a", "averageMs": "1.5"}]"#,
            Expect::Any,
        ),
        (
            "object",
            r#"{"count": 1, "averageMs": 1}"#,
            Expect::Err("not a recognised trace format"),
        ),
        (
            "dup-names",
            r#"[{"count": 1}, {"name": "a", "averageMs": 1}, {"name": "a", "averageMs": 2}]"#,
            Expect::Any,
        ),
        (
            "empty-name",
            r#"[{"count": 1}, {"name": "", "averageMs": 1}]"#,
            Expect::Any,
        ),
    ];
    for (name, text, expect) in rows {
        pair(c, name, text.as_bytes(), None, false, expect.clone());
    }
    let graphs: &[(&str, &str, Expect)] = &[
        (
            "layers-object",
            r#"{"Layers": {"a": 1}}"#,
            Expect::Err("no \"Layers\" array"),
        ),
        (
            "layers-numbers",
            r#"{"Layers": [1, null, true, [], {}]}"#,
            Expect::Any,
        ),
        (
            "layers-weird",
            r#"{"Layers": [{"Name": 5, "LayerType": [], "Inputs": "x", "Outputs": [{"Dimensions": [1e300, -1, "x"]}], "OutMaps": -1, "Groups": 0}]}"#,
            Expect::Any,
        ),
        (
            "layers-deep",
            &format!(
                r#"{{"Layers": [{}{}]}}"#,
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
            Expect::Err("recursion limit"),
        ),
        (
            "bindings-bad",
            r#"{"Layers": [], "Bindings": [}"#,
            Expect::Err("not valid JSON"),
        ),
    ];
    for (name, text, expect) in graphs {
        pair(c, name, &profile, Some(text.as_bytes()), true, expect.clone());
    }
    // Metadata beside the pair, broken.
    let p = c.path("meta.profile.json");
    std::fs::write(&p, &profile).unwrap();
    std::fs::write(p.with_file_name("meta.graph.json"), &graph).unwrap();
    std::fs::write(
        p.with_file_name("meta.build.metadata.json"),
        b"{\"build_options\": 5",
    )
    .unwrap();
    std::fs::write(
        p.with_file_name("meta.profile.metadata.json"),
        b"{\"device_information\": {\"Compute Capability\": \"x.y.z\", \"SMs\": -1e300}}",
    )
    .unwrap();
    c.push("trtexec", &p, Mode::Analyze(vec![]), Expect::Any);
}

fn nsys_rep(c: &mut Corpus) {
    let fake = repo().join("tests/fixtures/fake-nsys");
    let cases: &[(&str, &[u8])] = &[
        ("garbage.nsys-rep", b"\x00\x01\x02 not a report"),
        ("empty.nsys-rep", b""),
        (
            "header-only.nsys-rep",
            b"NVIDIA Tegra Profiler Report 36398880.\n",
        ),
        ("json.nsys-rep", br#"{"traceEvents": []}"#),
        ("old.qdrep", b"\x89QDREP garbage"),
    ];
    for (name, bytes) in cases {
        for (tag, nsys) in [("fake", fake.to_str().unwrap()), ("none", "/no/such/nsys")] {
            let p = c.path(&format!("{tag}-{name}"));
            std::fs::write(&p, bytes).unwrap();
            let expect = if bytes.is_empty() {
                Expect::Err("the file is empty")
            } else {
                Expect::Err("")
            };
            c.push("nsys-rep", &p, Mode::Analyze(vec![]), expect);
            let last = c.cases.last_mut().unwrap();
            last.env.push(("NSYS".into(), nsys.into()));
            last.env.push((
                "TRACE_REPORT_CACHE".into(),
                c.dir.join("cache").display().to_string(),
            ));
        }
    }
}

/// report.json files given to `diff`: made from a real report with parts
/// broken; the good side is the real report.
fn report_json(c: &mut Corpus) {
    let good = good_report(&c.dir);
    let text = std::fs::read_to_string(&good).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let add = |c: &mut Corpus, name: &str, bytes: &[u8], expect: Expect| {
        for bad_first in [true, false] {
            let p = c.path(&format!("{name}.json"));
            std::fs::write(&p, bytes).unwrap();
            c.push("report-json", &p, Mode::Diff { bad_first }, expect.clone());
        }
    };
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut d = doc.clone();
        f(&mut d);
        serde_json::to_vec_pretty(&d).unwrap()
    };
    for cut in [1, 40, text.len() / 2, text.len() - 2] {
        add(c, &format!("cut-{cut}"), &text.as_bytes()[..cut], Expect::Err(""));
    }
    let edits: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "schema-2",
            edit(&|d| d["schema_version"] = 2.into()),
            Expect::Err("schema_version 2"),
        ),
        (
            "schema-0",
            edit(&|d| d["schema_version"] = 0.into()),
            Expect::Err("schema_version 0"),
        ),
        (
            "schema-text",
            edit(&|d| d["schema_version"] = "1".into()),
            Expect::Err("no numeric schema_version"),
        ),
        (
            "schema-null",
            edit(&|d| d["schema_version"] = serde_json::Value::Null),
            Expect::Err(""),
        ),
        (
            "diff-doc",
            edit(&|d| d["kind"] = "trace-report-diff".into()),
            Expect::Err("diff document"),
        ),
        (
            "no-kernels",
            edit(&|d| {
                d.as_object_mut().unwrap().remove("kernels");
            }),
            Expect::Err("not a valid trace-report report.json"),
        ),
        (
            "no-window",
            edit(&|d| {
                d.as_object_mut().unwrap().remove("window");
            }),
            Expect::Err("not a valid trace-report report.json"),
        ),
        (
            "duration-text",
            edit(&|d| d["window"]["duration_ns"] = "long".into()),
            Expect::Err("not a valid trace-report report.json"),
        ),
        (
            "duration-negative",
            edit(&|d| d["window"]["duration_ns"] = (-5).into()),
            Expect::Any,
        ),
        (
            "duration-huge",
            edit(&|d| d["window"]["duration_ns"] = i64::MAX.into()),
            Expect::Any,
        ),
        (
            "duration-min",
            edit(&|d| {
                d["window"]["duration_ns"] = i64::MIN.into();
                d["attribution"]["total_ns"] = i64::MIN.into();
            }),
            Expect::Any,
        ),
        (
            "float-duration",
            edit(&|d| d["window"]["duration_ns"] = 1.5.into()),
            Expect::Err("not a valid trace-report report.json"),
        ),
        (
            "iterations-extreme",
            edit(&|d| {
                for it in d["iterations"].as_array_mut().unwrap() {
                    it["duration_ns"] = i64::MAX.into();
                }
            }),
            Expect::Any,
        ),
        (
            "iterations-negative",
            edit(&|d| {
                for (i, it) in d["iterations"].as_array_mut().unwrap().iter_mut().enumerate() {
                    it["duration_ns"] = (-(i as i64) * 1000).into();
                }
            }),
            Expect::Any,
        ),
        (
            "iterations-zero",
            edit(&|d| {
                for it in d["iterations"].as_array_mut().unwrap() {
                    it["duration_ns"] = 0.into();
                }
            }),
            Expect::Any,
        ),
        (
            "iterations-empty",
            edit(&|d| d["iterations"] = serde_json::json!([])),
            Expect::Any,
        ),
        (
            "kernels-extreme",
            edit(&|d| {
                for k in d["kernels"].as_array_mut().unwrap() {
                    k["total_ns"] = i64::MAX.into();
                    k["count"] = 0.into();
                }
            }),
            Expect::Any,
        ),
        (
            "kernels-empty",
            edit(&|d| d["kernels"] = serde_json::json!([])),
            Expect::Any,
        ),
        (
            "attribution-zero",
            edit(&|d| {
                d["attribution"]["total_ns"] = 0.into();
                d["window"]["duration_ns"] = 0.into();
            }),
            Expect::Any,
        ),
        (
            "findings-extreme",
            edit(&|d| {
                for f in d["findings"].as_array_mut().unwrap() {
                    f["time_at_stake_ns"] = i64::MAX.into();
                }
            }),
            Expect::Any,
        ),
        (
            "generator-other",
            edit(&|d| d["generator"] = "other-tool 1.0".into()),
            Expect::Err("not a recognised trace format"),
        ),
        (
            "extra-keys",
            edit(&|d| d["future_key"] = serde_json::json!({"a": [1, 2]})),
            Expect::Any,
        ),
        (
            "deep",
            format!(
                "{{\"generator\": \"trace-report 0.1\", \"schema_version\": 1, \"x\": {}{}}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
            .into_bytes(),
            Expect::Err(""),
        ),
        (
            "not-object",
            b"[{\"generator\": \"trace-report\"}]".to_vec(),
            Expect::Err("not a recognised trace format"),
        ),
        (
            "nan",
            text.replacen("\"schema_version\": 1", "\"schema_version\": NaN", 1)
                .into_bytes(),
            Expect::Err(""),
        ),
        ("gzip", gzip(text.as_bytes()), Expect::Any),
    ];
    for (name, bytes, expect) in edits {
        add(c, name, &bytes, expect);
    }
}

/// A real report.json, made once by running the binary on a sample.
pub fn good_report(dir: &Path) -> PathBuf {
    let out = dir.join("good");
    let p = out.join("report.json");
    if !p.exists() {
        let st = std::process::Command::new(env!("CARGO_BIN_EXE_trace-report"))
            .arg(repo().join("sample_traces/redundant_copies.sqlite"))
            .args(["-q", "--format", "json", "-o"])
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
    }
    p
}

/// Files of one format with another's extension.
fn wrong_extension(c: &mut Corpus) {
    let kineto = kineto_text();
    let tiny = std::fs::read(tiny_export(&c.dir, 300)).unwrap();
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("kineto-as.sqlite", kineto.clone(), Expect::Any),
        (
            "text-as.sqlite",
            b"hello\n".to_vec(),
            Expect::Err("not a recognised trace format"),
        ),
        ("sqlite-as.json", tiny.clone(), Expect::Any),
        ("sqlite-as.json.gz", tiny.clone(), Expect::Any),
        (
            "plain-as.json.gz",
            b"{\"hello\": 1}".to_vec(),
            Expect::Err("not a recognised trace format"),
        ),
        (
            "gzip-of-gzip.json.gz",
            gzip(&gzip(&kineto)),
            Expect::Err("not a recognised trace format"),
        ),
        ("gzip-of-sqlite.json.gz", gzip(&tiny), Expect::Any),
        (
            "gzip-of-garbage.json.gz",
            gzip(b"\x00\x01\x02\x03 garbage"),
            Expect::Err("not a recognised trace format"),
        ),
        ("kineto-as.profile.json", kineto.clone(), Expect::Any),
        (
            "elf-as.sqlite",
            std::fs::read("/bin/true").unwrap_or_else(|_| b"\x7fELF".to_vec()),
            Expect::Err("not a recognised trace format"),
        ),
        (
            "zeros.sqlite",
            vec![0u8; 8192],
            Expect::Err("not a recognised trace format"),
        ),
        (
            "only-magic.sqlite",
            b"SQLite format 3\0".to_vec(),
            Expect::Err(""),
        ),
        ("gzip-magic-only.json.gz", vec![0x1f, 0x8b], Expect::Err("")),
    ];
    for (name, bytes, expect) in cases {
        c.add("wrong-extension", name, &bytes, expect);
    }
    // Not a regular file.
    let d = c.path("a-directory.sqlite");
    std::fs::create_dir_all(&d).unwrap();
    c.push(
        "wrong-extension",
        &d,
        Mode::Analyze(vec![]),
        Expect::Err("is a directory"),
    );
    c.push(
        "wrong-extension",
        Path::new("/dev/null"),
        Mode::Analyze(vec![]),
        Expect::Err("the file is empty"),
    );
}
