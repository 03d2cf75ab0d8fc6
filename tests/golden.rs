//! Golden files pin the layout of the outputs: the committed example report
//! (`reports/resnet50_fp16_nchw_cpupre/`) and one diff
//! (`tests/golden/diff-resnet50_fp16_nchw_cpupre-vs-resnet50_fp16_cl_gpupre/`)
//! are regenerated here and compared byte for byte (the repository's
//! absolute path, should one appear, is replaced by `.`). The numbers in
//! them are checked against independent oracles by the other tests; these
//! only say that nothing moved unnoticed.
//!
//! After an intended change to a report, rewrite them and review the diff:
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test --release --test golden
//! git diff reports/ tests/golden/
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trace-report-golden-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// Run the binary from the repository root (so input paths in the outputs
/// are the relative ones the golden files hold).
fn run(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The output with machine-specific paths made neutral.
fn normalised(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let root = repo().display().to_string();
    text.replace(&format!("{root}/"), "")
        .replace(&root, ".")
        .into_bytes()
}

/// Compare each of `files` in `fresh` with its golden copy in `golden`
/// (relative to the repository), or rewrite the golden copy when
/// UPDATE_GOLDEN=1.
fn check(fresh: &Path, golden: &str, files: &[&str]) {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for f in files {
        let got = normalised(&fs::read(fresh.join(f)).unwrap());
        let path = repo().join(golden).join(f);
        if update {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &got).unwrap();
            continue;
        }
        let want = fs::read(&path).unwrap_or_default();
        if got != want {
            let (g, w) = (String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
            let line = g.lines().zip(w.lines()).position(|(a, b)| a != b).unwrap_or(0);
            stale.push(format!(
                "{golden}/{f} differs from the output, first at line {}:\n  output: {}\n  golden: {}",
                line + 1,
                g.lines()
                    .nth(line)
                    .unwrap_or("<end>")
                    .chars()
                    .take(200)
                    .collect::<String>(),
                w.lines()
                    .nth(line)
                    .unwrap_or("<end>")
                    .chars()
                    .take(200)
                    .collect::<String>(),
            ));
        }
    }
    let _ = fs::remove_dir_all(fresh);
    assert!(
        stale.is_empty(),
        "{}\nIf the change is intended: UPDATE_GOLDEN=1 cargo test --release --test golden, then review git diff",
        stale.join("\n")
    );
}

#[test]
fn the_example_report_is_reproduced_byte_for_byte() {
    let out = scratch("report");
    run(&[
        "sample_traces/resnet50_fp16_nchw_cpupre.sqlite",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    check(
        &out,
        "reports/resnet50_fp16_nchw_cpupre",
        &["report.html", "report.md", "report.json"],
    );
}

#[test]
fn a_diff_is_reproduced_byte_for_byte() {
    let out = scratch("diff");
    run(&[
        "diff",
        "sample_traces/resnet50_fp16_nchw_cpupre.sqlite",
        "sample_traces/resnet50_fp16_cl_gpupre.sqlite",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    check(
        &out,
        "tests/golden/diff-resnet50_fp16_nchw_cpupre-vs-resnet50_fp16_cl_gpupre",
        &["diff.html", "diff.md", "diff.json"],
    );
}
