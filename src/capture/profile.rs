//! `trace-report profile`: run a command under `nsys profile` and keep the
//! `.nsys-rep`. The command's own output passes through; while nsys runs a
//! spinner is drawn on stderr when it is a terminal.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use crate::capture::nsys::Found;
use crate::error::{Error, Result, shown};
use crate::progress::Progress;

/// What `nsys profile` records: CUDA, NVTX and OS runtime calls, without CPU
/// sampling or context switches (the analysis uses neither; both cost
/// overhead and file size).
pub const PROFILE_ARGS: &[&str] = &["-t", "cuda,nvtx,osrt", "--sample=none", "--cpuctxsw=none"];

/// A validated capture request.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureOptions {
    /// The `.nsys-rep` to write.
    pub report: PathBuf,
    /// Add `--gpu-metrics-devices=all`.
    pub gpu_metrics: bool,
    /// Overwrite an existing report (only when the user named it and asked).
    pub force: bool,
    /// The command and its arguments.
    pub command: Vec<OsString>,
}

/// The report path for `-o NAME` (or the default derived from the command).
/// A named report that exists is refused unless `force`; a default name
/// that exists gets a number (`infer-2.nsys-rep`), so nothing is overwritten.
pub fn report_path(name: Option<&Path>, force: bool, command: &[OsString]) -> Result<PathBuf> {
    if let Some(first) = command.first() {
        if first.to_string_lossy().starts_with('-') {
            return Err(Error::usage(format!(
                "profile: the command to run starts with an option ('{}'); put the command after --",
                first.to_string_lossy()
            )));
        }
    } else {
        return Err(Error::usage(
            "profile: no command to run (trace-report profile [-o NAME] -- CMD ARGS...)",
        ));
    }
    match name {
        Some(n) => {
            let s = n.as_os_str().to_string_lossy();
            if s.is_empty() || s.ends_with('/') {
                return Err(Error::usage(format!("profile -o '{s}': not a file name")));
            }
            // nsys expands %p, %h, %q{VAR} in output names.
            if s.contains('%') {
                return Err(Error::usage(format!(
                    "profile -o '{s}': the name may not contain '%' (nsys would expand it)"
                )));
            }
            let path = with_rep_extension(n);
            if path.exists() && !force {
                return Err(Error::usage(format!(
                    "{} exists: choose another -o NAME, or pass --force to overwrite it",
                    shown(&path)
                )));
            }
            if path.is_dir() {
                return Err(Error::usage(format!("{} is a directory", shown(&path))));
            }
            Ok(path)
        }
        None => {
            let base = default_name(command);
            let mut path = PathBuf::from(format!("{base}.nsys-rep"));
            let mut n = 2;
            while path.exists() || path.is_symlink() {
                path = PathBuf::from(format!("{base}-{n}.nsys-rep"));
                n += 1;
            }
            Ok(path)
        }
    }
}

/// `NAME` -> `NAME.nsys-rep` (kept as is when it already ends so).
fn with_rep_extension(name: &Path) -> PathBuf {
    if name.to_string_lossy().ends_with(".nsys-rep") {
        name.to_path_buf()
    } else {
        let mut s = name.as_os_str().to_owned();
        s.push(".nsys-rep");
        PathBuf::from(s)
    }
}

/// A report name from the command: the first argument after the program that
/// names an existing file (the script: `python3 examples/infer.py` ->
/// `infer`), else the program (`./bench --n 3` -> `bench`).
pub fn default_name(command: &[OsString]) -> String {
    let script = command
        .iter()
        .skip(1)
        .map(Path::new)
        .find(|a| !a.to_string_lossy().starts_with('-') && a.is_file());
    let pick = script.or_else(|| command.first().map(Path::new));
    let name = pick
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = crate::cli::report_name(Path::new(&name));
    if name == "trace" { "profile".into() } else { name }
}

/// Run the command under `nsys profile`. Ok when nsys and the command
/// succeeded and the report exists; the command's failure is an error that
/// names its exit status and keeps the report.
pub fn run(nsys: &Found, opts: &CaptureOptions, progress: &Progress) -> Result<()> {
    let mut cmd = Command::new(&nsys.path);
    cmd.arg("profile").args(PROFILE_ARGS);
    if opts.gpu_metrics {
        cmd.arg("--gpu-metrics-devices=all");
    }
    if opts.force {
        cmd.arg("--force-overwrite=true");
    }
    cmd.arg("-o").arg(&opts.report).args(&opts.command);
    // Relay the command's output only while a spinner is drawn, so the two
    // don't garble each other; otherwise the child writes straight to ours
    // (and keeps seeing a terminal when there is one).
    let relay = progress.is_active();
    if relay {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let shown_cmd = command_line(&opts.command);
    progress.spin(&format!("profiling {shown_cmd} with nsys"));
    let mut child = cmd.spawn().map_err(|e| {
        Error::tool(format!(
            "cannot run {} ({}): {}",
            shown(&nsys.path),
            nsys.how,
            crate::input::io_problem(&e)
        ))
    })?;
    let status = if relay {
        let (out, err) = (child.stdout.take(), child.stderr.take());
        std::thread::scope(|s| {
            if let Some(out) = out {
                s.spawn(|| relay_to(out, std::io::stdout(), progress));
            }
            if let Some(err) = err {
                s.spawn(|| relay_to(err, std::io::stderr(), progress));
            }
            wait_status(&mut child, progress)
        })
    } else {
        wait_status(&mut child, progress)
    }
    .map_err(|e| Error::tool(format!("waiting for nsys profile: {e}")))?;
    progress.finish();
    let written = opts.report.is_file();
    match (status.success(), written) {
        (true, true) => Ok(()),
        (false, true) => Err(Error::tool(format!(
            "the profiled command failed ({}): {shown_cmd}; the capture so far is in {} \
             (trace-report {} analyses it)",
            describe_status(&status),
            shown(&opts.report),
            shown(&opts.report)
        ))),
        (true, false) => Err(Error::tool(format!(
            "nsys profile ({}) finished but wrote no {}",
            shown(&nsys.path),
            shown(&opts.report)
        ))),
        (false, false) => Err(Error::tool(format!(
            "nsys profile failed ({}) and wrote no {}: {shown_cmd} (see nsys's messages above)",
            describe_status(&status),
            shown(&opts.report)
        ))),
    }
}

/// The command as one shell-like line, for messages.
pub fn command_line(command: &[OsString]) -> String {
    let parts: Vec<String> = command
        .iter()
        .map(|a| {
            let s = a.to_string_lossy();
            if !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || "-_./=:,+@%".contains(c)) {
                s.into_owned()
            } else {
                format!("'{}'", s.replace('\'', r"'\''"))
            }
        })
        .collect();
    parts.join(" ")
}

/// "exit status 3" or "killed by signal 9".
pub fn describe_status(status: &ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    status.to_string()
}

/// Copy a child's output to ours, with the spinner lifted while writing.
fn relay_to(mut from: impl Read, mut to: impl Write, progress: &Progress) {
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let ok = progress.suspend(|| to.write_all(&buf[..n]).and_then(|_| to.flush()));
                if ok.is_err() {
                    // Our output is gone (closed pipe): keep draining so the
                    // child never blocks on a full pipe.
                    let _ = std::io::copy(&mut from, &mut std::io::sink());
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

const TICK: Duration = Duration::from_millis(100);

/// Wait for `child`, keeping the spinner turning.
fn wait_status(child: &mut Child, progress: &Progress) -> std::io::Result<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        progress.tick();
        std::thread::sleep(TICK);
    }
}

/// Wait for `child` and collect its piped output, keeping the spinner turning.
pub fn wait_ticking(child: Child, progress: &Progress) -> std::io::Result<Output> {
    std::thread::scope(|s| {
        let h = s.spawn(|| child.wait_with_output());
        while !h.is_finished() {
            progress.tick();
            std::thread::sleep(TICK);
        }
        h.join()
            .unwrap_or_else(|_| Err(std::io::Error::other("output reader panicked")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn names_from_commands() {
        // Cargo runs tests in the package root, where these files exist.
        assert_eq!(
            default_name(&args(&["python3", "examples/infer.py", "--iters", "5"])),
            "infer"
        );
        assert_eq!(
            default_name(&args(&["python3", "-u", "examples/infer.py"])),
            "infer"
        );
        assert_eq!(default_name(&args(&["python3", "-m", "mod.main"])), "python3");
        assert_eq!(default_name(&args(&["./bench", "--n", "3"])), "bench");
        assert_eq!(default_name(&args(&["/usr/bin/we ird"])), "we_ird");
    }

    #[test]
    fn command_lines_are_quoted() {
        assert_eq!(
            command_line(&args(&["python3", "a b.py", "it's", "--x=1"])),
            r"python3 'a b.py' 'it'\''s' --x=1"
        );
    }

    #[test]
    fn report_paths() {
        let cmd = args(&["python3", "x.py"]);
        assert_eq!(
            report_path(Some(Path::new("out/run")), false, &cmd).unwrap(),
            PathBuf::from("out/run.nsys-rep")
        );
        assert_eq!(
            report_path(Some(Path::new("run.nsys-rep")), false, &cmd).unwrap(),
            PathBuf::from("run.nsys-rep")
        );
        assert!(report_path(Some(Path::new("a%p")), false, &cmd).is_err());
        assert!(report_path(None, false, &[]).is_err());
        assert!(report_path(None, false, &args(&["--x"])).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn statuses_are_named() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(describe_status(&ExitStatus::from_raw(3 << 8)), "exit status 3");
        assert_eq!(describe_status(&ExitStatus::from_raw(9)), "killed by signal 9");
    }

    #[test]
    fn relay_copies_everything() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        relay_to(&data[..], &mut out, &Progress::hidden());
        assert_eq!(out, data);
    }
}
