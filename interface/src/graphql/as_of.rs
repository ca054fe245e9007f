//! `orderAsOf` and `ticketAsOf`: an aggregate as it stood at a version or an instant,
//! folded from its events by the domain code itself (not read from a projection).

use application::history::Past;
use application::money::format_amount;
use application::{OrderAggregate, TicketAggregate};
use async_graphql::{ID, Object};
use chrono::SecondsFormat;
use domain::order::Status;

use super::reads::{OrderLine, OrderStatus, TicketStatus};

fn time(past: &Past<impl Sized>) -> String {
    past.recorded_at
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An order as it stood after one of its events.
pub struct OrderAsOf(pub Past<OrderAggregate>);

/// An order as it stood after one of its events, folded from the log by the domain code.
#[Object]
impl OrderAsOf {
    /// The order's id.
    async fn id(&self) -> Option<ID> {
        self.0.state.0.id().map(|id| ID(id.to_string()))
    }

    /// Whose order.
    async fn customer_id(&self) -> Option<&str> {
        self.0.state.0.customer().map(domain::CustomerId::as_str)
    }

    /// Its status then.
    async fn status(&self) -> Option<OrderStatus> {
        self.0.state.0.status().map(|status| match status {
            Status::Pending => OrderStatus::Pending,
            Status::Confirmed => OrderStatus::Confirmed,
            Status::Cancelled(_) => OrderStatus::Cancelled,
            Status::Shipped => OrderStatus::Shipped,
        })
    }

    /// Why it was cancelled, when it was.
    async fn cancellation_reason(&self) -> Option<&'static str> {
        match self.0.state.0.status() {
            Some(Status::Cancelled(reason)) => Some(reason.as_str()),
            _ => None,
        }
    }

    /// ISO 4217 code of every amount.
    async fn currency(&self) -> Option<String> {
        self.0.state.0.total().map(|t| t.currency().to_string())
    }

    /// The total, a decimal string.
    async fn total(&self) -> Option<String> {
        self.0.state.0.total().map(format_amount)
    }

    /// What was bought.
    async fn lines(&self) -> Vec<OrderLine> {
        self.0
            .state
            .0
            .lines()
            .iter()
            .map(|line| OrderLine {
                sku: line.sku.to_string(),
                quantity: i64::from(line.quantity.get()),
                unit_price: format_amount(line.unit_price),
                line_total: line.total().map(format_amount).unwrap_or_default(),
            })
            .collect()
    }

    /// The SKUs whose stock was recorded as reserved.
    async fn reserved_skus(&self) -> Vec<String> {
        self.0
            .state
            .0
            .lines()
            .iter()
            .filter(|line| self.0.state.0.is_reserved(&line.sku))
            .map(|line| line.sku.to_string())
            .collect()
    }

    /// Whether the payment was recorded as succeeded.
    async fn paid(&self) -> bool {
        self.0.state.0.is_paid()
    }

    /// The version of the last event folded.
    async fn version(&self) -> i64 {
        self.0.version
    }

    /// When the last event folded was recorded (RFC 3339).
    async fn at(&self) -> String {
        time(&self.0)
    }
}

/// A ticket as it stood after one of its events.
pub struct TicketAsOf(pub Past<TicketAggregate>);

/// A ticket as it stood after one of its events, folded from the log by the domain code.
#[Object]
impl TicketAsOf {
    /// The ticket's id.
    async fn id(&self) -> Option<ID> {
        self.0.state.0.id().map(|id| ID(id.to_string()))
    }

    /// Whose ticket.
    async fn customer_id(&self) -> Option<&str> {
        self.0.state.0.customer().map(domain::CustomerId::as_str)
    }

    /// The order it is about, if any.
    async fn order_id(&self) -> Option<ID> {
        self.0.state.0.order().map(|id| ID(id.to_string()))
    }

    /// Open or closed then.
    async fn status(&self) -> TicketStatus {
        self.0.state.0.status().into()
    }

    /// The agent working it then.
    async fn assignee(&self) -> Option<&str> {
        self.0.state.0.assignee().map(domain::AgentId::as_str)
    }

    /// How many messages the thread held, the first one included.
    async fn message_count(&self) -> u32 {
        self.0.state.0.message_count()
    }

    /// The version of the last event folded.
    async fn version(&self) -> i64 {
        self.0.version
    }

    /// When the last event folded was recorded (RFC 3339).
    async fn at(&self) -> String {
        time(&self.0)
    }
}
