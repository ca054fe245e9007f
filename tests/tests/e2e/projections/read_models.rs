//! The read models of a shop with every kind of history: orders, products, tickets and
//! payments say what a client expects, taking an event twice changes nothing, and a batch
//! folds to what its events give one at a time.

use projections::{Products, Projection};
use serde_json::json;
use sqlx::Connection;
use uuid::Uuid;

use super::shop;

#[tokio::test]
async fn the_orders_read_model_says_what_a_client_expects() {
    let shop = shop().await;
    let (w, shipped, cancelled, pending) = (&shop.w, shop.shipped, shop.cancelled, shop.pending);
    let o = w.order_row(shipped).await;
    assert_eq!(o["status"], "SHIPPED");
    assert_eq!(o["customer_id"], "alice");
    assert_eq!(o["total_minor"], 2500);
    assert_eq!(
        o["lines"],
        json!([{"sku": "MUG-1", "quantity": 2, "unitPriceMinor": 1250, "lineTotalMinor": 2500}])
    );
    assert_eq!(o["payment_status"], "SUCCEEDED");
    assert_eq!(o["payment_amount_minor"], 2500);
    let timeline: Vec<&str> = o["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        timeline,
        [
            "OrderPlaced",
            "OrderLineReserved",
            "OrderPaid",
            "OrderConfirmed",
            "OrderShipped"
        ]
    );
    assert_eq!(o["version"], 5);

    let c = w.order_row(cancelled).await;
    assert_eq!(c["status"], "CANCELLED");
    assert_eq!(c["cancellation_reason"], "CUSTOMER_REQUEST");
    assert_eq!(c["payment_status"], "DECLINED");
    assert_eq!(w.order_row(pending).await["status"], "PENDING");
    let history: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM rm_orders WHERE customer_id = 'alice' ORDER BY placed_at DESC, id DESC",
    )
    .fetch_all(&w.db.pool)
    .await
    .unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.contains(&shipped) && history.contains(&cancelled));

    shop.stop().await;
}

#[tokio::test]
async fn the_products_read_model_keeps_levels_and_prices_and_takes_events_twice() {
    let shop = shop().await;
    let w = &shop.w;
    let mug = w.product_row("MUG-1").await;
    assert_eq!(
        (
            &mug["on_hand"],
            &mug["reserved"],
            &mug["available"],
            &mug["low_stock"]
        ),
        (&json!(8), &json!(0), &json!(8), &json!(false))
    );
    let pen = w.product_row("PEN-1").await;
    assert_eq!(
        (
            &pen["on_hand"],
            &pen["reserved"],
            &pen["available"],
            &pen["low_stock"]
        ),
        (&json!(4), &json!(2), &json!(2), &json!(true))
    );
    assert_eq!(pen["name"], "Product PEN-1");
    assert_eq!(
        (&pen["price_minor"], &pen["currency"]),
        (&json!(200), &json!("EUR"))
    );
    assert_eq!(
        (&mug["price_minor"], &mug["currency"]),
        (&json!(1250), &json!("EUR"))
    );
    // At-least-once: delivering the whole log again changes no product.
    let mut conn = w.db.pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    for event in w.all_events().await {
        Products
            .apply(&mut tx, std::slice::from_ref(&event))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(w.product_row("PEN-1").await, pen);
    assert_eq!(w.product_row("MUG-1").await, mug);

    shop.stop().await;
}

#[tokio::test]
async fn the_tickets_and_payments_read_models_say_what_a_client_expects() {
    let shop = shop().await;
    let (w, shipped, cancelled, ticket) = (&shop.w, shop.shipped, shop.cancelled, shop.ticket);
    let t = w.ticket_row(ticket).await;
    assert_eq!(t["status"], "CLOSED");
    assert_eq!(t["assignee"], "agnes");
    assert_eq!(t["resolution"], "Delivered.");
    assert_eq!(t["order_id"], json!(shipped.to_string()));
    let thread: Vec<(&str, &str, &str)> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["author"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
                m["body"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        thread,
        [
            ("alice", "customer", "It has been a week."),
            ("agnes", "agent", "Let me check."),
            ("alice", "customer", "Thanks!"),
        ]
    );

    let p = w.payment_row(shipped).await;
    assert_eq!(
        (
            &p["status"],
            &p["amount_minor"],
            &p["currency"],
            &p["attempts"]
        ),
        (&json!("SUCCEEDED"), &json!(2500), &json!("EUR"), &json!(1))
    );
    assert_eq!(w.payment_row(cancelled).await["status"], "DECLINED");

    shop.stop().await;
}

/// The rows `projection` builds from `events` in a throwaway copy of its tables, applied in
/// batches of `batch` events, each batch `times` times; one JSON array per table.
async fn built(
    w: &super::World,
    projection: &dyn Projection,
    events: &[application::event_log::RecordedEvent],
    batch: usize,
    times: usize,
) -> Vec<serde_json::Value> {
    let owner = w.db.owner_pool().await;
    let mut conn = owner.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SET LOCAL search_path = read_model_shadow, public")
        .execute(&mut *tx)
        .await
        .unwrap();
    for table in projection.tables() {
        sqlx::query(&format!("TRUNCATE {table}"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for chunk in events.chunks(batch) {
        for _ in 0..times {
            projection.apply(&mut tx, chunk).await.unwrap();
        }
    }
    let mut tables = Vec::new();
    for table in projection.tables() {
        let rows: serde_json::Value = sqlx::query_scalar(&format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text), '[]') FROM {table} t"
        ))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tables.push(rows);
    }
    tx.rollback().await.unwrap();
    tables
}

/// Folding a whole log in one batch, in batches of every size, or twice over, gives the rows
/// that applying it one event at a time gives.
#[tokio::test]
async fn a_batch_folds_to_the_rows_its_events_give_one_at_a_time() {
    let shop = shop().await;
    let events = shop.w.all_events().await;
    for projection in projections::Projections::all() {
        let one_by_one = built(&shop.w, projection.as_ref(), &events, 1, 1).await;
        assert!(
            one_by_one
                .iter()
                .all(|rows| rows.as_array().is_some_and(|r| !r.is_empty())),
            "{} built nothing",
            projection.name()
        );
        for (batch, times) in [(events.len(), 1), (7, 1), (3, 2), (events.len(), 2)] {
            let batched = built(&shop.w, projection.as_ref(), &events, batch, times).await;
            assert_eq!(
                batched,
                one_by_one,
                "{} in batches of {batch}, each {times} times",
                projection.name()
            );
        }
    }
}
