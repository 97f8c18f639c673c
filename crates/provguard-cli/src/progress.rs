//! The progress bar of `provguard scan`: on a terminal only.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use provguard::scan::Progress;

/// A bar on standard error: files done, records read and the reading speed. Its length is the
/// files' size on disk, advanced as each file is done.
pub struct Bar {
    bar: ProgressBar,
    /// How many files the scan reads.
    files: AtomicUsize,
}

impl Bar {
    /// A bar when standard error is a terminal, the command is not quiet and the `CI`
    /// variable is not set (CI logs are no terminal, but some fake one); else `None`.
    pub fn on_terminal(quiet: bool) -> Option<Self> {
        if quiet || std::env::var_os("CI").is_some() || !std::io::stderr().is_terminal() {
            return None;
        }
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {prefix} files · {msg} · {binary_bytes_per_sec}",
        )
        .ok()?
        .progress_chars("=> ");
        let bar =
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr()).with_style(style);
        Some(Self {
            bar,
            files: AtomicUsize::new(0),
        })
    }

    /// Clears the bar before the summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn started(&self, files: usize, bytes: u64) {
        self.files.store(files, Ordering::Relaxed);
        self.bar.set_prefix(format!("0/{files}"));
        self.bar.set_message("0 records");
        self.bar.set_length(bytes);
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }

    fn records(&self, records: u64) {
        self.bar.set_message(format!("{records} records"));
    }

    fn file_done(&self, index: usize, bytes: u64, records: u64) {
        self.bar.inc(bytes);
        let files = self.files.load(Ordering::Relaxed);
        self.bar.set_prefix(format!("{}/{files}", index + 1));
        self.bar.set_message(format!("{records} records"));
    }
}
