//! The read side's use cases: the read models of API.md, read through the [`ReadModels`]
//! port, with the same authorization for every transport (customers see only their own
//! orders, tickets and payments; agents and operators read all; products are readable by
//! any authenticated caller), and read-your-writes (`consistentWith`).

mod cursor;
mod filter;
mod views;
mod watch;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

pub use cursor::{KeyCursor, SkuCursor};
pub use filter::{OrderFilter, TicketFilter, sku};
pub use views::{
    OrderLineView, OrderPaymentView, OrderView, PaymentView, ProductView, Tally, TicketMessageView,
    TicketView, TimelineEntryView,
};
pub use watch::Changes;

use crate::event_log::Position;
use crate::personal_data::{PersonalData, Unprotected, reveal_texts};
use crate::{Actor, Error, Role};

/// The largest page a list answers.
pub const MAX_PAGE: usize = 100;

/// How long a query waits for its read model by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// Whether more follow the last one.
    pub has_next: bool,
}

/// Where the read models are kept.
#[async_trait]
pub trait ReadModels: Send + Sync {
    /// The order `id`.
    async fn order(&self, id: Uuid) -> Result<Option<OrderView>, Error>;
    /// The orders `ids` that exist, in no particular order.
    async fn orders_by_id(&self, ids: &[Uuid]) -> Result<Vec<OrderView>, Error>;
    /// Up to `first` orders `filter` keeps, newest first, after `after`.
    async fn orders(
        &self,
        filter: &OrderFilter,
        after: Option<KeyCursor>,
        first: usize,
    ) -> Result<Page<(KeyCursor, OrderView)>, Error>;
    /// The ticket `id`.
    async fn ticket(&self, id: Uuid) -> Result<Option<TicketView>, Error>;
    /// Up to `first` tickets `filter` keeps, newest first, after `after`.
    async fn tickets(
        &self,
        filter: &TicketFilter,
        after: Option<KeyCursor>,
        first: usize,
    ) -> Result<Page<(KeyCursor, TicketView)>, Error>;
    /// The product `sku`.
    async fn product(&self, sku: &domain::Sku) -> Result<Option<ProductView>, Error>;
    /// Up to `first` products by SKU after `after`; only those low on stock when asked.
    async fn products(
        &self,
        low_stock_only: bool,
        after: Option<&SkuCursor>,
        first: usize,
    ) -> Result<Page<(SkuCursor, ProductView)>, Error>;
    /// The payments of the orders `order_ids` that have one.
    async fn payments(&self, order_ids: &[Uuid]) -> Result<Vec<PaymentView>, Error>;
    /// How many orders stand in each status that has any.
    async fn order_counts(&self) -> Result<Vec<Tally>, Error>;
    /// Waits until every projection in `names` has applied `position`, at most `timeout`.
    ///
    /// # Errors
    /// [`Error::Stale`] when they do not; [`Error::Validation`] when the position names
    /// no event of the log.
    async fn wait_until(
        &self,
        names: &[&str],
        position: Position,
        timeout: Duration,
    ) -> Result<(), Error>;
}

/// The roles that read orders, tickets and payments.
const STAFF_AND_CUSTOMERS: [Role; 3] = [Role::Customer, Role::Agent, Role::Operator];

/// Reveals the subject, messages and resolution of `tickets` with `personal`.
async fn reveal_tickets<'a>(
    personal: &dyn PersonalData,
    tickets: impl Iterator<Item = &'a mut TicketView>,
) -> Result<(), Error> {
    let mut texts: Vec<&mut String> = Vec::new();
    for ticket in tickets {
        texts.push(&mut ticket.subject);
        texts.extend(ticket.resolution.as_mut());
        texts.extend(ticket.messages.iter_mut().map(|message| &mut message.body));
    }
    reveal_texts(personal, &mut texts).await
}

/// The roles that see counts over every customer's orders: the staff.
const STAFF: [Role; 3] = [Role::Agent, Role::Operator, Role::Auditor];

/// The read side's use cases.
#[derive(Clone)]
pub struct Queries {
    reads: Arc<dyn ReadModels>,
    /// Reveals the personal fields the ticket read model keeps as stored.
    personal: Arc<dyn PersonalData>,
}

impl fmt::Debug for Queries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queries").finish_non_exhaustive()
    }
}

impl Queries {
    /// Queries over `reads`.
    #[must_use]
    pub fn new(reads: Arc<dyn ReadModels>) -> Self {
        Self {
            reads,
            personal: Arc::new(Unprotected),
        }
    }

    /// These queries, showing the personal fields of tickets as `personal` reveals them.
    #[must_use]
    pub fn with_personal_data(self, personal: Arc<dyn PersonalData>) -> Self {
        Self { personal, ..self }
    }

    /// Reveals the subject, messages and resolution of `tickets`, which the read model
    /// keeps as the log does (encrypted under their customer's key).
    async fn revealed<'a>(
        &self,
        tickets: impl Iterator<Item = &'a mut TicketView>,
    ) -> Result<(), Error> {
        reveal_tickets(self.personal.as_ref(), tickets).await
    }

    /// The read models themselves, for batched loads of what an answer links to.
    #[must_use]
    pub fn reads(&self) -> &Arc<dyn ReadModels> {
        &self.reads
    }

    /// Refuses roles that may not read `what` (orders, tickets, payments): auditors read
    /// the event history instead.
    ///
    /// # Errors
    /// [`Error::Forbidden`].
    pub fn may_read(actor: &Actor, what: &str) -> Result<(), Error> {
        actor.require(&STAFF_AND_CUSTOMERS, &format!("read {what}"))
    }

    /// Waits, at most [`DEFAULT_WAIT`], until `projections` have applied `position`;
    /// nothing to wait for without one.
    ///
    /// # Errors
    /// [`Error::Stale`] on time-out; [`Error::Validation`] for a position that names no
    /// event of the log.
    pub async fn wait(
        &self,
        projections: &[&str],
        position: Option<Position>,
    ) -> Result<(), Error> {
        match position {
            Some(position) => {
                self.reads
                    .wait_until(projections, position, DEFAULT_WAIT)
                    .await
            }
            None => Ok(()),
        }
    }

    /// The order `id`, if `actor` may see it (`None` for another customer's).
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn order(&self, actor: &Actor, id: Uuid) -> Result<Option<OrderView>, Error> {
        Self::may_read(actor, "orders")?;
        let order = self.reads.order(id).await?;
        Ok(order.filter(|o| actor.sees(&o.customer_id)))
    }

    /// A page of the orders `filter` keeps (already scoped to `actor`).
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn orders(
        &self,
        actor: &Actor,
        filter: &OrderFilter,
        after: Option<KeyCursor>,
        first: usize,
    ) -> Result<Page<(KeyCursor, OrderView)>, Error> {
        Self::may_read(actor, "orders")?;
        self.reads.orders(filter, after, first).await
    }

    /// How many orders stand in each status (the staff).
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn order_counts(&self, actor: &Actor) -> Result<Vec<Tally>, Error> {
        actor.require(&STAFF, "count the orders")?;
        self.reads.order_counts().await
    }

    /// The ticket `id`, if `actor` may see it.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn ticket(&self, actor: &Actor, id: Uuid) -> Result<Option<TicketView>, Error> {
        Self::may_read(actor, "tickets")?;
        let mut ticket = self
            .reads
            .ticket(id)
            .await?
            .filter(|t| actor.sees(&t.customer_id));
        self.revealed(ticket.iter_mut()).await?;
        Ok(ticket)
    }

    /// A page of the tickets `filter` keeps (already scoped to `actor`).
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn tickets(
        &self,
        actor: &Actor,
        filter: &TicketFilter,
        after: Option<KeyCursor>,
        first: usize,
    ) -> Result<Page<(KeyCursor, TicketView)>, Error> {
        Self::may_read(actor, "tickets")?;
        let mut page = self.reads.tickets(filter, after, first).await?;
        self.revealed(page.items.iter_mut().map(|(_, ticket)| ticket))
            .await?;
        Ok(page)
    }

    /// The product `sku` (any authenticated caller).
    ///
    /// # Errors
    /// The store's error.
    pub async fn product(&self, sku: &domain::Sku) -> Result<Option<ProductView>, Error> {
        self.reads.product(sku).await
    }

    /// A page of products (any authenticated caller).
    ///
    /// # Errors
    /// The store's error.
    pub async fn products(
        &self,
        low_stock_only: bool,
        after: Option<&SkuCursor>,
        first: usize,
    ) -> Result<Page<(SkuCursor, ProductView)>, Error> {
        self.reads.products(low_stock_only, after, first).await
    }

    /// The payment of order `order_id`, if `actor` may see the order.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn payment(
        &self,
        actor: &Actor,
        order_id: Uuid,
    ) -> Result<Option<PaymentView>, Error> {
        Self::may_read(actor, "payments")?;
        if actor.role == Role::Customer && self.order(actor, order_id).await?.is_none() {
            return Ok(None);
        }
        Ok(self.reads.payments(&[order_id]).await?.into_iter().next())
    }
}
