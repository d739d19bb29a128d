//! Progress lines: one line per step with its elapsed time (plain text, so
//! it reads the same in a terminal and in CI logs).

use std::time::Instant;

/// Prints numbered steps.
#[derive(Debug)]
pub(crate) struct Progress {
    total: usize,
    done: usize,
    started: Instant,
}

impl Progress {
    /// A run of `total` steps.
    pub fn new(total: usize) -> Self {
        Progress {
            total,
            done: 0,
            started: Instant::now(),
        }
    }

    /// Runs one step, printing its name, then `ok` or `FAILED` with the time.
    pub fn step<T>(
        &mut self,
        name: &str,
        f: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, String> {
        self.done += 1;
        println!("[{}/{}] {name} ...", self.done, self.total.max(self.done));
        let t = Instant::now();
        let result = f();
        let secs = t.elapsed().as_secs_f64();
        match &result {
            Ok(_) => println!("      ok ({secs:.1} s)"),
            Err(_) => println!("      FAILED ({secs:.1} s)"),
        }
        result.map_err(|e| format!("{name}: {e}"))
    }

    /// An indented detail line under the current step.
    pub fn detail(&self, text: &str) {
        for line in text.lines() {
            println!("      {line}");
        }
    }

    /// Seconds since the start.
    pub fn elapsed_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}
