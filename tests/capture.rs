//! `.nsys-rep` inputs and `trace-report profile`, end to end through the
//! binary, with the stand-in nsys (`tests/fixtures/fake-nsys`): CI has no
//! GPU and no nsys. The stand-in checks its arguments like the real CLI and
//! "exports" the SQLite sample a report names, so every analysed number
//! below is checked against SQL over that sample.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_trace-report");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn sample(name: &str) -> PathBuf {
    Path::new(ROOT).join("sample_traces").join(name)
}

/// Kernels in a sample, straight from its kernel table.
fn sql_kernel_count(sample: &Path) -> u64 {
    let conn =
        rusqlite::Connection::open_with_flags(sample, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL", [], |r| {
            r.get(0)
        })
        .unwrap();
    n as u64
}

/// A scratch folder with its own cache, HOME and copies of the stand-in.
struct Env {
    dir: PathBuf,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

impl Env {
    fn new(name: &str) -> Env {
        let dir = std::env::temp_dir().join(format!(
            "trace-report-capture-{name}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("work")).unwrap();
        fs::create_dir_all(dir.join("empty-path")).unwrap();
        Env { dir }
    }

    fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    fn cache(&self) -> PathBuf {
        self.dir.join("cache")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("nsys.log")
    }

    /// Install the stand-in as `rel` (e.g. `bin/nsys`).
    fn nsys(&self, rel: &str) -> PathBuf {
        let p = self.dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::copy(Path::new(ROOT).join("tests/fixtures/fake-nsys"), &p).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
        p
    }

    /// A report as the stand-in writes it, standing for `sample`.
    fn report(&self, name: &str, sample: &Path) -> PathBuf {
        let p = self.work().join(name);
        fs::write(
            &p,
            format!(
                "NVIDIA Tegra Profiler Report 0.\nstand-in report\nsample={}\n",
                sample.display()
            ),
        )
        .unwrap();
        p
    }

    /// The binary, run in `work/`, with no nsys anywhere unless given.
    fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.work())
            .env_remove("NSYS")
            .env_remove("XDG_CACHE_HOME")
            .env("PATH", self.path_with(&[]))
            .env("HOME", &self.dir)
            .env("TRACE_REPORT_CACHE", self.cache())
            .env("FAKE_NSYS_LOG", self.log())
            .env("FAKE_NSYS_SAMPLE", sample("redundant_copies.sqlite"));
        c
    }

    /// PATH: `dirs`, then the folders sh and coreutils live in.
    fn path_with(&self, dirs: &[&Path]) -> std::ffi::OsString {
        let mut all: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
        all.push(self.dir.join("empty-path"));
        all.push("/usr/bin".into());
        all.push("/bin".into());
        std::env::join_paths(all).unwrap()
    }

    /// Calls the stand-in received, as logged lines.
    fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    fn exports(&self) -> usize {
        self.calls()
            .iter()
            .filter(|l| l.split(' ').nth(1) == Some("export"))
            .count()
    }

    fn cached_files(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.cache().join("nsys-export"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Our own message lines on stderr (the child's output is not ours).
fn our_lines(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter(|l| l.starts_with("trace-report:"))
        .map(String::from)
        .collect()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn kernel_total(report: &serde_json::Value) -> u64 {
    report["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["count"].as_u64().unwrap())
        .sum()
}

/// Bytes and mtime, to prove a file was left alone.
fn fingerprint(p: &Path) -> (Vec<u8>, std::time::SystemTime) {
    (fs::read(p).unwrap(), fs::metadata(p).unwrap().modified().unwrap())
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn nsys_rep_is_exported_once_and_analysed() {
    let env = Env::new("rep");
    let nsys = env.nsys("bin/nsys");
    let s = sample("redundant_copies.sqlite");
    let rep = env.report("run.nsys-rep", &s);
    // The user's own files beside the report must survive.
    fs::write(env.work().join("run.sqlite"), "my own notes").unwrap();
    let before = fingerprint(&rep);
    let files_before = listing(&env.work());

    let first = run(env
        .cmd()
        .arg("run.nsys-rep")
        .args(["--whole-capture", "-o", "r1"])
        .env("PATH", env.path_with(&[nsys.parent().unwrap()])));
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(env.exports(), 1);
    let call = &env.calls()[0];
    assert!(call.starts_with("nsys export --type sqlite -o "), "{call}");
    assert!(call.ends_with(" run.nsys-rep"), "{call}");
    let r1 = json(&env.work().join("r1/report.json"));
    assert_eq!(kernel_total(&r1), sql_kernel_count(&s));
    assert_eq!(r1["source"]["format"], "nsys-rep");
    assert_eq!(r1["source"]["path"], "run.nsys-rep");

    // Unchanged report: the cached export is used, even with no nsys at all.
    let second = run(env
        .cmd()
        .arg("run.nsys-rep")
        .args(["--whole-capture", "-o", "r2"]));
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(env.exports(), 1, "the second run must not export again");
    assert_eq!(
        kernel_total(&json(&env.work().join("r2/report.json"))),
        sql_kernel_count(&s)
    );

    // The report and the user's files are untouched; nothing was added
    // beside the report except the report folders asked for.
    assert_eq!(fingerprint(&rep), before);
    assert_eq!(
        fs::read_to_string(env.work().join("run.sqlite")).unwrap(),
        "my own notes"
    );
    let mut expected = files_before.clone();
    expected.extend(["r1".to_string(), "r2".to_string()]);
    expected.sort();
    assert_eq!(listing(&env.work()), expected);
    assert_eq!(env.cached_files().len(), 1);

    // A changed report (now standing for another capture) is exported anew
    // and the stale export is removed.
    let other = sample("gemm_int8_fp16_fp32.sqlite");
    env.report("run.nsys-rep", &other);
    let third = run(env
        .cmd()
        .arg("run.nsys-rep")
        .args(["--whole-capture", "-o", "r3"])
        .env("NSYS", &nsys));
    assert!(third.status.success(), "{}", stderr(&third));
    assert_eq!(env.exports(), 2);
    assert_eq!(
        kernel_total(&json(&env.work().join("r3/report.json"))),
        sql_kernel_count(&other)
    );
    assert_ne!(sql_kernel_count(&other), sql_kernel_count(&s));
    assert_eq!(env.cached_files().len(), 1, "{:?}", env.cached_files());
}

#[test]
fn nsys_rep_is_recognised_by_content() {
    let env = Env::new("content");
    let nsys = env.nsys("bin/nsys");
    let s = sample("redundant_copies.sqlite");
    env.report("capture.bin", &s);
    let out = run(env
        .cmd()
        .args(["capture.bin", "--whole-capture", "-o", "r", "--nsys"])
        .arg(&nsys));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        kernel_total(&json(&env.work().join("r/report.json"))),
        sql_kernel_count(&s)
    );
}

#[test]
fn nsys_is_found_in_order() {
    let env = Env::new("order");
    let on_path = env.nsys("bin/nsys");
    let from_env = env.nsys("env/nsys-env");
    let from_flag = env.nsys("flag/nsys-flag");
    let s = sample("redundant_copies.sqlite");
    env.report("a.nsys-rep", &s);
    let path = env.path_with(&[on_path.parent().unwrap()]);
    let cases: [(&str, Option<&Path>, Option<&Path>); 3] = [
        ("nsys", None, None),
        ("nsys-env", Some(&from_env), None),
        ("nsys-flag", Some(&from_env), Some(&from_flag)),
    ];
    for (expected, env_var, flag) in cases {
        let _ = fs::remove_dir_all(env.cache());
        let _ = fs::remove_file(env.log());
        let mut c = env.cmd();
        c.args(["a.nsys-rep", "-q", "--format", "json", "-o", "r"])
            .env("PATH", &path);
        if let Some(e) = env_var {
            c.env("NSYS", e);
        }
        if let Some(f) = flag {
            c.arg("--nsys").arg(f);
        }
        let out = run(&mut c);
        assert!(out.status.success(), "{expected}: {}", stderr(&out));
        let calls = env.calls();
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0].split(' ').next(), Some(expected), "{calls:?}");
    }
    // A named nsys that does not exist is an error, not a fallback.
    let out = run(env
        .cmd()
        .args(["a.nsys-rep", "--nsys", "/no/such/nsys"])
        .env("PATH", &path));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        our_lines(&out),
        ["trace-report: error: --nsys /no/such/nsys: no such file"]
    );
    // NSYS is only looked at when an export is needed.
    let _ = fs::remove_dir_all(env.cache());
    let out = run(env
        .cmd()
        .arg("a.nsys-rep")
        .env("NSYS", "/no/such/nsys")
        .env("PATH", &path));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        our_lines(&out),
        ["trace-report: error: a.nsys-rep: cannot export it: NSYS /no/such/nsys: no such file"]
    );
}

/// Whether this machine has a real nsys in an install folder (then the
/// no-nsys cases cannot be arranged here).
fn installed_nsys() -> bool {
    trace_report::nsys::find_in(None, None, None, Path::new("/"))
        .ok()
        .flatten()
        .is_some()
}

#[test]
fn no_nsys_is_a_clear_error() {
    if installed_nsys() {
        eprintln!("skipped: this machine has nsys in an install folder");
        return;
    }
    let env = Env::new("none");
    env.report("run.nsys-rep", &sample("redundant_copies.sqlite"));
    let out = run(env.cmd().arg("run.nsys-rep"));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("trace-report: error: run.nsys-rep: reading a .nsys-rep needs Nsight Systems' nsys"),
        "{err}"
    );
    assert!(
        err.contains("nsys export --type sqlite -o run.sqlite run.nsys-rep"),
        "{err}"
    );
    assert!(!env.work().join("run.sqlite").exists());

    let out = run(env.cmd().args(["profile", "--", "true"]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("trace-report: error: profile needs Nsight Systems' nsys and none was found"),
        "{err}"
    );
}

#[test]
fn failed_export_names_the_file() {
    let env = Env::new("badrep");
    let nsys = env.nsys("bin/nsys");
    fs::write(env.work().join("broken.nsys-rep"), "not a report\n").unwrap();
    let out = run(env.cmd().arg("broken.nsys-rep").arg("--nsys").arg(&nsys));
    assert_eq!(out.status.code(), Some(2));
    let lines = our_lines(&out);
    assert_eq!(lines.len(), 1, "{}", stderr(&out));
    assert!(
        lines[0].starts_with(
            "trace-report: error: broken.nsys-rep: nsys export --type sqlite failed (exit status 1"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with("not an Nsight Systems report"), "{}", lines[0]);
    assert!(env.cached_files().is_empty(), "{:?}", env.cached_files());
}

#[test]
fn profile_captures_exports_and_reports() {
    let env = Env::new("profile");
    let nsys = env.nsys("bin/nsys");
    let s = sample("gemm_int8_fp16_fp32.sqlite");
    fs::write(env.work().join("job.sh"), "echo to-stdout; echo to-stderr >&2\n").unwrap();
    let out = run(env
        .cmd()
        .args(["profile", "--whole-capture", "--host-sampling", "off", "--nsys"])
        .arg(&nsys)
        .args(["--", "sh", "job.sh", "--flag"])
        .env("FAKE_NSYS_SAMPLE", &s));
    assert!(out.status.success(), "{}", stderr(&out));
    // The command's own output passes through.
    assert!(stdout(&out).contains("to-stdout"), "{}", stdout(&out));
    assert!(stderr(&out).contains("to-stderr"), "{}", stderr(&out));
    // Named after the script; the documented nsys arguments.
    let calls = env.calls();
    assert_eq!(
        calls[0],
        "nsys profile -t cuda,nvtx,osrt --sample=none --cpuctxsw=none --cuda-graph-trace=node -o job.nsys-rep sh job.sh --flag"
    );
    assert_eq!(env.exports(), 1);
    assert!(env.work().join("job.nsys-rep").is_file());
    let report = json(&env.work().join("reports/job/report.json"));
    assert_eq!(kernel_total(&report), sql_kernel_count(&s));
    assert_eq!(report["source"]["path"], "job.nsys-rep");

    // The default name never overwrites: a second capture is numbered.
    let before = fingerprint(&env.work().join("job.nsys-rep"));
    let out = run(env
        .cmd()
        .args([
            "profile",
            "-q",
            "--gpu-metrics",
            "--host-sampling",
            "on",
            "--nsys",
        ])
        .arg(&nsys)
        .args(["--", "sh", "job.sh"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fingerprint(&env.work().join("job.nsys-rep")), before);
    assert!(env.work().join("job-2.nsys-rep").is_file());
    assert!(env.work().join("reports/job-2/report.json").is_file());
    assert_eq!(
        env.calls()[2],
        "nsys profile -t cuda,nvtx,osrt --sample=process-tree --cpuctxsw=process-tree --cuda-graph-trace=node --gpu-metrics-devices=all -o job-2.nsys-rep sh job.sh"
    );
    assert!(our_lines(&out).is_empty(), "-q: {}", stderr(&out));
}

/// The memory cap is trace-report's own: nsys and the profiled command
/// get the data-segment limit trace-report started with.
#[test]
fn profiled_command_does_not_inherit_the_memory_cap() {
    let env = Env::new("cap");
    let nsys = env.nsys("bin/nsys");
    fs::write(env.work().join("job.sh"), "ulimit -d > limit.txt\n").unwrap();
    let out = run(env
        .cmd()
        .args(["profile", "-q", "--whole-capture", "--nsys"])
        .arg(&nsys)
        .args(["--", "sh", "job.sh"])
        .env("TRACE_REPORT_MAX_MEMORY", "256M"));
    assert!(out.status.success(), "{}", stderr(&out));
    // What this test process has (and passes to the binary).
    let ours = Command::new("sh").args(["-c", "ulimit -d"]).output().unwrap();
    let child = fs::read_to_string(env.work().join("limit.txt")).unwrap();
    assert_eq!(child.trim(), String::from_utf8_lossy(&ours.stdout).trim());
    assert_ne!(child.trim(), "262144", "the child got the cap");
}

#[test]
fn profile_never_overwrites_unasked() {
    let env = Env::new("overwrite");
    let nsys = env.nsys("bin/nsys");
    let mine = env.work().join("run.nsys-rep");
    fs::write(&mine, "a file of mine").unwrap();
    let before = fingerprint(&mine);
    let out = run(env
        .cmd()
        .args(["profile", "-o", "run", "--nsys"])
        .arg(&nsys)
        .args(["--", "true"]));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        our_lines(&out),
        ["trace-report: error: run.nsys-rep exists: choose another -o NAME, or pass --force to overwrite it"]
    );
    assert_eq!(fingerprint(&mine), before);
    assert!(env.calls().is_empty(), "nsys must not even start");

    // Asked: --force overwrites (and tells nsys so).
    let out = run(env
        .cmd()
        .args(["profile", "-o", "run", "--force", "-q", "--nsys"])
        .arg(&nsys)
        .args(["--", "true"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        env.calls()[0].contains(" --force-overwrite=true -o run.nsys-rep true"),
        "{:?}",
        env.calls()
    );
    assert!(
        fs::read(&mine)
            .unwrap()
            .starts_with(b"NVIDIA Tegra Profiler Report")
    );
}

#[test]
fn profiled_command_failure_is_passed_through() {
    let env = Env::new("fail");
    let nsys = env.nsys("bin/nsys");
    let out = run(env
        .cmd()
        .args(["profile", "-o", "bad", "--nsys"])
        .arg(&nsys)
        .args(["--", "sh", "-c", "echo about to fail >&2; exit 3"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("about to fail"));
    let lines = our_lines(&out);
    assert_eq!(lines.len(), 1, "{}", stderr(&out));
    assert!(
        lines[0].starts_with(
            "trace-report: error: the profiled command failed (exit status 3): sh -c 'echo about to fail >&2; exit 3';"
        ),
        "{}",
        lines[0]
    );
    // The capture is kept for a look, but no report is written and nothing exported.
    assert!(env.work().join("bad.nsys-rep").is_file());
    assert!(!env.work().join("reports").exists());
    assert_eq!(env.exports(), 0);

    // nsys itself failing (here: a bad argument it rejects) is named too.
    let out = run(env
        .cmd()
        .args(["profile", "-o", "x", "--nsys"])
        .arg(&nsys)
        .args(["--", "true"])
        .env_remove("FAKE_NSYS_SAMPLE"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        our_lines(&out),
        [
            "trace-report: error: nsys profile failed (exit status 1) and wrote no x.nsys-rep: true (see nsys's messages above)"
        ]
    );
}

#[test]
fn stand_in_rejects_what_nsys_rejects() {
    let env = Env::new("strict");
    let nsys = env.nsys("bin/nsys");
    let rep = env.report("a.nsys-rep", &sample("redundant_copies.sqlite"));
    let nsys_run = |args: &[&OsStr]| {
        Command::new(&nsys)
            .current_dir(env.work())
            .args(args)
            .env("FAKE_NSYS_SAMPLE", sample("redundant_copies.sqlite"))
            .output()
            .unwrap()
            .status
            .success()
    };
    let o = |s: &'static str| OsStr::new(s);
    assert!(nsys_run(&[
        o("export"),
        o("--type"),
        o("sqlite"),
        o("-o"),
        o("ok.sqlite"),
        rep.as_os_str()
    ]));
    assert!(
        !nsys_run(&[
            o("export"),
            o("--type"),
            o("sqlite"),
            o("-o"),
            o("ok.sqlite"),
            rep.as_os_str()
        ]),
        "exists"
    );
    assert!(
        !nsys_run(&[o("export"), o("-o"), o("b.sqlite"), rep.as_os_str()]),
        "no --type"
    );
    assert!(
        !nsys_run(&[o("export"), o("--type=csv"), o("-o"), o("b.csv"), rep.as_os_str()]),
        "bad type"
    );
    assert!(
        !nsys_run(&[o("export"), o("--type=sqlite"), o("--bogus=1"), rep.as_os_str()]),
        "bad option"
    );
    assert!(
        !nsys_run(&[o("profile"), o("-t"), o("cuda,bogus"), o("true")]),
        "bad trace"
    );
    assert!(
        !nsys_run(&[o("profile"), o("--sample=some"), o("true")]),
        "bad sample"
    );
    assert!(!nsys_run(&[o("profile"), o("-o"), o("p")]), "no application");
    assert!(nsys_run(&[
        o("profile"),
        o("-t"),
        o("cuda,nvtx,osrt"),
        o("-o"),
        o("p"),
        o("true")
    ]));
    assert!(env.work().join("p.nsys-rep").is_file());
}

/// SQL over `db`: (iter ranges, their summed length, kernels starting in
/// one, host-to-device bytes of copies starting in one).
fn sql_iter_oracle(db: &Path) -> (i64, i64, i64, i64) {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let iters = "SELECT n.start, n.end FROM NVTX_EVENTS n LEFT JOIN StringIds s ON s.id = n.textId \
                 WHERE coalesce(n.text, s.value) = 'iter'";
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    (
        one(&format!("SELECT count(*) FROM ({iters})")),
        one(&format!("SELECT sum(end - start) FROM ({iters})")),
        one(&format!(
            "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k \
             WHERE EXISTS (SELECT 1 FROM ({iters}) i WHERE k.start >= i.start AND k.start < i.end)"
        )),
        one(&format!(
            "SELECT sum(bytes) FROM CUPTI_ACTIVITY_KIND_MEMCPY m JOIN ENUM_CUDA_MEMCPY_OPER e ON e.id = m.copyKind \
             WHERE e.name = 'CUDA_MEMCPY_KIND_HTOD' \
             AND EXISTS (SELECT 1 FROM ({iters}) i WHERE m.start >= i.start AND m.start < i.end)"
        )),
    )
}

/// The README's example: `profile -- python3 examples/infer.py`, here with
/// the stand-in nsys handing back the real capture of that script on an
/// H100 (tests/fixtures/infer_h100.sqlite).
#[test]
fn example_capture_through_profile() {
    let env = Env::new("example");
    let nsys = env.nsys("bin/nsys");
    let db = Path::new(ROOT).join("tests/fixtures/infer_h100.sqlite");
    let out = run(env
        .cmd()
        .args(["profile", "-q", "--nsys"])
        .arg(&nsys)
        .args(["--", "true"])
        .env("FAKE_NSYS_SAMPLE", &db));
    assert!(out.status.success(), "{}", stderr(&out));
    let r = json(&env.work().join("reports/true/report.json"));
    let (iters, iter_ns, kernels, htod) = sql_iter_oracle(&db);
    // The script's shape: 12 measured iterations; each uploads one batch of
    // 32 uint8 224x224x3 images.
    assert_eq!(iters, 12);
    assert_eq!(htod, 12 * 32 * 224 * 224 * 3);
    assert_eq!(r["window"]["iteration_range"], "iter");
    assert_eq!(r["window"]["iterations"].as_i64(), Some(iters));
    // The iterations run one after another, so their union is their sum.
    assert_eq!(r["window"]["duration_ns"].as_i64(), Some(iter_ns));
    assert_eq!(kernel_total(&r) as i64, kernels);
    let htod_report: i64 = r["memcpy"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "HtoD")
        .map(|m| m["bytes"].as_i64().unwrap())
        .sum();
    assert_eq!(htod_report, htod);
}

/// With the report on stdout, the command's own stdout goes to stderr so
/// the document stays clean.
#[test]
fn profile_report_to_stdout_stays_clean() {
    let env = Env::new("stdout");
    let nsys = env.nsys("bin/nsys");
    let s = sample("redundant_copies.sqlite");
    let out = run(env
        .cmd()
        .args([
            "profile",
            "--whole-capture",
            "--report-dir",
            "-",
            "--format",
            "json",
            "--nsys",
        ])
        .arg(&nsys)
        .args(["--", "sh", "-c", "echo chatter"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON report");
    assert_eq!(kernel_total(&report), sql_kernel_count(&s));
    assert!(stderr(&out).contains("chatter"), "{}", stderr(&out));
    assert!(!env.work().join("reports").exists());
}
