//! The thin binary: parse, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use trace_report::cli::Cli;
use trace_report::run::{EXIT_ERROR, run};

fn main() -> ExitCode {
    // A bug must still end in one line and status 2, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
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
    let outcome = std::panic::catch_unwind(|| cli.into_action().and_then(run));
    let code = match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("trace-report: error: {e}");
            EXIT_ERROR
        }
        Err(_) => EXIT_ERROR,
    };
    ExitCode::from(code as u8)
}
