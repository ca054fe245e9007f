//! `Ticket`, its messages and status.

use std::sync::Arc;

use application::queries::{TicketMessageView, TicketView};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use domain::ticket;

use super::*;
use crate::graphql::order_loader::OrderLoader;

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
