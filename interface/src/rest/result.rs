//! The answer every command gives.

use application::CommandResult;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Where a command left its aggregate and where its events sit in the global order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandResultBody {
    /// The aggregate's id (an order or ticket id, a SKU).
    pub id: String,
    /// The aggregate's type: `order`, `stock`, `payment` or `ticket`.
    pub stream_type: String,
    /// The aggregate's version after the command.
    pub version: i64,
    /// An opaque position token: pass it as `X-Consistent-With` (REST) or
    /// `consistentWith` (GraphQL) to read your own write.
    pub position: String,
    /// The new order's id (placing an order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The new ticket's id (opening a ticket).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
}

impl CommandResultBody {
    /// The body for `result`.
    #[must_use]
    pub fn from_result(result: &CommandResult) -> Self {
        let id = result.stream.stream_id.clone();
        let stream_type = result.stream.stream_type.clone();
        Self {
            order_id: (stream_type == "order").then(|| id.clone()),
            ticket_id: (stream_type == "ticket").then(|| id.clone()),
            id,
            stream_type,
            version: result.version,
            position: result.position.token(),
        }
    }

    /// The body as JSON, for storing with an idempotency key.
    #[must_use]
    pub fn json(result: &CommandResult) -> Value {
        serde_json::to_value(Self::from_result(result)).unwrap_or(Value::Null)
    }
}
