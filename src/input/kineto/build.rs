//! Kineto events to model rows, one event at a time; the joins that need
//! the whole file (host process of GPU work, kernel -> operator, thread
//! names written at the end) run once in [`Builder::finish`].

use std::collections::BTreeSet;

use hashbrown::HashMap;
use std::path::Path;

use super::event::{Event, Int, raw_us_to_ns};
use super::short_name::short_name;
use crate::error::{Error, Result};
use crate::input::json_stream::compact_into;
use crate::model::build::RowCheck;
use crate::model::{
    ApiCall, ApiKind, CopyKind, DEFAULT_DOMAIN, Device, Distributed, HostSpan, HostSpanKind, Kernel,
    KernelOperator, MemKind, Memcpy, Memset, NameId, Ns, Operator, Process, Range, RangeKind, Thread, Trace,
};

/// The name PyTorch gives its step markers (`ProfilerStep#12`).
const STEP_PREFIX: &str = "ProfilerStep#";
/// The domain of the `record_function` ranges PyTorch opens itself.
const PYTORCH_DOMAIN: &str = "PyTorch";

/// Whether a `user_annotation` range is one PyTorch records on its own
/// (Kineto files them with the user's, without a domain): an optimizer's
/// `Optimizer.step#SGD.step` / `Optimizer.zero_grad#...`, a DataLoader
/// fetch `enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__`,
/// DDP's `DistributedDataParallel.forward`, a process group's collectives
/// (`nccl:all_reduce`, `gloo:broadcast`, ...) and torch.compile's regions.
/// They are parts of a step, never the step: like a library's NVTX domain,
/// they do not mark iterations unless named with `--iteration`.
pub fn is_pytorch_internal(name: &str) -> bool {
    const PREFIXES: [&str; 12] = [
        "Optimizer.step#",
        "Optimizer.zero_grad#",
        "enumerate(DataLoader)#",
        "DistributedDataParallel.",
        "nccl:",
        "gloo:",
        "mpi:",
        "ucc:",
        "Torch-Compiled Region",
        "## Call CompiledFxGraph",
        "CompiledFunction",
        "TorchDynamo Cache Lookup",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
}
/// How the window code shows the step markers as one iteration name.
const STEP_RANGE: &str = "ProfilerStep#*";

/// GPU rows get their host process at the end; until then, this.
const PID_UNKNOWN: u32 = u32::MAX;

#[derive(Default)]
struct Counts {
    unreadable: u64,
    begin_end: u64,
    gpu_annotations: u64,
    /// Events of a non-GPU accelerator's runtime (MTIA, Glow, ...).
    other_device: u64,
    /// CUPTI range-profiler ranges (counters per range, no kernel records).
    profiler_ranges: u64,
}

pub struct Builder {
    trace: Trace,
    threads: HashMap<(i64, i64), u32>,
    api_kinds: HashMap<NameId, ApiKind>,
    short: HashMap<NameId, NameId>,
    /// Processes that made CUDA calls.
    host_pids: BTreeSet<u32>,
    /// (kernel index, External id) for kernels that carry one.
    kernel_ext: Vec<(u32, i64)>,
    /// Operators with recorded shapes, by (pid, External id).
    ops: HashMap<(u32, i64), Operator>,
    thread_names: HashMap<(i64, i64), String>,
    process_names: HashMap<i64, String>,
    scratch: String,
    counts: Counts,
    /// Complete events' spans and ids.
    rows: RowCheck,
    schema_version: Option<String>,
    cupti_version: Option<String>,
    devices: Vec<Device>,
    /// The trace names a ROCm tracer or HIP runtime version.
    rocm: bool,
}

impl Builder {
    pub fn new(path: &Path) -> Builder {
        let mut trace = Trace::default();
        trace.source.path = path.display().to_string();
        Builder {
            trace,
            threads: HashMap::new(),
            api_kinds: HashMap::new(),
            short: HashMap::new(),
            host_pids: BTreeSet::new(),
            kernel_ext: Vec::new(),
            ops: HashMap::new(),
            thread_names: HashMap::new(),
            process_names: HashMap::new(),
            scratch: String::new(),
            counts: Counts::default(),
            rows: RowCheck::new("complete ('X') events"),
            schema_version: None,
            cupti_version: None,
            devices: Vec::new(),
            rocm: false,
        }
    }

    /// A top-level member other than `traceEvents`.
    pub fn metadata(&mut self, key: &str, raw: &[u8]) -> serde_json::Result<()> {
        match key {
            "schemaVersion" => {
                let v: serde_json::Value = serde_json::from_slice(raw)?;
                self.schema_version = Some(v.to_string().trim_matches('"').to_string());
            }
            "cupti_version" => {
                let v: serde_json::Value = serde_json::from_slice(raw)?;
                self.cupti_version = Some(v.to_string().trim_matches('"').to_string());
            }
            "roctracer_version" | "hip_runtime_version" | "hip_driver_version" => self.rocm = true,
            // Epoch nanoseconds that event times (in microseconds) count from.
            "baseTimeNanoseconds" => {
                let v: serde_json::Value = serde_json::from_slice(raw)?;
                self.trace.source.clock_origin_ns = v.as_i64().filter(|&n| n > 0);
            }
            "distributedInfo" => {
                let v: serde_json::Value = serde_json::from_slice(raw)?;
                let int = |k: &str| {
                    v.get(k)
                        .and_then(|x| x.as_u64())
                        .and_then(|x| u32::try_from(x).ok())
                };
                self.trace.source.distributed = Some(Distributed {
                    rank: int("rank"),
                    world_size: int("world_size"),
                    backend: v.get("backend").and_then(|x| x.as_str()).map(str::to_string),
                });
            }
            "deviceProperties" => {
                let v: Vec<serde_json::Value> = serde_json::from_slice(raw)?;
                for d in v {
                    let Some(id) = d.get("id").and_then(|x| x.as_u64()) else {
                        continue;
                    };
                    let int = |k: &str| {
                        d.get(k)
                            .and_then(|x| x.as_u64())
                            .and_then(|x| u32::try_from(x).ok())
                    };
                    self.devices.push(Device {
                        id: id as u32,
                        name: d
                            .get("name")
                            .and_then(|x| x.as_str())
                            .unwrap_or("unknown GPU")
                            .to_string(),
                        compute_capability: int("computeMajor").zip(int("computeMinor")),
                        sm_count: int("numSms"),
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// An event whose fields had unexpected types.
    pub fn bad_event(&mut self) {
        self.counts.unreadable += 1;
    }

    pub fn event(&mut self, e: &Event) {
        match e.ph.as_str() {
            Some("X") => self.complete(e),
            Some("M") => self.meta(e),
            Some("B" | "E") => self.counts.begin_end += 1,
            _ => {}
        }
    }

    fn thread(&mut self, pid: i64, tid: i64) -> u32 {
        if let Some(&t) = self.threads.get(&(pid, tid)) {
            return t;
        }
        let idx = self.trace.threads.len() as u32;
        self.trace.threads.push(Thread {
            pid: pid as u32,
            tid: tid as u64,
            name: None,
        });
        self.threads.insert((pid, tid), idx);
        idx
    }

    fn meta(&mut self, e: &Event) {
        if e.name.as_str() == Some("process_name") {
            if let (Int(Some(pid)), Some(name)) = (e.pid, e.args.as_ref().and_then(|a| a.name.as_str())) {
                self.process_names.insert(pid, name.to_string());
            }
            return;
        }
        if e.name.as_str() != Some("thread_name") {
            return;
        }
        if let (Int(Some(pid)), Int(Some(tid)), Some(args)) = (e.pid, e.tid, &e.args) {
            if let Some(name) = args.name.as_str() {
                self.thread_names.insert((pid, tid), name.to_string());
            }
        }
    }

    /// (start, end) of a complete event, counting the unusable ones.
    fn span(&mut self, e: &Event) -> Option<(Ns, Ns)> {
        self.rows.span_from(raw_us_to_ns(e.ts), raw_us_to_ns(e.dur))
    }

    fn complete(&mut self, e: &Event) {
        let Some(cat) = e.cat.as_str() else { return };
        match Category::of(cat) {
            Category::Kernel => self.kernel(e),
            Category::Memcpy => self.memcpy(e),
            Category::Memset => self.memset(e),
            Category::Runtime => self.api(e),
            Category::Annotation => self.range(e),
            Category::Operator => {
                self.host_span(e, HostSpanKind::Operator);
                self.cpu_op(e)
            }
            Category::Python => self.host_span(e, HostSpanKind::Python),
            Category::GpuAnnotation => self.counts.gpu_annotations += 1,
            Category::OtherDevice => self.counts.other_device += 1,
            Category::ProfilerRange => self.counts.profiler_ranges += 1,
            Category::Other => {}
        }
    }

    /// Device and stream of GPU work: `args.device`/`args.stream`, else the
    /// `pid`/`tid` Kineto files GPU rows under.
    fn gpu_place(&mut self, e: &Event) -> (u32, u32, u32) {
        let a = e.args.as_ref();
        let device = a.and_then(|a| a.device.0).or(e.pid.0);
        let stream = a.and_then(|a| a.stream.0).or(e.tid.0);
        let correlation = a.and_then(|a| a.correlation.0);
        (
            self.rows.u32(device),
            self.rows.u32(stream),
            self.rows.u32(correlation),
        )
    }

    fn kernel(&mut self, e: &Event) {
        let Some((start, end)) = self.span(e) else { return };
        let name = self
            .trace
            .names
            .intern(e.name.as_str().unwrap_or("<unnamed kernel>"));
        let short_name = match self.short.get(&name) {
            Some(&s) => s,
            None => {
                let full = self.trace.names.get(name).to_string();
                let s = self.trace.names.intern(short_name(&full));
                self.short.insert(name, s);
                s
            }
        };
        let (device, stream, correlation) = self.gpu_place(e);
        if let Some(ext) = e.args.as_ref().and_then(|a| a.external()) {
            self.kernel_ext.push((self.trace.kernels.len() as u32, ext));
        }
        self.trace.kernels.push(Kernel {
            start,
            end,
            name,
            short_name,
            device,
            stream,
            pid: PID_UNKNOWN,
            correlation,
        });
    }

    fn memcpy(&mut self, e: &Event) {
        let Some((start, end)) = self.span(e) else { return };
        let name = e.name.as_str().unwrap_or("");
        let (src, dst) = mem_kinds(name);
        let (device, stream, correlation) = self.gpu_place(e);
        let bytes = self.rows.u64(e.args.as_ref().and_then(|a| a.bytes.0));
        self.trace.memcpys.push(Memcpy {
            start,
            end,
            bytes,
            device,
            stream,
            pid: PID_UNKNOWN,
            correlation,
            kind: CopyKind::parse(name),
            src,
            dst,
        });
    }

    fn memset(&mut self, e: &Event) {
        let Some((start, end)) = self.span(e) else { return };
        let (device, stream, correlation) = self.gpu_place(e);
        let bytes = self.rows.u64(e.args.as_ref().and_then(|a| a.bytes.0));
        self.trace.memsets.push(Memset {
            start,
            end,
            bytes,
            device,
            stream,
            pid: PID_UNKNOWN,
            correlation,
        });
    }

    fn api(&mut self, e: &Event) {
        let (Int(Some(pid)), Int(Some(tid))) = (e.pid, e.tid) else {
            return;
        };
        let Some((start, end)) = self.span(e) else { return };
        let name = self.trace.names.intern(e.name.as_str().unwrap_or(""));
        let kind = *self
            .api_kinds
            .entry(name)
            .or_insert_with(|| ApiKind::classify(self.trace.names.get(name)));
        self.host_pids.insert(pid as u32);
        if kind == ApiKind::Other {
            self.trace.other_api_calls += 1;
            return;
        }
        let correlation = e
            .args
            .as_ref()
            .and_then(|a| a.correlation.0)
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(0);
        let thread = self.thread(pid, tid);
        self.trace.api_calls.push(ApiCall {
            start,
            end,
            name,
            thread,
            correlation,
            kind,
        });
    }

    fn range(&mut self, e: &Event) {
        let (Int(Some(pid)), Int(Some(tid))) = (e.pid, e.tid) else {
            return;
        };
        let Some((start, end)) = self.span(e) else { return };
        let text = e.name.as_str().unwrap_or("<unnamed range>");
        if text.starts_with(STEP_PREFIX) {
            self.trace.iteration_range = Some(STEP_RANGE.to_string());
        }
        let name = self.trace.names.intern(text);
        let thread = self.thread(pid, tid);
        let domain = if is_pytorch_internal(text) {
            self.trace.names.intern(PYTORCH_DOMAIN)
        } else {
            DEFAULT_DOMAIN
        };
        self.trace.ranges.push(Range {
            start,
            end,
            name,
            thread,
            kind: RangeKind::PushPop,
            domain,
        });
    }

    /// A Python function or operator as a host span. Object addresses in
    /// names (`<built-in method sort of numpy.ndarray object at 0x7f...>`)
    /// are dropped, so one function is one name.
    fn host_span(&mut self, e: &Event, kind: HostSpanKind) {
        let (Int(Some(pid)), Int(Some(tid))) = (e.pid, e.tid) else {
            return;
        };
        let Some(name) = e.name.as_str() else { return };
        if name.starts_with(STEP_PREFIX) {
            return;
        }
        let Some((start, end)) = self.span(e) else { return };
        let name = match without_addresses(name, &mut self.scratch) {
            Some(clean) => self.trace.names.intern(clean),
            None => self.trace.names.intern(name),
        };
        let thread = self.thread(pid, tid);
        self.trace.host.spans.push(HostSpan {
            start,
            end,
            name,
            thread,
            kind,
        });
    }

    fn cpu_op(&mut self, e: &Event) {
        // Older PyTorch files its step markers as operators.
        if e.name.as_str().is_some_and(|n| n.starts_with(STEP_PREFIX)) {
            return self.range(e);
        }
        let Some(args) = &e.args else { return };
        let (Some(dims), Some(ext), Int(Some(pid)), Int(Some(tid))) =
            (args.dims(), args.external(), e.pid, e.tid)
        else {
            return;
        };
        // Only operators with at least one dimension say anything.
        if !dims.get().bytes().any(|b| b.is_ascii_digit()) {
            return;
        }
        let Some((start, end)) = self.span(e) else { return };
        compact_into(dims.get().as_bytes(), &mut self.scratch);
        let input_dims = self.trace.names.intern(&self.scratch);
        let input_types = match args.input_type {
            Some(t) => {
                compact_into(t.get().as_bytes(), &mut self.scratch);
                self.trace.names.intern(&self.scratch)
            }
            None => self.trace.names.intern("[]"),
        };
        let input_strides = match args.input_strides {
            Some(t) => {
                compact_into(t.get().as_bytes(), &mut self.scratch);
                self.trace.names.intern(&self.scratch)
            }
            None => self.trace.names.intern("[]"),
        };
        let concrete_inputs = match args.concrete_inputs {
            Some(t) => {
                compact_into(t.get().as_bytes(), &mut self.scratch);
                self.trace.names.intern(&self.scratch)
            }
            None => self.trace.names.intern("[]"),
        };
        let name = self.trace.names.intern(e.name.as_str().unwrap_or(""));
        let thread = self.thread(pid, tid);
        self.ops.insert(
            (pid as u32, ext),
            Operator {
                start,
                end,
                name,
                thread,
                input_dims,
                input_types,
                input_strides,
                concrete_inputs,
            },
        );
    }

    pub fn finish(mut self) -> Result<Trace> {
        self.assign_host_pids();
        self.link_operators();
        for ((pid, tid), name) in std::mem::take(&mut self.thread_names) {
            if let Some(&t) = self.threads.get(&(pid, tid)) {
                self.trace.threads[t as usize].name = Some(name);
            }
        }
        let mut processes: Vec<Process> = std::mem::take(&mut self.process_names)
            .into_iter()
            .filter_map(|(pid, name)| {
                Some(Process {
                    pid: u32::try_from(pid).ok()?,
                    name,
                })
            })
            .filter(|p| self.host_pids.contains(&p.pid))
            .collect();
        processes.sort_by_key(|p| p.pid);
        self.trace.processes = processes;
        self.describe_source();
        self.devices();
        self.warnings();
        if let Some(reason) = self.no_gpu_work() {
            return Err(Error::input(&self.trace.source.path, reason));
        }
        Ok(self.trace)
    }

    /// Why the trace cannot be analysed, when it holds no GPU work: what
    /// it holds instead, in one line.
    fn no_gpu_work(&self) -> Option<String> {
        let t = &self.trace;
        if !(t.kernels.is_empty() && t.memcpys.is_empty() && t.memsets.is_empty()) {
            return None;
        }
        let calls = t.api_calls.len() as u64 + t.other_api_calls;
        let launches = t.api_calls.iter().filter(|a| a.kind == ApiKind::Launch).count();
        Some(if calls > 0 {
            let why = if self.counts.profiler_ranges > 0 {
                format!(
                    "the CUPTI range profiler was on ({} cuda_profiler_range event(s)): it measures counters per \
                     range and records no kernels",
                    self.counts.profiler_ranges
                )
            } else {
                "GPU activity was not recorded (profile with ProfilerActivity.CUDA)".to_string()
            };
            format!(
                "PyTorch profiler trace with {calls} CUDA runtime call(s) ({launches} kernel launch(es)) but no GPU \
                 kernels, copies or memsets: {why}"
            )
        } else if self.counts.other_device > 0 {
            format!(
                "PyTorch profiler trace of another accelerator ({} MTIA/XPU/other runtime event(s)): no CUDA or \
                 ROCm GPU activity",
                self.counts.other_device
            )
        } else {
            "PyTorch profiler trace without GPU activity or CUDA calls: CPU only (profile with ProfilerActivity.CUDA)"
                .to_string()
        })
    }

    /// Kineto files GPU rows under the device, not the process: give each
    /// the process whose CUDA call has its correlation id (one process per
    /// file is usual; then all rows are its).
    fn assign_host_pids(&mut self) {
        let t = &mut self.trace;
        let by_corr: Option<HashMap<u32, u32>> = (self.host_pids.len() > 1).then(|| {
            t.api_calls
                .iter()
                .filter(|a| a.correlation != 0)
                .map(|a| (a.correlation, t.threads[a.thread as usize].pid))
                .collect()
        });
        let single = self.host_pids.first().copied().unwrap_or(0);
        let pid_of = |corr: u32| match &by_corr {
            Some(map) => map.get(&corr).copied().unwrap_or(0),
            None => single,
        };
        for k in &mut t.kernels {
            k.pid = pid_of(k.correlation);
        }
        for m in &mut t.memcpys {
            m.pid = pid_of(m.correlation);
        }
        for m in &mut t.memsets {
            m.pid = pid_of(m.correlation);
        }
    }

    /// Keep the operators that launched kernels, linked by (pid, correlation).
    fn link_operators(&mut self) {
        if self.ops.is_empty() {
            return;
        }
        let mut index: HashMap<(u32, i64), u32> = HashMap::new();
        let t = &mut self.trace;
        for &(ki, ext) in &self.kernel_ext {
            let k = t.kernels[ki as usize];
            if k.correlation == 0 {
                continue;
            }
            let key = (k.pid, ext);
            let op = match index.get(&key) {
                Some(&i) => i,
                None => {
                    let Some(op) = self.ops.get(&key) else { continue };
                    let i = t.operators.len() as u32;
                    t.operators.push(*op);
                    index.insert(key, i);
                    i
                }
            };
            t.kernel_operators.push(KernelOperator {
                pid: k.pid,
                correlation: k.correlation,
                operator: op,
            });
        }
        t.kernel_operators.sort_unstable();
        t.kernel_operators.dedup_by_key(|k| (k.pid, k.correlation));
    }

    fn describe_source(&mut self) {
        let mut v = String::from("PyTorch profiler (Kineto)");
        if let Some(s) = &self.schema_version {
            v.push_str(&format!(", trace schema {s}"));
        }
        if let Some(c) = &self.cupti_version {
            v.push_str(&format!(", CUPTI {c}"));
        }
        self.trace.source.profiler_version = Some(v);
    }

    /// The GPUs that ran work. `deviceProperties` lists every GPU the
    /// process could see, so unused ones are left out (they would show as
    /// idle GPUs the workload never touched). ROCm builds file GPU work
    /// under HSA agent ids, which count the CPU agents first (GPU ordinal
    /// 0 is often agent 2), while `deviceProperties` is keyed by HIP
    /// ordinal: the ids cannot be matched, so a ROCm GPU is named only
    /// when every listed device has the same name. AMD's `computeMajor`/
    /// `computeMinor` are a gfx version, not a CUDA compute capability.
    fn devices(&mut self) {
        let props = std::mem::take(&mut self.devices);
        let used: BTreeSet<u32> = (self.trace.kernels.iter().map(|k| k.device))
            .chain(self.trace.memcpys.iter().map(|m| m.device))
            .chain(self.trace.memsets.iter().map(|m| m.device))
            .collect();
        if props.is_empty() && !used.is_empty() {
            self.trace
                .warnings
                .push("no deviceProperties: GPU names and compute capability unknown".into());
        }
        let rocm = self.rocm || props.iter().any(|d| d.name.starts_with("AMD"));
        let named: Vec<&Device> = props.iter().filter(|d| !d.name.trim().is_empty()).collect();
        let common: Option<Device> = named
            .first()
            .filter(|first| {
                named
                    .iter()
                    .all(|d| d.name == first.name && d.sm_count == first.sm_count)
            })
            .map(|d| (*d).clone());
        let props_empty = props.is_empty();
        // CUDA: deviceProperties is keyed by the ids the work uses. ROCm:
        // each GPU the work names gets the common description, if any.
        let described: Vec<Device> = if !rocm {
            props
        } else {
            used.iter()
                .map(|&id| match &common {
                    Some(d) => Device {
                        id,
                        name: d.name.clone(),
                        compute_capability: None,
                        sm_count: d.sm_count,
                    },
                    None => Device {
                        id,
                        name: "AMD GPU (name not recorded)".into(),
                        compute_capability: None,
                        sm_count: None,
                    },
                })
                .collect()
        };
        if rocm && !props_empty && common.is_none() && !used.is_empty() {
            self.trace.warnings.push(
                "ROCm trace: GPU work is filed under HSA agent ids, deviceProperties under HIP \
                 ordinals, and the listed GPUs differ: GPU names unknown"
                    .into(),
            );
        }
        crate::model::build::fill_devices(&mut self.trace, described);
    }

    fn warnings(&mut self) {
        let c = &self.counts;
        let w = &mut self.trace.warnings;
        if c.unreadable > 0 {
            w.push(format!(
                "{} trace event(s) with fields of unexpected types skipped",
                c.unreadable
            ));
        }
        self.rows.report(w);
        if c.begin_end > 0 {
            w.push(format!(
                "{} begin/end ('B'/'E') event(s) not read: only complete ('X') events are",
                c.begin_end
            ));
        }
        if self.trace.kernels.is_empty() {
            w.push("no GPU kernels in this trace".into());
        }
        if self.trace.api_calls.is_empty() && self.trace.other_api_calls == 0 {
            w.push("no CUDA runtime events: GPU idle time cannot be split into sync/launch/host".into());
        }
        if self.trace.ranges.is_empty() {
            w.push(
                "no ProfilerStep or record_function ranges: no iterations or phases (the window is the whole capture)"
                    .into(),
            );
        }
    }
}

/// What a Kineto event category means here. Kineto and the PyTorch
/// profiler have spelled categories differently over the years: 2021-era
/// traces (PyTorch 1.8/1.9) write `Kernel`, `Memcpy`, `Memset`, `Runtime`
/// and `Operator`; later ones `kernel`, `gpu_memcpy`, `gpu_memset`,
/// `cuda_runtime`, `cuda_driver` and `cpu_op` (libkineto's ActivityType
/// names). ROCm builds write the CUDA names for HIP events. Matching is
/// case-insensitive, as the TensorBoard plugin's is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Kernel,
    Memcpy,
    Memset,
    /// CUDA/HIP runtime or driver calls on a host thread.
    Runtime,
    /// `record_function` ranges (and `ProfilerStep#N` in newer traces).
    Annotation,
    /// Framework operators (and `ProfilerStep#N` in older traces).
    Operator,
    /// The GPU-side copy of a user annotation: not GPU work.
    GpuAnnotation,
    /// The runtime of an accelerator this tool does not read (MTIA, Glow,
    /// XPU, PrivateUse1): counted so that a trace of only those says so.
    OtherDevice,
    /// `cuda_profiler_range`: the CUPTI range profiler's ranges.
    ProfilerRange,
    /// Python functions (`with_stack=True`).
    Python,
    /// Instant events, syncs, overhead, trace spans.
    Other,
}

impl Category {
    fn of(cat: &str) -> Category {
        const TABLE: &[(&str, Category)] = &[
            ("kernel", Category::Kernel),
            ("gpu_memcpy", Category::Memcpy),
            ("memcpy", Category::Memcpy),
            ("gpu_memset", Category::Memset),
            ("memset", Category::Memset),
            ("cuda_runtime", Category::Runtime),
            ("cuda_driver", Category::Runtime),
            ("runtime", Category::Runtime),
            ("user_annotation", Category::Annotation),
            ("cpu_op", Category::Operator),
            ("operator", Category::Operator),
            ("gpu_user_annotation", Category::GpuAnnotation),
            ("mtia_runtime", Category::OtherDevice),
            ("mtia_ccp_events", Category::OtherDevice),
            ("glow_runtime", Category::OtherDevice),
            ("xpu_runtime", Category::OtherDevice),
            ("xpu_driver", Category::OtherDevice),
            ("hpu_op", Category::OtherDevice),
            ("privateuse1_runtime", Category::OtherDevice),
            ("privateuse1_driver", Category::OtherDevice),
            ("cuda_profiler_range", Category::ProfilerRange),
            ("python_function", Category::Python),
        ];
        TABLE
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(cat))
            .map_or(Category::Other, |&(_, c)| c)
    }
}

/// Source and destination memory of a Kineto copy name,
/// `Memcpy HtoD (Pageable -> Device)`.
fn mem_kinds(name: &str) -> (MemKind, MemKind) {
    let inner = name
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner);
    match inner.and_then(|i| i.split_once("->")) {
        Some((a, b)) => (MemKind::parse(a.trim()), MemKind::parse(b.trim())),
        None => (MemKind::Unknown, MemKind::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_memory_kinds() {
        assert_eq!(
            mem_kinds("Memcpy HtoD (Pageable -> Device)"),
            (MemKind::Pageable, MemKind::Device)
        );
        assert_eq!(
            mem_kinds("Memcpy DtoH (Device -> Pinned)"),
            (MemKind::Device, MemKind::Pinned)
        );
        assert_eq!(mem_kinds("Memcpy DtoD"), (MemKind::Unknown, MemKind::Unknown));
    }
}

/// `name` without ` at 0x<hex>` object addresses, written into `scratch`;
/// None when it has none (the common case: no copy).
fn without_addresses<'s>(name: &str, scratch: &'s mut String) -> Option<&'s str> {
    const MARK: &str = " at 0x";
    name.find(MARK)?;
    scratch.clear();
    let mut rest = name;
    while let Some(i) = rest.find(MARK) {
        scratch.push_str(&rest[..i]);
        let after = &rest[i + MARK.len()..];
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 0 {
            scratch.push_str(MARK);
        }
        rest = &after[hex..];
    }
    scratch.push_str(rest);
    Some(scratch.as_str())
}

#[cfg(test)]
mod host_name_tests {
    use super::without_addresses;

    #[test]
    fn addresses_dropped() {
        let mut s = String::new();
        assert_eq!(
            without_addresses(
                "<built-in method sort of numpy.ndarray object at 0x7fcd5fd77750>",
                &mut s
            ),
            Some("<built-in method sort of numpy.ndarray object>")
        );
        assert_eq!(without_addresses("host_work.py(15): python_busy", &mut s), None);
        assert_eq!(without_addresses("x at 0xzz", &mut s), Some("x at 0xzz"));
    }
}
