//! Jobs of many ranks on real two-GPU captures, against an oracle written
//! here in SQL and plain Rust over the rows (nothing from the crate's
//! analysis): the NCCL kernels of each rank's k-th `step` range, put on one
//! clock by each capture's recorded session start, matched by name and
//! order; waiting = last rank's start - own start (within the kernel).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::open;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trace-report"))
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trace-report-job-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Per step: NCCL kernel (name, start, end) on the UTC clock.
type Steps = Vec<BTreeMap<String, Vec<(i64, i64)>>>;

/// The oracle's view of one per-rank capture: its `step` ranges and the
/// NCCL kernels starting in each, shifted by the session start.
fn rank_rows(path: &Path, pid: Option<i64>) -> (Steps, Vec<i64>) {
    let c = open(path);
    let origin: i64 = c
        .query_row("SELECT utcEpochNs FROM TARGET_INFO_SESSION_START_TIME", [], |r| {
            r.get(0)
        })
        .unwrap();
    let pid_cond = pid
        .map(|p| format!("AND (n.globalTid >> 24) & 16777215 = {p}"))
        .unwrap_or_default();
    let steps: Vec<(i64, i64)> = c
        .prepare(&format!(
            "SELECT n.start, n.end FROM NVTX_EVENTS n WHERE coalesce(n.text, \
             (SELECT value FROM StringIds WHERE id = n.textId)) IN ('step', 'iter') AND n.end IS NOT NULL {pid_cond} \
             ORDER BY n.start"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let kpid = pid
        .map(|p| format!("AND (k.globalPid >> 24) & 16777215 = {p}"))
        .unwrap_or_default();
    let kernels: Vec<(String, i64, i64)> = c
        .prepare(&format!(
            "SELECT s.value, k.start, k.end FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.shortName \
             WHERE s.value LIKE 'nccl%' {kpid} ORDER BY k.start"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let per_step = steps
        .iter()
        .map(|&(a, b)| {
            let mut m: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
            for (n, s, e) in &kernels {
                if *s >= a && *s < b {
                    m.entry(n.clone()).or_default().push((s + origin, e + origin));
                }
            }
            m
        })
        .collect();
    (per_step, steps.iter().map(|(a, b)| b - a).collect())
}

/// Total waiting and lateness per rank over the first `n` steps.
fn oracle(ranks: &[Steps], n: usize) -> (Vec<i64>, Vec<i64>, usize) {
    let r = ranks.len();
    let (mut wait, mut late, mut matched) = (vec![0; r], vec![0; r], 0);
    for k in 0..n {
        for (name, first) in &ranks[0][k] {
            let count = ranks
                .iter()
                .map(|rk| rk[k].get(name).map_or(0, |v| v.len()))
                .min()
                .unwrap();
            for j in 0..count.min(first.len()) {
                let ks: Vec<(i64, i64)> = ranks.iter().map(|rk| rk[k][name][j]).collect();
                let last = ks.iter().map(|x| x.0).max().unwrap();
                let earliest = ks.iter().map(|x| x.0).min().unwrap();
                for (i, (s, e)) in ks.iter().enumerate() {
                    wait[i] += (last - s).clamp(0, e - s);
                    late[i] += s - earliest;
                }
                matched += 1;
            }
        }
    }
    (wait, late, matched)
}

fn job_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("job.json")).expect("job.json written")).unwrap()
}

/// Two nsys reports, one per rank; rank 1 spends 20 ms per step on host
/// busy-work before its forward pass (examples/captures/ddp_straggler.py).
#[test]
fn per_rank_captures_name_the_slow_rank_and_the_wait() {
    let (r0, r1) = (fixture("ddp_slow_rank0.sqlite"), fixture("ddp_slow_rank1.sqlite"));
    let out = tempdir("ranks");
    let run = bin()
        .args([r1.as_os_str(), r0.as_os_str()])
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("straggler: rank 1"), "{stdout}");
    let j = job_json(&out);

    let a = rank_rows(&r0, None);
    let b = rank_rows(&r1, None);
    let n = a.0.len().min(b.0.len());
    assert_eq!(n, 4);
    let (wait, late, matched) = oracle(&[a.0, b.0], n);
    let ranks = j["ranks"].as_array().unwrap();
    assert_eq!(j["steps"], 4);
    assert_eq!(j["clock"]["method"], "recorded start");
    assert_eq!(j["clock"]["matched"], matched as u64);
    // Ranks are named by the file name's rank (nsys records none).
    assert_eq!(ranks[0]["id"]["rank"], 0);
    assert_eq!(ranks[1]["id"]["rank"], 1);
    assert_eq!(ranks[0]["id"]["rank_from"], "file name");
    assert_eq!(ranks[0]["id"]["process"], "python3");
    for i in 0..2 {
        assert_eq!(
            ranks[i]["wait_ns"].as_i64().unwrap(),
            wait[i] / n as i64,
            "rank {i} wait"
        );
        assert_eq!(
            ranks[i]["late_ns"].as_i64().unwrap(),
            late[i] / n as i64,
            "rank {i} late"
        );
    }
    // The planted 20 ms per step, within 20%.
    let w0 = wait[0] as f64 / n as f64 / 1e6;
    assert!((16.0..=24.0).contains(&w0), "rank 0 waits {w0} ms per step");
    assert_eq!(wait[1], 0);
    let s = &j["straggler"];
    assert_eq!(s["rank"], 1);
    assert_eq!(s["cause"]["kind"], "host");
    let idle = s["excess"]["idle_ns"].as_f64().unwrap() / 1e6;
    assert!(
        (16.0..=24.0).contains(&idle),
        "rank 1's extra GPU idle {idle} ms per step"
    );
    // Step time is the slower rank's, per step.
    let (_, d0) = rank_rows(&r0, None);
    let (_, d1) = rank_rows(&r1, None);
    for (k, row) in j["step_rows"].as_array().unwrap().iter().enumerate() {
        assert_eq!(row["step_ns"].as_i64().unwrap(), d0[k].max(d1[k]));
    }
    let html = std::fs::read_to_string(out.join("job.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("collective: waiting"));
    let _ = std::fs::remove_dir_all(&out);
}

/// One nsys report holding both processes of a two-GPU job (no slow rank):
/// the ranks are its processes with GPU work, named by pid, and the usual
/// report is written beside the job report.
#[test]
fn one_report_of_two_processes_is_a_job() {
    let f = fixture("ddp_2gpu_nccl.sqlite");
    let out = tempdir("node");
    let run = bin()
        .arg(&f)
        .arg("-o")
        .arg(&out)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(out.join("report.json").exists());
    let j = job_json(&out);
    let c = open(&f);
    let pids: Vec<i64> = c
        .prepare("SELECT DISTINCT (globalPid >> 24) & 16777215 FROM CUPTI_ACTIVITY_KIND_KERNEL ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let ranks = j["ranks"].as_array().unwrap();
    assert_eq!(ranks.len(), pids.len());
    assert_eq!(pids.len(), 2);
    let got: Vec<i64> = ranks.iter().map(|r| r["id"]["pid"].as_i64().unwrap()).collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, pids);
    assert!(ranks.iter().all(|r| r["id"]["rank"].is_null()));
    assert_eq!(j["clock"]["method"], "one capture");
    let a = rank_rows(&f, Some(got[0]));
    let b = rank_rows(&f, Some(got[1]));
    let n = a.0.len().min(b.0.len());
    assert_eq!(j["steps"].as_u64().unwrap() as usize, n);
    // One capture: the recorded origin is the same for both, so the
    // oracle's shift cancels.
    let (wait, late, matched) = oracle(&[a.0, b.0], n);
    assert_eq!(j["clock"]["matched"], matched as u64);
    assert!(matched > 0);
    for i in 0..2 {
        assert_eq!(ranks[i]["wait_ns"].as_i64().unwrap(), wait[i] / n as i64);
        assert_eq!(ranks[i]["late_ns"].as_i64().unwrap(), late[i] / n as i64);
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_folder_without_traces_is_an_error() {
    let d = tempdir("empty");
    std::fs::write(d.join("notes.txt"), "x").unwrap();
    let run = bin().arg(&d).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("no trace files"), "{err}");
    assert_eq!(err.lines().count(), 1);
    let _ = std::fs::remove_dir_all(&d);
}

/// Microseconds as Kineto writes them ("5159344097673.909") to integer ns.
fn us_to_ns(v: &serde_json::Value) -> i64 {
    let s = v.to_string();
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let frac = format!("{frac:0<3}");
    int.parse::<i64>().unwrap() * 1000 + frac[..3].parse::<i64>().unwrap()
}

/// The oracle's view of a Kineto file: ProfilerStep ranges and the NCCL
/// kernels starting in each (one clock for both files: same host).
fn kineto_rows(path: &Path) -> (Steps, i64) {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
    let doc: serde_json::Value = serde_json::from_reader(gz).unwrap();
    let events = doc["traceEvents"].as_array().unwrap();
    let mut steps: Vec<(i64, i64)> = events
        .iter()
        .filter(|e| {
            e["ph"] == "X"
                && e["cat"] == "user_annotation"
                && e["name"].as_str().is_some_and(|n| n.starts_with("ProfilerStep#"))
        })
        .map(|e| {
            let s = us_to_ns(&e["ts"]);
            (s, s + us_to_ns(&e["dur"]))
        })
        .collect();
    steps.sort();
    let per_step = steps
        .iter()
        .map(|&(a, b)| {
            let mut m: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
            for e in events.iter().filter(|e| e["cat"] == "kernel") {
                let name = e["name"].as_str().unwrap();
                if !name.starts_with("nccl") {
                    continue;
                }
                let s = us_to_ns(&e["ts"]);
                if s >= a && s < b {
                    let short = name.split('(').next().unwrap().to_string();
                    m.entry(short).or_default().push((s, s + us_to_ns(&e["dur"])));
                }
            }
            m
        })
        .collect();
    (per_step, doc["distributedInfo"]["rank"].as_i64().unwrap())
}

/// A folder of PyTorch profiler traces, one per rank: ranks named by their
/// recorded `distributedInfo.rank`, the same straggler and wait.
#[test]
fn kineto_folder_names_ranks_and_straggler() {
    let dir = fixture("ddp_slow_kineto");
    let out = tempdir("kineto");
    let run = bin().arg(&dir).arg("-o").arg(&out).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let j = job_json(&out);
    let (a, ra) = kineto_rows(&dir.join("rank0.pt.trace.json.gz"));
    let (b, rb) = kineto_rows(&dir.join("rank1.pt.trace.json.gz"));
    assert_eq!((ra, rb), (0, 1));
    let n = a.len().min(b.len());
    assert_eq!(j["steps"].as_u64().unwrap() as usize, n);
    let (wait, late, matched) = oracle(&[a, b], n);
    assert_eq!(j["clock"]["matched"], matched as u64);
    let ranks = j["ranks"].as_array().unwrap();
    for i in 0..2 {
        assert_eq!(ranks[i]["id"]["rank"], i as u64);
        assert_eq!(ranks[i]["id"]["rank_from"], "distributedInfo");
        assert_eq!(ranks[i]["id"]["world_size"], 2);
        assert_eq!(
            ranks[i]["wait_ns"].as_i64().unwrap(),
            wait[i] / n as i64,
            "rank {i}"
        );
        assert_eq!(
            ranks[i]["late_ns"].as_i64().unwrap(),
            late[i] / n as i64,
            "rank {i}"
        );
    }
    let w0 = wait[0] as f64 / n as f64 / 1e6;
    assert!((16.0..=24.0).contains(&w0), "rank 0 waits {w0} ms per step");
    assert_eq!(j["straggler"]["rank"], 1);
    assert_eq!(j["straggler"]["cause"]["kind"], "host");
    let _ = std::fs::remove_dir_all(&out);
}
