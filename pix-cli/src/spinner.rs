//! The progress line of long workflows (`pix db reset`, `pix provision`):
//! on a terminal, a spinner with the current step, its elapsed time and,
//! when a byte counter is attached, the bytes moved and the rate, redrawn by
//! a thread every 100 ms; finished lines are printed above it. Off a
//! terminal, only the finished lines, one per line (logs stay clean).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pix_ops::backup::ByteCounter;

use crate::output::bytes_and_rate;

/// `1.23s`.
pub fn seconds(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Erases the terminal's current line.
const CLEAR_LINE: &str = "\r\x1b[2K";

#[derive(Default)]
struct State {
    current: Option<(String, Instant)>,
    counter: Option<ByteCounter>,
    frame: usize,
}

/// A spinner on stderr (see the module's documentation).
pub struct Spinner {
    tty: bool,
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Spinner {
    /// A spinner; on a terminal (`tty`) a thread redraws it until
    /// [`Spinner::finish`].
    pub fn start(tty: bool) -> Arc<Spinner> {
        let spinner = Arc::new(Spinner {
            tty,
            state: Mutex::new(State::default()),
            stop: AtomicBool::new(false),
        });
        if tty {
            let redrawn = Arc::clone(&spinner);
            std::thread::spawn(move || {
                while !redrawn.stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(100));
                    redrawn.redraw();
                }
            });
        }
        spinner
    }

    fn redraw(&self) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if self.stop.load(Ordering::SeqCst) {
            return;
        }
        let Some((label, since)) = s.current.clone() else {
            return;
        };
        s.frame = (s.frame + 1) % FRAMES.len();
        let bytes = s
            .counter
            .as_ref()
            .filter(|c| c.get() > 0)
            .map(|c| format!(" {}", bytes_and_rate(c.get(), since.elapsed())))
            .unwrap_or_default();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "{CLEAR_LINE}{} {label} {}{bytes}",
            FRAMES[s.frame],
            seconds(since.elapsed())
        );
        let _ = err.flush();
    }

    /// Prints finished lines above the spinner, then shows `current` on the
    /// spinner (its clock starting now), or nothing when it is `None`.
    pub fn update(&self, lines: &[String], current: Option<String>) {
        self.emit(lines, Some(current));
    }

    /// Prints finished lines above the spinner and leaves it as it is.
    pub fn print(&self, lines: &[String]) {
        self.emit(lines, None);
    }

    fn emit(&self, lines: &[String], current: Option<Option<String>>) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "{CLEAR_LINE}");
        }
        for line in lines {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
        if let Some(current) = current {
            s.current = current.map(|label| (label, Instant::now()));
        }
    }

    /// Shows bytes and rate from `counter` beside the spinner's label.
    pub fn attach_counter(&self, counter: &ByteCounter) {
        if let Ok(mut s) = self.state.lock() {
            s.counter = Some(counter.clone());
        }
    }

    /// The attached counter's bytes so far.
    pub fn counted(&self) -> Option<u64> {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.counter.as_ref().map(ByteCounter::get))
    }

    /// Stops the spinner and clears its line.
    pub fn finish(&self) {
        // Under the lock, so no redraw can follow the clearing.
        let _state = self.state.lock();
        self.stop.store(true, Ordering::SeqCst);
        if self.tty {
            eprint!("{CLEAR_LINE}");
        }
    }
}
