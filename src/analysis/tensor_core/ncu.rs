//! Nsight Compute counters (read by `input::ncu`) matched to the trace's
//! kernel names.
//!
//! ncu demangles names differently from nsys (`at::elementwise_kernel<128, 4, ...>`
//! for `at::native::elementwise_kernel<(int)128, (int)4, ...>`), so names are
//! matched in tiers: exact; then with casts (`(int)8` -> `8`), namespace
//! qualifiers and whitespace removed, when that is unambiguous; then a bare
//! function name (`ncu --print-kernel-base function`) against short names.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::input::ncu::NcuCounters;

/// How the CSV's kernels matched the trace's, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NcuMatch {
    pub file: String,
    /// Profiled launches in the CSV.
    pub launches: u64,
    /// Distinct kernel names in the CSV.
    pub kernel_names: usize,
    /// CSV names matched to a kernel of the window.
    pub matched: usize,
    pub matched_exact: usize,
    pub matched_normalized: usize,
    pub matched_function_name: usize,
    /// Names that fit more than one trace kernel after normalization.
    pub ambiguous: usize,
    /// Names not found among the window's kernels (the first 20).
    pub unmatched: Vec<String>,
    /// Window kernels (names) whose verdict comes from the counters.
    pub kernels_decided: usize,
}

static CAST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\([A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z_][A-Za-z0-9_]*)*\)\s*(-?[0-9])").expect("valid regex")
});
static QUALIFIER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[A-Za-z_][A-Za-z0-9_]*|<unnamed>|\(anonymous namespace\))::").expect("valid regex")
});

/// A spelling-independent key: no casts before literals, no namespace
/// qualifiers, no whitespace.
pub fn normalize(name: &str) -> String {
    let s = CAST.replace_all(name, "$1");
    let s = QUALIFIER.replace_all(&s, "");
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// For each trace kernel (demangled name, short name), the CSV counters
/// that belong to it: (MMA instructions, launches).
pub fn match_names(counters: &NcuCounters, rows: &[(&str, &str)]) -> (Vec<Option<(f64, u64)>>, NcuMatch) {
    let (matched, m) = match_rows(counters, rows);
    let out = matched
        .iter()
        .map(|ks| {
            (!ks.is_empty()).then(|| {
                ks.iter().fold((0.0, 0), |(i, n), &k| {
                    (
                        i + counters.kernels[k].tensor_inst,
                        n + counters.kernels[k].launches,
                    )
                })
            })
        })
        .collect();
    (out, m)
}

/// For each trace kernel (demangled name, short name), the indexes of the
/// CSV kernels that belong to it, by the tiers above.
pub fn match_rows(counters: &NcuCounters, rows: &[(&str, &str)]) -> (Vec<Vec<usize>>, NcuMatch) {
    let mut exact: HashMap<&str, usize> = HashMap::new();
    let mut normalized: HashMap<String, Vec<usize>> = HashMap::new();
    let mut short: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (name, short_name)) in rows.iter().enumerate() {
        exact.insert(name, i);
        normalized.entry(normalize(name)).or_default().push(i);
        short.entry(short_name).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
    let mut m = NcuMatch {
        file: counters.path.clone(),
        launches: counters.launches,
        kernel_names: counters.kernels.len(),
        ..NcuMatch::default()
    };
    let mut add = |i: usize, k: usize| out[i].push(k);
    for (ki, k) in counters.kernels.iter().enumerate() {
        if let Some(&i) = exact.get(k.name.as_str()) {
            add(i, ki);
            m.matched_exact += 1;
            continue;
        }
        match normalized.get(&normalize(&k.name)).map(Vec::as_slice) {
            Some([i]) => {
                add(*i, ki);
                m.matched_normalized += 1;
                continue;
            }
            Some(_) => {
                m.ambiguous += 1;
                continue;
            }
            None => {}
        }
        let bare = !k.name.contains('(') && !k.name.contains('<');
        if let Some(list) = short.get(k.name.as_str()).filter(|_| bare) {
            for &i in list {
                add(i, ki);
            }
            m.matched_function_name += 1;
            continue;
        }
        if m.unmatched.len() < 20 {
            m.unmatched.push(k.name.clone());
        }
    }
    m.matched = m.matched_exact + m.matched_normalized + m.matched_function_name;
    m.kernels_decided = if counters.tensor_metrics {
        out.iter().filter(|o| !o.is_empty()).count()
    } else {
        0
    };
    (out, m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ncu_and_nsys_spellings_normalize_alike() {
        let nsys = "void at::native::vectorized_elementwise_kernel<(int)8, at::native::CUDAFunctor_add<c10::Half>, std::array<char *, (unsigned long)3>>(int, T2, T3)";
        let ncu = "void at::vectorized_elementwise_kernel<8, at::CUDAFunctor_add<c10::Half>, std::array<char *, 3>>(int, T2, T3)";
        assert_eq!(normalize(nsys), normalize(ncu));
        let nsys = "void at::native::<unnamed>::vectorized_layer_norm_kernel<c10::Half, float, (bool)0>(int, T2, const T1 *, const T1 *, const T1 *, T2 *, T2 *, T1 *)";
        let ncu = "void at::<unnamed>::vectorized_layer_norm_kernel<c10::Half, float, 0>(int, T2, const T1 *, const T1 *, const T1 *, T2 *, T2 *, T1 *)";
        assert_eq!(normalize(nsys), normalize(ncu));
        // Lambdas keep their instance numbers: different lambdas stay apart.
        assert_ne!(
            normalize("k<[lambda() (instance 3)]>"),
            normalize("k<[lambda() (instance 4)]>")
        );
    }
}
