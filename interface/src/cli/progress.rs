//! A progress bar on stderr for long operator commands: count against a total, rate and
//! time left. Redrawn in place on a terminal; one line per second otherwise (a log file).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Progress of `done` out of `total` items.
#[derive(Debug)]
pub struct Progress {
    what: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    drawn: Option<Instant>,
    /// The count last drawn.
    drawn_done: Option<u64>,
    terminal: bool,
}

impl Progress {
    /// Starts counting `what` (e.g. `events`) against `total`.
    #[must_use]
    pub fn new(what: &'static str, total: u64) -> Self {
        Self {
            what,
            total,
            done: 0,
            started: Instant::now(),
            drawn: None,
            drawn_done: None,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// `n` more items are done; redraws when enough time has passed.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        let every = if self.terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(1)
        };
        if self.drawn.is_none_or(|at| at.elapsed() >= every) {
            self.draw("");
        }
    }

    /// Draws the final state (unless a log line already shows it) and ends the line.
    pub fn finish(&mut self) {
        if self.terminal || self.drawn_done != Some(self.done) {
            self.draw("\n");
        }
    }

    /// The total changes to `total` (a count that grows while it is worked through).
    pub fn set_total(&mut self, total: u64) {
        self.total = total;
    }

    /// How many items are done.
    #[must_use]
    pub const fn done(&self) -> u64 {
        self.done
    }

    fn draw(&mut self, end: &str) {
        let line = render(self.what, self.done, self.total, self.started.elapsed());
        let mut stderr = std::io::stderr().lock();
        // The bar is a courtesy: a closed stderr must not stop the work.
        let _ = if self.terminal {
            write!(stderr, "\r\x1b[K{line}{end}")
        } else {
            writeln!(stderr, "{line}")
        };
        let _ = stderr.flush();
        self.drawn = Some(Instant::now());
        self.drawn_done = Some(self.done);
    }
}

/// `12000/100000 events (12.0%)  6000 events/s  ETA 0:13`.
#[must_use]
pub fn render(what: &str, done: u64, total: u64, elapsed: Duration) -> String {
    // Display arithmetic: precision loss on huge counts does not matter.
    #[allow(clippy::cast_precision_loss)]
    let (done_f, total_f) = (done as f64, total.max(done) as f64);
    let percent = if total_f > 0.0 {
        done_f * 100.0 / total_f
    } else {
        100.0
    };
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 { done_f / seconds } else { 0.0 };
    let eta = if rate > 0.0 {
        clock((total_f - done_f) / rate)
    } else {
        "--:--".to_owned()
    };
    format!(
        "{done}/{} {what} ({percent:.1}%)  {rate:.0} {what}/s  ETA {eta}",
        total.max(done)
    )
}

/// Whole seconds as `m:ss` (or `h:mm:ss`).
fn clock(seconds: f64) -> String {
    // Non-negative and far below u64::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = seconds.max(0.0).ceil() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_count_share_rate_and_time_left() {
        assert_eq!(
            render("events", 12_000, 100_000, Duration::from_secs(2)),
            "12000/100000 events (12.0%)  6000 events/s  ETA 0:15"
        );
        assert_eq!(
            render("events", 0, 0, Duration::ZERO),
            "0/0 events (100.0%)  0 events/s  ETA --:--"
        );
        assert_eq!(
            render("events", 1, 7201, Duration::from_secs(1)),
            "1/7201 events (0.0%)  1 events/s  ETA 2:00:00"
        );
    }
}
