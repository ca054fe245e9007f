//! A progress bar on stderr for long operator commands: done/total, rate and ETA.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Draws one task's progress on stderr: redrawn in place on a terminal (at most ten times a
/// second), one line every few seconds otherwise (logs, CI).
#[derive(Debug)]
pub struct ProgressBar {
    label: String,
    started: Instant,
    last_drawn: Option<Instant>,
    /// What the last line drawn showed.
    last_shown: (u64, u64),
    terminal: bool,
}

impl ProgressBar {
    /// A bar for `label`, starting now.
    #[must_use]
    pub fn new(label: &str) -> Self {
        Self {
            label: label.to_owned(),
            started: Instant::now(),
            last_drawn: None,
            last_shown: (u64::MAX, 0),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Shows `done` of `total`, unless drawn too recently.
    pub fn update(&mut self, done: u64, total: u64) {
        let every = if self.terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(2)
        };
        if self.last_drawn.is_some_and(|at| at.elapsed() < every) {
            return;
        }
        self.last_drawn = Some(Instant::now());
        self.draw(done, total, false);
    }

    /// Shows the final state and ends the line (off a terminal, unless the last line
    /// already showed it).
    pub fn finish(&mut self, done: u64) {
        if self.terminal || self.last_shown != (done, done) {
            self.draw(done, done, true);
        }
    }

    fn draw(&mut self, done: u64, total: u64, last: bool) {
        self.last_shown = (done, total.max(done));
        let text = line(&self.label, done, total, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        // A progress bar that cannot be drawn is not worth failing the command for.
        let _ = if self.terminal {
            write!(err, "\r{text}\x1b[K{}", if last { "\n" } else { "" })
        } else {
            writeln!(err, "{text}")
        };
        let _ = err.flush();
    }
}

/// One line: label, bar, percentage, counts, rate (events/s) and ETA.
#[must_use]
pub fn line(label: &str, done: u64, total: u64, elapsed: Duration) -> String {
    const WIDTH: u64 = 30;
    let total = total.max(done);
    let ratio = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    let filled = (ratio * WIDTH as f64).round() as u64;
    let bar: String = (0..WIDTH)
        .map(|i| if i < filled { '#' } else { '-' })
        .collect();
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        done as f64 / seconds
    } else {
        0.0
    };
    let eta = if done >= total {
        "done".to_owned()
    } else if rate > 0.0 {
        format!("ETA {}", clock((total - done) as f64 / rate))
    } else {
        "ETA ?".to_owned()
    };
    format!(
        "{label:<10} [{bar}] {:>3.0}% {done}/{total} events  {rate:.0} events/s  {} elapsed  {eta}",
        ratio * 100.0,
        clock(seconds),
    )
}

/// `seconds` as `m:ss` (or `h:mm:ss`).
fn clock(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_done_task_shows_its_rate_and_the_time_left() {
        let text = line("orders", 5_000, 10_000, Duration::from_secs(10));
        assert!(text.starts_with("orders "), "{text}");
        assert!(
            text.contains(&format!("[{}{}]", "#".repeat(15), "-".repeat(15))),
            "{text}"
        );
        assert!(text.contains(" 50% 5000/10000 events"), "{text}");
        assert!(text.contains("500 events/s"), "{text}");
        assert!(
            text.contains("0:10 elapsed") && text.ends_with("ETA 0:10"),
            "{text}"
        );
    }

    #[test]
    fn a_finished_task_says_done_and_an_empty_log_is_complete() {
        assert!(line("tickets", 7, 7, Duration::from_secs(1)).ends_with("done"));
        assert!(line("payments", 0, 0, Duration::ZERO).contains("100% 0/0 events"));
        assert!(line("orders", 0, 9, Duration::ZERO).ends_with("ETA ?"));
    }
}
