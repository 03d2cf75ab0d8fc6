//! Running nsys as a child process: waiting for it while the spinner turns,
//! and naming how it ended.

use std::process::{Child, ExitStatus, Output};
use std::time::Duration;

use crate::progress::Progress;

/// "exit status 3" or "killed by signal 9".
pub fn describe_status(status: &ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    status.to_string()
}

const TICK: Duration = Duration::from_millis(100);

/// Wait for `child`, keeping the spinner turning.
pub fn wait_status(child: &mut Child, progress: &Progress) -> std::io::Result<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        progress.tick();
        std::thread::sleep(TICK);
    }
}

/// Wait for `child` and collect its piped output, keeping the spinner turning.
pub fn wait_ticking(child: Child, progress: &Progress) -> std::io::Result<Output> {
    std::thread::scope(|s| {
        let h = s.spawn(|| child.wait_with_output());
        while !h.is_finished() {
            progress.tick();
            std::thread::sleep(TICK);
        }
        h.join()
            .unwrap_or_else(|_| Err(std::io::Error::other("output reader panicked")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn statuses_are_named() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(describe_status(&ExitStatus::from_raw(3 << 8)), "exit status 3");
        assert_eq!(describe_status(&ExitStatus::from_raw(9)), "killed by signal 9");
    }
}
