//! Which ranges are the iterations, and how far each reaches on the GPU:
//! one regression test per bug seen on traces from the wild.
//!
//! - Library ranges became the iterations: XLA's per-thunk ranges (NVTX
//!   domain `TSL`), NCCL's and MPI's ranges, PyTorch's own optimizer
//!   ranges outnumbered the user's step ranges and were chosen.
//! - Ranges that launch (almost) no GPU work became the iterations, and a
//!   window holding no GPU work passed without a word.
//! - In an asynchronous loop the GPU work of an iteration runs after its
//!   host range, and was counted only when it happened to start inside.
//!
//! The synthetic traces are built here (nsys SQLite with rusqlite, Kineto
//! JSON with serde_json); expected values are written from the way they
//! are built. The asynchronous-loop captures are real (H200) and checked
//! against hand-written SQL / JSON oracles over correlation ids.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use rusqlite::Connection;
use serde_json::{Value, json};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trace-report-itwild-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run the binary on `trace` with `args`; returns report.json.
fn report(trace: &Path, out: &Path, args: &[&str]) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .arg(trace)
        .args(["-o", out.to_str().unwrap(), "--format", "json", "-q"])
        .args(args)
        .output()
        .expect("run trace-report");
    assert!(
        o.status.success(),
        "{}: {}",
        trace.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

const MS: i64 = 1_000_000;
const US: i64 = 1_000;
const PID: i64 = 100;

fn tid(t: i64) -> i64 {
    (PID << 24) | t
}

/// A minimal nsys export: one process, a main thread (1) and a library
/// thread (2). Warm-up: one 10 ms autotuning kernel launched before the
/// loop. Then four 1 ms steps; in each, three XLA thunk ranges (domain
/// TSL, on thread 2) each launch one 150 us GEMM. Between steps the main
/// thread has a `load_batch` range that launches one 5 us copy kernel.
/// `steps`: whether the user marked the steps (default domain).
fn xla_like(path: &Path, steps: bool, idle_ranges: bool) {
    let c = Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT);
         CREATE TABLE ENUM_NSYS_EVENT_TYPE (id INTEGER, name TEXT);
         CREATE TABLE NVTX_EVENTS (start INTEGER, end INTEGER, eventType INTEGER, text TEXT, globalTid INTEGER, textId INTEGER, domainId INTEGER);
         CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER, end INTEGER, deviceId INTEGER, streamId INTEGER, correlationId INTEGER, demangledName INTEGER, shortName INTEGER, globalPid INTEGER);
         CREATE TABLE CUPTI_ACTIVITY_KIND_RUNTIME (start INTEGER, end INTEGER, nameId INTEGER, globalTid INTEGER, correlationId INTEGER);
         INSERT INTO StringIds VALUES (1, 'cudaLaunchKernel_v7000'), (2, 'gemm_fusion_dot'), (3, 'RedzoneAllocatorKernel'), (4, 'copy_kernel');
         INSERT INTO ENUM_NSYS_EVENT_TYPE VALUES (59, 'NvtxPushPopRange'), (75, 'NvtxDomainCreate');",
    )
    .unwrap();
    let nvtx = |s: i64, e: Option<i64>, ty: i64, text: &str, t: i64, domain: i64| {
        c.execute(
            "INSERT INTO NVTX_EVENTS VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6)",
            rusqlite::params![s, e, ty, text, tid(t), domain],
        )
        .unwrap();
    };
    let mut corr = 0;
    let mut launch = |at: i64, t: i64, gpu: i64, dur: i64, name: i64| {
        corr += 1;
        c.execute(
            "INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME VALUES (?1, ?2, 1, ?3, ?4)",
            rusqlite::params![at, at + 5 * US, tid(t), corr],
        )
        .unwrap();
        c.execute(
            "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (?1, ?2, 0, 7, ?3, ?4, ?4, ?5)",
            rusqlite::params![gpu, gpu + dur, corr, name, PID << 24],
        )
        .unwrap();
    };
    nvtx(0, None, 75, "TSL", 2, 1);
    launch(MS, 1, 2 * MS, 10 * MS, 3);
    for i in 0..4 {
        let s = 20 * MS + i * 2 * MS;
        if steps {
            nvtx(s, Some(s + MS), 59, "step", 1, 0);
        }
        nvtx(s - 500 * US, Some(s - 100 * US), 59, "load_batch", 1, 0);
        launch(s - 400 * US, 1, s - 300 * US, 5 * US, 4);
        for j in 0..3 {
            let t = s + 100 * US * (j + 1);
            nvtx(t, Some(t + 50 * US), 59, "Thunk:#hlo_op=gemm_fusion_dot#", 2, 1);
            launch(t + 10 * US, 2, s + 200 * US + j * 200 * US, 150 * US, 2);
        }
    }
    if idle_ranges {
        for i in 0..3 {
            let s = 40 * MS + i * MS;
            nvtx(s, Some(s + 500 * US), 59, "wait_input", 1, 0);
        }
    }
}

#[test]
fn library_domain_ranges_never_become_the_iterations() {
    let dir = scratch("tsl");
    let trace = dir.join("xla_like.sqlite");
    xla_like(&trace, true, false);
    let r = report(&trace, &dir.join("out"), &[]);
    let w = &r["window"];
    // 12 TSL thunk ranges outnumber the 4 steps and the 4 load_batch
    // ranges: the steps win, as the application's ranges that launch the
    // most GPU work (12 x 150 us of 11.82 ms in all, 100% of what was
    // launched while they ran: the warm-up kernel and the copies outside).
    assert_eq!(w["iteration_range"], "step", "{w}");
    assert_eq!(w["iterations"], 4);
    let share = w["gpu_work_share"].as_f64().unwrap();
    let expected = (12.0 * 150.0) / (10_000.0 + 12.0 * 150.0 + 4.0 * 5.0);
    assert!((share - expected).abs() < 1e-9, "{share} vs {expected}");
    let reason = w["reason"].as_str().unwrap();
    assert!(reason.contains("(domain TSL)"), "{reason}");
    // Each step is its host range (its GEMMs end 750 us in): 4 x 1 ms.
    assert_eq!(w["duration_ns"], 4 * MS);
    let kernels: u64 = r["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["count"].as_u64().unwrap())
        .sum();
    assert_eq!(kernels, 12);
}

#[test]
fn only_library_ranges_gives_the_gpu_span_and_says_why() {
    let dir = scratch("tslonly");
    let trace = dir.join("xla_noranges.sqlite");
    xla_like(&trace, false, false);
    let r = report(&trace, &dir.join("out"), &[]);
    let w = &r["window"];
    assert_eq!(w["scope"], "gpu-span", "{w}");
    assert!(w["iteration_range"].is_null());
    // From the warm-up kernel's start (2 ms) to the last GEMM's end
    // (step 3 at 26 ms + 600 us + 150 us).
    assert_eq!(w["start_ns"], 2 * MS);
    assert_eq!(w["end_ns"], 26 * MS + 750 * US);
    let reason = w["reason"].as_str().unwrap();
    // The application's load_batch ranges launch 4 x 5 us of the 1.37 ms
    // issued between the first one's start and the last one's end (their
    // copies and the GEMMs of steps 0 to 2): 1.5%.
    assert!(
        reason.contains("'load_batch' (4 times) launches 1% of the GPU work"),
        "{reason}"
    );
    assert!(
        reason.contains("'Thunk:#hlo_op=gemm_fusion_dot#' (domain TSL)"),
        "{reason}"
    );
}

#[test]
fn ranges_that_launch_nothing_are_never_the_iterations() {
    let dir = scratch("idle");
    let trace = dir.join("idle.sqlite");
    xla_like(&trace, false, true);
    let r = report(&trace, &dir.join("out"), &[]);
    // wait_input (3 times, launches nothing) and load_batch (4 times,
    // <1%) are both turned down: the GPU span.
    assert_eq!(r["window"]["scope"], "gpu-span");
    let reason = r["window"]["reason"].as_str().unwrap();
    assert!(reason.contains("'wait_input' (3 times) launches 0%"), "{reason}");
    assert!(
        r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| !w.as_str().unwrap().contains("launch no GPU work"))
    );

    // Named by the user, they are used, with a warning that they hold no
    // GPU work.
    let r = report(&trace, &dir.join("named"), &["--iteration", "wait_input"]);
    assert_eq!(r["window"]["iteration_range"], "wait_input");
    assert_eq!(r["window"]["duration_ns"], 3 * 500 * US);
    let warned = r["warnings"].as_array().unwrap().iter().any(|w| {
        w.as_str()
            .unwrap()
            .contains("'wait_input' iterations launch no GPU work")
    });
    assert!(warned, "{}", r["warnings"]);
    // A library domain's ranges can be named too.
    let r = report(
        &trace,
        &dir.join("thunks"),
        &["--iteration", "Thunk:#hlo_op=gemm_fusion_dot#"],
    );
    assert_eq!(r["window"]["iterations"], 12);
}

#[test]
fn pytorch_internal_record_functions_are_not_iterations() {
    // A Kineto trace without step markers whose only repeated ranges are
    // PyTorch's own optimizer and collective ranges (top level, each
    // launching kernels): formerly the optimizer step became the iteration.
    let dir = scratch("kineto");
    let mut events = Vec::new();
    let mut corr = 0;
    for step in 0..5i64 {
        let t0 = 10_000 * step;
        for (name, at) in [("Optimizer.step#SGD.step", 0), ("nccl:all_reduce", 3000)] {
            events.push(json!({"ph": "X", "cat": "user_annotation", "name": name,
                "pid": 1, "tid": 1, "ts": t0 + at, "dur": 1000}));
            corr += 1;
            events.push(
                json!({"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel",
                "pid": 1, "tid": 1, "ts": t0 + at + 10, "dur": 5, "args": {"correlation": corr}}),
            );
            events.push(
                json!({"ph": "X", "cat": "kernel", "name": "multi_tensor_apply_kernel", "pid": 0, "tid": 7,
                "ts": t0 + at + 20, "dur": 500, "args": {"device": 0, "stream": 7, "correlation": corr}}),
            );
        }
    }
    let trace = dir.join("optimizer.json");
    std::fs::write(
        &trace,
        serde_json::to_vec(&json!({"traceEvents": events})).unwrap(),
    )
    .unwrap();
    let r = report(&trace, &dir.join("out"), &[]);
    let w = &r["window"];
    assert_eq!(w["scope"], "gpu-span", "{w}");
    let reason = w["reason"].as_str().unwrap();
    assert!(
        reason.contains("'Optimizer.step#SGD.step' (domain PyTorch)"),
        "{reason}"
    );
}

/// Kernels, copies and memsets with the start of the runtime call that
/// launched them (same process, same correlation id), in SQL.
const LAUNCHED: &str = "
    WITH ops AS (
        SELECT start, end, correlationId AS c, globalPid >> 24 AS pid FROM CUPTI_ACTIVITY_KIND_KERNEL
        UNION ALL SELECT start, end, correlationId, globalPid >> 24 FROM CUPTI_ACTIVITY_KIND_MEMSET
        UNION ALL SELECT start, end, correlationId, globalPid >> 24 FROM CUPTI_ACTIVITY_KIND_MEMCPY)
    SELECT ops.start, ops.end, r.start FROM ops JOIN CUPTI_ACTIVITY_KIND_RUNTIME r
        ON r.correlationId = ops.c AND (r.globalTid >> 24) = ops.pid";

#[test]
fn async_loop_iterations_reach_the_end_of_their_gpu_work() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/async_loop_h200.sqlite");
    let conn = common::open(&fixture);
    // The oracle: each `step` range ends at the later of its own end and
    // the end of the last GPU work launched from inside it.
    let mut q = conn
        .prepare(&format!(
            "WITH l(gs, ge, hs) AS ({LAUNCHED}),
             st AS (SELECT start AS s, end AS e FROM NVTX_EVENTS WHERE text = 'step' AND eventType = 59)
             SELECT st.s, max(st.e, coalesce((SELECT max(l.ge) FROM l WHERE l.hs >= st.s AND l.hs < st.e), st.e))
             FROM st ORDER BY st.s"
        ))
        .unwrap();
    let extents: Vec<(i64, i64)> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(extents.len(), 24);
    let behind = extents
        .iter()
        .zip(host_ends(&conn))
        .filter(|((_, e), h)| e > h)
        .count();
    assert_eq!(behind, 24, "every step's GEMMs finish after its host range");

    let dir = scratch("async");
    let r = report(&fixture, &dir.join("out"), &[]);
    let its = r["iterations"].as_array().unwrap();
    let got: Vec<(i64, i64)> = its
        .iter()
        .map(|i| {
            let s = i["start_ns"].as_i64().unwrap();
            (s, s + i["duration_ns"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(got, extents);
    // The window is the union of the extents; the attribution sums to it
    // exactly, and the time outside every host range is the GPU tail.
    let union = format!(
        "SELECT column1 AS s, column2 AS e FROM (VALUES {})",
        extents
            .iter()
            .map(|(s, e)| format!("({s}, {e})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let window_ns = merged_len(&conn, &union);
    let a = &r["attribution"];
    assert_eq!(r["window"]["duration_ns"], window_ns);
    assert_eq!(a["total_ns"], window_ns);
    let phases: i64 = [
        "preprocess_ns",
        "inference_ns",
        "postprocess_ns",
        "unannotated_ns",
        "gpu_tail_ns",
    ]
    .iter()
    .map(|k| a["phase"][k].as_i64().unwrap())
    .sum();
    assert_eq!(phases, window_ns);
    let host_ns = merged_len(
        &conn,
        "SELECT start AS s, end AS e FROM NVTX_EVENTS WHERE text = 'step' AND eventType = 59",
    );
    assert_eq!(a["phase"]["gpu_tail_ns"], window_ns - host_ns);
    // Every kernel the steps launched is in the kernel table (432 = 24 x 18),
    // and so is any other kernel starting in the window.
    let in_window: i64 = conn
        .query_row(
            &format!(
                "WITH w(s, e) AS ({union}) SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k \
                 WHERE EXISTS (SELECT 1 FROM w WHERE k.start >= w.s AND k.start < w.e)"
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    let kernels: i64 = r["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["count"].as_i64().unwrap())
        .sum();
    assert_eq!(kernels, in_window);
    assert!(kernels >= 432, "{kernels}");
    assert!(
        r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| !w.as_str().unwrap().contains("runs behind")),
        "the lag is handled, not warned about"
    );
}

fn host_ends(conn: &Connection) -> Vec<i64> {
    let mut q = conn
        .prepare("SELECT end FROM NVTX_EVENTS WHERE text = 'step' AND eventType = 59 ORDER BY start")
        .unwrap();
    q.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Length of the union of the (s, e) rows of `rows`, in SQL
/// (gaps-and-islands).
fn merged_len(conn: &Connection, rows: &str) -> i64 {
    let sql = format!(
        "WITH c(s, e) AS ({rows}),
         o AS (SELECT s, e, max(e) OVER (ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS pm FROM c),
         g AS (SELECT s, e, sum(CASE WHEN pm IS NULL OR s > pm THEN 1 ELSE 0 END) OVER (ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS grp FROM o)
         SELECT coalesce(sum(e2 - s2), 0) FROM (SELECT min(s) AS s2, max(e) AS e2 FROM g GROUP BY grp)"
    );
    conn.query_row(&sql, [], |r| r.get(0)).unwrap()
}

/// Microseconds as Kineto writes them (a decimal number) to nanoseconds,
/// exactly, from the number's text.
fn us_to_ns(v: &Value) -> i64 {
    let text = v.to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = format!("{frac:0<3}");
    int.parse::<i64>().unwrap() * 1000 + frac[..3].parse::<i64>().unwrap()
}

#[test]
fn async_loop_kineto_steps_reach_the_end_of_their_gpu_work() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kineto/async_loop_h200.kineto.json.gz");
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&fixture).unwrap()),
        &mut text,
    )
    .unwrap();
    let doc: Value = serde_json::from_slice(&text).unwrap();
    let events = doc["traceEvents"].as_array().unwrap();
    // The oracle: ProfilerStep ranges; launch call start by correlation id;
    // GPU work ends by correlation id.
    let mut steps: Vec<(i64, i64)> = Vec::new();
    let mut calls = std::collections::HashMap::new();
    let mut gpu: Vec<(i64, i64)> = Vec::new(); // (correlation, end)
    for e in events {
        let (Some(cat), Some(name)) = (e["cat"].as_str(), e["name"].as_str()) else {
            continue;
        };
        if e["ph"] != "X" {
            continue;
        }
        let ts = us_to_ns(&e["ts"]);
        let end = ts + us_to_ns(&e["dur"]);
        match cat {
            "user_annotation" if name.starts_with("ProfilerStep#") => steps.push((ts, end)),
            "cuda_runtime" | "cuda_driver" => {
                if let Some(c) = e["args"]["correlation"].as_i64() {
                    calls.entry(c).or_insert(ts);
                }
            }
            "kernel" | "gpu_memcpy" | "gpu_memset" => {
                gpu.push((e["args"]["correlation"].as_i64().unwrap(), end))
            }
            _ => {}
        }
    }
    steps.sort();
    let extents: Vec<(i64, i64)> = steps
        .iter()
        .map(|&(s, e)| {
            let last = gpu
                .iter()
                .filter(|(c, _)| calls.get(c).is_some_and(|&t| t >= s && t < e))
                .map(|&(_, end)| end)
                .max();
            (s, last.map_or(e, |l| l.max(e)))
        })
        .collect();
    assert_eq!(extents.len(), 24);
    let dir = scratch("async-kineto");
    let r = report(&fixture, &dir.join("out"), &[]);
    assert_eq!(r["window"]["iteration_range"], "ProfilerStep#*");
    let got: Vec<(i64, i64)> = r["iterations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let s = i["start_ns"].as_i64().unwrap();
            (s, s + i["duration_ns"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(got, extents);
    let a = &r["attribution"];
    let phases: i64 = [
        "preprocess_ns",
        "inference_ns",
        "postprocess_ns",
        "unannotated_ns",
        "gpu_tail_ns",
    ]
    .iter()
    .map(|k| a["phase"][k].as_i64().unwrap())
    .sum();
    assert_eq!(phases, a["total_ns"].as_i64().unwrap());
    assert!(a["phase"]["gpu_tail_ns"].as_i64().unwrap() > 0);
}
