//! The analysis cache: a second run on an unchanged trace reads the stored
//! result and writes the same bytes; any change to the trace, a damaged
//! entry or a cache that cannot be written falls back to analysing.
//!
//! Oracles: the same command with `--no-cache` (which never reads or writes
//! the cache) writes the reference files, and whether a run read the trace
//! is seen in its stage timings (`TRACE_REPORT_TIMINGS`: a `load` stage
//! only when the trace was read).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tr-cache-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Run with `args` and the cache in `cache`; stage timings on.
fn run(cache: &Path, args: &[&std::ffi::OsStr]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .args(args)
        .arg("-q")
        .env("TRACE_REPORT_CACHE", cache)
        .env("TRACE_REPORT_TIMINGS", "1")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Whether the run read its trace(s).
fn loaded(o: &Output) -> bool {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .any(|l| l.starts_with("timing: load "))
}

/// Analyse `input` into `out` (a folder).
fn analyse(cache: &Path, input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![input.as_os_str(), "-o".as_ref(), out.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    run(cache, &args)
}

/// The files of a report folder, by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn assert_same(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fa), names(&fb));
    for ((n, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{n} differs between {} and {}", a.display(), b.display());
    }
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(cache.join("analysis")) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn a_second_run_reads_the_cache_and_writes_the_same_bytes() {
    let d = scratch("hit");
    let cache = d.join("cache");
    let input = d.join("copies.sqlite");
    fs::copy(repo().join("sample_traces/redundant_copies.sqlite"), &input).unwrap();
    let reference = d.join("reference");
    let o = analyse(&cache, &input, &reference, &["--no-cache"]);
    assert!(loaded(&o));
    assert!(entries(&cache).is_empty(), "--no-cache wrote an entry");

    let first = d.join("first");
    assert!(loaded(&analyse(&cache, &input, &first, &[])));
    assert_eq!(entries(&cache).len(), 1);
    let second = d.join("second");
    let o = analyse(&cache, &input, &second, &[]);
    assert!(!loaded(&o), "the second run read the trace again");
    assert_same(&reference, &first);
    assert_same(&reference, &second);
    // The terminal summary too.
    let summary = |extra: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_trace-report"))
            .arg(&input)
            .arg("-o")
            .arg(d.join("summary"))
            .args(extra)
            .env("TRACE_REPORT_CACHE", &cache)
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(summary(&[]), summary(&["--no-cache"]));

    // Other analysis options are another entry, not this one's result.
    let whole = d.join("whole");
    assert!(loaded(&analyse(&cache, &input, &whole, &["--whole-capture"])));
    let whole_ref = d.join("whole-ref");
    analyse(&cache, &input, &whole_ref, &["--whole-capture", "--no-cache"]);
    assert_same(&whole_ref, &whole);
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn a_changed_trace_is_analysed_again() {
    let d = scratch("changed");
    let cache = d.join("cache");
    let input = d.join("copies.sqlite");
    fs::copy(repo().join("sample_traces/redundant_copies.sqlite"), &input).unwrap();
    let first = d.join("first");
    analyse(&cache, &input, &first, &[]);

    // Touched: a new mtime is another version, whatever the bytes.
    let f = fs::File::options().write(true).open(&input).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    drop(f);
    let touched = d.join("touched");
    assert!(loaded(&analyse(&cache, &input, &touched, &[])));
    assert_same(&first, &touched);
    // The older entry of this trace is gone.
    assert_eq!(entries(&cache).len(), 1);

    // Changed: half the kernels deleted, then the original mtime restored
    // (size and times alone would not tell).
    let mtime = fs::metadata(&input).unwrap().modified().unwrap();
    {
        let conn = rusqlite::Connection::open(&input).unwrap();
        conn.execute_batch("DELETE FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE rowid % 2 = 0;")
            .unwrap();
    }
    fs::File::options()
        .write(true)
        .open(&input)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let changed = d.join("changed");
    assert!(loaded(&analyse(&cache, &input, &changed, &[])));
    let changed_ref = d.join("changed-ref");
    analyse(&cache, &input, &changed_ref, &["--no-cache"]);
    assert_same(&changed_ref, &changed);
    assert_ne!(
        fs::read(first.join("report.json")).unwrap(),
        fs::read(changed.join("report.json")).unwrap()
    );
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn a_damaged_entry_is_a_miss_not_an_error() {
    let d = scratch("damaged");
    let cache = d.join("cache");
    let input = d.join("copies.sqlite");
    fs::copy(repo().join("sample_traces/redundant_copies.sqlite"), &input).unwrap();
    let first = d.join("first");
    analyse(&cache, &input, &first, &[]);
    let entry = entries(&cache).pop().unwrap();
    let bytes = fs::read(&entry).unwrap();
    for cut in [bytes.len() / 2, 0] {
        // Truncated mid-write by something else, or emptied.
        fs::write(&entry, &bytes[..cut]).unwrap();
        let again = d.join(format!("again-{cut}"));
        assert!(loaded(&analyse(&cache, &input, &again, &[])));
        assert_same(&first, &again);
        // Rewritten whole: the next run is a hit.
        assert!(!loaded(&analyse(&cache, &input, &again, &[])));
    }
    // No temporary files left behind.
    let names: Vec<String> = fs::read_dir(cache.join("analysis"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn read_only_inputs_and_an_unwritable_cache_work() {
    let d = scratch("readonly");
    let inputs = d.join("inputs");
    fs::create_dir_all(&inputs).unwrap();
    let input = inputs.join("copies.sqlite");
    fs::copy(repo().join("sample_traces/redundant_copies.sqlite"), &input).unwrap();
    fs::set_permissions(&input, fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(&inputs, fs::Permissions::from_mode(0o555)).unwrap();
    let listing = || {
        let mut v: Vec<String> = fs::read_dir(&inputs)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let cache = d.join("cache");
    let first = d.join("first");
    assert!(loaded(&analyse(&cache, &input, &first, &[])));
    let second = d.join("second");
    assert!(!loaded(&analyse(&cache, &input, &second, &[])));
    assert_same(&first, &second);
    assert_eq!(
        listing(),
        ["copies.sqlite"],
        "something was written beside the input"
    );

    // A cache folder that cannot be made (a file stands in its way): no
    // error, the same reports, every run analyses.
    let blocked = d.join("blocked");
    fs::write(&blocked, b"").unwrap();
    for name in ["b1", "b2"] {
        let out = d.join(name);
        assert!(loaded(&analyse(&blocked, &input, &out, &[])));
        assert_same(&first, &out);
    }
    fs::set_permissions(&inputs, fs::Permissions::from_mode(0o755)).unwrap();
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn diff_and_jobs_reuse_their_analyses() {
    let d = scratch("diff");
    let cache = d.join("cache");
    let base = repo().join("sample_traces/bert_fp16_aligned.sqlite");
    let new = repo().join("sample_traces/bert_fp16_misaligned.sqlite");
    let diff = |out: &Path, extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "diff".as_ref(),
            base.as_os_str(),
            new.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        run(&cache, &args)
    };
    let reference = d.join("diff-ref");
    diff(&reference, &["--no-cache"]);
    let first = d.join("diff1");
    assert!(loaded(&diff(&first, &[])));
    let second = d.join("diff2");
    assert!(!loaded(&diff(&second, &[])));
    assert_same(&reference, &first);
    assert_same(&reference, &second);
    // The main command's entry serves a diff side and the other way round.
    let single = d.join("single");
    assert!(!loaded(&analyse(&cache, &base, &single, &[])));

    // A capture of two processes: its job report comes from the cache too.
    let ddp = repo().join("tests/fixtures/ddp_2gpu_nccl.sqlite");
    let job_ref = d.join("job-ref");
    analyse(&cache, &ddp, &job_ref, &["--no-cache"]);
    assert!(job_ref.join("job.json").exists());
    let j1 = d.join("job1");
    assert!(loaded(&analyse(&cache, &ddp, &j1, &[])));
    let j2 = d.join("job2");
    assert!(!loaded(&analyse(&cache, &ddp, &j2, &[])));
    assert_same(&job_ref, &j2);

    // A job folder that gained a file: only the new one is read.
    let ranks = d.join("ranks");
    fs::create_dir_all(&ranks).unwrap();
    fs::copy(
        repo().join("tests/fixtures/ddp_slow_rank0.sqlite"),
        ranks.join("ddp_slow_rank0.sqlite"),
    )
    .unwrap();
    let count_loads = |o: &Output| {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter(|l| l.starts_with("timing: load "))
            .count()
    };
    let f1 = d.join("f1");
    assert_eq!(count_loads(&analyse(&cache, &ranks, &f1, &[])), 1);
    fs::copy(
        repo().join("tests/fixtures/ddp_slow_rank1.sqlite"),
        ranks.join("ddp_slow_rank1.sqlite"),
    )
    .unwrap();
    let f2 = d.join("f2");
    assert_eq!(count_loads(&analyse(&cache, &ranks, &f2, &[])), 1);
    let f_ref = d.join("f-ref");
    analyse(&cache, &ranks, &f_ref, &["--no-cache"]);
    assert_same(&f_ref, &f2);
    let _ = fs::remove_dir_all(&d);
}
