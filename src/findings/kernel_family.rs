//! Kernels of some categories (layout conversions, pure data copies) in the
//! window: their GPU time, where the host launched them, and totals per
//! kernel name. Shared by the rules that flag kernels which only move data.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::facts::{self, Draft, Where};
use super::{Context, EvidenceTable, Finding, Rule};
use crate::analysis::category::{Category, categorize};
use crate::analysis::intervals::{Cursor, Span};
use crate::analysis::span_list::{At, Builder, SpanList, Spans};
use crate::model::{NameId, Ns};

/// Totals of one kernel name.
#[derive(Debug, Clone, Default)]
pub struct NameRow {
    pub count: u64,
    pub total_ns: Ns,
    pub iterations: BTreeSet<usize>,
    pub phases: BTreeMap<&'static str, u64>,
}

/// The kernels of a family in the window.
#[derive(Debug, Default)]
pub struct Family {
    pub count: u64,
    /// Sum of durations.
    pub total_ns: Ns,
    /// Length of the union of their spans within the window: GPU time they
    /// occupy.
    pub union_ns: Ns,
    /// Kernel busy time of the window (union of all kernels).
    pub kernel_ns: Ns,
    /// Per name (demangled), by name id.
    pub names: BTreeMap<NameId, NameRow>,
    pub wh: Where,
    /// The union of their spans, for timelines.
    pub spans: SpanList,
}

/// Kernels whose GPU start lies in the window and whose category is in
/// `wanted`; placed by the host time of their launch call.
pub fn collect(cx: &Context, wanted: &[Category]) -> Family {
    let trace = cx.trace;
    // The kernel table's categories first (they may come from more than
    // the name: a TensorRT layer's type); one regex pass per other name.
    let mut cat: Vec<Option<bool>> = vec![None; trace.names.len()];
    for row in cx.kernels {
        if let Some(id) = trace.names.lookup(&row.name) {
            cat[id as usize] = Some(wanted.contains(&row.category));
        }
    }
    let links = cx.attribution.links(trace);
    let mut placer = facts::Placer::new(cx);
    let mut fam = Family {
        kernel_ns: cx.attribution.total.activity.kernel_ns,
        ..Family::default()
    };
    // One pass, the union built as the kernels come (by start): no list of
    // every kernel of the family.
    let mut union = Builder::default();
    let mut open: Option<Span> = None;
    for i in cx.window.indexes(&trace.kernels, |k| k.start) {
        let k = &trace.kernels[i];
        let slot = &mut cat[k.name as usize];
        if !*slot.get_or_insert_with(|| wanted.contains(&categorize(trace.name(k.name)))) {
            continue;
        }
        let host = links.kernel_call(i).map_or(k.start, |c| trace.api_calls[c].start);
        let p = placer.place(host);
        fam.wh.add(p);
        fam.count += 1;
        fam.total_ns += k.end - k.start;
        if k.end > k.start {
            match &mut open {
                Some(o) if k.start <= o.1 => o.1 = o.1.max(k.end),
                _ => {
                    if let Some(o) = open.replace((k.start, k.end)) {
                        union.push(o);
                    }
                }
            }
        }
        let row = fam.names.entry(k.name).or_default();
        row.count += 1;
        row.total_ns += k.end - k.start;
        row.iterations.extend(p.iteration);
        *row.phases.entry(p.phase.label()).or_default() += 1;
    }
    if let Some(o) = open {
        union.push(o);
    }
    fam.spans = union.finish();
    // Kernels start in the window; the last may run past its end.
    let mut window = Cursor::new(&cx.window.spans);
    fam.union_ns = fam
        .spans
        .iter()
        .map(|(a, b)| {
            let inside = window.overlapping(a, b).iter();
            inside
                .map(|&(ws, we)| b.min(we) - a.max(ws))
                .filter(|&d| d > 0)
                .sum::<Ns>()
        })
        .sum();
    fam
}

impl Family {
    /// Per-name evidence table, largest total first.
    pub fn table(&self, cx: &Context) -> EvidenceTable {
        let n_its = cx.window.iterations.len().max(1) as f64;
        let mut rows: Vec<&NameId> = self.names.keys().collect();
        rows.sort_by_key(|id| std::cmp::Reverse(self.names[id].total_ns));
        EvidenceTable::new(
            &[
                "kernel",
                "calls",
                "per iteration",
                "iterations",
                "phase",
                "total_ns",
                "mean_ns",
            ],
            rows.into_iter()
                .map(|id| {
                    let r = &self.names[id];
                    let phase = r.phases.iter().max_by_key(|e| e.1).map_or("", |e| *e.0);
                    vec![
                        json!(cx.trace.name(*id)),
                        json!(r.count),
                        json!(r.count as f64 / n_its),
                        json!(r.iterations.len()),
                        json!(phase),
                        json!(r.total_ns),
                        json!(r.total_ns / r.count.max(1) as Ns),
                    ]
                })
                .collect(),
        )
    }

    /// Whether the family's GPU time clears a rule's floor: at least
    /// `min_kernel_share` of the window's kernel time (and 10 us).
    pub fn clears(&self, min_kernel_share: f64) -> bool {
        self.count > 0 && facts::clears(self.union_ns, self.kernel_ns, min_kernel_share)
    }

    /// `rule`'s finding on the family: the GPU time it occupies is at
    /// stake; `extra` facts beside the family's own; its spans drawn on
    /// the lane `lane`.
    pub fn finding(
        &self,
        cx: &Context,
        rule: &dyn Rule,
        lane: &str,
        title: String,
        extra: Vec<(&'static str, serde_json::Value)>,
        recommendation: String,
    ) -> Finding {
        let n_its = cx.window.iterations.len();
        let mut facts = vec![
            ("kernels", json!(self.count)),
            ("kernel_names", json!(self.names.len())),
            ("per_iteration", json!(self.count as f64 / n_its.max(1) as f64)),
            ("total_ns", json!(self.total_ns)),
            ("gpu_ns", json!(self.union_ns)),
            ("window_kernel_ns", json!(self.kernel_ns)),
            (
                "share_of_kernel_time",
                json!(facts::share(self.union_ns, self.kernel_ns)),
            ),
        ];
        facts.extend(extra);
        let draft = Draft {
            title,
            stake: self.union_ns,
            facts,
            table: self.table(cx),
            recommendation,
        };
        draft.finish(cx, rule, &self.wh, |it| {
            facts::timeline(cx, it, &|_| false, &self.marks(cx, it, lane))
        })
    }

    /// The family's spans inside iteration `it`, as timeline marks.
    pub fn marks<'a>(&self, cx: &Context, it: usize, lane: &'a str) -> Vec<(&'a str, Span)> {
        let Some(i) = cx.window.iterations.get(it) else {
            return Vec::new();
        };
        At::new(&self.spans)
            .overlapping(i.start, i.end)
            .map(|j| (lane, self.spans.at(j)))
            .collect()
    }
}
