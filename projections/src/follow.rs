//! Following the event log: the next batch after a position, in the global order and only
//! below the oldest running transaction (the store's guarantee), and the wait for more when
//! the log is drained. Woken by a commit of this process, otherwise it looks again at an
//! interval that doubles from `min_poll` to `max_poll` while nothing comes. Looks start at
//! least `min_poll` apart: under load, the commits of that interval are read in one batch
//! rather than one look (and one round trip) per commit for every follower.
//!
//! The projection workers and the `eventAppended` subscription take whole batches with
//! [`Follower::next`]; the saga's runner, which also waits for its lanes, and the rebuild,
//! which reads until it has caught up, use its two halves, [`Follower::read`] and
//! [`Follower::wait`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use application::event_log::{Position, ReadFilter, RecordedEvent};
use application::{Error, EventStore};
use tokio::sync::futures::OwnedNotified;
use tokio::sync::{Notify, watch};

/// A reader of the log that waits for what comes next.
pub struct Follower {
    store: Arc<dyn EventStore>,
    filter: ReadFilter,
    wake: Arc<Notify>,
    min_poll: Duration,
    max_poll: Duration,
    idle: Duration,
    /// When the last look started.
    looked_at: Option<tokio::time::Instant>,
    /// Taken before each read, so that a commit between the read and the wait ends it.
    armed: Option<Pin<Box<OwnedNotified>>>,
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
            looked_at: None,
            armed: None,
        }
    }

    /// Reads `store` without this process's commit signal, polling every second when it
    /// waits: for readers that stop once they have caught up with the log (the rebuild).
    #[must_use]
    pub fn reader(store: Arc<dyn EventStore>) -> Self {
        let second = Duration::from_secs(1);
        Self::new(store, Arc::new(Notify::new()), second, second)
    }

    /// Only the events `filter` keeps.
    #[must_use]
    pub fn filtered(self, filter: ReadFilter) -> Self {
        Self { filter, ..self }
    }

    /// The events of streams of the types `followed` whole, every other event as its
    /// header alone ([`ReadFilter::bodies_of`]).
    #[must_use]
    pub fn bodies_of(self, followed: &[&str]) -> Self {
        let filter = ReadFilter {
            bodies_of: Some(followed.iter().map(|&t| t.to_owned()).collect()),
            ..self.filter.clone()
        };
        self.filtered(filter)
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
            match self.read(after, limit).await {
                Ok(events) if !events.is_empty() => return Some(events),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "reading the event log"),
            }
            self.wait(std::future::pending(), shutdown).await;
        }
    }

    /// One look at the log: the events after `after`, at most `limit`, or none yet.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn read(&mut self, after: Position, limit: i64) -> Result<Vec<RecordedEvent>, Error> {
        let mut armed = Box::pin(Arc::clone(&self.wake).notified_owned());
        armed.as_mut().enable();
        self.armed = Some(armed);
        self.looked_at = Some(tokio::time::Instant::now());
        let events = self.store.read_filtered(after, limit, &self.filter).await?;
        if !events.is_empty() {
            self.idle = self.min_poll;
        }
        Ok(events)
    }

    /// Waits for a commit of this process since the last [`Follower::read`], the idle
    /// interval, `also`, or shutdown, and then until `min_poll` has passed since that read;
    /// the idle interval then doubles, up to `max_poll`, unless `also` ended the wait.
    pub async fn wait(
        &mut self,
        also: impl Future<Output = ()>,
        shutdown: &mut watch::Receiver<bool>,
    ) {
        let armed = self
            .armed
            .take()
            .unwrap_or_else(|| Box::pin(Arc::clone(&self.wake).notified_owned()));
        let idle = self.idle;
        let by_also = tokio::select! {
            () = armed => false,
            () = tokio::time::sleep(idle) => false,
            () = also => true,
            _ = shutdown.changed() => return,
        };
        if let Some(looked_at) = self.looked_at {
            tokio::select! {
                () = tokio::time::sleep_until(looked_at + self.min_poll) => {}
                _ = shutdown.changed() => return,
            }
        }
        // A read that finds events sets it back (a commit that brought none of the events
        // followed is no reason to look sooner next time).
        if !by_also {
            self.idle = (idle * 2).min(self.max_poll);
        }
    }
}
