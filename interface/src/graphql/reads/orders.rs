//! `Order`, its lines, timeline and status, and `Payment` with the DataLoader behind
//! `Order.payment`.

use std::collections::HashMap;
use std::sync::Arc;

use application::queries::{OrderView, PaymentView, ReadModels, TimelineEntryView};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Enum, ID, Object, SimpleObject};
use uuid::Uuid;

use super::*;
use crate::state::AppState;

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
