//! The histories the test shop is built from: an order shipped, one cancelled by its
//! customer, one pending beside a rejected one, and a ticket closed.

use application::{Actor, Role};
use domain::{Currency, Money, OrderId, Timestamp, order, payment, stock};
use uuid::Uuid;

use super::{World, meta, operator, units};

fn now() -> Timestamp {
    Timestamp::from_millis(chrono::Utc::now().timestamp_millis())
}

/// Shipped: reserved, paid, committed, confirmed, shipped.
pub(super) async fn shipped_order(w: &World) -> Uuid {
    let eur = Currency::parse("EUR").unwrap();

    let shipped = w.place("alice", &[("MUG-1", 2)]).await;
    let order_id = OrderId::from_u128(shipped.as_u128());
    w.stock(
        "MUG-1",
        stock::Command::Reserve {
            order: order_id,
            quantity: units(2),
        },
    )
    .await;
    w.order(
        shipped,
        order::Command::RecordLineReserved {
            sku: domain::Sku::parse("MUG-1").unwrap(),
        },
    )
    .await;
    w.payment(
        shipped,
        payment::Command::Request {
            order: order_id,
            amount: Money::new(2500, eur),
            method: domain::PaymentMethod::new("pm_tok_visa", "fp_1").unwrap(),
        },
    )
    .await;
    w.payment(shipped, payment::Command::RecordAuthorized).await;
    w.order(shipped, order::Command::RecordPaymentSucceeded)
        .await;
    w.stock("MUG-1", stock::Command::Commit { order: order_id })
        .await;
    w.order(shipped, order::Command::Confirm { at: now() })
        .await;
    w.commands
        .ship_order(&operator(), shipped, &meta())
        .await
        .unwrap();

    shipped
}

/// Cancelled by the customer: its reservation released, payment declined.
pub(super) async fn cancelled_order(w: &World) -> Uuid {
    let eur = Currency::parse("EUR").unwrap();
    let cancelled = w.place("alice", &[("PEN-1", 1)]).await;
    let cancelled_id = OrderId::from_u128(cancelled.as_u128());
    w.stock(
        "PEN-1",
        stock::Command::Reserve {
            order: cancelled_id,
            quantity: units(1),
        },
    )
    .await;
    w.payment(
        cancelled,
        payment::Command::Request {
            order: cancelled_id,
            amount: Money::new(1250, eur),
            method: domain::PaymentMethod::new("pm_tok_chargeDeclined", "fp_1").unwrap(),
        },
    )
    .await;
    w.payment(
        cancelled,
        payment::Command::RecordDeclined {
            reason: "card declined".into(),
        },
    )
    .await;
    w.commands
        .cancel_order(&Actor::new("alice", Role::Customer), cancelled, &meta())
        .await
        .unwrap();
    w.stock(
        "PEN-1",
        stock::Command::Release {
            order: cancelled_id,
        },
    )
    .await;

    cancelled
}

/// Pending, holding two pens (stock now low); another asks for too many (rejected). Then
/// pens get cheaper; the orders keep their prices.
pub(super) async fn pending_order(w: &World) -> Uuid {
    let eur = Currency::parse("EUR").unwrap();
    let pending = w.place("bob", &[("PEN-1", 2)]).await;
    w.stock(
        "PEN-1",
        stock::Command::Reserve {
            order: OrderId::from_u128(pending.as_u128()),
            quantity: units(2),
        },
    )
    .await;
    let greedy = w.place("bob", &[("PEN-1", 50)]).await;
    w.stock(
        "PEN-1",
        stock::Command::Reserve {
            order: OrderId::from_u128(greedy.as_u128()),
            quantity: units(50),
        },
    )
    .await;

    w.stock(
        "PEN-1",
        stock::Command::Reprice {
            price: Money::new(200, eur),
        },
    )
    .await;

    pending
}

/// A ticket about `order` with a thread, assigned and closed.
pub(super) async fn closed_ticket(w: &World, shipped: Uuid) -> Uuid {
    let ticket = w.open_ticket("alice", Some(shipped)).await;
    let agent = Actor::new("agnes", Role::Agent);
    w.post(ticket, &agent, "Let me check.").await;
    w.post(ticket, &Actor::new("alice", Role::Customer), "Thanks!")
        .await;
    w.commands
        .assign_ticket(&agent, ticket, "agnes", &meta())
        .await
        .unwrap();
    w.commands
        .close_ticket(&agent, ticket, "Delivered.".into(), &meta())
        .await
        .unwrap();

    ticket
}
