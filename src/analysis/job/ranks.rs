//! One rank's share of a trace, reduced to what the job analysis compares:
//! its steps and, per step, GPU busy time split into compute and
//! communication, GPU idle time, and the communication kernels with their
//! times. A [`RankTimeline`] is small (a few numbers and the communication
//! kernels per step), so a job of many ranks never holds two traces.
//!
//! A rank is a process that ran GPU work. A file per rank (PyTorch's
//! profiler, `nsys` per process) holds one; a report of a whole node holds
//! several, told apart by the process id their GPU work carries.

use std::collections::BTreeSet;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use crate::analysis::intervals::{self, Span};
use crate::analysis::window::Window;
use crate::model::{Ns, Trace};

/// How a rank is named: by its process and, where recorded, its rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankId {
    /// The rank number in the job, when known.
    pub rank: Option<u32>,
    /// Where the rank number comes from (`distributedInfo`, `file name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_from: Option<String>,
    /// The job's size as the profiler recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world_size: Option<u32>,
    pub pid: u32,
    pub process: Option<String>,
    /// CUDA devices the process ran work on.
    pub devices: Vec<u32>,
    /// The trace file.
    pub file: String,
}

impl RankId {
    /// `rank 1 (pid 3684 python, GPU 1)`, or `pid 955 python (GPU 0)`
    /// when the capture does not say which rank the process was.
    pub fn label(&self) -> String {
        let process = match &self.process {
            Some(name) => format!("pid {} {name}", self.pid),
            None => format!("pid {}", self.pid),
        };
        let gpus = match self.devices.as_slice() {
            [] => String::new(),
            [d] => format!("GPU {d}"),
            ds => format!(
                "GPUs {}",
                ds.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(",")
            ),
        };
        let sep = if gpus.is_empty() { "" } else { ", " };
        match self.rank {
            Some(r) => format!("rank {r} ({process}{sep}{gpus})"),
            None if gpus.is_empty() => process,
            None => format!("{process} ({gpus})"),
        }
    }
}

/// Whether a communication kernel is a collective (every rank of the
/// communicator takes part) or point-to-point (send/receive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommKind {
    Collective,
    PointToPoint,
}

/// The communication library's kernels: NCCL (`ncclKernel_*`,
/// `ncclDevKernel_*`), RCCL (which keeps NCCL's names, or `rccl*`) and
/// MSCCL. `None` for anything else.
pub fn comm_kind(short_name: &str) -> Option<CommKind> {
    let lower = short_name.to_ascii_lowercase();
    let comm = ["nccl", "rccl", "msccl"].iter().any(|p| lower.starts_with(p));
    if !comm {
        return None;
    }
    let p2p = ["sendrecv", "_send", "_recv"].iter().any(|w| lower.contains(w));
    Some(if p2p {
        CommKind::PointToPoint
    } else {
        CommKind::Collective
    })
}

/// One communication kernel of a step, on the rank's own clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommKernel {
    /// Index into [`RankTimeline::comm_names`].
    pub name: u32,
    pub start: Ns,
    pub end: Ns,
}

/// One step of one rank.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StepSample {
    pub start: Ns,
    pub end: Ns,
    /// Union of the rank's GPU work in the step (kernels, copies, memsets).
    pub busy: Ns,
    /// Union of its non-communication GPU work.
    pub compute: Ns,
    /// Union of its communication kernels.
    pub comm: Ns,
    pub comm_kernels: Vec<CommKernel>,
    /// Compute and communication as drawn in the lane chart: unions with
    /// gaps under 1/1000 of the step closed, so a step stays a few hundred
    /// segments.
    pub compute_spans: Vec<Span>,
}

/// What the job analysis keeps of one rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankTimeline {
    pub id: RankId,
    /// The iteration range name, if the steps are iterations.
    pub step_name: Option<String>,
    /// The capture clock's zero in UTC ns, when recorded.
    pub clock_origin: Option<Ns>,
    pub steps: Vec<StepSample>,
    /// Names of the communication kernels (short names).
    pub comm_names: Vec<String>,
    pub comm_kinds: Vec<CommKind>,
    /// Non-communication kernel time in the steps, by short name.
    pub kernel_time: Vec<(String, Ns)>,
}

/// The processes of `trace` that ran GPU work, in pid order.
pub fn gpu_processes(trace: &Trace) -> Vec<u32> {
    let pids: BTreeSet<u32> = (trace.kernels.iter().map(|k| k.pid))
        .chain(trace.memcpys.iter().map(|m| m.pid))
        .chain(trace.memsets.iter().map(|m| m.pid))
        .collect();
    pids.into_iter().collect()
}

/// The rank number a file name states (`ddp_rank1.sqlite`,
/// `rank-3.pt.trace.json`; nsys `-o name_rank%q{RANK}` writes such names).
pub fn rank_in_file_name(path: &str) -> Option<u32> {
    let name = std::path::Path::new(path)
        .file_name()?
        .to_string_lossy()
        .to_ascii_lowercase();
    let bytes = name.as_bytes();
    let mut found = None;
    let mut from = 0;
    while let Some(i) = name[from..].find("rank") {
        let at = from + i;
        from = at + 4;
        if at > 0 && bytes[at - 1].is_ascii_alphabetic() {
            continue;
        }
        let rest = name[at + 4..].trim_start_matches(['-', '_']);
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(n) = digits.parse::<u32>() {
            if found.is_some_and(|f| f != n) {
                return None;
            }
            found = Some(n);
        }
    }
    found
}

/// The ranks of one trace: one [`RankTimeline`] per process with GPU work.
/// `window` is the trace's analysis window; a process's steps are the
/// window's iterations on its own threads (all of the window when it has
/// no iterations of its own).
pub fn timelines(trace: &Trace, window: &Window) -> Vec<RankTimeline> {
    let pids = gpu_processes(trace);
    let single = pids.len() == 1;
    pids.iter()
        .map(|&pid| timeline(trace, window, pid, single))
        .collect()
}

fn timeline(trace: &Trace, window: &Window, pid: u32, single: bool) -> RankTimeline {
    let path = trace.source.path.clone();
    // A recorded rank describes the file's process; with several processes
    // in one file it cannot say which.
    let recorded = trace.source.distributed.as_ref();
    let (rank, rank_from) = match (single, recorded.and_then(|d| d.rank)) {
        (true, Some(r)) => (Some(r), Some("distributedInfo".to_string())),
        (true, None) => match rank_in_file_name(&path) {
            Some(r) => (Some(r), Some("file name".to_string())),
            None => (None, None),
        },
        (false, _) => (None, None),
    };
    let devices: BTreeSet<u32> = (trace.kernels.iter().filter(|k| k.pid == pid).map(|k| k.device))
        .chain(trace.memcpys.iter().filter(|m| m.pid == pid).map(|m| m.device))
        .collect();
    let id = RankId {
        rank,
        rank_from,
        world_size: recorded.and_then(|d| d.world_size),
        pid,
        process: trace.process_name(pid).map(str::to_string),
        devices: devices.into_iter().collect(),
        file: path,
    };

    // GPU work of this process: (start, end, communication name index).
    let mut comm_names: Vec<String> = Vec::new();
    let mut comm_kinds: Vec<CommKind> = Vec::new();
    let mut comm_index: HashMap<u32, Option<u32>> = HashMap::new();
    let mut ops: Vec<(Ns, Ns, Option<u32>, Option<u32>)> = Vec::new();
    for k in trace.kernels.iter().filter(|k| k.pid == pid) {
        let c = *comm_index.entry(k.short_name).or_insert_with(|| {
            let name = trace.name(k.short_name);
            comm_kind(name).map(|kind| {
                comm_names.push(name.to_string());
                comm_kinds.push(kind);
                (comm_names.len() - 1) as u32
            })
        });
        ops.push((k.start, k.end, c, Some(k.short_name)));
    }
    ops.extend(
        trace
            .memcpys
            .iter()
            .filter(|m| m.pid == pid)
            .map(|m| (m.start, m.end, None, None)),
    );
    ops.extend(
        trace
            .memsets
            .iter()
            .filter(|m| m.pid == pid)
            .map(|m| (m.start, m.end, None, None)),
    );
    ops.sort_unstable_by_key(|o| (o.0, o.1));

    let pid_of = |thread: u32| trace.threads.get(thread as usize).map(|t| t.pid);
    let mut bounds: Vec<Span> = window
        .iterations
        .iter()
        .filter(|i| i.range.is_some() && pid_of(i.thread) == Some(pid))
        .map(|i| (i.start, i.end))
        .collect();
    let step_name = if bounds.is_empty() {
        // No iterations of its own: the span of its GPU work is one step.
        let first = ops.first().map(|o| o.0);
        let last = ops.iter().map(|o| o.1).max();
        if let (Some(a), Some(b)) = (first, last) {
            bounds.push((a, b));
        }
        None
    } else {
        window.iteration_name.clone()
    };
    bounds.sort_unstable();

    let mut kernel_time: HashMap<u32, Ns> = HashMap::new();
    let steps = bounds
        .iter()
        .map(|&(s, e)| {
            let lo = ops.partition_point(|o| o.0 < s);
            let hi = lo + ops[lo..].partition_point(|o| o.0 < e);
            let clip = |o: &(Ns, Ns, Option<u32>, Option<u32>)| (o.0.max(s), o.1.min(e));
            let slice = &ops[lo..hi];
            let busy = intervals::union_sorted(slice.iter().map(clip));
            let compute = intervals::union_sorted(slice.iter().filter(|o| o.2.is_none()).map(clip));
            let comm = intervals::union_sorted(slice.iter().filter(|o| o.2.is_some()).map(clip));
            for o in slice.iter().filter(|o| o.2.is_none()) {
                if let Some(n) = o.3 {
                    *kernel_time.entry(n).or_default() += clip(o).1 - clip(o).0;
                }
            }
            let gap = ((e - s) / 1000).max(1);
            StepSample {
                start: s,
                end: e,
                busy: intervals::total(&busy),
                compute: intervals::total(&compute),
                comm: intervals::total(&comm),
                comm_kernels: slice
                    .iter()
                    .filter_map(|o| {
                        o.2.map(|name| CommKernel {
                            name,
                            start: o.0,
                            end: o.1,
                        })
                    })
                    .collect(),
                compute_spans: close_gaps(&compute, gap),
            }
        })
        .collect();
    let mut kernel_time: Vec<(String, Ns)> = kernel_time
        .into_iter()
        .map(|(n, t)| (trace.names.get(n).to_string(), t))
        .collect();
    kernel_time.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    RankTimeline {
        id,
        step_name,
        clock_origin: trace.source.clock_origin_ns,
        steps,
        comm_names,
        comm_kinds,
        kernel_time,
    }
}

/// Merge spans separated by less than `gap`.
fn close_gaps(spans: &[Span], gap: Ns) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for &(s, e) in spans {
        match out.last_mut() {
            Some(last) if s - last.1 < gap => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communication_kernels() {
        assert_eq!(
            comm_kind("ncclDevKernel_AllReduce_Sum_f32_RING_LL"),
            Some(CommKind::Collective)
        );
        assert_eq!(
            comm_kind("ncclKernel_AllGather_RING_LL_Sum_int8_t"),
            Some(CommKind::Collective)
        );
        assert_eq!(comm_kind("ncclDevKernel_SendRecv"), Some(CommKind::PointToPoint));
        assert_eq!(
            comm_kind("ncclKernel_SendRecv_RING_SIMPLE_Sum_int8_t"),
            Some(CommKind::PointToPoint)
        );
        assert_eq!(comm_kind("ampere_sgemm_128x64_nn"), None);
        assert_eq!(comm_kind("my_nccl_like_kernel"), None);
    }

    #[test]
    fn rank_from_file_names() {
        assert_eq!(rank_in_file_name("/x/ddp_slow_rank1.sqlite"), Some(1));
        assert_eq!(rank_in_file_name("rank-12.pt.trace.json"), Some(12));
        assert_eq!(rank_in_file_name("sampled_rank_0.json.gz"), Some(0));
        assert_eq!(rank_in_file_name("frank3.json"), None);
        assert_eq!(rank_in_file_name("trace.json"), None);
        assert_eq!(rank_in_file_name("rank1_vs_rank2.json"), None);
    }

    #[test]
    fn labels() {
        let mut id = RankId {
            rank: Some(1),
            rank_from: None,
            world_size: None,
            pid: 3684,
            process: Some("python".into()),
            devices: vec![1],
            file: "f".into(),
        };
        assert_eq!(id.label(), "rank 1 (pid 3684 python, GPU 1)");
        id.rank = None;
        assert_eq!(id.label(), "pid 3684 python (GPU 1)");
        id.devices.clear();
        id.process = None;
        assert_eq!(id.label(), "pid 3684");
    }
}
