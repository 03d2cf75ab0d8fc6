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
    ApiCall, ApiKind, CopyKind, Device, Kernel, KernelOperator, MemKind, Memcpy, Memset, NameId, Ns,
    Operator, Range, RangeKind, Thread, Trace,
};

/// The name PyTorch gives its step markers (`ProfilerStep#12`).
const STEP_PREFIX: &str = "ProfilerStep#";
/// How the window code shows the step markers as one iteration name.
const STEP_RANGE: &str = "ProfilerStep#*";

/// GPU rows get their host process at the end; until then, this.
const PID_UNKNOWN: u32 = u32::MAX;

#[derive(Default)]
struct Counts {
    unreadable: u64,
    begin_end: u64,
    gpu_annotations: u64,
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
    scratch: String,
    counts: Counts,
    /// Complete events' spans and ids.
    rows: RowCheck,
    schema_version: Option<String>,
    cupti_version: Option<String>,
    devices: Vec<Device>,
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
            scratch: String::new(),
            counts: Counts::default(),
            rows: RowCheck::new("complete ('X') events"),
            schema_version: None,
            cupti_version: None,
            devices: Vec::new(),
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
        match cat {
            "kernel" => self.kernel(e),
            "gpu_memcpy" => self.memcpy(e),
            "gpu_memset" => self.memset(e),
            "cuda_runtime" | "cuda_driver" => self.api(e),
            "user_annotation" => self.range(e),
            "cpu_op" => self.cpu_op(e),
            "gpu_user_annotation" => self.counts.gpu_annotations += 1,
            _ => {}
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
        if let Some(ext) = e.args.as_ref().and_then(|a| a.external_id.0) {
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
        self.trace.ranges.push(Range {
            start,
            end,
            name,
            thread,
            kind: RangeKind::PushPop,
        });
    }

    fn cpu_op(&mut self, e: &Event) {
        // Older PyTorch files its step markers as operators.
        if e.name.as_str().is_some_and(|n| n.starts_with(STEP_PREFIX)) {
            return self.range(e);
        }
        let Some(args) = &e.args else { return };
        let (Some(dims), Int(Some(ext)), Int(Some(pid)), Int(Some(tid))) =
            (args.input_dims, args.external_id, e.pid, e.tid)
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
        self.describe_source();
        self.devices();
        self.warnings();
        let t = &self.trace;
        if t.kernels.is_empty() && t.memcpys.is_empty() && t.memsets.is_empty() && t.api_calls.is_empty() {
            return Err(Error::input(
                &t.source.path,
                "PyTorch profiler trace without GPU activity or CUDA calls (profile with ProfilerActivity.CUDA)",
            ));
        }
        Ok(self.trace)
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

    fn devices(&mut self) {
        let described = std::mem::take(&mut self.devices);
        let used = !(self.trace.kernels.is_empty()
            && self.trace.memcpys.is_empty()
            && self.trace.memsets.is_empty());
        if described.is_empty() && used {
            self.trace
                .warnings
                .push("no deviceProperties: GPU names and compute capability unknown".into());
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
