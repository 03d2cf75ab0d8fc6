//! `.nsys-rep` to SQLite through a cache.
//!
//! The export goes to `<cache>/nsys-export/<stem>-<P>-<S>.sqlite`, where `P`
//! is a hash of the report's absolute path and `S` of its size, mtime,
//! ctime and inode: it is reused while the report is unchanged, and a
//! changed report gets a fresh export (older exports of the same path are
//! then removed). `<cache>` is `$TRACE_REPORT_CACHE`, else
//! `$XDG_CACHE_HOME/trace-report`, else `~/.cache/trace-report`
//! ([`cache_dir`]). Nothing is
//! written beside the report, and the report itself is only read (by nsys).
//! nsys writes to a temporary name that is renamed into place, so an
//! interrupted export is never taken for a finished one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result, shown};
use crate::file_state::{cache_dir, fnv1a, state_bytes};
use crate::nsys::child::{describe_status, wait_ticking};
use crate::nsys::{self, Found};
use crate::progress::Progress;

/// The first bytes of an SQLite database.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// Where the export of `rep` lives in the cache while `rep` is unchanged.
pub fn cached_path(rep: &Path) -> Result<PathBuf> {
    let meta = fs::metadata(rep).map_err(|e| Error::input(rep, crate::error::io_problem(&e)))?;
    let abs = fs::canonicalize(rep).map_err(|e| Error::input(rep, crate::error::io_problem(&e)))?;
    let path_key = fnv1a(abs.as_os_str().as_encoded_bytes());
    let state_key = fnv1a(&state_bytes(&meta));
    Ok(cache_dir()?
        .join("nsys-export")
        .join(format!("{}-{path_key:016x}-{state_key:016x}.sqlite", stem(rep))))
}

/// The SQLite export of `rep`: from the cache, or made with nsys (`flag` is
/// `--nsys PATH`). Never writes beside `rep`.
pub fn sqlite_for(rep: &Path, flag: Option<&Path>, progress: &Progress) -> Result<PathBuf> {
    let target = cached_path(rep)?;
    if is_sqlite(&target) {
        return Ok(target);
    }
    // A bad --nsys or NSYS is named along with the report it was needed for.
    let found = nsys::find(flag).map_err(|e| Error::input(rep, format!("cannot export it: {e}")))?;
    let Some(found) = found else {
        let s = stem(rep);
        return Err(Error::input(
            rep,
            format!(
                "reading a .nsys-rep needs Nsight Systems' nsys to export it, and none was found \
                 (searched {}); pass --nsys PATH, or export it by hand: \
                 nsys export --type sqlite -o {s}.sqlite {} and run trace-report {s}.sqlite",
                nsys::SEARCHED,
                shown(rep)
            ),
        ));
    };
    export(&found, rep, &target, progress)?;
    remove_stale(&target);
    Ok(target)
}

/// Run `nsys export --type sqlite` into a temporary name, then rename to `target`.
fn export(nsys: &Found, rep: &Path, target: &Path, progress: &Progress) -> Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::output(dir, crate::error::io_problem(&e)))?;
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    // Ends in .sqlite so nsys keeps the name as given.
    let tmp = dir.join(format!(
        ".{}.{}.tmp.sqlite",
        name.trim_end_matches(".sqlite"),
        std::process::id()
    ));
    let _ = fs::remove_file(&tmp);
    progress.spin(&format!("exporting {} with nsys", file_name(rep)));
    let mut cmd = Command::new(&nsys.path);
    cmd.args(["export", "--type", "sqlite", "-o"])
        .arg(&tmp)
        .arg(rep)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = nsys.spawn(&mut cmd)?;
    let out =
        wait_ticking(child, progress).map_err(|e| Error::tool(format!("waiting for nsys export: {e}")))?;
    if !out.status.success() {
        let _ = fs::remove_file(&tmp);
        let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        return Err(Error::input(
            rep,
            format!(
                "nsys export --type sqlite failed ({}, {}): {}",
                describe_status(&out.status),
                shown(&nsys.path),
                last_message(&text)
            ),
        ));
    }
    if !is_sqlite(&tmp) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::tool(format!(
            "nsys export ({}) reported success but wrote no SQLite file at {}",
            shown(&nsys.path),
            shown(&tmp)
        )));
    }
    fs::rename(&tmp, target).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::output(target, crate::error::io_problem(&e))
    })
}

/// Remove older exports of the same report path (same stem and path key).
fn remove_stale(target: &Path) {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let name = name.to_string_lossy();
    // `<stem>-<path key>-` is everything up to the last '-'.
    let Some(cut) = name.rfind('-') else {
        return;
    };
    let prefix = &name[..=cut];
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let n = e.file_name();
        let n = n.to_string_lossy();
        if n != name && n.starts_with(prefix) && n.ends_with(".sqlite") && n.len() == name.len() {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// The last line of tool output that says something (nsys ends with its error).
fn last_message(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| "=-*#. ".contains(c)))
        .collect();
    match lines
        .iter()
        .rev()
        .find(|l| l.to_ascii_lowercase().contains("error"))
    {
        Some(l) => l.to_string(),
        None => lines
            .last()
            .map(|l| l.to_string())
            .unwrap_or_else(|| "no output".into()),
    }
}

fn is_sqlite(p: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == SQLITE_MAGIC
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown(p))
}

/// The report's name without `.nsys-rep`, made safe for a file name.
fn stem(rep: &Path) -> String {
    crate::text::report_name(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_message_prefers_errors() {
        let out = "Processing events...\nERROR: Failed to open file x.nsys-rep\n\n=====\n";
        assert_eq!(last_message(out), "ERROR: Failed to open file x.nsys-rep");
        assert_eq!(last_message("a\nb\n"), "b");
        assert_eq!(last_message(""), "no output");
    }
}
