//! The Kineto reader on real PyTorch profiler traces (H100, the same
//! workloads as the bundled SQLite traces; see tests/fixtures/README.md).
//!
//! Oracles: the same file parsed in the test with serde_json into a
//! `Value` (a DOM, the way the reader must not do it) and summed here,
//! with timestamps converted from their decimal text by a separate
//! string-splitting routine; and the bundled nsys SQLite traces of the same
//! workloads, queried with SQL, for the set of kernel names.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use serde_json::Value;
use serde_json::value::RawValue;
use trace_report::input;
use trace_report::model::{ApiKind, CopyKind, MemKind, Trace};
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

const WORKLOADS: [&str; 3] = ["redundant_copies", "bert_fp16_aligned", "resnet50_fp16_cl_gpupre"];

fn fixture(w: &str) -> String {
    format!("tests/fixtures/kineto/{w}.kineto.json.gz")
}

fn load(path: &str) -> Trace {
    input::load(Path::new(path), &Default::default(), &Progress::hidden()).unwrap()
}

fn gunzip(path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// "4603816446635.630" (us) -> ns, by splitting at the point.
fn us_text_to_ns(t: &str) -> i64 {
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let mut frac = frac.to_string();
    while frac.len() < 3 {
        frac.push('0');
    }
    assert!(frac.len() == 3, "the fixtures have at most 3 decimals: {t}");
    int.parse::<i64>().unwrap() * 1000 + frac.parse::<i64>().unwrap()
}

#[derive(serde::Deserialize)]
struct Doc<'a> {
    #[serde(borrow, rename = "traceEvents")]
    events: Vec<&'a RawValue>,
}

/// Every event as a Value, with its ts/dur text converted independently.
struct Oracle {
    events: Vec<(Value, Option<i64>, Option<i64>)>,
}

impl Oracle {
    fn new(path: &str) -> Oracle {
        let bytes = gunzip(path);
        let doc: Doc = serde_json::from_slice(&bytes).unwrap();
        let events = doc
            .events
            .iter()
            .map(|raw| {
                let v: Value = serde_json::from_str(raw.get()).unwrap();
                // The raw text of ts and dur, from a second borrowed parse.
                let m: HashMap<String, &RawValue> = serde_json::from_str(raw.get()).unwrap();
                let t = |k: &str| m.get(k).map(|r| us_text_to_ns(r.get()));
                (v, t("ts"), t("dur"))
            })
            .collect();
        Oracle { events }
    }

    fn of_cat<'a>(
        &'a self,
        cat: &'a str,
    ) -> impl Iterator<Item = &'a (Value, Option<i64>, Option<i64>)> + 'a {
        self.events
            .iter()
            .filter(move |(v, _, _)| v["ph"] == "X" && v["cat"] == cat)
    }
}

#[test]
fn kernels_copies_and_calls_match_a_dom_parse() {
    for w in WORKLOADS {
        let path = fixture(w);
        let t = load(&path);
        let o = Oracle::new(&path);

        // Kernels: count, summed duration, first start and last end, exactly.
        let k: Vec<_> = o.of_cat("kernel").collect();
        assert_eq!(t.kernels.len(), k.len(), "{w}");
        let dur: i64 = k.iter().map(|(_, _, d)| d.unwrap()).sum();
        assert_eq!(t.kernels.iter().map(|k| k.end - k.start).sum::<i64>(), dur, "{w}");
        let first = k.iter().map(|(_, s, _)| s.unwrap()).min().unwrap();
        let last = k.iter().map(|(_, s, d)| s.unwrap() + d.unwrap()).max().unwrap();
        assert_eq!(t.kernels.first().unwrap().start, first, "{w}");
        assert_eq!(t.kernels.iter().map(|k| k.end).max().unwrap(), last, "{w}");
        // Per kernel name: count and time.
        let mut want: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
        for (v, _, d) in &k {
            let e = want.entry(v["name"].as_str().unwrap()).or_default();
            e.0 += 1;
            e.1 += d.unwrap();
        }
        let mut got: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
        for k in &t.kernels {
            let e = got.entry(t.name(k.name)).or_default();
            e.0 += 1;
            e.1 += k.end - k.start;
        }
        assert_eq!(got, want, "{w}");

        // Copies: count and bytes per direction, pageable sources.
        let mut want: BTreeMap<String, (usize, u64)> = BTreeMap::new();
        let mut pageable = 0;
        for (v, _, _) in o.of_cat("gpu_memcpy") {
            let name = v["name"].as_str().unwrap();
            // "Memcpy HtoD (Pageable -> Device)": the second word.
            let dir = name.split_whitespace().nth(1).unwrap().to_string();
            let e = want.entry(dir).or_default();
            e.0 += 1;
            e.1 += v["args"]["bytes"].as_u64().unwrap();
            pageable += name.contains("(Pageable") as usize;
        }
        let mut got: BTreeMap<String, (usize, u64)> = BTreeMap::new();
        for m in &t.memcpys {
            let e = got.entry(m.kind.label().to_string()).or_default();
            e.0 += 1;
            e.1 += m.bytes;
        }
        assert_eq!(got, want, "{w}");
        assert_eq!(
            t.memcpys.iter().filter(|m| m.src == MemKind::Pageable).count(),
            pageable,
            "{w}"
        );
        assert!(!t.memcpys.iter().any(|m| m.kind == CopyKind::Unknown), "{w}");

        let ms: Vec<_> = o.of_cat("gpu_memset").collect();
        assert_eq!(t.memsets.len(), ms.len(), "{w}");
        assert_eq!(
            t.memsets.iter().map(|m| m.bytes).sum::<u64>(),
            ms.iter()
                .map(|(v, _, _)| v["args"]["bytes"].as_u64().unwrap())
                .sum::<u64>(),
            "{w}"
        );

        // CUDA calls: every runtime/driver event is stored or counted;
        // launches by name.
        let calls: Vec<_> = o.of_cat("cuda_runtime").chain(o.of_cat("cuda_driver")).collect();
        assert_eq!(
            t.api_calls.len() as u64 + t.other_api_calls,
            calls.len() as u64,
            "{w}"
        );
        let launches = calls
            .iter()
            .filter(|(v, _, _)| {
                let n = v["name"].as_str().unwrap();
                n.starts_with("cudaLaunchKernel") || n == "cuLaunchKernel" || n == "cuLaunchKernelEx"
            })
            .count();
        assert_eq!(
            t.api_calls.iter().filter(|a| a.kind == ApiKind::Launch).count(),
            launches,
            "{w}"
        );
        let syncs = calls
            .iter()
            .filter(|(v, _, _)| v["name"].as_str().unwrap().ends_with("Synchronize"))
            .count();
        assert_eq!(
            t.api_calls.iter().filter(|a| a.kind == ApiKind::Sync).count(),
            syncs,
            "{w}"
        );

        // GPU rows carry the host process (Kineto files them under the device).
        let host_pid = calls[0].0["pid"].as_u64().unwrap() as u32;
        assert!(t.kernels.iter().all(|k| k.pid == host_pid), "{w}");
        assert!(t.memcpys.iter().all(|m| m.pid == host_pid), "{w}");

        // Devices from deviceProperties.
        assert_eq!(t.devices.len(), 1);
        assert_eq!(t.devices[0].name, "NVIDIA H100 80GB HBM3");
        assert_eq!(t.devices[0].compute_capability, Some((9, 0)));
        assert_eq!(t.devices[0].sm_count, Some(132));
    }
}

#[test]
fn launches_join_their_kernels_by_pid_and_correlation() {
    // Every kernel has exactly one launch call with its (pid, correlation).
    for w in WORKLOADS {
        let t = load(&fixture(w));
        let launches: HashMap<(u32, u32), usize> = t
            .api_calls
            .iter()
            .filter(|a| a.kind == ApiKind::Launch)
            .fold(HashMap::new(), |mut m, a| {
                *m.entry((t.threads[a.thread as usize].pid, a.correlation))
                    .or_default() += 1;
                m
            });
        for k in &t.kernels {
            assert_eq!(
                launches.get(&(k.pid, k.correlation)),
                Some(&1),
                "{w}: {}",
                t.name(k.name)
            );
        }
    }
}

#[test]
fn operators_with_shapes_link_to_their_kernels() {
    for w in WORKLOADS {
        let path = fixture(w);
        let t = load(&path);
        let o = Oracle::new(&path);
        // Oracle: External id -> (op name, compact Input Dims), for ops with a dimension.
        let mut ops: HashMap<i64, (String, String)> = HashMap::new();
        for (v, _, _) in o.of_cat("cpu_op") {
            let dims = &v["args"]["Input Dims"];
            let has_dim = dims
                .as_array()
                .is_some_and(|a| a.iter().any(|d| d.as_array().is_some_and(|x| !x.is_empty())));
            if has_dim {
                let ext = v["args"]["External id"].as_i64().unwrap();
                ops.insert(ext, (v["name"].as_str().unwrap().to_string(), dims.to_string()));
            }
        }
        let mut linked = 0;
        for (v, s, _) in o.of_cat("kernel") {
            let ext = v["args"]["External id"].as_i64().unwrap();
            let corr = v["args"]["correlation"].as_u64().unwrap() as u32;
            let k = t
                .kernels
                .iter()
                .find(|k| k.correlation == corr && k.start == s.unwrap())
                .unwrap();
            match (ops.get(&ext), t.operator_of(k)) {
                (Some((name, dims)), Some(op)) => {
                    assert_eq!(t.name(op.name), name, "{w}");
                    assert_eq!(t.name(op.input_dims), dims.as_str(), "{w}");
                    linked += 1;
                }
                (None, None) => {}
                (want, got) => panic!("{w}: kernel {corr}: want {want:?}, got {got:?}"),
            }
        }
        assert!(linked > 0, "{w}: no kernel linked to an operator");
    }
    // A known one: ResNet's classifier GEMM is aten::addmm on [16, 2048] x
    // [2048, 1000] in FP16, run by an nvjet kernel (cuDNN runs the 1x1
    // convolutions on nvjet kernels too, under aten::cudnn_convolution).
    let t = load(&fixture("resnet50_fp16_cl_gpupre"));
    let k = t
        .kernels
        .iter()
        .find(|k| {
            t.operator_of(k)
                .is_some_and(|op| t.name(op.name) == "aten::addmm")
        })
        .unwrap();
    assert_eq!(t.name(k.name), "nvjet_sm90_hsh_64x8_64x16_4x2_h_bz_bias_TNT");
    let op = t.operator_of(k).unwrap();
    assert_eq!(
        op.dims(&t.names),
        vec![vec![1000], vec![16, 2048], vec![2048, 1000], vec![], vec![]]
    );
    assert_eq!(op.types(&t.names)[..3], ["c10::Half", "c10::Half", "c10::Half"]);
}

fn sqlite_short_names(w: &str) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open_with_flags(
        format!("sample_traces/{w}.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT DISTINCT s.value FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.shortName",
        )
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn same_kernels_as_the_sqlite_trace_of_the_workload() {
    // The Kineto and nsys captures of one workload are separate runs; the
    // two tools spell template arguments differently (`<4, ...>` vs
    // `<(int)4, ...>`), so the kernels are compared by base function name,
    // which nsys records as shortName.
    for w in WORKLOADS {
        let t = load(&fixture(w));
        let got: BTreeSet<String> = t
            .kernels
            .iter()
            .map(|k| t.name(k.short_name).to_string())
            .collect();
        assert_eq!(got, sqlite_short_names(w), "{w}");
    }
}

#[test]
fn whole_capture_without_step_markers_and_a_full_report() {
    // These captures have no ProfilerStep/record_function: the window is
    // the span of all GPU activity, and every nanosecond is attributed.
    for w in WORKLOADS {
        let t = load(&fixture(w));
        assert!(t.ranges.is_empty());
        assert_eq!(t.iteration_range, None);
        let r = pipeline::analyze(&t, &AnalysisOptions::default()).unwrap();
        let first = t.kernels.iter().map(|k| k.start);
        let first = first
            .chain(t.memcpys.iter().map(|m| m.start))
            .chain(t.memsets.iter().map(|m| m.start))
            .min()
            .unwrap();
        assert_eq!(r.window.start_ns, first);
        let a = &r.attribution.window;
        assert_eq!(a.total_ns, r.window.duration_ns);
        assert_eq!(
            a.activity.kernel_ns + a.activity.memcpy_ns + a.activity.memset_ns + a.activity.gpu_idle_ns,
            a.total_ns
        );
        assert_eq!(r.source.format, "kineto");
        assert!(!r.kernels.is_empty());
        let html = String::from_utf8(trace_report::report::html::render(&r)).unwrap();
        assert!(html.contains("NVIDIA H100 80GB HBM3"));
    }
}

/// A small Kineto trace with step markers, written by the test.
fn stepped_trace() -> String {
    let mut ev = vec![];
    let host = r#""pid": 77, "tid": 78"#;
    for step in 0..4 {
        let base = 1000.0 + step as f64 * 100.0;
        ev.push(format!(
            r#"{{"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#{}", {host}, "ts": {base:.3}, "dur": 90.0}}"#,
            step + 10
        ));
        ev.push(format!(
            r#"{{"ph": "X", "cat": "user_annotation", "name": "preprocess", {host}, "ts": {:.3}, "dur": 20.5}}"#,
            base + 1.0
        ));
        // A top-level operator in every step must not become an iteration.
        ev.push(format!(
            r#"{{"ph": "X", "cat": "cpu_op", "name": "aten::linear", {host}, "ts": {:.3}, "dur": 30.0, "args": {{"External id": {}}}}}"#,
            base + 30.0,
            step
        ));
        ev.push(format!(
            r#"{{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", {host}, "ts": {:.3}, "dur": 5.0, "args": {{"correlation": {}}}}}"#,
            base + 31.0,
            step + 1
        ));
        ev.push(format!(
            r#"{{"ph": "X", "cat": "kernel", "name": "gemm", "pid": 0, "tid": 7, "ts": {:.3}, "dur": 40.25, "args": {{"device": 0, "stream": 7, "correlation": {}}}}}"#,
            base + 40.0,
            step + 1
        ));
    }
    // Another thread's annotations, more frequent than the steps.
    for i in 0..8 {
        ev.push(format!(
            r#"{{"ph": "X", "cat": "user_annotation", "name": "nccl:all_reduce", "pid": 77, "tid": 99, "ts": {}, "dur": 3}}"#,
            1000 + i * 50
        ));
    }
    format!(
        "{{\"schemaVersion\": 1, \"traceEvents\": [\n{}\n]}}",
        ev.join(",\n")
    )
}

#[test]
fn profiler_steps_are_the_iterations() {
    let dir = std::env::temp_dir().join(format!("tr-kineto-steps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("steps.json");
    std::fs::write(&path, stepped_trace()).unwrap();
    let t = input::load(&path, &Default::default(), &Progress::hidden()).unwrap();
    assert_eq!(t.iteration_range.as_deref(), Some("ProfilerStep#*"));
    // Steps, preprocess and the other thread's annotations are ranges; operators are not.
    assert_eq!(t.ranges.len(), 16);
    let r = pipeline::analyze(&t, &AnalysisOptions::default()).unwrap();
    assert_eq!(r.window.iteration_range.as_deref(), Some("ProfilerStep#*"));
    assert_eq!(r.window.iterations, 4);
    assert_eq!(r.iterations.len(), 4);
    for it in &r.iterations {
        assert_eq!(it.duration_ns, 90_000);
        assert_eq!(it.activity.kernel_ns, 40_250);
        assert_eq!(it.phase.preprocess_ns, 20_500);
    }
    assert_eq!(r.attribution.window.total_ns, 4 * 90_000);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// short name -> the set of verdicts its kernels got, over the whole capture.
fn verdicts_by_short_name(path: &str) -> BTreeMap<String, BTreeSet<String>> {
    let trace = load(path);
    let opts = AnalysisOptions {
        window: trace_report::analysis::window::WindowChoice::WholeCapture,
        ..AnalysisOptions::default()
    };
    let report = pipeline::analyze(&trace, &opts).unwrap();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for k in &report.kernels {
        let v = serde_json::to_value(k.tensor_core)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        out.entry(k.short_name.clone()).or_default().insert(v);
    }
    out
}

#[test]
fn tensor_core_verdicts_agree_with_the_sqlite_trace_and_the_labels() {
    let labels = std::fs::read_to_string("tests/fixtures/tensor_core_labels.csv").unwrap();
    for w in WORKLOADS {
        let kineto = verdicts_by_short_name(&fixture(w));
        let sqlite = verdicts_by_short_name(&format!("sample_traces/{w}.sqlite"));
        let mut compared = 0;
        for (name, v) in &kineto {
            if let Some(s) = sqlite.get(name) {
                assert_eq!(v, s, "{w}: {name}");
                compared += 1;
            }
        }
        assert!(
            compared * 10 >= kineto.len() * 9,
            "{w}: most kernels compared ({compared} of {})",
            kineto.len()
        );
        // Hardware truth: every labelled yes/no kernel of the scenario, found
        // in the Kineto report by its nsys short name, has that verdict.
        let conn = rusqlite::Connection::open_with_flags(
            format!("sample_traces/{w}.sqlite"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut checked = 0;
        for line in labels.lines().filter(|l| l.starts_with(&format!("{w},"))) {
            let verdict = if line.contains(",yes,") { "yes" } else { "no" };
            // The kernel name is the second field, quoted when it has commas.
            let rest = &line[w.len() + 1..];
            let name = if let Some(q) = rest.strip_prefix('"') {
                q[..q.find("\",").unwrap()].replace("\"\"", "\"")
            } else {
                rest[..rest.find(',').unwrap()].to_string()
            };
            let full: Option<String> = conn
                .query_row(
                    "SELECT d.value FROM StringIds d WHERE d.value = ?1",
                    [&name],
                    |r| r.get(0),
                )
                .ok();
            let Some(full) = full else { continue };
            let short = trace_report::analysis::kernels::readable_short_name(
                &full,
                &conn
                    .query_row(
                        "SELECT s.value FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.shortName \
                         JOIN StringIds d ON d.id = k.demangledName WHERE d.value = ?1 LIMIT 1",
                        [&full],
                        |r| r.get::<_, String>(0),
                    )
                    .unwrap(),
            );
            if let Some(v) = kineto.get(&short) {
                assert!(
                    v.contains(verdict),
                    "{w}: {short}: labels say {verdict}, Kineto report says {v:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 0, "{w}: no labelled kernel found in the Kineto report");
    }
}

#[test]
fn recorded_shapes_name_the_offending_dimension() {
    // An FP16 GEMM with K = 4093 (record_shapes) launching CUTLASS's align1
    // kernel: the reason names K, which the kernel name alone cannot.
    let kernel =
        "void cutlass::Kernel2<cutlass_80_tensorop_f16_s16816gemm_f16_256x128_64x3_tn_align1>(T1::Params)";
    let host = r#""pid": 5, "tid": 6"#;
    let trace = format!(
        r#"{{"traceEvents": [
  {{"ph": "X", "cat": "cpu_op", "name": "aten::mm", {host}, "ts": 10.0, "dur": 30.0,
    "args": {{"External id": 1, "Input Dims": [[4096, 4093], [4093, 4096]], "Input type": ["c10::Half", "c10::Half"]}}}},
  {{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", {host}, "ts": 12.0, "dur": 4.0,
    "args": {{"External id": 1, "correlation": 9}}}},
  {{"ph": "X", "cat": "kernel", "name": "{kernel}", "pid": 0, "tid": 7, "ts": 20.0, "dur": 500.0,
    "args": {{"device": 0, "stream": 7, "correlation": 9, "External id": 1}}}}
]}}"#
    );
    let dir = std::env::temp_dir().join(format!("tr-kineto-shapes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shapes.json");
    std::fs::write(&path, trace).unwrap();
    let t = input::load(&path, &Default::default(), &Progress::hidden()).unwrap();
    let r = pipeline::analyze(&t, &AnalysisOptions::default()).unwrap();
    let row = r.kernels.iter().find(|k| k.name == kernel).expect("kernel row");
    let reason = row.tensor_core_reason.as_deref().expect("a low-alignment reason");
    assert!(reason.contains("K = 4093"), "{reason}");
    assert!(
        !reason.contains("N = 4096") && !reason.contains("M = 4096"),
        "{reason}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
