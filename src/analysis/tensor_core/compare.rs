//! The same work in INT8 and in FP16/BF16, found in one trace.
//!
//! A trace says "same work, other precision" through its NVTX ranges: ranges
//! whose names differ only in a precision word (`int8_gemm` / `fp16_gemm`,
//! `layer3.int8` / `layer3.fp16`, `quant_w8a8` ... ) annotate the same
//! operation run both ways. Kernels belong to the range that was open on the
//! host when they were *launched* ([`Launches`]), so GPU lag does not mix
//! ranges up. A range counts when its host start lies in the window.

use std::collections::HashMap;

use super::launch::Launches;
use super::names::{self, Precision, Verdict};
use crate::analysis::category::categorize;
use crate::analysis::kernels::KernelRow;
use crate::analysis::links::Links;
use crate::analysis::window::Window;
use crate::model::{NameId, Ns, Trace};

/// The precision word of a range name and the name with it blanked
/// (`int8_gemm` -> (INT8, `*_gemm`)).
pub fn range_precision(name: &str) -> Option<(Precision, String)> {
    let lower = name.to_ascii_lowercase();
    let mut found = None;
    let mut key = String::with_capacity(lower.len());
    let mut word = String::new();
    let flush = |word: &mut String, key: &mut String, found: &mut Option<Precision>| {
        let p = match word.as_str() {
            "int8" | "i8" | "s8" | "qint8" | "w8a8" => Some(Precision::Int8),
            "fp16" | "f16" | "half" | "float16" => Some(Precision::Fp16),
            "bf16" | "bfloat16" => Some(Precision::Bf16),
            "fp32" | "f32" | "float32" | "float" => Some(Precision::Fp32),
            "tf32" => Some(Precision::Tf32),
            "fp8" | "e4m3" | "e5m2" => Some(Precision::Fp8),
            _ => None,
        };
        match p {
            Some(p) if found.is_none() => {
                *found = Some(p);
                key.push('*');
            }
            _ => key.push_str(word),
        }
        word.clear();
    };
    for c in lower.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut key, &mut found);
            key.push(c);
        }
    }
    flush(&mut word, &mut key, &mut found);
    found.map(|p| (p, key))
}

/// GPU time launched from one range occurrence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Occurrence {
    pub total_ns: Ns,
    /// Matrix kernels on Tensor Cores in the range's own precision.
    pub matrix_ns: Ns,
    /// Per kernel name: time.
    pub kernels: HashMap<NameId, Ns>,
}

/// One precision variant of a pair: its range name and occurrences.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub range: String,
    pub precision: Precision,
    pub occurrences: Vec<Occurrence>,
}

impl Variant {
    fn mean(&self, f: impl Fn(&Occurrence) -> Ns) -> Ns {
        let n = self.occurrences.len().max(1) as i64;
        self.occurrences.iter().map(f).sum::<Ns>() / n
    }

    pub fn mean_total_ns(&self) -> Ns {
        self.mean(|o| o.total_ns)
    }

    pub fn mean_matrix_ns(&self) -> Ns {
        self.mean(|o| o.matrix_ns)
    }

    /// Per kernel name: mean time per occurrence, largest first.
    pub fn kernels(&self) -> Vec<(NameId, Ns)> {
        let mut sum: HashMap<NameId, Ns> = HashMap::new();
        for o in &self.occurrences {
            for (&k, &t) in &o.kernels {
                *sum.entry(k).or_default() += t;
            }
        }
        let n = self.occurrences.len().max(1) as i64;
        let mut v: Vec<(NameId, Ns)> = sum.into_iter().map(|(k, t)| (k, t / n)).collect();
        v.sort_by_key(|&(k, t)| (std::cmp::Reverse(t), k));
        v
    }
}

/// INT8 and 16-bit runs of the same work.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub int8: Variant,
    /// The faster of the FP16/BF16 variants.
    pub half: Variant,
}

/// Pairs of ranges that run the same work in INT8 and in FP16/BF16, where
/// both really ran matrix kernels of their precision on Tensor Cores.
/// `rows` give measured verdicts where they exist.
pub fn int8_vs_16bit(
    trace: &Trace,
    window: &Window,
    rows: &[KernelRow],
    launches: &Launches,
    links: &Links,
) -> Vec<Pair> {
    let mut ranges = launches.ranges(trace, links);
    let verdicts: HashMap<&str, Verdict> = rows.iter().map(|r| (r.name.as_str(), r.tensor_core)).collect();
    let mut info: HashMap<NameId, (Option<Precision>, bool)> = HashMap::new();
    // Per range, decided once: its precision word and the index of its key.
    let mut tagged: Vec<Option<Option<(Precision, usize)>>> = vec![None; trace.ranges.len()];
    let mut keys: Vec<String> = Vec::new();
    let mut key_index: HashMap<String, usize> = HashMap::new();
    let mut occ: HashMap<usize, (Precision, usize, Occurrence)> = HashMap::new();
    for (i, k) in trace.kernels.iter().enumerate() {
        let Some(r0) = ranges.of(i) else { continue };
        let found = launches.chain(r0).find_map(|r| {
            let tag = *tagged[r].get_or_insert_with(|| {
                range_precision(trace.name(trace.ranges[r].name)).map(|(p, key)| {
                    let n = keys.len();
                    let idx = *key_index.entry(key.clone()).or_insert(n);
                    if idx == n {
                        keys.push(key);
                    }
                    (p, idx)
                })
            });
            tag.map(|t| (r, t))
        });
        let Some((r, (p, key))) = found else { continue };
        if !matches!(p, Precision::Int8 | Precision::Fp16 | Precision::Bf16)
            || !window.contains(trace.ranges[r].start)
        {
            continue;
        }
        let (kp, on_tc) = *info.entry(k.name).or_insert_with(|| {
            let name = trace.name(k.name);
            let n = names::classify(name);
            let verdict = verdicts.get(name).copied().unwrap_or(n.verdict);
            (
                n.precision,
                verdict == Verdict::Yes && categorize(name).is_matrix(),
            )
        });
        let e = occ.entry(r).or_insert_with(|| (p, key, Occurrence::default()));
        let d = k.end - k.start;
        e.2.total_ns += d;
        if on_tc && kp == Some(p) {
            e.2.matrix_ns += d;
        }
        *e.2.kernels.entry(k.name).or_default() += d;
    }
    // key -> precision -> variant
    let mut groups: HashMap<usize, HashMap<Precision, Variant>> = HashMap::new();
    let mut ranges: Vec<usize> = occ.keys().copied().collect();
    ranges.sort_unstable();
    for r in ranges {
        let (p, key, o) = occ.remove(&r).expect("listed");
        if o.matrix_ns == 0 {
            continue;
        }
        groups
            .entry(key)
            .or_default()
            .entry(p)
            .or_insert_with(|| Variant {
                range: trace.name(trace.ranges[r].name).to_string(),
                precision: p,
                occurrences: Vec::new(),
            })
            .occurrences
            .push(o);
    }
    let mut out = Vec::new();
    let mut order: Vec<usize> = groups.keys().copied().collect();
    order.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
    for key in order {
        let mut g = groups.remove(&key).expect("listed");
        let Some(int8) = g.remove(&Precision::Int8) else {
            continue;
        };
        let half = [g.remove(&Precision::Fp16), g.remove(&Precision::Bf16)]
            .into_iter()
            .flatten()
            .min_by_key(|v| v.mean_total_ns());
        if let Some(half) = half {
            out.push(Pair { int8, half });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_words_in_range_names() {
        assert_eq!(
            range_precision("int8_gemm"),
            Some((Precision::Int8, "*_gemm".into()))
        );
        assert_eq!(
            range_precision("fp16_gemm"),
            Some((Precision::Fp16, "*_gemm".into()))
        );
        assert_eq!(
            range_precision("fp16_gemm_odd"),
            Some((Precision::Fp16, "*_gemm_odd".into()))
        );
        assert_eq!(
            range_precision("layer3.BF16.attn"),
            Some((Precision::Bf16, "layer3.*.attn".into()))
        );
        assert_eq!(range_precision("infer"), None);
        assert_eq!(range_precision("fp16int8"), None);
    }
}
