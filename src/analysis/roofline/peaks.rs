//! The GPU limits table: peak dense math per precision and peak memory
//! bandwidth, one row per GPU, each citing the datasheet it comes from.
//!
//! The table is `data/gpu_peaks.json`, compiled in; `--gpu-peaks FILE`
//! replaces it with a file of the same form. A row is found by the tokens
//! of the GPU name the trace records (`NVIDIA H100 80GB HBM3` -> NVIDIA,
//! H100, 80GB, HBM3), the first match winning; a GPU no row matches gets
//! no roofline.
//!
//! The rule is general, not a list of names: a row's alternative (`A100
//! 80GB SXM4`) matches when all its tokens are in the name, as whole tokens
//! (so `A10G` is not `A10`, `V100S` not `V100`, `L40` not `L40S`), and every
//! variant token the name carries ([`VARIANT_TOKENS`]: board forms, paired,
//! cut-down or mobile parts, MIG slices) is in the alternative too (so
//! `H200 NVL`, `RTX 3090 Ti` or `H100 ... MIG 1g.10gb` are not their base
//! model, whose datasheet figures differ). An integrated GPU's name
//! (`AMD Radeon Graphics`) has no model token and matches nothing.

use std::path::Path;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The compiled-in table.
pub const BUILTIN: &str = include_str!("../../../data/gpu_peaks.json");

/// Where a row says its figures come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    pub title: String,
    pub url: String,
}

/// One row of the table, as written (TFLOP/s and GB/s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakRow {
    pub name: String,
    /// Token alternatives (`["H100 HBM3", "H100 SXM5"]`), the usual way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// A case-insensitive regular expression, for names tokens cannot say
    /// (override files).
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default)]
    pub exclude: Option<String>,
    pub fp64: Option<f64>,
    #[serde(default)]
    pub fp64_tensor: Option<f64>,
    pub fp32: Option<f64>,
    pub tf32: Option<f64>,
    pub fp16: Option<f64>,
    pub bf16: Option<f64>,
    pub fp8: Option<f64>,
    pub int8: Option<f64>,
    pub memory_gb_per_s: f64,
    #[serde(default)]
    pub dense_from_sparse: bool,
    /// Share of the row's figures one device of the trace has (0.5 for a
    /// package of two dies shown as two devices).
    #[serde(default)]
    pub device_fraction: Option<f64>,
    pub source: Citation,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, Deserialize)]
struct File {
    gpus: Vec<PeakRow>,
}

pub use crate::analysis::verdicts::Precision;

/// The peaks of the GPU a trace ran on, in FLOP/s and bytes/s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuPeaks {
    /// The table row that matched.
    pub name: String,
    pub fp64_flops: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp64_tensor_flops: Option<f64>,
    pub fp32_flops: Option<f64>,
    pub tf32_flops: Option<f64>,
    pub fp16_flops: Option<f64>,
    pub bf16_flops: Option<f64>,
    pub fp8_flops: Option<f64>,
    pub int8_ops: Option<f64>,
    pub memory_bytes_per_s: f64,
    /// Whether the datasheet gave Tensor Core rates with sparsity only
    /// (dense = sparse / 2).
    pub dense_from_sparse: bool,
    pub source: Citation,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

impl GpuPeaks {
    fn from_row(r: &PeakRow) -> GpuPeaks {
        let f = r.device_fraction.unwrap_or(1.0);
        let t = |v: Option<f64>| v.map(|x| x * 1e12 * f);
        GpuPeaks {
            name: r.name.clone(),
            fp64_flops: t(r.fp64),
            fp64_tensor_flops: t(r.fp64_tensor),
            fp32_flops: t(r.fp32),
            tf32_flops: t(r.tf32),
            fp16_flops: t(r.fp16),
            bf16_flops: t(r.bf16),
            fp8_flops: t(r.fp8),
            int8_ops: t(r.int8),
            memory_bytes_per_s: r.memory_gb_per_s * 1e9 * f,
            dense_from_sparse: r.dense_from_sparse,
            source: r.source.clone(),
            notes: r.notes.clone(),
        }
    }

    /// The compute roof for work of `precision`, on Tensor Cores or not.
    /// Work off Tensor Cores is bound by the FP32 (or FP64) vector rate.
    pub fn compute(&self, precision: Precision, tensor: bool) -> Option<f64> {
        if !tensor {
            return match precision {
                Precision::Fp64 => self.fp64_flops,
                _ => self.fp32_flops,
            };
        }
        match precision {
            Precision::Fp64 => self.fp64_tensor_flops.or(self.fp64_flops),
            Precision::Fp32 | Precision::Tf32 => self.tf32_flops,
            Precision::Fp16 => self.fp16_flops,
            Precision::Bf16 => self.bf16_flops.or(self.fp16_flops),
            Precision::Fp8 => self.fp8_flops,
            Precision::Int8 => self.int8_ops,
        }
    }
}

/// Tokens that make a name another part than its model: board forms
/// (PCIe, SXM), paired or cut-down parts (NVL, Ti, Super, D), partitions
/// (MIG) and mobile parts (Laptop, Mobile, Max-Q). Upper case.
pub const VARIANT_TOKENS: &[&str] = &[
    "PCIE", "SXM", "SXM2", "SXM3", "SXM4", "SXM5", "SXM6", "NVL", "TI", "SUPER", "D", "MIG", "LAPTOP",
    "MOBILE", "MAX",
];

/// A GPU name as upper-case tokens split at every non-alphanumeric
/// character: `Tesla V100-SXM2-16GB` -> TESLA, V100, SXM2, 16GB.
pub fn tokens(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

/// Whether the name's tokens match one alternative's tokens: all of the
/// alternative's are there, and each variant token of the name is the
/// alternative's too.
pub fn tokens_match(alternative: &[String], name: &[String]) -> bool {
    !alternative.is_empty()
        && alternative.iter().all(|t| name.contains(t))
        && name
            .iter()
            .filter(|t| VARIANT_TOKENS.contains(&t.as_str()))
            .all(|t| alternative.contains(t))
}

/// How a row recognises a GPU name.
#[derive(Debug, Clone)]
enum Matcher {
    Tokens(Vec<Vec<String>>),
    Pattern(Regex, Option<Regex>),
}

impl Matcher {
    fn is_match(&self, gpu: &str) -> bool {
        match self {
            Matcher::Tokens(alts) => {
                let t = tokens(gpu);
                alts.iter().any(|a| tokens_match(a, &t))
            }
            Matcher::Pattern(m, x) => m.is_match(gpu) && !x.as_ref().is_some_and(|x| x.is_match(gpu)),
        }
    }
}

/// A loaded table with compiled patterns.
#[derive(Debug, Clone)]
pub struct Table {
    rows: Vec<(PeakRow, Matcher)>,
    /// Where it came from: `built-in` or the file's path.
    pub origin: String,
}

impl Table {
    pub fn builtin() -> Table {
        Table::parse(BUILTIN, "built-in").expect("the built-in GPU table is valid")
    }

    /// Read a `--gpu-peaks` file.
    pub fn read(path: &Path) -> Result<Table> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::input(path, crate::error::io_problem(&e)))?;
        Table::parse(&text, &path.display().to_string()).map_err(|m| Error::input(path, m))
    }

    fn parse(text: &str, origin: &str) -> std::result::Result<Table, String> {
        let file: File = serde_json::from_str(text).map_err(|e| {
            format!("not a GPU peaks table ({{\"gpus\": [...]}}, as data/gpu_peaks.json): {e}")
        })?;
        let re = |p: &str| {
            RegexBuilder::new(p)
                .case_insensitive(true)
                .build()
                .map_err(|e| format!("bad pattern '{p}': {e}"))
        };
        let mut rows = Vec::new();
        for r in file.gpus {
            if !(r.memory_gb_per_s.is_finite() && r.memory_gb_per_s > 0.0) {
                return Err(format!("{}: memory_gb_per_s must be positive", r.name));
            }
            let matcher = match (&r.pattern, r.names.is_empty()) {
                (None, false) => Matcher::Tokens(r.names.iter().map(|a| tokens(a)).collect()),
                (Some(p), true) => Matcher::Pattern(re(p)?, r.exclude.as_deref().map(re).transpose()?),
                _ => return Err(format!("{}: give either `names` or `match`", r.name)),
            };
            rows.push((r, matcher));
        }
        Ok(Table {
            rows,
            origin: origin.to_string(),
        })
    }

    pub fn rows(&self) -> impl Iterator<Item = &PeakRow> {
        self.rows.iter().map(|(r, _)| r)
    }

    /// The peaks of the GPU named `gpu`, if a row matches.
    pub fn lookup(&self, gpu: &str) -> Option<GpuPeaks> {
        self.rows
            .iter()
            .find(|(_, m)| m.is_match(gpu))
            .map(|(r, _)| GpuPeaks::from_row(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names as nvidia-smi / CUDA / ROCm report them, and the row each must
    /// find (or none).
    const NAMES: &[(&str, Option<&str>)] = &[
        ("Tesla V100-SXM2-16GB", Some("Tesla V100 SXM2")),
        ("Tesla V100-SXM2-32GB", Some("Tesla V100 SXM2")),
        ("Tesla V100-PCIE-32GB", Some("Tesla V100 PCIe")),
        ("Tesla V100S-PCIE-32GB", None),
        ("Tesla T4", Some("Tesla T4")),
        ("NVIDIA A10", Some("NVIDIA A10")),
        ("NVIDIA A10G", None),
        ("NVIDIA A100-SXM4-40GB", Some("NVIDIA A100 40GB")),
        ("NVIDIA A100-PCIE-40GB", Some("NVIDIA A100 40GB")),
        ("NVIDIA A100-SXM4-80GB", Some("NVIDIA A100 80GB SXM")),
        ("NVIDIA A100 80GB PCIe", Some("NVIDIA A100 80GB PCIe")),
        ("NVIDIA L4", Some("NVIDIA L4")),
        ("NVIDIA L40S", Some("NVIDIA L40S")),
        ("NVIDIA L40", None),
        ("NVIDIA H100 80GB HBM3", Some("NVIDIA H100 SXM")),
        ("NVIDIA H100 PCIe", Some("NVIDIA H100 PCIe")),
        ("NVIDIA H200", Some("NVIDIA H200 SXM")),
        ("NVIDIA H200 NVL", None),
        ("NVIDIA H200-SXM-141GB", Some("NVIDIA H200 SXM")),
        ("NVIDIA H100 NVL", None),
        ("NVIDIA H100 80GB HBM3 MIG 1g.10gb", None),
        ("NVIDIA H100 SXM5 80GB", Some("NVIDIA H100 SXM")),
        ("NVIDIA A100-SXM4-80GB MIG 3g.40gb", None),
        ("NVIDIA A100 80GB", Some("NVIDIA A100 80GB SXM")),
        ("NVIDIA A100", None),
        ("NVIDIA B200", Some("NVIDIA B200")),
        ("NVIDIA GeForce RTX 3090", Some("NVIDIA GeForce RTX 3090")),
        ("NVIDIA GeForce RTX 3090 Ti", None),
        ("NVIDIA GeForce RTX 4090", Some("NVIDIA GeForce RTX 4090")),
        ("NVIDIA GeForce RTX 4090 D", None),
        ("NVIDIA GeForce RTX 4090 Laptop GPU", None),
        ("NVIDIA GeForce RTX 4090 SUPER", None),
        ("AMD Instinct MI250X", Some("AMD Instinct MI250X")),
        ("AMD Instinct MI300X", Some("AMD Instinct MI300X")),
        ("AMD Instinct MI300X VF", Some("AMD Instinct MI300X")),
        ("AMD Radeon Graphics", None),
        ("AMD Instinct MI300A", None),
        ("AMD Instinct MI250X / MI250", Some("AMD Instinct MI250X")),
        ("NVIDIA GeForce RTX 3080", None),
    ];

    #[test]
    fn names_find_their_rows() {
        let t = Table::builtin();
        for (name, want) in NAMES {
            assert_eq!(t.lookup(name).map(|p| p.name).as_deref(), *want, "{name}");
        }
    }

    /// Every GPU the table promises is there, each row names its datasheet
    /// (title and an https URL), and every figure is positive.
    #[test]
    fn table_covers_the_deployed_gpus_and_cites_each_row() {
        let t = Table::builtin();
        let required = [
            "V100",
            "T4",
            "A10",
            "A100 40GB",
            "A100 80GB",
            "L4",
            "L40S",
            "H100 SXM",
            "H100 PCIe",
            "H200",
            "B200",
            "RTX 3090",
            "RTX 4090",
            "MI250X",
            "MI300X",
        ];
        for r in required {
            assert!(t.rows().any(|row| row.name.contains(r)), "no row for {r}");
        }
        for row in t.rows() {
            assert!(row.source.title.len() > 20, "{}: no datasheet title", row.name);
            assert!(row.source.url.starts_with("https://"), "{}: no URL", row.name);
            assert!(row.memory_gb_per_s > 0.0);
            for v in [
                row.fp64, row.fp32, row.tf32, row.fp16, row.bf16, row.fp8, row.int8,
            ]
            .into_iter()
            .flatten()
            {
                assert!(v > 0.0, "{}", row.name);
            }
            assert!(row.fp32.is_some(), "{}: no FP32 rate", row.name);
            // A row that halves sparse figures says so in its notes.
            if row.dense_from_sparse {
                assert!(row.notes.contains("sparse / 2"), "{}", row.name);
            }
        }
    }

    /// The token rule itself, on both sides of each of its conditions.
    #[test]
    fn token_rule_needs_whole_tokens_and_the_names_variants() {
        let t = |s: &str| tokens(s);
        assert_eq!(t("Tesla V100-SXM2-16GB"), ["TESLA", "V100", "SXM2", "16GB"]);
        // Whole tokens: a longer model token is another GPU.
        assert!(tokens_match(&t("A10"), &t("NVIDIA A10")));
        assert!(!tokens_match(&t("A10"), &t("NVIDIA A10G")));
        assert!(!tokens_match(&t("A10G"), &t("NVIDIA A10")));
        // Every token of the alternative: memory size decides A100 rows.
        assert!(
            !tokens_match(&t("A100 40GB"), &t("NVIDIA A100-PCIE-40GB")),
            "PCIE not in it"
        );
        assert!(tokens_match(&t("A100 40GB PCIE"), &t("NVIDIA A100-PCIE-40GB")));
        assert!(!tokens_match(&t("A100 40GB PCIE"), &t("NVIDIA A100-PCIE-80GB")));
        // A variant of the name the alternative lacks: another part.
        assert!(tokens_match(&t("H200"), &t("NVIDIA H200")));
        assert!(!tokens_match(&t("H200"), &t("NVIDIA H200 NVL")));
        assert!(tokens_match(&t("H200 NVL"), &t("NVIDIA H200 NVL")));
        // A token that is no variant (HBM3, VF, 141GB) does not matter.
        assert!(tokens_match(&t("H100 HBM3"), &t("NVIDIA H100 80GB HBM3")));
        assert!(tokens_match(&t("MI300X"), &t("AMD Instinct MI300X VF")));
        // Nothing matches an empty alternative.
        assert!(!tokens_match(&[], &t("AMD Radeon Graphics")));
        // An override row may still use a regular expression, not both.
        let both = r#"{"gpus":[{"name":"x","names":["X1"],"match":"x","fp64":null,"fp32":1,"tf32":null,"fp16":null,"bf16":null,"fp8":null,"int8":null,"memory_gb_per_s":1,"source":{"title":"t","url":"u"}}]}"#;
        assert!(Table::parse(both, "x").is_err());
    }

    #[test]
    fn h200_roofs_in_flops_and_bytes() {
        let p = Table::builtin().lookup("NVIDIA H200").unwrap();
        assert_eq!(p.memory_bytes_per_s, 4.8e12);
        // 1,979 TFLOPS with sparsity: 989.5 dense.
        assert_eq!(p.compute(Precision::Bf16, true), Some(989.5e12));
        assert_eq!(p.compute(Precision::Fp16, false), Some(67e12));
        assert_eq!(p.compute(Precision::Fp32, true), Some(494.5e12));
        let mi = Table::builtin().lookup("AMD Instinct MI250X").unwrap();
        assert_eq!(mi.compute(Precision::Fp16, true), Some(191.5e12));
    }

    #[test]
    fn a_bad_override_is_an_error() {
        assert!(Table::parse("{}", "x").is_err());
        assert!(Table::parse(r#"{"gpus":[{"name":"x","match":"(","fp64":null,"fp32":1,"tf32":null,"fp16":null,"bf16":null,"fp8":null,"int8":null,"memory_gb_per_s":1,"source":{"title":"t","url":"u"}}]}"#, "x").is_err());
        let t = Table::parse(r#"{"gpus":[{"name":"Mine","match":"^my gpu$","fp64":null,"fp32":10,"tf32":null,"fp16":100,"bf16":null,"fp8":null,"int8":null,"memory_gb_per_s":500,"source":{"title":"measured","url":"file:x"}}]}"#, "x").unwrap();
        assert_eq!(t.lookup("My GPU").unwrap().memory_bytes_per_s, 5e11);
        assert!(t.lookup("NVIDIA H200").is_none());
    }
}
