//! CUDA graphs on real H100 captures of the same program in nsys's two
//! graph trace modes, against SQL oracles (tests/common).
//!
//! `--cuda-graph-trace=graph` (nsys's default) records each graph launch as
//! one row of CUPTI_ACTIVITY_KIND_GRAPH_TRACE and leaves its kernels out of
//! the kernel table: read naively, the GPU looks idle while graphs run.

mod common;

use std::path::PathBuf;

use common::{open, union_len, window_sql};
use trace_report::document::Report;
use trace_report::input;
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn report(name: &str) -> Report {
    let trace = input::load(&fixture(name), &Default::default(), &Progress::hidden()).expect("load");
    pipeline::analyze(&trace, &AnalysisOptions::default()).expect("analyze")
}

#[test]
fn whole_graph_launches_count_as_gpu_work() {
    let r = report("cuda_graph_whole.sqlite");
    let conn = open(&fixture("cuda_graph_whole.sqlite"));
    let w = window_sql();
    let a = &r.attribution.window;
    assert_eq!(r.iterations.len(), 12);
    // Kernel time is the union of kernel rows and graph launches in the window.
    assert_eq!(a.activity.kernel_ns, union_len(&conn, &w, &["kernel", "graph"]));
    assert_eq!(
        a.activity.memcpy_ns,
        union_len(&conn, &w, &["kernel", "graph", "memcpy"]) - union_len(&conn, &w, &["kernel", "graph"])
    );
    // Without the graph rows the GPU would look idle most of the window.
    assert!(union_len(&conn, &w, &["kernel"]) * 5 < a.activity.kernel_ns);
    // One kernel-table row for the graph: its launches that start in an iteration.
    let (count, total): (i64, i64) = conn
        .query_row(
            &format!(
                "SELECT count(*), sum(g.end - g.start) FROM CUPTI_ACTIVITY_KIND_GRAPH_TRACE g \
                 WHERE EXISTS (SELECT 1 FROM ({w}) it WHERE g.start >= it.s AND g.start < it.e)"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(count, 12);
    let g = r
        .kernels
        .iter()
        .find(|k| k.short_name == "CUDA graph 1")
        .expect("a kernel-table row for graph 1");
    assert_eq!((g.count as i64, g.total_ns), (count, total));
    assert_eq!(
        g.tensor_core,
        trace_report::analysis::tensor_core::names::Verdict::Unknown
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("15 CUDA graph launch(es) of 1 graph(s)")
                && w.contains("--cuda-graph-trace=node")),
        "{:?}",
        r.warnings
    );
    // The PR summary carries the warning too (folded).
    let md = String::from_utf8(trace_report::report::markdown::render(&r)).unwrap();
    assert!(md.contains("<summary>Input warnings (1)</summary>"), "{md}");
    assert!(md.contains("--cuda-graph-trace=node"), "{md}");
}

#[test]
fn node_traced_graphs_are_ordinary_kernels_and_agree_with_the_whole_trace() {
    let nodes = report("cuda_graph_nodes.sqlite");
    let conn = open(&fixture("cuda_graph_nodes.sqlite"));
    let a = &nodes.attribution.window;
    assert_eq!(a.activity.kernel_ns, union_len(&conn, &window_sql(), &["kernel"]));
    assert!(!nodes.warnings.iter().any(|w| w.contains("CUDA graph")));
    assert!(
        !nodes
            .kernels
            .iter()
            .any(|k| k.short_name.starts_with("CUDA graph"))
    );
    // The same program in the other mode: the graph spans hold the same
    // kernels (plus the small gaps between them), so per-iteration GPU
    // kernel time agrees within 10%.
    let whole = report("cuda_graph_whole.sqlite");
    let per_iter = |r: &Report| r.attribution.window.activity.kernel_ns as f64 / r.iterations.len() as f64;
    let (n, w) = (per_iter(&nodes), per_iter(&whole));
    assert!(
        (w - n).abs() < 0.1 * n,
        "graph mode {w} ns vs node mode {n} ns per iteration"
    );
}

#[test]
fn the_json_export_of_the_same_capture_gives_the_same_report() {
    let sql = report("cuda_graph_whole.sqlite");
    let json = report("nsys_json/cuda_graph_whole.nsys.json.gz");
    assert_eq!(json.source.format, "nsys-json");
    assert_eq!(json.attribution.window, sql.attribution.window);
    let rows = |r: &Report| -> Vec<(String, u64, i64)> {
        r.kernels
            .iter()
            .map(|k| (k.name.clone(), k.count as u64, k.total_ns))
            .collect()
    };
    assert_eq!(rows(&json), rows(&sql));
    assert!(
        json.warnings
            .iter()
            .any(|w| w.contains("15 CUDA graph launch(es)"))
    );
}
