//! TR403 low-alignment.

use serde_json::json;

use super::tensor_core_common as common;
use crate::analysis::tensor_core::names::{self, Verdict};
use crate::analysis::tensor_core::reason::ReasonKind;
use crate::declare_rule;
use crate::findings::facts;
use crate::findings::{Context, EvidenceTable, Finding};
use crate::text::format::ns;

declare_rule! {
    /// Tensor Core kernels in their low-alignment variants: CUTLASS
    /// `..._align1`/`_align2`/`_align4`, cuDNN/cuBLAS `aligna2`, PyTorch
    /// `fmha_..._notaligned`, i.e. operands aligned to fewer than 16 bytes
    /// (fewer than 8 FP16 or 16 INT8 elements). cuBLAS and cuDNN pick these
    /// when a dimension or leading dimension is not a multiple of 8 (FP16) or
    /// 16 (INT8): a hidden size of 1020 or 4090, K = 4093. They still run on
    /// Tensor Cores but load operands in narrow pieces; on an H100 the
    /// align1 FP16 kernel of a 4096x4096x4093 GEMM took 1.05 ms where the
    /// aligned 4096^3 GEMM took 0.17 ms.
    ///
    /// The finding lists the kernels, their precision and alignment, and the
    /// NVTX ranges that launched them (by the launch call's correlation id,
    /// so GPU lag does not misplace them). Where an input records the
    /// operation shapes, the reason names the offending dimension.
    ///
    /// Time at stake is half the kernels' time (measured gaps are larger;
    /// 2x is the safe side). Severity: error from 25% of the window at
    /// stake, warning from 5%, info below.
    pub struct LowAlignment {
        name: "low-alignment",
        code: "TR403",
        summary: "Tensor Core kernels in align1/align2/align4 variants: dimensions not multiples of 8 (FP16) or 16 (INT8)",
    }
}

impl LowAlignment {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        let rows = common::rows_with_reason(cx, |r, why| {
            r.tensor_core == Verdict::Yes && why.kind == ReasonKind::LowAlignment
        });
        if rows.is_empty() {
            return Vec::new();
        }
        let launches = cx.attribution.launches(cx.trace);
        let by_kernel = launches.ranges_by_kernel(cx.trace, cx.window, cx.attribution.links(cx.trace));
        let ranges_of = |name: &str| -> Vec<(String, i64)> {
            cx.trace
                .names
                .lookup(name)
                .and_then(|id| by_kernel.get(&id))
                .map(|v| {
                    v.iter()
                        .map(|&(r, t)| (cx.trace.name(r).to_string(), t))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut all_ranges: Vec<(String, i64)> = Vec::new();
        let mut table = EvidenceTable {
            columns: [
                "kernel",
                "precision",
                "alignment",
                "calls",
                "total_ns",
                "launched_from",
                "reason",
            ]
            .map(String::from)
            .to_vec(),
            rows: Vec::new(),
        };
        for (r, why) in &rows {
            let info = names::classify(&r.name);
            let ranges = ranges_of(&r.name);
            let shown: Vec<String> = ranges
                .iter()
                .take(3)
                .map(|(n, t)| format!("{n} ({})", ns(*t)))
                .collect();
            for (n, t) in ranges {
                match all_ranges.iter_mut().find(|(m, _)| *m == n) {
                    Some(e) => e.1 += t,
                    None => all_ranges.push((n, t)),
                }
            }
            table.rows.push(vec![
                json!(r.name),
                json!(info.precision.map(|p| p.label())),
                json!(info.alignment),
                json!(r.count),
                json!(r.total_ns),
                json!(shown.join(", ")),
                json!(why.text),
            ]);
        }
        all_ranges.sort_by_key(|(n, t)| (std::cmp::Reverse(*t), n.clone()));
        let range_names: Vec<&str> = all_ranges.iter().take(5).map(|(n, _)| n.as_str()).collect();
        let mut extra = Vec::new();
        let mut from = String::new();
        if !range_names.is_empty() {
            extra.push(("launched_from", json!(range_names.join(", "))));
            from = format!(", launched from {}", range_names.join(", "));
        }
        let title = format!(
            "Tensor Core kernels in low-alignment variants: {} in {} kernel(s){from}",
            facts::per_iteration_label(cx, common::time(&rows)),
            rows.len()
        );
        vec![common::finding(
            self,
            cx,
            &rows,
            title,
            extra,
            Some(table),
            "Make GEMM dimensions and leading dimensions multiples of 8 for FP16/BF16 (16 for INT8, 64 or 128 is better): pad hidden sizes, vocabulary and FFN widths, and channel counts; then cuBLAS/cuDNN pick their full-speed aligned kernels.",
        )]
    }
}
