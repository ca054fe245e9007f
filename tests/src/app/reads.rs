//! The read models as an operator sees them, and waiting for fulfilment to settle an order.

use application::Role;

use serde_json::Value;
use uuid::Uuid;

use crate::answers::expect;

use super::TestApp;

impl TestApp {
    /// Waits until fulfilment has confirmed `order` (its products must be registered with
    /// enough stock, and it paid with `tok_visa`).
    ///
    /// # Panics
    /// When the order settles otherwise or not in time.
    pub async fn confirm_order(&self, order: &str) {
        let settled = self
            .settled_order(order, std::time::Duration::from_secs(30))
            .await;
        assert_eq!(settled["status"], "CONFIRMED", "order {order}: {settled}");
    }

    /// The order read model of `order`, as an operator sees it.
    ///
    /// # Panics
    /// Unless the server answers 200.
    pub async fn order(&self, order: &str) -> Value {
        let operator = self.token("operator-1", Role::Operator);
        expect(
            self.get(&format!("/api/orders/{order}"), Some(&operator), &[])
                .await,
            200,
        )
        .await
    }

    /// The product read model of `sku`.
    ///
    /// # Panics
    /// Unless the server answers 200.
    pub async fn product(&self, sku: &str) -> Value {
        let operator = self.token("operator-1", Role::Operator);
        expect(
            self.get(&format!("/api/products/{sku}"), Some(&operator), &[])
                .await,
            200,
        )
        .await
    }

    /// Waits (up to `within`) until the order read model of `order` has reached a final
    /// status with nothing of its fulfilment left to do: CONFIRMED with its payment
    /// SUCCEEDED, or CANCELLED with its compensation recorded (no saga deadline or action
    /// pending). Answers the read model.
    ///
    /// # Panics
    /// When it does not settle in time.
    pub async fn settled_order(&self, order: &str, within: std::time::Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            // At rest first, then the read: the read models have taken in everything the
            // saga did by the time it is read.
            let at_rest = self.saga_at_rest(order).await;
            let operator = self.token("operator-1", Role::Operator);
            let response = self
                .get(&format!("/api/orders/{order}"), Some(&operator), &[])
                .await;
            if response.status() == 200 {
                let body: Value = response.json().await.unwrap_or(Value::Null);
                let status = body["status"].as_str().unwrap_or("");
                if matches!(status, "CONFIRMED" | "CANCELLED") && at_rest {
                    return body;
                }
                if tokio::time::Instant::now() > deadline {
                    panic!("order {order} did not settle in {within:?}; last seen {body}");
                }
            } else if tokio::time::Instant::now() > deadline {
                panic!("order {order} never appeared in the read model");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Whether the saga of `order` has reached an outcome and the log holds nothing that the
    /// saga or a projection has not taken in yet.
    async fn saga_at_rest(&self, order: &str) -> bool {
        let Ok(id) = Uuid::parse_str(order) else {
            return false;
        };
        let phase: Option<String> =
            sqlx::query_scalar("SELECT phase FROM saga_fulfilments WHERE order_id = $1")
                .bind(id)
                .fetch_optional(&self.db.pool)
                .await
                .unwrap_or(None);
        let behind: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events e, projection_checkpoints c
             WHERE c.name IN ('fulfilment', 'orders', 'products', 'payments')
               AND (e.transaction_id, e.position) > (c.transaction_id, c.position)",
        )
        .fetch_one(&self.db.pool)
        .await
        .unwrap_or(1);
        matches!(phase.as_deref(), Some("CONFIRMED" | "CANCELLED")) && behind == 0
    }
}
