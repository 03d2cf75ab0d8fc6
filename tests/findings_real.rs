//! The findings rules on the real H100 sample traces, checked against
//! independent oracles: hand-written SQL over the same file (run here with
//! rusqlite) and, for GPU-idle times, a plain interval union computed in
//! this test from rows the SQL returns.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use trace_report::document::Report;
use trace_report::findings::{self, Finding, Severity};
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

const SAMPLES: [&str; 7] = [
    "bert_fp16_aligned.sqlite",
    "bert_fp16_misaligned.sqlite",
    "detector_cpu_nms.sqlite",
    "gemm_int8_fp16_fp32.sqlite",
    "redundant_copies.sqlite",
    "resnet50_fp16_cl_gpupre.sqlite",
    "resnet50_fp16_nchw_cpupre.sqlite",
];

fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_traces")
        .join(name)
}

fn report(name: &str) -> Report {
    let trace =
        trace_report::input::load(&path(name), &Default::default(), &Progress::hidden()).expect("load");
    pipeline::analyze(&trace, &AnalysisOptions::default()).expect("analyze")
}

fn db(name: &str) -> Connection {
    let uri = format!("file:{}?mode=ro&immutable=1", path(name).display());
    Connection::open_with_flags(uri, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI)
        .expect("open")
}

fn find<'a>(r: &'a Report, rule: &str) -> Option<&'a Finding> {
    r.findings.iter().find(|f| f.rule == rule)
}

fn fact(f: &Finding, key: &str) -> i64 {
    f.evidence.facts[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{}: fact {key} is not an integer", f.rule))
}

/// Common table expressions: `it` the iterations (index i), `ph` the named
/// ranges, `cp` every copy whose GPU start lies in an iteration, with its
/// kind and memory kinds decoded through the ENUM tables, the host start of
/// its API call (same correlation id and process), that call's iteration
/// and phase range.
const CTE: &str = "
WITH it AS (
  SELECT n.start s, n.end e, ROW_NUMBER() OVER (ORDER BY n.start) - 1 AS i
  FROM NVTX_EVENTS n WHERE n.text = 'iter'),
ph AS (SELECT n.start s, n.end e, n.text name FROM NVTX_EVENTS n
       WHERE n.text IN ('preprocess', 'infer', 'postprocess')),
cp AS (
  SELECT m.start, m.end, m.bytes, k.name kind, sk.name src, dk.name dst,
         coalesce(r.start, m.start) host,
         (SELECT i FROM it WHERE coalesce(r.start, m.start) >= it.s AND coalesce(r.start, m.start) < it.e) iter,
         (SELECT name FROM ph WHERE coalesce(r.start, m.start) >= ph.s AND coalesce(r.start, m.start) < ph.e) phase
  FROM CUPTI_ACTIVITY_KIND_MEMCPY m
  JOIN ENUM_CUDA_MEMCPY_OPER k ON k.id = m.copyKind
  JOIN ENUM_CUDA_MEM_KIND sk ON sk.id = m.srcKind
  JOIN ENUM_CUDA_MEM_KIND dk ON dk.id = m.dstKind
  LEFT JOIN CUPTI_ACTIVITY_KIND_RUNTIME r
    ON r.correlationId = m.correlationId AND r.globalTid / 16777216 = m.globalPid / 16777216
  WHERE EXISTS (SELECT 1 FROM it WHERE m.start >= it.s AND m.start < it.e)),
-- Round trips: a download of >= 4 KiB and the next upload issued after it,
-- when that upload is in the same iteration with the same byte count.
rt AS (
  SELECT d.start ds, d.end de, d.bytes, d.iter,
         (SELECT min(u.host) FROM cp u WHERE u.kind = 'CUDA_MEMCPY_KIND_HTOD' AND u.host > d.host) uh
  FROM cp d WHERE d.kind = 'CUDA_MEMCPY_KIND_DTOH' AND d.bytes >= 4096 AND d.iter IS NOT NULL),
pairs AS (
  SELECT rt.bytes, rt.iter, rt.de - rt.ds + u.end - u.start copy_ns, u.host uh
  FROM rt JOIN cp u ON u.host = rt.uh AND u.iter = rt.iter AND u.bytes = rt.bytes
  WHERE u.kind = 'CUDA_MEMCPY_KIND_HTOD')
";

fn query_i64s(c: &Connection, sql: &str) -> Vec<i64> {
    let full = format!("{CTE} {sql}");
    c.query_row(&full, [], |row| {
        let n = row.as_ref().column_count();
        (0..n)
            .map(|i| row.get::<_, Option<i64>>(i).map(|v| v.unwrap_or(0)))
            .collect()
    })
    .unwrap_or_else(|e| panic!("{e}: {sql}"))
}

#[test]
fn redundant_copies_reupload_matches_sql() {
    let r = report("redundant_copies.sqlite");
    let c = db("redundant_copies.sqlite");
    let f = find(&r, "reupload").expect("reupload fires");
    // Uploads of >= 64 KiB outside preprocess ranges that are not the
    // return of a round trip, in sizes recurring in >= 80% of iterations.
    let [n_its] = query_i64s(&c, "SELECT count(*) FROM it")[..] else {
        unreachable!()
    };
    let o = query_i64s(
        &c,
        &format!(
            "SELECT count(*), sum(bytes), sum(end - start), count(DISTINCT bytes), count(DISTINCT iter) FROM cp
             WHERE kind = 'CUDA_MEMCPY_KIND_HTOD' AND bytes >= 65536 AND iter IS NOT NULL
               AND coalesce(phase, '') <> 'preprocess' AND host NOT IN (SELECT uh FROM pairs)
               AND bytes IN (SELECT bytes FROM cp WHERE kind = 'CUDA_MEMCPY_KIND_HTOD' AND iter IS NOT NULL
                             GROUP BY bytes HAVING count(DISTINCT iter) * 10 >= {n_its} * 8)"
        ),
    );
    assert_eq!(o[0], 12, "the planted 64 MiB weight upload, once per iteration");
    assert_eq!(o[3], 1);
    assert_eq!(fact(f, "uploads"), o[0]);
    assert_eq!(fact(f, "bytes"), o[1]);
    assert_eq!(fact(f, "bytes"), 12 * 64 * 1024 * 1024);
    assert_eq!(fact(f, "per_iteration_bytes"), 64 * 1024 * 1024);
    assert_eq!(fact(f, "copy_ns"), o[2]);
    assert_eq!(fact(f, "iterations_with_upload"), o[4]);
    assert_eq!(f.evidence.iterations, (0..12).collect::<Vec<_>>());
    assert_eq!(f.evidence.phases, vec!["inference".to_string()]);
    assert!(f.time_at_stake_ns <= o[2], "at stake at most the copies' time");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.evidence.timeline.is_some());
}

#[test]
fn redundant_copies_round_trip_matches_sql() {
    let r = report("redundant_copies.sqlite");
    let c = db("redundant_copies.sqlite");
    let f = find(&r, "round-trip").expect("round-trip fires");
    let o = query_i64s(
        &c,
        "SELECT count(*), sum(2 * bytes), sum(copy_ns), count(DISTINCT iter), min(bytes), max(bytes) FROM pairs",
    );
    assert_eq!(o[0], 12, "one planted round trip per iteration");
    assert_eq!((o[4], o[5]), (4 << 20, 4 << 20));
    assert_eq!(fact(f, "round_trips"), o[0]);
    assert_eq!(fact(f, "bytes"), o[1]);
    assert_eq!(fact(f, "copy_ns"), o[2]);
    assert_eq!(fact(f, "iterations_with_round_trip"), o[3]);
    let row = &f.evidence.table.as_ref().unwrap().rows[0];
    assert_eq!(row[0], Value::from(4u64 << 20));
    // Both copies are pageable, so each call also holds the host: the
    // stake exceeds the GPU copy time but never the calls' span.
    let spans = query_i64s(
        &c,
        "SELECT sum(max(r.end, m.end) - min(r.start, m.start)) FROM CUPTI_ACTIVITY_KIND_MEMCPY m
         JOIN CUPTI_ACTIVITY_KIND_RUNTIME r ON r.correlationId = m.correlationId
         WHERE m.start IN (SELECT ds FROM rt WHERE uh IN (SELECT uh FROM pairs))
            OR r.start IN (SELECT uh FROM pairs)",
    );
    assert!(f.time_at_stake_ns <= spans[0]);
    assert!(f.time_at_stake_ns >= o[2] / 2);
    assert_eq!(f.severity, Severity::Warning);
}

#[test]
fn redundant_copies_pageable_matches_sql() {
    let r = report("redundant_copies.sqlite");
    let c = db("redundant_copies.sqlite");
    let f = find(&r, "pageable-memcpy").expect("pageable-memcpy fires");
    let o = query_i64s(
        &c,
        "SELECT count(*), sum(bytes), sum(end - start),
                sum(kind = 'CUDA_MEMCPY_KIND_HTOD' AND bytes = 4194304 AND phase = 'preprocess')
         FROM cp WHERE (src = 'CUDA_MEMOPR_MEMORY_KIND_PAGEABLE' OR dst = 'CUDA_MEMOPR_MEMORY_KIND_PAGEABLE')
           AND kind <> 'CUDA_MEMCPY_KIND_HTOH'",
    );
    assert_eq!(o[3], 12, "the planted pageable input upload, in preprocess");
    assert_eq!(fact(f, "pageable_copies"), o[0]);
    assert_eq!(fact(f, "bytes"), o[1]);
    assert_eq!(fact(f, "copy_ns"), o[2]);
    assert!(f.time_at_stake_ns <= fact(f, "involved_ns"));
    // The input upload has its own row.
    let rows = &f.evidence.table.as_ref().unwrap().rows;
    assert!(rows.iter().any(|row| row[0] == "HtoD"
        && row[2] == Value::from(4194304u64)
        && row[3] == "preprocess"
        && row[4] == Value::from(12u64)));
}

#[test]
fn redundant_copies_tiny_matches_sql() {
    let r = report("redundant_copies.sqlite");
    let c = db("redundant_copies.sqlite");
    let f = find(&r, "tiny-memcpy").expect("tiny-memcpy fires");
    let o = query_i64s(
        &c,
        "SELECT count(*), sum(bytes),
                sum(kind = 'CUDA_MEMCPY_KIND_DTOH' AND bytes = 4 AND phase = 'infer')
         FROM cp WHERE bytes <= 65536 AND kind IN ('CUDA_MEMCPY_KIND_HTOD', 'CUDA_MEMCPY_KIND_DTOH')",
    );
    assert_eq!(o[2], 12 * 16, "16 planted .item() reads per iteration");
    assert_eq!(fact(f, "tiny_copies"), o[0]);
    assert_eq!(fact(f, "bytes"), o[1]);
    // The reads of one iteration follow each other within 100 us, so the
    // longest run is one iteration's 16.
    let gaps = query_i64s(
        &c,
        "SELECT max(gap), max(n) FROM (
           SELECT host - lag(max(end, host)) OVER (PARTITION BY iter ORDER BY host) gap,
                  count(*) OVER (PARTITION BY iter) n
           FROM cp WHERE kind = 'CUDA_MEMCPY_KIND_DTOH' AND bytes = 4)",
    );
    assert_eq!(gaps[1], 16);
    assert!(gaps[0] < 100_000, "largest gap {} ns", gaps[0]);
    assert_eq!(fact(f, "longest_run"), 16);
    assert!(f.time_at_stake_ns > 0);
}

#[test]
fn redundant_copies_concat_matches_sql() {
    let r = report("redundant_copies.sqlite");
    let c = db("redundant_copies.sqlite");
    let f = find(&r, "concat-copy").expect("concat-copy fires");
    let o = query_i64s(
        &c,
        "SELECT sum(s.value LIKE '%CatArrayBatchedCopy%'), sum(s.value LIKE '%direct\\_copy%' ESCAPE '\\'),
                sum(k.end - k.start)
         FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.demangledName
         WHERE EXISTS (SELECT 1 FROM it WHERE k.start >= it.s AND k.start < it.e)
           AND (s.value LIKE '%CatArrayBatchedCopy%' OR s.value LIKE '%direct\\_copy%' ESCAPE '\\')",
    );
    assert_eq!(o[0], 12, "the planted 3-way concat, once per iteration");
    assert_eq!(
        o[1], 12,
        "the planted transpose copy (a direct copy), once per iteration"
    );
    assert_eq!(fact(f, "concat_kernels"), o[0]);
    assert_eq!(fact(f, "copy_kernels"), o[1]);
    assert_eq!(fact(f, "total_ns"), o[2]);
    assert!(f.time_at_stake_ns <= o[2]);
    assert_eq!(f.evidence.iterations.len(), 12);
}

/// Sorted, merged union of spans.
fn union(mut v: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    v.sort();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (s, e) in v {
        match out.last_mut() {
            Some(l) if s <= l.1 => l.1 = l.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Time inside the `phase` ranges of iterations when no kernel, copy or
/// memset runs and no launch, synchronize, copy or memset call is in
/// progress: the GPU idle while the host computes. For traces whose copies
/// are all pageable or blocking and whose memsets happen outside the
/// phase, this is exactly the attribution's `idle: host` in that phase.
fn idle_host_oracle(c: &Connection, phase: &str) -> (i64, i64) {
    let rows = |sql: &str| -> Vec<(i64, i64)> {
        let mut st = c.prepare(sql).unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|x| x.unwrap())
            .collect()
    };
    let mut busy = rows("SELECT start, end FROM CUPTI_ACTIVITY_KIND_KERNEL");
    busy.extend(rows("SELECT start, end FROM CUPTI_ACTIVITY_KIND_MEMCPY"));
    busy.extend(rows("SELECT start, end FROM CUPTI_ACTIVITY_KIND_MEMSET"));
    busy.extend(rows(
        "SELECT r.start, r.end FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds s ON s.id = r.nameId
         WHERE s.value LIKE 'cudaLaunch%' OR s.value LIKE 'cuLaunch%' OR s.value LIKE '%Synchronize%'
            OR s.value LIKE 'cudaMemcpy%'",
    ));
    let busy = union(busy);
    let ranges = rows(&format!(
        "SELECT p.start, p.end FROM NVTX_EVENTS p WHERE p.text = '{phase}'
         AND EXISTS (SELECT 1 FROM NVTX_EVENTS i WHERE i.text = 'iter' AND p.start >= i.start AND p.end <= i.end)"
    ));
    let (mut total, mut idle) = (0, 0);
    for (s, e) in ranges {
        total += e - s;
        let covered: i64 = busy.iter().map(|&(a, b)| (b.min(e) - a.max(s)).max(0)).sum();
        idle += (e - s) - covered;
    }
    (total, idle)
}

#[test]
fn detector_host_postprocessing_matches_oracle() {
    let r = report("detector_cpu_nms.sqlite");
    let c = db("detector_cpu_nms.sqlite");
    let f = find(&r, "host-postprocessing").expect("host-postprocessing fires");
    let (phase_ns, idle) = idle_host_oracle(&c, "postprocess");
    assert_eq!(fact(f, "phase_ns"), phase_ns);
    assert_eq!(f.time_at_stake_ns, idle);
    assert_eq!(
        f.severity,
        Severity::Error,
        "CPU NMS leaves the GPU idle most of the window"
    );
    assert_eq!(f.evidence.phases, vec!["postprocess".to_string()]);
    assert_eq!(f.evidence.iterations.len(), 12);
    assert!(f.title.contains("postprocess"));
}

#[test]
fn cpu_preprocessing_matches_oracle() {
    for (name, severity) in [
        ("resnet50_fp16_nchw_cpupre.sqlite", Severity::Error),
        ("detector_cpu_nms.sqlite", Severity::Warning),
    ] {
        let r = report(name);
        let c = db(name);
        let f = find(&r, "host-preprocessing").expect("host-preprocessing fires");
        let (phase_ns, idle) = idle_host_oracle(&c, "preprocess");
        assert_eq!(fact(f, "phase_ns"), phase_ns, "{name}");
        assert_eq!(f.time_at_stake_ns, idle, "{name}");
        assert_eq!(f.severity, severity, "{name}");
    }
}

#[test]
fn layout_transposes_match_sql() {
    for (name, per_iteration) in [
        ("resnet50_fp16_nchw_cpupre.sqlite", 67),
        ("detector_cpu_nms.sqlite", 57),
    ] {
        let r = report(name);
        let c = db(name);
        let f = find(&r, "layout-transpose").expect("layout-transpose fires");
        let o = query_i64s(
            &c,
            "SELECT count(*), sum(k.end - k.start), sum(s.value LIKE '%nchwToNhwc%')
             FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.demangledName
             WHERE EXISTS (SELECT 1 FROM it WHERE k.start >= it.s AND k.start < it.e)
               AND (s.value LIKE '%nchwToNhwc%' OR s.value LIKE '%nhwcToNchw%')",
        );
        assert_eq!(fact(f, "kernels"), o[0], "{name}");
        assert_eq!(o[0], per_iteration * 12, "{name}");
        assert_eq!(fact(f, "total_ns"), o[1], "{name}");
        assert!(f.time_at_stake_ns <= o[1]);
        assert!(o[2] > 0 && o[2] < o[0], "both directions are planted");
        assert!(f.recommendation.contains("channels_last"));
        // Small against these host-bound windows: info, with the share of
        // GPU kernel time stated.
        assert_eq!(f.severity, Severity::Info, "{name}");
        assert!(f.evidence.facts["share_of_kernel_time"].as_f64().unwrap() > 0.1);
    }
}

#[test]
fn pageable_input_upload_of_cpu_preprocessing() {
    let r = report("resnet50_fp16_nchw_cpupre.sqlite");
    let c = db("resnet50_fp16_nchw_cpupre.sqlite");
    let f = find(&r, "pageable-memcpy").expect("pageable-memcpy fires");
    let o = query_i64s(
        &c,
        "SELECT count(*), sum(bytes), sum(end - start), sum(src = 'CUDA_MEMOPR_MEMORY_KIND_PAGEABLE' AND phase = 'preprocess')
         FROM cp WHERE src = 'CUDA_MEMOPR_MEMORY_KIND_PAGEABLE' OR dst = 'CUDA_MEMOPR_MEMORY_KIND_PAGEABLE'",
    );
    assert_eq!(o[3], 12, "the pageable upload of each CPU-prepared batch");
    assert_eq!(fact(f, "pageable_copies"), o[0]);
    assert_eq!(fact(f, "bytes"), o[1]);
    assert_eq!(fact(f, "copy_ns"), o[2]);
}

/// The healthy baseline's only warning is launch-bound: 290 short kernels
/// per iteration with the GPU idle between them is launch overhead
/// (severity by its stake, capped at warning); everything else is info.
#[test]
fn baseline_warns_only_of_launch_overhead_and_launch_bound_is_measured() {
    let r = report("resnet50_fp16_cl_gpupre.sqlite");
    for f in &r.findings {
        let want = if f.rule == "launch-bound" {
            Severity::Warning
        } else {
            Severity::Info
        };
        assert_eq!(f.severity, want, "{} {}: {}", f.code, f.rule, f.title);
    }
    for rule in [
        "reupload",
        "round-trip",
        "tiny-memcpy",
        "layout-transpose",
        "sync-stall",
    ] {
        assert!(find(&r, rule).is_none(), "{rule} fired on the healthy baseline");
    }
    let c = db("resnet50_fp16_cl_gpupre.sqlite");
    let f = find(&r, "launch-bound").expect("the baseline is launch-bound");
    let o = query_i64s(
        &c,
        "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k
         WHERE EXISTS (SELECT 1 FROM it WHERE k.start >= it.s AND k.start < it.e)",
    );
    assert_eq!(fact(f, "kernels"), o[0]);
    // The median launch call, as SQL picks it (upper median).
    let m = query_i64s(
        &c,
        "SELECT d FROM (SELECT r.end - r.start d FROM CUPTI_ACTIVITY_KIND_RUNTIME r
                        JOIN StringIds s ON s.id = r.nameId
                        WHERE (s.value LIKE 'cudaLaunch%' OR s.value LIKE 'cuLaunch%' OR s.value LIKE '%GraphLaunch%')
                          AND EXISTS (SELECT 1 FROM it WHERE r.start >= it.s AND r.start < it.e))
         ORDER BY d LIMIT 1 OFFSET (SELECT count(*) / 2 FROM CUPTI_ACTIVITY_KIND_RUNTIME r
                        JOIN StringIds s ON s.id = r.nameId
                        WHERE (s.value LIKE 'cudaLaunch%' OR s.value LIKE 'cuLaunch%' OR s.value LIKE '%GraphLaunch%')
                          AND EXISTS (SELECT 1 FROM it WHERE r.start >= it.s AND r.start < it.e))",
    );
    assert_eq!(fact(f, "median_launch_call_ns"), m[0]);
    // The host's issue interval: between consecutive launch calls of one
    // thread, at most 100 us apart (upper median).
    let issue = query_i64s(
        &c,
        "SELECT d FROM (
           SELECT r.start - lag(r.start) OVER (PARTITION BY r.globalTid ORDER BY r.start) d
           FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds s ON s.id = r.nameId
           WHERE (s.value LIKE 'cudaLaunch%' OR s.value LIKE 'cuLaunch%' OR s.value LIKE '%GraphLaunch%')
             AND EXISTS (SELECT 1 FROM it WHERE r.start >= it.s AND r.start < it.e))
         WHERE d <= 100000 ORDER BY d
         LIMIT 1 OFFSET (SELECT count(*) / 2 FROM (
           SELECT r.start - lag(r.start) OVER (PARTITION BY r.globalTid ORDER BY r.start) d
           FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds s ON s.id = r.nameId
           WHERE (s.value LIKE 'cudaLaunch%' OR s.value LIKE 'cuLaunch%' OR s.value LIKE '%GraphLaunch%')
             AND EXISTS (SELECT 1 FROM it WHERE r.start >= it.s AND r.start < it.e)) WHERE d <= 100000)",
    );
    let issue_ns = issue[0].max(m[0]);
    assert_eq!(fact(f, "median_issue_interval_ns"), issue_ns);
    let short = query_i64s(
        &c,
        &format!(
            "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k
             WHERE EXISTS (SELECT 1 FROM it WHERE k.start >= it.s AND k.start < it.e) AND k.end - k.start < {issue_ns}"
        ),
    );
    assert_eq!(fact(f, "short_kernels"), short[0]);
    let idle = r.attribution.window.activity.gpu_idle_ns;
    assert!(f.time_at_stake_ns <= fact(f, "gap_ns") && fact(f, "gap_ns") <= idle);
}

#[test]
fn every_finding_on_every_sample_is_well_formed() {
    for name in SAMPLES {
        let r = report(name);
        let window = r.window.duration_ns;
        let mut last = i64::MAX;
        for f in &r.findings {
            let rule = findings::rule(&f.rule).unwrap_or_else(|| panic!("{name}: unknown rule {}", f.rule));
            assert_eq!(rule.code(), f.code);
            assert!(
                f.time_at_stake_ns >= 0 && f.time_at_stake_ns <= window,
                "{name} {}",
                f.rule
            );
            assert!(f.time_at_stake_ns <= last, "{name}: not sorted by time at stake");
            last = f.time_at_stake_ns;
            if f.rule == "launch-bound" {
                assert_eq!(
                    f.severity,
                    Severity::for_share(f.time_at_stake_ns, window).min(Severity::Warning),
                    "{name}"
                );
            } else {
                assert_eq!(
                    f.severity,
                    Severity::for_share(f.time_at_stake_ns, window),
                    "{name} {}",
                    f.rule
                );
            }
            assert!(!f.recommendation.is_empty() && !f.title.is_empty());
            assert!(f.evidence.iterations.iter().all(|&i| i < r.window.iterations));
            assert_eq!(f.evidence.facts["at_stake_ns"].as_i64(), Some(f.time_at_stake_ns));
            if let Some(t) = &f.evidence.timeline {
                assert!(
                    t.items
                        .iter()
                        .all(|i| i.lane < t.lanes.len() && i.start_ns >= t.start_ns && i.end_ns <= t.end_ns)
                );
            }
        }
    }
}

#[test]
fn planted_problems_are_reported() {
    let fired = |name: &str| -> Vec<String> { report(name).findings.into_iter().map(|f| f.rule).collect() };
    let rc = fired("redundant_copies.sqlite");
    for rule in [
        "reupload",
        "round-trip",
        "pageable-memcpy",
        "tiny-memcpy",
        "concat-copy",
    ] {
        assert!(
            rc.contains(&rule.to_string()),
            "redundant_copies: {rule} missing from {rc:?}"
        );
    }
    let cpu = fired("resnet50_fp16_nchw_cpupre.sqlite");
    for rule in ["layout-transpose", "host-preprocessing", "pageable-memcpy"] {
        assert!(
            cpu.contains(&rule.to_string()),
            "nchw_cpupre: {rule} missing from {cpu:?}"
        );
    }
    let det = fired("detector_cpu_nms.sqlite");
    for rule in ["layout-transpose", "host-postprocessing", "host-preprocessing"] {
        assert!(
            det.contains(&rule.to_string()),
            "detector: {rule} missing from {det:?}"
        );
    }
}
