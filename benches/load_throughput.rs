//! Parse throughput of the readers on a large input, by hand:
//!
//! ```sh
//! TRACE_REPORT_BENCH=/tmp/big.json cargo bench --bench load_throughput
//! ```
//!
//! Prints the time to load (read + parse + build the model, no analysis)
//! and MB/s of decompressed input.

use std::path::Path;
use std::time::Instant;

use trace_report::input;
use trace_report::progress::Progress;

fn main() {
    let Ok(path) = std::env::var("TRACE_REPORT_BENCH") else {
        eprintln!("set TRACE_REPORT_BENCH to a trace file");
        return;
    };
    let path = Path::new(&path);
    let cpu0 = cpu_seconds("/proc/self/stat");
    let main0 = cpu_seconds("/proc/thread-self/stat");
    let t = Instant::now();
    let trace = input::load(path, &Default::default(), &Progress::hidden()).expect("load");
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds("/proc/self/stat") - cpu0;
    let main = cpu_seconds("/proc/thread-self/stat") - main0;
    // Decompressed size: what the parser had to read.
    let mut bytes = 0u64;
    let mut r = input::gzip::open(path).expect("open").reader;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = std::io::Read::read(&mut r, &mut buf).expect("read");
        if n == 0 {
            break;
        }
        bytes += n as u64;
    }
    eprintln!(
        "{}: {} kernels, {} api calls, {} ranges; {:.0} MB in {:.2} s wall = {:.0} MB/s; CPU {:.2} s in all threads, {:.2} s in the parsing thread = {:.0} MB/s when it has a core of its own",
        path.display(),
        trace.kernels.len(),
        trace.api_calls.len(),
        trace.ranges.len(),
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / 1e6 / secs,
        cpu,
        main,
        bytes as f64 / 1e6 / main
    );
}

/// User + system CPU time so far of the process or thread whose `stat`
/// file this is (Linux), in seconds.
fn cpu_seconds(stat_file: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_file).unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    (ticks(11) + ticks(12)) / 100.0
}
