//! Memory limits: how much memory a run may use, and what happens past it.
//!
//! A trace far larger than memory must end in a clear error, not in the
//! kernel's OOM killer: with overcommit, `malloc` says yes long after the
//! memory is gone and the process is killed without a word. So the binary
//! caps its own data segment (`RLIMIT_DATA`: heap and private writable
//! mappings, not the memory-mapped input) at the memory it may use when it
//! starts (see [`budget`]); an allocation past the cap fails, and [`Alloc`]
//! turns that failure into the usual one-line error and exit status 2.
//! The cap is this process's only: child processes (`nsys`, the profiled
//! command) get the limit we started with back ([`for_child`]).
//!
//! `TRACE_REPORT_MAX_MEMORY` overrides the cap: a size (`512M`, `8G`,
//! bytes without a suffix) or `off` (no cap).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::OnceLock;

/// The environment variable that sets the cap.
pub const ENV: &str = "TRACE_REPORT_MAX_MEMORY";

/// Room for the program itself (code, thread stacks, allocator slack) on
/// top of the memory available, when the cap is derived rather than given.
const HEADROOM: u64 = 256 << 20;

/// The cap in bytes (None: no cap), decided once per process: the
/// environment variable when set; otherwise the memory available at start
/// (`MemAvailable + SwapFree`, and no more than what the cgroup's
/// `memory.max` leaves) plus [`HEADROOM`].
pub fn budget() -> Option<u64> {
    static BUDGET: OnceLock<Option<u64>> = OnceLock::new();
    *BUDGET.get_or_init(|| match std::env::var(ENV) {
        Ok(v) => {
            let size = parse_size(&v);
            if size.is_none() && !v.trim().eq_ignore_ascii_case("off") {
                eprintln!("trace-report: warning: {ENV}={v:?} is not a size or 'off': no memory cap");
            }
            size
        }
        Err(_) => {
            let host = system_available();
            let cgroup = cgroup_available();
            let avail = match (host, cgroup) {
                (Some(h), Some(c)) => Some(h.min(c)),
                (h, c) => h.or(c),
            };
            avail.map(|a| a.saturating_add(HEADROOM))
        }
    })
}

/// `512M`, `8G`, `1.5G`, `1000` (bytes); None for anything else.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&s[..i], 1 << 20),
        (i, 'g' | 'G') => (&s[..i], 1 << 30),
        (i, 't' | 'T') => (&s[..i], 1 << 40),
        _ => (s, 1),
    };
    let v: f64 = num.trim().parse().ok()?;
    (v.is_finite() && v > 0.0).then(|| (v * mult as f64) as u64)
}

/// `MemAvailable + SwapFree` of /proc/meminfo, in bytes.
fn system_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    Some(field("MemAvailable:")? + field("SwapFree:").unwrap_or(0))
}

/// What this process's cgroup still allows (v2 `memory.max - memory.current`,
/// or v1 `memory.limit_in_bytes - memory.usage_in_bytes`); None without a limit.
/// The usage counts the page cache, which the kernel reclaims before it
/// kills anything: in a container that just built or read large files it is
/// most of the usage, so the reclaimable part is taken off (as MemAvailable
/// does for the host).
fn cgroup_available() -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok();
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrl, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_end_matches('/');
        if ctrl.is_empty() {
            let dir = format!("/sys/fs/cgroup{path}");
            if let Some(max) = read(&format!("{dir}/memory.max")) {
                let cur = read(&format!("{dir}/memory.current")).unwrap_or(0);
                let cache = page_cache(&format!("{dir}/memory.stat"), "file", "shmem");
                return Some(max.saturating_sub(cur.saturating_sub(cache)));
            }
        } else if ctrl.split(',').any(|c| c == "memory") {
            let dir = format!("/sys/fs/cgroup/memory{path}");
            let max = read(&format!("{dir}/memory.limit_in_bytes"))?;
            // v1 says "no limit" with a huge number.
            if max >= 1 << 60 {
                return None;
            }
            let cur = read(&format!("{dir}/memory.usage_in_bytes")).unwrap_or(0);
            let cache = page_cache(&format!("{dir}/memory.stat"), "total_cache", "total_shmem");
            return Some(max.saturating_sub(cur.saturating_sub(cache)));
        }
    }
    None
}

/// Reclaimable page cache in a cgroup's `memory.stat`: the `file` key less
/// `shmem` (tmpfs pages are counted as file but cannot be dropped); 0 when
/// the file or keys are missing.
fn page_cache(stat: &str, file: &str, shmem: &str) -> u64 {
    let Ok(text) = std::fs::read_to_string(stat) else {
        return 0;
    };
    let key = |k: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0)
    };
    key(file).saturating_sub(key(shmem))
}

/// The data-segment limit the process started with, for its children.
#[cfg(unix)]
static ORIGINAL: OnceLock<libc::rlimit> = OnceLock::new();

/// Cap the data segment at the budget (never raising an existing limit).
/// Returns the cap in force.
#[cfg(unix)]
pub fn apply() -> Option<u64> {
    let cap = budget()?;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_DATA, &mut lim) != 0 {
            return None;
        }
        let _ = ORIGINAL.set(lim);
        let cur = lim.rlim_cur;
        if cur != libc::RLIM_INFINITY && cur <= cap as libc::rlim_t {
            return Some(cur as u64);
        }
        lim.rlim_cur = (cap as libc::rlim_t).min(lim.rlim_max);
        if libc::setrlimit(libc::RLIMIT_DATA, &lim) != 0 {
            return None;
        }
        Some(lim.rlim_cur as u64)
    }
}

#[cfg(not(unix))]
pub fn apply() -> Option<u64> {
    None
}

/// Give a child process (nsys, the profiled command) the data-segment
/// limit this process started with: the cap is for our own allocations.
#[cfg(unix)]
pub fn for_child(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let Some(&lim) = ORIGINAL.get() else { return };
    // SAFETY: setrlimit is async-signal-safe and touches only a copied
    // struct; nothing here allocates between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setrlimit(libc::RLIMIT_DATA, &lim);
            Ok(())
        });
    }
}

#[cfg(not(unix))]
pub fn for_child(_cmd: &mut std::process::Command) {}

/// Several threads can run out of memory at once (the loader reads on
/// two): the first one to get here prints the line and ends the process;
/// the others wait for that instead of printing a second line.
fn claim_exit() {
    static EXITING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if EXITING.swap(true, std::sync::atomic::Ordering::SeqCst) {
        loop {
            // No allocation: parking needs none once the thread exists.
            std::thread::park();
        }
    }
}

/// What an allocation failure says: set once the inputs are known.
static OOM_CONTEXT: OnceLock<String> = OnceLock::new();

/// The head of the out-of-memory line (ends before the failed size).
fn oom_head(inputs: &[&std::path::Path], cap: Option<u64>) -> String {
    let names: Vec<String> = inputs.iter().map(|p| crate::error::shown(p)).collect();
    let cap = match cap {
        Some(c) => format!("the memory cap of {} ({ENV})", crate::text::format::bytes(c)),
        None => "the memory available".into(),
    };
    let head = if names.is_empty() {
        String::new()
    } else {
        format!("{}: ", names.join(", "))
    };
    format!(
        "trace-report: error: {head}out of memory: reading and analysing this trace needs more than {cap}; \
         use a machine with more memory, a shorter capture, or {ENV}=SIZE|off (see README, Limits)"
    )
}

/// Name the inputs and the cap in the out-of-memory message.
pub fn set_oom_context(inputs: &[&std::path::Path], cap: Option<u64>) {
    let _ = OOM_CONTEXT.set(format!("{}; failed allocation (bytes): ", oom_head(inputs, cap)));
}

/// For the panic hook: when the process is near its cap, the panic ran
/// into it (a thread that could not get its stack, say) rather than being
/// a bug: print the out-of-memory line and exit 2 at once, since unwinding
/// this close to the cap can itself fail and abort.
pub fn exit_if_out_of_memory() {
    let (Some(_), Some(cap)) = (OOM_CONTEXT.get(), budget()) else {
        return;
    };
    let Some(data) = data_segment() else { return };
    // Near: less room left than a few thread stacks or a large buffer.
    if data.saturating_add(32 << 20) < cap {
        return;
    }
    exit_out_of_memory("a thread or buffer could not be allocated")
}

/// Out of memory found outside Rust's allocator (SQLite's malloc, a thread
/// that could not start): the same one line as an allocation failure with
/// `what` in place of the size, exit 2.
pub fn exit_out_of_memory(what: &str) -> ! {
    claim_exit();
    match OOM_CONTEXT.get() {
        Some(head) => eprintln!(
            "{}; {what}",
            head.trim_end_matches("; failed allocation (bytes): ")
        ),
        None => eprintln!("trace-report: error: out of memory ({what}; see README, Limits; {ENV}=SIZE|off)"),
    }
    #[cfg(unix)]
    // SAFETY: ends the process without destructors, which could allocate.
    unsafe {
        libc::_exit(2)
    }
    #[cfg(not(unix))]
    std::process::exit(2)
}

/// `VmData` of /proc/self/status: what counts against `RLIMIT_DATA`.
fn data_segment() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmData:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

/// The system allocator, with allocation failure turned into the usual
/// one-line error and exit status 2 (instead of an abort).
pub struct Alloc;

#[cold]
fn out_of_memory(size: usize) -> ! {
    claim_exit();
    let head = OOM_CONTEXT
        .get()
        .map(String::as_bytes)
        .unwrap_or(b"trace-report: error: out of memory (see README, Limits); failed allocation (bytes): ");
    // No allocation from here on: the number goes through a stack buffer.
    let mut digits = [0u8; 24];
    let mut i = digits.len();
    let mut n = size;
    digits[i - 1] = b'\n';
    i -= 1;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    #[cfg(unix)]
    // SAFETY: writes from valid buffers, then ends the process at once
    // (no destructors or atexit handlers, which could allocate).
    unsafe {
        libc::write(2, head.as_ptr().cast(), head.len());
        libc::write(2, digits[i..].as_ptr().cast(), digits.len() - i);
        libc::_exit(2);
    }
    #[cfg(not(unix))]
    std::process::abort();
}

/// Buffers from this size up get transparent huge pages.
const HUGE_FROM: usize = 8 << 20;
const HUGE_PAGE: usize = 2 << 20;

/// Ask for transparent huge pages on the 2 MiB-aligned part of a large
/// buffer: the model's event arrays and interval layers are written once,
/// front to back, and one fault per 2 MiB instead of per 4 KiB saves about
/// a tenth of the run's CPU. A hint (Linux's `madvise`), ignored where the
/// system does not offer huge pages.
#[inline]
fn advise_huge(p: *mut u8, size: usize) {
    #[cfg(target_os = "linux")]
    if size >= HUGE_FROM {
        let start = (p as usize).next_multiple_of(HUGE_PAGE);
        let end = (p as usize + size) / HUGE_PAGE * HUGE_PAGE;
        if end > start {
            // SAFETY: the range lies inside the allocation just made;
            // MADV_HUGEPAGE changes no contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (p, size);
}

// SAFETY: forwards to the system allocator; only the failure path differs.
unsafe impl GlobalAlloc for Alloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        advise_huge(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory(new_size);
        }
        if new_size > layout.size() {
            advise_huge(p, new_size);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1.5g"), Some(3 << 29));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("off"), None);
        assert_eq!(parse_size("-1G"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(crate::text::format::bytes(3 << 29), "1.5 GiB");
    }

    #[test]
    fn page_cache_is_file_less_shmem() {
        let dir = std::env::temp_dir().join(format!("tr-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let stat = dir.join("memory.stat");
        // "file_mapped" must not be taken for "file".
        std::fs::write(&stat, "anon 100\nfile_mapped 7\nfile 5000\nshmem 1200\n").unwrap();
        assert_eq!(page_cache(stat.to_str().unwrap(), "file", "shmem"), 3800);
        assert_eq!(page_cache("/nonexistent/memory.stat", "file", "shmem"), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
