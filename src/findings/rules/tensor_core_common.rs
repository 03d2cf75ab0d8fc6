//! Shared by the Tensor Core rules (TR4xx): severity by share of the
//! window, kernel tables, the window's matrix time.

use serde_json::json;

use crate::analysis::kernels::KernelRow;
use crate::analysis::tensor_core::{self, reason::Reason};
use crate::findings::{Context, Evidence, EvidenceTable, Finding, Rule, Severity};
use crate::model::Ns;

/// The shared severity thresholds (warning from 5% of the window at
/// stake, error from 25%), so Tensor Core findings rank with the others.
pub fn severity(at_stake: Ns, window: Ns) -> Severity {
    Severity::for_share(at_stake, window)
}

/// Time of the window's matrix work (the `tensor_cores.eligible_ns`).
pub fn matrix_ns(cx: &Context) -> Ns {
    cx.kernels
        .iter()
        .filter(|r| tensor_core::is_eligible(r))
        .map(|r| r.total_ns)
        .sum()
}

/// Rows of the window with the reason `tensor_core::annotate` gave them,
/// kept when `keep` says so.
pub fn rows_with_reason<'a>(
    cx: &'a Context,
    keep: impl Fn(&KernelRow, &Reason) -> bool,
) -> Vec<(&'a KernelRow, Reason)> {
    cx.kernels
        .iter()
        .filter_map(|r| {
            let why = Reason {
                kind: r.tensor_core_reason_kind?,
                text: r.tensor_core_reason.clone().unwrap_or_default(),
            };
            keep(r, &why).then_some((r, why))
        })
        .collect()
}

/// The common facts of a group of kernels.
pub fn facts(
    cx: &Context,
    rows: &[(&KernelRow, Reason)],
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let time: Ns = rows.iter().map(|(r, _)| r.total_ns).sum();
    let launches: u64 = rows.iter().map(|(r, _)| r.count).sum();
    let matrix = matrix_ns(cx);
    let mut f = std::collections::BTreeMap::new();
    f.insert("kernel_ns".into(), json!(time));
    f.insert("kernels".into(), json!(rows.len()));
    f.insert("launches".into(), json!(launches));
    f.insert("matrix_ns".into(), json!(matrix));
    if matrix > 0 {
        f.insert(
            "share_of_matrix_time".into(),
            json!((time as f64 / matrix as f64 * 1000.0).round() / 1000.0),
        );
    }
    let iterations = cx.window.iterations.len() as i64;
    if iterations > 0 {
        f.insert("per_iteration_ns".into(), json!(time / iterations));
    }
    f
}

/// A table of kernels: name, calls, total, mean, evidence, reason.
pub fn table(rows: &[(&KernelRow, Reason)]) -> EvidenceTable {
    EvidenceTable {
        columns: ["kernel", "calls", "total_ns", "mean_ns", "evidence", "reason"]
            .map(String::from)
            .to_vec(),
        rows: rows
            .iter()
            .map(|(r, why)| {
                vec![
                    json!(r.name),
                    json!(r.count),
                    json!(r.total_ns),
                    json!(r.mean_ns),
                    json!(r.tensor_core_evidence.label()),
                    json!(why.text),
                ]
            })
            .collect(),
    }
}

/// The short name of the largest kernel, for titles.
pub fn top_name(rows: &[(&KernelRow, Reason)]) -> String {
    rows.iter()
        .max_by_key(|(r, _)| r.total_ns)
        .map(|(r, _)| crate::text::escape::truncate(&r.name, 70))
        .unwrap_or_default()
}

/// The kernels' time, for titles.
pub fn time(rows: &[(&KernelRow, Reason)]) -> Ns {
    rows.iter().map(|(r, _)| r.total_ns).sum()
}

/// `rule`'s finding on kernels `rows`: half their time at stake (they
/// would still run, on Tensor Cores or a full-speed variant), the shared
/// facts plus `extra`, and `table` (else the shared kernel table).
pub fn finding(
    rule: &dyn Rule,
    cx: &Context,
    rows: &[(&KernelRow, Reason)],
    title: String,
    extra: Vec<(&'static str, serde_json::Value)>,
    table: Option<EvidenceTable>,
    recommendation: &str,
) -> Finding {
    let at_stake = time(rows) / 2;
    let mut facts = facts(cx, rows);
    facts.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
    Finding {
        rule: rule.name().into(),
        code: rule.code().into(),
        severity: severity(at_stake, cx.window.duration()),
        title,
        time_at_stake_ns: at_stake,
        evidence: Evidence {
            facts,
            table: Some(table.unwrap_or_else(|| self::table(rows))),
            ..Evidence::default()
        },
        recommendation: recommendation.into(),
    }
}
