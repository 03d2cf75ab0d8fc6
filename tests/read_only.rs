//! Inputs are only read: for every format, and for both sides of `diff`,
//! the input files' bytes, mtimes and permissions and the listing of their
//! folder are the same after the analysis. The inputs are made read-only
//! first, so that any attempt to open them for writing would fail too.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Everything observable about a folder's files.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime, u32)> {
    let mut out = BTreeMap::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let m = fs::metadata(&p).unwrap();
        let bytes = if m.is_file() {
            fs::read(&p).unwrap()
        } else {
            Vec::new()
        };
        out.insert(
            p.file_name().unwrap().to_string_lossy().into_owned(),
            (bytes, m.modified().unwrap(), m.permissions().mode()),
        );
    }
    out
}

/// A folder with copies of `files` (made read-only), named as given.
fn inputs(tag: &str, files: &[(&str, PathBuf)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tr-readonly-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for (name, src) in files {
        let p = dir.join(name);
        fs::copy(src, &p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
    }
    dir
}

fn check(tag: &str, files: &[(&str, PathBuf)], args: &dyn Fn(&Path) -> Vec<String>) {
    let dir = inputs(tag, files);
    let before = snapshot(&dir);
    let out = std::env::temp_dir().join(format!("tr-readonly-out-{tag}-{}", std::process::id()));
    let cache = std::env::temp_dir().join(format!("tr-readonly-cache-{tag}-{}", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .args(args(&dir))
        .arg("-q")
        .arg("-o")
        .arg(&out)
        .env("TRACE_REPORT_CACHE", &cache)
        .env(
            "FAKE_NSYS_SAMPLE",
            repo().join("sample_traces/redundant_copies.sqlite"),
        )
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{tag}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let after = snapshot(&dir);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "{tag}: files added or removed beside the input"
    );
    for (name, b) in &before {
        assert!(b == &after[name], "{tag}: {name} changed (bytes, mtime or mode)");
    }
    assert!(fs::read_dir(&out).unwrap().count() > 0, "{tag}: nothing written");
    for d in [&dir, &out, &cache] {
        if d.exists() {
            let _ = Command::new("chmod").arg("-R").arg("u+w").arg(d).status();
            let _ = fs::remove_dir_all(d);
        }
    }
}

fn one(path: &str) -> impl Fn(&Path) -> Vec<String> {
    let name = path.to_string();
    move |dir: &Path| vec![dir.join(&name).display().to_string()]
}

#[test]
fn every_format_is_only_read() {
    let s = repo().join("sample_traces/redundant_copies.sqlite");
    check("sqlite", &[("t.sqlite", s.clone())], &one("t.sqlite"));
    let k = repo().join("tests/fixtures/kineto/redundant_copies.kineto.json.gz");
    check("kineto-gz", &[("t.json.gz", k.clone())], &one("t.json.gz"));
    // Uncompressed Kineto.
    let plain = std::env::temp_dir().join(format!("tr-readonly-plain-{}.json", std::process::id()));
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(fs::File::open(&k).unwrap()),
        &mut text,
    )
    .unwrap();
    fs::write(&plain, &text).unwrap();
    check("kineto", &[("t.json", plain.clone())], &one("t.json"));
    let _ = fs::remove_file(&plain);
    let j = repo().join("tests/fixtures/nsys_json/redundant_copies.nsys.json.gz");
    check("nsys-json", &[("t.json.gz", j)], &one("t.json.gz"));
    let t = repo().join("tests/fixtures/trtexec");
    let trt = [
        ("e.graph.json", t.join("tiny_int8.graph.json")),
        ("e.profile.json", t.join("tiny_int8.profile.json")),
        ("e.build.metadata.json", t.join("tiny_int8.build.metadata.json")),
        (
            "e.profile.metadata.json",
            t.join("tiny_int8.profile.metadata.json"),
        ),
    ];
    check("trtexec-graph", &trt, &one("e.graph.json"));
    check("trtexec-profile", &trt, &one("e.profile.json"));
}

#[test]
fn nsys_rep_is_only_read() {
    // The stand-in nsys exports the sample the report names; the export
    // goes to the cache, never beside the report.
    let dir = std::env::temp_dir().join(format!("tr-readonly-rep-src-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let rep = dir.join("r.nsys-rep");
    fs::write(
        &rep,
        format!(
            "NVIDIA Tegra Profiler Report 1.\nsample={}\n",
            repo().join("sample_traces/redundant_copies.sqlite").display()
        ),
    )
    .unwrap();
    let fake = repo().join("tests/fixtures/fake-nsys");
    check("nsys-rep", &[("r.nsys-rep", rep)], &move |d: &Path| {
        vec![
            d.join("r.nsys-rep").display().to_string(),
            "--nsys".into(),
            fake.display().to_string(),
        ]
    });
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn diff_only_reads_both_sides() {
    // A saved report against a trace, and two traces.
    let s = repo().join("sample_traces/redundant_copies.sqlite");
    let k = repo().join("tests/fixtures/kineto/redundant_copies.kineto.json.gz");
    let saved = std::env::temp_dir().join(format!("tr-readonly-saved-{}", std::process::id()));
    let st = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .arg(&s)
        .args(["-q", "--format", "json", "-o"])
        .arg(&saved)
        .status()
        .unwrap();
    assert!(st.success());
    let files = [
        ("base.json", saved.join("report.json")),
        ("new.sqlite", s.clone()),
        ("other.json.gz", k),
    ];
    check("diff-report", &files, &|d: &Path| {
        vec![
            "diff".into(),
            d.join("base.json").display().to_string(),
            d.join("new.sqlite").display().to_string(),
        ]
    });
    check("diff-traces", &files, &|d: &Path| {
        vec![
            "diff".into(),
            d.join("new.sqlite").display().to_string(),
            d.join("other.json.gz").display().to_string(),
        ]
    });
    let _ = fs::remove_dir_all(&saved);
}
