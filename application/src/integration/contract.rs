//! Version 1 of the integration events: which internal events leave, under which name, and
//! in which shape. `docs/integration-events.md` is the same contract for consumers; a
//! change of a shape here is a new version there.

use chrono::SecondsFormat;
use domain::{order, payment, stock, ticket};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::DomainEvent;
use crate::event_log::RecordedEvent;
use crate::money::format_amount;

/// The version of the contract, in every message's `dataschema`.
pub const CONTRACT_VERSION: u32 = 1;

/// Every integration event name of this version.
pub const NAMES: [&str; 10] = [
    "order.placed",
    "order.confirmed",
    "order.cancelled",
    "order.shipped",
    "stock.restocked",
    "stock.low",
    "payment.authorized",
    "payment.refunded",
    "ticket.opened",
    "ticket.closed",
];

/// One message for the broker.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationEvent {
    /// The id of the event it reports: the message id, for consumers to drop duplicates.
    pub id: Uuid,
    /// Its name, e.g. `order.placed`: the routing key (RabbitMQ) and the subject's tail
    /// (NATS).
    pub name: &'static str,
    /// `order/ID`, `stock/SKU`, `payment/ORDER_ID` or `ticket/ID`.
    pub subject: String,
    /// The event's version within its stream: per subject, messages come in this order.
    pub sequence: i64,
    /// The causal chain it belongs to.
    pub correlation_id: Option<Uuid>,
    /// The whole message: a CloudEvents 1.0 JSON document (see the contract).
    pub body: Vec<u8>,
}

/// The integration event `recorded` (already decoded as `event`) gives, or `None` when it
/// is not one that leaves the system.
#[must_use]
pub fn integration_event(
    recorded: &RecordedEvent,
    event: &DomainEvent,
) -> Option<IntegrationEvent> {
    let (name, data) = data_of(event)?;
    let subject = recorded.stream.to_string();
    let correlation_id = recorded
        .metadata
        .get("correlationId")
        .and_then(Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok());
    let envelope = json!({
        "specversion": "1.0",
        "id": recorded.event_id,
        "source": "domainflow",
        "type": name,
        "dataschema": format!("urn:domainflow:integration:{name}:{CONTRACT_VERSION}"),
        "subject": subject,
        "time": recorded.recorded_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "datacontenttype": "application/json",
        "streamversion": recorded.version,
        "correlationid": correlation_id,
        "data": data,
    });
    Some(IntegrationEvent {
        id: recorded.event_id,
        name,
        subject,
        sequence: recorded.version,
        correlation_id,
        body: envelope.to_string().into_bytes(),
    })
}

/// The name and `data` of an event that leaves the system.
fn data_of(event: &DomainEvent) -> Option<(&'static str, Value)> {
    Some(match event {
        DomainEvent::Order(event) => order_data(event)?,
        DomainEvent::Stock(event) => stock_data(event)?,
        DomainEvent::Payment(event) => payment_data(event)?,
        DomainEvent::Ticket(event) => ticket_data(event)?,
    })
}

fn order_data(event: &order::Event) -> Option<(&'static str, Value)> {
    Some(match event {
        order::Event::Placed {
            order,
            customer,
            currency,
            lines,
            total,
            ..
        } => (
            "order.placed",
            json!({
                "orderId": order.to_string(),
                "customerId": customer.to_string(),
                "currency": currency.as_str(),
                "lines": lines.iter().map(|line| json!({
                    "sku": line.sku.as_str(),
                    "quantity": line.quantity.get(),
                    "unitPrice": format_amount(line.unit_price),
                })).collect::<Vec<_>>(),
                "total": format_amount(*total),
            }),
        ),
        order::Event::Confirmed { .. } => ("order.confirmed", json!({})),
        order::Event::Cancelled { reason, .. } => {
            ("order.cancelled", json!({ "reason": reason.as_str() }))
        }
        order::Event::Shipped { .. } => ("order.shipped", json!({})),
        order::Event::LineReserved { .. } | order::Event::Paid => return None,
    })
}

fn stock_data(event: &stock::Event) -> Option<(&'static str, Value)> {
    Some(match event {
        stock::Event::Restocked { quantity } => {
            ("stock.restocked", json!({ "quantity": quantity.get() }))
        }
        stock::Event::LowStock {
            available,
            threshold,
        } => (
            "stock.low",
            json!({ "available": available, "threshold": threshold }),
        ),
        _ => return None,
    })
}

fn payment_data(event: &payment::Event) -> Option<(&'static str, Value)> {
    let (name, amount) = match event {
        payment::Event::Authorized { amount, .. } => ("payment.authorized", amount),
        payment::Event::Refunded { amount } => ("payment.refunded", amount),
        _ => return None,
    };
    Some((
        name,
        json!({
            "amount": format_amount(*amount),
            "currency": amount.currency().as_str(),
        }),
    ))
}

fn ticket_data(event: &ticket::Event) -> Option<(&'static str, Value)> {
    Some(match event {
        // The subject and the messages are the customer's words: they stay inside.
        ticket::Event::Opened {
            customer, order, ..
        } => (
            "ticket.opened",
            json!({
                "customerId": customer.to_string(),
                "orderId": order.map(|order| order.to_string()),
            }),
        ),
        ticket::Event::Closed { .. } => ("ticket.closed", json!({})),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract for consumers and the code say the same: every name has its row in
    /// docs/integration-events.md, and the doc names no event the code does not publish.
    #[test]
    fn the_documented_events_are_the_published_ones() {
        let doc = include_str!("../../../docs/integration-events.md");
        let rows: Vec<&str> = doc
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split_once('`').map(|(name, _)| name))
            .filter(|name| name.contains('.'))
            .collect();
        assert_eq!(rows, NAMES.to_vec());
    }
}
