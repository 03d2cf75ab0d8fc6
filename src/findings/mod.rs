//! Findings work like lint rules: one module per rule, each with a stable
//! kebab-case name, a code, a default severity and a documentation text
//! (its doc comment) that `trace-report explain RULE` prints.
//!
//! A rule is a pure function of the analysed trace ([`Context`]) to zero or
//! more [`Finding`]s. `time_at_stake_ns` is an honest estimate of what
//! fixing the problem could save: never more than the time involved.
//!
//! Severity is shared policy ([`Severity::for_share`]): a finding is a
//! warning when its time at stake is at least [`WARNING_SHARE`] of the
//! window and an error from [`ERROR_SHARE`]; each rule decides when it
//! fires at all (its noise floor) and states it in its documentation.
//! Every rule also ignores less than [`facts::MIN_STAKE_NS`] (10 us) at
//! stake, whatever its share. Times at stake of different rules may overlap (a pageable copy that is
//! also a re-upload is counted by both): they are not additive.

pub mod facts;
pub mod host_phase;
pub mod kernel_family;
pub mod overview;
pub mod rules;
#[cfg(test)]
pub mod testing;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::attribution;
use crate::analysis::kernels::KernelRow;
use crate::analysis::window::Window;
use crate::model::{Ns, Trace};

/// Share of the window from which a finding is a warning.
pub const WARNING_SHARE: f64 = 0.05;
/// Share of the window from which a finding is an error.
pub const ERROR_SHARE: f64 = 0.25;

/// Declare a rule: its doc comment becomes both rustdoc and the text
/// `explain` prints, and its name, code and summary are stated once, here.
/// The rule's module supplies `fn findings(&self, cx: &Context) ->
/// Vec<Finding>` in an `impl` of its own.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            name: $rule:literal,
            code: $code:literal,
            summary: $summary:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub struct $name;
        impl $name {
            /// The rule's documentation, as `explain` prints it.
            pub const DOC: &'static str = concat!($($doc, "\n"),*);
        }
        impl $crate::findings::Rule for $name {
            fn name(&self) -> &'static str {
                $rule
            }
            fn code(&self) -> &'static str {
                $code
            }
            fn summary(&self) -> &'static str {
                $summary
            }
            fn doc(&self) -> &'static str {
                Self::DOC
            }
            fn check(&self, cx: &$crate::findings::Context) -> Vec<$crate::findings::Finding> {
                self.findings(cx)
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; small or uncertain gain.
    Info,
    /// A problem that costs a noticeable share of the iteration.
    Warning,
    /// A problem that dominates the iteration.
    Error,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Severity of `stake_ns` out of a window of `window_ns`, by the shared
    /// thresholds: error from [`ERROR_SHARE`], warning from
    /// [`WARNING_SHARE`], info below.
    pub fn for_share(stake_ns: Ns, window_ns: Ns) -> Severity {
        let share = facts::share(stake_ns, window_ns);
        if share >= ERROR_SHARE {
            Severity::Error
        } else if share >= WARNING_SHARE {
            Severity::Warning
        } else {
            Severity::Info
        }
    }
}

/// A table of the operations behind a finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

impl EvidenceTable {
    pub fn new(columns: &[&str], rows: Vec<Vec<serde_json::Value>>) -> EvidenceTable {
        EvidenceTable {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
        }
    }

    /// Rows ordered by their keys, largest first (ties keep their order).
    pub fn largest_first<K: Ord>(
        columns: &[&str],
        mut rows: Vec<(K, Vec<serde_json::Value>)>,
    ) -> EvidenceTable {
        rows.sort_by(|a, b| b.0.cmp(&a.0));
        EvidenceTable::new(columns, rows.into_iter().map(|r| r.1).collect())
    }
}

/// What a finding rests on. Fact keys end in `_ns` for times and `_bytes`
/// for sizes so that every renderer formats them alike.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub facts: BTreeMap<String, serde_json::Value>,
    /// Where in the run: NVTX phases involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<String>,
    /// Where in the run: iteration indexes involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iterations: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<EvidenceTable>,
    /// One iteration's activity with the operations of the finding marked,
    /// for a chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Timeline>,
}

/// One iteration drawn as lanes of spans (absolute trace times, ns).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Index of the iteration shown.
    pub iteration: usize,
    pub start_ns: Ns,
    pub end_ns: Ns,
    /// Lane names, top to bottom.
    pub lanes: Vec<String>,
    pub items: Vec<TimelineItem>,
}

/// One span of a [`Timeline`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimelineItem {
    /// Index into [`Timeline::lanes`].
    pub lane: usize,
    pub start_ns: Ns,
    pub end_ns: Ns,
    /// Whether the span is one of the finding's operations.
    pub flagged: bool,
    /// Spans this item stands for: more than 1 when neighbours closer than
    /// the timeline's resolution were merged.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
    /// Time the merged spans cover (their union), when they leave gaps;
    /// absent when they cover the whole item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_ns: Option<Ns>,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub code: String,
    pub severity: Severity,
    pub title: String,
    pub time_at_stake_ns: Ns,
    pub evidence: Evidence,
    pub recommendation: String,
}

/// Everything a rule may look at.
pub struct Context<'a> {
    pub trace: &'a Trace,
    pub window: &'a Window,
    pub attribution: &'a attribution::Result,
    pub kernels: &'a [KernelRow],
}

/// A rule.
pub trait Rule: Sync {
    /// Stable kebab-case name, e.g. `reupload`.
    fn name(&self) -> &'static str;
    /// Stable code, e.g. `TR101`.
    fn code(&self) -> &'static str;
    /// One line: what it detects.
    fn summary(&self) -> &'static str;
    /// The full documentation (the rule's doc comment).
    fn doc(&self) -> &'static str;
    /// Findings on this trace.
    fn check(&self, cx: &Context) -> Vec<Finding>;
}

/// Every rule, in code order.
pub fn rules() -> &'static [&'static dyn Rule] {
    rules::ALL
}

/// The rule with this name or code.
pub fn rule(name_or_code: &str) -> Option<&'static dyn Rule> {
    rules()
        .iter()
        .copied()
        .find(|r| r.name() == name_or_code || r.code().eq_ignore_ascii_case(name_or_code))
}

/// Run every rule; findings sorted by time at stake (largest first).
/// The rules that take longest on large traces, longest first (they scan
/// every kernel, launch or gap: 0.9 down to 0.16 s on a 10M-kernel export).
const LONGEST: &[&str] = &[
    "launch-bound",
    "pageable-memcpy",
    "layout-transpose",
    "low-alignment",
    "concat-copy",
    "sync-stall",
    "host-preprocessing",
];

pub fn run(cx: &Context) -> Vec<Finding> {
    // Rules are independent and read the trace only: one per core at a
    // time, results in rule order.
    // The longest start first, so that no core waits on one long rule at
    // the end; results go back to rule order.
    let all = rules();
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| {
        LONGEST
            .iter()
            .position(|&n| n == all[i].name())
            .unwrap_or(LONGEST.len())
    });
    let mut results: Vec<(usize, Vec<Finding>)> = crate::workers::map(&order, |&i| {
        let r = &all[i];
        (i, crate::timing::time(r.name(), || r.check(cx)))
    });
    results.sort_by_key(|(i, _)| *i);
    let mut out: Vec<Finding> = results.into_iter().flat_map(|(_, f)| f).collect();
    // Every finding states its stake among its facts, whichever rule made it.
    for f in &mut out {
        f.evidence
            .facts
            .entry("at_stake_ns".into())
            .or_insert_with(|| serde_json::json!(f.time_at_stake_ns));
    }
    out.sort_by(|a, b| {
        b.time_at_stake_ns
            .cmp(&a.time_at_stake_ns)
            .then(b.severity.cmp(&a.severity))
            .then_with(|| a.code.cmp(&b.code))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_are_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for r in rules() {
            assert!(seen.insert(r.name()), "duplicate name {}", r.name());
            assert!(seen.insert(r.code()), "duplicate code {}", r.code());
            // Digits are allowed after the first letter (`int8-slower`).
            assert!(
                r.name().starts_with(|c: char| c.is_ascii_lowercase())
                    && r.name()
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                r.name()
            );
            assert!(r.doc().len() > 80, "{} is barely documented", r.name());
            assert!(rule(r.name()).is_some() && rule(r.code()).is_some());
        }
    }

    #[test]
    fn the_longest_rules_are_rules() {
        for n in LONGEST {
            assert!(rule(n).is_some(), "{n} is not a rule");
        }
    }

    #[test]
    fn rules_are_listed_in_code_order() {
        let codes: Vec<&str> = rules().iter().map(|r| r.code()).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn severity_by_share() {
        assert_eq!(Severity::for_share(0, 100), Severity::Info);
        assert_eq!(Severity::for_share(4, 100), Severity::Info);
        assert_eq!(Severity::for_share(5, 100), Severity::Warning);
        assert_eq!(Severity::for_share(24, 100), Severity::Warning);
        assert_eq!(Severity::for_share(25, 100), Severity::Error);
        assert_eq!(Severity::for_share(5, 0), Severity::Info);
    }
}
