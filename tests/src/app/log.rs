//! The event log behind the server: a stream's events, counts of orders and events, and a
//! stream's history as an auditor reads it.

use application::Role;
use serde_json::{Value, json};

use crate::answers::graphql_data;

use super::TestApp;

impl TestApp {
    /// The event types and payloads of stream `stream_type/stream_id`, in version order.
    ///
    /// # Panics
    /// When the event log cannot be read.
    pub async fn events(&self, stream_type: &str, stream_id: &str) -> Vec<(String, Value)> {
        sqlx::query_as(
            "SELECT event_type, payload FROM events \
             WHERE stream_type = $1 AND stream_id = $2 ORDER BY version",
        )
        .bind(stream_type)
        .bind(stream_id)
        .fetch_all(&self.db.pool)
        .await
        .unwrap_or_else(|e| panic!("reading {stream_type}/{stream_id}: {e}"))
    }

    /// How many orders the log records as placed.
    ///
    /// # Panics
    /// When the event log cannot be read.
    pub async fn orders_placed(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'OrderPlaced'")
            .fetch_one(&self.db.pool)
            .await
            .unwrap_or_else(|e| panic!("counting orders: {e}"))
    }

    /// How many events callers have recorded (the log without the events fulfilment
    /// appends on its own as orders are placed).
    ///
    /// # Panics
    /// When the event log cannot be read.
    pub async fn event_total(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE metadata ->> 'actor' <> 'saga'")
            .fetch_one(&self.db.pool)
            .await
            .unwrap_or_else(|e| panic!("counting events: {e}"))
    }

    /// The events of stream `stream_type/stream_id` as an auditor reads them with the
    /// GraphQL `stream` query (`position`, `version`, `eventType`, `recordedAt`, `hash`),
    /// in version order.
    ///
    /// # Panics
    /// Unless the query answers a stream.
    pub async fn history_stream(&self, stream_type: &str, stream_id: &str) -> Vec<Value> {
        let query = "query($type: String!, $id: String!) {
            stream(streamType: $type, streamId: $id) {
                edges { node { position version eventType recordedAt hash } }
            }
        }";
        let auditor = self.token("audrey", Role::Auditor);
        let variables = json!({ "type": stream_type, "id": stream_id });
        let data = graphql_data(self.graphql(query, variables, Some(&auditor)).await).await;
        data["stream"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("no stream {stream_type}/{stream_id}: {data}"))
            .iter()
            .map(|edge| edge["node"].clone())
            .collect()
    }

    /// The event types of stream `stream_type/stream_id`, in version order.
    pub async fn event_types(&self, stream_type: &str, stream_id: &str) -> Vec<String> {
        self.events(stream_type, stream_id)
            .await
            .into_iter()
            .map(|(event_type, _)| event_type)
            .collect()
    }
}
