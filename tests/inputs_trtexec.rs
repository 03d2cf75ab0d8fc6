//! The TensorRT reader on hand-made trtexec files
//! (tests/fixtures/trtexec/, written for these tests in the format of
//! `trtexec --exportLayerInfo` / `--exportProfile`; see the README there).
//!
//! The expected values are worked out by hand from the fixture text (they
//! are small on purpose): e.g. averageMs 0.0040625 is 4062.5 ns, which
//! rounds to 4063; the layers of tiny_int8 sum to
//! 4063 + 21500 + 8100 + 3000 + 12346 + 2000 = 51009 ns.

use std::path::Path;

use trace_report::document::Report;
use trace_report::input;
use trace_report::model::Trace;
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

const DIR: &str = "tests/fixtures/trtexec";

fn load(name: &str) -> Trace {
    input::load(
        &Path::new(DIR).join(name),
        &Default::default(),
        &Progress::hidden(),
    )
    .unwrap()
}

fn report(name: &str) -> Report {
    pipeline::analyze(&load(name), &AnalysisOptions::default()).unwrap()
}

#[test]
fn either_file_finds_the_other() {
    for name in ["tiny_int8.graph.json", "tiny_int8.profile.json"] {
        assert_eq!(
            input::detect(&Path::new(DIR).join(name), None).unwrap().name(),
            "trtexec"
        );
        let t = load(name);
        let e = t.engine.as_ref().unwrap();
        assert_eq!(e.layers.len(), 7, "{name}");
        assert_eq!(e.profiled_iterations, Some(1000));
        assert_eq!(e.build_precision.as_deref(), Some("FP32+FP16+INT8"));
        assert_eq!(t.devices[0].name, "NVIDIA A100-SXM4-40GB");
        assert_eq!(t.devices[0].compute_capability, Some((8, 0)));
    }
}

#[test]
fn layers_on_a_synthetic_timeline() {
    let t = load("tiny_int8.graph.json");
    let e = t.engine.as_ref().unwrap();
    let times: Vec<i64> = e.layers.iter().map(|l| l.average_ns).collect();
    assert_eq!(times, [4063, 21500, 8100, 3000, 12346, 2000, 0]);
    assert_eq!(e.layers[1].median_ns, Some(21504));
    assert_eq!(e.layers[1].total_ns, Some(21_500_000));
    // Profile order, then the graph layer the profile did not time.
    assert_eq!(e.layers[5].name, "softmax");
    assert_eq!(
        e.layers[6].name,
        "Reformatting CopyNode for Output Tensor 0 to fc1"
    );
    assert!(!e.layers[6].profiled);
    // One kernel per layer, back to back from 0, named by the tactic.
    assert_eq!(t.kernels.len(), 7);
    let mut at = 0;
    for (k, l) in t.kernels.iter().zip(&e.layers) {
        assert_eq!((k.start, k.end), (at, at + l.average_ns));
        assert_eq!(k.start, l.start);
        at = k.end;
        let want = l.tactic.as_deref().unwrap_or(&l.name);
        assert_eq!(t.name(k.name), want);
    }
    assert_eq!(at, 51009);
    assert!(
        t.name(t.kernels[1].name)
            .starts_with("sm80_xmma_fprop_implicit_gemm_interleaved_i8i8")
    );
    // The whole inference is kernel time.
    let r = report("tiny_int8.graph.json");
    assert_eq!(r.attribution.window.total_ns, 51009);
    assert_eq!(r.attribution.window.activity.kernel_ns, 51009);
}

#[test]
fn engine_report_flags() {
    let r = report("tiny_int8.profile.json");
    let e = r.engine.as_ref().unwrap();
    assert!(e.int8);
    assert_eq!(e.total_ns, 51009);
    let l = &e.layers;
    // Conversions: the inserted input reformat (layout and precision), the
    // model's dequantize (precision only), the untimed copy node (nothing).
    assert_eq!(e.conversions.layers, [0, 3, 6]);
    assert_eq!(e.conversions.total_ns, 4063 + 3000);
    let c0 = l[0].conversion.as_ref().unwrap();
    assert!(c0.inserted && c0.layout_changes && c0.precision_changes);
    assert_eq!(c0.from, "Row major linear FP32");
    assert_eq!(c0.to, "Four wide channel vectorized row major Int8 format");
    assert_eq!(l[0].precision, "FP32->INT8");
    let c3 = l[3].conversion.as_ref().unwrap();
    assert!(!c3.inserted && !c3.layout_changes && c3.precision_changes);
    let c6 = l[6].conversion.as_ref().unwrap();
    assert!(c6.inserted && !c6.layout_changes && !c6.precision_changes);
    // The FP16 GEMM in an INT8 engine.
    assert_eq!(e.int8_fallbacks.layers, [4]);
    assert_eq!(e.int8_fallbacks.total_ns, 12346);
    assert_eq!(l[4].precision, "FP16");
    // Channels 3 and 24 in INT8 (want 16), K = 1020 in FP16 (want 8); the
    // depthwise convolution is not checked.
    assert_eq!(
        l[1].misaligned,
        [
            "input channels 3 is not a multiple of 16 (INT8)",
            "output channels 24 is not a multiple of 16 (INT8)"
        ]
    );
    assert!(l[2].misaligned.is_empty());
    assert_eq!(
        l[4].misaligned,
        ["input 0 last dimension 1020 is not a multiple of 8 (FP16)"]
    );
    assert_eq!(e.misaligned.layers, [1, 4]);
    // Shares and groups.
    assert!((l[1].percent - 21500.0 * 100.0 / 51009.0).abs() < 1e-9);
    assert_eq!(e.by_type[0].name, "CaskConvolution");
    assert_eq!(e.by_type[0].total_ns, 21500);
    let int8: i64 = e
        .by_precision
        .iter()
        .filter(|g| g.name == "INT8")
        .map(|g| g.total_ns)
        .sum();
    assert_eq!(int8, 21500 + 8100);
    // The kernel of each layer is in the kernel table under its tactic.
    assert!(r.kernels.iter().any(|k| Some(&k.name) == l[4].tactic.as_ref()));
}

#[test]
fn report_json_and_html_have_the_engine() {
    let r = report("tiny_int8.graph.json");
    let json = String::from_utf8(trace_report::report::json::render(&r)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["engine"]["total_ns"], 51009);
    assert_eq!(v["engine"]["layers"][4]["int8_fallback"], true);
    assert_eq!(v["engine"]["layers"].as_array().unwrap().len(), 7);
    let html = String::from_utf8(trace_report::report::html::render(&r)).unwrap();
    assert!(html.contains("<h2 id=\"engine\">Engine layers</h2>"));
    assert!(html.contains("runs in FP16 in an INT8 engine"));
    assert!(html.contains("layout and precision conversion inserted by TensorRT"));
    // Other inputs have no engine key at all.
    let plain = pipeline::analyze(
        &input::load(
            Path::new("sample_traces/redundant_copies.sqlite"),
            &Default::default(),
            &Progress::hidden(),
        )
        .unwrap(),
        &AnalysisOptions::default(),
    )
    .unwrap();
    let json = String::from_utf8(trace_report::report::json::render(&plain)).unwrap();
    assert!(!json.contains("\"engine\""));
}

#[test]
fn layer_names_only_and_profile_alone() {
    // Without detailed verbosity the graph lists names only.
    let t = load("names_only.layers.json");
    let e = t.engine.as_ref().unwrap();
    let names: Vec<&str> = e.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["stem", "body", "head"]);
    assert_eq!(t.kernels.last().unwrap().end, 150_000 + 300_000 + 50_000);
    // A profile without a graph: times only, with a warning.
    let t = load("lonely.profile.json");
    assert_eq!(t.engine.as_ref().unwrap().layers[0].average_ns, 1000);
    assert!(t.warnings.iter().any(|w| w.contains("--exportLayerInfo")));
}

#[test]
fn graph_without_profile_is_an_error() {
    let e = input::load(
        &Path::new(DIR).join("orphan.graph.json"),
        &Default::default(),
        &Progress::hidden(),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("orphan.graph.json"), "{msg}");
    assert!(msg.contains("orphan.profile.json"), "{msg}");
}

#[test]
fn layers_carry_the_tactics_tensor_core_verdict() {
    // Both tactics of the fixture name their MMA shape (`tensor16x8x32`
    // IMMA, `tensor16x8x16` HMMA): Tensor Core kernels by the name grammar.
    let r = report("tiny_int8.graph.json");
    let e = r.engine.as_ref().expect("engine report");
    let mut with_tactic = 0;
    for l in &e.layers {
        let Some(t) = &l.tactic else { continue };
        if t.contains("tensor16x8x") {
            with_tactic += 1;
            let v = serde_json::to_value(l.tensor_core).unwrap();
            assert_eq!(v, "yes", "{}: {t}", l.name);
            // The same verdict as the layer's kernel row.
            let k = r.kernels.iter().find(|k| k.name == l.kernel).expect("kernel row");
            assert_eq!(Some(k.tensor_core), l.tensor_core);
        }
    }
    assert_eq!(with_tactic, 2);
}

/// A profile alone (no --exportLayerInfo, as Jetson users often have):
/// the kernel names are layer names chosen by the model, so a fused
/// `conv + Add + Relu` layer is a convolution of unknown Tensor Core use,
/// never an elementwise `no` for its `Relu`; the DLA subgraph and the
/// reformatters at its boundary are not GPU layout conversions; the
/// reformat between two GPU layers still is.
#[test]
fn profile_alone_has_no_name_verdicts_and_dla_is_not_gpu_layout() {
    use trace_report::analysis::category::Category;
    use trace_report::analysis::tensor_core::names::Verdict;
    let r = report("jetson_dla.profile.json");
    let row = |name: &str| {
        r.kernels
            .iter()
            .find(|k| k.name == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let fused = row("layer1.0.conv2.weight + QuantizeLinear_32 + Conv_34 + Add_36 + Relu_37");
    assert_eq!(
        (fused.category, fused.tensor_core),
        (Category::Conv, Verdict::Unknown)
    );
    let clip = row("features.0.0.weight + QuantizeLinear_8 + Conv_12 + PWN(Clip_16)");
    assert_eq!(
        (clip.category, clip.tensor_core),
        (Category::Conv, Verdict::Unknown)
    );
    let fc = row("fc.weight + MatMul_70 + Add_71");
    assert_eq!((fc.category, fc.tensor_core), (Category::Gemm, Verdict::Unknown));
    for dla in [
        "{ForeignNode[Conv_40...Relu_55]}",
        "Reformatting CopyNode for Input Tensor 0 to {ForeignNode[Conv_40...Relu_55]}",
        "Reformatting CopyNode for Output Tensor 0 to {ForeignNode[Conv_40...Relu_55]}",
    ] {
        let k = row(dla);
        assert_eq!(
            (k.category, k.tensor_core),
            (Category::Other, Verdict::Unknown),
            "{dla}"
        );
    }
    let gpu_reformat = row("Reformatting CopyNode for Input Tensor 0 to MaxPool_60");
    assert_eq!(
        (gpu_reformat.category, gpu_reformat.tensor_core),
        (Category::Layout, Verdict::No)
    );
    assert_eq!(row("MaxPool_60").category, Category::Pooling);
    // One conversion: the GPU reformat (5 us); the DLA boundary is not one.
    let e = r.engine.as_ref().unwrap();
    assert_eq!((e.conversions.count, e.conversions.total_ns), (1, 5_000));
    // The layout finding, if any, holds the GPU reformat alone (5 us), not
    // the DLA transfers (10 us more).
    for f in &r.findings {
        if f.rule == "layout-transpose" {
            assert_eq!(f.time_at_stake_ns, 5_000, "{}", f.title);
        }
    }
}
