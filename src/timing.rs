//! Stage timings on stderr, printed only when the environment variable
//! `TRACE_REPORT_TIMINGS` is set: for the benchmark harness and for finding
//! where time goes on large traces. Silent (one cached check) otherwise.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        since_start();
        std::env::var_os("TRACE_REPORT_TIMINGS").is_some()
    })
}

/// Milliseconds since the first timed stage began: where a stage ends on
/// the run's clock shows what ran beside what.
fn since_start() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

/// Run `f`, printing how long it took as `timing: STAGE MS` when enabled.
pub fn time<R>(stage: &str, f: impl FnOnce() -> R) -> R {
    if !enabled() {
        return f();
    }
    let t = Instant::now();
    let out = f();
    eprintln!(
        "timing: {stage} {:.1} ms, ends at {:.0} ms{}",
        t.elapsed().as_secs_f64() * 1e3,
        since_start(),
        memory()
    );
    out
}

/// `, rss N MB, peak N MB` from /proc/self/status (Linux), else nothing:
/// shows which stage sets the peak.
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    format!(", rss {} MB, peak {} MB", field("VmRSS:"), field("VmHWM:"))
}
