//! Which events of the log concern an order's fulfilment, and as which [`Step`].

use domain::fulfilment::Step;
use domain::{OrderId, Sku, order, payment, stock};

use crate::DomainEvent;

/// The order an event concerns and the step it is for the fulfilment policy; `None` for
/// events the saga does not react to (a restock, a ticket message, its own bookkeeping).
///
/// `stream_id` is the id of the event's stream: the SKU of stock events.
#[must_use]
pub fn step_of(event: &DomainEvent, stream_id: &str) -> Option<(OrderId, Step)> {
    match event {
        DomainEvent::Order(event) => order_step(event, stream_id),
        DomainEvent::Stock(event) => {
            let sku = Sku::parse(stream_id).ok()?;
            match event {
                stock::Event::Reserved { order, .. } => Some((*order, Step::StockReserved { sku })),
                stock::Event::ReservationRejected { order, .. } => {
                    Some((*order, Step::StockRejected { sku }))
                }
                stock::Event::Committed { order, .. } => {
                    Some((*order, Step::StockCommitted { sku }))
                }
                _ => None,
            }
        }
        DomainEvent::Payment(event) => {
            let order = order_of(stream_id)?;
            let step = match event {
                payment::Event::Requested { .. } => Step::PaymentRequested,
                payment::Event::FailedTransiently { attempt, .. } => {
                    Step::PaymentFailed { attempt: *attempt }
                }
                payment::Event::Authorized { .. } => Step::PaymentAuthorized,
                payment::Event::DeadlinePassed => Step::PaymentDeadlinePassed,
                payment::Event::Declined { .. } => Step::PaymentDeclined,
                payment::Event::Expired | payment::Event::Refunded { .. } => return None,
            };
            Some((order, step))
        }
        DomainEvent::Ticket(_) => None,
    }
}

fn order_step(event: &order::Event, stream_id: &str) -> Option<(OrderId, Step)> {
    let step = match event {
        order::Event::Placed {
            order,
            customer,
            lines,
            total,
            payment,
            ..
        } => {
            return Some((
                *order,
                Step::Placed {
                    order: *order,
                    customer: customer.clone(),
                    lines: lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect(),
                    total: *total,
                    payment: payment.clone(),
                },
            ));
        }
        order::Event::Confirmed { .. } => Step::OrderConfirmed,
        order::Event::Cancelled { reason, .. } => Step::OrderCancelled { reason: *reason },
        order::Event::LineReserved { .. } | order::Event::Paid | order::Event::Shipped { .. } => {
            return None;
        }
    };
    Some((order_of(stream_id)?, step))
}

/// The order an order or payment stream id names.
fn order_of(stream_id: &str) -> Option<OrderId> {
    uuid::Uuid::parse_str(stream_id)
        .ok()
        .map(|id| OrderId::from_u128(id.as_u128()))
}

#[cfg(test)]
mod tests {
    use domain::Quantity;

    use super::*;

    #[test]
    fn a_reservation_is_a_step_of_the_order_it_names_for_the_streams_sku() {
        let event = DomainEvent::Stock(stock::Event::Reserved {
            order: OrderId::from_u128(9),
            quantity: Quantity::new(1).unwrap(),
        });
        assert_eq!(
            step_of(&event, "MUG-1"),
            Some((
                OrderId::from_u128(9),
                Step::StockReserved {
                    sku: Sku::parse("MUG-1").unwrap()
                }
            ))
        );
    }

    #[test]
    fn payment_events_are_steps_of_the_order_the_payment_stream_names() {
        let id = uuid::Uuid::from_u128(5);
        let event = DomainEvent::Payment(payment::Event::FailedTransiently {
            error: "down".into(),
            attempt: 2,
        });
        assert_eq!(
            step_of(&event, &id.to_string()),
            Some((OrderId::from_u128(5), Step::PaymentFailed { attempt: 2 }))
        );
    }

    #[test]
    fn a_restock_is_nothing_to_the_saga() {
        let event = DomainEvent::Stock(stock::Event::Restocked {
            quantity: Quantity::new(3).unwrap(),
        });
        assert_eq!(step_of(&event, "MUG-1"), None);
    }
}
