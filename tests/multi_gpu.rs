//! A real two-process, two-GPU capture (data-parallel inference with NCCL)
//! against oracles computed here from the rows: SQL for the window total,
//! a plain interval union per device.

mod common;

use std::path::PathBuf;

use common::{open, union_len, window_sql};
use trace_report::input;
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ddp_2gpu_nccl.sqlite")
}

/// |union(a) ∩ union(b)| for (start, end) lists.
fn overlap(mut a: Vec<(i64, i64)>, mut b: Vec<(i64, i64)>) -> i64 {
    let merge = |v: &mut Vec<(i64, i64)>| {
        v.sort();
        let mut out: Vec<(i64, i64)> = Vec::new();
        for &(s, e) in v.iter() {
            match out.last_mut() {
                Some(l) if s <= l.1 => l.1 = l.1.max(e),
                _ => out.push((s, e)),
            }
        }
        *v = out;
    };
    merge(&mut a);
    merge(&mut b);
    let (mut i, mut j, mut t) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let (s, e) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        t += (e - s).max(0);
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    t
}

#[test]
fn two_ranks_two_gpus() {
    let trace = input::load(&fixture(), &Default::default(), &Progress::hidden()).unwrap();
    let r = pipeline::analyze(&trace, &AnalysisOptions::default()).unwrap();
    let conn = open(&fixture());
    let rows = |sql: &str| -> Vec<(i64, i64)> {
        let mut st = conn.prepare(sql).unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let iters = rows(&format!("SELECT s, e FROM ({})", common::iter_sql()));
    let threads: i64 = conn
        .query_row(
            &format!("SELECT count(DISTINCT tid) FROM ({})", common::iter_sql()),
            [],
            |r| r.get(0),
        )
        .unwrap();
    // Both GPUs, both ranks' iterations (12 each), and the reason says so.
    assert_eq!(r.source.gpus.len(), 2);
    assert!(r.source.gpus.iter().all(|g| g.name.contains("H200")));
    assert_eq!(threads, 2);
    assert_eq!(r.iterations.len(), iters.len());
    assert_eq!(r.iterations.len(), 24);
    assert!(r.window.reason.contains("from 2 threads"), "{}", r.window.reason);
    let summed: i64 = iters.iter().map(|(s, e)| e - s).sum();
    assert!(overlap(iters.clone(), iters.clone()) < summed);
    assert!(
        r.window.reason.contains("overlapping in time"),
        "{}",
        r.window.reason
    );
    // The window is the union of the overlapping ranges; kernel time the
    // union over both GPUs.
    let a = &r.attribution.window;
    assert_eq!(a.total_ns, overlap(iters.clone(), iters.clone()));
    assert_eq!(a.activity.kernel_ns, union_len(&conn, &window_sql(), &["kernel"]));
    // Per GPU: that device's kernels only.
    assert_eq!(r.attribution.devices.len(), 2);
    for d in &r.attribution.devices {
        let k = rows(&format!(
            "SELECT start, end FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE deviceId = {}",
            d.id
        ));
        assert!(!k.is_empty());
        assert_eq!(d.kernel_ns, overlap(iters.clone(), k), "GPU {}", d.id);
    }
    // NCCL shows up as communication kernels on both GPUs.
    let nccl = r
        .kernels
        .iter()
        .find(|k| k.name.starts_with("ncclDevKernel") || k.name.contains("nccl"));
    assert!(
        nccl.is_some(),
        "no NCCL kernel in {:?}",
        r.kernels.iter().map(|k| &k.short_name).collect::<Vec<_>>()
    );
}
