//! What the host threads ran, when the capture records it: timed host
//! spans (OS runtime calls, Python functions, framework operators) and
//! periodic CPU samples with their native call stacks.
//!
//! Readers fill only the threads that drive the GPU (threads with CUDA API
//! calls), so sampling tables of busy machines stay small. Symbols and
//! modules are interned [`NameId`]s, never per-row strings.

use super::{NameId, Ns};

/// What a [`HostSpan`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostSpanKind {
    /// An OS runtime library call (nsys `osrt`: `read`, `poll`,
    /// `clock_nanosleep`, `pthread_mutex_lock`, ...); outermost calls only.
    OsCall,
    /// A Python function (PyTorch profiler `with_stack=True`:
    /// `python_function` events), nested as called.
    Python,
    /// A framework operator (`aten::conv2d`: PyTorch profiler `cpu_op`).
    Operator,
}

/// A timed host interval on one thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostSpan {
    pub start: Ns,
    pub end: Ns,
    pub name: NameId,
    /// Index into [`super::Trace::threads`].
    pub thread: u32,
    pub kind: HostSpanKind,
}

/// One frame of a sampled call stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Function name as the profiler resolved it (an address such as
    /// `0x56713c` when it could not).
    pub symbol: NameId,
    /// The binary or shared library holding it.
    pub module: NameId,
}

/// One CPU sample: a thread seen running at `time`, with its call stack
/// `frames[first..first + depth]`, leaf first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSample {
    pub time: Ns,
    /// Index into [`super::Trace::threads`].
    pub thread: u32,
    pub first: u32,
    pub depth: u32,
}

/// Everything recorded about what the host ran.
#[derive(Debug, Default)]
pub struct HostActivity {
    /// Sorted by start, then longest first (parents before children).
    pub spans: Vec<HostSpan>,
    /// Sorted by time.
    pub samples: Vec<CpuSample>,
    /// The samples' stacks, concatenated.
    pub frames: Vec<Frame>,
    /// The profiler's CPU sampling period, when it states one in time
    /// units (nsys: `CPU Clock` event period).
    pub sample_period: Option<Ns>,
}

impl HostActivity {
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty() && self.samples.is_empty()
    }

    /// The stack of `s`, leaf first.
    pub fn stack(&self, s: &CpuSample) -> &[Frame] {
        let a = s.first as usize;
        self.frames.get(a..a + s.depth as usize).unwrap_or(&[])
    }

    pub(super) fn sort(&mut self) {
        let key = |s: &HostSpan| (s.start, std::cmp::Reverse(s.end));
        if !self.spans.is_sorted_by_key(key) {
            self.spans.sort_by_key(key);
        }
        if !self.samples.is_sorted_by_key(|s| s.time) {
            self.samples.sort_by_key(|s| s.time);
        }
    }
}
