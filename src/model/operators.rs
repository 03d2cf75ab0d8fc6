//! Framework operators and the input shapes they were called with.
//!
//! Some profilers record, for each framework operator (PyTorch's
//! `aten::addmm`, `aten::cudnn_convolution`, ...), the shapes and element
//! types of its inputs (PyTorch profiler with `record_shapes=True`). That
//! says *why* a GEMM missed Tensor Cores (a dimension not a multiple of 8,
//! an FP32 input) where the kernel name only says *that* it did.
//!
//! The table is optional (empty for sources without shapes) and holds only
//! operators that launched GPU work. A kernel finds its operator through
//! [`KernelOperator`] rows keyed like every other join in the model, by the
//! kernel's (pid, correlation), so sorting the kernels changes nothing.
//! Shapes are kept as the profiler recorded them, compacted JSON interned
//! once ([`Operator::dims`] parses them on demand).

use super::{Correlation, NameId, Names, Ns};

/// A framework operator that launched GPU work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub start: Ns,
    pub end: Ns,
    /// Operator name, e.g. `aten::addmm`.
    pub name: NameId,
    /// Index into `Trace::threads`.
    pub thread: u32,
    /// One dimension list per input, compact JSON: `[[16,2048],[2048,1000],[]]`
    /// (an empty list for scalars and non-tensor inputs).
    pub input_dims: NameId,
    /// One element type per input, compact JSON: `["c10::Half","c10::Half","Scalar"]`.
    pub input_types: NameId,
    /// One stride list per input, compact JSON (`[[512,1],[1,512],[]]`);
    /// `[]` when the profiler recorded none (PyTorch before 2.0).
    pub input_strides: NameId,
    /// The values of scalar and list inputs as the profiler wrote them (PyTorch's
    /// `Concrete Inputs`: `["","","[1, 1]","[1, 1]","1"]`), compact JSON; `[]`
    /// when not recorded.
    pub concrete_inputs: NameId,
}

impl Operator {
    /// The input dimensions; inputs whose entry is not a list of integers
    /// (nested lists of tensors) read as empty.
    pub fn dims(&self, names: &Names) -> Vec<Vec<i64>> {
        parse_lists(names.get(self.input_dims))
    }

    /// The input strides, like [`Operator::dims`]; empty when not recorded.
    pub fn strides(&self, names: &Names) -> Vec<Vec<i64>> {
        parse_lists(names.get(self.input_strides))
    }

    /// The input element types (`c10::Half`, `float`, `Scalar`, ``).
    pub fn types(&self, names: &Names) -> Vec<String> {
        serde_json::from_str(names.get(self.input_types)).unwrap_or_default()
    }

    /// The concrete values of scalar and list inputs (`""` for tensors);
    /// empty when not recorded.
    pub fn concrete(&self, names: &Names) -> Vec<String> {
        let raw: Vec<serde_json::Value> =
            serde_json::from_str(names.get(self.concrete_inputs)).unwrap_or_default();
        raw.iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }
}

/// One integer list per input; entries that are not lists of integers read
/// as empty.
fn parse_lists(json: &str) -> Vec<Vec<i64>> {
    let raw: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    raw.iter()
        .map(|v| {
            v.as_array()
                .map(|a| a.iter().filter_map(|d| d.as_i64()).collect())
                .unwrap_or_default()
        })
        .collect()
}

/// Links a kernel, by its (pid, correlation), to the operator that
/// launched it (an index into `Trace::operators`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelOperator {
    pub pid: u32,
    pub correlation: Correlation,
    pub operator: u32,
}
