//! The SQL of `queries/*.sql` and the small contract each file states in its
//! header:
//!
//! ```text
//! -- table: CUPTI_ACTIVITY_KIND_KERNEL
//! -- required: start, end, deviceId, demangledName
//! -- optional: streamId, correlationId, shortName
//! SELECT start, end, {{deviceId}}, ... FROM CUPTI_ACTIVITY_KIND_KERNEL
//! ```
//!
//! `{{col}}` stands for a column; it becomes the column (quoted) when the
//! table has it, and `NULL` when an optional column is missing, so exports of
//! other schema versions still load and the caller can warn about what is
//! absent. A missing required column makes the query unusable.

use std::collections::HashSet;

use rusqlite::Connection;

/// One query file.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    pub file: &'static str,
    pub text: &'static str,
}

macro_rules! query {
    ($name:literal) => {
        Query {
            file: concat!("queries/", $name),
            text: include_str!(concat!("../../../queries/", $name)),
        }
    };
}

pub const KERNELS: Query = query!("kernels.sql");
pub const MEMCPY: Query = query!("memcpy.sql");
pub const MEMSET: Query = query!("memset.sql");
pub const GRAPH_TRACE: Query = query!("graph_trace.sql");
pub const RUNTIME: Query = query!("runtime.sql");
pub const RUNTIME_NAMES: Query = query!("runtime_names.sql");
pub const SYNC: Query = query!("sync.sql");
pub const NVTX: Query = query!("nvtx.sql");
pub const STRINGS: Query = query!("strings.sql");
pub const META: Query = query!("meta.sql");
pub const META_OLD: Query = query!("meta_old.sql");
pub const GPUS: Query = query!("gpus.sql");
pub const CUDA_DEVICES: Query = query!("cuda_devices.sql");
pub const THREADS: Query = query!("threads.sql");
pub const SESSION_START: Query = query!("session_start.sql");
pub const PROCESSES: Query = query!("processes.sql");
pub const ENUM: Query = query!("enum.sql");
pub const GPU_METRICS_NAMES: Query = query!("gpu_metrics_names.sql");
pub const GPU_METRICS: Query = query!("gpu_metrics.sql");
pub const CPU_SAMPLES: Query = query!("cpu_samples.sql");
pub const CPU_CALLCHAINS: Query = query!("cpu_callchains.sql");
pub const OSRT: Query = query!("osrt.sql");
pub const DIAGNOSTICS: Query = query!("diagnostics.sql");

/// Every query file (a test checks it against `queries/`).
pub const ALL: &[Query] = &[
    KERNELS,
    MEMCPY,
    MEMSET,
    GRAPH_TRACE,
    RUNTIME,
    RUNTIME_NAMES,
    SYNC,
    NVTX,
    STRINGS,
    META,
    META_OLD,
    GPUS,
    CUDA_DEVICES,
    THREADS,
    SESSION_START,
    PROCESSES,
    ENUM,
    GPU_METRICS_NAMES,
    GPU_METRICS,
    CPU_SAMPLES,
    CPU_CALLCHAINS,
    OSRT,
    DIAGNOSTICS,
];

/// The enum tables the reader decodes through [`ENUM`] (its `{{table}}`).
pub const ENUM_MEMCPY_OPER: &str = "ENUM_CUDA_MEMCPY_OPER";
pub const ENUM_MEM_KIND: &str = "ENUM_CUDA_MEM_KIND";
pub const ENUM_EVENT_TYPE: &str = "ENUM_NSYS_EVENT_TYPE";
pub const ENUM_SYNC_TYPE: &str = "ENUM_CUPTI_SYNC_TYPE";
pub const ENUM_TABLES: &[&str] = &[ENUM_MEMCPY_OPER, ENUM_MEM_KIND, ENUM_EVENT_TYPE, ENUM_SYNC_TYPE];

/// Every table the reader may read: the `-- table:` headers of [`ALL`],
/// the enum tables in place of [`ENUM`]'s `{{table}}`; each once, in
/// query order.
pub fn tables() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for q in ALL {
        for t in q.header_values("table") {
            let names = if t == "{{table}}" {
                ENUM_TABLES
            } else {
                std::slice::from_ref(&t)
            };
            for &n in names {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
    }
    out
}

/// What a query needs to run against one database.
#[derive(Debug)]
pub enum Prepared {
    /// Ready to run; `missing` names optional columns replaced by NULL.
    Ready { sql: String, missing: Vec<String> },
    /// The table is not in the file.
    NoTable { table: String },
    /// The table lacks required columns.
    MissingColumns { table: String, columns: Vec<String> },
}

impl Query {
    /// The comma-separated values of the header lines `-- key: ...`.
    pub fn header_values(&self, key: &str) -> Vec<&'static str> {
        let prefix = format!("-- {key}:");
        let text: &'static str = self.text;
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .flat_map(|rest| rest.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn header(&self, key: &str) -> Vec<String> {
        self.header_values(key).into_iter().map(String::from).collect()
    }

    /// The table this query reads; `table_arg` fills a `{{table}}` header.
    pub fn table(&self, table_arg: Option<&str>) -> String {
        let t = self.header("table").into_iter().next().unwrap_or_default();
        match (t.as_str(), table_arg) {
            ("{{table}}", Some(arg)) => arg.to_string(),
            _ => t,
        }
    }

    /// Resolve placeholders against the columns `conn` has.
    pub fn prepare(&self, conn: &Connection, table_arg: Option<&str>) -> rusqlite::Result<Prepared> {
        let table = self.table(table_arg);
        let columns = table_columns(conn, &table)?;
        if columns.is_empty() {
            return Ok(Prepared::NoTable { table });
        }
        let required = self.header("required");
        let optional = self.header("optional");
        let absent: Vec<String> = required
            .iter()
            .filter(|c| !columns.contains(c.as_str()))
            .cloned()
            .collect();
        if !absent.is_empty() {
            return Ok(Prepared::MissingColumns {
                table,
                columns: absent,
            });
        }
        let mut sql = String::new();
        let mut missing = Vec::new();
        for line in self.text.lines().filter(|l| !l.trim_start().starts_with("--")) {
            sql.push_str(line);
            sql.push('\n');
        }
        sql = sql.replace("{{table}}", &quote(&table));
        for col in required.iter().chain(optional.iter()) {
            let placeholder = format!("{{{{{col}}}}}");
            if !sql.contains(&placeholder) {
                continue;
            }
            if columns.contains(col.as_str()) {
                sql = sql.replace(&placeholder, &quote(col));
            } else {
                sql = sql.replace(&placeholder, "NULL");
                missing.push(col.clone());
            }
        }
        Ok(Prepared::Ready { sql, missing })
    }
}

/// Column names of `table`, empty when the table does not exist.
pub fn table_columns(conn: &Connection, table: &str) -> rusqlite::Result<HashSet<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt.query_map([table], |r| r.get::<_, String>(0))?;
    names.collect()
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_file_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| format!("queries/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        files.sort();
        let mut listed: Vec<String> = ALL.iter().map(|q| q.file.to_string()).collect();
        listed.sort();
        assert_eq!(listed, files);
    }

    #[test]
    fn tables_come_from_the_headers() {
        let t = tables();
        assert_eq!(t[0], "CUPTI_ACTIVITY_KIND_KERNEL");
        for want in ["StringIds", "OSRT_API", "EXPORT_META_DATA", ENUM_SYNC_TYPE] {
            assert!(t.contains(&want), "{want} missing from {t:?}");
        }
        assert!(!t.iter().any(|n| n.contains("{{")));
        let mut once = t.clone();
        once.sort();
        once.dedup();
        assert_eq!(once.len(), t.len());
        // Each query's table, once each: the enum query stands for four.
        assert_eq!(t.len(), ALL.len() - 1 - 1 + ENUM_TABLES.len());
    }

    #[test]
    fn every_query_file_has_a_header() {
        for &q in ALL {
            assert!(!q.table(Some("X")).is_empty(), "{} names no table", q.file);
            assert!(!q.header("required").is_empty(), "{} requires nothing", q.file);
            assert!(q.text.contains("-- nsys:"), "{} says no nsys version", q.file);
        }
    }

    #[test]
    fn optional_columns_become_null() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INT, end INT, deviceId INT, demangledName INT);",
        )
        .unwrap();
        match KERNELS.prepare(&conn, None).unwrap() {
            Prepared::Ready { sql, missing } => {
                assert_eq!(missing, ["streamId", "correlationId", "shortName", "globalPid"]);
                assert!(
                    sql.contains("\"deviceId\", NULL, NULL, \"demangledName\", NULL"),
                    "{sql}"
                );
                conn.prepare(&sql).unwrap();
            }
            other => panic!("{other:?}"),
        }
        conn.execute_batch("CREATE TABLE NVTX_EVENTS (start INT);")
            .unwrap();
        assert!(matches!(
            NVTX.prepare(&conn, None).unwrap(),
            Prepared::MissingColumns { columns, .. } if columns == ["eventType"]
        ));
        assert!(matches!(
            MEMCPY.prepare(&conn, None).unwrap(),
            Prepared::NoTable { .. }
        ));
    }
}
