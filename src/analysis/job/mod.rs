//! A job of many ranks: the k-th step of every rank side by side, the step
//! time (the slowest rank's), each rank's lateness, the straggler and what
//! it did differently, and communication split into transfer and waiting.
//!
//! A collective cannot move data before every rank has arrived, so the
//! matched kernels of one collective (the j-th kernel of that name in step
//! k on every rank) split into waiting and transfer at the last arrival:
//!
//! ```text
//!  rank 0   [compute]   [~~~~~~ wait ~~~~~~|== transfer ==]
//!  rank 1   [~~ host work ~~~~~~~][compute][== transfer ==]
//!                                          ^ last rank arrives
//!  rank 0's wait = last arrival - its own kernel start; rank 1 is late by
//!  the same amount: its lateness is what the others wait for.
//! ```
//!
//! Ranks from separate captures are put on one clock by each capture's
//! recorded start in UTC; the ends of matched collectives (which finish
//! together) check it, and when they disagree by more than
//! [`CLOCK_TOLERANCE_NS`] the clocks are aligned on those ends instead.

pub mod ranks;

use serde::{Deserialize, Serialize};

use crate::analysis::intervals::Span;
use crate::analysis::iterations::{self, IterationStats};
use crate::model::Ns;
pub use ranks::{CommKind, RankId, RankTimeline};

/// Version of the `job.json` contract.
pub const JOB_SCHEMA_VERSION: u32 = 1;

/// Ends of one collective that differ by more than this mean the clocks
/// disagree (a ring all-reduce ends on every rank within microseconds).
pub const CLOCK_TOLERANCE_NS: Ns = 200_000;

/// Clocks further apart than this are not a clock error: the captures are
/// of different runs.
pub const MAX_CLOCK_ERROR_NS: Ns = 1_000_000_000;

/// A rank is the straggler when it arrives at the collectives this much
/// of a step later than the first rank, on average, and last at three
/// collectives of four or more (ranks that take turns being late are
/// jitter, not a straggler).
pub const STRAGGLER_SHARE: f64 = 0.05;

/// The job report (`job.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobReport {
    pub schema_version: u32,
    pub generator: String,
    /// The iteration range the steps are, when they are iterations.
    pub step_name: Option<String>,
    /// Steps compared: the fewest any rank has.
    pub steps: usize,
    pub ranks: Vec<RankRow>,
    /// The job's step time (the slowest rank's, per step).
    pub step_time: Option<IterationStats>,
    pub step_rows: Vec<StepRow>,
    pub straggler: Option<Straggler>,
    /// Why no straggler is named, when none is.
    pub no_straggler: Option<String>,
    pub clock: ClockInfo,
    /// The step drawn in the lane chart.
    pub lanes: Option<Lanes>,
    pub warnings: Vec<String>,
}

/// One rank, per step (means over the compared steps, ns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankRow {
    pub id: RankId,
    pub label: String,
    /// Steps this rank has (before trimming to the common count).
    pub steps: usize,
    pub step_ns: Ns,
    /// GPU busy with anything but communication.
    pub compute_ns: Ns,
    /// Communication kernels (union).
    pub comm_ns: Ns,
    /// Of the matched collective kernels' time: before the last rank arrived.
    pub wait_ns: Ns,
    /// Of the matched collective kernels' time: after the last rank arrived.
    pub transfer_ns: Ns,
    /// Communication kernels that could not be matched across ranks.
    pub unmatched_comm_ns: Ns,
    /// GPU idle (no kernel, copy or memset of this rank): host time.
    pub idle_ns: Ns,
    /// How much later than the first rank it starts the matched
    /// collectives, summed over a step: the wait it causes.
    pub late_ns: Ns,
    /// Clock shift applied to this rank (ns added to its times).
    pub clock_shift_ns: Ns,
}

/// The k-th step of every rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRow {
    pub index: usize,
    /// Each rank's duration of this step, in rank order.
    pub rank_ns: Vec<Ns>,
    /// The slowest rank's duration: the job's step time.
    pub step_ns: Ns,
    /// Index (into `ranks`) of the slowest rank.
    pub slowest: usize,
    /// Index of the rank that arrived last at this step's collectives.
    pub latest: Option<usize>,
}

/// The rank the others wait for, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Straggler {
    /// Index into `ranks`.
    pub rank: usize,
    pub label: String,
    /// Its lateness per step (ns).
    pub late_ns: Ns,
    /// In how many of the steps it arrived last (for matched collectives)
    /// or was slowest.
    pub last_in_steps: usize,
    /// At how many of the matched collectives it arrived last.
    pub last_at_collectives: usize,
    pub cause: Cause,
    /// The cause in words.
    pub summary: String,
    /// Per-step excess over the other ranks' median, by component.
    pub excess: Excess,
}

/// What the straggler did differently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Cause {
    /// More GPU idle time: host work (data loading, Python, syncs).
    Host,
    /// A longer kernel.
    Kernel { name: String },
    /// More time waiting in a collective (of another group).
    Waiting,
    /// Slower transfers.
    Transfer,
    /// No component explains it.
    Unknown,
}

/// The straggler's per-step excess over the median of the other ranks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Excess {
    pub idle_ns: Ns,
    pub compute_ns: Ns,
    pub wait_ns: Ns,
    pub transfer_ns: Ns,
    /// The kernel with the largest excess, and that excess.
    pub kernel: Option<(String, Ns)>,
}

/// How the ranks were put on one clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockInfo {
    /// `one capture`, `recorded start`, `collective ends`, `none`.
    pub method: String,
    /// Median spread of the ends of matched collectives after alignment.
    pub end_spread_ns: Option<Ns>,
    /// Matched collectives (sets of one kernel per rank).
    pub matched: usize,
    /// Communication kernels left unmatched.
    pub unmatched: usize,
}

/// One step of every rank, on the common clock, for the lane chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lanes {
    pub step: usize,
    pub start: Ns,
    pub end: Ns,
    pub ranks: Vec<Lane>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    pub start: Ns,
    pub end: Ns,
    pub compute: Vec<Span>,
    /// Communication kernels: (start, last arrival, end); waiting is
    /// `start..arrival`, transfer `arrival..end` (arrival = start when
    /// unmatched).
    pub comm: Vec<(Ns, Ns, Ns)>,
}

/// Compare the ranks of one job.
pub fn analyze(mut ranks: Vec<RankTimeline>, generator: String) -> JobReport {
    let mut warnings = Vec::new();
    ranks.sort_by(|a, b| {
        (
            a.id.rank.is_none(),
            a.id.rank,
            &a.id.file,
            a.id.devices.first(),
            a.id.pid,
        )
            .cmp(&(
                b.id.rank.is_none(),
                b.id.rank,
                &b.id.file,
                b.id.devices.first(),
                b.id.pid,
            ))
    });
    check_identity(&ranks, &mut warnings);
    let n = ranks.iter().map(|r| r.steps.len()).min().unwrap_or(0);
    if ranks.iter().any(|r| r.steps.len() != n) {
        let counts: Vec<String> = ranks
            .iter()
            .map(|r| format!("{} {}", r.id.label(), r.steps.len()))
            .collect();
        warnings.push(format!(
            "the ranks have different numbers of steps ({}): the first {n} of each are compared",
            counts.join(", ")
        ));
    }
    let names: Vec<Option<&String>> = ranks.iter().map(|r| r.step_name.as_ref()).collect();
    if names.iter().any(|n| n.is_none()) && names.iter().any(|n| n.is_some()) {
        warnings.push("some ranks have iteration ranges and some do not: steps may not correspond".into());
    }

    // The common clock.
    let mut shifts = recorded_shifts(&ranks);
    let mut method = if ranks
        .iter()
        .map(|r| &r.id.file)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        <= 1
    {
        "one capture".to_string()
    } else if shifts.is_some() {
        "recorded start".to_string()
    } else {
        warnings
            .push("the captures do not record when they started: their clocks are assumed to be one".into());
        "assumed".to_string()
    };
    let mut shift = shifts.take().unwrap_or_else(|| vec![0; ranks.len()]);
    let sets = match_collectives(&ranks, n);
    if let Some(offsets) = end_offsets(&ranks, &sets, &shift) {
        let worst = offsets.iter().map(|o| o.abs()).max().unwrap_or(0);
        if worst > CLOCK_TOLERANCE_NS && worst <= MAX_CLOCK_ERROR_NS {
            warnings.push(format!(
                "by the {} clock the ends of matched collectives disagree by up to {}: the ranks are aligned on those ends instead",
                method,
                crate::text::format::ns(worst)
            ));
            for (s, o) in shift.iter_mut().zip(&offsets) {
                *s -= o;
            }
            method = "collective ends".into();
        }
    }
    let overlapping = steps_overlap(&ranks, n, &shift);
    if !overlapping && ranks.len() > 1 && n > 0 {
        warnings.push(
            "the ranks' steps do not overlap in time on the common clock: these are not one run, so waiting and transfer are not split".into(),
        );
    }

    // Wait, transfer and lateness per rank, from the matched collectives.
    let r = ranks.len();
    let mut wait = vec![0 as Ns; r];
    let mut transfer = vec![0 as Ns; r];
    let mut matched_time = vec![0 as Ns; r];
    let mut late = vec![0 as Ns; r];
    let mut step_late: Vec<Vec<Ns>> = vec![vec![0; r]; n];
    let mut arrivals: Vec<Vec<Vec<(usize, Ns)>>> = vec![vec![Vec::new(); n]; r];
    let mut spreads = Vec::new();
    let mut matched = 0;
    let mut last_at = vec![0usize; r];
    if overlapping {
        for set in &sets {
            if set.kind != CommKind::Collective && r > 2 {
                continue;
            }
            let starts: Vec<Ns> = (0..r).map(|i| kernel(&ranks, set, i).start + shift[i]).collect();
            let ends: Vec<Ns> = (0..r).map(|i| kernel(&ranks, set, i).end + shift[i]).collect();
            let last = *starts.iter().max().unwrap();
            let first = *starts.iter().min().unwrap();
            if last > first {
                if let Some(i) = starts.iter().position(|&s| s == last) {
                    last_at[i] += 1;
                }
            }
            spreads.push(ends.iter().max().unwrap() - ends.iter().min().unwrap());
            matched += 1;
            for i in 0..r {
                let dur = ends[i] - starts[i];
                let w = (last - starts[i]).clamp(0, dur);
                wait[i] += w;
                transfer[i] += dur - w;
                matched_time[i] += dur;
                late[i] += starts[i] - first;
                step_late[set.step][i] += starts[i] - first;
                arrivals[i][set.step].push((set.index[i], last - shift[i]));
            }
        }
    }
    let comm_total: Vec<Ns> = ranks
        .iter()
        .map(|rk| {
            rk.steps
                .iter()
                .take(n)
                .flat_map(|s| &s.comm_kernels)
                .map(|k| k.end - k.start)
                .sum()
        })
        .collect();
    let unmatched: usize = ranks
        .iter()
        .map(|rk| {
            rk.steps
                .iter()
                .take(n)
                .map(|s| s.comm_kernels.len())
                .sum::<usize>()
        })
        .sum::<usize>()
        - matched * r;
    if unmatched > 0 && matched > 0 {
        warnings.push(format!(
            "{unmatched} communication kernel(s) could not be matched across the ranks (a name occurring a different number of times in a step): their waiting and transfer are not split"
        ));
    }
    if sets.iter().any(|s| s.kind == CommKind::PointToPoint) && r > 2 {
        warnings.push(
            "point-to-point (send/receive) kernels are not split into waiting and transfer with more than two ranks: the peer of each is not recorded".into(),
        );
    }

    let per_step = |total: Ns| if n == 0 { 0 } else { total / n as Ns };
    let rows: Vec<RankRow> = ranks
        .iter()
        .enumerate()
        .map(|(i, rk)| {
            let steps = &rk.steps[..n];
            let sum = |f: fn(&ranks::StepSample) -> Ns| steps.iter().map(f).sum::<Ns>();
            RankRow {
                id: rk.id.clone(),
                label: rk.id.label(),
                steps: rk.steps.len(),
                step_ns: per_step(sum(|s| s.end - s.start)),
                compute_ns: per_step(sum(|s| s.compute)),
                comm_ns: per_step(sum(|s| s.comm)),
                wait_ns: per_step(wait[i]),
                transfer_ns: per_step(transfer[i]),
                unmatched_comm_ns: per_step(comm_total[i] - matched_time[i]),
                idle_ns: per_step(sum(|s| (s.end - s.start) - s.busy)),
                late_ns: per_step(late[i]),
                clock_shift_ns: shift[i],
            }
        })
        .collect();

    let step_rows: Vec<StepRow> = (0..n)
        .map(|k| {
            let rank_ns: Vec<Ns> = ranks
                .iter()
                .map(|rk| rk.steps[k].end - rk.steps[k].start)
                .collect();
            let (slowest, &step_ns) = rank_ns.iter().enumerate().max_by_key(|(_, d)| **d).unwrap();
            let latest = (matched > 0)
                .then(|| {
                    step_late[k]
                        .iter()
                        .enumerate()
                        .max_by_key(|(_, l)| **l)
                        .map(|(i, _)| i)
                })
                .flatten();
            StepRow {
                index: k,
                rank_ns,
                step_ns,
                slowest,
                latest,
            }
        })
        .collect();
    let step_durations: Vec<Ns> = step_rows.iter().map(|s| s.step_ns).collect();
    let step_time = iterations::stats(&step_durations);

    let (straggler, no_straggler) = if !overlapping && ranks.len() > 1 && n > 0 {
        (
            None,
            Some(
                "no straggler named: the ranks' steps do not overlap in time, so they are not one run"
                    .to_string(),
            ),
        )
    } else {
        name_straggler(&ranks, &rows, &step_rows, (matched, &last_at), n)
    };
    let lanes = lanes(&ranks, &step_rows, &shift, &arrivals);
    spreads.sort_unstable();
    JobReport {
        schema_version: JOB_SCHEMA_VERSION,
        generator,
        step_name: ranks.iter().find_map(|r| r.step_name.clone()),
        steps: n,
        ranks: rows,
        step_time,
        step_rows,
        straggler,
        no_straggler,
        clock: ClockInfo {
            method,
            end_spread_ns: (!spreads.is_empty()).then(|| spreads[spreads.len() / 2]),
            matched,
            unmatched,
        },
        lanes,
        warnings,
    }
}

/// Ranks named twice, or ranks of jobs of different sizes, are not one job.
fn check_identity(ranks: &[RankTimeline], warnings: &mut Vec<String>) {
    let mut seen = std::collections::BTreeMap::new();
    for r in ranks {
        if let Some(n) = r.id.rank {
            *seen.entry(n).or_insert(0) += 1;
        }
    }
    let twice: Vec<String> = seen
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(r, _)| r.to_string())
        .collect();
    if !twice.is_empty() {
        warnings.push(format!(
            "rank {} appears in more than one input: the inputs may be several runs, not one job",
            twice.join(", ")
        ));
    }
    let sizes: std::collections::BTreeSet<u32> = ranks.iter().filter_map(|r| r.id.world_size).collect();
    if sizes.len() > 1 {
        let s: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
        warnings.push(format!(
            "the inputs record different job sizes (world size {}): they are not ranks of one job",
            s.join(" and ")
        ));
    }
    if let Some(&w) = sizes.iter().next() {
        if sizes.len() == 1 && (ranks.len() as u32) < w {
            warnings.push(format!(
                "{} of the job's {w} ranks are here: the straggler is the slowest of these",
                ranks.len()
            ));
        }
    }
}

/// Shifts from each capture's recorded start, when every rank has one.
fn recorded_shifts(ranks: &[RankTimeline]) -> Option<Vec<Ns>> {
    let origins: Option<Vec<Ns>> = ranks.iter().map(|r| r.clock_origin).collect();
    let origins = origins?;
    let base = *origins.iter().min()?;
    Some(origins.iter().map(|o| o - base).collect())
}

/// One collective across the ranks: the `index[i]`-th communication kernel
/// of step `step` on rank `i`.
struct Set {
    step: usize,
    index: Vec<usize>,
    kind: CommKind,
}

fn kernel<'a>(ranks: &'a [RankTimeline], set: &Set, i: usize) -> &'a ranks::CommKernel {
    &ranks[i].steps[set.step].comm_kernels[set.index[i]]
}

/// Match communication kernels across ranks: in step k, the j-th kernel of
/// a name on every rank (NCCL requires every rank to issue a
/// communicator's collectives in the same order). A name occurring a
/// different number of times on some rank is matched up to the fewest.
fn match_collectives(ranks: &[RankTimeline], n: usize) -> Vec<Set> {
    let mut sets = Vec::new();
    if ranks.len() < 2 {
        return sets;
    }
    for k in 0..n {
        // Per rank: name -> kernel indexes in order.
        let per_rank: Vec<std::collections::BTreeMap<&str, Vec<usize>>> = ranks
            .iter()
            .map(|rk| {
                let mut m: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
                for (j, c) in rk.steps[k].comm_kernels.iter().enumerate() {
                    m.entry(rk.comm_names[c.name as usize].as_str())
                        .or_default()
                        .push(j);
                }
                m
            })
            .collect();
        for (name, first) in &per_rank[0] {
            let lists: Option<Vec<&Vec<usize>>> = per_rank.iter().map(|m| m.get(name)).collect();
            let Some(lists) = lists else { continue };
            let count = lists.iter().map(|l| l.len()).min().unwrap_or(0);
            let kind = ranks::comm_kind(name).unwrap_or(CommKind::Collective);
            for j in 0..count.min(first.len()) {
                sets.push(Set {
                    step: k,
                    index: lists.iter().map(|l| l[j]).collect(),
                    kind,
                });
            }
        }
    }
    sets
}

/// Per rank, the median offset of its collective ends from the sets'
/// median end (after `shift`); None without matched collectives.
fn end_offsets(ranks: &[RankTimeline], sets: &[Set], shift: &[Ns]) -> Option<Vec<Ns>> {
    let sets: Vec<&Set> = sets
        .iter()
        .filter(|s| s.kind == CommKind::Collective || ranks.len() == 2)
        .collect();
    if sets.is_empty() {
        return None;
    }
    let r = ranks.len();
    let mut offsets: Vec<Vec<Ns>> = vec![Vec::with_capacity(sets.len()); r];
    for set in &sets {
        let mut ends: Vec<Ns> = (0..r).map(|i| kernel(ranks, set, i).end + shift[i]).collect();
        let each = ends.clone();
        ends.sort_unstable();
        let mid = ends[r / 2];
        for i in 0..r {
            offsets[i].push(each[i] - mid);
        }
    }
    Some(
        offsets
            .into_iter()
            .map(|mut o| {
                o.sort_unstable();
                o[o.len() / 2]
            })
            .collect(),
    )
}

/// Whether every rank's compared steps overlap the others' on the common
/// clock (separate runs do not).
fn steps_overlap(ranks: &[RankTimeline], n: usize, shift: &[Ns]) -> bool {
    if n == 0 {
        return false;
    }
    let span = |i: usize| {
        let s = &ranks[i].steps[..n];
        (s[0].start + shift[i], s[n - 1].end + shift[i])
    };
    let (mut lo, mut hi) = span(0);
    for i in 1..ranks.len() {
        let (a, b) = span(i);
        lo = lo.max(a);
        hi = hi.min(b);
    }
    hi > lo
}

fn median(mut v: Vec<Ns>) -> Ns {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

fn name_straggler(
    ranks: &[RankTimeline],
    rows: &[RankRow],
    steps: &[StepRow],
    (matched, last_at): (usize, &[usize]),
    n: usize,
) -> (Option<Straggler>, Option<String>) {
    if rows.len() < 2 {
        return (None, Some("one rank: nothing to compare".into()));
    }
    if n == 0 {
        return (None, Some("no steps to compare".into()));
    }
    let mean_step = median(rows.iter().map(|r| r.step_ns).collect()).max(1);
    let fmt = crate::text::format::ns;
    // By lateness at the collectives when they are matched, else by step time.
    let (who, how_late, last_in) = if matched > 0 {
        let (i, row) = rows.iter().enumerate().max_by_key(|(_, r)| r.late_ns).unwrap();
        let last_in = steps.iter().filter(|s| s.latest == Some(i)).count();
        if (row.late_ns as f64) < STRAGGLER_SHARE * mean_step as f64 {
            return (
                None,
                Some(format!(
                    "no straggler: the latest rank ({}) reaches the collectives {} per step after the first, under {:.0}% of the {} step",
                    row.label,
                    fmt(row.late_ns),
                    STRAGGLER_SHARE * 100.0,
                    fmt(mean_step)
                )),
            );
        }
        if last_at[i] * 4 < matched * 3 {
            return (
                None,
                Some(format!(
                    "no consistent straggler: the latest rank on average ({}, {} per step) arrives last at only {} of {} collectives",
                    row.label,
                    fmt(row.late_ns),
                    last_at[i],
                    matched
                )),
            );
        }
        (i, row.late_ns, last_in)
    } else {
        let (i, row) = rows.iter().enumerate().max_by_key(|(_, r)| r.step_ns).unwrap();
        let others = median(
            rows.iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, r)| r.step_ns)
                .collect(),
        );
        let excess = row.step_ns - others;
        if (excess as f64) < STRAGGLER_SHARE * mean_step as f64 {
            return (
                None,
                Some(format!(
                    "no straggler: no matched collectives, and the slowest rank's steps ({}) are within {:.0}% of the others' ({})",
                    fmt(row.step_ns),
                    STRAGGLER_SHARE * 100.0,
                    fmt(others)
                )),
            );
        }
        let last_in = steps.iter().filter(|s| s.slowest == i).count();
        (i, excess, last_in)
    };
    let others = |f: fn(&RankRow) -> Ns| {
        median(
            rows.iter()
                .enumerate()
                .filter(|(j, _)| *j != who)
                .map(|(_, r)| f(r))
                .collect(),
        )
    };
    let me = &rows[who];
    let kernel = kernel_excess(ranks, who, n);
    let excess = Excess {
        idle_ns: me.idle_ns - others(|r| r.idle_ns),
        compute_ns: me.compute_ns - others(|r| r.compute_ns),
        wait_ns: me.wait_ns - others(|r| r.wait_ns),
        transfer_ns: me.transfer_ns - others(|r| r.transfer_ns),
        kernel,
    };
    let candidates = [
        (excess.idle_ns, Cause::Host),
        (
            excess.compute_ns,
            match &excess.kernel {
                Some((name, _)) => Cause::Kernel { name: name.clone() },
                None => Cause::Unknown,
            },
        ),
        (excess.wait_ns, Cause::Waiting),
        (excess.transfer_ns, Cause::Transfer),
    ];
    let (amount, cause) = candidates.iter().max_by_key(|c| c.0).cloned().unwrap();
    // A cause must explain a good part of the lateness.
    let (cause, amount) = if amount * 4 >= how_late && amount > 0 {
        (cause, amount)
    } else {
        (Cause::Unknown, 0)
    };
    let summary = match &cause {
        Cause::Host => format!(
            "host time: its GPU sits idle {} more per step than the other ranks' median (work on the host before it launches)",
            fmt(amount)
        ),
        Cause::Kernel { name } => format!(
            "a longer kernel: {} more GPU compute per step, most in {} (+{})",
            fmt(amount),
            name,
            fmt(excess.kernel.as_ref().map_or(0, |k| k.1))
        ),
        Cause::Waiting => format!(
            "waiting in a collective: {} more per step than the other ranks' median",
            fmt(amount)
        ),
        Cause::Transfer => format!("slower transfers: {} more per step", fmt(amount)),
        Cause::Unknown => {
            "unknown: neither host time, kernels nor communication differ enough to explain it".into()
        }
    };
    (
        Some(Straggler {
            rank: who,
            label: me.label.clone(),
            late_ns: how_late,
            last_in_steps: last_in,
            last_at_collectives: last_at.get(who).copied().unwrap_or(0),
            cause,
            summary,
            excess,
        }),
        None,
    )
}

/// The kernel whose per-step time on rank `who` most exceeds the other
/// ranks' median.
fn kernel_excess(ranks: &[RankTimeline], who: usize, n: usize) -> Option<(String, Ns)> {
    let _ = n;
    let per_step = |r: &RankTimeline, name: &str| {
        r.kernel_time
            .iter()
            .find(|(k, _)| k == name)
            .map_or(0, |(_, t)| *t)
            / r.steps.len().max(1) as Ns
    };
    ranks[who]
        .kernel_time
        .iter()
        .take(50)
        .map(|(name, _)| {
            let mine = per_step(&ranks[who], name);
            let others = median(
                ranks
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != who)
                    .map(|(_, r)| per_step(r, name))
                    .collect(),
            );
            (name.clone(), mine - others)
        })
        .filter(|(_, d)| *d > 0)
        .max_by_key(|(_, d)| *d)
}

/// The lane chart's step: the one whose job step time is the median.
fn lanes(
    ranks: &[RankTimeline],
    steps: &[StepRow],
    shift: &[Ns],
    arrivals: &[Vec<Vec<(usize, Ns)>>],
) -> Option<Lanes> {
    if steps.is_empty() {
        return None;
    }
    let mut order: Vec<&StepRow> = steps.iter().collect();
    order.sort_by_key(|s| s.step_ns);
    let k = order[order.len() / 2].index;
    let lanes: Vec<Lane> = ranks
        .iter()
        .enumerate()
        .map(|(i, rk)| {
            let s = &rk.steps[k];
            let d = shift[i];
            let arrived = |j: usize| arrivals[i][k].iter().find(|a| a.0 == j).map(|a| a.1);
            Lane {
                start: s.start + d,
                end: s.end + d,
                compute: s.compute_spans.iter().map(|&(a, b)| (a + d, b + d)).collect(),
                comm: s
                    .comm_kernels
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        let at = arrived(j).unwrap_or(c.start).clamp(c.start, c.end);
                        (c.start + d, at + d, c.end + d)
                    })
                    .collect(),
            }
        })
        .collect();
    Some(Lanes {
        step: k,
        start: lanes.iter().map(|l| l.start).min()?,
        end: lanes.iter().map(|l| l.end).max()?,
        ranks: lanes,
    })
}

#[cfg(test)]
mod tests {
    use super::ranks::{CommKernel, StepSample};
    use super::*;

    fn rank(rank: u32, origin: Ns, steps: Vec<(Ns, Ns, Ns, Vec<(Ns, Ns)>)>) -> RankTimeline {
        RankTimeline {
            id: RankId {
                rank: Some(rank),
                rank_from: None,
                world_size: Some(2),
                pid: 100 + rank,
                process: None,
                devices: vec![rank],
                file: format!("r{rank}"),
            },
            step_name: Some("step".into()),
            clock_origin: Some(origin),
            steps: steps
                .into_iter()
                .map(|(start, end, busy, comm)| StepSample {
                    start,
                    end,
                    busy,
                    compute: busy - comm.iter().map(|c| c.1 - c.0).sum::<Ns>(),
                    comm: comm.iter().map(|c| c.1 - c.0).sum(),
                    comm_kernels: comm
                        .iter()
                        .map(|&(s, e)| CommKernel {
                            name: 0,
                            start: s,
                            end: e,
                        })
                        .collect(),
                    compute_spans: Vec::new(),
                })
                .collect(),
            comm_names: vec!["ncclDevKernel_AllReduce_Sum_f32_RING_LL".into()],
            comm_kinds: vec![CommKind::Collective],
            kernel_time: Vec::new(),
        }
    }

    /// Rank 1's clock starts 1000 ns after rank 0's; it spends 300 ns on
    /// the host, so it reaches the all-reduce at 1400 (its 400) while rank 0
    /// is there at 1100: rank 0 waits 300 ns, then both transfer 100 ns.
    #[test]
    fn wait_is_the_late_rank_lateness() {
        let r0 = rank(0, 0, vec![(1000, 1600, 200, vec![(1100, 1500)])]);
        let r1 = rank(1, 1000, vec![(0, 600, 200, vec![(400, 500)])]);
        let job = analyze(vec![r1, r0], "t".into());
        assert_eq!(job.clock.method, "recorded start");
        assert_eq!(job.ranks[0].id.rank, Some(0));
        assert_eq!(job.ranks[0].wait_ns, 300);
        assert_eq!(job.ranks[0].transfer_ns, 100);
        assert_eq!(job.ranks[1].wait_ns, 0);
        assert_eq!(job.ranks[1].transfer_ns, 100);
        assert_eq!(job.ranks[1].late_ns, 300);
        let s = job.straggler.expect("a straggler");
        assert_eq!(s.rank, 1);
        assert_eq!(job.clock.end_spread_ns, Some(0));
        assert_eq!(job.step_rows[0].step_ns, 600);
    }

    /// Clocks off by 1 ms (past the tolerance) are aligned on collective ends.
    #[test]
    fn misaligned_clocks_fall_back_to_collective_ends() {
        let r0 = rank(0, 0, vec![(1000, 1600, 200, vec![(1100, 1500)])]);
        let r1 = rank(1, 1_001_000, vec![(0, 600, 200, vec![(400, 500)])]);
        let job = analyze(vec![r0, r1], "t".into());
        assert_eq!(job.clock.method, "collective ends");
        assert_eq!(job.ranks[0].wait_ns, 300);
        assert_eq!(job.clock.end_spread_ns, Some(0));
    }

    #[test]
    fn separate_runs_are_not_split() {
        let r0 = rank(0, 0, vec![(1000, 1600, 200, vec![(1100, 1500)])]);
        let r1 = rank(
            1,
            0,
            vec![(
                10_000_000_000,
                10_000_000_600,
                200,
                vec![(10_000_000_400, 10_000_000_500)],
            )],
        );
        let job = analyze(vec![r0, r1], "t".into());
        assert_eq!(job.clock.matched, 0);
        assert!(
            job.warnings.iter().any(|w| w.contains("not one run")),
            "{:?}",
            job.warnings
        );
    }
}
