//! Regression tests for inputs written by other tool versions and devices
//! than ours, one per defect found on public traces. Every fixture is made
//! here, by hand, in the shape the real files have (described at each
//! test); the expected values are counted from the fixture's own text.

use std::path::{Path, PathBuf};
use std::process::Command;

use trace_report::input;
use trace_report::model::{ApiKind, CopyKind, MemKind, Trace};
use trace_report::progress::Progress;

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("tr-wild-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn load(path: &Path) -> Result<Trace, String> {
    input::load(path, &Default::default(), &Progress::hidden()).map_err(|e| e.to_string())
}

/// Run the binary; (exit code, stderr).
fn run(path: &Path, out: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .arg(path)
        .args(["-q", "--format", "json", "-o"])
        .arg(out)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A 2021-era PyTorch profiler trace (PyTorch 1.8, the TensorBoard plugin's
/// samples): categories `Operator`, `Runtime`, `Kernel`, `Memcpy`, `Memset`;
/// `ProfilerStep#N` as an Operator; host `tid` as a numeric string, GPU `tid`
/// as `"stream 7"`; `external id` in lower case on GPU and runtime events,
/// `Input dims` in lower case on operators; flows in category `async`.
const KINETO_2021: &str = r#"{"schemaVersion": 1, "traceEvents": [
 {"ph": "X", "cat": "Operator", "name": "ProfilerStep#5", "pid": 118664, "tid": "1441273664", "ts": 1000, "dur": 100, "args": {"Input dims": [], "External id": 1}},
 {"ph": "X", "cat": "Operator", "name": "aten::conv2d", "pid": 118664, "tid": "1441273664", "ts": 1010, "dur": 30, "args": {"Input dims": [[32, 3, 224, 224], [64, 3, 7, 7]], "Input type": ["float", "float"], "External id": 2}},
 {"ph": "X", "cat": "Runtime", "name": "cudaLaunchKernel", "pid": 118664, "tid": "1441273664", "ts": 1020, "dur": 5, "args": {"cbid": 211, "correlation": 31, "external id": 2, "external ts": 1010}},
 {"ph": "s", "id": 31, "pid": 118664, "tid": 1441273664, "ts": 1020, "cat": "async", "name": "launch"},
 {"ph": "X", "cat": "Kernel", "name": "void implicit_convolve_sgemm<float, float, 128, 5, 5, 3, 3, 3, 1, false, true, true>(int, int)", "pid": 0, "tid": "stream 7", "ts": 1030, "dur": 40, "args": {"queued": 0, "device": 0, "context": 1, "stream": 7, "correlation": 31, "external id": 2}},
 {"ph": "f", "id": 31, "pid": 0, "tid": "stream 7", "ts": 1030, "cat": "async", "name": "launch", "bp": "e"},
 {"ph": "X", "cat": "Runtime", "name": "cudaMemcpyAsync", "pid": 118664, "tid": "1441273664", "ts": 1050, "dur": 3, "args": {"cbid": 41, "correlation": 32, "external id": 3}},
 {"ph": "X", "cat": "Memcpy", "name": "Memcpy HtoD (Pageable -> Device)", "pid": 0, "tid": "stream 7", "ts": 1071, "dur": 9, "args": {"device": 0, "context": 1, "stream": 7, "correlation": 32, "external id": 3, "bytes": 4096}},
 {"ph": "X", "cat": "Runtime", "name": "cudaMemsetAsync", "pid": 118664, "tid": "1441273664", "ts": 1060, "dur": 2, "args": {"cbid": 51, "correlation": 33, "external id": 4}},
 {"ph": "X", "cat": "Memset", "name": "Memset (Device)", "pid": 0, "tid": "stream 23", "ts": 1081, "dur": 1.5, "args": {"device": 0, "context": 1, "stream": 23, "correlation": 33, "external id": 4, "bytes": 15360}},
 {"ph": "X", "cat": "Trace", "ts": 900, "dur": 500, "pid": "Traces", "tid": "PyTorch Profiler", "name": "PyTorch Profiler (0)", "args": {"Op count": 0}}
]}"#;

#[test]
fn kineto_2021_category_spellings_are_read() {
    let s = Scratch::new("k2021");
    let t = load(&s.file("old.pt.trace.json", KINETO_2021.as_bytes())).unwrap();
    assert_eq!(t.kernels.len(), 1);
    let k = t.kernels[0];
    assert_eq!((k.start, k.end), (1_030_000, 1_070_000));
    assert_eq!((k.device, k.stream, k.correlation, k.pid), (0, 7, 31, 118664));
    assert_eq!(t.memcpys.len(), 1);
    let m = t.memcpys[0];
    assert_eq!(
        (m.start, m.end, m.bytes, m.correlation),
        (1_071_000, 1_080_000, 4096, 32)
    );
    assert_eq!(
        (m.kind, m.src, m.dst),
        (CopyKind::HtoD, MemKind::Pageable, MemKind::Device)
    );
    assert_eq!(t.memsets.len(), 1);
    assert_eq!(
        (t.memsets[0].start, t.memsets[0].end, t.memsets[0].stream),
        (1_081_000, 1_082_500, 23)
    );
    // Runtime calls keep their correlation ids and kinds.
    let mut calls: Vec<(u32, ApiKind)> = t.api_calls.iter().map(|a| (a.correlation, a.kind)).collect();
    calls.sort_by_key(|c| c.0);
    assert_eq!(
        calls,
        [
            (31, ApiKind::Launch),
            (32, ApiKind::MemcpyAsync),
            (33, ApiKind::MemsetAsync)
        ]
    );
    let host = &t.threads[t.api_calls[0].thread as usize];
    assert_eq!((host.pid, host.tid), (118664, 1441273664));
    // The step marker filed as an Operator declares the iteration.
    assert_eq!(t.iteration_range.as_deref(), Some("ProfilerStep#*"));
    assert_eq!(t.ranges.len(), 1);
    assert_eq!((t.ranges[0].start, t.ranges[0].end), (1_000_000, 1_100_000));
    // The operator's `Input dims` reach the kernel through `external id`.
    let op = t.operator_of(&k).expect("the convolution's shapes");
    assert_eq!(t.name(op.name), "aten::conv2d");
    assert_eq!(t.name(op.input_dims), "[[32,3,224,224],[64,3,7,7]]");
}

/// HTA's `cupti_profiler` trace: the CUPTI range profiler was on, so the
/// trace holds runtime calls and `cuda_profiler_range` events but no
/// kernel records. The reason must say so, not "without CUDA calls".
#[test]
fn kineto_range_profiler_trace_says_why_it_has_no_kernels() {
    let s = Scratch::new("rangeprof");
    let p = s.file(
        "rp.json",
        br#"{"traceEvents": [
 {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 7, "tid": 7, "ts": 10, "dur": 2, "args": {"correlation": 5}},
 {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 7, "tid": 7, "ts": 20, "dur": 2, "args": {"correlation": 6}},
 {"ph": "X", "cat": "cuda_runtime", "name": "cudaGetDevice", "pid": 7, "tid": 7, "ts": 30, "dur": 1, "args": {"correlation": 7}},
 {"ph": "X", "cat": "cuda_profiler_range", "name": "aten::mm", "pid": 0, "tid": 0, "ts": 10, "dur": 20, "args": {}}
]}"#,
    );
    let (code, err) = run(&p, &s.0.join("out"));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("3 CUDA runtime call(s) (2 kernel launch(es))"),
        "{err}"
    );
    assert!(err.contains("CUPTI range profiler"), "{err}");
}

/// HTA's `mtia_inference_rank_0`: an MTIA accelerator's trace
/// (`mtia_runtime`, `mtia_ccp_events`), not a GPU without activity.
#[test]
fn kineto_other_accelerator_trace_is_named() {
    let s = Scratch::new("mtia");
    let p = s.file(
        "mtia.json",
        br#"{"traceEvents": [
 {"ph": "X", "cat": "mtia_runtime", "name": "launch", "pid": 7, "tid": 7, "ts": 10, "dur": 2, "args": {}},
 {"ph": "X", "cat": "mtia_ccp_events", "name": "job", "pid": 1, "tid": 1, "ts": 11, "dur": 5, "args": {}},
 {"ph": "X", "cat": "cpu_op", "name": "aten::add", "pid": 7, "tid": 7, "ts": 9, "dur": 5, "args": {}}
]}"#,
    );
    let (code, err) = run(&p, &s.0.join("out"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("another accelerator (2 "), "{err}");
}

/// A CPU-only trace keeps its reason.
#[test]
fn kineto_cpu_only_trace_says_cpu_only() {
    let s = Scratch::new("cpuonly");
    let p = s.file(
        "cpu.json",
        br#"{"traceEvents": [{"ph": "X", "cat": "user_annotation", "name": "step", "pid": 7, "tid": 7, "ts": 10, "dur": 2}]}"#,
    );
    let (code, err) = run(&p, &s.0.join("out"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("without GPU activity or CUDA calls: CPU only"),
        "{err}"
    );
}

/// ROCm traces (TraceLens `mi300_bert_small`): kernels are filed under the
/// HSA agent id (2: two CPU agents come first) while `deviceProperties` has
/// the HIP ordinal 0. Before: an idle phantom GPU 0 and an "unknown GPU" 2.
/// AMD's computeMajor/Minor (9.4, a gfx version) is no CUDA capability.
#[test]
fn rocm_agent_ids_get_the_gpu_name_and_no_phantom() {
    let s = Scratch::new("rocm");
    let p = s.file(
        "mi300.json",
        br#"{"roctracer_version": 4.1, "hip_runtime_version": 60443483,
 "deviceProperties": [{"id": 0, "name": "AMD Instinct MI300X VF", "computeMajor": 9, "computeMinor": 4, "numSms": 304, "warpSize": 64}],
 "traceEvents": [
 {"ph": "X", "cat": "cuda_runtime", "name": "hipLaunchKernel", "pid": 7, "tid": 7, "ts": 10, "dur": 2, "args": {"correlation": 5}},
 {"ph": "X", "cat": "kernel", "name": "attn_fwd", "pid": 2, "tid": 1, "ts": 20, "dur": 8, "args": {"device": 2, "stream": 1, "correlation": 5}}
]}"#,
    );
    let t = load(&p).unwrap();
    assert_eq!(t.devices.len(), 1, "{:?}", t.devices);
    let d = &t.devices[0];
    assert_eq!(
        (d.id, d.name.as_str(), d.compute_capability, d.sm_count),
        (2, "AMD Instinct MI300X VF", None, Some(304))
    );
}

/// A CUDA trace's deviceProperties lists all 8 GPUs of the node; the
/// process used one. The others are not idle GPUs of this workload.
#[test]
fn kineto_unused_visible_gpus_are_not_listed() {
    let s = Scratch::new("eightgpu");
    let mut props = String::new();
    for i in 0..8 {
        props.push_str(&format!(
            r#"{}{{"id": {i}, "name": "NVIDIA A100-PG509-200", "computeMajor": 8, "computeMinor": 0, "numSms": 108}}"#,
            if i > 0 { "," } else { "" }
        ));
    }
    let doc = format!(
        r#"{{"deviceProperties": [{props}], "traceEvents": [
 {{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 7, "tid": 7, "ts": 10, "dur": 2, "args": {{"correlation": 5}}}},
 {{"ph": "X", "cat": "kernel", "name": "k", "pid": 3, "tid": 7, "ts": 20, "dur": 8, "args": {{"device": 3, "stream": 7, "correlation": 5}}}}
]}}"#
    );
    let t = load(&s.file("a100.json", doc.as_bytes())).unwrap();
    assert_eq!(t.devices.len(), 1);
    assert_eq!(
        (t.devices[0].id, t.devices[0].compute_capability),
        (3, Some((8, 0)))
    );
}

/// A minimal nsys export: StringIds, metadata under `meta_table`, a runtime
/// table with `calls` (name, count), and optionally a kernel table with one
/// kernel on CUDA device 0 and a TARGET_INFO_GPU listing GPUs 0 and 1.
fn nsys_db(path: &Path, meta_table: &str, calls: &[(&str, usize)], kernels: bool) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(&format!(
        "CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE {meta_table} (name TEXT, value TEXT);
         INSERT INTO {meta_table} VALUES ('EXPORT_PRODUCT_NAME', 'NVIDIA Nsight Systems'),
             ('EXPORT_PRODUCT_VERSION', '2021.1.1.66'), ('EXPORT_SCHEMA_VERSION', '2.4.0');
         CREATE TABLE CUPTI_ACTIVITY_KIND_RUNTIME (start INTEGER, end INTEGER, eventClass INTEGER,
             globalTid INTEGER, correlationId INTEGER, nameId INTEGER, returnValue INTEGER);"
    ))
    .unwrap();
    let mut corr = 1;
    for (i, (name, n)) in calls.iter().enumerate() {
        let id = 100 + i as i64;
        c.execute(
            "INSERT INTO StringIds VALUES (?1, ?2)",
            rusqlite::params![id, name],
        )
        .unwrap();
        for _ in 0..*n {
            c.execute(
                "INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME VALUES (?1, ?2, 1, 7, ?3, ?4, 0)",
                rusqlite::params![corr * 10, corr * 10 + 5, corr, id],
            )
            .unwrap();
            corr += 1;
        }
    }
    if kernels {
        c.execute_batch(
            "INSERT INTO StringIds VALUES (1, 'void k<(int)4>(float *)'), (2, 'k');
             CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER, end INTEGER, deviceId INTEGER,
                 contextId INTEGER, streamId INTEGER, correlationId INTEGER, globalPid INTEGER,
                 demangledName INTEGER, shortName INTEGER);
             INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (1000, 2000, 0, 1, 7, 1, 7, 1, 2);
             CREATE TABLE TARGET_INFO_GPU (id INTEGER, name TEXT, cuDevice INTEGER);
             INSERT INTO TARGET_INFO_GPU VALUES (0, 'NVIDIA A100-SXM4-80GB', 0), (1, 'NVIDIA A100-SXM4-80GB', 1);",
        )
        .unwrap();
    }
}

/// The JAX capture (`jax_mlp_cmdbuf_nokernels`) traced 445 CUDA API calls
/// (cuInit, cuGetProcAddress) and no kernels; it was told to "profile
/// with -t cuda", which it had done.
#[test]
fn nsys_cuda_traced_but_no_kernels_is_not_told_to_trace_cuda() {
    let s = Scratch::new("nokern");
    let p = s.0.join("nokernels.sqlite");
    nsys_db(
        &p,
        "META_DATA_EXPORT",
        &[
            ("cuGetProcAddress_v2", 4),
            ("cuInit", 2),
            ("cudaLaunchKernel_v7000", 1),
        ],
        false,
    );
    let (code, err) = run(&p, &s.0.join("out"));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("although CUDA was traced: 7 CUDA API call(s) recorded, 1 of them"),
        "{err}"
    );
    assert!(!err.contains("-t cuda"), "{err}");
    // Without any CUDA API table the advice is the right one.
    let q = s.0.join("nocuda.sqlite");
    let c = rusqlite::Connection::open(&q).unwrap();
    c.execute_batch("CREATE TABLE StringIds (id INTEGER, value TEXT); CREATE TABLE META_DATA_EXPORT (name TEXT, value TEXT);")
        .unwrap();
    drop(c);
    let (code, err) = run(&q, &s.0.join("out2"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("CUDA was not traced (profile with -t cuda)"),
        "{err}"
    );
}

/// Exports of 2020-2021 nsys keep their metadata in EXPORT_META_DATA:
/// the profiler version was lost.
#[test]
fn nsys_old_metadata_table_keeps_the_profiler_version() {
    let s = Scratch::new("oldmeta");
    let p = s.0.join("old.sqlite");
    nsys_db(&p, "EXPORT_META_DATA", &[("cudaLaunchKernel_v7000", 1)], true);
    let t = load(&p).unwrap();
    assert_eq!(
        t.source.profiler_version.as_deref(),
        Some("NVIDIA Nsight Systems 2021.1.1.66")
    );
    assert_eq!(t.source.schema_version.as_deref(), Some("2.4.0"));
}

/// TARGET_INFO_GPU lists every GPU of the node (Perlmutter: 4 A100s); the
/// CloverLeaf process used one. The others showed as idle GPUs.
#[test]
fn nsys_gpus_without_work_are_not_listed() {
    let s = Scratch::new("nsysgpus");
    let p = s.0.join("two.sqlite");
    nsys_db(&p, "META_DATA_EXPORT", &[("cudaLaunchKernel_v7000", 1)], true);
    let t = load(&p).unwrap();
    assert_eq!(t.devices.len(), 1, "{:?}", t.devices);
    assert_eq!(
        (t.devices[0].id, t.devices[0].name.as_str()),
        (0, "NVIDIA A100-SXM4-80GB")
    );
}

/// Without iterations the terminal said `window: 2.0 us (GpuSpan)`: a Rust
/// enum's name.
#[test]
fn terminal_window_line_speaks_words() {
    let s = Scratch::new("gpuspan");
    let p = s.0.join("span.sqlite");
    nsys_db(&p, "META_DATA_EXPORT", &[("cudaLaunchKernel_v7000", 1)], true);
    let o = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .arg(&p)
        .args(["--format", "json", "-o"])
        .arg(s.0.join("out"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("window:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("span of all GPU activity"), "{line}");
    assert!(!line.contains("GpuSpan"), "{line}");
}

/// Kineto writes a kernel name mangled when its own demangling failed (a
/// cuDNN-built CUTLASS convolution in HTA's `nccl_data`); it read as
/// nothing to the categories. Oracle: c++filt on the same symbol gives
/// `void cutlass::Kernel<cutlass::conv::kernel::ImplicitGemmConvolution<float> >(...)`.
#[test]
fn mangled_kernel_names_are_demangled() {
    let s = Scratch::new("mangled");
    let p = s.file(
        "mangled.json",
        br#"{"traceEvents": [
 {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 7, "tid": 7, "ts": 10, "dur": 2, "args": {"correlation": 5}},
 {"ph": "X", "cat": "kernel", "name": "_ZN7cutlass6KernelINS_4conv6kernel23ImplicitGemmConvolutionIfEEEEvNT_6ParamsE", "pid": 0, "tid": 7, "ts": 20, "dur": 8, "args": {"device": 0, "stream": 7, "correlation": 5}}
]}"#,
    );
    let t = load(&p).unwrap();
    let name = t.name(t.kernels[0].name);
    assert!(
        name.starts_with("void cutlass::Kernel<cutlass::conv::kernel::ImplicitGemmConvolution<float>"),
        "{name}"
    );
    assert_eq!(t.name(t.kernels[0].short_name), "Kernel");
    let r = trace_report::pipeline::analyze(&t, &Default::default()).unwrap();
    assert_eq!(r.kernels[0].short_name, "ImplicitGemmConvolution");
    assert_eq!(
        r.kernels[0].category,
        trace_report::analysis::category::Category::Conv
    );
}

/// The bundled BERT pair (one H100 workload, nsys SQLite and Kineto)
/// shared 4 of 9 kernel names: nsys writes `<(int)8>`, `(bool)0`,
/// `<unnamed>`, `[lambda() (instance 3)]` and template parameters in the
/// parameter list; cxxabi `<8>`, `false`, `(anonymous namespace)`,
/// `{lambda()#3}` and types. Oracle: each file's distinct kernel names,
/// read with SQL and serde_json (9 each, the same kernels by construction).
#[test]
fn nsys_and_kineto_spellings_share_one_identity() {
    use std::collections::BTreeSet;
    use std::io::Read;
    let sqlite = Path::new("sample_traces/bert_fp16_aligned.sqlite");
    let kineto = Path::new("tests/fixtures/kineto/bert_fp16_aligned.kineto.json.gz");
    let c =
        rusqlite::Connection::open_with_flags(sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let nsys_names: BTreeSet<String> = c
        .prepare("SELECT DISTINCT s.value FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.demangledName")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(kineto).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let kineto_names: BTreeSet<String> = doc["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["cat"] == "kernel")
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!((nsys_names.len(), kineto_names.len()), (9, 9));
    assert_eq!(
        nsys_names.intersection(&kineto_names).count(),
        4,
        "the spellings differ"
    );
    // The reports' canonical identities line up, whole capture against whole capture.
    let whole = trace_report::pipeline::AnalysisOptions {
        window: trace_report::analysis::window::WindowChoice::WholeCapture,
        ..Default::default()
    };
    let canon = |p: &Path| -> BTreeSet<String> {
        let r = trace_report::pipeline::analyze(&load(p).unwrap(), &whole).unwrap();
        r.kernels.iter().map(|k| k.canonical_name.clone()).collect()
    };
    let (a, b) = (canon(sqlite), canon(kineto));
    assert_eq!(a.len(), 9);
    assert_eq!(a, b);
    // And `diff` across the two sources pairs each kernel by its identity.
    let s = Scratch::new("bertdiff");
    let o = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .args(["diff", "--format", "json", "-q", "-o"])
        .arg(s.0.join("d"))
        .arg(sqlite)
        .arg(kineto)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let d: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.0.join("d/diff.json")).unwrap()).unwrap();
    for row in d["kernels"].as_array().unwrap() {
        let both = !row["base"].as_array().unwrap().is_empty() && !row["new"].as_array().unwrap().is_empty();
        let one_sided =
            row["base"].as_array().unwrap().is_empty() || row["new"].as_array().unwrap().is_empty();
        assert!(row["match"] == "name" || one_sided, "{row}");
        if both {
            assert_eq!(row["base"].as_array().unwrap().len(), 1);
        }
    }
    // Every kernel of the base window is found in the new one.
    let base_rows = d["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["base"].as_array().unwrap().is_empty());
    assert!(base_rows.clone().count() >= 8);
    assert!(base_rows.into_iter().all(|r| r["match"] == "name"));
}

/// `std::enable_if<!(false), void>::type internal::gemvx::kernel<int, ...>`
/// (cuBLAS GEMV in HTA/TraceLens traces): its short name must not be a
/// return-type template (`enable_if`) or an argument (`int`).
#[test]
fn templated_kernel_short_names_are_the_function() {
    use trace_report::analysis::kernels::readable_short_name;
    let full = "std::enable_if<!(false), void>::type internal::gemvx::kernel<int, int, __nv_bfloat16, float, false, true>(T13)";
    assert_eq!(readable_short_name(full, "enable_if"), "gemvx::kernel");
    assert_eq!(readable_short_name(full, "kernel"), "gemvx::kernel");
    let ck = "void ck_tile::kentry<2, ck_tile::FmhaBatchPrefillWithPagedKVCacheKernel<int>>(int)";
    assert_eq!(readable_short_name(ck, "kentry"), "ck_tile::kentry");
}
