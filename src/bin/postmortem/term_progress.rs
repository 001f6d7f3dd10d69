//! The binary's [`Progress`]: an indicatif bar in bytes across all inputs,
//! with throughput and ETA, on stderr; or warnings only.

use indicatif::{ProgressBar, ProgressStyle};
use postmortem::Progress;

/// A byte-counting progress bar on stderr.
pub struct TerminalProgress {
    bar: ProgressBar,
}

impl TerminalProgress {
    pub fn new() -> Self {
        let bar = ProgressBar::hidden();
        TerminalProgress { bar }
    }
}

impl Progress for TerminalProgress {
    fn begin(&self, total_bytes: Option<u64>) {
        // Style and length first: drawing starts with the draw target, and
        // a first frame in the default style would show raw byte counts.
        match total_bytes {
            Some(total) => {
                self.bar.set_length(total);
                self.bar.set_style(
                    ProgressStyle::with_template("{spinner} reading {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} ETA {eta}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            None => self.bar.set_style(
                ProgressStyle::with_template("{spinner} reading {bytes} {bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        }
        self.bar
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }

    fn set_position(&self, bytes: u64) {
        self.bar.set_position(bytes);
    }

    fn warn(&self, message: &str) {
        self.bar.suspend(|| eprintln!("postmortem: {message}"));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// No bar, but warnings still reach stderr.
pub struct WarningsOnly;

impl Progress for WarningsOnly {
    fn warn(&self, message: &str) {
        eprintln!("postmortem: {message}");
    }
}
