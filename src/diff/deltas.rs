//! Deltas of the attribution, the copies and the Tensor Core share, all
//! normalised the same way ([`Normalization`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stats::pct;
use crate::analysis::attribution::{Activity, GpuIdle, Phases};
use crate::analysis::category::Category;
use crate::document::Report;
use crate::model::Ns;

/// How every delta is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NormMode {
    /// Both sides have iterations: attribution is the mean over
    /// `iterations[]`; kernel, copy and finding totals of the window are
    /// divided by the iteration count.
    PerIteration,
    /// At least one side has no iterations: window totals, with NEW's
    /// divided by the work ratio so that both describe the same amount of
    /// work (the ratio is 1 when both windows ran the same kernels equally
    /// often).
    WindowTotal,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    pub mode: NormMode,
    /// Each side's window totals are divided by these: the iteration
    /// counts, or 1 and the work ratio.
    pub base_divisor: f64,
    pub new_divisor: f64,
}

impl Normalization {
    /// Per iteration when both have iterations, else window totals scaled
    /// by `work_ratio` (NEW's work relative to BASE's; 1 when unknown).
    pub fn choose(base: &Report, new: &Report, work_ratio: Option<f64>) -> Normalization {
        let (b, n) = (base.iterations.len(), new.iterations.len());
        if b > 0 && n > 0 {
            Normalization {
                mode: NormMode::PerIteration,
                base_divisor: b as f64,
                new_divisor: n as f64,
            }
        } else {
            Normalization {
                mode: NormMode::WindowTotal,
                base_divisor: 1.0,
                new_divisor: work_ratio.filter(|r| *r > 0.0 && r.is_finite()).unwrap_or(1.0),
            }
        }
    }

    /// "per iteration" or "per window", for table headers.
    pub fn unit(&self) -> &'static str {
        match self.mode {
            NormMode::PerIteration => "per iteration",
            NormMode::WindowTotal if self.new_divisor != 1.0 => "per BASE window of work",
            NormMode::WindowTotal => "window total",
        }
    }

    pub fn explain(&self) -> String {
        match self.mode {
            NormMode::PerIteration => format!(
                "per iteration: attribution is the mean of the per-iteration rows; kernel, copy and finding totals of the window are divided by the iteration count ({} base, {} new)",
                self.base_divisor, self.new_divisor
            ),
            NormMode::WindowTotal if self.new_divisor != 1.0 => format!(
                "window totals: at least one side has no iterations; NEW's window did {:.1}% of BASE's work (median call-count ratio of the kernels both ran, weighted by BASE time), so NEW's totals are divided by {:.4} to describe the same work as BASE's",
                self.new_divisor * 100.0,
                self.new_divisor
            ),
            NormMode::WindowTotal => {
                "window totals: at least one side has no iterations, and both windows did the same work (or it could not be measured), so totals are compared as they are".into()
            }
        }
    }
}

/// One attribution quantity on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionDelta {
    /// `total`, `activity`, `gpu_idle` or `phase`.
    pub group: String,
    pub name: String,
    pub base_ns: f64,
    pub new_ns: f64,
    pub delta_ns: f64,
    pub change_pct: Option<f64>,
}

/// The attribution numbers of one side, normalised.
#[derive(Debug, Clone, Copy, Default)]
struct Side {
    total: f64,
    activity: [f64; 4],
    idle: [f64; 3],
    phase: [f64; 5],
}

fn activity(a: &Activity) -> [Ns; 4] {
    [a.kernel_ns, a.memcpy_ns, a.memset_ns, a.gpu_idle_ns]
}

fn idle(g: &GpuIdle) -> [Ns; 3] {
    [g.sync_ns, g.launch_ns, g.host_ns]
}

fn phases(p: &Phases) -> [Ns; 5] {
    [
        p.preprocess_ns,
        p.inference_ns,
        p.postprocess_ns,
        p.unannotated_ns,
        p.gpu_tail_ns,
    ]
}

fn side(r: &Report, mode: NormMode, window_div: f64) -> Side {
    fn add<const N: usize>(acc: &mut [i128; N], v: [Ns; N]) {
        for (a, x) in acc.iter_mut().zip(v) {
            *a += i128::from(x);
        }
    }
    let (mut t, mut a, mut g, mut p) = (0i128, [0i128; 4], [0i128; 3], [0i128; 5]);
    let div = match mode {
        NormMode::PerIteration => {
            for it in &r.iterations {
                t += i128::from(it.duration_ns);
                add(&mut a, activity(&it.activity));
                add(&mut g, idle(&it.gpu_idle));
                add(&mut p, phases(&it.phase));
            }
            r.iterations.len().max(1) as f64
        }
        NormMode::WindowTotal => {
            let w = &r.attribution.window;
            t = i128::from(w.total_ns);
            add(&mut a, activity(&w.activity));
            add(&mut g, idle(&w.gpu_idle));
            add(&mut p, phases(&w.phase));
            window_div
        }
    };
    let f = |v: i128| v as f64 / div;
    Side {
        total: f(t),
        activity: a.map(f),
        idle: g.map(f),
        phase: p.map(f),
    }
}

fn delta(group: &str, name: &str, b: f64, n: f64) -> AttributionDelta {
    AttributionDelta {
        group: group.into(),
        name: name.into(),
        base_ns: b,
        new_ns: n,
        delta_ns: n - b,
        change_pct: pct(n - b, b),
    }
}

/// Total, activity, GPU-idle causes and phases, in that order.
pub fn attribution(base: &Report, new: &Report, norm: &Normalization) -> Vec<AttributionDelta> {
    let (b, n) = (
        side(base, norm.mode, norm.base_divisor),
        side(new, norm.mode, norm.new_divisor),
    );
    let mut out = vec![delta("total", "total", b.total, n.total)];
    for (i, name) in ["kernel", "memcpy", "memset", "gpu_idle"].iter().enumerate() {
        out.push(delta("activity", name, b.activity[i], n.activity[i]));
    }
    for (i, name) in ["sync", "launch", "host"].iter().enumerate() {
        out.push(delta("gpu_idle", name, b.idle[i], n.idle[i]));
    }
    for (i, name) in [
        "preprocess",
        "inference",
        "postprocess",
        "unannotated",
        "gpu_tail",
    ]
    .iter()
    .enumerate()
    {
        // The GPU tail only when a side has one (an asynchronous loop).
        if *name == "gpu_tail" && b.phase[i] == 0.0 && n.phase[i] == 0.0 {
            continue;
        }
        out.push(delta("phase", name, b.phase[i], n.phase[i]));
    }
    out
}

/// Kernel time of one category on both sides, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryDelta {
    pub category: Category,
    pub base_count: f64,
    pub new_count: f64,
    pub base_ns: f64,
    pub new_ns: f64,
    pub delta_ns: f64,
    pub change_pct: Option<f64>,
}

/// Kernel time by category (from each report's kernel table), largest
/// change first.
pub fn categories(base: &Report, new: &Report, norm: &Normalization) -> Vec<CategoryDelta> {
    let mut by: BTreeMap<Category, [(u64, Ns); 2]> = BTreeMap::new();
    for (s, r) in [base, new].iter().enumerate() {
        for k in &r.kernels {
            let e = by.entry(k.category).or_default();
            e[s].0 += k.count;
            e[s].1 += k.total_ns;
        }
    }
    let (bd, nd) = (norm.base_divisor, norm.new_divisor);
    let mut out: Vec<CategoryDelta> = by
        .into_iter()
        .map(|(category, [b, n])| {
            let (base_ns, new_ns) = (b.1 as f64 / bd, n.1 as f64 / nd);
            CategoryDelta {
                category,
                base_count: b.0 as f64 / bd,
                new_count: n.0 as f64 / nd,
                base_ns,
                new_ns,
                delta_ns: new_ns - base_ns,
                change_pct: pct(new_ns - base_ns, base_ns),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.delta_ns
            .abs()
            .total_cmp(&a.delta_ns.abs())
            .then(a.category.cmp(&b.category))
    });
    out
}

/// One copy direction (or `memset`) on both sides, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemcpyDelta {
    pub kind: String,
    pub base_count: f64,
    pub new_count: f64,
    pub base_bytes: f64,
    pub new_bytes: f64,
    pub base_ns: f64,
    pub new_ns: f64,
    pub delta_ns: f64,
}

/// Copy directions present on either side, then memsets; largest time
/// change first.
pub fn memcpy(base: &Report, new: &Report, norm: &Normalization) -> Vec<MemcpyDelta> {
    let (bd, nd) = (norm.base_divisor, norm.new_divisor);
    // kind -> (count, bytes, ns) per side
    let mut kinds: BTreeMap<&str, [(u64, u64, Ns); 2]> = BTreeMap::new();
    for (s, r) in [base, new].iter().enumerate() {
        for m in &r.memcpy {
            let e = kinds.entry(m.kind.as_str()).or_default();
            e[s].0 += m.count;
            e[s].1 += m.bytes;
            e[s].2 += m.total_ns;
        }
    }
    let make = |kind: &str, b: (u64, u64, Ns), n: (u64, u64, Ns)| MemcpyDelta {
        kind: kind.into(),
        base_count: b.0 as f64 / bd,
        new_count: n.0 as f64 / nd,
        base_bytes: b.1 as f64 / bd,
        new_bytes: n.1 as f64 / nd,
        base_ns: b.2 as f64 / bd,
        new_ns: n.2 as f64 / nd,
        delta_ns: n.2 as f64 / nd - b.2 as f64 / bd,
    };
    let mut out: Vec<MemcpyDelta> = kinds.into_iter().map(|(k, [b, n])| make(k, b, n)).collect();
    out.sort_by(|a, b| {
        b.delta_ns
            .abs()
            .total_cmp(&a.delta_ns.abs())
            .then_with(|| a.kind.cmp(&b.kind))
    });
    let (bm, nm) = (&base.memset, &new.memset);
    if bm.count > 0 || nm.count > 0 {
        out.push(make(
            "memset",
            (bm.count, bm.bytes, bm.total_ns),
            (nm.count, nm.bytes, nm.total_ns),
        ));
    }
    out
}

/// The Tensor Core totals of one report's window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TensorCoreSide {
    /// Kernel time of matrix work that Tensor Cores can run.
    pub eligible_ns: Ns,
    /// Of it, time in kernels that use Tensor Cores.
    pub tensor_core_ns: Ns,
    /// Eligible time whose use could not be told.
    pub unknown_ns: Ns,
}

/// The Tensor Core share on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorCoreDelta {
    /// `tensor_core_ns / eligible_ns` (None without eligible time).
    pub base_share: Option<f64>,
    pub new_share: Option<f64>,
    /// new - base, in percentage points.
    pub delta_pp: Option<f64>,
    /// Normalised like every other time.
    pub base_eligible_ns: f64,
    pub new_eligible_ns: f64,
    pub base_tensor_core_ns: f64,
    pub new_tensor_core_ns: f64,
    pub base_unknown_ns: f64,
    pub new_unknown_ns: f64,
}

impl TensorCoreDelta {
    pub fn new(base: &TensorCoreSide, new: &TensorCoreSide, norm: &Normalization) -> TensorCoreDelta {
        let share =
            |s: &TensorCoreSide| (s.eligible_ns > 0).then(|| s.tensor_core_ns as f64 / s.eligible_ns as f64);
        let (bs, ns) = (share(base), share(new));
        let (bd, nd) = (norm.base_divisor, norm.new_divisor);
        TensorCoreDelta {
            base_share: bs,
            new_share: ns,
            delta_pp: bs.zip(ns).map(|(b, n)| 100.0 * (n - b)),
            base_eligible_ns: base.eligible_ns as f64 / bd,
            new_eligible_ns: new.eligible_ns as f64 / nd,
            base_tensor_core_ns: base.tensor_core_ns as f64 / bd,
            new_tensor_core_ns: new.tensor_core_ns as f64 / nd,
            base_unknown_ns: base.unknown_ns as f64 / bd,
            new_unknown_ns: new.unknown_ns as f64 / nd,
        }
    }
}

/// The Tensor Core totals of a report; none when it has no matrix work
/// (or is a saved report from before the `tensor_cores` key).
pub fn tensor_core_side(r: &Report) -> Option<TensorCoreSide> {
    let t = &r.tensor_cores;
    (t.eligible_ns > 0).then(|| TensorCoreSide {
        eligible_ns: t.eligible_ns,
        tensor_core_ns: t.tensor_core_ns,
        unknown_ns: t.unknown_ns,
    })
}

/// The Tensor Core delta when both reports carry Tensor Core totals.
pub fn tensor_cores(base: &Report, new: &Report, norm: &Normalization) -> Option<TensorCoreDelta> {
    Some(TensorCoreDelta::new(
        &tensor_core_side(base)?,
        &tensor_core_side(new)?,
        norm,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report of the bundled FP16 BERT trace whose kernel table is
    /// replaced by `rows` (name, total ns).
    fn report_with(rows: &[(&str, Ns)]) -> Report {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_traces/bert_fp16_aligned.sqlite");
        let trace =
            crate::input::load(&path, &Default::default(), &crate::progress::Progress::hidden()).unwrap();
        let mut r = crate::pipeline::analyze(&trace, &Default::default()).unwrap();
        let template = r.kernels[0].clone();
        r.kernels = rows
            .iter()
            .map(|&(name, total)| crate::analysis::kernels::KernelRow {
                name: name.into(),
                total_ns: total,
                category: crate::analysis::category::categorize(name),
                ..template.clone()
            })
            .collect();
        r
    }

    #[test]
    fn int8_against_fp16_splits_the_difference() {
        let fp16 = report_with(&[
            (
                "sm80_xmma_fprop_implicit_gemm_f16f16_f16f16_f16_nhwckrsc_nhwc_tilesize256x64x32_stage3_tensor16x8x16",
                1000,
            ),
            ("elementwise_relu", 100),
        ]);
        let int8 = report_with(&[
            (
                "sm80_xmma_fprop_implicit_gemm_interleaved_i8i8_i8i32_f32_nchw_vect_c_32kcrs_tensor16x8x32",
                700,
            ),
            ("QuantizeLinear_2", 250),
            ("Reformatting CopyNode for Input Tensor 0 to Conv_0", 150),
            ("elementwise_relu", 100),
        ]);
        let norm = Normalization {
            mode: NormMode::WindowTotal,
            base_divisor: 1.0,
            new_divisor: 1.0,
        };
        let p = precision(&fp16, &int8, &norm, Some(true)).expect("INT8 vs FP16");
        assert_eq!(
            (
                p.base_precision.as_str(),
                p.new_precision.as_str(),
                p.int8_side.as_str()
            ),
            ("FP16", "INT8", "new")
        );
        assert!(p.int8_slower);
        assert_eq!(
            (p.matrix_delta_ns, p.conversion_delta_ns, p.other_delta_ns),
            (-300.0, 400.0, 0.0)
        );
        // Reversed sides: the INT8 side is BASE, deltas keep "INT8 minus FP16".
        let q = precision(&int8, &fp16, &norm, Some(false)).unwrap();
        assert_eq!(q.int8_side, "base");
        assert!(q.int8_slower, "BASE (INT8) is slower when NEW (FP16) is faster");
        assert_eq!(q.matrix_delta_ns, -300.0);
        // Same precision on both sides: nothing to say.
        assert!(precision(&fp16, &fp16, &norm, None).is_none());
    }

    #[test]
    fn tensor_core_share_delta() {
        let norm = Normalization {
            mode: NormMode::PerIteration,
            base_divisor: 4.0,
            new_divisor: 2.0,
        };
        let d = TensorCoreDelta::new(
            &TensorCoreSide {
                eligible_ns: 1000,
                tensor_core_ns: 900,
                unknown_ns: 0,
            },
            &TensorCoreSide {
                eligible_ns: 800,
                tensor_core_ns: 200,
                unknown_ns: 40,
            },
            &norm,
        );
        assert_eq!(d.base_share, Some(0.9));
        assert_eq!(d.new_share, Some(0.25));
        assert!((d.delta_pp.unwrap() + 65.0).abs() < 1e-9);
        assert_eq!(
            (d.base_eligible_ns, d.new_eligible_ns, d.new_unknown_ns),
            (250.0, 400.0, 20.0)
        );
        let none = TensorCoreDelta::new(
            &TensorCoreSide {
                eligible_ns: 0,
                tensor_core_ns: 0,
                unknown_ns: 0,
            },
            &TensorCoreSide {
                eligible_ns: 10,
                tensor_core_ns: 10,
                unknown_ns: 0,
            },
            &norm,
        );
        assert_eq!((none.base_share, none.delta_pp), (None, None));
    }
}

/// INT8 against FP16/BF16: when one side's matrix work is mostly INT8 and
/// the other's mostly FP16 or BF16 (by the precision the kernel names
/// carry), where the difference comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrecisionComparison {
    /// Dominant matrix precision of each side (by matrix kernel time).
    pub base_precision: String,
    pub new_precision: String,
    /// `base` or `new`: the INT8 side.
    pub int8_side: String,
    /// The INT8 side is the slower one by the verdict.
    pub int8_slower: bool,
    /// INT8 side minus FP16 side, normalised like every delta: matrix
    /// kernels, quantize/reformat/layout/copy kernels, and the rest.
    pub matrix_delta_ns: f64,
    pub conversion_delta_ns: f64,
    pub other_delta_ns: f64,
    pub summary: String,
}

/// Matrix time by precision, conversion time and other kernel time of a report.
fn precision_split(r: &Report) -> (BTreeMap<&'static str, Ns>, Ns, Ns, Ns) {
    use crate::analysis::tensor_core::names;
    let mut by: BTreeMap<&'static str, Ns> = BTreeMap::new();
    let (mut matrix, mut conversion, mut other) = (0, 0, 0);
    for k in &r.kernels {
        let lower = k.name.to_ascii_lowercase();
        if k.category.is_matrix() {
            matrix += k.total_ns;
            if let Some(p) = names::classify(&k.name).precision {
                *by.entry(p.label()).or_default() += k.total_ns;
            }
        } else if matches!(k.category, Category::Layout | Category::Copy) || lower.contains("quantiz") {
            conversion += k.total_ns;
        } else {
            other += k.total_ns;
        }
    }
    (by, matrix, conversion, other)
}

/// The comparison when the two sides differ as INT8 vs FP16/BF16.
pub fn precision(
    base: &Report,
    new: &Report,
    norm: &Normalization,
    new_slower: Option<bool>,
) -> Option<PrecisionComparison> {
    let (bp, bm, bc, bo) = precision_split(base);
    let (np, nm, nc, no) = precision_split(new);
    let dominant = |m: &BTreeMap<&'static str, Ns>| m.iter().max_by_key(|e| *e.1).map(|e| *e.0);
    let (b, n) = (dominant(&bp)?, dominant(&np)?);
    let half = |p: &str| p == "FP16" || p == "BF16";
    let int8_new = match (b, n) {
        (h, "INT8") if half(h) => true,
        ("INT8", h) if half(h) => false,
        _ => return None,
    };
    let (bd, nd) = (norm.base_divisor, norm.new_divisor);
    let sign = if int8_new { 1.0 } else { -1.0 };
    let d = |bv: Ns, nv: Ns| sign * (nv as f64 / nd - bv as f64 / bd);
    let (matrix, conversion, other) = (d(bm, nm), d(bc, nc), d(bo, no));
    let int8_slower = new_slower.is_some_and(|s| s == int8_new);
    let (i8p, hp) = if int8_new { (n, b) } else { (b, n) };
    let us = |v: f64| format!("{:+.1} us", v / 1e3);
    let summary = format!(
        "{} {i8p} vs {} {hp}: matrix kernels {}, quantize/reformat/copy kernels {}, other kernels {} ({} side minus {} side{})",
        if int8_new { "NEW" } else { "BASE" },
        if int8_new { "BASE" } else { "NEW" },
        us(matrix),
        us(conversion),
        us(other),
        i8p,
        hp,
        if int8_slower {
            "; the INT8 build is the slower one"
        } else {
            ""
        }
    );
    Some(PrecisionComparison {
        base_precision: b.into(),
        new_precision: n.into(),
        int8_side: if int8_new { "new" } else { "base" }.into(),
        int8_slower,
        matrix_delta_ns: matrix,
        conversion_delta_ns: conversion,
        other_delta_ns: other,
        summary,
    })
}
