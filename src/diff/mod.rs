//! `trace-report diff BASE NEW`: did the change help?
//!
//! Two reports (each from a trace analysed now or a saved `report.json`,
//! see [`input`]) become one diff document ([`Diff`], its own
//! `schema_version`): a verdict that respects noise ([`stats`]), deltas of
//! the attribution, copies and Tensor Core share ([`deltas`]), kernels
//! matched by name, family or role ([`matching`]), findings resolved, new
//! or changed ([`findings`]), and a comparability check. Renderers return
//! bytes; `crate::output` writes them.

pub mod deltas;
pub mod findings;
pub mod input;
pub mod matching;
pub mod render_html;
pub mod render_md;
pub mod stats;
pub mod tables;
pub mod terminal;
pub mod text;
pub mod work;

use serde::{Deserialize, Serialize};

use crate::analysis::iterations::IterationStats;
use crate::analysis::window::Scope;
use crate::document::Report;
use crate::model::Ns;
use deltas::{AttributionDelta, CategoryDelta, MemcpyDelta, Normalization, TensorCoreDelta};
use findings::FindingDelta;
use input::{DIFF_KIND, InputKind, Loaded};
use matching::{KernelDelta, Match};
use stats::{Verdict, VerdictKind};

/// Version of the diff document; bumped only when a key changes meaning or
/// is removed.
pub const SCHEMA_VERSION: u32 = 1;

/// Below this share of BASE kernel time matched in NEW (by name, family or
/// role), the two runs probably ran different work.
const MIN_MATCHED_SHARE: f64 = 0.5;
/// Iteration counts further apart than this factor are flagged.
const MAX_ITERATION_RATIO: f64 = 2.0;

/// Choices for a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffOptions {
    /// Practical threshold: smaller relative changes count as no change.
    pub threshold_pct: f64,
    /// Window or phase options were given: they cannot apply to a side read
    /// from a saved report, which is said in the notes.
    pub analysis_options_given: bool,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            threshold_pct: stats::DEFAULT_THRESHOLD_PCT,
            analysis_options_given: false,
        }
    }
}

/// One side, as the diff document describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// The file given on the command line.
    pub path: String,
    pub input: InputKind,
    /// The trace the report was made from.
    pub source_path: String,
    pub format: String,
    pub generator: String,
    pub gpus: Vec<String>,
    pub scope: Scope,
    pub iteration_range: Option<String>,
    pub iterations: usize,
    /// Length of the analysis window.
    pub window_ns: Ns,
    pub iteration_time: Option<IterationStats>,
    /// Each iteration's duration, in order: the verdict's sample.
    pub iteration_ns: Vec<Ns>,
    /// The side's own input warnings.
    pub warnings: Vec<String>,
}

impl Side {
    fn of(l: &Loaded) -> Side {
        let r = &l.report;
        Side {
            path: l.path.clone(),
            input: l.kind,
            source_path: r.source.path.clone(),
            format: r.source.format.clone(),
            generator: r.generator.clone(),
            gpus: r.source.gpus.iter().map(|g| g.name.clone()).collect(),
            scope: r.window.scope,
            iteration_range: r.window.iteration_range.clone(),
            iterations: r.iterations.len(),
            window_ns: r.window.duration_ns,
            iteration_time: r.iteration_time,
            iteration_ns: r.iterations.iter().map(|i| i.duration_ns).collect(),
            warnings: r.warnings.clone(),
        }
    }

    /// The file name, for headings.
    pub fn file_name(&self) -> &str {
        self.path.rsplit(['/', '\\']).next().unwrap_or(&self.path)
    }
}

/// The diff document (`diff.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub schema_version: u32,
    /// Always `trace-report-diff`.
    pub kind: String,
    pub generator: String,
    pub base: Side,
    pub new: Side,
    pub verdict: Verdict,
    pub normalization: Normalization,
    /// Why the two may not be comparable; empty when nothing stood out.
    pub comparability: Vec<String>,
    pub attribution: Vec<AttributionDelta>,
    pub memcpy: Vec<MemcpyDelta>,
    /// Kernel time by category.
    pub categories: Vec<CategoryDelta>,
    pub kernels: Vec<KernelDelta>,
    pub findings: Vec<FindingDelta>,
    /// Present when both reports carry Tensor Core totals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensor_cores: Option<TensorCoreDelta>,
    /// INT8 against FP16/BF16, when the two sides differ so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<deltas::PrecisionComparison>,
    /// FLOPs and bytes on both sides, when at least one has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<work::WorkDelta>,
    /// How the comparison was made (normalisation, options that did not apply).
    pub notes: Vec<String>,
}

/// Compare two loaded sides.
pub fn compare(base: &Loaded, new: &Loaded, opts: &DiffOptions) -> Diff {
    let (b, n) = (&base.report, &new.report);
    // Two engine profiles each hold one inference: the same unit of work.
    let engine_profiles = b.engine.is_some() && n.engine.is_some();
    let work = if engine_profiles {
        Some(1.0)
    } else {
        work_ratio(b, n)
    };
    let norm = Normalization::choose(b, n, work);
    let durations = |r: &Report| -> Option<Vec<Ns>> {
        (!r.iterations.is_empty()).then(|| r.iterations.iter().map(|i| i.duration_ns).collect())
    };
    let (bd, nd) = (durations(b), durations(n));
    let busy = |r: &Report| r.attribution.window.total_ns - r.attribution.window.activity.gpu_idle_ns;
    let totals = stats::Totals {
        base_ns: b.window.duration_ns,
        new_ns: n.window.duration_ns,
        base_busy_ns: busy(b),
        new_busy_ns: busy(n),
        work_ratio: work,
        engine_profiles,
    };
    let verdict = stats::verdict(bd.as_deref(), nd.as_deref(), totals, opts.threshold_pct);
    let (bdiv, ndiv) = (norm.base_divisor, norm.new_divisor);
    let kernels = matching::compare(&b.kernels, &n.kernels, bdiv, ndiv);
    let mut notes = vec![format!("normalisation: {}", norm.explain())];
    notes.push(
        "kernels: matched by demangled name, then by family (category and name without tile, stage, alignment, precision and layout tokens), then by role for gemm, conv and attention kernels; the rest appeared or disappeared".into(),
    );
    if opts.analysis_options_given {
        for (name, side) in [("BASE", base), ("NEW", new)] {
            if side.kind == InputKind::Report {
                notes.push(format!(
                    "{name} is a saved report: --iteration, --whole-capture and --phase do not apply to it (it keeps the window it was made with)"
                ));
            }
        }
    }
    let mut comparability = comparability(b, n);
    if let Some(w) = matched_share_warning(&kernels) {
        comparability.push(w);
    }
    Diff {
        schema_version: SCHEMA_VERSION,
        kind: DIFF_KIND.into(),
        generator: crate::pipeline::generator(),
        base: Side::of(base),
        new: Side::of(new),
        attribution: deltas::attribution(b, n, &norm),
        memcpy: deltas::memcpy(b, n, &norm),
        categories: deltas::categories(b, n, &norm),
        findings: findings::compare(&b.findings, &n.findings, bdiv, ndiv),
        tensor_cores: deltas::tensor_cores(b, n, &norm),
        work: work::compare(b, n, &norm),
        precision: deltas::precision(
            b,
            n,
            &norm,
            match verdict.verdict {
                VerdictKind::Slower => Some(true),
                VerdictKind::Faster => Some(false),
                _ => None,
            },
        ),
        kernels,
        verdict,
        normalization: norm,
        comparability,
        notes,
    }
}

/// How much work NEW's window did relative to BASE's: over the kernels both
/// ran (same demangled name), the median of the call-count ratios
/// new/base, each weighted by the kernel's BASE time. A program that runs
/// the same kernels per step gives the ratio of steps done, which is what a
/// fixed-length capture (`nsys --duration`) leaves to compare. None when no
/// kernel ran on both sides.
pub fn work_ratio(b: &Report, n: &Report) -> Option<f64> {
    let new_counts: std::collections::HashMap<&str, u64> =
        n.kernels.iter().map(|k| (k.name.as_str(), k.count)).collect();
    let mut pairs: Vec<(f64, f64)> = b
        .kernels
        .iter()
        .filter(|k| k.count > 0 && k.total_ns > 0)
        .filter_map(|k| {
            let c = *new_counts.get(k.name.as_str())?;
            (c > 0).then(|| (c as f64 / k.count as f64, k.total_ns as f64))
        })
        .collect();
    if pairs.is_empty() {
        return None;
    }
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
    let half = pairs.iter().map(|p| p.1).sum::<f64>() / 2.0;
    let mut acc = 0.0;
    for (ratio, weight) in &pairs {
        acc += weight;
        if acc >= half {
            return Some(*ratio);
        }
    }
    pairs.last().map(|p| p.0)
}

/// Reasons the two reports may not be comparable.
pub fn comparability(b: &Report, n: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for (side, r) in [("BASE", b), ("NEW", n)] {
        if r.window.duration_ns == 0 {
            out.push(format!("{side} has an empty window: nothing to compare"));
        } else if r.kernels.is_empty() {
            out.push(format!("{side} ran no kernels in its window"));
        }
    }
    fn gpus(r: &Report) -> Vec<&str> {
        let mut g: Vec<&str> = r.source.gpus.iter().map(|g| g.name.as_str()).collect();
        g.sort_unstable();
        g
    }
    let (bg, ng) = (gpus(b), gpus(n));
    if bg != ng {
        let list = |g: &[&str]| {
            if g.is_empty() {
                "unknown GPUs".to_string()
            } else {
                crate::text::format::counted(g.iter().copied()).join(" + ")
            }
        };
        out.push(format!(
            "different GPUs: BASE ran on {}, NEW on {}",
            list(&bg),
            list(&ng)
        ));
    }
    if b.source.format != n.source.format {
        out.push(format!(
            "different trace formats ({} vs {}): the profilers may measure differently",
            b.source.format, n.source.format
        ));
    }
    let structure = |r: &Report| match (&r.window.iteration_range, r.iterations.len()) {
        (Some(name), k) if k > 0 => format!("{k} '{name}' iterations"),
        _ => format!("no iterations ({})", scope_label(r.window.scope)),
    };
    let (bi, ni) = (b.iterations.len(), n.iterations.len());
    if (bi > 0) != (ni > 0) || b.window.iteration_range != n.window.iteration_range {
        out.push(format!(
            "different iteration structure: BASE has {}, NEW has {}",
            structure(b),
            structure(n)
        ));
    } else if bi > 0 && ni > 0 && (bi.max(ni) as f64) > MAX_ITERATION_RATIO * bi.min(ni) as f64 {
        out.push(format!(
            "very different iteration counts ({bi} vs {ni}): per-iteration means are compared, but warm-up or caching effects may differ"
        ));
    }
    let (bp, np) = (&b.attribution.window.phase, &n.attribution.window.phase);
    for (name, x, y) in [
        ("preprocess", bp.preprocess_ns, np.preprocess_ns),
        ("inference", bp.inference_ns, np.inference_ns),
        ("postprocess", bp.postprocess_ns, np.postprocess_ns),
    ] {
        if (x > 0) != (y > 0) {
            out.push(format!(
                "phase '{name}' is present only in {}: the runs are annotated differently",
                if x > 0 { "BASE" } else { "NEW" }
            ));
        }
    }
    out
}

fn scope_label(s: Scope) -> &'static str {
    match s {
        Scope::Iterations => "iterations",
        Scope::GpuSpan => "whole GPU span",
        Scope::WholeCapture => "whole capture",
    }
}

/// A warning when little of BASE's kernel time has a counterpart in NEW.
fn matched_share_warning(rows: &[KernelDelta]) -> Option<String> {
    let total: f64 = rows.iter().map(|r| r.base_ns).sum();
    if total <= 0.0 {
        return None;
    }
    let matched: f64 = rows
        .iter()
        .filter(|r| matches!(r.matched, Match::Name | Match::Family | Match::Role))
        .map(|r| r.base_ns)
        .sum();
    let share = matched / total;
    (share < MIN_MATCHED_SHARE).then(|| {
        format!(
            "only {:.0}% of BASE kernel time has a counterpart in NEW (by name, family or role): the runs may do different work",
            share * 100.0
        )
    })
}

impl Diff {
    /// Whether `--fail-if-slower PCT` trips: the verdict is `slower` and the
    /// point estimate of the change exceeds `pct`.
    pub fn gate(&self, pct: f64) -> bool {
        self.verdict.verdict == stats::VerdictKind::Slower && self.verdict.change_pct.is_some_and(|c| c > pct)
    }

    pub fn kernels_matched(&self, m: Match) -> impl Iterator<Item = &KernelDelta> {
        self.kernels.iter().filter(move |k| k.matched == m)
    }
}

/// `diff.json`: the document, pretty-printed.
pub fn render_json(d: &Diff) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(d).expect("a diff always serializes");
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::deltas::NormMode;
    use super::*;

    #[test]
    fn gate_needs_slower_and_size() {
        let t = stats::Totals {
            base_ns: 0,
            new_ns: 0,
            base_busy_ns: 0,
            new_busy_ns: 0,
            work_ratio: None,
            engine_profiles: false,
        };
        let mut v = stats::verdict(Some(&[100, 101, 99]), Some(&[150, 151, 149]), t, 1.0);
        assert_eq!(v.verdict, stats::VerdictKind::Slower);
        let d = |v: Verdict| Diff {
            schema_version: SCHEMA_VERSION,
            kind: DIFF_KIND.into(),
            generator: String::new(),
            base: dummy_side(),
            new: dummy_side(),
            verdict: v,
            normalization: Normalization {
                mode: NormMode::PerIteration,
                base_divisor: 3.0,
                new_divisor: 3.0,
            },
            comparability: vec![],
            attribution: vec![],
            memcpy: vec![],
            categories: vec![],
            kernels: vec![],
            findings: vec![],
            tensor_cores: None,
            precision: None,
            work: None,
            notes: vec![],
        };
        assert!(d(v.clone()).gate(49.0));
        assert!(!d(v.clone()).gate(50.0));
        v.verdict = stats::VerdictKind::Inconclusive;
        assert!(!d(v).gate(0.0));
    }

    fn dummy_side() -> Side {
        Side {
            path: String::new(),
            input: InputKind::Trace,
            source_path: String::new(),
            format: String::new(),
            generator: String::new(),
            gpus: vec![],
            scope: Scope::Iterations,
            iteration_range: None,
            iterations: 0,
            window_ns: 0,
            iteration_time: None,
            iteration_ns: vec![],
            warnings: vec![],
        }
    }
}
