//! Timings of the hot paths on the sample ResNet export and on synthetic
//! 1M-span lists: `cargo bench --bench hot_paths` (or
//! `cargo build --release --benches` and run the binary). A plain
//! `harness = false` bench with std::time: criterion as a dev-dependency
//! changes the features of dependencies shared with polars and rebuilds it.
//! Prints the median of RUNS (default 10) runs per path. End-to-end figures
//! on scaled inputs come from `benches/run.sh`.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use trace_report::analysis::intervals::{self, Span};
use trace_report::input;
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

fn bench<R>(name: &str, runs: usize, mut f: impl FnMut() -> R) {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            black_box(f());
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    println!(
        "{name:<40} median {:>9.3} ms  (min {:.3}, max {:.3}, {runs} runs)",
        t[runs / 2],
        t[0],
        t[runs - 1]
    );
}

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10)
        .max(1);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_traces/resnet50_fp16_nchw_cpupre.sqlite");
    bench("load nsys sqlite (resnet sample)", runs, || {
        input::load(&path, &Default::default(), &Progress::hidden()).unwrap()
    });
    let trace = input::load(&path, &Default::default(), &Progress::hidden()).unwrap();
    bench("analyze (resnet sample)", runs, || {
        pipeline::analyze(&trace, &AnalysisOptions::default()).unwrap()
    });
    // 1M kernel-like spans: back to back, some overlapping the next.
    let spans: Vec<Span> = (0..1_000_000i64)
        .map(|i| (i * 100, i * 100 + 90 + (i % 7) * 3))
        .collect();
    bench("union_sorted 1M spans", runs, || {
        intervals::union_sorted(spans.iter().copied())
    });
    let union = intervals::union_sorted(spans.iter().copied());
    let launches: Vec<Span> = (0..1_000_000i64).map(|i| (i * 100 + 40, i * 100 + 45)).collect();
    bench("union_merged 2 x 1M spans", runs, || {
        intervals::union_merged(&[&union, &launches])
    });
    let window = [(0, 100_000_000)];
    bench("sweep 2 layers x 1M spans", runs, || {
        let mut busy = 0;
        intervals::sweep(&window, &[&union, &launches], |s, e, m| {
            if m != 0 {
                busy += e - s;
            }
        });
        busy
    });
    let mut cursor = intervals::Cursor::new(&union);
    bench("cursor covers, 1M times in order", runs, || {
        (0..1_000_000i64).filter(|i| cursor.covers(i * 100 + 95)).count()
    });
}
