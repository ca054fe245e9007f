//! What a fault case checks once everything has settled: money and stock whole, no order
//! pending, every command and every effect applied once; and the history a failure shows.

use std::collections::BTreeMap;
use std::time::Duration;

use application::Commands;
use application::saga::Fulfil;
use domain::order::Status;
use domain::payment;
use infrastructure::SimulatedProvider;
use sqlx::PgPool;
use uuid::Uuid;

use tests::books::history;

use super::case::retry;
use super::{Placed, redrive_all};

/// Waits (bounded) until every order is final, no deadline is running, no dead letter is
/// left and the saga has taken in the whole log, redriving dead letters meanwhile.
pub(super) async fn settle(
    checker: &PgPool,
    saga_pool: &PgPool,
    fulfil: &Fulfil,
    client: &Commands,
    placed: &[Placed],
) -> Result<(), String> {
    let mut why = String::new();
    for _ in 0..600 {
        redrive_all(saga_pool, fulfil).await;
        why = match unsettled(checker, client, placed).await {
            Ok(None) => return Ok(()),
            Ok(Some(why)) => why,
            Err(error) => error,
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("did not settle in 60 s: {why}"))
}

// Reads retry: the client's pool hands out each connection a fault killed while it sat
// idle once, and that read fails for a reason that says nothing about fulfilment.

async fn order_of(client: &Commands, id: Uuid) -> Result<domain::order::Order, String> {
    let id = id.to_string();
    let (order, _) = retry(|| client.orders().load(&id)).await?;
    Ok(order.0)
}

async fn payment_of(client: &Commands, id: Uuid) -> Result<payment::Payment, String> {
    let id = id.to_string();
    let (payment, _) = retry(|| client.payments().load(&id)).await?;
    Ok(payment.0)
}

async fn unsettled(
    checker: &PgPool,
    client: &Commands,
    placed: &[Placed],
) -> Result<Option<String>, String> {
    for order in placed {
        let state = order_of(client, order.id).await?;
        if state.status() == Some(Status::Pending) {
            let saga: Option<(String, i64, bool)> = sqlx::query_as(
                "SELECT phase, jsonb_array_length(steps)::bigint,
                        EXISTS (SELECT 1 FROM saga_deadlines d WHERE d.order_id = f.order_id)
                 FROM saga_fulfilments f WHERE order_id = $1",
            )
            .bind(order.id)
            .fetch_optional(checker)
            .await
            .map_err(|e| e.to_string())?;
            let runner: Option<(String, Option<String>)> = sqlx::query_as(
                "SELECT state, error FROM projection_checkpoints WHERE name = 'fulfilment'",
            )
            .fetch_optional(checker)
            .await
            .map_err(|e| e.to_string())?;
            let (letters, lag) = backlog(checker).await?;
            return Ok(Some(format!(
                "order {} is pending; its saga (phase, steps, deadline): {saga:?}; runner: {runner:?}; \
                 {letters} dead letters, {lag} events not taken in{}",
                order.id,
                history(checker, order.id).await
            )));
        }
        let payment = payment_of(client, order.id).await?;
        if matches!(
            payment.status(),
            payment::Status::Requested | payment::Status::FailedTransiently
        ) {
            return Ok(Some(format!(
                "the payment of {} is unsettled ({:?}){}",
                order.id,
                payment.status(),
                history(checker, order.id).await
            )));
        }
    }
    let (letters, lag) = backlog(checker).await?;
    let deadlines: i64 = sqlx::query_scalar("SELECT count(*) FROM saga_deadlines")
        .fetch_one(checker)
        .await
        .map_err(|e| e.to_string())?;
    Ok(match (letters, deadlines, lag) {
        (0, 0, 0) => None,
        _ => Some(format!(
            "{letters} dead letters, {deadlines} deadlines, {lag} events not taken in"
        )),
    })
}

/// The dead letters left, and the events the saga has not taken in yet.
async fn backlog(checker: &PgPool) -> Result<(i64, i64), String> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM saga_dead_letters),
                (SELECT count(*) FROM events e, projection_checkpoints c
                 WHERE c.name = 'fulfilment'
                   AND (e.transaction_id, e.position) > (c.transaction_id, c.position))",
    )
    .fetch_one(checker)
    .await
    .map_err(|e| e.to_string())
}

pub(super) async fn check(
    checker: &PgPool,
    client: &Commands,
    provider: &SimulatedProvider,
    placed: &[Placed],
    registered: &BTreeMap<&'static str, u32>,
) -> Result<(), String> {
    let mut sold: BTreeMap<&str, u32> = BTreeMap::new();
    for order in placed {
        let state = order_of(client, order.id).await?;
        let status = state.status();
        let kept = matches!(status, Some(Status::Confirmed | Status::Shipped));
        let captured = provider.captured(order.id);
        let refunded = provider.refunded(order.id).is_some();
        let paid = captured && !refunded;
        if kept != paid {
            return Err(format!(
                "order {} is {status:?} but captured={captured} refunded={refunded}",
                order.id
            ));
        }
        if kept {
            for (sku, quantity) in &order.lines {
                *sold.entry(sku).or_default() += quantity;
            }
        }
        let payment = payment_of(client, order.id).await?;
        let recorded_paid = payment.status() == payment::Status::Succeeded;
        if recorded_paid != paid {
            return Err(format!(
                "order {} ({status:?}): the payment says {:?}, the provider captured={captured} refunded={refunded}",
                order.id,
                payment.status()
            ));
        }
    }
    for (sku, units) in registered {
        let (stock, _) = retry(|| client.stock().load(sku)).await?;
        let expected = units - sold.get(sku).copied().unwrap_or(0);
        if stock.0.on_hand() != expected || stock.0.reserved() != 0 {
            let mut holders = String::new();
            for order in placed {
                let id = domain::OrderId::from_u128(order.id.as_u128());
                if stock.0.reservation(id).is_some() {
                    holders.push_str(&history(checker, order.id).await);
                }
            }
            return Err(format!(
                "{sku}: on hand {} reserved {} but {units} registered and {} sold{holders}",
                stock.0.on_hand(),
                stock.0.reserved(),
                sold.get(sku).copied().unwrap_or(0)
            ));
        }
    }
    tests::books::applied_once(checker).await?;
    tests::books::no_tokens_kept(checker).await
}
