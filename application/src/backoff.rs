//! Exponential backoff with jitter, so that retries spread out instead of arriving together.

use std::time::Duration;

use uuid::Uuid;

/// A retry schedule: `base`, doubled after each attempt, capped at `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The pause after the first failure.
    pub base: Duration,
    /// The longest pause.
    pub cap: Duration,
}

impl Backoff {
    /// The pause after `failures` failures (1 for the first): between half and all of
    /// `base × 2^(failures-1)`, capped ("equal jitter": never zero, never in lockstep).
    #[must_use]
    pub fn delay(&self, failures: u32) -> Duration {
        let doubled = self
            .base
            .saturating_mul(1_u32 << failures.saturating_sub(1).min(20));
        let ceiling = doubled.min(self.cap);
        ceiling / 2 + jittered(ceiling / 2)
    }

    /// Up to `base × 2^(failures-1)` (capped), anywhere from zero ("full jitter", for
    /// contention where spreading matters more than waiting).
    #[must_use]
    pub fn full_jitter(&self, failures: u32) -> Duration {
        let doubled = self
            .base
            .saturating_mul(1_u32 << failures.saturating_sub(1).min(20));
        jittered(doubled.min(self.cap))
    }
}

/// A random duration between zero and `ceiling`.
fn jittered(ceiling: Duration) -> Duration {
    // Fresh v4 ids are random: their low bits are all the randomness needed here.
    let random = u64::try_from(Uuid::new_v4().as_u128() & 0xffff_ffff).unwrap_or(0);
    let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(random % micros.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_within_its_jitter_and_stops_at_the_cap() {
        let backoff = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(400),
        };
        for _ in 0..50 {
            let first = backoff.delay(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = backoff.delay(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert!(backoff.delay(30) <= Duration::from_millis(400));
            assert!(backoff.full_jitter(2) <= Duration::from_millis(200));
        }
    }
}
