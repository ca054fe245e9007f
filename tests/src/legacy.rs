//! Events as older versions of domainflow stored them, appended straight to the log.

use application::event_log::{Append, CommandMetadata, NewEvent, StreamRef};
use infrastructure::PgEventStore;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// Appends `OrderPlaced` v1 for `order`: one unit of `sku` at `unit_price_minor` BRL, paid
/// with `token`, which v1 kept in the event.
///
/// # Panics
/// When the append fails.
pub async fn append_placed_v1(
    pool: &PgPool,
    order: Uuid,
    sku: &str,
    unit_price_minor: i64,
    token: &str,
) {
    PgEventStore::new(pool.clone())
        .append(&Append {
            stream: StreamRef::new("order", order.to_string()),
            expected_version: 0,
            head_hash: None,
            events: vec![NewEvent {
                event_id: Uuid::now_v7(),
                event_type: "OrderPlaced".into(),
                event_version: 1,
                payload: json!({
                    "orderId": order,
                    "customerId": "old-customer",
                    "currency": "BRL",
                    "lines": [{ "sku": sku, "quantity": 1, "unitPriceMinor": unit_price_minor }],
                    "totalMinor": unit_price_minor,
                    "paymentToken": token,
                    "at": "2026-01-01T00:00:00.000Z",
                }),
            }],
            metadata: CommandMetadata {
                command_id: Uuid::now_v7(),
                correlation_id: Uuid::now_v7(),
                causation_id: None,
                actor: "old-customer".into(),
                client_correlation_id: None,
            },
            snapshot: None,
        })
        .await
        .unwrap_or_else(|e| panic!("appending OrderPlaced v1: {e}"));
}
