//! Stage timings on stderr, printed only when the environment variable
//! `TRACE_REPORT_TIMINGS` is set: for the benchmark harness and for finding
//! where time goes on large traces. Silent (one cached check) otherwise.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("TRACE_REPORT_TIMINGS").is_some())
}

/// Run `f`, printing how long it took as `timing: STAGE MS` when enabled.
pub fn time<R>(stage: &str, f: impl FnOnce() -> R) -> R {
    if !enabled() {
        return f();
    }
    let t = Instant::now();
    let out = f();
    eprintln!("timing: {stage} {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    out
}
