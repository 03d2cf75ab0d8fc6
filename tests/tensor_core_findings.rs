//! The Tensor Core findings (TR401-TR404) on the sample traces: they fire
//! on the FP32, misaligned and INT8 cases, stay silent on the aligned FP16
//! baseline, and their numbers match SQL over the same files. There is no
//! depthwise sample trace: TR402 is checked on traces built here from real
//! kernel-name spellings.

mod common;

use std::path::PathBuf;

use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use trace_report::analysis::phase::PhaseRules;
use trace_report::analysis::tensor_core::reason::{KernelShapes, OpShape};
use trace_report::analysis::tensor_core::{self, Inputs};
use trace_report::analysis::window::{self, WindowChoice};
use trace_report::analysis::{attribution, kernels};
use trace_report::document::Report;
use trace_report::findings::{self, Context, Finding, Severity};
use trace_report::model::{ApiCall, ApiKind, Device, Kernel, Range, RangeKind, Thread, Trace};
use trace_report::pipeline::{AnalysisOptions, analyze};
use trace_report::progress::Progress;

fn path(scenario: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("sample_traces")
        .join(format!("{scenario}.sqlite"))
}

fn report(scenario: &str) -> Report {
    let trace = trace_report::input::load(&path(scenario), &Default::default(), &Progress::hidden()).unwrap();
    analyze(&trace, &AnalysisOptions::default()).unwrap()
}

fn sql(scenario: &str) -> Connection {
    Connection::open_with_flags(path(scenario), OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// Kernel time in the window (GPU start inside an `iter` range) of kernels
/// whose name matches any LIKE pattern.
fn window_kernel_ns(scenario: &str, patterns: &[&str]) -> i64 {
    let like: Vec<String> = patterns
        .iter()
        .map(|p| format!("s.value LIKE '{p}' ESCAPE '\\'"))
        .collect();
    let conn = sql(scenario);
    // The window: each `iter` range to the end of the GPU work it launched.
    let window = common::window_sql_of(&conn);
    conn.query_row(
        &format!(
            "SELECT coalesce(sum(k.end - k.start), 0) FROM CUPTI_ACTIVITY_KIND_KERNEL k
                 JOIN StringIds s ON s.id = k.demangledName
                 WHERE ({}) AND EXISTS (SELECT 1 FROM ({window}) n
                       WHERE k.start >= n.s AND k.start < n.e)",
            like.join(" OR ")
        ),
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn tr4(r: &Report) -> Vec<&Finding> {
    r.findings.iter().filter(|f| f.code.starts_with("TR4")).collect()
}

fn one<'a>(r: &'a Report, code: &str) -> &'a Finding {
    let v: Vec<_> = r.findings.iter().filter(|f| f.code == code).collect();
    assert_eq!(
        v.len(),
        1,
        "{code}: {:?}",
        r.findings.iter().map(|f| &f.title).collect::<Vec<_>>()
    );
    v[0]
}

fn fact(f: &Finding, key: &str) -> Value {
    f.evidence.facts.get(key).cloned().unwrap_or(Value::Null)
}

#[test]
fn silent_on_the_aligned_fp16_baseline() {
    let r = report("bert_fp16_aligned");
    assert!(
        tr4(&r).is_empty(),
        "{:?}",
        tr4(&r).iter().map(|f| &f.title).collect::<Vec<_>>()
    );
    assert_eq!(r.tensor_cores.share, Some(1.0));
}

#[test]
fn healthy_resnet_baseline_has_nothing_at_warning_level() {
    let r = report("resnet50_fp16_cl_gpupre");
    for f in tr4(&r) {
        assert_eq!(f.severity, Severity::Info, "{}", f.title);
    }
    assert_eq!(r.tensor_cores.share, Some(1.0));
}

#[test]
fn misaligned_bert_fires_low_alignment() {
    let r = report("bert_fp16_misaligned");
    let f = one(&r, "TR403");
    assert_eq!(f.rule, "low-alignment");
    assert!(f.severity >= Severity::Warning);
    let expected = window_kernel_ns(
        "bert_fp16_misaligned",
        &["%cutlass\\_%tensorop%align1>%", "%cutlass\\_%tensorop%align2>%"],
    );
    assert!(expected > 0);
    assert_eq!(fact(f, "kernel_ns"), Value::from(expected));
    assert_eq!(f.time_at_stake_ns, expected / 2);
    assert_eq!(fact(f, "kernels"), Value::from(5));
    // Nothing else of TR4xx: every GEMM there is on Tensor Cores.
    assert_eq!(tr4(&r).len(), 1);
}

#[test]
fn gemm_trace_fires_fp32_odd_k_and_int8() {
    let scenario = "gemm_int8_fp16_fp32";
    let r = report(scenario);
    // TR401: the FP32 GEMM with TF32 off.
    let f = one(&r, "TR401");
    assert_eq!(fact(f, "cause"), Value::from("fp32-no-tf32"));
    assert_eq!(
        fact(f, "kernel_ns"),
        Value::from(window_kernel_ns(scenario, &["%\\_ffma\\_%"]))
    );
    assert_eq!(f.severity, Severity::Error);
    // TR403: the K = 4093 GEMM, launched from the fp16_gemm_odd range.
    let f = one(&r, "TR403");
    assert_eq!(
        fact(f, "kernel_ns"),
        Value::from(window_kernel_ns(scenario, &["%tensorop%align1>%"]))
    );
    let launched_from: String = sql(scenario)
        .query_row(
            "SELECT n.text FROM CUPTI_ACTIVITY_KIND_KERNEL k
             JOIN StringIds s ON s.id = k.demangledName
             JOIN CUPTI_ACTIVITY_KIND_RUNTIME a ON a.correlationId = k.correlationId
             JOIN NVTX_EVENTS n ON n.globalTid = a.globalTid AND n.start <= a.start AND n.end >= a.start
             WHERE s.value LIKE '%align1>%'
             GROUP BY n.text ORDER BY min(n.end - n.start) LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(launched_from, "fp16_gemm_odd");
    assert_eq!(fact(f, "launched_from"), Value::from(launched_from));
    // TR404: the INT8 range launches more GPU time than the FP16 one.
    let f = one(&r, "TR404");
    let per_occurrence = |range: &str| -> i64 {
        sql(scenario)
            .query_row(
                "SELECT sum(t) / count(*) FROM (
                   SELECT n.start, sum(k.end - k.start) AS t FROM NVTX_EVENTS n
                   JOIN CUPTI_ACTIVITY_KIND_RUNTIME a ON a.globalTid = n.globalTid
                        AND a.start >= n.start AND a.start <= n.end
                   JOIN CUPTI_ACTIVITY_KIND_KERNEL k ON k.correlationId = a.correlationId
                   WHERE n.text = ?1 AND EXISTS (SELECT 1 FROM NVTX_EVENTS i WHERE i.text = 'iter'
                         AND n.start >= i.start AND n.start < i.end)
                   GROUP BY n.start)",
                [range],
                |r| r.get(0),
            )
            .unwrap()
    };
    let (int8, fp16) = (per_occurrence("int8_gemm"), per_occurrence("fp16_gemm"));
    assert!(int8 > fp16, "{int8} vs {fp16}");
    assert_eq!(fact(f, "int8_range"), Value::from("int8_gemm"));
    assert_eq!(fact(f, "half_range"), Value::from("fp16_gemm"));
    assert_eq!(fact(f, "int8_per_occurrence_ns"), Value::from(int8));
    assert_eq!(fact(f, "half_per_occurrence_ns"), Value::from(fp16));
}

#[test]
fn fp32_simt_sgemm_fires_no_tensor_cores() {
    let r = report("redundant_copies");
    let f = one(&r, "TR401");
    assert_eq!(fact(f, "cause"), Value::from("fp32-no-tf32"));
    assert_eq!(
        fact(f, "kernel_ns"),
        Value::from(window_kernel_ns("redundant_copies", &["%simt\\_sgemm%"]))
    );
}

/// A trace of three `iter` ranges, each launching the given kernels
/// (name, duration) back to back.
fn built(kernels: &[(&str, i64)]) -> Trace {
    let mut t = Trace::default();
    t.threads.push(Thread {
        pid: 1,
        tid: 1,
        name: None,
    });
    t.devices.push(Device {
        id: 0,
        name: "test GPU".into(),
        compute_capability: Some((9, 0)),
        sm_count: None,
    });
    let iter = t.names.intern("iter");
    let launch = t.names.intern("cudaLaunchKernel_v7000");
    let mut corr = 0;
    for i in 0..3i64 {
        let start = i * 1_000_000;
        t.ranges.push(Range {
            start,
            end: start + 900_000,
            name: iter,
            thread: 0,
            kind: RangeKind::PushPop,
            domain: 0,
        });
        let mut gpu = start + 10_000;
        for (j, (name, dur)) in kernels.iter().enumerate() {
            corr += 1;
            let id = t.names.intern(name);
            t.api_calls.push(ApiCall {
                start: start + 1_000 * j as i64,
                end: start + 1_000 * j as i64 + 500,
                name: launch,
                thread: 0,
                correlation: corr,
                kind: ApiKind::Launch,
            });
            t.kernels.push(Kernel {
                start: gpu,
                end: gpu + dur,
                name: id,
                short_name: id,
                device: 0,
                stream: 7,
                pid: 1,
                correlation: corr,
            });
            gpu += dur + 1_000;
        }
    }
    t.sort();
    t
}

// Spelled the way nsys writes PyTorch and cuDNN kernels (casts such as
// `(int)3`, `<unnamed>` namespaces, `c10::Half`), as in the sample traces.
const DEPTHWISE: &str = "void at::native::<unnamed>::conv_depthwise2d_forward_kernel<(int)3, c10::Half, int>(at::GenericPackedTensorAccessor<const T2, (unsigned long)4, at::DefaultPtrTraits, T3>, at::GenericPackedTensorAccessor<T2, (unsigned long)4, at::DefaultPtrTraits, T3>, at::GenericPackedTensorAccessor<const T2, (unsigned long)4, at::DefaultPtrTraits, T3>, at::GenericPackedTensorAccessor<const T2, (unsigned long)1, at::DefaultPtrTraits, T3>, bool, T3, T3, int, T3, T3, T3, T3, int, int, int, int, int, int, int, int)";
const GROUPED: &str = "void cudnn::cnn::conv2d_grouped_direct_kernel<(bool)0, (bool)1, (bool)0, (bool)0, (bool)0, (bool)0, int, float, float, float, float, float, float>(cudnn::cnn::GroupedDirectFpropParams, const T8 *, const T9 *, T10 *, T11, T11, const T12 *, const T13 *, const T14 *, int, int, int)";
const DENSE: &str = "sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x128x64_warpgroupsize1x1x1_g1_execute_segment_k_off_kernel__5x_cudnn";
const GENERIC: &str = "void implicit_convolve_sgemm<__half, __half, (int)128, (int)5, (int)5, (int)3, (int)3, (int)3, (int)1, (bool)0, (bool)0, (bool)1>(int, int, int, const T1 *, int, T2 *, const T1 *, kernel_conv_params, unsigned long long, int, float, float, int, const T2 *, const T2 *, bool, int, int)";

#[test]
fn depthwise_and_grouped_convolutions_fire_depthwise_conv() {
    // A MobileNet-like block per iteration: depthwise 3x3, grouped, dense 1x1.
    let t = built(&[(DEPTHWISE, 60_000), (GROUPED, 30_000), (DENSE, 40_000)]);
    let r = analyze(&t, &AnalysisOptions::default()).unwrap();
    assert_eq!(r.window.iterations, 3);
    let f = one(&r, "TR402");
    assert_eq!(f.rule, "depthwise-conv");
    // Three iterations of 60 us + 30 us of depthwise/grouped work.
    assert_eq!(fact(f, "kernel_ns"), Value::from(3 * (60_000 + 30_000)));
    assert_eq!(fact(f, "kernels"), Value::from(2));
    assert_eq!(f.time_at_stake_ns, 3 * 90_000 / 2);
    // 135 us at stake in a 2.7 ms window: 5%.
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        r.findings.iter().all(|f| f.code != "TR401"),
        "depthwise is not no-tensor-cores"
    );
    assert_eq!(r.tensor_cores.tensor_core_ns, 3 * 40_000);
    assert_eq!(r.tensor_cores.cuda_core_ns, 3 * 90_000);
}

#[test]
fn known_shapes_turn_a_generic_conv_into_a_tiny_channel_one() {
    let t = built(&[(GENERIC, 50_000), (DENSE, 50_000)]);
    let w = window::choose(&t, &WindowChoice::Auto).unwrap();
    let run = |shapes: Option<&KernelShapes>| {
        let mut rows = kernels::summarize(&t, &w);
        tensor_core::annotate(
            &t,
            &w,
            &mut rows,
            Inputs {
                ncu: None,
                shapes,
                layers: None,
            },
        );
        let a = attribution::attribute(&t, &w, &PhaseRules::default());
        let found = findings::run(&Context {
            trace: &t,
            window: &w,
            attribution: &a,
            kernels: &rows,
        });
        (rows, found)
    };
    // By name alone: cuDNN's generic CUDA-core convolution, TR401.
    let (rows, found) = run(None);
    assert!(found.iter().any(|f| f.code == "TR401"));
    assert!(found.iter().all(|f| f.code != "TR402"));
    let generic = rows.iter().find(|r| r.name == GENERIC).unwrap();
    assert!(
        generic
            .tensor_core_reason
            .as_deref()
            .unwrap()
            .contains("generic CUDA-core convolution")
    );
    // With the layer's shape (a 3-channel input), the channel count is named.
    let shapes: KernelShapes = [(
        GENERIC.to_string(),
        OpShape::Conv {
            c: 3,
            k: 64,
            groups: 1,
        },
    )]
    .into();
    let (rows, found) = run(Some(&shapes));
    let tr402: Vec<_> = found.iter().filter(|f| f.code == "TR402").collect();
    assert_eq!(tr402.len(), 1);
    assert!(found.iter().all(|f| f.code != "TR401"));
    let generic = rows.iter().find(|r| r.name == GENERIC).unwrap();
    assert!(
        generic
            .tensor_core_reason
            .as_deref()
            .unwrap()
            .starts_with("C = 3 input channels")
    );
}

#[test]
fn every_tensor_core_rule_is_documented() {
    for code in ["TR401", "TR402", "TR403", "TR404"] {
        let rule = findings::rule(code).unwrap();
        assert!(rule.doc().len() > 400, "{code}");
        assert_eq!(findings::rule(rule.name()).unwrap().code(), code);
    }
    assert_eq!(findings::rule("int8-slower").unwrap().code(), "TR404");
}

#[test]
fn html_and_markdown_show_the_section_with_names_escaped() {
    let r = report("gemm_int8_fp16_fp32");
    let html = String::from_utf8(trace_report::report::html::render(&r)).unwrap();
    assert!(html.contains("<h2 id=\"tensor-cores\">Tensor Cores</h2>"));
    let share = trace_report::text::format::pct(r.tensor_cores.tensor_core_ns, r.tensor_cores.eligible_ns);
    assert!(html.contains(&format!("<b>{share}</b> of the window's matrix time")));
    assert!(html.contains("yes (slow variant)"));
    let md = String::from_utf8(trace_report::report::markdown::render(&r)).unwrap();
    assert!(md.contains(&format!("**Tensor Cores:** {share} of matrix time")));
    // A hostile kernel name stays inert.
    let t = built(&[("gemm_<script>alert(1)</script>|x", 50_000), (DENSE, 50_000)]);
    let r = analyze(&t, &AnalysisOptions::default()).unwrap();
    assert_eq!(r.tensor_cores.unknown_ns, 3 * 50_000);
    let html = String::from_utf8(trace_report::report::html::render(&r)).unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("gemm_&lt;script&gt;"));
    let md = String::from_utf8(trace_report::report::markdown::render(&r)).unwrap();
    assert!(!md.contains("<script>"));
}
