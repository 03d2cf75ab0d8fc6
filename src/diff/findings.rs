//! Findings that were resolved, are new, or changed.
//!
//! A BASE finding and a NEW finding are the same problem when they share
//! rule and code and then, tried in this order: the same title; the same
//! subject (the text-valued evidence facts, such as a kernel name or a copy
//! direction, which numbers do not change); the same title once numbers are
//! masked (`12 uploads of 9.6 MiB` vs `12 uploads of 2.4 MiB`); and last,
//! when a rule has exactly one unmatched finding on each side (rules that
//! report one aggregate finding per trace), those two. Each finding is
//! matched at most once.

use serde::{Deserialize, Serialize};

use crate::findings::{Finding, Severity};
use crate::model::Ns;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Only in BASE.
    Resolved,
    /// Only in NEW.
    New,
    /// In both, with another severity, title or time at stake.
    Changed,
    Unchanged,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Resolved => "resolved",
            Status::New => "new",
            Status::Changed => "changed",
            Status::Unchanged => "unchanged",
        }
    }
}

/// One side of a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingSide {
    pub severity: Severity,
    pub title: String,
    /// As the report gives it (window total).
    pub time_at_stake_ns: Ns,
    /// Normalised like every other delta.
    pub time_at_stake_norm_ns: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingDelta {
    pub status: Status,
    pub rule: String,
    pub code: String,
    pub base: Option<FindingSide>,
    pub new: Option<FindingSide>,
}

impl FindingDelta {
    pub fn title(&self) -> &str {
        self.new
            .as_ref()
            .or(self.base.as_ref())
            .map_or("", |s| s.title.as_str())
    }

    /// Normalised time at stake, new - base.
    pub fn delta_ns(&self) -> f64 {
        let t = |s: &Option<FindingSide>| s.as_ref().map_or(0.0, |s| s.time_at_stake_norm_ns);
        t(&self.new) - t(&self.base)
    }
}

fn mask_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_num = false;
    for c in s.chars() {
        if c.is_ascii_digit() || (in_num && (c == '.' || c == ',')) {
            if !in_num {
                out.push('#');
            }
            in_num = true;
        } else {
            in_num = false;
            out.push(c);
        }
    }
    out
}

/// Text-valued facts: what the finding is about.
fn subject(f: &Finding) -> Vec<(&str, &str)> {
    f.evidence
        .facts
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
        .collect()
}

fn side(f: &Finding, div: f64) -> FindingSide {
    FindingSide {
        severity: f.severity,
        title: f.title.clone(),
        time_at_stake_ns: f.time_at_stake_ns,
        time_at_stake_norm_ns: f.time_at_stake_ns as f64 / div,
    }
}

/// Compare two finding lists; `*_div` normalise time at stake.
pub fn compare(base: &[Finding], new: &[Finding], base_div: f64, new_div: f64) -> Vec<FindingDelta> {
    let mut new_taken = vec![false; new.len()];
    let mut pair: Vec<Option<usize>> = vec![None; base.len()];
    let same_rule = |b: &Finding, n: &Finding| b.rule == n.rule && b.code == n.code;
    type Same = dyn Fn(&Finding, &Finding) -> bool;
    let tests: [&Same; 3] = [
        &|b, n| b.title == n.title,
        &|b, n| {
            let s = subject(b);
            !s.is_empty() && s == subject(n)
        },
        &|b, n| mask_numbers(&b.title) == mask_numbers(&n.title),
    ];
    for test in tests {
        for (i, b) in base.iter().enumerate() {
            if pair[i].is_some() {
                continue;
            }
            if let Some(j) =
                (0..new.len()).find(|&j| !new_taken[j] && same_rule(b, &new[j]) && test(b, &new[j]))
            {
                pair[i] = Some(j);
                new_taken[j] = true;
            }
        }
    }
    // One left on each side for a rule: the same aggregate finding.
    for (i, b) in base.iter().enumerate() {
        if pair[i].is_some() {
            continue;
        }
        let left_base = (0..base.len())
            .filter(|&k| pair[k].is_none() && same_rule(&base[k], b))
            .count();
        let left_new: Vec<usize> = (0..new.len())
            .filter(|&j| !new_taken[j] && same_rule(b, &new[j]))
            .collect();
        if left_base == 1 && left_new.len() == 1 {
            pair[i] = Some(left_new[0]);
            new_taken[left_new[0]] = true;
        }
    }
    let mut out = Vec::new();
    for (i, b) in base.iter().enumerate() {
        let bs = side(b, base_div);
        match pair[i] {
            Some(j) => {
                let ns = side(&new[j], new_div);
                let same = bs.severity == ns.severity
                    && bs.title == ns.title
                    && bs.time_at_stake_norm_ns == ns.time_at_stake_norm_ns;
                out.push(FindingDelta {
                    status: if same { Status::Unchanged } else { Status::Changed },
                    rule: b.rule.clone(),
                    code: b.code.clone(),
                    base: Some(bs),
                    new: Some(ns),
                });
            }
            None => out.push(FindingDelta {
                status: Status::Resolved,
                rule: b.rule.clone(),
                code: b.code.clone(),
                base: Some(bs),
                new: None,
            }),
        }
    }
    for (j, n) in new.iter().enumerate() {
        if !new_taken[j] {
            out.push(FindingDelta {
                status: Status::New,
                rule: n.rule.clone(),
                code: n.code.clone(),
                base: None,
                new: Some(side(n, new_div)),
            });
        }
    }
    // New and resolved first, then changed, by time at stake.
    let rank = |s: Status| match s {
        Status::New => 0,
        Status::Resolved => 1,
        Status::Changed => 2,
        Status::Unchanged => 3,
    };
    out.sort_by(|a, b| {
        rank(a.status)
            .cmp(&rank(b.status))
            .then(b.delta_ns().abs().total_cmp(&a.delta_ns().abs()))
            .then_with(|| a.code.cmp(&b.code))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Evidence;

    fn f(code: &str, title: &str, stake: Ns, kernel: Option<&str>) -> Finding {
        let mut evidence = Evidence::default();
        if let Some(k) = kernel {
            evidence.facts.insert("kernel".into(), serde_json::json!(k));
        }
        evidence
            .facts
            .insert("count".into(), serde_json::json!(stake / 10));
        Finding {
            rule: format!("rule-{code}"),
            code: code.into(),
            severity: Severity::Warning,
            title: title.into(),
            time_at_stake_ns: stake,
            evidence,
            recommendation: String::new(),
        }
    }

    #[test]
    fn statuses() {
        let base = vec![
            f("TR101", "12 pageable uploads of 9.6 MiB", 1200, None),
            f(
                "TR201",
                "layout transposes around convolutions",
                500,
                Some("nchwToNhwcKernel"),
            ),
            f("TR301", "CPU preprocessing idles the GPU", 800, None),
            f("TR401", "GEMM off Tensor Cores: kernel A", 100, Some("A")),
        ];
        let new = vec![
            f("TR101", "12 pageable uploads of 2.4 MiB", 300, None),
            f("TR401", "GEMM off Tensor Cores: kernel A (x2)", 200, Some("A")),
            f("TR402", "misaligned GEMM", 700, None),
            f("TR301", "CPU preprocessing idles the GPU", 400, None),
        ];
        // One aggregate finding per rule on each side pairs up even when
        // its wording changed.
        let one = compare(
            &[f("TR103", "24 copies; largest cost: HtoD 9.2 MiB", 900, None)],
            &[f("TR103", "12 copies; largest cost: DtoH 640 B", 40, None)],
            1.0,
            1.0,
        );
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].status, Status::Changed);
        let two = compare(
            &[
                f("TR201", "transposes: a", 9, Some("a")),
                f("TR201", "transposes: b", 9, Some("b")),
            ],
            &[f("TR201", "transposes: c", 9, Some("c"))],
            1.0,
            1.0,
        );
        assert_eq!(two.iter().filter(|x| x.status == Status::Resolved).count(), 2);
        let d = compare(&base, &new, 12.0, 12.0);
        let got: Vec<(&str, Status)> = d.iter().map(|x| (x.code.as_str(), x.status)).collect();
        assert_eq!(
            got,
            vec![
                ("TR402", Status::New),
                ("TR201", Status::Resolved),
                ("TR101", Status::Changed),
                ("TR301", Status::Changed),
                ("TR401", Status::Changed),
            ]
        );
        assert!((d[2].delta_ns() - (300.0 - 1200.0) / 12.0).abs() < 1e-9);
        let same = compare(&base, &base, 12.0, 12.0);
        assert!(
            same.iter()
                .all(|x| x.status == Status::Unchanged && x.delta_ns() == 0.0)
        );
    }
}
