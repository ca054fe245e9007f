//! What the projection workers announce after each committed batch, so readers waiting on a
//! read model (subscriptions) look again when it changed rather than polling it.

use application::event_log::Position;
use tokio::sync::broadcast;

/// A batch a projection committed: its read model now stands at `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The projection, e.g. `orders`.
    pub projection: &'static str,
    /// Its checkpoint after the batch.
    pub position: Position,
}

/// The announcements of one process's workers. A slow listener misses some (it learns so
/// and looks again); none is kept for listeners that come later.
#[derive(Debug, Clone)]
pub struct Announcer {
    sender: broadcast::Sender<Committed>,
}

impl Announcer {
    /// Room for this many announcements a slow listener may fall behind by.
    const CAPACITY: usize = 1024;

    /// An announcer nobody listens to yet.
    #[must_use]
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(Self::CAPACITY).0,
        }
    }

    /// Tells every listener that `projection` committed up to `position`.
    pub fn announce(&self, projection: &'static str, position: Position) {
        // No listener is not an error: nobody waits.
        let _ = self.sender.send(Committed {
            projection,
            position,
        });
    }

    /// A listener to the announcements made from now on.
    #[must_use]
    pub fn listen(&self) -> broadcast::Receiver<Committed> {
        self.sender.subscribe()
    }
}

impl Default for Announcer {
    fn default() -> Self {
        Self::new()
    }
}
