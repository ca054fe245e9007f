//! Following the event log: the next batch after a position, in the global order and only
//! below the oldest running transaction (the store's guarantee), waiting for one when the log
//! is drained. Woken at once by a commit of this process, otherwise it looks again at an
//! interval that doubles from `min_poll` to `max_poll` while nothing comes.

use std::sync::Arc;
use std::time::Duration;

use application::EventStore;
use application::event_log::{Position, ReadFilter, RecordedEvent};
use tokio::sync::{Notify, watch};

/// A reader of the log that waits for what comes next.
#[derive(Clone)]
pub struct Follower {
    store: Arc<dyn EventStore>,
    filter: ReadFilter,
    wake: Arc<Notify>,
    min_poll: Duration,
    max_poll: Duration,
    idle: Duration,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("filter", &self.filter)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

impl Follower {
    /// Follows `store`, woken by `wake` after each commit, polling between `min_poll` and
    /// `max_poll` otherwise.
    #[must_use]
    pub fn new(
        store: Arc<dyn EventStore>,
        wake: Arc<Notify>,
        min_poll: Duration,
        max_poll: Duration,
    ) -> Self {
        Self {
            store,
            filter: ReadFilter::default(),
            wake,
            min_poll,
            max_poll,
            idle: min_poll,
        }
    }

    /// Only the events `filter` keeps.
    #[must_use]
    pub fn filtered(self, filter: ReadFilter) -> Self {
        Self { filter, ..self }
    }

    /// The next events after `after`, at most `limit`, waiting until there are some. A
    /// failed read is logged and tried again after the idle interval. `None` once
    /// `shutdown` turns true.
    pub async fn next(
        &mut self,
        after: Position,
        limit: i64,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Option<Vec<RecordedEvent>> {
        loop {
            if *shutdown.borrow() {
                return None;
            }
            // Registered before reading, so a commit between the read and the wait wakes it.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.store.read_filtered(after, limit, &self.filter).await {
                Ok(events) if !events.is_empty() => {
                    self.idle = self.min_poll;
                    return Some(events);
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "reading the event log"),
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(self.idle) => {}
                _ = shutdown.changed() => {}
            }
            self.idle = (self.idle * 2).min(self.max_poll);
        }
    }
}
