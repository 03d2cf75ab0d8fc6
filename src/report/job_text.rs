//! The job report as text: the terminal summary, `job.md` and `job.json`.

use std::fmt::Write;

use crate::analysis::job::{JobReport, RankRow};
use crate::text::escape::{markdown as md, terminal as term};
use crate::text::format::ns;

/// `job.json`.
pub fn json(j: &JobReport) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(j).unwrap_or_default();
    v.push(b'\n');
    v
}

/// The lines printed after a job run.
pub fn terminal(j: &JobReport) -> String {
    let mut s = String::new();
    let steps = match &j.step_name {
        Some(n) => format!("{} '{}' steps", j.steps, term(n)),
        None => format!("{} step(s) (no iteration ranges: each rank's GPU span)", j.steps),
    };
    let _ = writeln!(s, "job: {} ranks, {steps}", j.ranks.len());
    if let Some(t) = &j.step_time {
        let _ = writeln!(
            s,
            "step time (slowest rank): p50 {} (mean {}, max {})",
            ns(t.p50_ns),
            ns(t.mean_ns),
            ns(t.max_ns)
        );
    }
    for r in &j.ranks {
        let [step, compute, idle, comm, wait, transfer, late] = rank_times(r);
        let _ = writeln!(
            s,
            "  {}: step {step}, compute {compute}, GPU idle {idle}, comm {comm} (wait {wait}, transfer {transfer}), late {late}",
            term(&r.label),
        );
    }
    match (&j.straggler, &j.no_straggler) {
        (Some(st), _) => {
            let _ = writeln!(
                s,
                "straggler: {}, {} per step ({}); cause: {}",
                term(&st.label),
                ns(st.late_ns),
                consistency(j, st),
                term(&st.summary)
            );
        }
        (None, Some(why)) => {
            let _ = writeln!(s, "{}", term(why));
        }
        (None, None) => {}
    }
    for w in &j.warnings {
        let _ = writeln!(s, "warning: {}", term(w));
    }
    s
}

/// A rank's times per step, in the tables' order: step, compute, GPU
/// idle, communication, waiting, transfer, late.
pub fn rank_times(r: &RankRow) -> [String; 7] {
    [
        r.step_ns,
        r.compute_ns,
        r.idle_ns,
        r.comm_ns,
        r.wait_ns,
        r.transfer_ns,
        r.late_ns,
    ]
    .map(ns)
}

/// How consistently the straggler is behind: at the collectives when they
/// are matched, else in step time.
pub fn consistency(j: &JobReport, st: &crate::analysis::job::Straggler) -> String {
    if j.clock.matched > 0 {
        format!(
            "late: last at {} of {} collectives, in {} of {} steps",
            st.last_at_collectives, j.clock.matched, st.last_in_steps, j.steps
        )
    } else {
        format!(
            "slower than the others' median: slowest in {} of {} steps",
            st.last_in_steps, j.steps
        )
    }
}

/// `job.md`: the summary for a pull request.
pub fn markdown(j: &JobReport) -> Vec<u8> {
    let mut s = String::new();
    let _ = writeln!(s, "## trace-report: job of {} ranks\n", j.ranks.len());
    if let Some(t) = &j.step_time {
        let _ = writeln!(
            s,
            "**Step time p50 {}** (the slowest rank's; mean {}, max {}) over {} {}steps\n",
            ns(t.p50_ns),
            ns(t.mean_ns),
            ns(t.max_ns),
            j.steps,
            j.step_name
                .as_deref()
                .map(|n| format!("`{}` ", md(n).replace('`', "'")))
                .unwrap_or_default()
        );
    }
    match (&j.straggler, &j.no_straggler) {
        (Some(st), _) => {
            let _ = writeln!(
                s,
                "**Straggler: {}**, {} per step ({}). Cause: {}\n",
                md(&st.label),
                ns(st.late_ns),
                consistency(j, st),
                md(&st.summary)
            );
        }
        (None, Some(why)) => {
            let _ = writeln!(s, "{}\n", md(why));
        }
        (None, None) => {}
    }
    s.push_str("| rank | step | compute | GPU idle | comm | waiting | transfer | late |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &j.ranks {
        let _ = writeln!(s, "| {} | {} |", md(&r.label), rank_times(r).join(" | "));
    }
    let _ = writeln!(
        s,
        "\nPer step, means over the compared steps. Waiting: collective kernel time before the last rank arrived; \
         transfer: after. Clock: {}{}.",
        md(&j.clock.method),
        j.clock
            .end_spread_ns
            .map(|e| format!(
                " (matched collectives end within {} of each other, median)",
                ns(e)
            ))
            .unwrap_or_default()
    );
    if !j.warnings.is_empty() {
        s.push_str("\n**Warnings**\n\n");
        for w in &j.warnings {
            let _ = writeln!(s, "- {}", md(w));
        }
    }
    s.into_bytes()
}
