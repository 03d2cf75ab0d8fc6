//! Report documents to the dataset's tables: one column builder per
//! table, filled one report at a time, turned into polars frames.
//!
//! Every integer is `Int64`, every fraction `Float64`, every text `String`
//! (nullable where the report's value is optional), so that engines without
//! unsigned types (Spark) read the files as written.

use polars::prelude::*;
use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::report::Report;

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
    fn new(name: &'static str, schema: &[(&'static str, char)]) -> Table {
        let cols = schema
            .iter()
            .map(|&(n, t)| {
                let c = match t {
                    'i' => Col::Int(Vec::new()),
                    'f' => Col::Float(Vec::new()),
                    _ => Col::Text(Vec::new()),
                };
                (n, c)
            })
            .collect();
        Table { name, cols, rows: 0 }
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

    /// `(column, type)` for the README's schema table.
    pub fn schema(&self) -> Vec<(&'static str, &'static str)> {
        self.cols
            .iter()
            .map(|(n, c)| {
                let t = match c {
                    Col::Int(_) => "Int64",
                    Col::Float(_) => "Float64",
                    Col::Text(_) => "String",
                };
                (*n, t)
            })
            .collect()
    }
}

/// The schema of each table: (column, `i` Int64 / `f` Float64 / `s` String).
const TRACES: &[(&str, char)] = &[
    ("schema_version", 'i'),
    ("trace_id", 's'),
    ("source", 's'),
    ("file_name", 's'),
    ("format", 's'),
    ("profiler_version", 's'),
    ("gpu", 's'),
    ("gpu_count", 'i'),
    ("window_scope", 's'),
    ("iteration_range", 's'),
    ("iterations", 'i'),
    ("window_start_ns", 'i'),
    ("window_end_ns", 'i'),
    ("window_ns", 'i'),
    ("gpu_busy_ns", 'i'),
    ("kernel_ns", 'i'),
    ("memcpy_ns", 'i'),
    ("memset_ns", 'i'),
    ("gpu_idle_ns", 'i'),
    ("idle_sync_ns", 'i'),
    ("idle_launch_ns", 'i'),
    ("idle_host_ns", 'i'),
    ("preprocess_ns", 'i'),
    ("inference_ns", 'i'),
    ("postprocess_ns", 'i'),
    ("unannotated_ns", 'i'),
    ("iteration_mean_ns", 'i'),
    ("iteration_p50_ns", 'i'),
    ("iteration_p90_ns", 'i'),
    ("iteration_min_ns", 'i'),
    ("iteration_max_ns", 'i'),
    ("iteration_stddev_ns", 'i'),
    ("tensor_core_eligible_ns", 'i'),
    ("tensor_core_ns", 'i'),
    ("tensor_core_share", 'f'),
    ("kernel_count", 'i'),
    ("memcpy_count", 'i'),
    ("pageable_memcpy_count", 'i'),
    ("findings", 'i'),
    ("warnings", 'i'),
    ("generator", 's'),
];

const KERNELS: &[(&str, char)] = &[
    ("schema_version", 'i'),
    ("trace_id", 's'),
    ("name", 's'),
    ("short_name", 's'),
    ("category", 's'),
    ("count", 'i'),
    ("total_ns", 'i'),
    ("mean_ns", 'i'),
    ("min_ns", 'i'),
    ("max_ns", 'i'),
    ("per_iteration_ns", 'f'),
    ("tensor_core", 's'),
    ("tensor_core_evidence", 's'),
    ("tensor_core_reason", 's'),
];

const ITERATIONS: &[(&str, char)] = &[
    ("schema_version", 'i'),
    ("trace_id", 's'),
    ("iteration", 'i'),
    ("start_ns", 'i'),
    ("duration_ns", 'i'),
    ("kernel_ns", 'i'),
    ("memcpy_ns", 'i'),
    ("memset_ns", 'i'),
    ("gpu_idle_ns", 'i'),
    ("idle_sync_ns", 'i'),
    ("idle_launch_ns", 'i'),
    ("idle_host_ns", 'i'),
    ("preprocess_ns", 'i'),
    ("inference_ns", 'i'),
    ("postprocess_ns", 'i'),
    ("unannotated_ns", 'i'),
];

const FINDINGS: &[(&str, char)] = &[
    ("schema_version", 'i'),
    ("trace_id", 's'),
    ("code", 's'),
    ("rule", 's'),
    ("severity", 's'),
    ("title", 's'),
    ("time_at_stake_ns", 'i'),
    ("recommendation", 's'),
];

/// The four tables of a batch.
pub struct Tables {
    pub traces: Table,
    pub kernels: Table,
    pub iterations: Table,
    pub findings: Table,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            traces: Table::new("traces", TRACES),
            kernels: Table::new("kernels", KERNELS),
            iterations: Table::new("iterations", ITERATIONS),
            findings: Table::new("findings", FINDINGS),
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

fn n<T: TryInto<i64>>(v: T) -> V {
    V::I(v.try_into().unwrap_or(i64::MAX))
}

impl Tables {
    pub fn all_mut(&mut self) -> [&mut Table; 4] {
        [&mut self.traces, &mut self.kernels, &mut self.iterations, &mut self.findings]
    }

    pub fn all(&self) -> [&Table; 4] {
        [&self.traces, &self.kernels, &self.iterations, &self.findings]
    }

    /// Add one trace's report; `trace_id` keys its rows in every table.
    pub fn add(&mut self, r: &Report, trace_id: &str) {
        let v = SCHEMA_VERSION;
        let a = &r.attribution.window;
        let id = || V::T(trace_id.to_string());
        let file = r.source.path.rsplit(['/', '\\']).next().unwrap_or(&r.source.path).to_string();
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
