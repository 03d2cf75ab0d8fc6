//! The thin binary: parse, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use trace_report::cli::Cli;
use trace_report::error::Error;
use trace_report::limits;
use trace_report::run::{EXIT_ERROR, run};

// Allocation failure (past the memory cap) is a one-line error, exit 2.
#[global_allocator]
static ALLOC: limits::Alloc = limits::Alloc;

fn main() -> ExitCode {
    trace_report::memory::return_large_blocks();
    // A bug must still end in one line and status 2, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        // Running into the memory cap is the input's size, not a bug.
        limits::exit_if_out_of_memory();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "trace-report: internal error{at}: {} (please report this)",
            msg.replace('\n', " ")
        );
    }));
    let cli = Cli::parse();
    let outcome = std::panic::catch_unwind(|| {
        let action = cli.into_action()?;
        let cap = limits::apply();
        limits::set_oom_context(&action.inputs(), cap);
        run(action)
    });
    let code = match outcome {
        Ok(Ok(code)) => code,
        // Out of memory reads the same wherever it ran out.
        Ok(Err(Error::OutOfMemory(what))) => limits::exit_out_of_memory(&what),
        Ok(Err(e)) => {
            eprintln!("trace-report: error: {e}");
            EXIT_ERROR
        }
        Err(_) => EXIT_ERROR,
    };
    ExitCode::from(code as u8)
}
