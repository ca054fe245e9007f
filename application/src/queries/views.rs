//! The views the read queries answer: the read models of API.md, serialised camelCase with
//! money as decimal strings.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// An order as the read model has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(as = Order))]
pub struct OrderView {
    /// The order's id.
    pub id: Uuid,
    /// Whose order.
    pub customer_id: String,
    /// `PENDING`, `CONFIRMED`, `CANCELLED` or `SHIPPED`.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(PENDING|CONFIRMED|CANCELLED|SHIPPED)$")
    )]
    pub status: String,
    /// Why it was cancelled: `OUT_OF_STOCK`, `PAYMENT_DECLINED`, `PAYMENT_TIMEOUT` or
    /// `CUSTOMER_REQUEST`.
    pub cancellation_reason: Option<String>,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// The order's total, a decimal string.
    #[cfg_attr(feature = "openapi", schema(example = "25.00"))]
    pub total: String,
    /// What was bought.
    pub lines: Vec<OrderLineView>,
    /// The payment, once one was requested.
    pub payment: Option<OrderPaymentView>,
    /// What happened to the order, oldest first.
    pub timeline: Vec<TimelineEntryView>,
    /// The order stream's version applied.
    pub version: i64,
    /// When it was placed.
    pub placed_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(as = OrderLine))]
pub struct OrderLineView {
    /// The product's SKU.
    pub sku: String,
    /// How many units.
    pub quantity: i64,
    /// The unit price, a decimal string.
    pub unit_price: String,
    /// `quantity × unitPrice`, a decimal string.
    pub line_total: String,
}

/// An order's payment, in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(as = OrderPayment))]
pub struct OrderPaymentView {
    /// `REQUESTED`, `SUCCEEDED`, `DECLINED`, `FAILED` or `REFUNDED`.
    pub status: String,
    /// The amount charged, a decimal string.
    pub amount: Option<String>,
}

/// One step of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(as = TimelineEntry))]
pub struct TimelineEntryView {
    /// When.
    pub at: DateTime<Utc>,
    /// The event's type.
    pub event: String,
}

/// A support ticket with its messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(as = Ticket))]
pub struct TicketView {
    /// The ticket's id.
    pub id: Uuid,
    /// Whose ticket.
    pub customer_id: String,
    /// The order it is about, if any.
    pub order_id: Option<Uuid>,
    /// Its subject.
    pub subject: String,
    /// `OPEN` or `CLOSED`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(OPEN|CLOSED)$"))]
    pub status: String,
    /// The agent working it.
    pub assignee: Option<String>,
    /// The thread, oldest first.
    pub messages: Vec<TicketMessageView>,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When it was last closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// How it was resolved.
    pub resolution: Option<String>,
    /// The ticket stream's version applied.
    pub version: i64,
}

/// One message of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(as = TicketMessage))]
pub struct TicketMessageView {
    /// Who wrote it.
    pub author: String,
    /// In which role: `customer` or `agent`.
    pub role: String,
    /// The text.
    pub body: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A product's stock levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(as = Product))]
pub struct ProductView {
    /// The SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Units in the warehouse.
    pub on_hand: i64,
    /// Units reserved by orders not yet settled.
    pub reserved: i64,
    /// Units that can still be ordered.
    pub available: i64,
    /// The level at or under which stock is low.
    pub low_stock_threshold: i64,
    /// Whether `available` is at or under the threshold.
    pub low_stock: bool,
    /// What one unit costs, a decimal string in `currency`; null for a product registered
    /// before products had prices, until it is repriced.
    #[cfg_attr(feature = "openapi", schema(example = "12.50"))]
    pub price: Option<String>,
    /// ISO 4217 code of the price; null when there is no price.
    #[cfg_attr(feature = "openapi", schema(example = "BRL"))]
    pub currency: Option<String>,
    /// The stock stream's version applied.
    pub version: i64,
}

/// An order's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(as = Payment))]
pub struct PaymentView {
    /// The order paid for.
    pub order_id: Uuid,
    /// `REQUESTED`, `SUCCEEDED`, `DECLINED`, `FAILED` or `REFUNDED`.
    pub status: String,
    /// The amount, a decimal string.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Charge attempts so far.
    pub attempts: i32,
    /// The payment stream's version applied.
    pub version: i64,
}

/// How many of something there are under one label: orders by status, sagas by phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The label, e.g. `CONFIRMED`.
    pub label: String,
    /// How many.
    pub count: i64,
}

impl From<(String, i64)> for Tally {
    /// A `(label, count)` row.
    fn from((label, count): (String, i64)) -> Self {
        Self { label, count }
    }
}
