//! The normalized trace: one source-independent model that every input
//! format fills and every analysis reads.
//!
//! Times are integer nanoseconds on the capture's clock. Names are interned
//! once in [`Names`] and referenced by [`NameId`]; events are compact
//! fixed-size rows so that ten million kernels fit in a few hundred MB.
//! Nothing here knows which file format the trace came from.

pub mod build;
pub mod engine;
pub mod host;
pub mod kernel_name;
pub mod kinds;
mod names;
pub mod operators;

pub use engine::{Engine, EngineLayer, EngineTensor};
pub use host::{CpuSample, Frame, HostActivity, HostSpan, HostSpanKind};
pub use kinds::{ApiKind, CopyKind, MemKind, RangeKind};
pub use names::{NameId, Names};
pub use operators::{KernelOperator, Operator};

/// Nanoseconds.
pub type Ns = i64;

/// Correlation id linking a host API call to the GPU work it caused.
/// `0` means "none recorded".
pub type Correlation = u32;

/// Where the trace came from.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub path: String,
    /// Input format name, e.g. `nsys-sqlite`.
    pub format: String,
    /// Profiler product and version as recorded in the file, if any.
    pub profiler_version: Option<String>,
    /// Export schema version (nsys SQLite), if any.
    pub schema_version: Option<String>,
    /// The capture clock's zero as UTC nanoseconds since the Unix epoch
    /// (nsys session start, Kineto `baseTimeNanoseconds`), when recorded:
    /// what puts separate captures of one job on one clock.
    pub clock_origin_ns: Option<Ns>,
    /// The distributed job this process belongs to, when the profiler
    /// recorded it (Kineto `distributedInfo`).
    pub distributed: Option<Distributed>,
}

/// A process's place in a distributed job, as the profiler recorded it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Distributed {
    pub rank: Option<u32>,
    pub world_size: Option<u32>,
    /// Communication backend, e.g. `nccl`.
    pub backend: Option<String>,
}

/// A host process the trace names.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub pid: u32,
    pub name: String,
}

/// A GPU seen in the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// The device id used by kernel/memcpy rows (the CUDA device ordinal).
    pub id: u32,
    pub name: String,
    /// Compute capability (major, minor), when recorded.
    pub compute_capability: Option<(u32, u32)>,
    pub sm_count: Option<u32>,
}

/// A host thread; API calls and NVTX ranges refer to it by index.
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    pub pid: u32,
    pub tid: u64,
    pub name: Option<String>,
}

/// One kernel execution on the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernel {
    pub start: Ns,
    pub end: Ns,
    /// Demangled name with template arguments.
    pub name: NameId,
    /// Base function name.
    pub short_name: NameId,
    pub device: u32,
    pub stream: u32,
    /// Process that launched the work: correlation ids are per process.
    pub pid: u32,
    pub correlation: Correlation,
}

/// One memory copy executed by the GPU's copy engines (or by a kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memcpy {
    pub start: Ns,
    pub end: Ns,
    pub bytes: u64,
    pub device: u32,
    pub stream: u32,
    /// Process that issued the copy: correlation ids are per process.
    pub pid: u32,
    pub correlation: Correlation,
    pub kind: CopyKind,
    pub src: MemKind,
    pub dst: MemKind,
}

/// One memset executed on the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memset {
    pub start: Ns,
    pub end: Ns,
    pub bytes: u64,
    pub device: u32,
    pub stream: u32,
    /// Process that launched the work: correlation ids are per process.
    pub pid: u32,
    pub correlation: Correlation,
}

/// One CUDA runtime/driver API call on a host thread.
///
/// Packed: 29 bytes, not 32 (35 MB less on a 10M-kernel trace's calls).
/// Fields are read by value; a reference to one does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed)]
pub struct ApiCall {
    pub start: Ns,
    pub end: Ns,
    pub name: NameId,
    /// Index into [`Trace::threads`].
    pub thread: u32,
    pub correlation: Correlation,
    pub kind: ApiKind,
}

/// One annotated host range (NVTX, or a profiler's user annotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: Ns,
    pub end: Ns,
    pub name: NameId,
    /// Index into [`Trace::threads`].
    pub thread: u32,
    pub kind: RangeKind,
    /// The annotation domain, by name: [`DEFAULT_DOMAIN`] (the empty name)
    /// for the application's own ranges. Libraries record theirs in a
    /// domain of their own (NVTX domains such as `NCCL`, `TSL` for XLA,
    /// `MPI`; PyTorch's internal `record_function` ranges, see the Kineto
    /// reader), which never mark the application's iterations.
    pub domain: NameId,
}

/// [`Range::domain`] of the default domain: the application's own ranges.
pub const DEFAULT_DOMAIN: NameId = 0;

/// A GPU hardware metric the analyses use, sampled periodically by the
/// profiler (nsys `--gpu-metrics-devices`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// Percent of the sample period the Tensor Core pipe was active,
    /// averaged over SMs (nsys "Tensor Active [Throughput %]").
    TensorActive,
    /// DRAM read throughput as a percent of the peak (nsys "DRAM Read
    /// Bandwidth [Throughput %]").
    DramRead,
    /// DRAM write throughput as a percent of the peak.
    DramWrite,
    /// Percent of SMs with at least one warp resident (nsys "SMs Active
    /// [Throughput %]").
    SmActive,
}

impl MetricKind {
    /// The kind of a metric by the name the profiler gives it. Combined
    /// metrics ("Tensor Active / FP16 Active") are not Tensor Active: they
    /// also count FP16 arithmetic that is not MMA.
    /// DRAM and SM metrics count only as percentages (`[Throughput %]`):
    /// another unit would need another conversion.
    pub fn classify(name: &str) -> Option<MetricKind> {
        let n = name.trim().to_ascii_lowercase();
        let percent = n.contains('%');
        if n.starts_with("tensor active") && !n.contains('/') {
            Some(MetricKind::TensorActive)
        } else if percent && n.starts_with("dram read") {
            Some(MetricKind::DramRead)
        } else if percent && n.starts_with("dram write") {
            Some(MetricKind::DramWrite)
        } else if percent && n.starts_with("sms active") {
            Some(MetricKind::SmActive)
        } else {
            None
        }
    }
}

/// Periodic samples of one metric on one GPU; `times` and `values` have the
/// same length and are sorted by time after [`Trace::sort`].
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    /// The device id kernels use (CUDA ordinal).
    pub device: u32,
    pub kind: MetricKind,
    /// The metric's name in the capture.
    pub name: String,
    pub times: Vec<Ns>,
    pub values: Vec<f32>,
}

/// The whole normalized trace.
#[derive(Debug, Default)]
pub struct Trace {
    pub source: Source,
    pub names: Names,
    pub devices: Vec<Device>,
    pub threads: Vec<Thread>,
    /// Process names, where the trace records them (not every process).
    pub processes: Vec<Process>,
    pub kernels: Vec<Kernel>,
    pub memcpys: Vec<Memcpy>,
    pub memsets: Vec<Memset>,
    pub api_calls: Vec<ApiCall>,
    pub ranges: Vec<Range>,
    /// Sampled GPU hardware metrics, when the capture has them.
    pub gpu_metrics: Vec<MetricSeries>,
    /// API calls that were read but not stored (kind [`ApiKind::Other`]):
    /// how many, for the record.
    pub other_api_calls: u64,
    /// Things the reader could not use, stated in the report.
    pub warnings: Vec<String>,
    /// Framework operators that launched GPU work, with their input shapes
    /// (optional; see [`operators`]). Kept in the reader's order: indexed
    /// by `kernel_operators`.
    pub operators: Vec<Operator>,
    /// Kernel (pid, correlation) -> operator, sorted for binary search.
    pub kernel_operators: Vec<KernelOperator>,
    /// The range name the source itself declares as one iteration (the
    /// PyTorch profiler's `ProfilerStep#N` step markers), preferred over
    /// detection when the user names none.
    pub iteration_range: Option<String>,
    /// Engine layers, for engine profiles (TensorRT); None otherwise.
    pub engine: Option<Engine>,
    /// What the host threads ran (OS calls, Python functions, CPU
    /// samples), when the capture records it.
    pub host: HostActivity,
}

impl Trace {
    /// Sort every event table by start time (then end), as analyses expect.
    /// Tables that come sorted (nsys writes rows by start) are left as
    /// they are: a stable sort would only allocate a buffer of half each.
    pub fn sort(&mut self) {
        fn sort<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
            if !v.is_sorted_by_key(&key) {
                v.sort_by_key(key);
            }
        }
        sort(&mut self.kernels, |k| (k.start, k.end));
        sort(&mut self.memcpys, |m| (m.start, m.end));
        sort(&mut self.memsets, |m| (m.start, m.end));
        sort(&mut self.api_calls, |a| (a.start, a.end));
        sort(&mut self.ranges, |r| (r.start, std::cmp::Reverse(r.end)));
        self.host.sort();
        for m in &mut self.gpu_metrics {
            if !m.times.is_sorted() {
                let mut pairs: Vec<(Ns, f32)> =
                    m.times.iter().copied().zip(m.values.iter().copied()).collect();
                pairs.sort_by_key(|p| p.0);
                (m.times, m.values) = pairs.into_iter().unzip();
            }
        }
    }

    /// The name of an interned string.
    pub fn name(&self, id: NameId) -> &str {
        self.names.get(id)
    }

    /// The operator that launched `kernel`, when the source recorded one.
    pub fn operator_of(&self, kernel: &Kernel) -> Option<&Operator> {
        let key = (kernel.pid, kernel.correlation);
        let i = self
            .kernel_operators
            .binary_search_by_key(&key, |k| (k.pid, k.correlation))
            .ok()?;
        self.operators.get(self.kernel_operators[i].operator as usize)
    }

    /// The recorded name of process `pid`.
    pub fn process_name(&self, pid: u32) -> Option<&str> {
        self.processes
            .iter()
            .find(|p| p.pid == pid)
            .map(|p| p.name.as_str())
    }

    /// The device with this id, if the trace describes it.
    pub fn device(&self, id: u32) -> Option<&Device> {
        self.devices.iter().find(|d| d.id == id)
    }
}
