//! What the database says once the system is at rest, for tests that check it whole: the
//! read models as rows, and the promises of fulfilment that hold over the log (no command
//! or effect applied twice, money and outcomes agreeing).

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::PgPool;

/// Every row of every read model, as JSON, in primary-key order.
///
/// # Panics
/// When a table cannot be read.
pub async fn read_models(pool: &PgPool) -> BTreeMap<&'static str, Vec<Value>> {
    let mut tables = BTreeMap::new();
    for (table, key) in [
        ("rm_orders", "id"),
        ("rm_tickets", "id"),
        ("rm_products", "sku"),
        ("rm_payments", "order_id"),
    ] {
        let rows: Vec<Value> =
            sqlx::query_scalar(&format!("SELECT to_jsonb(t) FROM {table} t ORDER BY {key}"))
                .fetch_all(pool)
                .await
                .unwrap_or_else(|e| panic!("reading {table}: {e}"));
        tables.insert(table, rows);
    }
    tables
}

/// An order, its last outcome, the provider's outcome and what it refunded.
type OrderBooks = (String, Option<String>, Option<String>, Option<i64>);

/// The promises that hold over the whole log once fulfilment is at rest; `Err` names the
/// first one broken:
/// - no command appended events in two transactions;
/// - no stock or payment effect recorded twice for one order;
/// - every order is final: its last outcome confirmed with its payment captured and not
///   refunded (by the simulated provider's ledger kept in the database), or cancelled
///   without a payment kept.
///
/// # Errors
/// What is broken, or the database's error.
pub async fn fulfilment_promises(pool: &PgPool) -> Result<(), String> {
    let repeated: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT metadata->>'commandId', count(DISTINCT transaction_id)
         FROM events GROUP BY 1 HAVING count(DISTINCT transaction_id) > 1",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?;
    if !repeated.is_empty() {
        return Err(format!("commands applied more than once: {repeated:?}"));
    }
    let twice: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT stream_id, event_type, payload->>'orderId', count(*) FROM events
         WHERE event_type IN ('StockReserved', 'StockCommitted', 'StockReleased',
                              'StockReturned', 'PaymentAuthorized', 'PaymentRefunded',
                              'OrderConfirmed', 'OrderCancelled')
         GROUP BY 1, 2, 3 HAVING count(*) > 1",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?;
    if !twice.is_empty() {
        return Err(format!("effects applied twice: {twice:?}"));
    }
    let wrong: Vec<OrderBooks> = sqlx::query_as(
        "SELECT o.stream_id,
                (SELECT event_type FROM events t
                 WHERE t.stream_type = 'order' AND t.stream_id = o.stream_id
                   AND t.event_type IN ('OrderConfirmed', 'OrderCancelled')
                 ORDER BY t.version DESC LIMIT 1) AS outcome,
                p.outcome, p.refunded_minor
         FROM events o
         LEFT JOIN simulated_payments p ON p.payment_id::text = o.stream_id
         WHERE o.stream_type = 'order' AND o.event_type = 'OrderPlaced'",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?;
    let broken: Vec<_> = wrong
        .into_iter()
        .filter(|(_, outcome, paid, refunded)| {
            let kept = paid.as_deref() == Some("approved") && refunded.is_none();
            match outcome.as_deref() {
                Some("OrderConfirmed") => !kept,
                Some("OrderCancelled") => kept,
                _ => true,
            }
        })
        .collect();
    if broken.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "orders not final, or whose money disagrees with their outcome \
             (order, outcome, provider's outcome, refunded): {broken:?}"
        ))
    }
}
