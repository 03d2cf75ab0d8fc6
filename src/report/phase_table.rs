//! The "where the time goes" table shared by the HTML and Markdown reports
//! and the attribution chart: one row per phase that has time, then a total.

use crate::analysis::attribution::PhaseActivity;
use crate::analysis::phase::Phase;
use crate::document::Report;
use crate::model::Ns;

/// Column labels of [`Row::buckets`], in stacking order (as `charts::BUCKETS`).
pub const BUCKET_LABELS: [&str; 6] = [
    "kernel",
    "memcpy",
    "memset",
    "idle: sync",
    "idle: launch",
    "idle: host",
];

pub struct Row {
    pub label: &'static str,
    pub total_ns: Ns,
    /// kernel, memcpy, memset, then GPU idle split by sync, launch, host.
    pub buckets: [Ns; 6],
}

/// The six buckets of one phase (or of the whole window).
pub fn buckets(a: &PhaseActivity) -> [Ns; 6] {
    [
        a.activity.kernel_ns,
        a.activity.memcpy_ns,
        a.activity.memset_ns,
        a.gpu_idle.sync_ns,
        a.gpu_idle.launch_ns,
        a.gpu_idle.host_ns,
    ]
}

/// Every phase in display order, empty ones included (readers of a PR
/// summary look for "preprocess" even when it is zero), except the GPU
/// tail, which only an asynchronous loop has.
pub fn phases(r: &Report) -> Vec<Row> {
    let pa = &r.attribution.window.phase_activity;
    Phase::ALL
        .iter()
        .filter(|&&p| p != Phase::GpuTail || r.attribution.window.phase.gpu_tail_ns > 0)
        .map(|&p| {
            let a = pa.get(p);
            let buckets = buckets(a);
            Row {
                label: p.label(),
                total_ns: buckets.iter().sum(),
                buckets,
            }
        })
        .collect()
}

/// The window total, computed from the same buckets as the phase rows.
pub fn total(r: &Report) -> Row {
    let a = &r.attribution.window;
    Row {
        label: "total",
        total_ns: a.total_ns,
        buckets: buckets(&PhaseActivity {
            activity: a.activity,
            gpu_idle: a.gpu_idle,
        }),
    }
}
