//! Following one read-model row: the order or ticket now, and again each time its stream
//! version grows, for as long as the caller may see it. The read side tells when to look
//! again through [`Changes`] rather than each follower polling its row.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::{Stream, stream};
use uuid::Uuid;

use super::{OrderView, Queries, ReadModels, TicketView, reveal_tickets};
use crate::personal_data::PersonalData;
use crate::{Actor, Error};

/// Tells a follower when a read model may have changed.
#[async_trait::async_trait]
pub trait Changes: Send {
    /// Returns once `read_model` (`orders`, `tickets`) may have changed since the last
    /// call, or once a fallback interval has passed (changes committed by another process
    /// may go unannounced).
    async fn changed(&mut self, read_model: &'static str);
}

/// A row as a follower reads it.
trait Row: Send + 'static {
    /// The read model it lives in.
    const READ_MODEL: &'static str;
    /// What it is called in a refusal.
    const WHAT: &'static str;
    /// Its stream version.
    fn version(&self) -> i64;
    /// Whose it is.
    fn owner(&self) -> &str;
    /// The row `id`, if it is projected, with personal fields revealed by `personal`.
    fn load(
        reads: Arc<dyn ReadModels>,
        personal: Arc<dyn PersonalData>,
        id: Uuid,
    ) -> BoxFuture<'static, Result<Option<Self>, Error>>
    where
        Self: Sized;
}

impl Row for OrderView {
    const READ_MODEL: &'static str = "orders";
    const WHAT: &'static str = "order";

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> &str {
        &self.customer_id
    }

    fn load(
        reads: Arc<dyn ReadModels>,
        _personal: Arc<dyn PersonalData>,
        id: Uuid,
    ) -> BoxFuture<'static, Result<Option<Self>, Error>> {
        Box::pin(async move { reads.order(id).await })
    }
}

impl Row for TicketView {
    const READ_MODEL: &'static str = "tickets";
    const WHAT: &'static str = "ticket";

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> &str {
        &self.customer_id
    }

    fn load(
        reads: Arc<dyn ReadModels>,
        personal: Arc<dyn PersonalData>,
        id: Uuid,
    ) -> BoxFuture<'static, Result<Option<Self>, Error>> {
        Box::pin(async move {
            let mut ticket = reads.ticket(id).await?;
            reveal_tickets(personal.as_ref(), ticket.iter_mut()).await?;
            Ok(ticket)
        })
    }
}

impl Queries {
    /// The order `id` now (once it is projected) and each time it changes; `changes` must
    /// be listening already, so that a change between the first read and the first wait is
    /// not missed. The stream ends after its first error.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for a role that does not read orders, or another customer's
    /// order (also as the stream's last item); the store's error.
    pub async fn watch_order(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: Box<dyn Changes>,
    ) -> Result<impl Stream<Item = Result<OrderView, Error>> + Send + use<>, Error> {
        self.watch(actor, id, changes).await
    }

    /// The ticket `id` now (once it is projected) and each time it changes, as
    /// [`Queries::watch_order`].
    ///
    /// # Errors
    /// [`Error::Forbidden`] for a role that does not read tickets, or another customer's
    /// ticket; the store's error.
    pub async fn watch_ticket(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: Box<dyn Changes>,
    ) -> Result<impl Stream<Item = Result<TicketView, Error>> + Send + use<>, Error> {
        self.watch(actor, id, changes).await
    }
}

/// `FORBIDDEN` unless `actor` may see `row`.
fn allowed<V: Row>(actor: &Actor, row: &V) -> Result<(), Error> {
    if actor.sees(row.owner()) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "this {} is another customer's",
            V::WHAT
        )))
    }
}

/// What a follower carries from one look to the next.
struct Follow<V> {
    actor: Actor,
    reads: Arc<dyn ReadModels>,
    personal: Arc<dyn PersonalData>,
    id: Uuid,
    /// The row to yield first, when there was one at the start.
    first: Option<V>,
    changes: Box<dyn Changes>,
    /// The version last yielded.
    seen: Option<i64>,
    /// Whether the stream has ended (after an error).
    done: bool,
}

impl Queries {
    /// The row `id` now (when it is one) and then each time its version grows; ends after
    /// the first error (refused, or failing to load).
    async fn watch<V: Row>(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: Box<dyn Changes>,
    ) -> Result<impl Stream<Item = Result<V, Error>> + Send + use<V>, Error> {
        Self::may_read(actor, V::READ_MODEL)?;
        let first = V::load(Arc::clone(&self.reads), Arc::clone(&self.personal), id).await?;
        if let Some(row) = &first {
            allowed(actor, row)?;
        }
        let follow = Follow {
            actor: actor.clone(),
            reads: Arc::clone(&self.reads),
            personal: Arc::clone(&self.personal),
            id,
            first,
            changes,
            seen: None,
            done: false,
        };
        Ok(stream::unfold(follow, |mut follow| async move {
            if follow.done {
                return None;
            }
            loop {
                let row = match follow.first.take() {
                    Some(row) => Some(row),
                    None => {
                        follow.changes.changed(V::READ_MODEL).await;
                        let (reads, personal) =
                            (Arc::clone(&follow.reads), Arc::clone(&follow.personal));
                        match V::load(reads, personal, follow.id).await {
                            Ok(row) => row,
                            Err(error) => {
                                follow.done = true;
                                return Some((Err(error), follow));
                            }
                        }
                    }
                };
                let Some(row) = row else { continue };
                if follow.seen.is_some_and(|seen| row.version() <= seen) {
                    continue;
                }
                if let Err(error) = allowed(&follow.actor, &row) {
                    follow.done = true;
                    return Some((Err(error), follow));
                }
                follow.seen = Some(row.version());
                return Some((Ok(row), follow));
            }
        }))
    }
}
