//! New orders are admitted while fulfilment keeps up. Each order makes work for the saga;
//! when orders arrive faster than the saga fulfils them for long, the backlog would grow
//! without bound and every order would wait longer. So while the oldest event the saga has
//! not taken yet is older than a limit, placing an order is refused as unavailable (503
//! with `Retry-After`), and every other command still goes through: cancels, restocks and
//! the saga's own commands drain the backlog rather than grow it.
//!
//! How far behind the saga is, is observed from outside (a watcher reading the saga's
//! checkpoint) and handed in through [`Admission::observe`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::Error;

/// Whether new orders are admitted. See the module documentation.
#[derive(Debug)]
pub struct Admission {
    /// How far behind fulfilment was last seen, in milliseconds.
    behind_ms: AtomicU64,
    /// The most it may be behind for new orders to be admitted (`None`: no limit).
    limit: Option<Duration>,
}

impl Admission {
    /// Admits new orders while fulfilment is at most `limit` behind.
    #[must_use]
    pub const fn new(limit: Option<Duration>) -> Self {
        Self {
            behind_ms: AtomicU64::new(0),
            limit,
        }
    }

    /// Admits every order.
    #[must_use]
    pub const fn unlimited() -> Self {
        Self::new(None)
    }

    /// The limit, if there is one.
    #[must_use]
    pub const fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// Fulfilment was seen `behind` (the age of the oldest event the saga has not taken).
    pub fn observe(&self, behind: Duration) {
        let millis = u64::try_from(behind.as_millis()).unwrap_or(u64::MAX);
        self.behind_ms.store(millis, Ordering::Relaxed);
    }

    /// How far behind fulfilment was last seen.
    #[must_use]
    pub fn behind(&self) -> Duration {
        Duration::from_millis(self.behind_ms.load(Ordering::Relaxed))
    }

    /// Whether a new order may be placed now.
    ///
    /// # Errors
    /// [`Error::Overloaded`] while fulfilment is further behind than the limit.
    pub fn admit(&self) -> Result<(), Error> {
        match self.limit {
            Some(limit) if self.behind() > limit => Err(Error::Overloaded(format!(
                "order fulfilment is {:.1} s behind (new orders wait while it is more than \
                 {:.1} s behind); try again shortly",
                self.behind().as_secs_f64(),
                limit.as_secs_f64()
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_refused_only_while_fulfilment_is_further_behind_than_the_limit() {
        let admission = Admission::new(Some(Duration::from_secs(5)));
        assert!(admission.admit().is_ok());
        admission.observe(Duration::from_secs(5));
        assert!(admission.admit().is_ok(), "at the limit is not beyond it");
        admission.observe(Duration::from_millis(5001));
        match admission.admit() {
            Err(Error::Overloaded(why)) => assert!(why.contains("5.0 s behind"), "{why}"),
            other => panic!("{other:?}"),
        }
        admission.observe(Duration::ZERO);
        assert!(admission.admit().is_ok(), "caught up");
        let unlimited = Admission::unlimited();
        unlimited.observe(Duration::from_secs(3600));
        assert!(unlimited.admit().is_ok());
    }
}
