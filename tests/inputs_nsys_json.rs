//! The nsys JSON reader on a real export (`nsys export --type json` of the
//! capture whose SQLite export is sample_traces/redundant_copies.sqlite).
//!
//! Oracles: SQL over the SQLite export of the same capture (row counts,
//! sums, enum tables), and the SQLite reader's report, which must agree
//! exactly on attribution, iterations and the kernel/copy tables.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use trace_report::input;
use trace_report::input::nsys_json::enums;
use trace_report::model::{ApiKind, CopyKind, MemKind, RangeKind, Trace};
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

const JSON: &str = "tests/fixtures/nsys_json/redundant_copies.nsys.json.gz";
const SQLITE: &str = "sample_traces/redundant_copies.sqlite";

fn load(path: &str) -> Trace {
    input::load(Path::new(path), &Default::default(), &Progress::hidden()).unwrap()
}

fn db() -> Connection {
    Connection::open_with_flags(SQLITE, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn int(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn detected_by_content() {
    let head = input::read_head(Path::new(JSON)).unwrap();
    let r = input::detect(Path::new(JSON), None).unwrap();
    assert_eq!(r.name(), "nsys-json");
    assert!(head.starts_with(b"{\"data\":["));
}

#[test]
fn rows_match_the_sqlite_export_of_the_same_capture() {
    let t = load(JSON);
    let c = db();
    assert_eq!(
        t.kernels.len() as i64,
        int(&c, "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL")
    );
    assert_eq!(
        t.kernels.iter().map(|k| k.end - k.start).sum::<i64>(),
        int(&c, "SELECT sum(\"end\" - start) FROM CUPTI_ACTIVITY_KIND_KERNEL")
    );
    assert_eq!(
        t.kernels.iter().map(|k| k.start).min().unwrap(),
        int(&c, "SELECT min(start) FROM CUPTI_ACTIVITY_KIND_KERNEL")
    );
    // Names decoded through the string table.
    let mut want: Vec<(String, i64)> = c
        .prepare(
            "SELECT s.value, count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.demangledName GROUP BY 1 ORDER BY 1",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    want.sort();
    let mut got: std::collections::BTreeMap<String, i64> = Default::default();
    for k in &t.kernels {
        *got.entry(t.name(k.name).to_string()).or_default() += 1;
    }
    assert_eq!(got.into_iter().collect::<Vec<_>>(), want);

    // Copies per direction and pageable ones, decoded with the enum tables.
    for (kind, sql_kind) in [
        (CopyKind::HtoD, "CUDA_MEMCPY_KIND_HTOD"),
        (CopyKind::DtoH, "CUDA_MEMCPY_KIND_DTOH"),
        (CopyKind::DtoD, "CUDA_MEMCPY_KIND_DTOD"),
    ] {
        let sql = format!(
            "SELECT count(*), coalesce(sum(bytes), 0) FROM CUPTI_ACTIVITY_KIND_MEMCPY m JOIN ENUM_CUDA_MEMCPY_OPER e ON e.id = m.copyKind WHERE e.name = '{sql_kind}'"
        );
        let (n, bytes): (i64, i64) = c.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        let mine: Vec<_> = t.memcpys.iter().filter(|m| m.kind == kind).collect();
        assert_eq!(mine.len() as i64, n, "{sql_kind}");
        assert_eq!(
            mine.iter().map(|m| m.bytes).sum::<u64>() as i64,
            bytes,
            "{sql_kind}"
        );
    }
    let pageable = int(
        &c,
        "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_MEMCPY m JOIN ENUM_CUDA_MEM_KIND e ON e.id = m.srcKind WHERE e.name = 'CUDA_MEMOPR_MEMORY_KIND_PAGEABLE'",
    );
    assert_eq!(
        t.memcpys.iter().filter(|m| m.src == MemKind::Pageable).count() as i64,
        pageable
    );
    assert_eq!(
        t.memcpys.len() as i64,
        int(&c, "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_MEMCPY")
    );
    assert_eq!(
        t.memsets.len() as i64,
        int(&c, "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_MEMSET")
    );

    // Every runtime/driver row is read (kept or counted), launches by name.
    assert_eq!(
        t.api_calls.len() as i64 + t.other_api_calls as i64,
        int(&c, "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME")
    );
    let launches = int(
        &c,
        "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds s ON s.id = r.nameId WHERE s.value LIKE 'cudaLaunchKernel%' OR s.value LIKE 'cuLaunchKernel%'",
    );
    assert_eq!(
        t.api_calls.iter().filter(|a| a.kind == ApiKind::Launch).count() as i64,
        launches
    );

    // NVTX push/pop ranges with their names and threads.
    assert_eq!(
        t.ranges.len() as i64,
        int(
            &c,
            "SELECT count(*) FROM NVTX_EVENTS WHERE eventType = 59 AND \"end\" IS NOT NULL"
        )
    );
    assert!(t.ranges.iter().all(|r| r.kind == RangeKind::PushPop));
    assert_eq!(
        t.ranges.iter().filter(|r| t.name(r.name) == "iter").count() as i64,
        int(&c, "SELECT count(*) FROM NVTX_EVENTS WHERE text = 'iter'")
    );
    // Thread names from the last line.
    let named = t.threads.iter().find(|th| th.name.is_some()).unwrap();
    let want: String = c
        .query_row(
            "SELECT s.value FROM ThreadNames t JOIN StringIds s ON s.id = t.nameId WHERE t.globalTid % 16777216 = ?1",
            [named.tid as i64],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(named.name.as_deref(), Some(want.as_str()));
}

#[test]
fn enum_ids_are_those_of_the_sqlite_export() {
    let c = db();
    for (table, names) in [
        ("ENUM_CUDA_MEMCPY_OPER", &enums::MEMCPY_OPER[..]),
        ("ENUM_CUDA_MEM_KIND", &enums::MEM_KIND[..]),
        ("ENUM_CUPTI_SYNC_TYPE", &enums::SYNC_TYPE[..]),
    ] {
        for (id, name) in names.iter().enumerate() {
            let got: String = c
                .query_row(
                    &format!("SELECT name FROM {table} WHERE id = ?1"),
                    [id as i64],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(&got, name, "{table} {id}");
        }
    }
    for id in enums::EVENT_CLASS_CUDA_API {
        let name: String = c
            .query_row(
                "SELECT name FROM ENUM_NSYS_EVENT_CLASS WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert!(name.starts_with("TRACE_PROCESS_EVENT_CUDA_"), "{name}");
    }
    for (id, want) in [
        (enums::NVTX_PUSH_POP_RANGE, "NvtxPushPopRange"),
        (enums::NVTX_START_END_RANGE, "NvtxStartEndRange"),
    ] {
        let name: String = c
            .query_row("SELECT name FROM ENUM_NSYS_EVENT_TYPE WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(name, want);
    }
}

#[test]
fn same_attribution_as_the_sqlite_export() {
    let opts = AnalysisOptions::default();
    let a = pipeline::analyze(&load(SQLITE), &opts).unwrap();
    let b = pipeline::analyze(&load(JSON), &opts).unwrap();
    assert_eq!(a.window.iterations, 12);
    assert_eq!(b.window.scope, a.window.scope);
    assert_eq!(b.window.iteration_range, a.window.iteration_range);
    assert_eq!(
        (b.window.start_ns, b.window.end_ns),
        (a.window.start_ns, a.window.end_ns)
    );
    assert_eq!(b.attribution.window, a.attribution.window);
    assert_eq!(b.iteration_time, a.iteration_time);
    assert_eq!(b.iterations, a.iterations);
    assert_eq!(b.kernels, a.kernels);
    assert_eq!(b.memcpy, a.memcpy);
    assert_eq!(b.memset, a.memset);
    assert_eq!(b.findings, a.findings);
    // Per-GPU activity too; only the GPU's name is missing from the JSON export.
    assert_eq!(b.attribution.devices.len(), a.attribution.devices.len());
    for (x, y) in b.attribution.devices.iter().zip(&a.attribution.devices) {
        assert_eq!(
            (x.id, x.kernel_ns, x.memcpy_ns, x.memset_ns, x.gpu_idle_ns),
            (y.id, y.kernel_ns, y.memcpy_ns, y.memset_ns, y.gpu_idle_ns)
        );
    }
}
