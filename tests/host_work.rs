//! "What the host was doing while the GPU waited" (`host_work`) on real H200
//! captures of examples/captures/host_work.py, whose host work is planted
//! in known amounts in each of 12 iterations, inside `preprocess`:
//! python_busy() 6 ms of pure Python, numpy_work() >= 6 ms inside NumPy's
//! native sort (whole sorts, so it overshoots by up to one sort),
//! wait_input() 3 ms of time.sleep (an OS call).
//!
//! Oracles, none of them the crate's analysis:
//! - the planted amounts themselves (within the sampling resolution);
//! - nsys SQLite: hand-written SQL over COMPOSITE_EVENTS /
//!   SAMPLING_CALLCHAINS / OSRT_API, with GPU activity and CUDA calls as
//!   tests/common defines them;
//! - Kineto: the trace parsed with serde_json into a DOM and summed here.

mod common;

use std::io::Read;
use std::path::Path;

use common::{iter_sql, open, set_sql};
use serde_json::Value;
use trace_report::analysis::host_work::{CauseWork, HostWork, SampledRow};
use trace_report::document::Report;
use trace_report::input;
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

const NSYS: &str = "tests/fixtures/host_work_sampled.sqlite";
const KINETO: &str = "tests/fixtures/kineto/host_work.pt.trace.json.gz";
const ITERATIONS: i64 = 12;
const MS: i64 = 1_000_000;
const NUMPY: &str = "_multiarray_umath";

fn report(path: &Path) -> Report {
    let trace = input::load(path, &Default::default(), &Progress::hidden()).expect("load");
    pipeline::analyze(&trace, &AnalysisOptions::default()).expect("analyze")
}

fn host_work(r: &Report) -> &HostWork {
    r.host_work.as_ref().expect("host_work present")
}

fn cause<'a>(hw: &'a HostWork, name: &str) -> &'a CauseWork {
    hw.causes.iter().find(|c| c.cause == name).expect("cause")
}

/// SQL: the samples of threads that made CUDA calls, inside an `iter`
/// range, in the GPU-idle time of `cause` (as the attribution defines it:
/// no kernel, copy or memset on any GPU; then sync, launch, else host).
fn idle_samples_sql(conn: &rusqlite::Connection, cause: &str) -> String {
    let busy = ["kernel", "memcpy", "memset"]
        .map(|s| set_sql(conn, s))
        .join(" UNION ALL ");
    let (sync, launch) = (set_sql(conn, "sync"), set_sql(conn, "launch"));
    let inside =
        |set: &str| format!("EXISTS (SELECT 1 FROM ({set}) x WHERE c.start >= x.s AND c.start < x.e)");
    let cond = match cause {
        "sync" => inside(&sync),
        "launch" => format!("NOT {} AND {}", inside(&sync), inside(&launch)),
        _ => format!("NOT {} AND NOT {}", inside(&sync), inside(&launch)),
    };
    format!(
        "SELECT c.id AS id, c.start AS start FROM COMPOSITE_EVENTS c \
         WHERE c.globalTid IN (SELECT DISTINCT globalTid FROM CUPTI_ACTIVITY_KIND_RUNTIME) \
           AND EXISTS (SELECT 1 FROM ({}) it WHERE c.start >= it.s AND c.start < it.e) \
           AND NOT {} AND {cond}",
        iter_sql(),
        inside(&busy)
    )
}

/// SQL oracle: samples per leaf module in a cause's idle time.
fn sql_module_samples(conn: &rusqlite::Connection, cause: &str) -> Vec<(String, u64)> {
    let sql = format!(
        "SELECT m.value, count(*) FROM ({}) s \
         JOIN SAMPLING_CALLCHAINS k ON k.id = s.id AND k.stackDepth = 0 \
         JOIN StringIds m ON m.id = k.module GROUP BY m.value ORDER BY 2 DESC, 1",
        idle_samples_sql(conn, cause)
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The module row whose file name starts with `part`.
fn module<'a>(rows: &'a [SampledRow], part: &str) -> &'a SampledRow {
    rows.iter()
        .find(|m| m.name.starts_with(part))
        .unwrap_or_else(|| panic!("no module {part} in {rows:?}"))
}

#[test]
fn nsys_samples_match_sql_per_module_and_cause() {
    let r = report(Path::new(NSYS));
    let hw = host_work(&r);
    let conn = open(Path::new(NSYS));
    assert_eq!(hw.sources, ["os-runtime", "cpu-samples"]);
    // One thread drives the GPU: the interpreter's main thread.
    assert_eq!(hw.threads.len(), 1);
    // The period nsys states (CPU Clock, 2 ms), as META_DATA_CAPTURE records it.
    let period: String = conn
        .query_row(
            "SELECT value FROM META_DATA_CAPTURE WHERE name = 'LINUX_PERF_OPTIONS:SAMPLING_PERIOD'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hw.sample_period_ns, Some(period.parse::<i64>().unwrap()));
    assert_eq!(hw.sample_period_source.as_deref(), Some("profiler"));
    for name in ["sync", "launch", "host"] {
        let c = cause(hw, name);
        let want = sql_module_samples(&conn, name);
        let s = c.samples.as_ref().expect("samples");
        assert_eq!(s.samples, want.iter().map(|w| w.1).sum::<u64>(), "{name}");
        let mut got: Vec<(String, u64)> = s.modules.iter().map(|m| (m.module.clone(), m.samples)).collect();
        // Ties in any order.
        got.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        assert_eq!(got, want, "{name}: samples per leaf module");
    }
    // The idle time per cause is the attribution's.
    let g = r.attribution.window.gpu_idle;
    let idle: Vec<i64> = hw.causes.iter().map(|c| c.gpu_idle_ns).collect();
    assert_eq!(idle, [g.sync_ns, g.launch_ns, g.host_ns]);
}

/// Pure Python vs NumPy's native sort: the leaf module says which, and the
/// CPU time each got matches what was planted, within the resolution of
/// 2 ms samples (a stretch of work gains or loses at most one sample at
/// each end: 12 iterations -> 12 periods either way, at worst).
#[test]
fn nsys_samples_match_the_planted_work() {
    let r = report(Path::new(NSYS));
    let hw = host_work(&r);
    let host = cause(hw, "host");
    let s = host.samples.as_ref().unwrap();
    let period = hw.sample_period_ns.unwrap();
    let slack = ITERATIONS * period;

    let python = module(&s.modules, "python3");
    assert_eq!(python.module_kind, "python");
    let py_ns = python.estimated_ns.unwrap();
    // python_busy() is 6 ms of interpreter time per iteration; the
    // interpreter also runs numpy_work()'s loop and the model's Python.
    assert!((py_ns - ITERATIONS * 6 * MS).abs() <= slack, "Python {py_ns}");

    let numpy = module(&s.modules, NUMPY);
    assert_eq!(numpy.module_kind, "native");
    let np_ns = numpy.estimated_ns.unwrap();
    // numpy_work() sorts until 6 ms have passed: 6 ms plus at most one
    // more sort of 400,000 doubles (under 3 ms) per iteration.
    assert!(np_ns >= ITERATIONS * 6 * MS - slack, "NumPy {np_ns}");
    assert!(np_ns <= ITERATIONS * 9 * MS + slack, "NumPy {np_ns}");

    // NumPy's leaf frames are its sort kernels, and the native call stack
    // says where Python entered NumPy: array_sort (np.sort).
    let top_numpy = s.functions.iter().find(|f| f.module.contains(NUMPY)).unwrap();
    assert!(
        top_numpy.name.contains("sort") || top_numpy.name.contains("partition"),
        "{}",
        top_numpy.name
    );
    let entry = &s.library_entries[0];
    assert_eq!(entry.name, "array_sort");
    assert!(entry.module.contains(NUMPY));
    assert!(
        entry.estimated_ns.is_none(),
        "only unwound samples count: no time"
    );
    // Oracle: samples in host-idle time whose call stack holds array_sort
    // below a frame of another module.
    let conn = open(Path::new(NSYS));
    let sql = format!(
        "SELECT count(*) FROM ({}) s WHERE EXISTS (SELECT 1 FROM SAMPLING_CALLCHAINS k \
           JOIN StringIds f ON f.id = k.symbol WHERE k.id = s.id AND f.value = 'array_sort')",
        idle_samples_sql(&conn, "host")
    );
    let want = conn.query_row(&sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64;
    assert_eq!(entry.samples, want);
    assert!(want > 0);
}

/// time.sleep is an OS call: exact from OSRT_API, and off-CPU, so it has
/// no samples.
#[test]
fn nsys_sleep_is_an_os_call() {
    let r = report(Path::new(NSYS));
    let host = cause(host_work(&r), "host");
    let sleep = host
        .os_calls
        .iter()
        .find(|c| c.name == "clock_nanosleep")
        .unwrap();
    assert_eq!(host.os_calls[0].name, "clock_nanosleep", "the largest OS call");
    assert_eq!(sleep.count, ITERATIONS as u64);
    assert_eq!(sleep.self_ns, sleep.total_ns);
    let conn = open(Path::new(NSYS));
    let want: i64 = conn
        .query_row(
            &format!(
                "SELECT sum(o.end - o.start) FROM OSRT_API o JOIN StringIds n ON n.id = o.nameId \
                 JOIN ({}) it ON o.start >= it.s AND o.end <= it.e WHERE n.value = 'clock_nanosleep'",
                iter_sql()
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sleep.total_ns, want);
    // Planted: 3 ms per iteration; a sleep overshoots by scheduling latency.
    assert!(
        want >= ITERATIONS * 3 * MS && want <= ITERATIONS * 7 * MS / 2,
        "{want}"
    );
    assert!(host.os_call_ns.unwrap() >= want);
}

/// The same capture without the sampling tables (a capture with OS calls
/// only): the OS calls stay, and the rest of the idle time is said to be
/// unrecorded, not guessed.
#[test]
fn os_calls_only_without_samples() {
    let dir = std::env::temp_dir().join(format!("trace-report-hostwork-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("osrt_only.sqlite");
    std::fs::copy(NSYS, &path).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE COMPOSITE_EVENTS; DROP TABLE SAMPLING_CALLCHAINS;")
            .unwrap();
    }
    let r = report(&path);
    let _ = std::fs::remove_dir_all(&dir);
    let hw = host_work(&r);
    assert_eq!(hw.sources, ["os-runtime"]);
    assert!(hw.sample_period_ns.is_none());
    let host = cause(hw, "host");
    assert!(host.samples.is_none());
    assert_eq!(host.os_calls[0].name, "clock_nanosleep");
    // Only OS calls recorded: the rest of the idle time is untraced CPU time.
    assert_eq!(
        host.untraced_ns,
        Some(host.gpu_idle_ns - host.os_call_ns.unwrap())
    );
    let md = String::from_utf8(trace_report::report::markdown::render(&r)).unwrap();
    assert!(
        md.contains("outside any recorded call, where what ran on the CPU was not recorded"),
        "{md}"
    );
    assert!(md.contains("--host-sampling"), "{md}");
}

fn kineto_events() -> Vec<Value> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(KINETO).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    let v: Value = serde_json::from_slice(&text).unwrap();
    v["traceEvents"].as_array().unwrap().clone()
}

/// Sum of `dur` (us, as written) of the events named `name`, in ns.
fn kineto_sum_ns(events: &[Value], name: &str) -> (i64, u64) {
    let durs: Vec<f64> = events
        .iter()
        .filter(|e| e["name"] == name)
        .map(|e| e["dur"].as_f64().unwrap())
        .collect();
    (
        (durs.iter().sum::<f64>() * 1000.0).round() as i64,
        durs.len() as u64,
    )
}

/// PyTorch profiler with_stack=True: Python functions, exact.
#[test]
fn kineto_python_functions_match_the_trace_and_the_planted_work() {
    let r = report(Path::new(KINETO));
    let hw = host_work(&r);
    assert_eq!(hw.sources, ["python-functions", "operators"]);
    assert!(hw.sample_period_ns.is_none());
    let host = cause(hw, "host");
    let events = kineto_events();
    let row = |name: &str| {
        host.python
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", host.python))
    };
    // The planted functions lie wholly in GPU-idle host time (the GPU was
    // synchronised at the end of the previous iteration), so their total
    // is the sum of their durations in the file.
    for (name, lo_ms, hi_ms) in [
        ("host_work.py(15): python_busy", 6.0, 6.1),
        ("host_work.py(23): numpy_work", 6.0, 9.0),
        ("<built-in function sleep>", 3.0, 3.5),
    ] {
        let (want, n) = kineto_sum_ns(&events, name);
        let got = row(name).total_ns;
        assert!((got - want).abs() <= n as i64, "{name}: {got} vs {want}");
        let per_iteration = want as f64 / ITERATIONS as f64 / MS as f64;
        assert!(
            (lo_ms..=hi_ms).contains(&per_iteration),
            "{name}: {per_iteration} ms per iteration"
        );
        assert_eq!(n, ITERATIONS as u64);
    }
    // Native work called from Python is a leaf: np.sort's builtin has no
    // Python frames under it, so its self time is its total, and it ranks
    // first; pure Python (python_busy) keeps most of its time as self time,
    // less the perf_counter() calls it makes.
    let sort = row("<built-in method sort of numpy.ndarray object>");
    assert_eq!(host.python[0].name, sort.name);
    assert_eq!(sort.self_ns, sort.total_ns);
    let sort_all: i64 = events
        .iter()
        .filter(|e| {
            e["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("<built-in method sort of numpy.ndarray object at 0x"))
        })
        .map(|e| (e["dur"].as_f64().unwrap() * 1000.0).round() as i64)
        .sum();
    assert!(
        (sort.total_ns - sort_all).abs() <= sort.count as i64,
        "{} vs {sort_all}",
        sort.total_ns
    );
    let busy = row("host_work.py(15): python_busy");
    let (counter, _) = kineto_sum_ns(&events, "<built-in function perf_counter>");
    assert!(busy.self_ns < busy.total_ns && busy.self_ns >= busy.total_ns - counter);
    // The sync wait is the copy back to the host (Tensor.cpu()).
    let sync = cause(hw, "sync");
    assert_eq!(sync.python[0].name, "<built-in method cpu of Tensor object>");
    assert_eq!(sync.python[0].self_ns, sync.gpu_idle_ns);
}

/// Captures without host data have no host_work key, and the other
/// numbers of a capture with it do not depend on it.
#[test]
fn absent_without_host_data_and_attribution_unchanged() {
    let r = report(&common::sample("resnet50_fp16_nchw_cpupre.sqlite"));
    // OS runtime calls are in every default capture: host_work is there,
    // with only them.
    let hw = host_work(&r);
    assert_eq!(hw.sources, ["os-runtime"]);
    let r2 = report(Path::new("tests/fixtures/ddp_2gpu_nccl.sqlite"));
    assert!(
        r2.host_work.is_none(),
        "OSRT rows deleted, no sampling: nothing to say"
    );
    let json = serde_json::to_value(&r2).unwrap();
    assert!(json.get("host_work").is_none());
}

/// The idle spans the attribution keeps from its table sweep (so that the
/// host-work pass need not sweep again) are the ones a sweep of their own
/// gives, clipped to where the host recorded activity, with the iterations as
/// the window and with the whole capture; their unclipped totals are the
/// attribution's idle times.
#[test]
fn idle_spans_kept_from_the_attribution_sweep_equal_a_separate_sweep() {
    use trace_report::analysis::phase::PhaseRules;
    use trace_report::analysis::window::{self, WindowChoice};
    use trace_report::analysis::{attribution, intervals};
    for path in [NSYS] {
        let trace = input::load(Path::new(path), &Default::default(), &Progress::hidden()).expect("load");
        let links = trace_report::analysis::links::Links::build(&trace);
        for choice in [WindowChoice::default(), WindowChoice::WholeCapture] {
            let w = window::choose_with(&trace, &choice, &links).expect("window");
            let a = attribution::attribute(&trace, &w, &PhaseRules::default());
            let kept = a.idle.as_ref().expect("host activity: idle kept");
            let separate = attribution::idle_spans(&trace, &w.spans, &a.layers);
            let region = attribution::host_region(&trace);
            for (k, s) in kept.iter().zip(&separate) {
                assert_eq!(k, &intervals::intersect(s, &region), "{path}");
            }
            let g = a.total.gpu_idle;
            let totals = separate.map(|s| intervals::total(&s));
            assert_eq!(totals, [g.sync_ns, g.launch_ns, g.host_ns], "{path}");
            let kept_ns: i64 = kept.iter().map(|s| intervals::total(s)).sum();
            assert!(
                kept_ns > 0,
                "{path}: some GPU idle time where the host recorded activity"
            );
        }
    }
}

#[test]
fn idle_spans_whole_where_the_two_halves_of_the_iterations_meet() {
    // The attribution sweeps the first and the second half of the
    // iterations on two cores; an idle span across the seam must come out
    // as one span, as one sweep gives it.
    use trace_report::analysis::phase::PhaseRules;
    use trace_report::analysis::window::{self, Iteration, WindowChoice};
    use trace_report::analysis::{attribution, intervals};
    let trace = input::load(Path::new(NSYS), &Default::default(), &Progress::hidden()).expect("load");
    let links = trace_report::analysis::links::Links::build(&trace);
    let w = window::choose_with(&trace, &WindowChoice::default(), &links).expect("window");
    let a = attribution::attribute(&trace, &w, &PhaseRules::default());
    let &(s, e) = a
        .idle
        .as_ref()
        .expect("idle kept")
        .iter()
        .flatten()
        .find(|(s, e)| e - s >= 2)
        .expect("an idle span where the host recorded activity");
    let mid = s + (e - s) / 2;
    let (start, end) = (w.spans[0].0, w.spans[w.spans.len() - 1].1);
    let base: Iteration = w.iterations[0];
    let mut two = w.clone();
    two.iterations = vec![
        Iteration {
            start,
            end: mid,
            host_end: mid,
            ..base
        },
        Iteration {
            start: mid,
            end,
            host_end: end,
            ..base
        },
    ];
    two.spans = vec![(start, end)];
    let b = attribution::attribute(&trace, &two, &PhaseRules::default());
    let kept = b.idle.as_ref().expect("idle kept");
    let separate = attribution::idle_spans(&trace, &two.spans, &b.layers);
    let region = attribution::host_region(&trace);
    for (k, sep) in kept.iter().zip(&separate) {
        assert_eq!(k, &intervals::intersect(sep, &region));
    }
    assert!(
        kept.iter().flatten().any(|&(x, y)| x < mid && mid < y),
        "the span across the seam at {mid} is one span"
    );
    // The two iterations' tables add up to the window's.
    let sum: i64 = b.iterations.iter().map(|r| r.duration_ns).sum();
    assert_eq!(sum, end - start);
}
