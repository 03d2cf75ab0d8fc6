//! Nsight Compute CSV (`ncu --csv --page raw`): Tensor Core instruction
//! counts per kernel, an input beside the trace (`--ncu`); matching them to
//! the trace's kernels is `analysis::tensor_core::ncu`'s.
//!
//! The file is what ncu prints: `==PROF==`/`==WARNING==` lines, then a CSV
//! header (`"ID","Process ID",...,"Kernel Name",...,metric columns`), a
//! units row, and one row per profiled launch. Fields are quoted and may hold
//! commas (template arguments). A kernel used Tensor Cores when it executed
//! MMA instructions: `sm__inst_executed_pipe_tensor_op_{hmma,imma,gmma,dmma}.sum`,
//! minus `..._hmma_type_hfma2.sum` (HFMA2.MMA runs on the tensor pipe but is
//! plain FP16 arithmetic).

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};

/// Counters of one kernel name in the CSV, summed over its launches.
#[derive(Debug, Clone, PartialEq)]
pub struct NcuKernel {
    pub name: String,
    pub launches: u64,
    /// MMA instructions executed (HMMA + IMMA + GMMA + DMMA - HFMA2.MMA).
    pub tensor_inst: f64,
    /// Sums of the work counters (`NcuCounters::work_metrics`, same order)
    /// over the launches; a value ncu left empty (`n/a`) adds nothing.
    pub work: Vec<f64>,
}

/// A parsed Nsight Compute CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct NcuCounters {
    pub path: String,
    /// Profiled launches (data rows).
    pub launches: u64,
    /// Per kernel name, in first-seen order.
    pub kernels: Vec<NcuKernel>,
    /// The metric columns used.
    pub metrics: Vec<String>,
    /// Whether the CSV has the MMA instruction counters (Tensor Core verdicts).
    pub tensor_metrics: bool,
    /// Work counters found (FLOP and DRAM byte counters of ncu's roofline
    /// sections, see [`is_work_metric`]), in column order.
    pub work_metrics: Vec<String>,
    /// The GPU ncu profiled (`device__attribute_display_name`), if recorded.
    pub gpu: Option<String>,
}

/// The counters Nsight Compute's roofline sections derive FLOPs and DRAM
/// traffic from: predicated-on thread instructions of the FP64/FP32/FP16
/// add, multiply and FMA ops, the tensor pipe's operation counts, and DRAM
/// bytes read and written (`analysis::roofline::counters` sums them).
pub fn is_work_metric(h: &str) -> bool {
    (h.starts_with("sm__sass_thread_inst_executed_op_") && h.ends_with("_pred_on.sum"))
        || (h.starts_with("sm__ops_path_tensor_") && h.ends_with(".sum"))
        || h == "dram__bytes_read.sum"
        || h == "dram__bytes_write.sum"
}

const TENSOR_PREFIX: &str = "sm__inst_executed_pipe_tensor_op_";
const HFMA2: &str = "sm__inst_executed_pipe_tensor_op_hmma_type_hfma2.sum";

/// Read and parse an ncu CSV file.
pub fn read(path: &Path) -> Result<NcuCounters> {
    let bytes = std::fs::read(path).map_err(|e| Error::input(path, crate::error::io_problem(&e)))?;
    parse(&String::from_utf8_lossy(&bytes), path)
}

/// Parse the text of an ncu CSV.
pub fn parse(text: &str, path: &Path) -> Result<NcuCounters> {
    let records = records(text);
    // Skip ncu's log lines: the header is the first record naming the kernel.
    let header_at = records
        .iter()
        .position(|r| r.iter().any(|f| f == "Kernel Name" || f == "Function Name"))
        .ok_or_else(|| {
            Error::input(
                path,
                "not an Nsight Compute CSV: no \"Kernel Name\" column (expected ncu --csv --page raw output)",
            )
        })?;
    let header = &records[header_at];
    let col = |name: &str| header.iter().position(|h| h == name);
    let name_col = col("Kernel Name")
        .or_else(|| col("Function Name"))
        .expect("found above");
    let id_col = col("ID");
    let mut add = Vec::new();
    let mut metrics = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if let Some(op) = h.strip_prefix(TENSOR_PREFIX).and_then(|r| r.strip_suffix(".sum")) {
            if !op.contains("_type_") {
                add.push(i);
                metrics.push(h.clone());
            }
        }
    }
    let work_cols: Vec<usize> = (0..header.len())
        .filter(|&i| is_work_metric(&header[i]))
        .collect();
    if add.is_empty() && work_cols.is_empty() {
        return Err(Error::input(
            path,
            "Nsight Compute CSV without sm__inst_executed_pipe_tensor_op_*.sum metrics \
             (profile with --metrics sm__inst_executed_pipe_tensor_op_hmma.sum,sm__inst_executed_pipe_tensor_op_imma.sum,sm__inst_executed_pipe_tensor_op_gmma.sum,sm__inst_executed_pipe_tensor_op_hmma_type_hfma2.sum) \
             and without roofline counters (--section SpeedOfLight_RooflineChart, dram__bytes_read.sum, dram__bytes_write.sum)",
        ));
    }
    let gpu_col = col("device__attribute_display_name");
    let mut gpu = None;
    let sub = col(HFMA2);
    if sub.is_some() {
        metrics.push(HFMA2.to_string());
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut kernels: Vec<NcuKernel> = Vec::new();
    let mut launches = 0u64;
    for r in &records[header_at + 1..] {
        let name = r.get(name_col).map(|s| s.trim()).unwrap_or("");
        // The units row has no ID and no name.
        if name.is_empty() || id_col.is_some_and(|c| r.get(c).is_none_or(|v| v.trim().is_empty())) {
            continue;
        }
        let value = |c: usize| r.get(c).and_then(|v| number(v)).unwrap_or(0.0);
        let tensor: f64 = add.iter().map(|&c| value(c)).sum::<f64>() - sub.map_or(0.0, value);
        launches += 1;
        if gpu.is_none() {
            gpu = gpu_col
                .and_then(|c| r.get(c))
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty());
        }
        let k = *index.entry(name.to_string()).or_insert_with(|| {
            kernels.push(NcuKernel {
                name: name.to_string(),
                launches: 0,
                tensor_inst: 0.0,
                work: vec![0.0; work_cols.len()],
            });
            kernels.len() - 1
        });
        kernels[k].launches += 1;
        kernels[k].tensor_inst += tensor.max(0.0);
        for (w, &c) in kernels[k].work.iter_mut().zip(&work_cols) {
            *w += value(c).max(0.0);
        }
    }
    if launches == 0 {
        return Err(Error::input(path, "Nsight Compute CSV without kernel rows"));
    }
    Ok(NcuCounters {
        path: path.display().to_string(),
        launches,
        kernels,
        metrics,
        tensor_metrics: !add.is_empty(),
        work_metrics: work_cols.iter().map(|&c| header[c].clone()).collect(),
        gpu,
    })
}

/// A metric value: plain or with thousands separators; `n/a` is absent.
fn number(v: &str) -> Option<f64> {
    let t = v.trim();
    t.parse::<f64>()
        .ok()
        .or_else(|| t.replace(',', "").parse().ok())
        .filter(|x| x.is_finite())
}

/// RFC 4180 records: quoted fields may hold commas, doubled quotes and
/// newlines; lines of ncu's log have no quotes and become one-field records.
pub fn records(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut record));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        out.push(record);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_commas_and_log_lines() {
        let text = "==PROF== Connected to process 1\n\"ID\",\"Kernel Name\",\"x\"\n\"\",\"\",\"inst\"\n\"0\",\"f<1, 2>(int, \"\"a\"\")\",\"3\"\n";
        let r = records(text);
        assert_eq!(r[0], ["==PROF== Connected to process 1"]);
        assert_eq!(r[1], ["ID", "Kernel Name", "x"]);
        assert_eq!(r[3], ["0", "f<1, 2>(int, \"a\")", "3"]);
    }

    #[test]
    fn parse_subtracts_hfma2_and_skips_units() {
        let text = "\"ID\",\"Kernel Name\",\"sm__inst_executed_pipe_tensor_op_hmma.sum\",\"sm__inst_executed_pipe_tensor_op_hmma_type_hfma2.sum\",\"sm__inst_executed_pipe_tensor_op_imma.sum\"\n\
                    \"\",\"\",\"inst\",\"inst\",\"inst\"\n\
                    \"0\",\"a\",\"100\",\"100\",\"0\"\n\
                    \"1\",\"b\",\"1,024\",\"0\",\"8\"\n\
                    \"2\",\"a\",\"50\",\"50\",\"n/a\"\n";
        let c = parse(text, Path::new("x.csv")).unwrap();
        assert_eq!(c.launches, 3);
        assert_eq!(c.kernels.len(), 2);
        assert_eq!((c.kernels[0].launches, c.kernels[0].tensor_inst), (2, 0.0));
        assert_eq!(c.kernels[1].tensor_inst, 1032.0);
        let e = parse("\"ID\",\"Kernel Name\"\n\"0\",\"a\"\n", Path::new("x.csv")).unwrap_err();
        assert!(e.to_string().contains("sm__inst_executed_pipe_tensor_op"), "{e}");
        let e = parse("hello\n", Path::new("x.csv")).unwrap_err();
        assert!(
            e.to_string().starts_with("x.csv: not an Nsight Compute CSV"),
            "{e}"
        );
    }
}
