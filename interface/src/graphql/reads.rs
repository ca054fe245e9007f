//! The read-model types of the GraphQL queries (`Order`, `Ticket`, `Product`, `Payment`),
//! the payment [`DataLoader`] behind `Order.payment`, and the helpers the query root
//! shares: paging arguments, `consistentWith` and authorization.

use std::collections::HashMap;
use std::sync::Arc;

use application::input::parse_position;
use application::queries::{
    MAX_PAGE, OrderView, PaymentView, ProductView, Queries, ReadModels, TicketMessageView,
    TicketView, TimelineEntryView,
};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, SecondsFormat, Utc};
use domain::ticket;
use uuid::Uuid;

use super::order_loader::OrderLoader;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The page size when `first` is not given.
pub const DEFAULT_FIRST: i32 = 20;

/// Batches `Order.payment` lookups of one request into one query.
pub struct PaymentLoader {
    reads: Arc<dyn ReadModels>,
}

impl Loader<Uuid> for PaymentLoader {
    type Value = PaymentView;
    type Error = Arc<String>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, PaymentView>, Self::Error> {
        let payments = self
            .reads
            .payments(keys)
            .await
            .map_err(|e| Arc::new(e.to_string()))?;
        Ok(payments.into_iter().map(|p| (p.order_id, p)).collect())
    }
}

/// A payment loader for one request.
#[must_use]
pub fn payment_loader(state: &AppState) -> Arc<DataLoader<PaymentLoader>> {
    Arc::new(DataLoader::new(
        PaymentLoader {
            reads: Arc::clone(state.queries.reads()),
        },
        tokio::spawn,
    ))
}

pub(super) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum OrderStatus {
    /// Placed; fulfilment under way.
    Pending,
    /// Stock reserved and payment approved.
    Confirmed,
    /// Cancelled (see `cancellationReason`).
    Cancelled,
    /// Shipped.
    Shipped,
}

impl OrderStatus {
    const ALL: [Self; 4] = [
        Self::Pending,
        Self::Confirmed,
        Self::Cancelled,
        Self::Shipped,
    ];

    /// The stored name: the domain's.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        use domain::order::{CancellationReason, Status};
        match self {
            Self::Pending => Status::Pending.as_str(),
            Self::Confirmed => Status::Confirmed.as_str(),
            // Every reason has the one status name.
            Self::Cancelled => Status::Cancelled(CancellationReason::CustomerRequest).as_str(),
            Self::Shipped => Status::Shipped.as_str(),
        }
    }
}

/// A ticket's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TicketStatus {
    /// Open.
    Open,
    /// Closed.
    Closed,
}

impl TicketStatus {
    /// The stored name: the domain's.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        self.domain().as_str()
    }

    const fn domain(self) -> ticket::Status {
        match self {
            Self::Open => ticket::Status::Open,
            Self::Closed => ticket::Status::Closed,
        }
    }
}

impl From<ticket::Status> for TicketStatus {
    fn from(status: ticket::Status) -> Self {
        match status {
            ticket::Status::Open => Self::Open,
            ticket::Status::Closed => Self::Closed,
        }
    }
}

/// An order as the read model has it.
pub struct Order {
    view: OrderView,
    payments: Arc<DataLoader<PaymentLoader>>,
}

impl Order {
    /// `view`, its payment looked up through `payments`.
    #[must_use]
    pub const fn new(view: OrderView, payments: Arc<DataLoader<PaymentLoader>>) -> Self {
        Self { view, payments }
    }
}

/// One line of an order.
#[derive(Debug, Clone, SimpleObject)]
pub struct OrderLine {
    /// The product's SKU.
    pub sku: String,
    /// How many units.
    pub quantity: i64,
    /// The unit price, a decimal string.
    pub unit_price: String,
    /// `quantity × unitPrice`, a decimal string.
    pub line_total: String,
}

/// One step of an order's history.
#[derive(Debug, Clone, SimpleObject)]
pub struct TimelineEntry {
    /// When (RFC 3339).
    pub at: String,
    /// The event's type.
    pub event: String,
}

impl From<&TimelineEntryView> for TimelineEntry {
    fn from(entry: &TimelineEntryView) -> Self {
        Self {
            at: time(entry.at),
            event: entry.event.clone(),
        }
    }
}

#[Object]
impl Order {
    /// The order's id.
    async fn id(&self) -> ID {
        ID(self.view.id.to_string())
    }

    /// Whose order.
    async fn customer_id(&self) -> &str {
        &self.view.customer_id
    }

    /// Its status.
    async fn status(&self) -> Result<OrderStatus, async_graphql::Error> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == self.view.status)
            .ok_or_else(|| {
                ApiError::Internal(format!("order status {:?}", self.view.status)).to_graphql()
            })
    }

    /// Why it was cancelled: `OUT_OF_STOCK`, `PAYMENT_DECLINED`, `PAYMENT_TIMEOUT` or
    /// `CUSTOMER_REQUEST`.
    async fn cancellation_reason(&self) -> Option<&str> {
        self.view.cancellation_reason.as_deref()
    }

    /// ISO 4217 code of every amount.
    async fn currency(&self) -> &str {
        &self.view.currency
    }

    /// The total, a decimal string.
    async fn total(&self) -> &str {
        &self.view.total
    }

    /// What was bought.
    async fn lines(&self) -> Vec<OrderLine> {
        self.view
            .lines
            .iter()
            .map(|l| OrderLine {
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price.clone(),
                line_total: l.line_total.clone(),
            })
            .collect()
    }

    /// The order's payment, once one was requested.
    async fn payment(&self) -> Result<Option<Payment>, async_graphql::Error> {
        self.payments
            .load_one(self.view.id)
            .await
            .map(|p| p.map(Payment))
            .map_err(|e| ApiError::Internal(e.to_string()).to_graphql())
    }

    /// What happened to the order, oldest first.
    async fn timeline(&self) -> Vec<TimelineEntry> {
        self.view.timeline.iter().map(TimelineEntry::from).collect()
    }

    /// The order stream's version applied.
    async fn version(&self) -> i64 {
        self.view.version
    }

    /// When it was placed (RFC 3339).
    async fn placed_at(&self) -> String {
        time(self.view.placed_at)
    }

    /// When it last changed (RFC 3339).
    async fn updated_at(&self) -> String {
        time(self.view.updated_at)
    }
}

/// An order's payment.
pub struct Payment(pub PaymentView);

#[Object]
impl Payment {
    /// The order paid for.
    async fn order_id(&self) -> ID {
        ID(self.0.order_id.to_string())
    }

    /// `REQUESTED`, `SUCCEEDED`, `DECLINED`, `FAILED` or `REFUNDED`.
    async fn status(&self) -> &str {
        &self.0.status
    }

    /// The amount, a decimal string.
    async fn amount(&self) -> &str {
        &self.0.amount
    }

    /// ISO 4217 code.
    async fn currency(&self) -> &str {
        &self.0.currency
    }

    /// Charge attempts so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
}

/// A support ticket with its messages.
pub struct Ticket {
    view: TicketView,
    orders: Arc<DataLoader<OrderLoader>>,
    payments: Arc<DataLoader<PaymentLoader>>,
}

impl Ticket {
    /// `view`, the order it names looked up through `orders` (and that order's payment
    /// through `payments`).
    #[must_use]
    pub const fn new(
        view: TicketView,
        orders: Arc<DataLoader<OrderLoader>>,
        payments: Arc<DataLoader<PaymentLoader>>,
    ) -> Self {
        Self {
            view,
            orders,
            payments,
        }
    }
}

/// One message of a ticket.
#[derive(Debug, Clone, SimpleObject)]
pub struct TicketMessage {
    /// Who wrote it.
    pub author: String,
    /// In which role: `customer` or `agent`.
    pub role: String,
    /// The text.
    pub body: String,
    /// When (RFC 3339).
    pub at: String,
}

impl From<&TicketMessageView> for TicketMessage {
    fn from(m: &TicketMessageView) -> Self {
        Self {
            author: m.author.clone(),
            role: m.role.clone(),
            body: m.body.clone(),
            at: time(m.at),
        }
    }
}

#[Object]
impl Ticket {
    /// The ticket's id.
    async fn id(&self) -> ID {
        ID(self.view.id.to_string())
    }

    /// Whose ticket.
    async fn customer_id(&self) -> &str {
        &self.view.customer_id
    }

    /// The order it is about, if any.
    async fn order_id(&self) -> Option<ID> {
        self.view.order_id.map(|id| ID(id.to_string()))
    }

    /// The order it names, as `order(id)` would answer: null when there is none, or for a
    /// customer when the order is another customer's.
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<Order>, async_graphql::Error> {
        let Some(id) = self.view.order_id else {
            return Ok(None);
        };
        let caller = reader(ctx, "orders").await?;
        let order = self
            .orders
            .load_one(id)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()).to_graphql())?;
        Ok(order
            .filter(|o| caller.actor.sees(&o.customer_id))
            .map(|o| Order::new(o, Arc::clone(&self.payments))))
    }

    /// Its subject.
    async fn subject(&self) -> &str {
        &self.view.subject
    }

    /// Its status.
    async fn status(&self) -> TicketStatus {
        if self.view.status == TicketStatus::Closed.as_str() {
            TicketStatus::Closed
        } else {
            TicketStatus::Open
        }
    }

    /// The agent working it.
    async fn assignee(&self) -> Option<&str> {
        self.view.assignee.as_deref()
    }

    /// The thread, oldest first.
    async fn messages(&self) -> Vec<TicketMessage> {
        self.view.messages.iter().map(TicketMessage::from).collect()
    }

    /// When it was opened (RFC 3339).
    async fn opened_at(&self) -> String {
        time(self.view.opened_at)
    }

    /// When it was last closed (RFC 3339).
    async fn closed_at(&self) -> Option<String> {
        self.view.closed_at.map(time)
    }

    /// How it was resolved.
    async fn resolution(&self) -> Option<&str> {
        self.view.resolution.as_deref()
    }
}

/// A product's stock levels.
pub struct Product(pub ProductView);

#[Object]
impl Product {
    /// The SKU.
    async fn sku(&self) -> &str {
        &self.0.sku
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Units in the warehouse.
    async fn on_hand(&self) -> i64 {
        self.0.on_hand
    }

    /// Units reserved by orders not yet settled.
    async fn reserved(&self) -> i64 {
        self.0.reserved
    }

    /// Units that can still be ordered.
    async fn available(&self) -> i64 {
        self.0.available
    }

    /// The level at or under which stock is low.
    async fn low_stock_threshold(&self) -> i64 {
        self.0.low_stock_threshold
    }

    /// Whether stock is low.
    async fn low_stock(&self) -> bool {
        self.0.low_stock
    }

    /// What one unit costs, a decimal string in `currency`; null for a product registered
    /// before products had prices, until it is repriced.
    async fn price(&self) -> Option<&str> {
        self.0.price.as_deref()
    }

    /// ISO 4217 code of the price; null when there is no price.
    async fn currency(&self) -> Option<&str> {
        self.0.currency.as_deref()
    }
}

/// `first`, checked: 0 to 100, 20 when absent.
///
/// # Errors
/// `VALIDATION` outside 0..=100.
pub fn page_size(first: Option<i32>) -> Result<usize, async_graphql::Error> {
    let first = first.unwrap_or(DEFAULT_FIRST);
    usize::try_from(first)
        .ok()
        .filter(|f| *f <= MAX_PAGE)
        .ok_or_else(|| {
            ApiError::Validation(format!("first must be between 0 and {MAX_PAGE}")).to_graphql()
        })
}

/// A malformed `after`.
#[must_use]
pub fn bad_cursor() -> async_graphql::Error {
    ApiError::Validation("after is not a cursor of this list".into()).to_graphql()
}

/// Waits for `projections` to apply `consistent_with`, when given.
///
/// # Errors
/// `VALIDATION` for a malformed token, `STALE` on time-out, `INTERNAL`.
pub async fn wait(
    state: &AppState,
    projections: &[&str],
    consistent_with: Option<&str>,
) -> Result<(), async_graphql::Error> {
    let position = consistent_with
        .map(|token| parse_position("consistentWith", token))
        .transpose()
        .map_err(graphql_error)?;
    state
        .queries
        .wait(projections, position)
        .await
        .map_err(graphql_error)
}

/// A UUID argument.
///
/// # Errors
/// `VALIDATION` when it is not one.
pub fn uuid(name: &str, id: &ID) -> Result<Uuid, async_graphql::Error> {
    application::input::parse_uuid(name, id).map_err(graphql_error)
}

/// The caller, refused unless its role reads `what` (orders, tickets, payments).
///
/// # Errors
/// `UNAUTHENTICATED`; `FORBIDDEN` for auditors.
pub async fn reader(ctx: &Context<'_>, what: &str) -> Result<Caller, async_graphql::Error> {
    let caller = super::context::caller(ctx).await?;
    Queries::may_read(&caller.actor, what).map_err(graphql_error)?;
    Ok(caller)
}

/// A read that failed, as its GraphQL error.
#[must_use]
pub fn graphql_error(e: application::Error) -> async_graphql::Error {
    ApiError::from(e).to_graphql()
}
