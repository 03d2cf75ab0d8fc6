//! Every reader goes through the model's one builder (`model::build`): bad
//! spans and ids become stated warnings in the same words for every
//! format, never a negative or astronomical duration, and devices are
//! filled in once. One regression test per defect, each on a tiny input
//! made here.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use trace_report::input;
use trace_report::model::Trace;
use trace_report::model::build::MAX_SPAN_NS;
use trace_report::progress::Progress;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trace-report-builder-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn load(path: &Path) -> Trace {
    input::load(path, &Default::default(), &Progress::hidden()).expect("load")
}

/// No span the model holds is negative or longer than the builder allows.
fn assert_sane(t: &Trace) {
    let spans = (t.kernels.iter().map(|k| (k.start, k.end)))
        .chain(t.memcpys.iter().map(|m| (m.start, m.end)))
        .chain(t.memsets.iter().map(|m| (m.start, m.end)))
        .chain(t.api_calls.iter().map(|a| (a.start, a.end)))
        .chain(t.ranges.iter().map(|r| (r.start, r.end)));
    for (s, e) in spans {
        let d = e.checked_sub(s).expect("end - start fits");
        assert!((0..=MAX_SPAN_NS).contains(&d), "span {s}..{e}");
    }
}

/// A copy of a bundled SQLite export with `sql` applied; the number of
/// kernel rows before the edit.
fn edited_sqlite(name: &str, sql: &str) -> (PathBuf, usize) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_traces/redundant_copies.sqlite");
    let dst = scratch(name);
    fs::copy(&src, &dst).unwrap();
    let conn = Connection::open(&dst).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL", [], |r| {
            r.get(0)
        })
        .unwrap();
    conn.execute_batch(sql).unwrap();
    (dst, n as usize)
}

#[test]
fn an_end_of_i64_max_is_a_warning_not_a_9e18_ns_kernel() {
    let (p, n) = edited_sqlite(
        "huge.sqlite",
        "UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET end = 9223372036854775807 WHERE rowid = 1;",
    );
    let t = load(&p);
    assert_eq!(t.kernels.len(), n - 1);
    assert_sane(&t);
    assert!(
        t.warnings.contains(
            &"CUPTI_ACTIVITY_KIND_KERNEL: 1 row(s) lasting more than 30 days (corrupt times) skipped"
                .to_string()
        ),
        "{:?}",
        t.warnings
    );
}

#[test]
fn extreme_times_never_wrap_to_a_negative_duration() {
    // end - start = 2^64 - 1 wraps to -1 without a check.
    let (p, n) = edited_sqlite(
        "extremes.sqlite",
        "UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET start = -9223372036854775808, end = 9223372036854775807 WHERE rowid <= 3;",
    );
    let t = load(&p);
    assert_eq!(t.kernels.len(), n - 3);
    assert_sane(&t);
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("3 row(s) lasting more than 30 days"))
    );
}

/// A one-kernel Kineto trace with `args` and times of our choosing.
fn kineto(name: &str, ts: &str, dur: &str, args: &str) -> Trace {
    let p = scratch(name);
    fs::write(
        &p,
        format!(
            r#"{{"schemaVersion": 1, "traceEvents": [
  {{"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 7, "ts": 10, "dur": 5, "args": {{"device": 0, "stream": 7, "correlation": 1}}}},
  {{"ph": "X", "cat": "kernel", "name": "k2", "pid": 0, "tid": 7, "ts": {ts}, "dur": {dur}, "args": {args}}}
]}}"#
        ),
    )
    .unwrap();
    load(&p)
}

#[test]
fn kineto_device_ids_out_of_range_are_stated_not_mapped_to_device_0_silently() {
    let t = kineto(
        "device.json",
        "20",
        "1",
        r#"{"device": 99999999999, "stream": -1}"#,
    );
    assert_eq!(t.kernels.len(), 2);
    assert!(
        t.warnings.contains(
            &"complete ('X') events: 2 negative or out-of-range id/byte value(s) read as 0".to_string()
        ),
        "{:?}",
        t.warnings
    );
}

#[test]
fn kineto_start_plus_duration_that_overflows_is_skipped() {
    // 9.2e15 us is 9.2e18 ns: the end would pass i64::MAX.
    let t = kineto(
        "overflow.json",
        "9223372036854775",
        "9223372036854775",
        r#"{"device": 0}"#,
    );
    assert_eq!(t.kernels.len(), 1);
    assert_sane(&t);
    assert!(
        t.warnings.iter().any(|w| w.contains("lasting more than 30 days")),
        "{:?}",
        t.warnings
    );
    let t = kineto("negative.json", "20", "-1", r#"{"device": 0}"#);
    assert_eq!(t.kernels.len(), 1);
    assert!(
        t.warnings
            .contains(&"complete ('X') events: 1 row(s) ending before they start skipped".to_string()),
        "{:?}",
        t.warnings
    );
}

/// An nsys JSON export: a string table and one kernel record.
fn nsys_json(name: &str, start: &str, end: &str, device: &str) -> Trace {
    let p = scratch(name);
    fs::write(
        &p,
        format!(
            "{{\"data\":[\"k\"]}}\n{{\"Type\":79,\"CudaEvent\":{{\"startNs\":{start},\"endNs\":{end},\"correlationId\":1,\"deviceId\":{device},\"streamId\":7,\"kernel\":{{\"demangledName\":0,\"shortName\":0}}}}}}\n"
        ),
    )
    .unwrap();
    load(&p)
}

#[test]
fn nsys_json_device_ids_out_of_range_are_stated_as_in_sqlite() {
    let t = nsys_json("device.json", "100", "200", "-1");
    assert_eq!(t.kernels.len(), 1);
    assert_eq!(t.kernels[0].device, 0);
    assert!(
        t.warnings
            .contains(&"kernel records: 1 negative or out-of-range id/byte value(s) read as 0".to_string()),
        "{:?}",
        t.warnings
    );
    // The same edit in SQLite says the same thing about its table.
    let (p, _) = edited_sqlite(
        "device.sqlite",
        "UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET deviceId = -1 WHERE rowid = 1;",
    );
    assert!(load(&p).warnings.contains(
        &"CUPTI_ACTIVITY_KIND_KERNEL: 1 negative or out-of-range id/byte value(s) read as 0".to_string()
    ));
}

#[test]
fn nsys_json_extreme_times_are_skipped() {
    let t = nsys_json("extreme.json", "-9223372036854775808", "9223372036854775807", "0");
    assert!(t.kernels.is_empty());
    assert!(
        t.warnings.contains(
            &"kernel records: 1 row(s) lasting more than 30 days (corrupt times) skipped".to_string()
        ),
        "{:?}",
        t.warnings
    );
}

#[test]
fn every_device_the_activity_names_is_described_once() {
    // Kernels on a GPU the export does not describe get an unknown GPU,
    // next to the described one.
    let (p, _) = edited_sqlite(
        "undescribed.sqlite",
        "UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET deviceId = 5 WHERE rowid % 2 = 0;",
    );
    let t = load(&p);
    let ids: Vec<u32> = t.devices.iter().map(|d| d.id).collect();
    assert_eq!(ids, [0, 5]);
    assert_eq!(t.devices[1].name, "unknown GPU");
    assert_ne!(t.devices[0].name, "unknown GPU");
}
