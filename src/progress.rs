//! A progress bar on stderr, shown only when stderr is a terminal and the
//! work has already taken a while (quick runs print nothing extra).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long work must run before a bar appears.
const SHOW_AFTER: Duration = Duration::from_millis(400);

pub struct Progress {
    bar: Option<ProgressBar>,
    /// The bar's style, restored by `stage` after a `spin`.
    bar_style: Option<ProgressStyle>,
    started: Instant,
    shown: AtomicBool,
}

impl Progress {
    /// A bar on stderr if it is a terminal and `enabled`; otherwise silent.
    pub fn stderr(enabled: bool) -> Progress {
        let bar_style =
            ProgressStyle::with_template("{spinner} {msg:<28} {wide_bar} {human_pos}/{human_len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            bar.set_style(bar_style.clone());
            bar
        });
        Progress {
            bar_style: bar.as_ref().map(|_| bar_style),
            bar,
            started: Instant::now(),
            shown: AtomicBool::new(false),
        }
    }

    /// A progress that never draws.
    pub fn hidden() -> Progress {
        Progress::stderr(false)
    }

    /// Start a stage of work of `len` units (None: unknown).
    pub fn stage(&self, message: &str, len: Option<u64>) {
        if let Some(bar) = &self.bar {
            if let Some(style) = &self.bar_style {
                bar.set_style(style.clone());
            }
            bar.set_message(message.to_string());
            bar.set_position(0);
            match len {
                Some(n) => bar.set_length(n),
                None => bar.unset_length(),
            }
            self.maybe_show(bar);
        }
    }

    /// Advance the current stage by `n` units.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
            self.maybe_show(bar);
        }
    }

    /// Start a stage of unknown length that runs elsewhere (a child
    /// process): a spinner with the elapsed time. Call [`Progress::tick`]
    /// while waiting.
    pub fn spin(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_style(
                ProgressStyle::with_template("{spinner} {wide_msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(message.to_string());
            bar.unset_length();
            self.maybe_show(bar);
        }
    }

    /// Replace the message of the current stage.
    pub fn message(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }

    /// Let the bar appear once the work has taken long enough.
    pub fn tick(&self) {
        if let Some(bar) = &self.bar {
            self.maybe_show(bar);
        }
    }

    /// Whether a bar may be drawn (stderr is a terminal and output is wanted).
    pub fn is_active(&self) -> bool {
        self.bar.is_some()
    }

    /// Run `f` (which writes to the terminal) with the bar lifted.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn maybe_show(&self, bar: &ProgressBar) {
        if !self.shown.load(Ordering::Relaxed) && self.started.elapsed() >= SHOW_AFTER {
            self.shown.store(true, Ordering::Relaxed);
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
