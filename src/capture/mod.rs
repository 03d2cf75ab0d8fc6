//! Nsight Systems as a tool: finding `nsys` ([`nsys`]), exporting a
//! `.nsys-rep` to SQLite through a cache ([`export`]), and running a command
//! under `nsys profile` ([`profile`]). Everything here runs nsys as a child
//! process; the trace itself is read by `input::nsys_sqlite`.

pub mod export;
pub mod nsys;
pub mod profile;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    /// `--nsys PATH` for the run in progress on this thread. Readers have no
    /// options of their own, so the .nsys-rep reader looks it up here.
    static NSYS_FLAG: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// Run `f` with `--nsys PATH` (if any) visible to [`nsys_flag`].
pub fn with_nsys<R>(flag: Option<&Path>, f: impl FnOnce() -> R) -> R {
    let previous = NSYS_FLAG.with(|c| c.replace(flag.map(Path::to_path_buf)));
    let out = f();
    NSYS_FLAG.with(|c| *c.borrow_mut() = previous);
    out
}

/// The `--nsys PATH` of the run in progress, if one was given.
pub fn nsys_flag() -> Option<PathBuf> {
    NSYS_FLAG.with(|c| c.borrow().clone())
}
