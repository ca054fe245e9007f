//! `CommandResult`: the answer of every mutation, the GraphQL twin of the REST
//! command result body.

use application::CommandResult;
use async_graphql::{ID, SimpleObject};

/// Where a command left its aggregate and where its events sit in the global order.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
#[graphql(name = "CommandResult")]
pub struct CommandResultObject {
    /// The aggregate's id (an order or ticket id, a SKU).
    pub id: ID,
    /// The aggregate's type: `order`, `stock`, `payment` or `ticket`.
    pub stream_type: String,
    /// The aggregate's version after the command.
    pub version: i64,
    /// An opaque position token: pass it as `consistentWith` (GraphQL) or
    /// `X-Consistent-With` (REST) to read your own write.
    pub position: String,
    /// The order's id, when the command was about an order (e.g. placing one).
    pub order_id: Option<ID>,
    /// The ticket's id, when the command was about a ticket (e.g. opening one).
    pub ticket_id: Option<ID>,
}

impl From<&CommandResult> for CommandResultObject {
    fn from(result: &CommandResult) -> Self {
        let id = result.stream.stream_id.clone();
        let stream_type = result.stream.stream_type.clone();
        Self {
            order_id: (stream_type == "order").then(|| ID(id.clone())),
            ticket_id: (stream_type == "ticket").then(|| ID(id.clone())),
            id: ID(id),
            stream_type,
            version: result.version,
            position: result.position.token(),
        }
    }
}
