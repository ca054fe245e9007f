//! What the projection workers announce after each committed batch, so readers waiting on a
//! read model (subscriptions) look again when it changed rather than polling it.

use std::time::Duration;

use application::event_log::Position;
use application::queries::Changes;
use tokio::sync::broadcast;

/// The longest a listener goes without being told to look again: a worker in another
/// process announces nothing here.
pub const FALLBACK: Duration = Duration::from_secs(1);

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

    /// The announcements made from now on, as the read side's [`Changes`].
    #[must_use]
    pub fn changes(&self) -> Listener {
        Listener(self.listen())
    }
}

/// The announcements made since it was created, as the read side's [`Changes`].
#[derive(Debug)]
pub struct Listener(broadcast::Receiver<Committed>);

#[async_trait::async_trait]
impl Changes for Listener {
    /// Waits until the projection behind `read_model` announces a committed batch, or
    /// [`FALLBACK`] has passed.
    async fn changed(&mut self, read_model: &'static str) {
        let committed = &mut self.0;
        let announced = async {
            loop {
                match committed.recv().await {
                    Ok(batch) if batch.projection == read_model => {
                        // One look at the row serves every announcement already waiting.
                        while committed.try_recv().is_ok() {}
                        return;
                    }
                    Ok(_) => {}
                    // Announcements were missed: one of them may have been this one's.
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => {
                        return std::future::pending().await;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(FALLBACK, announced).await;
    }
}

impl Default for Announcer {
    fn default() -> Self {
        Self::new()
    }
}
