//! The malformed-input corpus (tests/corpus/mod.rs, generated at test time
//! from the real samples) run through the binary, each case with a time
//! limit: exit 2 and one line naming the file, or a report with the
//! expected warning; never a panic, a hang or a signal.

mod corpus;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use corpus::{Case, Expect, Mode};

/// No case may take longer (the largest is a 20 MB name).
const LIMIT: Duration = Duration::from_secs(60);

struct Outcome {
    code: Option<i32>,
    stderr: String,
    stdout: String,
    elapsed: Duration,
    timed_out: bool,
}

fn run(case: &Case, out: &Path, good: &Path) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trace-report"));
    match &case.mode {
        Mode::Analyze(args) => {
            cmd.arg(&case.path).args(args);
        }
        Mode::Diff { bad_first } => {
            cmd.arg("diff");
            if *bad_first {
                cmd.arg(&case.path).arg(good);
            } else {
                cmd.arg(good).arg(&case.path);
            }
        }
    }
    cmd.args(["-q", "--format", "json", "-o"]).arg(out);
    cmd.env_remove("NSYS");
    for (k, v) in &case.env {
        cmd.env(k, v);
    }
    let dir = std::env::temp_dir().join(format!("tr-malformed-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tag = out.file_name().unwrap().to_string_lossy().into_owned();
    let (so, se) = (dir.join(format!("{tag}.out")), dir.join(format!("{tag}.err")));
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&so).unwrap())
        .stderr(std::fs::File::create(&se).unwrap());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            timed_out = true;
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    let outcome = Outcome {
        code: status.and_then(|s| s.code()),
        stderr: read(&se),
        stdout: read(&so),
        elapsed: start.elapsed(),
        timed_out,
    };
    let _ = std::fs::remove_file(&so);
    let _ = std::fs::remove_file(&se);
    outcome
}

/// What is wrong with the outcome of `case`, if anything.
fn judge(case: &Case, o: &Outcome, out: &Path) -> Result<&'static str, String> {
    if o.timed_out {
        return Err(format!("no result within {LIMIT:?} (hang?)"));
    }
    let err = o.stderr.trim_end();
    if err.contains("panicked") || err.contains("internal error") || err.contains("RUST_BACKTRACE") {
        return Err(format!("panic: {err}"));
    }
    match o.code {
        Some(2) => {
            if err.lines().count() != 1 {
                return Err(format!("error is not one line: {err:?}"));
            }
            let names = case.names.as_ref().unwrap_or(&case.path);
            if !err.contains(&case.path.display().to_string()) && !err.contains(&names.display().to_string())
            {
                return Err(format!("error does not name the file: {err}"));
            }
            match &case.expect {
                Expect::Err(want) if !err.contains(want) => Err(format!("want error '{want}', got: {err}")),
                Expect::Warn(want) => Err(format!("want a report warning '{want}', got error: {err}")),
                _ => Ok("error"),
            }
        }
        Some(0) => {
            let file = if matches!(case.mode, Mode::Diff { .. }) {
                "diff.json"
            } else {
                "report.json"
            };
            let text =
                std::fs::read_to_string(out.join(file)).map_err(|e| format!("exit 0 without {file}: {e}"))?;
            let doc: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{file} is not valid JSON: {e}"))?;
            let warnings: Vec<String> = doc["warnings"]
                .as_array()
                .map(|a| a.iter().filter_map(|w| w.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            match &case.expect {
                Expect::Err(want) => Err(format!(
                    "want error '{want}', got exit 0 (warnings: {warnings:?}; stderr: {err})"
                )),
                Expect::Warn(want) if !warnings.iter().any(|w| w.contains(want)) => {
                    Err(format!("want warning '{want}', got {warnings:?}"))
                }
                _ => Ok("report"),
            }
        }
        other => Err(format!(
            "exit status {other:?} (signal?): {err} {}",
            o.stdout.chars().take(200).collect::<String>()
        )),
    }
}

#[test]
fn every_malformed_input_fails_cleanly_or_warns() {
    let dir = std::env::temp_dir().join(format!("tr-malformed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let corpus = corpus::build(&dir);
    let good = corpus::good_report(&dir);
    if let Some(keep) = std::env::var_os("CORPUS_OUT") {
        // Seeds for the fuzzers: every generated file, flat.
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        for (i, c) in corpus.cases.iter().enumerate() {
            if c.path.is_file() {
                let _ = std::fs::copy(&c.path, keep.join(format!("{i:03}-{}-{}", c.format, c.name)));
            }
        }
    }
    let cases = &corpus.cases;
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<(usize, Result<&'static str, String>, Duration)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(case) = cases.get(i) else { break };
                    let out = dir.join(format!("out{i:03}"));
                    let o = run(case, &out, &good);
                    let verdict = judge(case, &o, &out);
                    let _ = std::fs::remove_dir_all(&out);
                    results.lock().unwrap().push((i, verdict, o.elapsed));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    let mut per_format: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    for (i, verdict, took) in &results {
        let case = &cases[*i];
        slowest = slowest.max(*took);
        let e = per_format.entry(case.format).or_default();
        match verdict {
            Ok("error") => e.0 += 1,
            Ok(_) => e.1 += 1,
            Err(why) => {
                e.2 += 1;
                failures.push(format!("{} [{}]: {why}", case.path.display(), case.format));
            }
        }
    }
    eprintln!("malformed corpus: {} cases, slowest {slowest:?}", cases.len());
    for (f, (errors, reports, bad)) in &per_format {
        eprintln!(
            "  {f:16} {:4} cases: {errors} clean errors, {reports} reports with warnings, {bad} failures",
            errors + reports + bad
        );
    }
    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
