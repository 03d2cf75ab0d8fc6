//! TR404 int8-slower.

use serde_json::json;

use crate::analysis::tensor_core::compare::{self, Pair};
use crate::declare_rule;
use crate::findings::{Context, Evidence, EvidenceTable, Finding, Rule};
use crate::text::format::ns;

declare_rule! {
    /// INT8 work that takes longer than the same work in FP16/BF16. INT8
    /// Tensor Cores (IMMA) have twice the FP16 peak, so an INT8 path that is
    /// slower has lost the gain somewhere: in quantize/dequantize and copy
    /// kernels around the GEMM, in an INT8 kernel that is no faster than the
    /// FP16 one (small or badly shaped problems), or in INT8 layers falling
    /// back to CUDA cores.
    ///
    /// The trace shows the same work at two precisions through its NVTX
    /// ranges: range names that differ only in a precision word (`int8_gemm`
    /// and `fp16_gemm`; `layer3.int8` and `layer3.bf16`). Kernels belong to
    /// the range open on the host when they were launched (correlation id),
    /// and a range counts when it starts in the window and both variants ran
    /// matrix kernels of their precision on Tensor Cores. The finding
    /// compares the GPU time launched per range occurrence, split into the
    /// Tensor Core matrix kernels and everything else.
    ///
    /// Time at stake: the extra time per occurrence times the INT8
    /// occurrences in the window. Severity: error from 25% of the window at
    /// stake, warning from 5%, info below.
    pub struct Int8Slower {
        name: "int8-slower",
        code: "TR404",
        summary: "INT8 ranges slower than the FP16/BF16 ranges doing the same work",
    }
}

/// How much slower INT8 must be to report (5%: below is noise).
const MARGIN: f64 = 1.05;

impl Int8Slower {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        let launches = cx.attribution.launches(cx.trace);
        compare::int8_vs_16bit(
            cx.trace,
            cx.window,
            cx.kernels,
            launches,
            cx.attribution.links(cx.trace),
        )
        .into_iter()
        .filter(|p| p.int8.mean_total_ns() as f64 > p.half.mean_total_ns() as f64 * MARGIN)
        .map(|p| finding(self, cx, &p))
        .collect()
    }
}

fn finding(rule: &Int8Slower, cx: &Context, p: &Pair) -> Finding {
    let (i8, h) = (&p.int8, &p.half);
    let (i8_total, h_total) = (i8.mean_total_ns(), h.mean_total_ns());
    let (i8_mm, h_mm) = (i8.mean_matrix_ns(), h.mean_matrix_ns());
    let at_stake = (i8_total - h_total) * i8.occurrences.len() as i64;
    let mut facts = std::collections::BTreeMap::new();
    facts.insert("int8_range".into(), json!(i8.range));
    facts.insert("half_range".into(), json!(h.range));
    facts.insert("half_precision".into(), json!(h.precision.label()));
    facts.insert("int8_occurrences".into(), json!(i8.occurrences.len()));
    facts.insert("half_occurrences".into(), json!(h.occurrences.len()));
    facts.insert("int8_per_occurrence_ns".into(), json!(i8_total));
    facts.insert("half_per_occurrence_ns".into(), json!(h_total));
    facts.insert("int8_matrix_per_occurrence_ns".into(), json!(i8_mm));
    facts.insert("half_matrix_per_occurrence_ns".into(), json!(h_mm));
    facts.insert("int8_other_per_occurrence_ns".into(), json!(i8_total - i8_mm));
    facts.insert(
        "slowdown".into(),
        json!((i8_total as f64 / h_total.max(1) as f64 * 100.0).round() / 100.0),
    );
    let mut table = EvidenceTable {
        columns: ["range", "kernel", "per_occurrence_ns"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    for v in [i8, h] {
        for (k, t) in v.kernels() {
            table
                .rows
                .push(vec![json!(v.range), json!(cx.trace.name(k)), json!(t)]);
        }
    }
    let other = i8_total - i8_mm;
    let why = if other > i8_total / 5 {
        format!(
            "{} of each INT8 occurrence is spent outside the INT8 GEMM kernels (conversions, copies): fuse quantization into the producer and dequantization into the GEMM epilogue, or keep activations in INT8 between layers",
            ns(other)
        )
    } else {
        "the INT8 kernels themselves are not faster: check that the problem is large enough and its dimensions multiples of 16/32, or keep this layer in FP16".to_string()
    };
    Finding {
        rule: rule.name().into(),
        code: rule.code().into(),
        severity: super::tensor_core_common::severity(at_stake, cx.window.duration()),
        title: format!(
            "INT8 slower than {} for the same work: {} takes {} per occurrence, {} takes {}",
            h.precision.label(),
            i8.range,
            ns(i8_total),
            h.range,
            ns(h_total)
        ),
        time_at_stake_ns: at_stake,
        evidence: Evidence {
            facts,
            table: Some(table),
            ..Evidence::default()
        },
        recommendation: format!(
            "The INT8 GEMM kernels take {} per occurrence against {} for {} (IMMA peaks at 2x HMMA); {why}.",
            ns(i8_mm),
            ns(h_mm),
            h.precision.label()
        ),
    }
}
