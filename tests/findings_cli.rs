//! `trace-report rules`, `trace-report explain RULE` and `--fail-on`
//! through the binary.

use std::process::{Command, Output};

const CODES: [(&str, &str); 10] = [
    ("TR101", "reupload"),
    ("TR102", "round-trip"),
    ("TR103", "pageable-memcpy"),
    ("TR104", "tiny-memcpy"),
    ("TR201", "layout-transpose"),
    ("TR202", "concat-copy"),
    ("TR301", "host-preprocessing"),
    ("TR302", "host-postprocessing"),
    ("TR303", "sync-stall"),
    ("TR304", "launch-bound"),
];

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run trace-report")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn rules_lists_every_rule_once_in_code_order() {
    let o = run(&["rules"]);
    assert!(o.status.success());
    let out = stdout(&o);
    let mut at = 0;
    for (code, name) in CODES {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(code))
            .unwrap_or_else(|| panic!("{code} missing from:\n{out}"));
        assert_eq!(line.split_whitespace().nth(1), Some(name), "{line}");
        assert_eq!(out.matches(name).count(), 1, "{name} listed more than once");
        let pos = out.find(code).unwrap();
        assert!(pos >= at, "{code} out of order");
        at = pos;
    }
}

#[test]
fn explain_prints_the_documentation_with_thresholds() {
    for (code, name) in CODES {
        for key in [code, name, &code.to_ascii_lowercase()] {
            let o = run(&["explain", key]);
            assert!(o.status.success(), "explain {key}");
            let out = stdout(&o);
            assert!(out.starts_with(&format!("{name} ({code})")), "{out}");
            for section in ["Fires when", "Time at stake", "Severity"] {
                assert!(out.contains(section), "explain {key} lacks '{section}'");
            }
        }
    }
    let out = stdout(&run(&["explain", "reupload"]));
    for threshold in ["64 KiB", "80%", "0.5%", "5%", "25%"] {
        assert!(out.contains(threshold), "reupload doc lacks {threshold}");
    }
    let out = stdout(&run(&["explain", "TR304"]));
    assert!(out.contains("never error") && out.contains("static shapes"));
    assert!(out.contains("100 us") && out.contains("2 us"));
}

#[test]
fn explain_unknown_rule_is_a_one_line_error() {
    let o = run(&["explain", "no-such-rule"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no-such-rule"));
}

/// The gate trips on planted problems, not on the healthy baseline, whose
/// only warning is its launch overhead (launch-bound stops at warning).
#[test]
fn fail_on_error_trips_on_planted_problems_not_on_the_baseline() {
    let gate =
        |trace: &str, level: &str| run(&[trace, "-o", "-", "--format", "json", "-q", "--fail-on", level]);
    let baseline = gate("sample_traces/resnet50_fp16_cl_gpupre.sqlite", "error");
    assert_eq!(baseline.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&baseline.stdout).unwrap();
    assert!(json["findings"].as_array().is_some_and(|f| !f.is_empty()));
    assert_eq!(
        gate("sample_traces/resnet50_fp16_cl_gpupre.sqlite", "warning")
            .status
            .code(),
        Some(1),
        "the baseline's launch-bound warning trips --fail-on warning"
    );
    let bad = gate("sample_traces/redundant_copies.sqlite", "error");
    assert_eq!(bad.status.code(), Some(1));
}
