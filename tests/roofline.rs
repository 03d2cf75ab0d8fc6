//! The roofline on a real H200 capture of `examples/captures/roofline.py`
//! (kernels at known points: a bf16 8192^3 GEMM, fp16 and fp32 4096^3 GEMMs,
//! a 1 GiB device copy, a 2x256 MiB add, a 3x3 convolution, a depthwise
//! convolution, layernorm and softmax), three views of it:
//! - `roofline_h200.sqlite`: the nsys capture (3 `iter` iterations), trimmed;
//! - `roofline_h200.ncu.csv`: Nsight Compute counters of ONE iteration of the
//!   same script (a separate run), columns trimmed;
//! - `roofline_h200.pt.trace.json.gz`: the PyTorch profiler trace of the same
//!   script with record_shapes (3 ProfilerSteps).
//!
//! Oracles: the counter values below are copied from the CSV rows (ID 0..7)
//! and combined by hand as ncu's roofline sections do; the shape formulas
//! are worked out in the comments. Nothing is compared with what the code
//! printed before.

use std::path::{Path, PathBuf};

use trace_report::analysis::kernels::KernelRow;
use trace_report::analysis::roofline::{Bound, Roof, WorkSource};
use trace_report::document::Report;
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn report(name: &str, ncu: bool, peaks: Option<PathBuf>) -> Report {
    let trace = trace_report::input::load(&fixture(name), &Default::default(), &Progress::hidden()).unwrap();
    let opts = AnalysisOptions {
        ncu: ncu.then(|| fixture("roofline_h200.ncu.csv")),
        gpu_peaks: peaks,
        ..AnalysisOptions::default()
    };
    pipeline::analyze(&trace, &opts).unwrap()
}

fn kernel<'a>(r: &'a Report, prefix: &str) -> &'a KernelRow {
    r.kernels
        .iter()
        .find(|k| k.short_name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no kernel {prefix}"))
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

/// Per-kernel FLOPs and DRAM bytes are ncu's counters, per profiled launch,
/// times the launches in the nsys window (3: one per iteration).
#[test]
fn counters_give_flops_and_dram_bytes() {
    let r = report("roofline_h200.sqlite", true, None);
    assert_eq!(r.window.iterations, 3);
    // ID 0, nvjet bf16 GEMM: sm__ops_path_tensor_src_bf16_dst_fp32.sum
    // 1,116,691,496,960; DRAM 1,249,984,768 read + 130,505,216 written.
    let g = kernel(&r, "nvjet_sm90_tst_320x128");
    let p = g.roofline.as_ref().unwrap();
    assert_eq!(g.count, 3);
    assert_eq!(p.work_source, WorkSource::Counters);
    assert_eq!(p.flops.unwrap(), 3.0 * 1_116_691_496_960.0);
    assert_eq!(p.bytes, 3.0 * (1_249_984_768.0 + 130_505_216.0));
    // ID 1, fp16 GEMM: src_fp16 137,438,953,472 = 2*4096^3 exactly.
    let p = kernel(&r, "nvjet_sm90_hsh_256x128").roofline.clone().unwrap();
    assert_eq!(p.flops.unwrap(), 3.0 * 137_438_953_472.0);
    assert_eq!(p.bytes, 3.0 * (148_337_152.0 + 27_870_976.0));
    // ID 2, fp32 SIMT GEMM: 2 x ffma 68,736,253,952 + hfma 131,072 x 4
    // (no fadd/fmul): CUDA-core FLOPs, not the tensor pipe.
    let p = kernel(&r, "sm80_xmma_gemm_f32f32").roofline.clone().unwrap();
    assert_eq!(p.flops.unwrap(), 3.0 * (2.0 * 68_736_253_952.0 + 4.0 * 131_072.0));
    assert!(!p.tensor_core_roof);
    // ID 3, the add: ffma 67,108,864 x 2; DRAM 536,888,576 + 249,084,672.
    let p = kernel(&r, "vectorized_elementwise_kernel")
        .roofline
        .clone()
        .unwrap();
    assert_eq!(p.flops.unwrap(), 3.0 * 2.0 * 67_108_864.0);
    assert_eq!(p.bytes, 3.0 * (536_888_576.0 + 249_084_672.0));
    assert_eq!(p.bound, Some(Bound::MemoryBound));
    // ID 6, layernorm: 2 ffma 188,882,944 + fadd 189,890,560 + fmul 59,891,712
    // + 4 hfma 7,340,032 + 2 hadd 134,217,728.
    let p = kernel(&r, "vectorized_layer_norm_kernel")
        .roofline
        .clone()
        .unwrap();
    let f = 2.0 * 188_882_944.0 + 189_890_560.0 + 59_891_712.0 + 4.0 * 7_340_032.0 + 2.0 * 134_217_728.0;
    assert_eq!(p.flops.unwrap(), 3.0 * f);
    // The 3x3 convolution cuDNN picked in the ncu run is another tile
    // variant than in the nsys run: no match, so no work (never guessed).
    assert!(kernel(&r, "sm90_xmma_fprop_implicit_gemm").roofline.is_none());
    assert_eq!(r.roofline.sources.counters, 7);
    assert_eq!(r.roofline.gpu.as_deref(), Some("NVIDIA H200"));
}

/// The limits the issue names: a large bf16 GEMM reaches >= 60% of the
/// dense bf16 roof (989.5 TFLOP/s), the 1 GiB device copy >= 70% of the
/// 4.8 TB/s memory roof.
#[test]
fn gemm_and_copy_reach_their_roofs() {
    let r = report("roofline_h200.sqlite", true, None);
    let peaks = r.roofline.peaks.as_ref().unwrap();
    assert_eq!(peaks.bf16_flops, Some(989.5e12));
    let g = kernel(&r, "nvjet_sm90_tst_320x128");
    let p = g.roofline.as_ref().unwrap();
    assert_eq!(p.roof, Some(Roof::Compute));
    assert_eq!(p.bound, Some(Bound::ComputeBound));
    // Achieved from the formula's FLOPs (not the padded tiles): 2*8192^3 per
    // launch over the nsys kernel time.
    let useful = 3.0 * 2.0 * 8192f64.powi(3) / (g.total_ns as f64 * 1e-9);
    assert!(useful / 989.5e12 >= 0.60, "{}", useful / 989.5e12);
    assert!(p.roof_percent.unwrap() >= 60.0);
    // The copy is a cudaMemcpy DtoD: 3 x 1 GiB read and written.
    let c = &r.roofline.copies[0];
    assert_eq!(
        (c.kind.as_str(), c.count, c.bytes),
        ("DtoD", 3, 3.0 * 2.0 * 1073741824.0)
    );
    let achieved = c.bytes / (c.total_ns as f64 * 1e-9);
    assert!(achieved / 4.8e12 >= 0.70, "{}", achieved / 4.8e12);
    assert!(close(c.roof_percent.unwrap(), 100.0 * achieved / 4.8e12, 1e-12));
}

/// Shapes of the PyTorch profiler trace give 2*M*N*K for the GEMMs and
/// 2*N*K*P*Q*C*R*S for the convolution, and agree with the counters within
/// 2% (the bf16 GEMM's 320-wide tiles pad 8192 to 8320 columns: +1.6%;
/// the fp32 GEMM's hfma epilogue: +0.0004%).
#[test]
fn shapes_agree_with_counters() {
    let k = report("roofline_h200.pt.trace.json.gz", false, None);
    assert_eq!(k.window.iterations, 3);
    let shape = |prefix: &str| {
        let p = kernel(&k, prefix).roofline.clone().unwrap();
        assert_eq!(p.work_source, WorkSource::Shapes);
        p.flops.unwrap() / 3.0
    };
    let bf16 = shape("nvjet_sm90_tst_320x128");
    assert_eq!(bf16, 2.0 * 8192f64.powi(3));
    let fp16 = shape("nvjet_sm90_hsh_256x128");
    assert_eq!(fp16, 2.0 * 4096f64.powi(3));
    let fp32 = shape("sm80_xmma_gemm_f32f32");
    assert_eq!(fp32, 2.0 * 4096f64.powi(3));
    // conv3x3: N=32, C=K=256, 56x56 out (stride 1, pad 1), 3x3.
    let conv = shape("sm90_xmma_fprop_implicit_gemm");
    assert_eq!(conv, 2.0 * 32.0 * 256.0 * 56.0 * 56.0 * 256.0 * 9.0);
    // Counter values of the same kernels (CSV rows 0, 1, 2, 4).
    assert!(close(bf16, 1_116_691_496_960.0, 0.02));
    assert!(close(fp16, 137_438_953_472.0, 0.0));
    assert!(close(fp32, 2.0 * 68_736_253_952.0 + 4.0 * 131_072.0, 0.02));
    assert!(close(conv, 118_380_036_096.0, 0.0));
    // The add: 64M FLOPs, 3 x 256 MiB minimum traffic; ncu measured
    // 786 MB of DRAM traffic (within 3%: some writes stay in L2).
    let add = kernel(&k, "vectorized_elementwise_kernel")
        .roofline
        .clone()
        .unwrap();
    assert_eq!(add.flops.unwrap() / 3.0, 67_108_864.0);
    assert_eq!(add.bytes / 3.0, 3.0 * 268_435_456.0);
    assert!(close(add.bytes / 3.0, 536_888_576.0 + 249_084_672.0, 0.03));
    assert_eq!(k.roofline.sources.shapes, 8);
}

/// The share table adds up, and FLOPs per iteration are the window's over 3.
#[test]
fn share_table_and_per_iteration_totals() {
    let r = report("roofline_h200.sqlite", true, None);
    let x = &r.roofline;
    let time: f64 = x.by_group.iter().map(|g| g.time_share).sum();
    assert!(close(time, 1.0, 1e-9));
    let flops: f64 = x.by_group.iter().filter_map(|g| g.flop_share).sum();
    assert!(close(flops, 1.0, 1e-9));
    let gemm = x.by_group.iter().find(|g| g.group == "gemm/conv").unwrap();
    assert!(gemm.flop_share.unwrap() > 0.99);
    assert_eq!(x.flops_per_iteration.unwrap(), x.flops.unwrap() / 3.0);
}

/// TensorRT: the first layers of the real resnet50_a100_fp16 engine
/// (NVIDIA's trt-engine-explorer example), graph and profile rows unchanged.
#[test]
fn engine_layers_from_their_dims() {
    let r = report("trtexec/resnet50_first4.graph.json", false, None);
    assert_eq!(r.roofline.gpu.as_deref(), Some("NVIDIA A100 80GB PCIe"));
    let layers = &r.engine.as_ref().unwrap().layers;
    let layer = |n: &str| {
        layers
            .iter()
            .find(|l| l.name == n)
            .unwrap()
            .roofline
            .clone()
            .unwrap()
    };
    // Conv_0: input 32x3x224x224, output 32x64x112x112, 7x7, groups 1:
    // 2 * 32*64*112*112 * 3*7*7 = 7,552,892,928 FLOPs. Bytes (FP16):
    // (32*3*224*224 + 32*64*112*112 + 9,408 weights) * 2 = 61,032,832.
    let c0 = layer("Conv_0 + Relu_1");
    assert_eq!(c0.flops.unwrap(), 7_552_892_928.0);
    assert_eq!(c0.bytes, 61_032_832.0);
    assert_eq!(c0.work_source, WorkSource::EngineDims);
    // 0.111616 ms: 67.7 TFLOP/s; intensity 123.8 < ridge 312/1.935 = 161:
    // memory-bound at 61,032,832 B / 111,616 ns = 547 GB/s = 28.3% of 1,935 GB/s.
    assert_eq!(c0.bound, Some(Bound::MemoryBound));
    assert!(close(
        c0.roof_percent.unwrap(),
        100.0 * 61_032_832.0 / 111_616e-9 / 1935e9,
        1e-9
    ));
    // Conv_3: 3x3, 64 -> 64 at 56x56: 2 * 32*64*56*56 * 64*9 = 7,398,752,256;
    // intensity 287 > 161: compute-bound at 7.3988e9 / 53,248 ns / 312e12 = 44.5%.
    let c3 = layer("Conv_3 + Relu_4");
    assert_eq!(c3.flops.unwrap(), 7_398_752_256.0);
    assert_eq!(c3.bound, Some(Bound::ComputeBound));
    assert!(close(
        c3.roof_percent.unwrap(),
        100.0 * 7_398_752_256.0 / 53_248e-9 / 312e12,
        1e-9
    ));
    // MaxPool 3x3: one compare per window element of each output.
    assert_eq!(layer("MaxPool_2").flops.unwrap(), 32.0 * 64.0 * 56.0 * 56.0 * 9.0);
    // The input reformat: FP32 read, FP16 written, no math.
    let re = layer("Reformatting CopyNode for Input Tensor 0 to Conv_0 + Relu_1");
    assert_eq!((re.flops, re.bytes), (Some(0.0), 32.0 * 3.0 * 224.0 * 224.0 * 6.0));
}

/// Unknown GPU: no roofs, a sentence saying so; --gpu-peaks can add one.
#[test]
fn unknown_gpu_and_peaks_override() {
    let dir = std::env::temp_dir().join(format!("roofline-peaks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let other = dir.join("other.json");
    std::fs::write(
        &other,
        r#"{"gpus":[{"name":"Some GPU","match":"^Some GPU$","fp64":null,"fp32":10,"tf32":null,"fp16":100,"bf16":100,"fp8":null,"int8":null,"memory_gb_per_s":1000,"source":{"title":"my measurement","url":"file:///x"}}]}"#,
    )
    .unwrap();
    let r = report("roofline_h200.sqlite", true, Some(other));
    assert!(r.roofline.peaks.is_none());
    assert!(
        r.roofline
            .notes
            .iter()
            .any(|n| n.contains("no peaks for 'NVIDIA H200'")),
        "{:?}",
        r.roofline.notes
    );
    let g = kernel(&r, "nvjet_sm90_tst_320x128").roofline.clone().unwrap();
    assert_eq!((g.roof, g.roof_percent, g.bound), (None, None, None));
    assert!(g.achieved_flops_per_s.unwrap() > 0.0);
    let mine = dir.join("h200.json");
    std::fs::write(
        &mine,
        r#"{"gpus":[{"name":"H200 at 1 PF","match":"H200","fp64":null,"fp32":50,"tf32":null,"fp16":1000,"bf16":1000,"fp8":null,"int8":null,"memory_gb_per_s":4000,"source":{"title":"measured","url":"file:///x"}}]}"#,
    )
    .unwrap();
    let r = report("roofline_h200.sqlite", true, Some(mine));
    assert_eq!(r.roofline.peaks.as_ref().unwrap().name, "H200 at 1 PF");
    assert!(r.roofline.peaks_table.ends_with("h200.json"));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{").unwrap();
    let trace = trace_report::input::load(
        &fixture("roofline_h200.sqlite"),
        &Default::default(),
        &Progress::hidden(),
    )
    .unwrap();
    let e = pipeline::analyze(
        &trace,
        &AnalysisOptions {
            gpu_peaks: Some(bad.clone()),
            ..AnalysisOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with(&bad.display().to_string()), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A trace with no source of work: no placement anywhere, and the report
/// says what would give one.
#[test]
fn no_source_no_numbers() {
    let r = report("infer_h100.sqlite", false, None);
    assert!(r.kernels.iter().all(|k| k.roofline.is_none()));
    assert!(r.roofline.flops.is_none());
    assert!(
        r.roofline
            .notes
            .iter()
            .any(|n| n.contains("no source of FLOPs and bytes"))
    );
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["kernels"][0].get("flops").is_none());
}

/// The HTML chart is self-contained SVG with escaped names.
#[test]
fn html_section_draws_the_chart() {
    let r = report("roofline_h200.sqlite", true, None);
    let html = String::from_utf8(trace_report::report::html::render(&r)).unwrap();
    let at = html.find("id=\"roofline\"").unwrap();
    let sec = &html[at..];
    assert!(sec.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 860 440\" width=\"100%\""));
    assert!(sec.contains("FP16/BF16 TC"));
    assert!(sec.contains("Share of FLOPs vs share of time"));
    assert!(
        !sec.contains("http://") || sec.matches("http://").count() == 1,
        "only the SVG namespace"
    );
}

/// `diff` shows FLOPs and bytes per iteration on both sides: here the
/// counters' view (a saved report) against the shapes' view of the same
/// program; each side's figure is its report's total over 3 iterations.
#[test]
fn diff_compares_work_per_iteration() {
    use trace_report::diff::{self, DiffOptions};
    let counters = report("roofline_h200.sqlite", true, None);
    let dir = std::env::temp_dir().join(format!("roofline-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("report.json");
    std::fs::write(&saved, serde_json::to_vec(&counters).unwrap()).unwrap();
    let opts = AnalysisOptions::default();
    let l = |p: &Path| diff::input::load(p, &Default::default(), &opts, &Progress::hidden()).unwrap();
    let shapes_path = fixture("roofline_h200.pt.trace.json.gz");
    let d = diff::compare(&l(&saved), &l(&shapes_path), &DiffOptions::default());
    let w = d.work.as_ref().unwrap();
    let shapes = report("roofline_h200.pt.trace.json.gz", false, None);
    assert_eq!(w.base_flops, Some(counters.roofline.flops.unwrap() / 3.0));
    assert_eq!(w.new_flops, Some(shapes.roofline.flops.unwrap() / 3.0));
    assert_eq!(w.base_sources, vec!["counters"]);
    assert_eq!(w.new_sources, vec!["shapes"]);
    let md = String::from_utf8(diff::render_md::render(&d)).unwrap();
    assert!(md.contains("### Work (FLOPs and bytes, per iteration)"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}
