//! The memory cap (src/limits.rs): a trace that needs more memory than the
//! cap allows ends in one line naming the file and exit 2, never in the
//! OOM killer, an abort or a backtrace; normal inputs never trip it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_trace-report");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The largest sample: reading and analysing it needs about 13 MiB of
/// data segment (measured: it fails at a 12M cap and passes at 13M).
fn largest() -> PathBuf {
    repo().join("sample_traces/resnet50_fp16_nchw_cpupre.sqlite")
}

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trace-report-limits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn run(cap: Option<&str>, args: &[&std::ffi::OsStr]) -> Output {
    let mut c = Command::new(BIN);
    // The cap is on analysing: a result from the analysis cache needs none.
    c.args(args).arg("--no-cache");
    match cap {
        Some(v) => c.env("TRACE_REPORT_MAX_MEMORY", v),
        None => c.env_remove("TRACE_REPORT_MAX_MEMORY"),
    };
    c.output().unwrap()
}

fn assert_out_of_memory(out: &Output, names: &[&Path]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("trace-report: error: "), "{err}");
    assert!(err.contains("out of memory"), "{err}");
    assert!(err.contains("TRACE_REPORT_MAX_MEMORY"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
    for n in names {
        assert!(
            err.contains(&n.display().to_string()),
            "names {}: {err}",
            n.display()
        );
    }
}

#[test]
fn far_over_the_cap_is_one_line_and_exit_2() {
    let s = largest();
    // Every cap from far below to just below what the trace needs: the
    // failure comes at different places (a buffer, a thread's stack, the
    // SQLite page cache) and must read the same each time.
    for cap in ["1M", "4M", "8M", "11M"] {
        let o = out_dir(&format!("cap{cap}"));
        let out = run(
            Some(cap),
            &[s.as_os_str(), "-o".as_ref(), o.as_os_str(), "-q".as_ref()],
        );
        assert_out_of_memory(&out, &[&s]);
        let _ = std::fs::remove_dir_all(&o);
    }
    // Both sides of a diff are named.
    let other = repo().join("sample_traces/bert_fp16_aligned.sqlite");
    let o = out_dir("diff");
    let out = run(
        Some("4M"),
        &[
            "diff".as_ref(),
            other.as_os_str(),
            s.as_os_str(),
            "-o".as_ref(),
            o.as_os_str(),
            "-q".as_ref(),
        ],
    );
    assert_out_of_memory(&out, &[&other, &s]);
    let _ = std::fs::remove_dir_all(&o);
    // Streamed JSON input too.
    let k = repo().join("tests/fixtures/kineto/resnet50_fp16_cl_gpupre.kineto.json.gz");
    let o = out_dir("kineto");
    let out = run(
        Some("4M"),
        &[k.as_os_str(), "-o".as_ref(), o.as_os_str(), "-q".as_ref()],
    );
    assert_out_of_memory(&out, &[&k]);
    let _ = std::fs::remove_dir_all(&o);
}

#[test]
fn normal_inputs_never_trip_the_cap() {
    let s = largest();
    // The default cap (the memory available), a modest explicit one, none.
    for cap in [None, Some("256M"), Some("off")] {
        let o = out_dir(&format!("ok{}", cap.unwrap_or("default")));
        let out = run(cap, &[s.as_os_str(), "-o".as_ref(), o.as_os_str(), "-q".as_ref()]);
        assert!(
            out.status.success(),
            "{cap:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(o.join("report.json").is_file());
        let _ = std::fs::remove_dir_all(&o);
    }
}

#[test]
fn a_bad_setting_is_a_warning_not_a_cap() {
    let s = largest();
    let o = out_dir("bad");
    let out = run(
        Some("lots"),
        &[s.as_os_str(), "-o".as_ref(), o.as_os_str(), "-q".as_ref()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("TRACE_REPORT_MAX_MEMORY=\"lots\" is not a size"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&o);
}
