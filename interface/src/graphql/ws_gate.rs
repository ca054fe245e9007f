//! What every operation sent over a GraphQL WebSocket meets before async-graphql runs it,
//! as it would over HTTP: the principal's rate limit and the limits on a document's
//! aliases and size ([`super::document_size`]). A refused operation gets an `error` message for
//! its id (with `extensions.code`), and the connection goes on.

use std::sync::{Arc, OnceLock};

use axum::extract::ws::Message;
use futures::channel::mpsc;
use serde_json::{Value, json};

use super::document_size;
use super::response::server_error;
use super::ws::Session;
use crate::error::ApiError;
use crate::state::AppState;

/// The checks of one connection.
#[derive(Clone)]
pub struct Gate {
    state: AppState,
    /// What the connection was acknowledged with (unset before).
    session: Arc<OnceLock<Session>>,
    /// Where refusals are written.
    replies: mpsc::Sender<Message>,
}

impl Gate {
    /// The gate of a connection of `state` answering through `replies`; `session` is set
    /// once the connection is acknowledged.
    #[must_use]
    pub fn new(
        state: AppState,
        session: Arc<OnceLock<Session>>,
        replies: mpsc::Sender<Message>,
    ) -> Self {
        Self {
            state,
            session,
            replies,
        }
    }

    /// Whether `message` goes on to async-graphql; a refused one is answered here.
    pub fn admits(&self, message: &Message) -> bool {
        let Message::Text(text) = message else {
            return true;
        };
        let Ok(parsed) = serde_json::from_str::<Value>(text.as_str()) else {
            return true;
        };
        let kind = parsed["type"].as_str().unwrap_or_default();
        if kind != "subscribe" && kind != "start" {
            return true;
        }
        let Err(refused) = self.check(&parsed["payload"]) else {
            return true;
        };
        let error = serde_json::to_value(server_error(&refused)).unwrap_or(Value::Null);
        // graphql-transport-ws sends a list of errors, subscriptions-transport-ws one.
        let payload = if kind == "subscribe" {
            json!([error])
        } else {
            error
        };
        let reply = json!({"type": "error", "id": parsed["id"], "payload": payload});
        // A client that does not read its replies loses them, not the server its memory.
        let _ = self
            .replies
            .clone()
            .try_send(Message::Text(reply.to_string().into()));
        false
    }

    fn check(&self, payload: &Value) -> Result<(), ApiError> {
        if let Some(session) = self.session.get() {
            self.state.throttle.actor(&session.actor)?;
        }
        let Some(query) = payload["query"].as_str() else {
            return Ok(());
        };
        let Ok(document) = async_graphql::parser::parse_query(query) else {
            // async-graphql reports the syntax error.
            return Ok(());
        };
        match document_size::too_large(&document, payload["operationName"].as_str()) {
            Some(refusal) => Err(ApiError::Validation(refusal.message())),
            None => Ok(()),
        }
    }
}
