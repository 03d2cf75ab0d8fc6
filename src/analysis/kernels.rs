//! Per-kernel-name totals over the window: one pass over the kernels whose
//! GPU start lies in the window.

use serde::{Deserialize, Serialize};

use super::category::{Category, categorize};
use super::verdicts::{ReasonKind, Verdict, VerdictSource};
use super::window::Window;
use crate::model::kernel_name::canonical;
use crate::model::{Kernel, NameId, Ns, Trace};

/// One row of the kernel table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelRow {
    /// Demangled name, as the source spelled it.
    pub name: String,
    pub short_name: String,
    /// One identity across sources (`model::kernel_name::canonical`): nsys
    /// and the PyTorch profiler spell one kernel differently. Reports from
    /// before it existed read it as empty.
    #[serde(default)]
    pub canonical_name: String,
    pub count: u64,
    pub total_ns: Ns,
    pub mean_ns: Ns,
    pub min_ns: Ns,
    pub max_ns: Ns,
    pub category: Category,
    /// Whether it ran on Tensor Cores (`tensor_core::annotate` fills it).
    #[serde(default)]
    pub tensor_core: Verdict,
    /// What the verdict rests on.
    #[serde(default)]
    pub tensor_core_evidence: VerdictSource,
    /// For matrix work: why it missed Tensor Cores or used a slow variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensor_core_reason: Option<String>,
    /// The kind of that reason, for tools (`fp32-no-tf32`, `low-alignment`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensor_core_reason_kind: Option<ReasonKind>,
    /// FLOPs, bytes and the kernel's place under the roofs, when a source
    /// has its work (`roofline::annotate` fills it; keys flattened into the row).
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub roofline: Option<super::verdicts::Placement>,
}

/// The short name shown for a kernel: the profiler's base function name,
/// except for generic wrappers (CUTLASS's `Kernel2<cutlass_80_tensorop_...>`)
/// whose first template argument names the real kernel, and generic names
/// without one, shown with their scope (`gemvx::kernel`). A source's short
/// name that is the return type's template (`enable_if` for
/// `std::enable_if<...>::type ns::kernel<...>(...)`) is replaced by the
/// function's own name.
///
/// ```
/// use trace_report::analysis::kernels::readable_short_name;
/// let full = "void cutlass::Kernel2<cutlass_80_tensorop_f16_s16816gemm_f16_128x64_64x3_nn_align2>(T1::Params)";
/// assert_eq!(readable_short_name(full, "Kernel2"), "cutlass_80_tensorop_f16_s16816gemm_f16_128x64_64x3_nn_align2");
/// assert_eq!(readable_short_name("nchwToNhwcKernel", "nchwToNhwcKernel"), "nchwToNhwcKernel");
/// let gemv = "std::enable_if<!(false), void>::type internal::gemvx::kernel<int, int, float>(T1)";
/// assert_eq!(readable_short_name(gemv, "enable_if"), "gemvx::kernel");
/// assert_eq!(readable_short_name(gemv, "kernel"), "gemvx::kernel");
/// ```
pub fn readable_short_name(full: &str, short: &str) -> String {
    let parsed = crate::input::kineto::short_name::short_name(full);
    let own = |name: &str| {
        // Where `name` stands as a function: before its template arguments
        // or parameters, at the last such place.
        [format!("{name}<"), format!("{name}(")]
            .iter()
            .filter_map(|p| full.rfind(p.as_str()))
            .max()
    };
    let short = match (own(short), own(parsed)) {
        (Some(a), Some(b)) if a < b && parsed != short => parsed,
        (None, Some(_)) if short.is_empty() => parsed,
        _ => short,
    };
    let generic = {
        let base = short.trim_end_matches(|c: char| c.is_ascii_digit());
        matches!(
            base,
            "Kernel" | "kernel" | "device_kernel" | "global_kernel" | "kentry"
        )
    };
    if !generic {
        return short.to_string();
    }
    let Some(at) = full.rfind(&format!("{short}<")) else {
        return short.to_string();
    };
    let arg: String = full[at + short.len() + 1..]
        .chars()
        .take_while(|&c| c != ',' && c != '>' && c != '<' && c != '(')
        .collect();
    let arg = arg.trim().rsplit("::").next().unwrap_or("").trim();
    // A type (`int`, `__half`, `int64_t`) is no kernel's name.
    let is_type = matches!(
        arg,
        "int"
            | "unsigned"
            | "long"
            | "short"
            | "char"
            | "bool"
            | "float"
            | "double"
            | "void"
            | "half"
            | "signed"
    ) || arg.starts_with("__")
        || arg.ends_with("_t");
    if !arg.is_empty()
        && !is_type
        && !arg.starts_with(|c: char| c.is_ascii_digit())
        && arg.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return arg.to_string();
    }
    // No name among the arguments: the enclosing scope says what it is.
    let scope = full[..at]
        .strip_suffix("::")
        .and_then(|h| h.rsplit([':', ' ']).next())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'));
    match scope {
        Some(scope) => format!("{scope}::{short}"),
        None => short.to_string(),
    }
}

/// Kernels whose GPU start time lies in the window.
pub fn in_window<'t>(trace: &'t Trace, window: &'t Window) -> impl Iterator<Item = &'t Kernel> + 't {
    window
        .indexes(&trace.kernels, |k| k.start)
        .map(|i| &trace.kernels[i])
}

/// Totals per demangled name, largest total first.
pub fn summarize(trace: &Trace, window: &Window) -> Vec<KernelRow> {
    let mut rows: Vec<KernelRow> = totals(in_window(trace, window))
        .into_iter()
        .map(|(id, t)| {
            let full = trace.name(id).to_string();
            KernelRow {
                category: categorize(&full),
                short_name: readable_short_name(&full, trace.name(t.short)),
                canonical_name: canonical(&full),
                name: full,
                count: t.count,
                total_ns: t.total,
                mean_ns: t.total / t.count as i64,
                min_ns: t.min,
                max_ns: t.max,
                tensor_core: Verdict::Unknown,
                tensor_core_evidence: VerdictSource::Name,
                tensor_core_reason: None,
                tensor_core_reason_kind: None,
                roofline: None,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then_with(|| a.name.cmp(&b.name)));
    rows
}

/// One name's kernels: how many, the first one's short name, and their
/// durations' total, least and most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Totals {
    count: u64,
    short: NameId,
    total: Ns,
    min: Ns,
    max: Ns,
}

/// [`Totals`] per name, in one pass: no per-kernel columns (three of them
/// cost 160 MB on 10M kernels).
fn totals<'t>(kernels: impl Iterator<Item = &'t Kernel>) -> Vec<(NameId, Totals)> {
    let mut acc: hashbrown::HashMap<NameId, Totals> = hashbrown::HashMap::new();
    for k in kernels {
        let d = k.end - k.start;
        let t = acc.entry(k.name).or_insert(Totals {
            count: 0,
            short: k.short_name,
            total: 0,
            min: d,
            max: d,
        });
        t.count += 1;
        t.total += d;
        t.min = t.min.min(d);
        t.max = t.max.max(d);
    }
    acc.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_per_name_keep_the_first_short_name() {
        let k = |name, short, start, end| Kernel {
            start,
            end,
            name,
            short_name: short,
            device: 0,
            stream: 0,
            pid: 0,
            correlation: 0,
        };
        let ks = [k(1, 5, 0, 10), k(2, 6, 3, 4), k(1, 7, 20, 22), k(1, 5, 30, 60)];
        let mut got = totals(ks.iter());
        got.sort_by_key(|g| g.0);
        let t = |count, short, total, min, max| Totals {
            count,
            short,
            total,
            min,
            max,
        };
        assert_eq!(got, vec![(1, t(3, 5, 42, 2, 30)), (2, t(1, 6, 1, 1, 1))]);
        assert!(totals([].iter()).is_empty());
    }
}
