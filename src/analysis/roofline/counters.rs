//! FLOPs and DRAM bytes per kernel from Nsight Compute's roofline counters.
//!
//! The sums, as ncu's own roofline sections form them:
//!
//! ```text
//!  FP64 FLOPs = 2 dfma + dadd + dmul      sm__sass_thread_inst_executed_op_<op>_pred_on.sum
//!  FP32 FLOPs = 2 ffma + fadd + fmul        (thread-level instructions whose predicate was on;
//!  FP16 FLOPs = 4 hfma + 2 hadd + 2 hmul     FP16 ones are packed pairs, ncu's _x4/_x2 terms)
//!  tensor FLOPs = sm__ops_path_tensor_src_<type>[_dst_<type>].sum
//!                 (operations of the tensor pipe by source type; one multiply-add
//!                 is two operations: a bf16 8192^3 GEMM counts 2*8192^3 and the
//!                 tile padding, +1.6% with 320-wide tiles)
//!  DRAM bytes = dram__bytes_read.sum + dram__bytes_write.sum
//! ```
//!
//! Instruction counts of the tensor pipe (`sm__inst_executed_pipe_tensor_*`)
//! are not FLOPs (one HGMMA instruction does thousands) and are not used here.
//! `_sparsity_on/off` splits and `int1` operations are left out. Where ncu
//! has no `sm__ops_path_tensor_src_*` columns, the per-instruction-family
//! `sm__ops_path_tensor_op_<op>_src_<type>` columns are summed instead (the
//! plain column of an (op, type) pair, else its `_dst_` variants).
//!
//! The CSV usually profiles a sample of the launches (one iteration, or
//! `--launch-count`): a kernel's work is its mean per profiled launch times
//! its launches in the window.

use std::collections::HashMap;

use super::peaks::Precision;
use super::{Work, WorkSource};
use crate::analysis::kernels::KernelRow;
use crate::analysis::tensor_core::ncu;
use crate::input::ncu::NcuCounters;

/// How one work column counts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Column {
    /// CUDA-core FLOPs of a precision: (precision, FLOPs per instruction).
    Core(Precision, f64),
    Tensor(Precision),
    Dram,
    Unused,
}

fn tensor_precision(src: &str) -> Option<Precision> {
    Some(match src {
        "fp64" => Precision::Fp64,
        "tf32" => Precision::Tf32,
        "fp16" => Precision::Fp16,
        "bf16" => Precision::Bf16,
        "fp8" => Precision::Fp8,
        "int8" => Precision::Int8,
        _ => return None,
    })
}

/// Classify the CSV's work columns.
fn columns(names: &[String]) -> Vec<Column> {
    let has_src = names
        .iter()
        .any(|n| n.starts_with("sm__ops_path_tensor_src_") && !n.contains("sparsity"));
    // (op, src) pairs that have a plain column (no `_dst_`).
    let plain: Vec<(String, String)> = names
        .iter()
        .filter_map(|n| op_src(n))
        .filter(|(_, _, d)| !d)
        .map(|(o, s, _)| (o, s))
        .collect();
    names
        .iter()
        .map(|n| {
            if n == "dram__bytes_read.sum" || n == "dram__bytes_write.sum" {
                return Column::Dram;
            }
            if let Some(op) = n
                .strip_prefix("sm__sass_thread_inst_executed_op_")
                .and_then(|r| r.strip_suffix("_pred_on.sum"))
            {
                return match op {
                    "dfma" => Column::Core(Precision::Fp64, 2.0),
                    "dadd" | "dmul" => Column::Core(Precision::Fp64, 1.0),
                    "ffma" => Column::Core(Precision::Fp32, 2.0),
                    "fadd" | "fmul" => Column::Core(Precision::Fp32, 1.0),
                    "hfma" => Column::Core(Precision::Fp16, 4.0),
                    "hadd" | "hmul" => Column::Core(Precision::Fp16, 2.0),
                    _ => Column::Unused,
                };
            }
            if n.contains("sparsity") {
                return Column::Unused;
            }
            if let Some(rest) = n
                .strip_prefix("sm__ops_path_tensor_src_")
                .and_then(|r| r.strip_suffix(".sum"))
            {
                let src = rest.split("_dst_").next().unwrap_or(rest);
                return tensor_precision(src).map_or(Column::Unused, Column::Tensor);
            }
            if !has_src {
                if let Some((op, src, dst)) = op_src(n) {
                    if dst && plain.contains(&(op, src.clone())) {
                        return Column::Unused;
                    }
                    return tensor_precision(&src).map_or(Column::Unused, Column::Tensor);
                }
            }
            Column::Unused
        })
        .collect()
}

/// `sm__ops_path_tensor_op_<op>_src_<type>[_dst_<type>].sum` -> (op, type, has dst).
fn op_src(n: &str) -> Option<(String, String, bool)> {
    let rest = n.strip_prefix("sm__ops_path_tensor_op_")?.strip_suffix(".sum")?;
    if rest.contains("sparsity") {
        return None;
    }
    let (op, tail) = rest.split_once("_src_")?;
    let (src, dst) = match tail.split_once("_dst_") {
        Some((s, _)) => (s, true),
        None => (tail, false),
    };
    Some((op.to_string(), src.to_string(), dst))
}

/// Work of one CSV kernel, summed over its profiled launches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub launches: u64,
    pub core: HashMap<Precision, f64>,
    pub tensor: HashMap<Precision, f64>,
    pub dram_bytes: f64,
}

impl Totals {
    pub fn flops(&self) -> f64 {
        self.core.values().sum::<f64>() + self.tensor.values().sum::<f64>()
    }

    /// The precision that did most of the FLOPs, and whether on the tensor pipe.
    fn precision(&self) -> (Option<Precision>, bool) {
        let top = |m: &HashMap<Precision, f64>| {
            m.iter()
                .filter(|(_, v)| **v > 0.0)
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(p, _)| *p)
        };
        match top(&self.tensor) {
            Some(p) => (Some(p), true),
            None => (top(&self.core), false),
        }
    }
}

/// Per CSV kernel, its totals; None when the CSV lacks FLOP or DRAM counters.
pub fn totals(c: &NcuCounters) -> Option<Vec<Totals>> {
    let cols = columns(&c.work_metrics);
    let has_flops = cols
        .iter()
        .any(|k| matches!(k, Column::Core(..) | Column::Tensor(_)));
    let has_dram = cols.iter().any(|k| *k == Column::Dram);
    if !(has_flops && has_dram) {
        return None;
    }
    Some(
        c.kernels
            .iter()
            .map(|k| {
                let mut t = Totals {
                    launches: k.launches,
                    ..Totals::default()
                };
                for (v, col) in k.work.iter().zip(&cols) {
                    match *col {
                        Column::Core(p, per) => *t.core.entry(p).or_default() += v * per,
                        Column::Tensor(p) => *t.tensor.entry(p).or_default() += v,
                        Column::Dram => t.dram_bytes += v,
                        Column::Unused => {}
                    }
                }
                t
            })
            .collect(),
    )
}

/// Work per kernel row from the counters of the CSV kernels matched to it.
pub fn work(c: &NcuCounters, rows: &[KernelRow]) -> Vec<Option<Work>> {
    let Some(totals) = totals(c) else {
        return vec![None; rows.len()];
    };
    let keys: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.short_name.as_str()))
        .collect();
    let (matched, _) = ncu::match_rows(c, &keys);
    rows.iter()
        .zip(matched)
        .map(|(row, ks)| {
            if ks.is_empty() {
                return None;
            }
            let mut sum = Totals::default();
            for k in ks {
                let t = &totals[k];
                sum.launches += t.launches;
                sum.dram_bytes += t.dram_bytes;
                for (p, v) in &t.core {
                    *sum.core.entry(*p).or_default() += v;
                }
                for (p, v) in &t.tensor {
                    *sum.tensor.entry(*p).or_default() += v;
                }
            }
            if sum.launches == 0 {
                return None;
            }
            let scale = row.count as f64 / sum.launches as f64;
            let (precision, tensor) = sum.precision();
            Some(Work {
                source: WorkSource::Counters,
                flops: sum.flops() * scale,
                bytes: sum.dram_bytes * scale,
                precision,
                tensor: Some(tensor),
                sampled: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_fmas_twice_and_skip_sparsity_and_instruction_counts() {
        let names: Vec<String> = [
            "sm__sass_thread_inst_executed_op_ffma_pred_on.sum",
            "sm__sass_thread_inst_executed_op_hfma_pred_on.sum",
            "sm__sass_thread_inst_executed_op_dadd_pred_on.sum",
            "sm__ops_path_tensor_src_bf16_dst_fp32.sum",
            "sm__ops_path_tensor_src_fp8_sparsity_off.sum",
            "sm__ops_path_tensor_op_hgmma_src_fp16.sum",
            "sm__ops_path_tensor_src_int1.sum",
            "dram__bytes_read.sum",
            "sm__inst_executed_pipe_tensor_op_gmma.sum",
        ]
        .map(String::from)
        .to_vec();
        let c = columns(&names);
        assert_eq!(c[0], Column::Core(Precision::Fp32, 2.0));
        assert_eq!(c[1], Column::Core(Precision::Fp16, 4.0));
        assert_eq!(c[2], Column::Core(Precision::Fp64, 1.0));
        assert_eq!(c[3], Column::Tensor(Precision::Bf16));
        assert_eq!(c[4], Column::Unused);
        // The src_ family exists: the per-op columns would double count.
        assert_eq!(c[5], Column::Unused);
        assert_eq!(c[6], Column::Unused);
        assert_eq!(c[7], Column::Dram);
        assert_eq!(c[8], Column::Unused);
    }

    #[test]
    fn per_op_columns_when_the_src_family_is_missing() {
        let names: Vec<String> = [
            "sm__ops_path_tensor_op_hmma_src_fp16.sum",
            "sm__ops_path_tensor_op_hmma_src_fp16_dst_fp32.sum",
            "sm__ops_path_tensor_op_hmma_src_tf32_dst_fp32.sum",
        ]
        .map(String::from)
        .to_vec();
        let c = columns(&names);
        assert_eq!(
            c,
            vec![
                Column::Tensor(Precision::Fp16),
                Column::Unused,
                Column::Tensor(Precision::Tf32)
            ]
        );
    }
}
