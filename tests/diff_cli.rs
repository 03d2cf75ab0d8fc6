//! The `diff` subcommand end to end: outputs, the gate's exit codes, errors.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::sample;

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .current_dir(dir)
        .arg("diff")
        .args(args)
        .output()
        .expect("run trace-report")
}

fn run(args: &[&str]) -> Output {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trace-report-diffcli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

/// Exit 2 and one line on stderr saying `what`, without a backtrace.
fn assert_clean_error(o: &Output, what: &str) {
    let err = stderr(o);
    assert_eq!(code(o), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(err.contains(what), "says '{what}': {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn gate_exit_codes() {
    let (a, m) = (
        sample("bert_fp16_aligned.sqlite"),
        sample("bert_fp16_misaligned.sqlite"),
    );
    let (nchw, cl) = (
        sample("resnet50_fp16_nchw_cpupre.sqlite"),
        sample("resnet50_fp16_cl_gpupre.sqlite"),
    );
    let out = tmp("gate");
    let o = s(&out);
    // Slower beyond the gate: 1, and the summary says why.
    let r = run(&[s(&a), s(&m), "-o", o, "--fail-if-slower", "5"]);
    assert_eq!(code(&r), Some(1), "{}", stderr(&r));
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("verdict slower"), "{stdout}");
    assert!(stdout.contains("gate: NEW is slower"), "{stdout}");
    // Slower, but by less than the gate: 0.
    let r = run(&[s(&a), s(&m), "-o", o, "--fail-if-slower", "500", "-q"]);
    assert_eq!(code(&r), Some(0), "{}", stderr(&r));
    assert!(r.stdout.is_empty(), "-q prints nothing");
    // Without a gate a slower build still exits 0.
    assert_eq!(code(&run(&[s(&a), s(&m), "-o", o, "-q"])), Some(0));
    // Faster, or the same trace: 0 even with a zero gate.
    assert_eq!(
        code(&run(&[s(&nchw), s(&cl), "-o", o, "--fail-if-slower", "0", "-q"])),
        Some(0)
    );
    assert_eq!(
        code(&run(&[s(&a), s(&a), "-o", o, "--fail-if-slower", "0", "-q"])),
        Some(0)
    );
    // Reversed, the faster pair is slower and trips the gate.
    assert_eq!(
        code(&run(&[s(&cl), s(&nchw), "-o", o, "--fail-if-slower", "10", "-q"])),
        Some(1)
    );
    let _ = fs::remove_dir_all(&out);
}

#[test]
fn outputs_default_folder_and_stdout() {
    let cwd = tmp("default");
    let (a, m) = (
        sample("bert_fp16_aligned.sqlite"),
        sample("bert_fp16_misaligned.sqlite"),
    );
    let r = run_in(&cwd, &[s(&a), s(&m)]);
    assert_eq!(code(&r), Some(0), "{}", stderr(&r));
    let dir = cwd.join("reports/diff-bert_fp16_aligned-vs-bert_fp16_misaligned");
    for f in ["diff.html", "diff.md", "diff.json"] {
        assert!(dir.join(f).metadata().unwrap().len() > 1000, "{f}");
    }
    let html = fs::read_to_string(dir.join("diff.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.matches("<svg").count() >= 3, "side-by-side charts inline");
    for banned in ["<script", "<link", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!html.contains(banned), "self-contained: {banned}");
    }
    let md = fs::read_to_string(dir.join("diff.md")).unwrap();
    assert!(md.len() < 60_000);
    assert!(md.contains("**Verdict: slower**"), "{md}");
    assert!(md.contains("Welch's t 95% confidence interval"));
    let json: serde_json::Value = serde_json::from_slice(&fs::read(dir.join("diff.json")).unwrap()).unwrap();
    assert_eq!(json["kind"], "trace-report-diff");

    // -o - with one format: the document on stdout, the summary on stderr.
    let r = run(&[s(&a), s(&m), "-o", "-", "--format", "json"]);
    assert_eq!(code(&r), Some(0), "{}", stderr(&r));
    let out: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(out["verdict"]["verdict"], "slower");
    assert!(stderr(&r).contains("verdict slower"));
    // A saved report.json names its folder after the folder it lies in.
    let saved = cwd.join("reports/bert_fp16_aligned");
    fs::create_dir_all(&saved).unwrap();
    let r = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .current_dir(&cwd)
        .args([s(&a), "-o", s(&saved), "--format", "json", "-q"])
        .output()
        .unwrap();
    assert_eq!(code(&r), Some(0), "{}", stderr(&r));
    let r = run_in(
        &cwd,
        &[s(&saved.join("report.json")), s(&m), "--format", "md", "-q"],
    );
    assert_eq!(code(&r), Some(0), "{}", stderr(&r));
    assert!(
        cwd.join("reports/diff-bert_fp16_aligned-vs-bert_fp16_misaligned/diff.md")
            .exists()
    );
    let _ = fs::remove_dir_all(&cwd);
}

#[test]
fn errors_exit_2_with_one_line() {
    let dir = tmp("errors");
    let a = sample("bert_fp16_aligned.sqlite");
    let o = s(&dir);
    let r = run(&[s(&a), "no/such/file.sqlite", "-o", o]);
    assert_clean_error(&r, "no/such/file.sqlite: no such file");
    assert_clean_error(
        &run(&[s(&a), s(&a), "-o", o, "--fail-if-slower=-3"]),
        "--fail-if-slower",
    );
    assert_clean_error(
        &run(&[s(&a), s(&a), "-o", o, "--threshold", "NaN"]),
        "--threshold",
    );
    assert_clean_error(&run(&[s(&a), s(&a), "-o", "-"]), "-o - writes one format");
    assert_eq!(code(&run(&[s(&a)])), Some(2), "NEW is required");

    // A report of another schema version.
    let v2 = dir.join("v2.json");
    fs::write(
        &v2,
        r#"{"schema_version": 2, "generator": "trace-report 9.0.0", "source": {}}"#,
    )
    .unwrap();
    let r = run(&[s(&v2), s(&a), "-o", o]);
    assert_clean_error(&r, "schema_version 2");
    assert!(stderr(&r).contains("v2.json"));
    // A diff document is not a report.
    let r = run(&[s(&a), s(&a), "-o", o, "--format", "json", "-q"]);
    assert_eq!(code(&r), Some(0));
    let r = run(&[s(&dir.join("diff.json")), s(&a), "-o", s(&dir.join("x"))]);
    assert_clean_error(&r, "is a trace-report diff document");
    // Some other JSON: not a format we read.
    let other = dir.join("other.json");
    fs::write(&other, r#"{"hello": "world"}"#).unwrap();
    assert_clean_error(
        &run(&[s(&other), s(&a), "-o", o]),
        "not a recognised trace format",
    );
    // A profiler trace with nothing in it.
    fs::write(&other, r#"{"traceEvents": []}"#).unwrap();
    assert_clean_error(&run(&[s(&other), s(&a), "-o", o]), "without GPU activity");
    // A broken report.
    let broken = dir.join("broken.json");
    fs::write(
        &broken,
        r#"{"schema_version": 1, "generator": "trace-report 0.1.0"}"#,
    )
    .unwrap();
    assert_clean_error(
        &run(&[s(&broken), s(&a), "-o", o]),
        "not a valid trace-report report.json",
    );
    // Never writes over an input: a saved report that happens to be
    // called diff.json in the output folder.
    let victim = dir.join("keep");
    let r = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .args([s(&a), "-o", s(&victim), "--format", "json", "-q"])
        .output()
        .unwrap();
    assert_eq!(code(&r), Some(0), "{}", stderr(&r));
    let copy = victim.join("diff.json");
    fs::rename(victim.join("report.json"), &copy).unwrap();
    let before = fs::read(&copy).unwrap();
    let r = run(&[s(&a), s(&copy), "-o", s(&victim), "--format", "json"]);
    assert_clean_error(&r, "refusing to overwrite an input");
    assert_eq!(fs::read(&copy).unwrap(), before);
    let _ = fs::remove_dir_all(&dir);
}

/// Every subcommand validates the shared flags the same way: a `--nsys`
/// that names no executable is an error (exit 2) for `diff` as for the
/// main command, even when neither input needs nsys.
#[test]
fn diff_refuses_an_nsys_that_does_not_exist() {
    let base = sample("resnet50_fp16_nchw_cpupre.sqlite");
    let out = tmp("bad-nsys");
    let o = run(&[s(&base), s(&base), "-o", s(&out), "--nsys", "/no/such/nsys"]);
    assert_clean_error(&o, "/no/such/nsys");
    // The main command, for comparison.
    let o = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .args([s(&base), "-o", s(&out), "--nsys", "/no/such/nsys"])
        .output()
        .unwrap();
    assert_clean_error(&o, "/no/such/nsys");
}
