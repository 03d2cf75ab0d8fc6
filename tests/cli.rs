//! The binary end to end: outputs, options, errors and exit codes.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::sample;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trace-report"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run trace-report")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trace-report-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 2 and exactly one line on stderr that names `file` and says `what`.
fn assert_clean_error(o: &Output, file: &str, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "status; stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(err.contains(file), "names the file: {err}");
    assert!(err.to_lowercase().contains(what), "says '{what}': {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[test]
fn writes_three_reports_and_a_summary() {
    let out = tmp("three");
    let input = sample("resnet50_fp16_nchw_cpupre.sqlite");
    let o = run(&[input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains("12 'iter' iterations"), "{stdout}");
    assert!(stdout.contains("report.html"), "{stdout}");
    for f in ["report.html", "report.md", "report.json"] {
        assert!(out.join(f).metadata().unwrap().len() > 1000, "{f}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["window"]["iteration_range"], "iter");
    assert_eq!(json["window"]["duration_ns"], json["attribution"]["total_ns"]);
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.len() < 60_000);
    assert!(md.contains("| phase |"));
}

#[test]
fn html_is_self_contained() {
    let out = tmp("html");
    let input = sample("redundant_copies.sqlite");
    let o = run(&[
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--format",
        "html",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!out.join("report.json").exists(), "only the asked format");
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.matches("<svg").count() >= 3, "charts inline");
    for bad in [
        "<script",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(http",
        "<link",
    ] {
        assert!(!html.contains(bad), "HTML must not load '{bad}'");
    }
}

#[test]
fn stdout_output_matches_the_file() {
    let out = tmp("stdout");
    let input = sample("bert_fp16_aligned.sqlite");
    let o = run(&[input.to_str().unwrap(), "-o", "-", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let from_stdout: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is the JSON document");
    assert!(stderr(&o).contains("iterations"), "summary on stderr");
    run(&[
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let from_file: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(from_stdout, from_file);

    let o = run(&[input.to_str().unwrap(), "-o", "-"]);
    assert_eq!(o.status.code(), Some(2), "-o - needs a single format");
}

#[test]
fn window_options() {
    let input = sample("resnet50_fp16_nchw_cpupre.sqlite");
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![input.to_str().unwrap(), "-o", "-", "--format", "json", "-q"];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    // `infer` occurs 15 times (3 warm-up + 12 measured).
    let j = json(&["--iteration", "infer"]);
    assert_eq!(j["window"]["iterations"], 15);
    assert_eq!(j["window"]["iteration_range"], "infer");
    let j = json(&["--whole-capture"]);
    assert_eq!(j["window"]["scope"], "whole-capture");
    assert_eq!(j["window"]["iterations"], 0);
    assert!(j["iteration_time"].is_null());
    // The whole capture includes warm-up: longer than the iterations.
    let iters = json(&[]);
    assert!(j["window"]["duration_ns"].as_i64() > iters["window"]["duration_ns"].as_i64());

    let o = run(&[
        input.to_str().unwrap(),
        "--iteration",
        "no-such-range",
        "-o",
        "-",
        "--format",
        "json",
    ]);
    assert_clean_error(&o, "resnet50_fp16_nchw_cpupre.sqlite", "no nvtx range named");
}

#[test]
fn phase_override() {
    let input = sample("resnet50_fp16_nchw_cpupre.sqlite");
    let o = run(&[
        input.to_str().unwrap(),
        "-o",
        "-",
        "--format",
        "json",
        "-q",
        "--phase",
        "preprocess=^nothing$",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["attribution"]["phase"]["preprocess_ns"], 0);
    let o = run(&[input.to_str().unwrap(), "--phase", "preprocess=("]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1);
}

#[test]
fn missing_file() {
    let o = run(&["/nonexistent/dir/trace.sqlite"]);
    assert_clean_error(&o, "/nonexistent/dir/trace.sqlite", "no such file");
}

#[test]
fn directory_empty_and_text_files() {
    let dir = tmp("bad");
    let o = run(&[dir.to_str().unwrap()]);
    assert_clean_error(&o, dir.to_str().unwrap(), "directory");

    let empty = dir.join("empty.sqlite");
    fs::write(&empty, b"").unwrap();
    assert_clean_error(&run(&[empty.to_str().unwrap()]), "empty.sqlite", "empty");

    let text = dir.join("notes.sqlite");
    fs::write(&text, b"this is not a database\n").unwrap();
    assert_clean_error(
        &run(&[text.to_str().unwrap()]),
        "notes.sqlite",
        "not a recognised trace format",
    );
}

#[test]
fn sqlite_but_not_nsys() {
    let dir = tmp("notnsys");
    let path = dir.join("other.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE customers (id INTEGER, name TEXT); INSERT INTO customers VALUES (1, 'a');",
    )
    .unwrap();
    drop(conn);
    assert_clean_error(
        &run(&[path.to_str().unwrap()]),
        "other.sqlite",
        "not an nsight systems export",
    );

    // An nsys export without the kernel table: nothing to analyse.
    let path = dir.join("nokernels.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE META_DATA_EXPORT (name TEXT, value TEXT); CREATE TABLE StringIds (id INTEGER, value TEXT);",
    )
    .unwrap();
    drop(conn);
    assert_clean_error(
        &run(&[path.to_str().unwrap()]),
        "nokernels.sqlite",
        "cupti_activity_kind_kernel",
    );
}

#[test]
fn truncated_sqlite() {
    let dir = tmp("trunc");
    let bytes = fs::read(sample("redundant_copies.sqlite")).unwrap();
    for (name, len) in [
        ("head.sqlite", 100),
        ("page.sqlite", 4096),
        ("half.sqlite", bytes.len() / 2),
    ] {
        let path = dir.join(name);
        fs::write(&path, &bytes[..len]).unwrap();
        let o = run(&[path.to_str().unwrap(), "-o", dir.join("out").to_str().unwrap()]);
        assert_clean_error(&o, name, "");
        assert!(
            stderr(&o).contains("corrupt")
                || stderr(&o).contains("truncated")
                || stderr(&o).contains("not an"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn input_is_never_modified() {
    let dir = tmp("ro");
    let input = dir.join("copy.sqlite");
    fs::copy(sample("redundant_copies.sqlite"), &input).unwrap();
    let before = (
        fs::read(&input).unwrap(),
        fs::metadata(&input).unwrap().modified().unwrap(),
    );
    let o = run(&[input.to_str().unwrap(), "-o", dir.join("out").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = (
        fs::read(&input).unwrap(),
        fs::metadata(&input).unwrap().modified().unwrap(),
    );
    assert!(before == after, "bytes and mtime unchanged");
    let siblings: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        siblings.len(),
        2,
        "no journal or side files next to the input: {siblings:?}"
    );
}

#[test]
fn refuses_to_overwrite_the_input() {
    let dir = tmp("clobber");
    let input = dir.join("report.json");
    fs::copy(sample("redundant_copies.sqlite"), &input).unwrap();
    let before = fs::read(&input).unwrap();
    let o = run(&[
        input.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_clean_error(&o, "report.json", "refusing to overwrite");
    assert_eq!(fs::read(&input).unwrap(), before);
}

#[test]
fn usage_errors_exit_2() {
    let input = sample("redundant_copies.sqlite");
    let o = run(&[input.to_str().unwrap(), "--format", "pdf"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[input.to_str().unwrap(), "--fail-on", "sometimes"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn default_output_folder_is_named_after_the_trace() {
    let dir = tmp("default");
    let input = sample("gemm_int8_fp16_fp32.sqlite");
    let o = bin().arg(&input).current_dir(&dir).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let base = Path::new(&dir).join("reports/gemm_int8_fp16_fp32");
    for f in ["report.html", "report.md", "report.json"] {
        assert!(base.join(f).exists(), "{f}");
    }
}

#[test]
fn help_lists_every_input_format() {
    let o = run(&["--help"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for f in trace_report::input::InputFormat::ALL {
        assert!(text.contains(f.name()), "--help misses {}\n{text}", f.name());
    }
}

#[test]
fn dash_o_file_writes_that_file_or_says_it_wants_a_folder() {
    let out = tmp("ofile");
    let input = sample("redundant_copies.sqlite");
    fs::create_dir_all(&out).unwrap();
    let file = out.join("summary.md");
    let o = run(&[
        input.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
        "--format",
        "md",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(fs::read_to_string(&file).unwrap().starts_with("## trace-report"));
    assert!(!out.join("summary.md").join("report.md").exists());
    let o = run(&[
        input.to_str().unwrap(),
        "-o",
        out.join("x.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("give -o a folder"), "{}", stderr(&o));
}

#[test]
fn an_iteration_name_that_matches_nothing_lists_the_names_there_are() {
    let input = sample("redundant_copies.sqlite");
    let o = run(&[
        input.to_str().unwrap(),
        "--iteration",
        "no-such-range",
        "-o",
        "-",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("no-such-range") && e.contains("'iter' ("), "{e}");
}

#[test]
fn a_phase_pattern_that_matches_no_range_warns() {
    let input = sample("redundant_copies.sqlite");
    let o = run(&[
        input.to_str().unwrap(),
        "--phase",
        "preprocess=^nothing_like_this$",
        "-o",
        "-",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let warnings = json["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("--phase preprocess=^nothing_like_this$ matches no NVTX range")),
        "{warnings:?}"
    );
}
