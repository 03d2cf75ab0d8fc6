//! Nsight Systems SQLite exports (`nsys export --type sqlite`).
//!
//! The file is opened read-only and immutable (no locks, no journal, no
//! side files). Each table is read once with the columns the model needs
//! (`queries/*.sql`); string ids and enum ids are decoded in Rust through
//! `StringIds` and the `ENUM_*` tables, whose numbering changes between
//! nsys versions. Optional tables and columns that are missing become
//! warnings in the report; a file with no kernel table is an error.

mod activity;
mod host;
mod pages;
pub mod query;
mod rows;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::input::nsys_ids::{self, global_pid};
use crate::input::nvtx_domain;
use crate::input::{InputFormat, Reader};
use crate::model::build::RowCheck;
use crate::model::{
    ApiKind, DEFAULT_DOMAIN, Device, Kernel, MetricKind, MetricSeries, NameId, Names, Process, Range,
    RangeKind, Thread, Trace,
};
use crate::progress::Progress;
use crate::timing::time;
use query::{Prepared, Query};
use rows::{IdMap, RawRow};

pub use query::table_columns;

/// The SQLite magic every database file starts with.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// Rows between progress updates.
const PROGRESS_STEP: u64 = 1 << 16;

pub struct NsysSqlite;

impl Reader for NsysSqlite {
    fn format(&self) -> InputFormat {
        InputFormat::NsysSqlite
    }

    fn sniff(&self, _path: &Path, head: &[u8]) -> bool {
        head.starts_with(SQLITE_MAGIC)
    }

    fn read(&self, path: &Path, progress: &Progress) -> Result<Trace> {
        Loader::open(path)?.load(progress)
    }
}

/// Open `path` read-only without ever writing to it or beside it.
pub fn open_read_only(path: &Path) -> Result<Connection> {
    let uri = format!("file:{}?mode=ro&immutable=1", uri_path(path));
    let flags =
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri, flags).map_err(|e| sql_error(path, &e))?;
    // One pass over each big table: a large page cache would only hold
    // pages that are never read again (and count in RSS, per connection).
    let _ = conn.execute_batch("PRAGMA cache_size=-8192; PRAGMA mmap_size=0;");
    Ok(conn)
}

/// Percent-encode a path for an SQLite `file:` URI.
fn uri_path(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for b in abs.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A one-line description of an SQLite error on `path`.
pub fn sql_error(path: &Path, e: &rusqlite::Error) -> Error {
    // SQLite allocates with malloc, past our allocator: its out-of-memory
    // must read like ours (the cap, the inputs, exit 2), which the binary
    // prints for this error.
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::OutOfMemory) {
        return Error::out_of_memory("SQLite could not allocate memory");
    }
    let text = e.to_string();
    let problem = if text.contains("file is not a database") {
        "not an SQLite database (bad header)".to_string()
    } else if text.contains("malformed") || text.contains("disk I/O error") {
        format!("the SQLite file is corrupt or truncated ({text})")
    } else if text.contains("unable to open") {
        format!("cannot open as SQLite ({text})")
    } else {
        format!("SQLite error: {text}")
    };
    Error::input(path, problem)
}

/// Run `sql` on `conn`, calling `each` per row; shows progress for `table`.
fn scan(
    conn: &Connection,
    path: &Path,
    sql: &str,
    table: &str,
    progress: Option<&Progress>,
    each: impl FnMut(&RawRow) -> Result<()>,
) -> Result<()> {
    if let Some(p) = progress {
        let estimate = activity::rowid_range(conn, table).map(|(_, max)| max.max(0) as u64);
        p.stage(&format!("reading {table}"), estimate);
    }
    activity::scan_rows(conn, path, sql, &[], progress, each)
}

/// StringIds ids to model names.
#[derive(Default)]
struct Strings(IdMap);

impl Strings {
    /// The model's name for a StringIds id; unknown ids get a visible stand-in.
    fn get(&mut self, names: &mut Names, id: i64) -> NameId {
        if let Some(n) = self.0.get(id) {
            return n;
        }
        let n = names.intern(&format!("<string #{id}>"));
        self.0.insert(id, n);
        n
    }
}

/// nsys global thread ids to model thread indexes.
#[derive(Default)]
struct Threads {
    index: HashMap<i64, u32>,
    /// Keys in index order.
    keys: Vec<i64>,
    /// The last key looked up: runs of calls come from one thread.
    last: Option<(i64, u32)>,
}

impl Threads {
    fn get(&mut self, threads: &mut Vec<Thread>, global_tid: Option<i64>) -> u32 {
        let key = global_tid.unwrap_or(-1);
        if let Some((k, t)) = self.last {
            if k == key {
                return t;
            }
        }
        let t = match self.index.get(&key) {
            Some(&t) => t,
            None => self.insert(threads, key, nsys_ids::thread(global_tid)),
        };
        self.last = Some((key, t));
        t
    }

    /// The index of `key`, adding `thread` under it if it is new.
    fn insert(&mut self, threads: &mut Vec<Thread>, key: i64, thread: Thread) -> u32 {
        if let Some(&t) = self.index.get(&key) {
            return t;
        }
        let idx = threads.len() as u32;
        threads.push(thread);
        self.index.insert(key, idx);
        self.keys.push(key);
        idx
    }

    fn keys(&self) -> &[i64] {
        &self.keys
    }

    fn index_of(&self, key: i64) -> Option<u32> {
        self.index.get(&key).copied()
    }
}

/// Prepare `q` (with `table.0` for a `{{table}}` header; `table.1`: the
/// table is optional), turning schema gaps into `warnings`. `None`: skip
/// the table.
fn prepare(
    conn: &Connection,
    path: &Path,
    q: &Query,
    table: (Option<&str>, bool),
    warnings: &mut Vec<String>,
) -> Result<Option<String>> {
    let (table_arg, optional_table) = table;
    let prepared = q.prepare(conn, table_arg).map_err(|e| sql_error(path, &e))?;
    match prepared {
        Prepared::Ready { sql, missing } => {
            if !missing.is_empty() {
                let table = q.table(table_arg);
                warnings.push(format!(
                    "{table} lacks column(s) {}: read as empty ({})",
                    missing.join(", "),
                    q.file
                ));
            }
            Ok(Some(sql))
        }
        Prepared::NoTable { table } if optional_table => {
            warnings.push(format!("no {table} table in this export"));
            Ok(None)
        }
        Prepared::NoTable { table } => Err(Error::input(path, format!("no {table} table"))),
        Prepared::MissingColumns { table, columns } if optional_table => {
            warnings.push(format!(
                "{table} lacks required column(s) {}: table ignored",
                columns.join(", ")
            ));
            Ok(None)
        }
        Prepared::MissingColumns { table, columns } => Err(Error::input(
            path,
            format!("{table} lacks required column(s) {}", columns.join(", ")),
        )),
    }
}

/// Correlation ids of API calls that blocked the host until the GPU
/// caught up (event, stream and context synchronization; not
/// stream-wait-event, which makes the GPU wait, not the host).
fn read_sync(
    conn: &Connection,
    path: &Path,
    sync_types: &HashMap<i64, String>,
    warnings: &mut Vec<String>,
) -> Result<activity::Blocking> {
    let Some(sql) = prepare(conn, path, &query::SYNC, (None, true), warnings)? else {
        return Ok(activity::Blocking::default());
    };
    let blocking: HashSet<i64> = sync_types
        .iter()
        .filter(|(_, name)| nsys_ids::sync_blocks_host(name))
        .map(|(&id, _)| id)
        .collect();
    let mut ids = Vec::new();
    scan(
        conn,
        path,
        &sql,
        "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION",
        None,
        |r| {
            if let (Some(c), Some(t)) = (r.int(0), r.int(1)) {
                if blocking.contains(&t) {
                    if let Ok(c) = u32::try_from(c) {
                        ids.push(c);
                    }
                }
            }
            Ok(())
        },
    )?;
    Ok(activity::Blocking::new(ids))
}

/// The export schemas this reader was checked on, for warnings.
const KNOWN_SCHEMAS: &str = "this reader was checked on export schemas 3.20 (nsys 2025.3) and 3.25 (nsys 2026.2); \
     tables and columns it needs are checked one by one and what is missing is listed";

/// A warning when the export's schema version (`EXPORT_SCHEMA_VERSION`,
/// `MAJOR.MINOR.MICRO`) is missing or of another major version: nsys
/// renames and drops tables between major versions, so gaps are likely.
/// Minor versions only add tables and columns.
fn schema_warning(version: Option<&str>) -> Option<String> {
    let Some(v) = version else {
        return Some(format!(
            "export schema version unknown (META_DATA_EXPORT has no EXPORT_SCHEMA_VERSION); {KNOWN_SCHEMAS}"
        ));
    };
    let major = v.split('.').next().and_then(|m| m.trim().parse::<u32>().ok());
    match major {
        Some(3) => None,
        _ => Some(format!(
            "export schema version {} is not 3.x; {KNOWN_SCHEMAS}",
            v.chars().take(40).collect::<String>()
        )),
    }
}

struct Loader<'p> {
    path: &'p Path,
    conn: Connection,
    tables: HashSet<String>,
    trace: Trace,
    strings: Strings,
    threads: Threads,
}

/// A file shorter than its header says was cut (a half-written or
/// half-copied export). SQLite reads the missing pages as absent and could
/// return part of a table without an error, so check before reading: the
/// in-header page count is valid when its "version-valid-for" number
/// matches the change counter (https://www.sqlite.org/fileformat.html 1.3.7).
fn check_length(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut header = [0u8; 100];
    let mut file = std::fs::File::open(path).map_err(|e| Error::input(path, crate::error::io_problem(&e)))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if file.read_exact(&mut header).is_err() {
        return Err(Error::input(
            path,
            format!("the SQLite file is truncated ({len} bytes: shorter than its 100-byte header)"),
        ));
    }
    let be32 = |at: usize| u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    let pages = u64::from(be32(28));
    if pages > 0 && be32(24) == be32(92) && page_size >= 512 {
        let want = pages * page_size;
        if len < want {
            return Err(Error::input(
                path,
                format!(
                    "the SQLite file is truncated ({len} bytes; its header says {pages} pages of {page_size} bytes = {want}): a half-written or incompletely copied export"
                ),
            ));
        }
    }
    Ok(())
}

/// Why an nsys export without a kernel table cannot be analysed: whether
/// CUDA was traced at all decides the advice. `-t cuda` is only the fix
/// when no CUDA API call was recorded either; a capture that traced the
/// API but holds no kernel records (a JAX process that only initialised
/// CUDA while traced, kernels lost at exit) needs another capture, not
/// another flag.
fn no_kernels_reason(conn: &Connection, path: &Path, tables: &HashSet<String>) -> Result<String> {
    if !tables.contains("CUPTI_ACTIVITY_KIND_RUNTIME") {
        return Ok(
            "Nsight Systems export without a CUPTI_ACTIVITY_KIND_KERNEL table and without CUDA API \
                   calls: CUDA was not traced (profile with -t cuda)"
                .to_string(),
        );
    }
    let mut warnings = Vec::new();
    let Some(sql) = prepare(conn, path, &query::RUNTIME_NAMES, (None, true), &mut warnings)? else {
        return Ok(
            "Nsight Systems export without a CUPTI_ACTIVITY_KIND_KERNEL table: no GPU kernels were recorded"
                .to_string(),
        );
    };
    let names: HashMap<i64, String> = if tables.contains("StringIds") {
        let mut stmt = conn
            .prepare("SELECT id, value FROM StringIds")
            .map_err(|e| sql_error(path, &e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| sql_error(path, &e))?;
        rows.filter_map(|r| r.ok()).collect()
    } else {
        HashMap::new()
    };
    let (mut calls, mut work) = (0i64, 0i64);
    let mut stmt = conn.prepare(&sql).map_err(|e| sql_error(path, &e))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, i64>(1)?)))
        .map_err(|e| sql_error(path, &e))?;
    for row in rows {
        let (id, n) = row.map_err(|e| sql_error(path, &e))?;
        calls += n;
        let name = id.and_then(|id| names.get(&id)).map_or("", String::as_str);
        if ApiKind::classify(name) != ApiKind::Other {
            work += n;
        }
    }
    Ok(if calls == 0 {
        "Nsight Systems export without a CUPTI_ACTIVITY_KIND_KERNEL table and without CUDA API calls: CUDA was \
         not traced (profile with -t cuda)"
            .to_string()
    } else {
        format!(
            "Nsight Systems export without a CUPTI_ACTIVITY_KIND_KERNEL table although CUDA was traced: {calls} \
             CUDA API call(s) recorded, {work} of them kernel launches, copies, memsets or syncs"
        )
    })
}

impl<'p> Loader<'p> {
    fn open(path: &'p Path) -> Result<Loader<'p>> {
        check_length(path)?;
        let conn = open_read_only(path)?;
        let tables: HashSet<String> = {
            let mut stmt = conn
                .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
                .map_err(|e| sql_error(path, &e))?;
            let names = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| sql_error(path, &e))?;
            names
                .collect::<rusqlite::Result<_>>()
                .map_err(|e| sql_error(path, &e))?
        };
        if !tables.contains("CUPTI_ACTIVITY_KIND_KERNEL") {
            let nsys = tables.contains("META_DATA_EXPORT")
                || tables.contains("EXPORT_META_DATA")
                || tables.contains("StringIds")
                || tables.iter().any(|t| t.starts_with("TARGET_INFO_"));
            let problem = if nsys {
                no_kernels_reason(&conn, path, &tables)?
            } else {
                "SQLite database but not an Nsight Systems export \
                 (no CUPTI_ACTIVITY_KIND_KERNEL or META_DATA_EXPORT table)"
                    .to_string()
            };
            return Err(Error::input(path, problem));
        }
        let mut trace = Trace::default();
        trace.source.path = path.display().to_string();
        Ok(Loader {
            path,
            conn,
            tables,
            trace,
            strings: Strings::default(),
            threads: Threads::default(),
        })
    }

    fn load(mut self, progress: &Progress) -> Result<Trace> {
        self.read_meta()?;
        self.read_strings()?;
        let memcpy_kinds = self.read_enum(query::ENUM_MEMCPY_OPER, "memcpy directions")?;
        let mem_kinds = self.read_enum(query::ENUM_MEM_KIND, "pageable/pinned memory kinds")?;
        let event_types = self.read_enum(query::ENUM_EVENT_TYPE, "NVTX range kinds")?;
        let sync_types = self.read_enum(query::ENUM_SYNC_TYPE, "synchronization kinds")?;
        time("activity tables", || {
            self.read_activity((&memcpy_kinds, &mem_kinds), &sync_types, progress)
        })?;
        time("graphs", || self.read_graph_trace())?;
        time("host activity", || self.read_host(progress))?;
        time("nvtx", || self.read_nvtx(&event_types, progress))?;
        time("threads, processes, devices", || {
            self.read_thread_names()?;
            self.read_processes()?;
            self.read_devices()
        })?;
        time("gpu metrics", || self.read_gpu_metrics(progress))?;
        if self.trace.kernels.is_empty() {
            self.warn("the kernel table is empty: no GPU kernels in this capture");
        }
        Ok(self.trace)
    }

    fn warn(&mut self, message: impl Into<String>) {
        self.trace.warnings.push(message.into());
    }

    /// Prepare `q`, turning schema gaps into warnings. `None`: skip the table.
    fn prepare(
        &mut self,
        q: &Query,
        table_arg: Option<&str>,
        optional_table: bool,
    ) -> Result<Option<String>> {
        prepare(
            &self.conn,
            self.path,
            q,
            (table_arg, optional_table),
            &mut self.trace.warnings,
        )
    }

    fn read_meta(&mut self) -> Result<()> {
        // Older exports name the table EXPORT_META_DATA.
        let (q, table) =
            if !self.tables.contains("META_DATA_EXPORT") && self.tables.contains("EXPORT_META_DATA") {
                (&query::META_OLD, "EXPORT_META_DATA")
            } else {
                (&query::META, "META_DATA_EXPORT")
            };
        let Some(sql) = self.prepare(q, None, true)? else {
            self.warn(format!(
                "export schema version unknown (no usable META_DATA_EXPORT); {KNOWN_SCHEMAS}"
            ));
            return Ok(());
        };
        let mut meta = HashMap::new();
        scan(&self.conn, self.path, &sql, table, None, |r| {
            if let (Some(k), Some(v)) = (r.text(0), r.text(1)) {
                meta.insert(k, v);
            }
            Ok(())
        })?;
        let product = meta.get("EXPORT_PRODUCT_NAME").cloned();
        let version = meta.get("EXPORT_PRODUCT_VERSION").cloned();
        self.trace.source.profiler_version = match (product, version) {
            (Some(p), Some(v)) => Some(format!("{p} {v}")),
            (None, Some(v)) => Some(format!("Nsight Systems {v}")),
            (Some(p), None) => Some(p),
            (None, None) => None,
        };
        self.trace.source.schema_version = meta.get("EXPORT_SCHEMA_VERSION").cloned();
        if let Some(w) = schema_warning(self.trace.source.schema_version.as_deref()) {
            self.warn(w);
        }
        Ok(())
    }

    fn read_strings(&mut self) -> Result<()> {
        let Some(sql) = self.prepare(&query::STRINGS, None, true)? else {
            self.warn("without StringIds, kernel and API names are shown as ids");
            return Ok(());
        };
        let (names, map) = (&mut self.trace.names, &mut self.strings.0);
        scan(&self.conn, self.path, &sql, "StringIds", None, |r| {
            if let (Some(id), Some(v)) = (r.int(0), r.text_ref(1)) {
                map.insert(id, names.intern(&v));
            }
            Ok(())
        })
    }

    fn read_enum(&mut self, table: &str, what: &str) -> Result<HashMap<i64, String>> {
        let mut map = HashMap::new();
        if !self.tables.contains(table) {
            self.warn(format!("no {table} table: {what} cannot be decoded"));
            return Ok(map);
        }
        let Some(sql) = self.prepare(&query::ENUM, Some(table), true)? else {
            return Ok(map);
        };
        scan(&self.conn, self.path, &sql, table, None, |r| {
            if let (Some(id), Some(name)) = (r.int(0), r.text(1)) {
                map.insert(id, name);
            }
            Ok(())
        })?;
        Ok(map)
    }

    /// Kernels, copies, memsets, synchronization and runtime calls, on two
    /// threads (see [`activity`]). Warnings and errors come out in the
    /// order one thread reading the tables one after another gives them.
    fn read_activity(
        &mut self,
        copy_kinds: (&HashMap<i64, String>, &HashMap<i64, String>),
        sync_types: &HashMap<i64, String>,
        progress: &Progress,
    ) -> Result<()> {
        const KERNEL: &str = "CUPTI_ACTIVITY_KIND_KERNEL";
        const RUNTIME: &str = "CUPTI_ACTIVITY_KIND_RUNTIME";
        let Some(kernel_sql) = self.prepare(&query::KERNELS, None, false)? else {
            return Err(Error::input(self.path, "no CUPTI_ACTIVITY_KIND_KERNEL table"));
        };
        // The kernel rows' warnings go here once the worker is done.
        let kernel_warnings_at = self.trace.warnings.len();
        let range = |t: &str| {
            self.tables
                .contains(t)
                .then(|| activity::rowid_range(&self.conn, t))
                .flatten()
        };
        let (kernel_range, runtime_range) = (range(KERNEL), range(RUNTIME));
        let copy_rows: i64 = ["CUPTI_ACTIVITY_KIND_MEMCPY", "CUPTI_ACTIVITY_KIND_MEMSET"]
            .iter()
            .filter_map(|t| range(t))
            .map(|(a, b)| b - a + 1)
            .sum();
        let rows = |r: Option<(i64, i64)>| r.map_or(0, |(a, b)| b - a + 1);
        let split = activity::split_point(runtime_range, rows(kernel_range) - copy_rows);
        progress.stage(
            "reading kernels and API calls",
            Some((rows(kernel_range) + rows(runtime_range) + copy_rows).max(0) as u64),
        );
        let path = self.path;
        let kernel_capacity = activity::capacity(kernel_range, path);
        let runtime_capacity = activity::capacity(runtime_range, path);
        let Loader {
            conn,
            trace,
            strings,
            threads,
            ..
        } = self;
        let names: (&Names, &Strings) = (&trace.names, strings);
        let (tx, rx) = std::sync::mpsc::channel::<(String, std::sync::Arc<activity::Blocking>, (i64, i64))>();
        let mut caller_warnings = Vec::new();
        let (memcpys, memsets) = (&mut trace.memcpys, &mut trace.memsets);
        let (kernels, caller, tail) = std::thread::scope(|s| {
            let worker = s.spawn(move || {
                let conn = match open_read_only(path) {
                    Ok(c) => c,
                    Err(e) => return (Err(e), None),
                };
                let k = time("kernels", || {
                    activity::read_kernels(&conn, path, &kernel_sql, names, kernel_capacity, progress)
                });
                if k.is_err() {
                    return (k, None);
                }
                // The caller sends the runtime tail once it knows the query.
                let tail = rx.recv().ok().map(|(sql, blocking, part)| {
                    time("runtime tail", || {
                        let cap = activity::capacity(Some(part), path);
                        activity::read_runtime(&conn, path, &sql, Some(part), names, &blocking, cap, progress)
                    })
                });
                (k, tail)
            });
            let w = &mut caller_warnings;
            let caller = (|| -> Result<Option<activity::RuntimeRows>> {
                if let Some(sql) = prepare(conn, path, &query::MEMCPY, (None, true), w)? {
                    let bad = time("memcpy", || {
                        activity::read_memcpys(conn, path, &sql, copy_kinds, memcpys, progress)
                    })?;
                    bad.report(w);
                }
                if let Some(sql) = prepare(conn, path, &query::MEMSET, (None, true), w)? {
                    let bad = time("memset", || {
                        activity::read_memsets(conn, path, &sql, memsets, progress)
                    })?;
                    bad.report(w);
                }
                let blocking = std::sync::Arc::new(time("sync", || read_sync(conn, path, sync_types, w))?);
                let Some(sql) = prepare(conn, path, &query::RUNTIME, (None, true), w)? else {
                    w.push(
                        "without CUDA API calls, GPU idle time cannot be split into sync/launch/host".into(),
                    );
                    return Ok(None);
                };
                let head = match (split, runtime_range) {
                    (Some(m), Some((lo, hi))) => {
                        // A closed receiver means the worker failed: its error wins.
                        let _ = tx.send((sql.clone(), blocking.clone(), (m + 1, hi)));
                        Some((lo, m))
                    }
                    _ => None,
                };
                time("runtime", || {
                    activity::read_runtime(
                        conn,
                        path,
                        &sql,
                        head,
                        names,
                        &blocking,
                        runtime_capacity,
                        progress,
                    )
                })
                .map(Some)
            })();
            drop(tx);
            let (kernels, tail) = match worker.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            (kernels, caller, tail)
        });
        let mut kernels = kernels?;
        if let Some(bad) = kernels.bad.take() {
            let mut w = Vec::new();
            bad.report(&mut w);
            trace.warnings.splice(kernel_warnings_at..kernel_warnings_at, w);
        }
        trace.warnings.append(&mut caller_warnings);
        let head = caller?;
        let tail = tail.transpose()?;
        activity::resolve_kernels(&mut kernels, &mut trace.names, strings);
        trace.kernels = kernels.kernels;
        if let Some(head) = head {
            let parts: Vec<activity::RuntimeRows> = std::iter::once(head).chain(tail).collect();
            let (other, bad) = activity::merge_runtime(
                parts,
                &mut trace.api_calls,
                threads,
                &mut trace.threads,
                &mut trace.names,
                strings,
            );
            trace.other_api_calls = other;
            bad.report(&mut trace.warnings);
        }
        // Room was reserved for every row; give back what filtered rows left.
        trace.kernels.shrink_to_fit();
        trace.api_calls.shrink_to_fit();
        trace.memcpys.shrink_to_fit();
        trace.memsets.shrink_to_fit();
        Ok(())
    }

    /// Graph launches that nsys recorded whole (`--cuda-graph-trace=graph`,
    /// its default): each becomes one GPU operation named `CUDA graph N`,
    /// so the GPU is not taken for idle while a graph runs. Its kernels are
    /// not in the export; the warning says how to get them.
    fn read_graph_trace(&mut self) -> Result<()> {
        const TABLE: &str = "CUPTI_ACTIVITY_KIND_GRAPH_TRACE";
        if !self.tables.contains(TABLE) {
            return Ok(());
        }
        let Some(sql) = self.prepare(&query::GRAPH_TRACE, None, true)? else {
            return Ok(());
        };
        let mut bad = RowCheck::new(TABLE);
        let mut graphs = crate::input::cuda_graph::Graphs::default();
        let (names, kernels) = (&mut self.trace.names, &mut self.trace.kernels);
        scan(&self.conn, self.path, &sql, TABLE, None, |r| {
            let Some((start, end)) = bad.span(r.int(0), r.int(1)) else {
                return Ok(());
            };
            let (name, short_name) = graphs.launch(names, r.int(6));
            kernels.push(Kernel {
                start,
                end,
                name,
                short_name,
                device: bad.u32(r.int(2)),
                stream: bad.u32(r.int(3)),
                correlation: bad.u32(r.int(4)),
                pid: r.int(5).map_or(0, global_pid),
            });
            Ok(())
        })?;
        bad.report(&mut self.trace.warnings);
        if let Some(w) = graphs.warning(TABLE) {
            self.warn(w);
        }
        Ok(())
    }

    fn read_nvtx(&mut self, event_types: &HashMap<i64, String>, progress: &Progress) -> Result<()> {
        let Some(sql) = self.prepare(&query::NVTX, None, true)? else {
            self.warn("without NVTX ranges there are no iterations or phases");
            return Ok(());
        };
        if event_types.is_empty() {
            self.warn("NVTX event types unknown: every NVTX event with an end is read as a push/pop range");
        }
        let domain_create = event_types
            .iter()
            .find(|(_, n)| n.as_str() == nvtx_domain::DOMAIN_CREATE)
            .map(|(&id, _)| id);
        let kinds: HashMap<i64, Option<RangeKind>> = event_types
            .iter()
            .map(|(&id, n)| {
                let kind = if n.contains("PushPopRange") {
                    Some(RangeKind::PushPop)
                } else if n.contains("StartEndRange") {
                    Some(RangeKind::StartEnd)
                } else {
                    None // marks, domain and string registrations
                };
                (id, kind)
            })
            .collect();
        let no_enum = kinds.is_empty();
        let mut bad = RowCheck::new("NVTX_EVENTS");
        let (names, strings, threads, thread_list) = (
            &mut self.trace.names,
            &mut self.strings,
            &mut self.threads,
            &mut self.trace.threads,
        );
        let ranges = &mut self.trace.ranges;
        let mut domains = nvtx_domain::Domains::default();
        scan(&self.conn, self.path, &sql, "NVTX_EVENTS", Some(progress), |r| {
            if domain_create.is_some() && r.int(2) == domain_create {
                let text = match (r.text_ref(4), r.int(5)) {
                    (Some(t), _) => Some(t.into_owned()),
                    (None, Some(id)) => {
                        let n = strings.get(names, id);
                        Some(names.get(n).to_string())
                    }
                    (None, None) => None,
                };
                if let (Some(id), Some(text)) = (r.int(6), text) {
                    domains.create(r.int(3).map_or(0, global_pid), id, &text);
                }
                return Ok(());
            }
            let kind = match r.int(2).and_then(|t| kinds.get(&t).copied()) {
                Some(Some(k)) => k,
                None if no_enum => RangeKind::PushPop,
                _ => return Ok(()),
            };
            // A range without an end was still open when the capture stopped.
            let (start, end) = (r.int(0), r.int(1));
            if start.is_some() && end.is_none() {
                if !no_enum {
                    bad.unfinished();
                }
                return Ok(());
            }
            let Some((start, end)) = bad.span(start, end) else {
                return Ok(());
            };
            let name = match (r.text_ref(4), r.int(5)) {
                (Some(t), _) => names.intern(&t),
                (None, Some(id)) => strings.get(names, id),
                (None, None) => names.intern("<unnamed range>"),
            };
            let thread = threads.get(thread_list, r.int(3));
            domains.range(ranges.len(), r.int(3).map_or(0, global_pid), r.int(6));
            ranges.push(Range {
                start,
                end,
                name,
                thread,
                kind,
                domain: DEFAULT_DOMAIN,
            });
            Ok(())
        })?;
        domains.resolve(&mut self.trace.names, &mut self.trace.ranges);
        bad.report(&mut self.trace.warnings);
        Ok(())
    }

    fn read_thread_names(&mut self) -> Result<()> {
        if !self.tables.contains("ThreadNames") {
            self.warn("no ThreadNames table: threads are shown by id");
            return Ok(());
        }
        let Some(sql) = self.prepare(&query::THREADS, None, true)? else {
            return Ok(());
        };
        let (names, strings, threads, thread_list) = (
            &mut self.trace.names,
            &mut self.strings,
            &self.threads,
            &mut self.trace.threads,
        );
        scan(&self.conn, self.path, &sql, "ThreadNames", None, |r| {
            if let (Some(tid), Some(name_id)) = (r.int(0), r.int(1)) {
                if let Some(idx) = threads.index_of(tid) {
                    let name = strings.get(names, name_id);
                    thread_list[idx as usize].name = Some(names.get(name).to_string());
                }
            }
            Ok(())
        })
    }

    /// The session start (the clock's zero in UTC) and the names of the
    /// processes that did GPU work or made API calls; both optional.
    fn read_processes(&mut self) -> Result<()> {
        if self.tables.contains("TARGET_INFO_SESSION_START_TIME") {
            if let Some(sql) = self.prepare(&query::SESSION_START, None, true)? {
                let mut origin = None;
                scan(
                    &self.conn,
                    self.path,
                    &sql,
                    "TARGET_INFO_SESSION_START_TIME",
                    None,
                    |r| {
                        origin = origin.or(r.int(0));
                        Ok(())
                    },
                )?;
                self.trace.source.clock_origin_ns = origin;
            }
        } else {
            self.warn("no TARGET_INFO_SESSION_START_TIME table: the capture's start in UTC is unknown (per-rank captures are then assumed to share a clock)");
        }
        if !self.tables.contains("PROCESSES") {
            self.warn("no PROCESSES table: processes are shown by id");
            return Ok(());
        }
        let Some(sql) = self.prepare(&query::PROCESSES, None, true)? else {
            return Ok(());
        };
        let mut wanted = crate::model::build::distinct(self.trace.kernels.iter().map(|k| k.pid));
        wanted.extend(self.trace.threads.iter().map(|t| t.pid));
        let mut processes = Vec::new();
        scan(&self.conn, self.path, &sql, "PROCESSES", None, |r| {
            if let (Some(pid), Some(name)) = (r.int(0), r.text(1)) {
                if let Ok(pid) = u32::try_from(pid) {
                    if wanted.contains(&pid) && !processes.iter().any(|p: &Process| p.pid == pid) {
                        processes.push(Process { pid, name });
                    }
                }
            }
            Ok(())
        })?;
        self.trace.processes = processes;
        Ok(())
    }

    /// The GPUs, by the CUDA ordinal kernel rows use (see [`Self::gpu_ordinals`]);
    /// every other device the activity names becomes an unknown GPU.
    fn read_devices(&mut self) -> Result<()> {
        let ordinals = self.gpu_ordinals()?;
        let mut described: Vec<Device> = Vec::new();
        if !self.tables.contains("TARGET_INFO_GPU") {
            self.warn("no TARGET_INFO_GPU table: GPU names and compute capability unknown");
        } else if let Some(sql) = self.prepare(&query::GPUS, None, true)? {
            scan(&self.conn, self.path, &sql, "TARGET_INFO_GPU", None, |r| {
                let Some(Some(&id)) = r.int(0).map(|g| ordinals.get(&g)) else {
                    return Ok(());
                };
                let compute_capability = match (r.int(3), r.int(4)) {
                    (Some(a), Some(b)) => u32::try_from(a).ok().zip(u32::try_from(b).ok()),
                    _ => None,
                };
                described.push(Device {
                    id,
                    name: r.text(1).unwrap_or_else(|| "unknown GPU".into()),
                    compute_capability,
                    sm_count: r.int(5).and_then(|n| u32::try_from(n).ok()),
                });
                Ok(())
            })?;
        }
        crate::model::build::fill_devices(&mut self.trace, described);
        Ok(())
    }

    /// The GPU metrics the analyses use (see [`MetricKind`]), chosen by
    /// metric name, never by id. Captures without GPU metrics are the norm
    /// (sampling is opt-in), so absent tables are not a warning.
    fn read_gpu_metrics(&mut self, progress: &Progress) -> Result<()> {
        if !self.tables.contains("GPU_METRICS") || !self.tables.contains("TARGET_INFO_GPU_METRICS") {
            return Ok(());
        }
        let Some(sql) = self.prepare(&query::GPU_METRICS_NAMES, None, true)? else {
            return Ok(());
        };
        let mut wanted: HashMap<(i64, i64), (MetricKind, String)> = HashMap::new();
        let mut listed = 0usize;
        scan(
            &self.conn,
            self.path,
            &sql,
            "TARGET_INFO_GPU_METRICS",
            None,
            |r| {
                listed += 1;
                if let (Some(t), Some(m), Some(name)) = (r.int(0), r.int(1), r.text(2)) {
                    if let Some(kind) = MetricKind::classify(&name) {
                        wanted.insert((t, m), (kind, name));
                    }
                }
                Ok(())
            },
        )?;
        if listed > 0 && !wanted.values().any(|(k, _)| *k == MetricKind::TensorActive) {
            self.warn(
                "GPU metrics were sampled without a Tensor Active metric: \
                 Tensor Core verdicts use kernel names (and --ncu counters)",
            );
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let mut gpu_ordinal = self.gpu_ordinals()?;
        // With a single GPU that is all there is.
        if gpu_ordinal.is_empty() && self.trace.devices.len() == 1 {
            gpu_ordinal.insert(0, self.trace.devices[0].id);
        }
        let Some(sql) = self.prepare(&query::GPU_METRICS, None, true)? else {
            return Ok(());
        };
        let metric_ids: std::collections::BTreeSet<i64> = wanted.keys().map(|k| k.1).collect();
        let mut series: HashMap<(i64, i64), MetricSeries> = HashMap::new();
        let (mut negative, mut unmapped) = (0u64, HashSet::new());
        for id in metric_ids {
            progress.stage("reading GPU_METRICS", None);
            activity::scan_rows(&self.conn, self.path, &sql, &[id], None, |r| {
                let (Some(t), Some(type_id)) = (r.int(0), r.int(1)) else {
                    return Ok(());
                };
                let Some((kind, name)) = wanted.get(&(type_id, id)) else {
                    return Ok(());
                };
                let Some(value) = r.number(2) else {
                    return Ok(());
                };
                if value < 0.0 {
                    negative += 1;
                    return Ok(());
                }
                let s = series.entry((type_id, id)).or_insert_with(|| {
                    let gpu = type_id & 0xFF;
                    let device = match gpu_ordinal.get(&gpu) {
                        Some(&d) => d,
                        None => {
                            unmapped.insert(gpu);
                            gpu as u32
                        }
                    };
                    MetricSeries {
                        device,
                        kind: *kind,
                        name: name.clone(),
                        times: Vec::new(),
                        values: Vec::new(),
                    }
                });
                s.times.push(t);
                s.values.push(value as f32);
                Ok(())
            })?;
        }
        if negative > 0 {
            self.warn(format!(
                "GPU_METRICS: {negative} negative sample value(s) skipped (an nsys export bug)"
            ));
        }
        if !unmapped.is_empty() {
            self.warn(format!(
                "GPU_METRICS: GPU id(s) {unmapped:?} not in TARGET_INFO_GPU: samples attributed to CUDA device of the same number"
            ));
        }
        let mut out: Vec<MetricSeries> = series.into_values().collect();
        out.sort_by(|a, b| (a.device, &a.name).cmp(&(b.device, &b.name)));
        self.trace.gpu_metrics = out;
        Ok(())
    }

    /// GPU ids (`TARGET_INFO_GPU.id`, which GPU metrics use) to the CUDA
    /// ordinals kernel rows use: the GPU table's `cuDevice` when recorded,
    /// else the `TARGET_INFO_CUDA_DEVICE` mapping, else the id itself.
    /// Ids that do not fit are left out.
    fn gpu_ordinals(&mut self) -> Result<HashMap<i64, u32>> {
        let mut cuda_of: HashMap<i64, i64> = HashMap::new();
        if self.tables.contains("TARGET_INFO_CUDA_DEVICE") {
            if let Some(sql) = self.prepare(&query::CUDA_DEVICES, None, true)? {
                scan(
                    &self.conn,
                    self.path,
                    &sql,
                    "TARGET_INFO_CUDA_DEVICE",
                    None,
                    |r| {
                        if let (Some(gpu), Some(cuda)) = (r.int(0), r.int(1)) {
                            cuda_of.entry(gpu).or_insert(cuda);
                        }
                        Ok(())
                    },
                )?;
            }
        }
        let mut map: HashMap<i64, u32> = cuda_of
            .iter()
            .filter_map(|(&gpu, &cuda)| Some((gpu, u32::try_from(cuda).ok()?)))
            .collect();
        if self.tables.contains("TARGET_INFO_GPU") {
            if let Some(sql) = self.prepare(&query::GPUS, None, true)? {
                scan(&self.conn, self.path, &sql, "TARGET_INFO_GPU", None, |r| {
                    let Some(id) = r.int(0) else { return Ok(()) };
                    let cuda = r.int(2).or_else(|| cuda_of.get(&id).copied()).unwrap_or(id);
                    match u32::try_from(cuda) {
                        Ok(ordinal) => map.insert(id, ordinal),
                        Err(_) => map.remove(&id),
                    };
                    Ok(())
                })?;
            }
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_versions() {
        assert_eq!(schema_warning(Some("3.20.3")), None);
        assert_eq!(schema_warning(Some("3.25.0")), None);
        let w = schema_warning(Some("2.5.0")).unwrap();
        assert!(w.starts_with("export schema version 2.5.0 is not 3.x"), "{w}");
        assert!(schema_warning(Some("4")).is_some());
        assert!(schema_warning(Some("x")).is_some());
        assert!(
            schema_warning(None)
                .unwrap()
                .starts_with("export schema version unknown")
        );
    }
}
