//! Independent oracles: hand-written SQL over the same nsys export the
//! code under test reads. Nothing here calls the crate's analysis code.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_traces")
        .join(name)
}

pub fn open(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open sample read-only")
}

pub fn has_table(conn: &Connection, table: &str) -> bool {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        > 0
}

/// NVTX range name: inline text or registered string.
pub const NVTX_NAME: &str = "coalesce(n.text, (SELECT value FROM StringIds WHERE id = n.textId))";

/// The iteration ranges `iter` as rows (s, e, tid).
pub fn iter_sql() -> String {
    format!(
        "SELECT n.start AS s, n.end AS e, n.globalTid AS tid, n.rowid AS rid FROM NVTX_EVENTS n \
         WHERE {NVTX_NAME} = 'iter' AND n.end IS NOT NULL"
    )
}

/// Named sets of host/GPU intervals, each a SELECT of (s, e).
pub fn set_sql(conn: &Connection, set: &str) -> String {
    let empty = "SELECT 0 AS s, 0 AS e WHERE 0".to_string();
    match set {
        "kernel" => "SELECT start AS s, end AS e FROM CUPTI_ACTIVITY_KIND_KERNEL".into(),
        "memcpy" if has_table(conn, "CUPTI_ACTIVITY_KIND_MEMCPY") => {
            "SELECT start AS s, end AS e FROM CUPTI_ACTIVITY_KIND_MEMCPY".into()
        }
        // CUDA graph launches nsys recorded whole (--cuda-graph-trace=graph).
        "graph" if has_table(conn, "CUPTI_ACTIVITY_KIND_GRAPH_TRACE") => {
            "SELECT start AS s, end AS e FROM CUPTI_ACTIVITY_KIND_GRAPH_TRACE".into()
        }
        "memset" if has_table(conn, "CUPTI_ACTIVITY_KIND_MEMSET") => {
            "SELECT start AS s, end AS e FROM CUPTI_ACTIVITY_KIND_MEMSET".into()
        }
        // Host-blocking calls: synchronize calls, blocking copy/memset calls,
        // async copies touching pageable memory, and calls the
        // SYNCHRONIZATION table records as host waits.
        "sync" => {
            let mut parts = vec![
                "SELECT r.start AS s, r.end AS e FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds f ON f.id = r.nameId \
                 WHERE f.value LIKE '%Synchronize%' \
                    OR ((f.value LIKE 'cudaMemcpy%' OR f.value LIKE 'cuMemcpy%' OR f.value LIKE 'cudaMemset%' OR f.value LIKE 'cuMemset%') \
                        AND f.value NOT LIKE '%Async%')"
                    .to_string(),
            ];
            if has_table(conn, "CUPTI_ACTIVITY_KIND_MEMCPY") {
                parts.push(
                    "SELECT r.start, r.end FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds f ON f.id = r.nameId \
                     JOIN CUPTI_ACTIVITY_KIND_MEMCPY m ON m.correlationId = r.correlationId \
                     WHERE f.value LIKE '%Memcpy%Async%' AND (\
                        m.srcKind IN (SELECT id FROM ENUM_CUDA_MEM_KIND WHERE name LIKE '%PAGEABLE') OR \
                        m.dstKind IN (SELECT id FROM ENUM_CUDA_MEM_KIND WHERE name LIKE '%PAGEABLE'))"
                        .into(),
                );
            }
            if has_table(conn, "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION") {
                parts.push(
                    "SELECT r.start, r.end FROM CUPTI_ACTIVITY_KIND_RUNTIME r \
                     WHERE r.correlationId IN (SELECT y.correlationId FROM CUPTI_ACTIVITY_KIND_SYNCHRONIZATION y \
                        JOIN ENUM_CUPTI_SYNC_TYPE t ON t.id = y.syncType \
                        WHERE t.name LIKE '%SYNCHRONIZE%' AND t.name NOT LIKE '%WAIT%')"
                        .into(),
                );
            }
            parts.join(" UNION ALL ")
        }
        "launch" => "SELECT r.start AS s, r.end AS e FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds f ON f.id = r.nameId \
             WHERE f.value LIKE 'cudaLaunch%' OR f.value LIKE 'cuLaunch%' OR f.value LIKE '%GraphLaunch%'"
            .into(),
        // The iterations' host ranges (time outside them is the GPU tail).
        "host" => format!("SELECT s, e FROM ({})", iter_sql()),
        // Phases: ranges nested in an `iter` range on its thread, by the
        // names the sample workloads use.
        "pre" | "post" | "infer" => {
            let cond = match set {
                "pre" => format!("{NVTX_NAME} = 'preprocess'"),
                "post" => format!("{NVTX_NAME} = 'postprocess'"),
                _ => format!("{NVTX_NAME} NOT IN ('preprocess', 'postprocess', 'iter')"),
            };
            format!(
                "SELECT n.start AS s, n.end AS e FROM NVTX_EVENTS n JOIN ({}) it \
                 ON n.globalTid = it.tid AND n.start >= it.s AND n.end <= it.e AND n.rowid <> it.rid \
                 WHERE n.end IS NOT NULL AND {cond}",
                iter_sql()
            )
        }
        _ => empty,
    }
}

/// |W ∩ (union of the named sets)|, where W is the union of `window`
/// (a SELECT of disjoint (s, e) rows), computed entirely in SQL: clip each
/// interval to each window range, then merge with the running-max
/// gaps-and-islands method.
pub fn union_len(conn: &Connection, window: &str, sets: &[&str]) -> i64 {
    if sets.is_empty() {
        return 0;
    }
    let x: Vec<String> = sets.iter().map(|s| set_sql(conn, s)).collect();
    let sql = format!(
        "WITH w AS ({window}),
         x AS ({}),
         c AS (SELECT max(x.s, w.s) AS s, min(x.e, w.e) AS e FROM x JOIN w ON x.s < w.e AND x.e > w.s),
         o AS (SELECT s, e, max(e) OVER (ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS pm FROM c),
         g AS (SELECT s, e, sum(CASE WHEN pm IS NULL OR s > pm THEN 1 ELSE 0 END) OVER (ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS grp FROM o)
         SELECT coalesce(sum(e2 - s2), 0) FROM (SELECT min(s) AS s2, max(e) AS e2 FROM g GROUP BY grp)",
        x.join(" UNION ALL ")
    );
    conn.query_row(&sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
}

/// GPU work (kernels, copies, memsets) as rows (s, e, pid, c): its GPU
/// span, process and correlation id.
pub fn gpu_ops_sql(conn: &Connection) -> String {
    let mut parts = vec!["SELECT start AS s, end AS e, globalPid >> 24 AS pid, correlationId AS c FROM CUPTI_ACTIVITY_KIND_KERNEL".to_string()];
    for t in ["CUPTI_ACTIVITY_KIND_MEMCPY", "CUPTI_ACTIVITY_KIND_MEMSET"] {
        if has_table(conn, t) {
            parts.push(format!(
                "SELECT start, end, globalPid >> 24, correlationId FROM {t}"
            ));
        }
    }
    parts.join(" UNION ALL ")
}

/// Each `iter` range projected onto the GPU as rows (s, e): from its start
/// to the later of its end and the end of the last GPU work whose runtime
/// call (same process, same correlation id) started inside it.
pub fn extents_sql(conn: &Connection) -> String {
    format!(
        "SELECT it.s AS s, max(it.e, coalesce((SELECT max(g.e) FROM ({ops}) g JOIN CUPTI_ACTIVITY_KIND_RUNTIME r \
           ON r.correlationId = g.c AND (r.globalTid >> 24) = g.pid WHERE r.start >= it.s AND r.start < it.e), it.e)) AS e \
         FROM ({iters}) it",
        ops = gpu_ops_sql(conn),
        iters = iter_sql()
    )
}

/// The window as SQL rows: the union of the iterations' extents, merged
/// into disjoint rows (gaps-and-islands), computed once and given as
/// literal rows. In a synchronous loop these are the `iter` ranges.
pub fn window_sql_of(conn: &Connection) -> String {
    let sql = format!(
        "SELECT min(s), max(e) FROM (\
           SELECT s, e, sum(CASE WHEN pm IS NULL OR s > pm THEN 1 ELSE 0 END) OVER (ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS grp FROM (\
             SELECT s, e, max(e) OVER (ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS pm FROM ({})))\
         GROUP BY grp ORDER BY 1",
        extents_sql(conn)
    );
    let mut q = conn.prepare(&sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    let rows: Vec<String> = q
        .query_map([], |r| {
            Ok(format!("({}, {})", r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    if rows.is_empty() {
        return "SELECT 0 AS s, 0 AS e WHERE 0".into();
    }
    format!(
        "SELECT column1 AS s, column2 AS e FROM (VALUES {})",
        rows.join(", ")
    )
}

/// The window as SQL rows when the iterations are synchronous: the iter
/// ranges (disjoint in the samples).
pub fn window_sql() -> String {
    format!("SELECT s, e FROM ({})", iter_sql())
}
