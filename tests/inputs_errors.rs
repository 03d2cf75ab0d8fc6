//! Malformed inputs of each format, run through the binary: exit status 2
//! and one line on stderr naming the file and the problem, never a panic.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("tr-inputs-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run the binary on `path`; (status, stderr).
fn run(path: &Path, extra: &[&str], out: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .arg(path)
        .args(["-q", "-o"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn assert_error(s: &Scratch, path: &Path, extra: &[&str], want: &str) {
    let (code, err) = run(path, extra, &s.0.join("out"));
    assert_eq!(code, 2, "{}: {err}", path.display());
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.contains(&path.display().to_string()), "no file name: {err}");
    assert!(err.contains(want), "want '{want}' in: {err}");
    assert!(!err.contains("panic") && !err.contains("internal error"), "{err}");
}

fn gunzip(path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn kineto_malformed() {
    let s = Scratch::new("kineto");
    let json = gunzip("tests/fixtures/kineto/redundant_copies.kineto.json.gz");
    let cut = &json[..json.len() / 2];
    assert_error(&s, &s.file("cut.json", cut), &[], "truncated");
    let gz = std::fs::read("tests/fixtures/kineto/redundant_copies.kineto.json.gz").unwrap();
    assert_error(
        &s,
        &s.file("cut.json.gz", &gz[..gz.len() / 2]),
        &[],
        "gzip data is truncated",
    );
    assert_error(
        &s,
        &s.file(
            "syntax.json",
            br#"{"traceEvents": [{"ph": "X", "ts": 1,, "dur": 2}]}"#,
        ),
        &[],
        "malformed trace event at byte 17",
    );
    assert_error(
        &s,
        &s.file("between.json", br#"{"traceEvents": [{"ph": "X"} {"ph": "X"}]}"#),
        &[],
        "expected ',' or ']' between events",
    );
    assert_error(
        &s,
        &s.file(
            "noevents.json",
            br#"{"schemaVersion": 1, "deviceProperties": []}"#,
        ),
        &["--input-format", "kineto"],
        "without a traceEvents array",
    );
    assert_error(
        &s,
        &s.file("nogpu.json", br#"{"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::add", "pid": 1, "tid": 1, "ts": 1.5, "dur": 2}]}"#),
        &[],
        "without GPU activity",
    );
}

#[test]
fn gzip_and_unknown_formats() {
    let s = Scratch::new("gzip");
    let mut bad = vec![0x1f, 0x8b];
    bad.extend_from_slice(b"this is not deflate data at all");
    assert_error(&s, &s.file("bad.json.gz", &bad), &[], "not valid gzip data");
    assert_error(
        &s,
        &s.file("empty.json.gz", &gzip(b"")),
        &[],
        "decompresses to nothing",
    );
    assert_error(
        &s,
        &s.file("text.json.gz", b"hello, world\n"),
        &[],
        "not a recognised trace format",
    );
    assert_error(
        &s,
        &s.file("other.json", br#"{"hello": [1, 2, 3]}"#),
        &[],
        "not a recognised trace format",
    );
    assert_error(&s, &s.file("empty.json", b""), &[], "the file is empty");
    // Forcing a reader on a file of another format.
    let sqlite = Path::new("sample_traces/redundant_copies.sqlite");
    assert_error(
        &s,
        sqlite,
        &["--input-format", "kineto"],
        "not a readable Kineto trace",
    );
    assert_error(
        &s,
        sqlite,
        &["--input-format", "nsys-json"],
        "not an nsys JSON export",
    );
    assert_error(&s, sqlite, &["--input-format", "trtexec"], "not a trtexec");
    // An unknown format name is a usage error (no file involved).
    let (code, err) = run(sqlite, &["--input-format", "perfetto"], &s.0.join("out"));
    assert_eq!(code, 2);
    assert!(err.contains("unknown input format 'perfetto'"), "{err}");
}

#[test]
fn nsys_json_malformed() {
    let s = Scratch::new("nsys");
    let text = gunzip("tests/fixtures/nsys_json/redundant_copies.nsys.json.gz");
    let first = text.iter().position(|&b| b == b'\n').unwrap();
    let mut broken = text[..=first].to_vec();
    broken.extend_from_slice(b"{\"Type\":79,\"CudaEvent\":{\"startNs\":\"1\",\n");
    assert_error(
        &s,
        &s.file("broken.json", &broken),
        &[],
        "line 2 is not a JSON object",
    );
    assert_error(
        &s,
        &s.file("cut.json.gz", &gzip(&text)[..20_000]),
        &[],
        "truncated",
    );
    assert_error(
        &s,
        &s.file("nostrings.json", b"{\"Type\":79,\"CudaEvent\":{}}\n"),
        &["--input-format", "nsys-json"],
        "no string table",
    );
}

#[test]
fn trtexec_malformed() {
    let s = Scratch::new("trt");
    assert_error(
        &s,
        &s.file(
            "x.profile.json",
            br#"[{"count": 1}, {"name": "a", "timeMs": "soon"}]"#,
        ),
        &[],
        "layer 'a' has no averageMs/timeMs",
    );
    s.file(
        "y.profile.json",
        br#"[{"count": 1}, {"name": "a", "timeMs": 1, "averageMs": 1}]"#,
    );
    let g = s.file(
        "y.graph.json",
        br#"{"Layers": [{"Name": "a", "LayerType": "NoOp"}], "Bindings": [}"#,
    );
    assert_error(&s, &g, &[], "not valid JSON");
    assert_error(
        &s,
        &Path::new("tests/fixtures/trtexec/orphan.graph.json"),
        &[],
        "no trtexec --exportProfile file next to it",
    );
}

/// A copy of a real export cut short (a half-written capture): SQLite
/// reads missing pages as absent, so the reader checks the length the
/// header states.
#[test]
fn truncated_sqlite_is_an_error() {
    let s = Scratch::new("cut-sqlite");
    let full = std::fs::read("sample_traces/redundant_copies.sqlite").unwrap();
    for cut in [full.len() - 1, full.len() - 4096, full.len() / 2] {
        assert_error(
            &s,
            &s.file(&format!("cut{cut}.sqlite"), &full[..cut]),
            &[],
            "the SQLite file is truncated",
        );
    }
}

/// JSON that is valid but not an object is no record (serde would read an
/// array as a struct's fields in order): counted and warned about, never
/// taken for a string table or an event.
#[test]
fn non_object_records_are_skipped_with_a_warning() {
    let s = Scratch::new("non-object");
    let out = s.0.join("out");
    let text = gunzip("tests/fixtures/nsys_json/redundant_copies.nsys.json.gz");
    let first = text.iter().position(|&b| b == b'\n').unwrap();
    let mut b = text.clone();
    b.splice(first + 1..first + 1, b"[[\"a\", \"b\"]]\n".iter().copied());
    let p = s.file("array-line.json", &b);
    let (code, err) = run(&p, &["--format", "json"], &out);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("1 line(s) with fields of unexpected types skipped"),
        "{warnings}"
    );
    assert!(!warnings.contains("more than one string table"), "{warnings}");

    let p = s.file(
        "array-event.json",
        br#"{"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 7, "ts": 10, "dur": 5},
            ["X", "kernel", "k2", 0, 7, 20, 1]]}"#,
    );
    let (code, err) = run(&p, &["--format", "json"], &out);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        doc["kernels"].as_array().unwrap().len(),
        1,
        "the array is no kernel"
    );
    assert!(
        doc["warnings"]
            .to_string()
            .contains("1 trace event(s) with fields of unexpected types")
    );
    assert_error(
        &s,
        &s.file("bareword.json", br#"{"traceEvents": [{"ph": "X"}, nope]}"#),
        &[],
        "malformed trace event at byte 30",
    );
}
