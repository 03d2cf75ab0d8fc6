//! `trace-report profile`: run a command under `nsys profile` and keep the
//! `.nsys-rep`. The command's own output passes through; while nsys runs a
//! spinner is drawn on stderr when it is a terminal.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result, shown};
use crate::nsys::Found;
use crate::nsys::child::{describe_status, wait_status};
use crate::progress::Progress;

/// What `nsys profile` records: CUDA, NVTX and OS runtime calls, and the
/// kernels inside CUDA graphs (nsys's default records a graph launch as one
/// span, hiding its kernels); without CPU sampling or context switches
/// unless [`SAMPLING_ARGS`] replace them.
pub const PROFILE_ARGS: &[&str] = &[
    "-t",
    "cuda,nvtx,osrt",
    "--sample=none",
    "--cpuctxsw=none",
    "--cuda-graph-trace=node",
];

/// With host sampling: CPU samples with native call stacks of the profiled
/// process tree (what the host ran while the GPU waited), and its context
/// switches (checked with nsys 2025.3.1 on an H200 machine). nsys's Python
/// sampling is left off: its SQLite export does not link the Python frames
/// to the samples.
pub const SAMPLING_ARGS: &[&str] = &["--sample=process-tree", "--cpuctxsw=process-tree"];

/// The arguments of `nsys profile` before the output and the command.
pub fn profile_args(host_sampling: bool) -> Vec<&'static str> {
    PROFILE_ARGS
        .iter()
        .copied()
        .filter(|a| !(host_sampling && (a.starts_with("--sample=") || a.starts_with("--cpuctxsw="))))
        .flat_map(|a| {
            let extra: &[&str] = if host_sampling && a.starts_with("--cuda-graph-trace") {
                SAMPLING_ARGS
            } else {
                &[]
            };
            extra.iter().copied().chain(std::iter::once(a))
        })
        .collect()
}

/// Whether this machine lets an unprivileged process sample CPUs: Linux
/// `perf_event_paranoid` at most 2 (nsys's own requirement for CPU
/// sampling). Unreadable: no.
pub fn sampling_allowed() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .is_some_and(|level| level <= 2)
}

/// A validated capture request.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureOptions {
    /// The `.nsys-rep` to write.
    pub report: PathBuf,
    /// Add `--gpu-metrics-devices=all`.
    pub gpu_metrics: bool,
    /// Sample the host's CPUs ([`SAMPLING_ARGS`]).
    pub host_sampling: bool,
    /// Overwrite an existing report (only when the user named it and asked).
    pub force: bool,
    /// The command and its arguments.
    pub command: Vec<OsString>,
    /// Send the command's stdout to our stderr (the report goes to stdout).
    pub stdout_to_stderr: bool,
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
            if let Some(dir) = n.parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
                return Err(Error::usage(format!(
                    "profile -o '{s}': no folder {}",
                    shown(dir)
                )));
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
    let name = crate::text::report_name(Path::new(&name));
    if name == "trace" { "profile".into() } else { name }
}

/// Run the command under `nsys profile`. Ok when nsys and the command
/// succeeded and the report exists; the command's failure is an error that
/// names its exit status and keeps the report.
pub fn run(nsys: &Found, opts: &CaptureOptions, progress: &Progress) -> Result<()> {
    let mut cmd = Command::new(&nsys.path);
    cmd.arg("profile").args(profile_args(opts.host_sampling));
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
    } else if opts.stdout_to_stderr {
        cmd.stdout(std::io::stderr());
    }
    let shown_cmd = command_line(&opts.command);
    let label = format!("profiling {shown_cmd} with nsys");
    progress.spin(&label);
    let mut child = nsys.spawn(&mut cmd)?;
    let interrupt = IgnoreInterrupt::new();
    let status = if relay {
        let (out, err) = (child.stdout.take(), child.stderr.take());
        std::thread::scope(|s| {
            if let Some(out) = out {
                let to: Box<dyn Write + Send> = if opts.stdout_to_stderr {
                    Box::new(std::io::stderr())
                } else {
                    Box::new(std::io::stdout())
                };
                s.spawn(|| relay_to(out, to, progress, &label));
            }
            if let Some(err) = err {
                s.spawn(|| relay_to(err, std::io::stderr(), progress, &label));
            }
            wait_status(&mut child, progress)
        })
    } else {
        wait_status(&mut child, progress)
    }
    .map_err(|e| Error::tool(format!("waiting for nsys profile: {e}")))?;
    drop(interrupt);
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

/// Ctrl-C while nsys runs is for nsys and the command (nsys then ends the
/// capture and writes the report); this process ignores it meanwhile so it
/// can still say what happened. Set after the spawn, so neither inherits it.
struct IgnoreInterrupt {
    #[cfg(unix)]
    previous: libc::sighandler_t,
}

impl IgnoreInterrupt {
    fn new() -> IgnoreInterrupt {
        IgnoreInterrupt {
            // SAFETY: signal(2) with SIG_IGN installs no Rust code as a handler.
            #[cfg(unix)]
            previous: unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) },
        }
    }
}

impl Drop for IgnoreInterrupt {
    fn drop(&mut self) {
        // SAFETY: restores the disposition signal(2) returned above.
        #[cfg(unix)]
        if self.previous != libc::SIG_ERR {
            unsafe {
                libc::signal(libc::SIGINT, self.previous);
            }
        }
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

/// Copy a child's output to ours while the spinner is drawn: whole lines are
/// printed above the spinner; text the child redraws in place (ended by a
/// lone '\r', like nsys's own progress bar or tqdm's) or has not ended yet
/// (a prompt) is shown as the spinner's message instead, so the two never
/// fight over one terminal line.
fn relay_to(mut from: impl Read, mut to: impl Write, progress: &Progress, label: &str) {
    let mut split = LineSplitter::default();
    let mut buf = [0u8; 8192];
    let mut broken = false;
    let mut status_shown = false;
    let mut emit = |piece: Piece, to: &mut dyn Write| match piece {
        Piece::Line(line) => {
            if status_shown {
                progress.message(label);
                status_shown = false;
            }
            if !broken {
                let ok = progress.suspend(|| to.write_all(line).and_then(|_| to.flush()));
                // Our output is gone (closed pipe): keep draining so the
                // child never blocks on a full pipe.
                broken = ok.is_err();
            }
        }
        Piece::Status(text) => {
            let text = printable(text);
            if !text.is_empty() {
                // The child's own status first: the terminal may be narrow.
                progress.message(&format!("{text} ({label})"));
                status_shown = true;
            }
        }
    };
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => split.feed(&buf[..n], &mut |p| emit(p, &mut to)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    split.finish(&mut |p| emit(p, &mut to));
}

/// A piece of a child's output.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    /// A finished line, with its line ending.
    Line(&'a [u8]),
    /// Text shown in place: ended by a lone '\r', or unfinished so far.
    Status(&'a [u8]),
}

/// Splits output into lines and in-place status text, across reads.
#[derive(Default)]
struct LineSplitter {
    pending: Vec<u8>,
    /// The last byte seen was '\r' (it may start a "\r\n").
    cr: bool,
}

impl LineSplitter {
    fn feed(&mut self, chunk: &[u8], out: &mut dyn FnMut(Piece)) {
        for &b in chunk {
            if self.cr {
                self.cr = false;
                if b == b'\n' {
                    self.pending.extend_from_slice(b"\r\n");
                    out(Piece::Line(&self.pending));
                    self.pending.clear();
                    continue;
                }
                out(Piece::Status(&self.pending));
                self.pending.clear();
            }
            match b {
                b'\n' => {
                    self.pending.push(b);
                    out(Piece::Line(&self.pending));
                    self.pending.clear();
                }
                b'\r' => self.cr = true,
                _ => self.pending.push(b),
            }
        }
        if !self.pending.is_empty() {
            out(Piece::Status(&self.pending));
        }
    }

    /// At the end of the output: what is left is printed as it is.
    fn finish(&mut self, out: &mut dyn FnMut(Piece)) {
        if self.cr {
            self.pending.push(b'\r');
        }
        if !self.pending.is_empty() {
            out(Piece::Line(&self.pending));
        }
        self.pending.clear();
        self.cr = false;
    }
}

/// Text fit for a one-line message: terminal escape sequences and control
/// characters removed.
fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-byte; other escapes: one more char.
            if chars.next_if_eq(&'[').is_some() {
                for x in chars.by_ref() {
                    if ('@'..='~').contains(&x) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod sampling_tests {
    use super::profile_args;

    #[test]
    fn sampling_replaces_the_none_options() {
        assert_eq!(
            profile_args(false).join(" "),
            "-t cuda,nvtx,osrt --sample=none --cpuctxsw=none --cuda-graph-trace=node"
        );
        assert_eq!(
            profile_args(true).join(" "),
            "-t cuda,nvtx,osrt --sample=process-tree --cpuctxsw=process-tree --cuda-graph-trace=node"
        );
    }
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
            report_path(Some(Path::new("src/run")), false, &cmd).unwrap(),
            PathBuf::from("src/run.nsys-rep")
        );
        assert!(report_path(Some(Path::new("no-such-folder/run")), false, &cmd).is_err());
        assert_eq!(
            report_path(Some(Path::new("run.nsys-rep")), false, &cmd).unwrap(),
            PathBuf::from("run.nsys-rep")
        );
        assert!(report_path(Some(Path::new("a%p")), false, &cmd).is_err());
        assert!(report_path(None, false, &[]).is_err());
        assert!(report_path(None, false, &args(&["--x"])).is_err());
    }

    /// The pieces of `chunks` fed one after another, as strings.
    fn pieces(chunks: &[&str]) -> Vec<String> {
        let mut split = LineSplitter::default();
        let mut v = Vec::new();
        let mut push = |p: Piece| {
            v.push(match p {
                Piece::Line(l) => format!("L:{}", String::from_utf8_lossy(l)),
                Piece::Status(s) => format!("S:{}", String::from_utf8_lossy(s)),
            })
        };
        for c in chunks {
            split.feed(c.as_bytes(), &mut push);
        }
        split.finish(&mut push);
        v
    }

    #[test]
    fn output_splits_into_lines_and_status() {
        // nsys's progress bar: in-place updates, then a finished line.
        assert_eq!(
            pieces(&["Collecting data...\n\r[1/1] [0%] r.nsys-rep\r[1/1] [100%] r.nsys-rep\nGenerated:\n"]),
            [
                "L:Collecting data...\n",
                "S:",
                "S:[1/1] [0%] r.nsys-rep",
                "L:[1/1] [100%] r.nsys-rep\n",
                "L:Generated:\n"
            ]
        );
        // A line split across reads shows as status until it ends; CRLF is
        // kept whole, also across reads.
        assert_eq!(
            pieces(&["hel", "lo\r", "\nbye"]),
            ["S:hel", "S:hello", "L:hello\r\n", "S:bye", "L:bye"]
        );
        // An unfinished prompt shows as status until its line ends.
        assert_eq!(
            pieces(&["Continue? ", "y\n"]),
            ["S:Continue? ", "L:Continue? y\n"]
        );
    }

    #[test]
    fn relay_copies_lines_exactly() {
        let data = "line 1\nline 2\r\n\rstatus\rmore\nend".as_bytes();
        let mut out = Vec::new();
        relay_to(data, &mut out, &Progress::hidden(), "x");
        assert_eq!(String::from_utf8(out).unwrap(), "line 1\nline 2\r\nmore\nend");
    }

    #[test]
    fn status_text_is_printable() {
        assert_eq!(
            printable(b"\x1b[32m 50%|###  | 5/10\x1b[0m\x07"),
            "50%|###  | 5/10"
        );
    }
}
