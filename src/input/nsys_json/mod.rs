//! Nsight Systems JSON exports (`nsys export --type json`).
//!
//! One JSON object per line: first the string table (`{"data": [...]}`,
//! every `*Name`/`name` id indexes it), then one record per line keyed by
//! its kind, in capture order, and last the thread names
//! (`{"data": [{"nameIdx", "globalTid"}, ...]}`):
//!
//! ```text
//! {"Type":79,"CudaEvent":{"startNs":"...","endNs":"...","correlationId":1514,"deviceId":0,
//!   "streamId":"7","globalPid":"...","kernel":{"demangledName":"860","shortName":"861",...}}}
//! {"Type":80,"CudaEvent":{..., "memcpy":{"sizebytes":"4194304","copyKind":"1","srcKind":0,"dstKind":2}}}
//! {"Type":48,"TraceProcessEvent":{"startNs":...,"eventClass":0,"name":"773","globalTid":"..."}}
//! {"Type":59,"NvtxEvent":{"Timestamp":...,"EndTimestamp":...,"Text":"infer","GlobalTid":"..."}}
//! ```
//!
//! The rows are the same as the SQLite export's tables (`CudaEvent` kinds
//! = CUPTI_ACTIVITY_KIND_{KERNEL,MEMCPY,MEMSET,SYNCHRONIZATION}, CUDA
//! `TraceProcessEvent`s = CUPTI_ACTIVITY_KIND_RUNTIME, `NvtxEvent` =
//! NVTX_EVENTS) and are read with the same rules, so both exports of one
//! capture give the same model. Lines are streamed one at a time. The JSON
//! export has no GPU descriptions and no export metadata.

pub mod enums;

use hashbrown::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::input::gzip;
use crate::input::json_stream::JsonStream;
use crate::input::kineto::event::{Int, Text};
use crate::input::kineto::{contains, trim_start};
use crate::input::nsys_ids::{self, global_pid};
use crate::input::{InputFormat, Reader};
use crate::model::build::RowCheck;
use crate::model::{
    ApiCall, ApiKind, DEFAULT_DOMAIN, Kernel, Memcpy, Memset, NameId, Range, RangeKind, Trace,
};
use crate::progress::Progress;

pub struct NsysJson;

impl Reader for NsysJson {
    fn format(&self) -> InputFormat {
        InputFormat::NsysJson
    }

    fn sniff(&self, _path: &Path, head: &[u8]) -> bool {
        sniff(head)
    }

    fn read(&self, path: &Path, progress: &Progress) -> Result<Trace> {
        let opened = gzip::open(path)?;
        let gz = opened.gzip;
        let mut stream = JsonStream::new(opened.reader);
        let mut loader = Loader::new(path);
        progress.stage("reading nsys JSON records", None);
        let mut line_no: u64 = 0;
        loop {
            let line = match stream.line() {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(crate::input::json_stream::StreamError::Io(e)) if gz => {
                    return Err(Error::input(path, gzip::problem(&e)));
                }
                Err(e) => return Err(Error::input(path, e.to_string())),
            };
            line_no += 1;
            let first = trim_start(line).first().copied();
            if first.is_none() {
                continue;
            }
            // serde reads a JSON array as a struct's fields in order: a
            // line that is valid JSON but not an object is no record.
            if first != Some(b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok() {
                loader.bad_lines += 1;
                continue;
            }
            match serde_json::from_slice::<Line>(line) {
                Ok(rec) => loader.record(rec, line_no == 1),
                Err(e) if e.is_data() => loader.bad_lines += 1,
                Err(e) => {
                    return Err(Error::input(
                        path,
                        format!(
                            "line {line_no} is not a JSON object ({e}): not an nsys JSON export, or a damaged one"
                        ),
                    ));
                }
            }
            if line_no % (1 << 16) == 0 {
                progress.inc(1 << 16);
            }
        }
        if line_no == 0 {
            return Err(Error::input(path, "the file is empty"));
        }
        loader.finish()
    }
}

/// The export starts with its string table: `{"data":[`.
pub fn sniff(head: &[u8]) -> bool {
    let t = trim_start(head);
    let Some(rest) = t.strip_prefix(b"{") else {
        return false;
    };
    let rest = trim_start(rest);
    let Some(rest) = rest.strip_prefix(b"\"data\"") else {
        return false;
    };
    let rest = trim_start(rest);
    let Some(rest) = rest.strip_prefix(b":") else {
        return false;
    };
    trim_start(rest).starts_with(b"[") && !contains(head, b"\"traceEvents\"")
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Line<'a> {
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default, borrow)]
    CudaEvent: Option<CudaEvent<'a>>,
    #[serde(default)]
    TraceProcessEvent: Option<ApiEvent>,
    #[serde(default, borrow)]
    NvtxEvent: Option<NvtxEvent<'a>>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct CudaEvent<'a> {
    #[serde(default)]
    startNs: Int,
    #[serde(default)]
    endNs: Int,
    #[serde(default)]
    correlationId: Int,
    #[serde(default)]
    deviceId: Int,
    #[serde(default)]
    streamId: Int,
    #[serde(default)]
    globalPid: Int,
    #[serde(default)]
    kernel: Option<KernelRec>,
    #[serde(default, borrow)]
    memcpy: Option<MemcpyRec<'a>>,
    #[serde(default)]
    memset: Option<MemsetRec>,
    #[serde(default, borrow)]
    sync: Option<SyncRec<'a>>,
    /// A graph launch recorded whole (`--cuda-graph-trace=graph`).
    #[serde(default)]
    graph: Option<GraphRec>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct GraphRec {
    #[serde(default)]
    graphId: Int,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct KernelRec {
    #[serde(default)]
    demangledName: Int,
    #[serde(default)]
    shortName: Int,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct MemcpyRec<'a> {
    #[serde(default)]
    sizebytes: Int,
    #[serde(default, borrow)]
    copyKind: Option<&'a RawValue>,
    #[serde(default, borrow)]
    srcKind: Option<&'a RawValue>,
    #[serde(default, borrow)]
    dstKind: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct MemsetRec {
    #[serde(default)]
    sizebytes: Int,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct SyncRec<'a> {
    #[serde(default, borrow)]
    syncType: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct ApiEvent {
    #[serde(default)]
    startNs: Int,
    #[serde(default)]
    endNs: Int,
    #[serde(default)]
    correlationId: Int,
    #[serde(default)]
    eventClass: Int,
    #[serde(default)]
    name: Int,
    #[serde(default)]
    globalTid: Int,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct NvtxEvent<'a> {
    #[serde(default)]
    Type: Int,
    #[serde(default)]
    Timestamp: Int,
    #[serde(default)]
    EndTimestamp: Int,
    #[serde(default, borrow)]
    Text: Text<'a>,
    #[serde(default)]
    TextId: Int,
    #[serde(default)]
    GlobalTid: Int,
    #[serde(default)]
    DomainId: Int,
}

#[derive(Deserialize)]
struct ThreadNameRec {
    #[serde(default, rename = "nameIdx")]
    name: Int,
    #[serde(default, rename = "globalTid")]
    tid: Int,
}

/// Unusable rows per kind of record, reported once each.
struct Checks {
    kernel: RowCheck,
    memcpy: RowCheck,
    graph: RowCheck,
    memset: RowCheck,
    api: RowCheck,
    nvtx: RowCheck,
}

impl Default for Checks {
    fn default() -> Checks {
        Checks {
            kernel: RowCheck::new("kernel records"),
            memcpy: RowCheck::new("memcpy records"),
            graph: RowCheck::new("CUDA graph records"),
            memset: RowCheck::new("memset records"),
            api: RowCheck::new("CUDA API records"),
            nvtx: RowCheck::new("NVTX records"),
        }
    }
}

struct Loader {
    trace: Trace,
    strings: Vec<NameId>,
    threads: HashMap<i64, u32>,
    thread_names: Vec<(i64, i64)>,
    api_kinds: HashMap<i64, (NameId, ApiKind)>,
    /// Calls classified Other that a synchronization record may turn
    /// into Sync, with their global thread id, kept until the end.
    pending: Vec<(ApiCall, Option<i64>)>,
    blocking: HashSet<u32>,
    checks: Checks,
    bad_lines: u64,
    saw_strings: bool,
    /// Graph launches recorded whole.
    graphs: crate::input::cuda_graph::Graphs,
    domains: crate::input::nvtx_domain::Domains,
}

impl Loader {
    fn new(path: &Path) -> Loader {
        let mut trace = Trace::default();
        trace.source.path = path.display().to_string();
        trace.source.profiler_version = Some("NVIDIA Nsight Systems (JSON export)".into());
        Loader {
            trace,
            strings: Vec::new(),
            threads: HashMap::new(),
            thread_names: Vec::new(),
            api_kinds: HashMap::new(),
            pending: Vec::new(),
            blocking: HashSet::new(),
            checks: Checks::default(),
            bad_lines: 0,
            saw_strings: false,
            graphs: Default::default(),
            domains: Default::default(),
        }
    }

    /// The model name of string-table id `id` (a visible stand-in when the
    /// table lacks it, as for SQLite).
    fn string(&mut self, id: Option<i64>) -> Option<NameId> {
        let id = id?;
        if let Some(&n) = usize::try_from(id).ok().and_then(|i| self.strings.get(i)) {
            return Some(n);
        }
        Some(self.trace.names.intern(&format!("<string #{id}>")))
    }

    fn thread(&mut self, global_tid: Option<i64>) -> u32 {
        let key = global_tid.unwrap_or(-1);
        if let Some(&t) = self.threads.get(&key) {
            return t;
        }
        let idx = self.trace.threads.len() as u32;
        self.trace.threads.push(nsys_ids::thread(global_tid));
        self.threads.insert(key, idx);
        idx
    }

    fn record(&mut self, line: Line, first: bool) {
        if let Some(data) = line.data {
            return self.data(data.get(), first);
        }
        if let Some(c) = line.CudaEvent {
            return self.cuda(c);
        }
        if let Some(a) = line.TraceProcessEvent {
            return self.api(a);
        }
        if let Some(n) = line.NvtxEvent {
            self.nvtx(n);
        }
    }

    /// A `data` line: the string table, or the thread names.
    fn data(&mut self, raw: &str, first: bool) {
        let body = trim_start(raw.as_bytes());
        let body = trim_start(body.strip_prefix(b"[").unwrap_or(body));
        if body.starts_with(b"{") {
            if let Ok(rows) = serde_json::from_str::<Vec<ThreadNameRec>>(raw) {
                self.thread_names
                    .extend(rows.iter().filter_map(|r| Some((r.tid.0?, r.name.0?))));
            }
            return;
        }
        if let Ok(strings) = serde_json::from_str::<Vec<Text>>(raw) {
            if !first && self.saw_strings {
                self.trace
                    .warnings
                    .push("more than one string table: the later one replaces the first".into());
            }
            self.saw_strings = true;
            let names = &mut self.trace.names;
            self.strings = strings
                .iter()
                .map(|s| names.intern(s.as_str().unwrap_or("")))
                .collect();
        }
    }

    fn cuda(&mut self, c: CudaEvent) {
        if let Some(s) = &c.sync {
            if sync_blocks(s) {
                self.blocking
                    .insert(u32::try_from(c.correlationId.0.unwrap_or(0)).unwrap_or(0));
            }
            return;
        }
        let checks = &mut self.checks;
        let (check, bytes) = if c.kernel.is_some() {
            (&mut checks.kernel, None)
        } else if let Some(m) = &c.memcpy {
            (&mut checks.memcpy, m.sizebytes.0)
        } else if c.graph.is_some() {
            (&mut checks.graph, None)
        } else if let Some(m) = &c.memset {
            (&mut checks.memset, m.sizebytes.0)
        } else {
            return;
        };
        let Some((start, end)) = check.span(c.startNs.0, c.endNs.0) else {
            return;
        };
        let device = check.u32(c.deviceId.0);
        let stream = check.u32(c.streamId.0);
        let correlation = check.u32(c.correlationId.0);
        let bytes = check.u64(bytes);
        let pid = c.globalPid.0.map_or(0, global_pid);
        // A kernel row: a kernel, or a graph launch recorded whole.
        let kernel = |(name, short_name)| Kernel {
            start,
            end,
            name,
            short_name,
            device,
            stream,
            pid,
            correlation,
        };
        if let Some(k) = &c.kernel {
            let Some(name) = self.string(k.demangledName.0) else {
                return self.checks.kernel.null();
            };
            let short_name = self.string(k.shortName.0).unwrap_or(name);
            self.trace.kernels.push(kernel((name, short_name)));
        } else if let Some(m) = &c.memcpy {
            self.trace.memcpys.push(Memcpy {
                start,
                end,
                bytes,
                device,
                stream,
                pid,
                correlation,
                kind: enums::copy_kind(m.copyKind.map(|r| r.get())),
                src: enums::mem_kind(m.srcKind.map(|r| r.get())),
                dst: enums::mem_kind(m.dstKind.map(|r| r.get())),
            });
        } else if let Some(g) = &c.graph {
            let names = self.graphs.launch(&mut self.trace.names, g.graphId.0);
            self.trace.kernels.push(kernel(names));
        } else if c.memset.is_some() {
            self.trace.memsets.push(Memset {
                start,
                end,
                bytes,
                device,
                stream,
                pid,
                correlation,
            });
        }
    }

    fn api(&mut self, a: ApiEvent) {
        if !a
            .eventClass
            .0
            .is_some_and(|c| enums::EVENT_CLASS_CUDA_API.contains(&c))
        {
            return;
        }
        let Some((start, end)) = self.checks.api.span(a.startNs.0, a.endNs.0) else {
            return;
        };
        let Some(name_id) = a.name.0 else {
            return self.checks.api.null();
        };
        let (name, kind) = match self.api_kinds.get(&name_id) {
            Some(&v) => v,
            None => {
                let name = self.string(Some(name_id)).unwrap_or(0);
                let v = (name, ApiKind::classify(self.trace.names.get(name)));
                self.api_kinds.insert(name_id, v);
                v
            }
        };
        let correlation = self.checks.api.u32(a.correlationId.0);
        let call = ApiCall {
            start,
            end,
            name,
            thread: 0,
            correlation,
            kind,
        };
        if kind == ApiKind::Other {
            // Sync records may come later in the file: decide at the end.
            if correlation != 0 {
                self.pending.push((call, a.globalTid.0));
            } else {
                self.trace.other_api_calls += 1;
            }
            return;
        }
        let thread = self.thread(a.globalTid.0);
        self.trace.api_calls.push(ApiCall { thread, ..call });
    }

    fn nvtx(&mut self, n: NvtxEvent) {
        if n.Type.0 == Some(enums::NVTX_DOMAIN_CREATE) {
            if let (Some(id), Some(text)) = (n.DomainId.0, n.Text.as_str()) {
                self.domains.create(n.GlobalTid.0.map_or(0, global_pid), id, text);
            }
            return;
        }
        let kind = match n.Type.0 {
            Some(enums::NVTX_PUSH_POP_RANGE) => RangeKind::PushPop,
            Some(enums::NVTX_START_END_RANGE) => RangeKind::StartEnd,
            _ => return, // marks, domains, registrations
        };
        // A range without an end was still open when the capture stopped.
        if n.Timestamp.0.is_some() && n.EndTimestamp.0.is_none() {
            return self.checks.nvtx.unfinished();
        }
        let Some((start, end)) = self.checks.nvtx.span(n.Timestamp.0, n.EndTimestamp.0) else {
            return;
        };
        let name = match (n.Text.as_str(), n.TextId.0) {
            (Some(t), _) => self.trace.names.intern(t),
            (None, Some(id)) => self.string(Some(id)).unwrap_or(0),
            (None, None) => self.trace.names.intern("<unnamed range>"),
        };
        let thread = self.thread(n.GlobalTid.0);
        let pid = n.GlobalTid.0.map_or(0, global_pid);
        self.domains.range(self.trace.ranges.len(), pid, n.DomainId.0);
        self.trace.ranges.push(Range {
            start,
            end,
            name,
            thread,
            kind,
            domain: DEFAULT_DOMAIN,
        });
    }

    fn finish(mut self) -> Result<Trace> {
        if !self.saw_strings {
            return Err(Error::input(
                &self.trace.source.path,
                "no string table line ({\"data\": [...]}): not an nsys JSON export",
            ));
        }
        self.resolve_pending();
        std::mem::take(&mut self.domains).resolve(&mut self.trace.names, &mut self.trace.ranges);
        for (tid, name) in std::mem::take(&mut self.thread_names) {
            if let Some(&t) = self.threads.get(&tid) {
                let name = self.string(Some(name)).unwrap_or(0);
                self.trace.threads[t as usize].name = Some(self.trace.names.get(name).to_string());
            }
        }
        self.devices();
        self.warnings();
        Ok(self.trace)
    }

    /// Calls named like neither sync nor launch that a blocking
    /// synchronization record names (by correlation) become Sync, as in
    /// the SQLite reader.
    fn resolve_pending(&mut self) {
        for (call, tid) in std::mem::take(&mut self.pending) {
            if self.blocking.contains(&{ call.correlation }) {
                let thread = self.thread(tid);
                self.trace.api_calls.push(ApiCall {
                    thread,
                    kind: ApiKind::Sync,
                    ..call
                });
            } else {
                self.trace.other_api_calls += 1;
            }
        }
    }

    fn devices(&mut self) {
        let used = !(self.trace.kernels.is_empty()
            && self.trace.memcpys.is_empty()
            && self.trace.memsets.is_empty());
        if used {
            self.trace.warnings.push(
                "the nsys JSON export describes no GPUs: GPU names and compute capability unknown (the SQLite export has them)"
                    .into(),
            );
        }
        crate::model::build::fill_devices(&mut self.trace, Vec::new());
    }

    fn warnings(&mut self) {
        let w = &mut self.trace.warnings;
        let c = &self.checks;
        for check in [&c.kernel, &c.memcpy, &c.graph, &c.memset, &c.api, &c.nvtx] {
            check.report(w);
        }
        if self.bad_lines > 0 {
            w.push(format!(
                "{} line(s) with fields of unexpected types skipped",
                self.bad_lines
            ));
        }
        w.extend(self.graphs.warning("CudaEvent graph records"));
        if self.trace.kernels.is_empty() {
            w.push("no CUDA kernel records: no GPU kernels in this capture".into());
        }
        if self.trace.api_calls.is_empty() && self.trace.other_api_calls == 0 {
            w.push("without CUDA API calls, GPU idle time cannot be split into sync/launch/host".into());
        }
        if self.trace.ranges.is_empty() {
            w.push("without NVTX ranges there are no iterations or phases".into());
        }
    }
}

fn sync_blocks(s: &SyncRec) -> bool {
    enums::sync_blocks_host(s.syncType.map(|r| r.get()))
}
