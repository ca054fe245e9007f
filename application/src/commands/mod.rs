//! The use cases that change the world: one method per command, each authorised for the
//! calling [`Actor`], each answering a [`CommandResult`].

mod customers;
pub mod limits;
mod orders;
mod products;
mod tickets;

use std::sync::Arc;

use chrono::Utc;
use domain::Timestamp;

pub use orders::{OrderLineInput, PlaceOrder};
pub use products::{RegisterProduct, RepriceProduct};
pub use tickets::OpenTicket;

use crate::admission::Admission;
use crate::event_store::EventStore;
use crate::personal_data::{PersonalData, Unprotected};
use crate::saga::PaymentProvider;
use crate::{
    OrderAggregate, PaymentAggregate, Repository, RepositoryOptions, StockAggregate,
    TicketAggregate, Upcasters,
};

/// The command side of domainflow.
#[derive(Clone)]
pub struct Commands {
    orders: Repository<OrderAggregate>,
    stock: Repository<StockAggregate>,
    payments: Repository<PaymentAggregate>,
    tickets: Repository<TicketAggregate>,
    /// Whether new orders are admitted (fulfilment keeping up).
    admission: Arc<Admission>,
    /// Registers a new order's payment token, which is never kept: the order keeps the
    /// method the provider answers.
    provider: Arc<dyn PaymentProvider>,
    /// Encrypts the personal fields of ticket events, and erases customers.
    personal: Arc<dyn PersonalData>,
    /// The log, for what no aggregate decides (the record of an erasure).
    store: Arc<dyn EventStore>,
}

impl std::fmt::Debug for Commands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Commands")
            .field("provider", &self.provider)
            .field("personal", &self.personal)
            .finish_non_exhaustive()
    }
}

impl Commands {
    /// The use cases over `store`, with a snapshot every `snapshot_every` events per
    /// aggregate (a hot SKU gets events from every order; orders and tickets rarely reach
    /// the threshold), registering payment tokens with `provider`.
    #[must_use]
    pub fn new(
        store: Arc<dyn EventStore>,
        options: &RepositoryOptions,
        provider: Arc<dyn PaymentProvider>,
    ) -> Self {
        let upcasters = Arc::new(Upcasters::current());
        Self {
            orders: Repository::new(Arc::clone(&store), Arc::clone(&upcasters), options.clone()),
            stock: Repository::new(Arc::clone(&store), Arc::clone(&upcasters), options.clone()),
            payments: Repository::new(Arc::clone(&store), Arc::clone(&upcasters), options.clone()),
            tickets: Repository::new(Arc::clone(&store), upcasters, options.clone()),
            admission: Arc::new(Admission::unlimited()),
            provider,
            personal: Arc::new(Unprotected),
            store,
        }
    }

    /// These use cases, placing orders only as `admission` admits them.
    #[must_use]
    pub fn with_admission(self, admission: Arc<Admission>) -> Self {
        Self { admission, ..self }
    }

    /// These use cases, storing customers' personal data encrypted by `personal`, which
    /// also erases it.
    #[must_use]
    pub fn with_personal_data(self, personal: Arc<dyn PersonalData>) -> Self {
        Self {
            tickets: self.tickets.with_personal_data(Arc::clone(&personal)),
            personal,
            ..self
        }
    }

    /// The order repository, for the saga and the read side.
    #[must_use]
    pub fn orders(&self) -> &Repository<OrderAggregate> {
        &self.orders
    }

    /// The stock repository.
    #[must_use]
    pub fn stock(&self) -> &Repository<StockAggregate> {
        &self.stock
    }

    /// The payment repository.
    #[must_use]
    pub fn payments(&self) -> &Repository<PaymentAggregate> {
        &self.payments
    }

    /// The ticket repository.
    #[must_use]
    pub fn tickets(&self) -> &Repository<TicketAggregate> {
        &self.tickets
    }
}

/// Now, as the domain sees time.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_millis(Utc::now().timestamp_millis())
}
