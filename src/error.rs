//! One error type; every message is a single line that names the file and
//! the problem. The binary maps every error to exit code 2.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum Error {
    /// A problem with an input file: missing, unreadable, malformed.
    Input { path: PathBuf, problem: String },
    /// A problem writing an output.
    Output { path: PathBuf, problem: String },
    /// Bad command-line usage that clap could not catch.
    Usage(String),
    /// An external tool (nsys) failed or is missing.
    Tool(String),
    /// Memory ran out outside Rust's allocator (SQLite's malloc): what
    /// could not be allocated. The binary reports it like an allocation
    /// failure past the memory cap.
    OutOfMemory(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn input(path: impl AsRef<Path>, problem: impl Into<String>) -> Error {
        Error::Input {
            path: path.as_ref().to_path_buf(),
            problem: one_line(problem.into()),
        }
    }

    pub fn output(path: impl AsRef<Path>, problem: impl Into<String>) -> Error {
        Error::Output {
            path: path.as_ref().to_path_buf(),
            problem: one_line(problem.into()),
        }
    }

    pub fn usage(problem: impl Into<String>) -> Error {
        Error::Usage(one_line(problem.into()))
    }

    pub fn tool(problem: impl Into<String>) -> Error {
        Error::Tool(one_line(problem.into()))
    }

    pub fn out_of_memory(what: impl Into<String>) -> Error {
        Error::OutOfMemory(one_line(what.into()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input { path, problem } => write!(f, "{}: {problem}", shown(path)),
            Error::Output { path, problem } => write!(f, "cannot write {}: {problem}", shown(path)),
            Error::Usage(problem) | Error::Tool(problem) => f.write_str(problem),
            Error::OutOfMemory(what) => write!(f, "out of memory ({what})"),
        }
    }
}

impl std::error::Error for Error {}

/// A short description of an I/O error without the OS error number.
pub fn io_problem(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file".into(),
        PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// A path as it can safely appear in a one-line message.
pub fn shown(path: &Path) -> String {
    one_line(path.display().to_string())
}

/// Collapse whitespace runs (newlines included) so a message stays one line,
/// and strip control characters a hostile file could smuggle in.
fn one_line(s: String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let e = Error::input("a.sqlite", "bad\nthing\x1b[31m  here\r\n");
        assert_eq!(e.to_string(), "a.sqlite: bad thing [31m here");
    }
}
