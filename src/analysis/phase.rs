//! Phases: what the host was doing inside an iteration, from the NVTX ranges
//! nested in it on its thread.
//!
//! A nested range's name decides its phase by regular expression
//! (case-insensitive). When a name matches both the preprocess and the
//! postprocess pattern, the longer match wins (`download` is postprocess
//! although it contains `load`; `detokenize` is postprocess although it
//! contains `tokeniz`); equal lengths go to preprocess. Other nested ranges
//! are inference (unless `--phase inference=REGEX` narrows that). Where
//! ranges of different phases overlap in time, preprocess wins over
//! postprocess over inference; time in no nested range is `unannotated`.
//!
//! When the GPU runs behind the host, an iteration lasts until the last
//! GPU work it launched ends (see [`super::projection`]); the part of it
//! after its host range, where no other iteration's host range is open
//! either, is the `gpu_tail` phase:
//!
//! ```text
//!  host   [iter 0: pre|infer]      [iter 1: pre|infer]
//!  GPU          [k k k k k k k k k k]     [k k k k k k k k k]
//!  phase  [pre |infer ][gpu tail ][pre |infer ][gpu tail  ]
//! ```
//!
//! The tail's row holds the GPU work that ran there, whatever launched it;
//! findings place each operation by the phase of the call that launched it.

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const DEFAULT_PREPROCESS: &str = r"pre.?process|preproc|decode|resize|normali[sz]|tokeni[sz]|load|upload";
pub const DEFAULT_POSTPROCESS: &str = r"post.?process|nms|detokeni[sz]|download";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Preprocess,
    Inference,
    Postprocess,
    Unannotated,
    /// Inside an iteration after its host range: the GPU finishing what
    /// the iteration launched.
    #[serde(rename = "gpu_tail")]
    GpuTail,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Preprocess,
        Phase::Inference,
        Phase::Postprocess,
        Phase::Unannotated,
        Phase::GpuTail,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Phase::Preprocess => "preprocess",
            Phase::Inference => "inference",
            Phase::Postprocess => "postprocess",
            Phase::Unannotated => "unannotated",
            Phase::GpuTail => "gpu tail",
        }
    }
}

/// The patterns that name phases.
#[derive(Debug, Clone)]
pub struct PhaseRules {
    pre: Regex,
    post: Regex,
    /// None: every other nested range is inference.
    inference: Option<Regex>,
    /// The `--phase` overrides as given (`preprocess=REGEX`), to warn when
    /// one matches no range.
    overrides: Vec<(String, Regex)>,
}

impl Default for PhaseRules {
    fn default() -> Self {
        PhaseRules {
            pre: compile(DEFAULT_PREPROCESS).expect("default pattern"),
            post: compile(DEFAULT_POSTPROCESS).expect("default pattern"),
            inference: None,
            overrides: Vec::new(),
        }
    }
}

fn compile(pattern: &str) -> std::result::Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).case_insensitive(true).build()
}

impl PhaseRules {
    /// Apply `--phase NAME=REGEX` overrides.
    pub fn with_overrides(overrides: &[String]) -> Result<PhaseRules> {
        let mut rules = PhaseRules::default();
        for o in overrides {
            let (name, pattern) = o
                .split_once('=')
                .ok_or_else(|| Error::usage(format!("--phase expects NAME=REGEX, got '{o}'")))?;
            let re = compile(pattern)
                .map_err(|e| Error::usage(format!("--phase {name}: bad regular expression: {e}")))?;
            rules.overrides.push((o.clone(), re.clone()));
            match name.trim().to_ascii_lowercase().as_str() {
                "preprocess" | "pre" => rules.pre = re,
                "postprocess" | "post" => rules.post = re,
                "inference" | "infer" => rules.inference = Some(re),
                other => {
                    return Err(Error::usage(format!(
                        "--phase: unknown phase '{other}' (preprocess, inference, postprocess)"
                    )));
                }
            }
        }
        Ok(rules)
    }

    /// The `--phase` overrides that match none of `names`.
    pub fn unmatched<'a>(&'a self, names: &[&str]) -> Vec<&'a str> {
        self.overrides
            .iter()
            .filter(|(_, re)| !names.iter().any(|n| re.is_match(n)))
            .map(|(o, _)| o.as_str())
            .collect()
    }

    /// The phase of a nested range called `name`; None: it counts as no phase.
    pub fn classify(&self, name: &str) -> Option<Phase> {
        let longest = |re: &Regex| re.find_iter(name).map(|m| m.len()).max();
        match (longest(&self.pre), longest(&self.post)) {
            (Some(a), Some(b)) if b > a => Some(Phase::Postprocess),
            (Some(_), _) => Some(Phase::Preprocess),
            (None, Some(_)) => Some(Phase::Postprocess),
            (None, None) => match &self.inference {
                None => Some(Phase::Inference),
                Some(re) if re.is_match(name) => Some(Phase::Inference),
                Some(_) => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names() {
        let r = PhaseRules::default();
        for (name, phase) in [
            ("preprocess", Phase::Preprocess),
            ("Pre-Process", Phase::Preprocess),
            ("decode_jpeg", Phase::Preprocess),
            ("normalize", Phase::Preprocess),
            ("tokenise", Phase::Preprocess),
            ("upload", Phase::Preprocess),
            ("postprocess", Phase::Postprocess),
            ("cpu_nms", Phase::Postprocess),
            ("detokenize", Phase::Postprocess),
            ("download", Phase::Postprocess),
            ("infer", Phase::Inference),
            ("forward", Phase::Inference),
        ] {
            assert_eq!(r.classify(name), Some(phase), "{name}");
        }
    }

    #[test]
    fn overrides() {
        let r = PhaseRules::with_overrides(&["inference=^forward$".into(), "post=^emit".into()]).unwrap();
        assert_eq!(r.classify("forward"), Some(Phase::Inference));
        assert_eq!(r.classify("backbone"), None);
        assert_eq!(r.classify("emit_boxes"), Some(Phase::Postprocess));
        assert_eq!(r.classify("nms"), None);
        assert!(PhaseRules::with_overrides(&["bogus".into()]).is_err());
        assert!(PhaseRules::with_overrides(&["pre=(".into()]).is_err());
        assert!(PhaseRules::with_overrides(&["train=x".into()]).is_err());
    }
}
