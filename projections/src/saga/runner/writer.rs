//! The tenure's writer: lanes hand it the outcomes of their steps, and it stores whatever
//! is waiting in one fenced statement ([`outcome::store_all`]). Lanes that finish steps at
//! the same time share a round trip and a commit; a lone lane waits for no one (what is
//! queued while a statement runs goes out with the next one).
//!
//! A lane waits until its outcome is stored (or failed) before it takes its order's next
//! step, so a batch never holds two outcomes of one order.

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::NAME;
use crate::Error;
use crate::saga::outcome::{self, Row};

/// Most outcomes stored in one statement.
const MOST: usize = 128;

type Waiting = (Row, oneshot::Sender<Result<(), Error>>);

/// Stores the outcomes of one tenure's lanes under its epoch. See the module documentation.
#[derive(Debug)]
pub(super) struct Writer {
    queue: mpsc::UnboundedSender<Waiting>,
}

impl Writer {
    /// A writer storing through `pool` under `epoch`; it stops when dropped.
    pub(super) fn start(pool: PgPool, epoch: i64) -> Self {
        let (queue, mut waiting) = mpsc::unbounded_channel::<Waiting>();
        tokio::spawn(async move {
            let mut rows = Vec::with_capacity(MOST);
            let mut replies = Vec::with_capacity(MOST);
            while let Some((row, reply)) = waiting.recv().await {
                rows.push(row);
                replies.push(reply);
                while rows.len() < MOST {
                    let Ok((row, reply)) = waiting.try_recv() else {
                        break;
                    };
                    rows.push(row);
                    replies.push(reply);
                }
                let stored = outcome::store_all(&pool, NAME, epoch, &rows).await;
                rows.clear();
                let mut replies = replies.drain(..);
                match stored {
                    Ok(()) => replies.for_each(|reply| {
                        let _ = reply.send(Ok(()));
                    }),
                    Err(error) => {
                        // Every lane of the batch learns that its step was not stored; the
                        // first one gets the error itself.
                        let again = |error: &Error| match error {
                            Error::Fenced(name) => Error::Fenced(name),
                            other => Error::Unexpected(format!("storing the saga: {other}")),
                        };
                        let first = replies.next();
                        for reply in replies {
                            let _ = reply.send(Err(again(&error)));
                        }
                        if let Some(first) = first {
                            let _ = first.send(Err(error));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    /// Stores `row`, with whatever other lanes hand in meanwhile.
    ///
    /// # Errors
    /// Those of [`outcome::store_all`].
    pub(super) async fn store(&self, row: Row) -> Result<(), Error> {
        let stopped = || Error::Unexpected("the saga's writer stopped".into());
        let (reply, answer) = oneshot::channel();
        self.queue.send((row, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}
