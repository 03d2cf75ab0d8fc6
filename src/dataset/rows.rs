//! Report documents to the dataset's tables: one column builder per
//! table, filled one report at a time, turned into polars frames.
//!
//! Every integer is `Int64`, every fraction `Float64`, every text `String`
//! (nullable where the report's value is optional), so that engines without
//! unsigned types (Spark) read the files as written.

use polars::prelude::*;
use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::document::Report;

/// A column under construction.
enum Col {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

/// One table under construction: named columns of equal length.
pub struct Table {
    pub name: &'static str,
    cols: Vec<(&'static str, Col)>,
    docs: Vec<&'static str>,
    rows: usize,
}

/// A value for [`Table::push`].
pub enum V {
    I(i64),
    F(Option<f64>),
    T(String),
    OptI(Option<i64>),
    OptT(Option<String>),
}

impl Table {
    fn new(name: &'static str, schema: &[(&'static str, char, &'static str)]) -> Table {
        let cols = schema
            .iter()
            .map(|&(n, t, _)| {
                let c = match t {
                    'i' => Col::Int(Vec::new()),
                    'f' => Col::Float(Vec::new()),
                    _ => Col::Text(Vec::new()),
                };
                (n, c)
            })
            .collect();
        let docs = schema.iter().map(|&(_, _, d)| d).collect();
        Table {
            name,
            cols,
            docs,
            rows: 0,
        }
    }

    /// Append one row; values in schema order.
    fn push(&mut self, values: Vec<V>) {
        debug_assert_eq!(values.len(), self.cols.len(), "{}", self.name);
        for ((_, col), v) in self.cols.iter_mut().zip(values) {
            match (col, v) {
                (Col::Int(c), V::I(x)) => c.push(Some(x)),
                (Col::Int(c), V::OptI(x)) => c.push(x),
                (Col::Float(c), V::F(x)) => c.push(x.filter(|f| f.is_finite())),
                (Col::Text(c), V::T(x)) => c.push(Some(x)),
                (Col::Text(c), V::OptT(x)) => c.push(x),
                _ => unreachable!("column and value types disagree in table {}", self.name),
            }
        }
        self.rows += 1;
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The table as a frame; the builder is emptied.
    pub fn take_frame(&mut self) -> PolarsResult<DataFrame> {
        let height = self.rows;
        let cols = self
            .cols
            .iter_mut()
            .map(|(n, c)| match c {
                Col::Int(v) => Column::new((*n).into(), std::mem::take(v)),
                Col::Float(v) => Column::new((*n).into(), std::mem::take(v)),
                Col::Text(v) => Column::new((*n).into(), std::mem::take(v)),
            })
            .collect();
        self.rows = 0;
        DataFrame::new(height, cols)
    }

    /// `(column, type, meaning)` for the README's schema table.
    pub fn schema(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        self.cols
            .iter()
            .zip(&self.docs)
            .map(|((n, c), d)| {
                let t = match c {
                    Col::Int(_) => "Int64",
                    Col::Float(_) => "Float64",
                    Col::Text(_) => "String",
                };
                (*n, t, *d)
            })
            .collect()
    }
}

/// The schema of each table: (column, `i` Int64 / `f` Float64 / `s`
/// String, meaning). Times are ns over the report's window unless said.
const TRACES: &[(&str, char, &str)] = &[
    ("schema_version", 'i', "the dataset's schema version"),
    (
        "trace_id",
        's',
        "hash of the trace's absolute path, size and modification time; joins the tables",
    ),
    ("source", 's', "the trace's path as given to `batch`"),
    ("file_name", 's', "its file name"),
    ("format", 's', "input format (as in `report.json`)"),
    ("profiler_version", 's', "the profiler's version, when recorded"),
    ("gpu", 's', "the first GPU's name"),
    ("gpu_count", 'i', "GPUs with work in the trace"),
    (
        "window_scope",
        's',
        "`iterations`, `gpu-span` (no iterations found: the span of GPU work) or `whole-capture`",
    ),
    (
        "iteration_range",
        's',
        "the NVTX range (or profiler step) of one iteration",
    ),
    (
        "iterations",
        'i',
        "iterations in the window (0 for a whole capture)",
    ),
    ("window_start_ns", 'i', "window start, on the trace's clock"),
    ("window_end_ns", 'i', "window end"),
    ("window_ns", 'i', "window length"),
    (
        "gpu_busy_ns",
        'i',
        "time some GPU ran a kernel, copy or memset (`window_ns - gpu_idle_ns`)",
    ),
    ("kernel_ns", 'i', "time attributed to kernels"),
    ("memcpy_ns", 'i', "to copies"),
    ("memset_ns", 'i', "to memsets"),
    ("gpu_idle_ns", 'i', "time no GPU ran anything"),
    (
        "idle_sync_ns",
        'i',
        "GPU idle while the host waited in a synchronizing call",
    ),
    (
        "idle_launch_ns",
        'i',
        "GPU idle while the host was in launch calls",
    ),
    ("idle_host_ns", 'i', "GPU idle while the host did other work"),
    ("preprocess_ns", 'i', "host phase: pre-processing"),
    ("inference_ns", 'i', "host phase: inference"),
    ("postprocess_ns", 'i', "host phase: post-processing"),
    ("unannotated_ns", 'i', "host time in no phase"),
    (
        "gpu_tail_ns",
        'i',
        "after iterations' host ranges, until their last GPU work ends",
    ),
    (
        "iteration_mean_ns",
        'i',
        "iteration time: mean (null without iterations)",
    ),
    ("iteration_p50_ns", 'i', "median (nearest rank)"),
    ("iteration_p90_ns", 'i', "90th percentile (nearest rank)"),
    ("iteration_min_ns", 'i', "shortest"),
    ("iteration_max_ns", 'i', "longest"),
    ("iteration_stddev_ns", 'i', "sample standard deviation"),
    (
        "tensor_core_eligible_ns",
        'i',
        "kernel time in matrix work (GEMM, convolution, attention)",
    ),
    ("tensor_core_ns", 'i', "part of it on Tensor Cores"),
    (
        "tensor_core_share",
        'f',
        "`tensor_core_ns / tensor_core_eligible_ns` (null without matrix work)",
    ),
    ("kernel_count", 'i', "kernels in the window"),
    ("memcpy_count", 'i', "copies in the window"),
    (
        "pageable_memcpy_count",
        'i',
        "copies from or to pageable (not pinned) host memory",
    ),
    ("findings", 'i', "findings reported"),
    ("warnings", 'i', "warnings about the input"),
    ("generator", 's', "the trace-report version that wrote the row"),
];

const KERNELS: &[(&str, char, &str)] = &[
    ("schema_version", 'i', "the dataset's schema version"),
    ("trace_id", 's', "the trace (see `traces`)"),
    ("name", 's', "demangled name as the source spells it"),
    (
        "canonical_name",
        's',
        "one identity across sources (nsys and the PyTorch profiler spell a kernel differently)",
    ),
    ("short_name", 's', "the readable short name of the report"),
    (
        "category",
        's',
        "gemm, conv, attention, elementwise, ... (as in `report.json`)",
    ),
    ("count", 'i', "launches in the window"),
    ("total_ns", 'i', "their total time"),
    ("mean_ns", 'i', "mean time"),
    ("min_ns", 'i', "shortest"),
    ("max_ns", 'i', "longest"),
    (
        "per_iteration_ns",
        'f',
        "`total_ns / iterations` (null without iterations)",
    ),
    ("tensor_core", 's', "`yes`, `no` or `unknown`"),
    ("tensor_core_evidence", 's', "what the verdict rests on"),
    (
        "tensor_core_reason",
        's',
        "for matrix work: why it missed Tensor Cores (null otherwise)",
    ),
    (
        "tensor_core_reason_kind",
        's',
        "that reason's kind (`fp32-no-tf32`, `low-alignment`, ...)",
    ),
];

const ITERATIONS: &[(&str, char, &str)] = &[
    ("schema_version", 'i', "the dataset's schema version"),
    ("trace_id", 's', "the trace (see `traces`)"),
    ("iteration", 'i', "index in the window, from 0"),
    ("start_ns", 'i', "start, on the trace's clock"),
    ("duration_ns", 'i', "length"),
    ("kernel_ns", 'i', "attribution as in `traces`, for this iteration"),
    ("memcpy_ns", 'i', ""),
    ("memset_ns", 'i', ""),
    ("gpu_idle_ns", 'i', ""),
    ("idle_sync_ns", 'i', ""),
    ("idle_launch_ns", 'i', ""),
    ("idle_host_ns", 'i', ""),
    ("preprocess_ns", 'i', ""),
    ("inference_ns", 'i', ""),
    ("postprocess_ns", 'i', ""),
    ("unannotated_ns", 'i', ""),
    ("gpu_tail_ns", 'i', ""),
];

const FINDINGS: &[(&str, char, &str)] = &[
    ("schema_version", 'i', "the dataset's schema version"),
    ("trace_id", 's', "the trace (see `traces`)"),
    ("code", 's', "rule code (`TR101`; `trace-report explain CODE`)"),
    ("rule", 's', "rule name"),
    ("severity", 's', "`info`, `warning` or `error`"),
    ("title", 's', "one line"),
    (
        "time_at_stake_ns",
        'i',
        "time the finding puts at stake in the window",
    ),
    ("recommendation", 's', "what to do"),
];

/// Traces that could not be analysed: no row elsewhere, one here.
const ERRORS: &[(&str, char, &str)] = &[
    ("schema_version", 'i', "the dataset's schema version"),
    ("trace_id", 's', "the trace (as in `traces`)"),
    ("source", 's', "the trace's path as given to `batch`"),
    ("file_name", 's', "its file name"),
    ("error", 's', "the one-line error"),
    ("generator", 's', "the trace-report version"),
];

/// The tables of a batch.
pub struct Tables {
    pub traces: Table,
    pub kernels: Table,
    pub iterations: Table,
    pub findings: Table,
    pub errors: Table,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            traces: Table::new("traces", TRACES),
            kernels: Table::new("kernels", KERNELS),
            iterations: Table::new("iterations", ITERATIONS),
            findings: Table::new("findings", FINDINGS),
            errors: Table::new("errors", ERRORS),
        }
    }
}

/// An enum's serde name (`kebab-case` like the JSON report).
fn word<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The last component of a path as the report gives it.
fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_string()
}

fn n<T: TryInto<i64>>(v: T) -> V {
    V::I(v.try_into().unwrap_or(i64::MAX))
}

impl Tables {
    pub fn all_mut(&mut self) -> [&mut Table; 5] {
        [
            &mut self.traces,
            &mut self.kernels,
            &mut self.iterations,
            &mut self.findings,
            &mut self.errors,
        ]
    }

    pub fn all(&self) -> [&Table; 5] {
        [
            &self.traces,
            &self.kernels,
            &self.iterations,
            &self.findings,
            &self.errors,
        ]
    }

    /// Traces added so far (analysed or not) since the last frames taken.
    pub fn traces_added(&self) -> usize {
        self.traces.len() + self.errors.len()
    }

    /// Record a trace that could not be analysed.
    pub fn add_error(&mut self, source: &str, trace_id: &str, error: &str, generator: &str) {
        self.errors.push(vec![
            V::I(SCHEMA_VERSION),
            V::T(trace_id.to_string()),
            V::T(source.to_string()),
            V::T(file_name(source)),
            V::T(error.to_string()),
            V::T(generator.to_string()),
        ]);
    }

    /// Add one trace's report; `trace_id` keys its rows in every table.
    pub fn add(&mut self, r: &Report, trace_id: &str) {
        let v = SCHEMA_VERSION;
        let a = &r.attribution.window;
        let id = || V::T(trace_id.to_string());
        let file = file_name(&r.source.path);
        let it = r.iteration_time.as_ref();
        let tc = &r.tensor_cores;
        self.traces.push(vec![
            V::I(v),
            id(),
            V::T(r.source.path.clone()),
            V::T(file),
            V::T(r.source.format.clone()),
            V::OptT(r.source.profiler_version.clone()),
            V::OptT(r.source.gpus.first().map(|g| g.name.clone())),
            n(r.source.gpus.len()),
            V::T(word(&r.window.scope)),
            V::OptT(r.window.iteration_range.clone()),
            n(r.window.iterations),
            V::I(r.window.start_ns),
            V::I(r.window.end_ns),
            V::I(a.total_ns),
            V::I(a.total_ns - a.activity.gpu_idle_ns),
            V::I(a.activity.kernel_ns),
            V::I(a.activity.memcpy_ns),
            V::I(a.activity.memset_ns),
            V::I(a.activity.gpu_idle_ns),
            V::I(a.gpu_idle.sync_ns),
            V::I(a.gpu_idle.launch_ns),
            V::I(a.gpu_idle.host_ns),
            V::I(a.phase.preprocess_ns),
            V::I(a.phase.inference_ns),
            V::I(a.phase.postprocess_ns),
            V::I(a.phase.unannotated_ns),
            V::I(a.phase.gpu_tail_ns),
            V::OptI(it.map(|t| t.mean_ns)),
            V::OptI(it.map(|t| t.p50_ns)),
            V::OptI(it.map(|t| t.p90_ns)),
            V::OptI(it.map(|t| t.min_ns)),
            V::OptI(it.map(|t| t.max_ns)),
            V::OptI(it.map(|t| t.stddev_ns)),
            V::I(tc.eligible_ns),
            V::I(tc.tensor_core_ns),
            V::F(tc.share),
            n(r.kernels.iter().map(|k| k.count).sum::<u64>()),
            n(r.memcpy.iter().map(|m| m.count).sum::<u64>()),
            n(r.memcpy.iter().map(|m| m.pageable_count).sum::<u64>()),
            n(r.findings.len()),
            n(r.warnings.len()),
            V::T(r.generator.clone()),
        ]);
        let iterations = r.window.iterations;
        for k in &r.kernels {
            self.kernels.push(vec![
                V::I(v),
                id(),
                V::T(k.name.clone()),
                V::T(k.canonical_name.clone()),
                V::T(k.short_name.clone()),
                V::T(word(&k.category)),
                n(k.count),
                V::I(k.total_ns),
                V::I(k.mean_ns),
                V::I(k.min_ns),
                V::I(k.max_ns),
                V::F((iterations > 0).then(|| k.total_ns as f64 / iterations as f64)),
                V::T(word(&k.tensor_core)),
                V::T(word(&k.tensor_core_evidence)),
                V::OptT(k.tensor_core_reason.clone()),
                V::OptT(k.tensor_core_reason_kind.as_ref().map(word)),
            ]);
        }
        for i in &r.iterations {
            self.iterations.push(vec![
                V::I(v),
                id(),
                n(i.index),
                V::I(i.start_ns),
                V::I(i.duration_ns),
                V::I(i.activity.kernel_ns),
                V::I(i.activity.memcpy_ns),
                V::I(i.activity.memset_ns),
                V::I(i.activity.gpu_idle_ns),
                V::I(i.gpu_idle.sync_ns),
                V::I(i.gpu_idle.launch_ns),
                V::I(i.gpu_idle.host_ns),
                V::I(i.phase.preprocess_ns),
                V::I(i.phase.inference_ns),
                V::I(i.phase.postprocess_ns),
                V::I(i.phase.unannotated_ns),
                V::I(i.phase.gpu_tail_ns),
            ]);
        }
        for f in &r.findings {
            self.findings.push(vec![
                V::I(v),
                id(),
                V::T(f.code.clone()),
                V::T(f.rule.clone()),
                V::T(word(&f.severity)),
                V::T(f.title.clone()),
                V::I(f.time_at_stake_ns),
                V::T(f.recommendation.clone()),
            ]);
        }
    }
}
