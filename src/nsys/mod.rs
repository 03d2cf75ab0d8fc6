//! Nsight Systems as a tool: finding the `nsys` CLI (here), running it as
//! a child process ([`child`]) and exporting a `.nsys-rep` to SQLite through
//! a cache ([`export`]). Below the readers, so that `input` can turn a
//! report into an export before it detects the format.
//!
//! Finding the Nsight Systems CLI. Order: `--nsys PATH`, the `NSYS`
//! environment variable, `PATH`, then the usual install folders, newest
//! version first within each:
//! `/opt/nvidia/nsight-systems*/bin/nsys`, `/usr/local/cuda*/bin/nsys`, and
//! the copy Nsight Compute ships, `/opt/nvidia/nsight-compute/*/host/target-linux-x64/nsys`.

pub mod child;
pub mod export;

use std::cmp::Ordering;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where the install folders are searched, as (folder under the root, name
/// prefix of its entries, path of nsys inside a matching entry).
const INSTALL_GLOBS: &[(&str, &str, &str)] = &[
    ("opt/nvidia", "nsight-systems", "bin/nsys"),
    ("usr/local", "cuda", "bin/nsys"),
    ("opt/nvidia/nsight-compute", "", "host/target-linux-x64/nsys"),
];

/// What the no-nsys messages list as searched.
pub const SEARCHED: &str = "--nsys, $NSYS, PATH, /opt/nvidia/nsight-systems*/bin, /usr/local/cuda*/bin, \
     /opt/nvidia/nsight-compute/*/host/target-linux-x64";

/// A found nsys and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// `--nsys`, `NSYS`, `PATH` or `install folder`.
    pub how: &'static str,
}

impl Found {
    /// Start `cmd` (a command of this nsys) under the memory cap's rules
    /// for children; a failure to start names this nsys and how it was found.
    pub fn spawn(&self, cmd: &mut std::process::Command) -> Result<std::process::Child> {
        crate::limits::for_child(cmd);
        cmd.spawn().map_err(|e| {
            Error::tool(format!(
                "cannot run {} ({}): {}",
                crate::error::shown(&self.path),
                self.how,
                crate::error::io_problem(&e)
            ))
        })
    }
}

/// Find nsys for this process: `flag` is `--nsys PATH`. `Ok(None)` when there
/// is none; an error when `--nsys` or `NSYS` names something unusable (a
/// wrong explicit choice must not silently fall back to another nsys).
pub fn find(flag: Option<&Path>) -> Result<Option<Found>> {
    find_in(
        flag,
        std::env::var_os("NSYS").as_deref(),
        std::env::var_os("PATH").as_deref(),
        Path::new("/"),
    )
}

/// [`find`] with its inputs spelled out; `root` prefixes the install folders.
pub fn find_in(
    flag: Option<&Path>,
    env: Option<&OsStr>,
    path_var: Option<&OsStr>,
    root: &Path,
) -> Result<Option<Found>> {
    if let Some(p) = flag {
        return explicit(p, "--nsys", path_var).map(Some);
    }
    if let Some(v) = env.filter(|v| !v.is_empty()) {
        return explicit(Path::new(v), "NSYS", path_var).map(Some);
    }
    if let Some(p) = on_path("nsys", path_var) {
        return Ok(Some(Found { path: p, how: "PATH" }));
    }
    for (folder, prefix, inner) in INSTALL_GLOBS {
        for entry in versions_newest_first(&root.join(folder), prefix) {
            let candidate = entry.join(inner);
            if is_executable(&candidate) {
                return Ok(Some(Found {
                    path: candidate,
                    how: "install folder",
                }));
            }
        }
    }
    Ok(None)
}

/// A path given by the user: a file path, or a bare name looked up on PATH.
fn explicit(p: &Path, what: &'static str, path_var: Option<&OsStr>) -> Result<Found> {
    let bare = p.components().count() == 1 && !p.as_os_str().is_empty() && !p.exists();
    let resolved = if bare {
        on_path(p.as_os_str(), path_var)
    } else {
        None
    };
    let path = resolved.unwrap_or_else(|| p.to_path_buf());
    let shown = crate::error::shown(p);
    if !path.exists() {
        return Err(Error::usage(format!("{what} {shown}: no such file")));
    }
    if !is_executable(&path) {
        return Err(Error::usage(format!("{what} {shown}: not an executable file")));
    }
    Ok(Found { path, how: what })
}

/// The first executable `name` in the folders of `path_var`.
fn on_path(name: impl AsRef<OsStr>, path_var: Option<&OsStr>) -> Option<PathBuf> {
    let path_var = path_var?;
    std::env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name.as_ref()))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    true
}

/// Entries of `dir` whose names start with `prefix`, highest version first
/// (`cuda-13.0` before `cuda-12.4` before `cuda`).
fn versions_newest_first(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<OsString> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with(prefix))
        .collect();
    names.sort_by(|a, b| natural_cmp(&b.to_string_lossy(), &a.to_string_lossy()));
    names.into_iter().map(|n| dir.join(n)).collect()
}

/// Compare strings with runs of digits compared as numbers (`2.10` > `2.9`).
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (trim_zeros(&a[..na]), trim_zeros(&b[..nb]));
                let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|&&c| c == b'0').count();
    &d[n.min(d.len().saturating_sub(1))..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A scratch folder under the target dir, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let p = std::env::temp_dir().join(format!("trace-report-nsys-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            Scratch(p)
        }

        fn exe(&self, rel: &str) -> PathBuf {
            let p = self.0.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, "#!/bin/sh\n").unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
            }
            p
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("cuda-13.0", "cuda-12.4"), Ordering::Greater);
        assert_eq!(natural_cmp("2025.3.10", "2025.3.9"), Ordering::Greater);
        assert_eq!(natural_cmp("cuda", "cuda-12"), Ordering::Less);
        assert_eq!(natural_cmp("a007", "a7"), Ordering::Equal);
    }

    #[test]
    fn discovery_order() {
        let s = Scratch::new("order");
        let root = s.0.join("root");
        let compute = s.exe("root/opt/nvidia/nsight-compute/2025.3.1/host/target-linux-x64/nsys");
        s.exe("root/opt/nvidia/nsight-compute/2024.1.0/host/target-linux-x64/nsys");
        let find = |flag: Option<&Path>, env: Option<&OsStr>, path: Option<&OsStr>| {
            find_in(flag, env, path, &root).unwrap().map(|f| (f.path, f.how))
        };
        // Only Nsight Compute's copy: the newest version.
        assert_eq!(find(None, None, None), Some((compute.clone(), "install folder")));
        // CUDA's bin folder beats it, newest CUDA first.
        s.exe("root/usr/local/cuda-12.4/bin/nsys");
        let cuda13 = s.exe("root/usr/local/cuda-13.0/bin/nsys");
        fs::create_dir_all(root.join("usr/local/cuda/bin")).unwrap();
        assert_eq!(find(None, None, None), Some((cuda13, "install folder")));
        // Nsight Systems' own install beats CUDA's.
        let systems = s.exe("root/opt/nvidia/nsight-systems-2025.5.1/bin/nsys");
        s.exe("root/opt/nvidia/nsight-systems-2024.6.2/bin/nsys");
        assert_eq!(find(None, None, None), Some((systems, "install folder")));
        // PATH beats install folders; empty and non-matching entries are skipped.
        let on_path_nsys = s.exe("bin2/nsys");
        fs::create_dir_all(s.0.join("bin1")).unwrap();
        let path_var = std::env::join_paths([s.0.join("bin1"), s.0.join("bin2")]).unwrap();
        assert_eq!(
            find(None, None, Some(&path_var)),
            Some((on_path_nsys.clone(), "PATH"))
        );
        // NSYS beats PATH (a bare name is looked up on PATH), --nsys beats NSYS.
        let env_nsys = s.exe("env/nsys-2025");
        assert_eq!(
            find(None, Some(env_nsys.as_os_str()), Some(&path_var)),
            Some((env_nsys.clone(), "NSYS"))
        );
        assert_eq!(
            find(None, Some(OsStr::new("nsys")), Some(&path_var)),
            Some((on_path_nsys, "NSYS"))
        );
        let flag_nsys = s.exe("flag/nsys");
        assert_eq!(
            find(Some(&flag_nsys), Some(env_nsys.as_os_str()), Some(&path_var)),
            Some((flag_nsys, "--nsys"))
        );
        // An empty NSYS counts as unset.
        assert_eq!(
            find(None, Some(OsStr::new("")), None).unwrap().1,
            "install folder"
        );
    }

    #[test]
    fn explicit_choices_that_do_not_work_are_errors() {
        let s = Scratch::new("explicit");
        let root = s.0.join("root");
        s.exe("root/usr/local/cuda/bin/nsys");
        let missing = s.0.join("nope/nsys");
        let e = find_in(Some(&missing), None, None, &root).unwrap_err();
        assert!(e.to_string().starts_with("--nsys ") && e.to_string().ends_with(": no such file"));
        let plain = s.0.join("plain");
        fs::write(&plain, "x").unwrap();
        let e = find_in(None, Some(plain.as_os_str()), None, &root).unwrap_err();
        assert!(e.to_string().starts_with("NSYS ") && e.to_string().ends_with(": not an executable file"));
        // Nothing anywhere.
        assert_eq!(find_in(None, None, None, &s.0.join("empty")).unwrap(), None);
    }
}
