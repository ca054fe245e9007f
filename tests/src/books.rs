//! What the database says once the system is at rest, for tests that check it whole: the
//! read models as rows, and the promises of fulfilment that hold over the log (no command
//! or effect applied twice, money and outcomes agreeing).

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

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

/// No command appended events in two transactions, and no stock or payment effect, and no
/// order outcome, was recorded twice for one order.
///
/// # Errors
/// What was applied twice, or the database's error.
pub async fn applied_once(pool: &PgPool) -> Result<(), String> {
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
    Ok(())
}

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
    applied_once(pool).await?;
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
        return Ok(());
    }
    let mut histories = String::new();
    for (order, ..) in broken.iter().take(5) {
        if let Ok(order) = Uuid::parse_str(order) {
            histories.push_str(&history(pool, order).await);
        }
    }
    Err(format!(
        "orders not final, or whose money disagrees with their outcome \
         (order, outcome, provider's outcome, refunded): {broken:?}{histories}"
    ))
}

/// Why fulfilment is not at rest yet, or `None` when it is: no payment deadline running,
/// no dead letter, no payment waiting for an answer, and the saga has taken in the whole log.
///
/// # Errors
/// The database's error.
pub async fn unsettled(pool: &PgPool) -> Result<Option<String>, String> {
    let (deadlines, letters, waiting, behind): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM saga_deadlines),
                (SELECT count(*) FROM saga_dead_letters),
                (SELECT count(*) FROM (
                     SELECT DISTINCT ON (stream_id) event_type FROM events
                     WHERE stream_type = 'payment'
                     ORDER BY stream_id, version DESC
                 ) last
                 WHERE event_type IN ('PaymentRequested', 'PaymentFailedTransiently')),
                (SELECT count(*) FROM events e, projection_checkpoints c
                 WHERE c.name = 'fulfilment'
                   AND (e.transaction_id, e.position) > (c.transaction_id, c.position))",
    )
    .fetch_one(pool)
    .await
    .map_err(|e| e.to_string())?;
    if (deadlines, letters, waiting, behind) == (0, 0, 0, 0) {
        return Ok(None);
    }
    // The dead letters' actions and errors, each once: what an operator would look at.
    let why: Vec<String> = sqlx::query_scalar(
        "SELECT action || ': ' || error || ' (' || count(*) || ')' FROM saga_dead_letters
         GROUP BY action, error ORDER BY count(*) DESC LIMIT 5",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?;
    Ok(Some(format!(
        "{deadlines} deadlines, {letters} dead letters, {waiting} payments waiting, {behind} \
         events not taken in by the saga{}",
        if why.is_empty() {
            String::new()
        } else {
            format!("; dead letters: {}", why.join("; "))
        }
    )))
}

/// An event as a failure's message shows it: position, stream, type, command id, actor.
type LoggedEvent = (String, String, String, Option<String>, Option<String>);

/// What the log, the saga and the dead letters say of `order`, for a failure's message.
#[must_use]
pub async fn history(checker: &PgPool, order: Uuid) -> String {
    use std::fmt::Write as _;
    let events: Vec<LoggedEvent> = sqlx::query_as(
        "SELECT transaction_id::text || '/' || position, stream_id, event_type,
                metadata->>'commandId', metadata->>'actor'
         FROM events
         WHERE stream_id = $1 OR payload->>'orderId' = $1 OR payload->>'order' = $1
         ORDER BY transaction_id, position",
    )
    .bind(order.to_string())
    .fetch_all(checker)
    .await
    .unwrap_or_default();
    let saga: Option<(String, serde_json::Value)> =
        sqlx::query_as("SELECT phase, steps FROM saga_fulfilments WHERE order_id = $1")
            .bind(order)
            .fetch_optional(checker)
            .await
            .unwrap_or_default();
    let letters: Vec<(String, String)> =
        sqlx::query_as("SELECT action, error FROM saga_dead_letters WHERE order_id = $1")
            .bind(order)
            .fetch_all(checker)
            .await
            .unwrap_or_default();
    let mut out = format!("\n  order {order}:");
    for event in events {
        let _ = write!(out, "\n    {event:?}");
    }
    let _ = write!(out, "\n    saga: {saga:?}\n    dead letters: {letters:?}");
    out
}

/// The prefix of every payment token the tests pay with (`tok_visa`, `tok_flaky`, …).
pub const TOKEN_PREFIX: &str = "tok_";

/// Every payment path of the simulated provider: approved, declined, failing twice then
/// approved, never answering, captured with the answer lost, approved late.
pub const SIMULATED_TOKENS: [&str; 6] = [
    "tok_visa",
    "tok_chargeDeclined",
    "tok_flaky",
    "tok_timeout",
    "tok_captureTimeout",
    "tok_lateApproval",
];

/// The tables of every schema (the read models' shadow tables too) whose rows hold
/// `needle` anywhere in their text form, as `schema.table`, with how many rows do. The simulated provider's vault (`simulated_payment_methods`) is
/// left out: it stands for the provider's own storage, which keeps tokens by design.
///
/// # Errors
/// The database's error.
pub async fn tables_holding(pool: &PgPool, needle: &str) -> Result<Vec<(String, i64)>, String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
           AND table_type = 'BASE TABLE' AND table_name <> 'simulated_payment_methods'
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| format!("listing the tables: {e}"))?;
    let mut holding = Vec::new();
    for table in tables {
        let rows: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} t WHERE strpos(t::text, $1) > 0"
        ))
        .bind(needle)
        .fetch_one(pool)
        .await
        .map_err(|e| format!("reading {table}: {e}"))?;
        if rows > 0 {
            holding.push((table, rows));
        }
    }
    Ok(holding)
}

/// No table outside the provider's vault holds a payment token.
///
/// # Errors
/// The tables that do, or the database's error.
pub async fn no_tokens_kept(pool: &PgPool) -> Result<(), String> {
    let holding = tables_holding(pool, TOKEN_PREFIX).await?;
    if holding.is_empty() {
        Ok(())
    } else {
        Err(format!("payment tokens are kept in {holding:?}"))
    }
}
