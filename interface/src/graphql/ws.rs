//! `GET /graphql/ws`: the subscriptions over graphql-transport-ws (also the older
//! subscriptions-transport-ws when the client asks for it).
//!
//! - Origin: a browser's `Origin` must be the server's own or in `ws_allowed_origins`,
//!   else 403 before the upgrade; a request without one (not a browser) passes.
//! - Authentication: `connection_init` carries `{"authorization": "Bearer ..."}` (or
//!   `{"apiKey": "..."}`); bad or missing credentials close the connection unacknowledged.
//!   They are checked again every `ws_recheck`: a token past its expiry closes the
//!   connection with 4401, a revoked API key with 4403 (a key store that cannot be reached
//!   closes nothing; the next check looks again).
//! - `connection_init` must arrive within `ws_init_timeout` (else close 4408), and at
//!   most `ws_max_subscriptions` subscriptions run at once.
//! - Size: no message may be longer than `max_body_bytes`, and none before the
//!   connection is acknowledged longer than 16 KiB (else close 1009).
//! - Every operation meets the principal's rate limit and the document limits of HTTP
//!   ([`super::ws_gate`]).
//! - Shutdown: every connection closes (1001) when the server stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use application::{Actor, Unauthenticated};
use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket as Socket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use uuid::Uuid;

use super::subscription::Slots;
use super::ws_gate::Gate;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The close code of a connection that did not initialise in time (graphql-ws).
const INIT_TIMEOUT: u16 = 4408;
/// The close code of a server going away.
const GOING_AWAY: u16 = 1001;
/// The close code of credentials that expired (graphql-ws's Unauthorized).
const EXPIRED: u16 = 4401;
/// The close code of credentials that no longer hold: a revoked key (graphql-ws's
/// Forbidden).
const REVOKED: u16 = 4403;
/// The close code of a message too big to take.
const TOO_BIG: u16 = 1009;
/// The longest message taken before the connection is acknowledged.
const MAX_MESSAGE_BEFORE_INIT: usize = 16 * 1024;

/// Upgrades an allowed request to a GraphQL WebSocket.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: Result<GraphQLProtocol, StatusCode>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &state.limits.ws_allowed_origins) {
        return (
            StatusCode::FORBIDDEN,
            ApiError::Forbidden("this origin may not open a GraphQL WebSocket".into()),
        )
            .into_response();
    }
    let Ok(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            ApiError::Validation("Sec-WebSocket-Protocol must offer graphql-transport-ws".into()),
        )
            .into_response();
    };
    let limit = state.limits.max_body_bytes;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| serve(socket, state, protocol))
}

/// Runs one connection until the client leaves, init times out or the server stops.
///
/// async-graphql-axum's [`GraphQLWebSocket`] speaks the protocol and authenticates in
/// `on_connection_init`; what it writes passes through a channel, so this loop can close
/// the socket with its own code when init is late or the server stops.
async fn serve(socket: Socket, state: AppState, protocol: GraphQLProtocol) {
    let (mut sink, source) = socket.split();
    let (outgoing, mut written) = mpsc::channel::<Message>(16);
    // Set once, when `connection_init` is acknowledged.
    let session: Arc<OnceLock<Session>> = Arc::new(OnceLock::new());
    let mut connection = Data::default();
    connection.insert(state.clone());
    connection.insert(Slots::new(state.limits.ws_max_subscriptions));
    let init_state = state.clone();
    let init_session = Arc::clone(&session);
    // Before the acknowledgement a long message ends the stream, and the connection.
    let too_big = Arc::new(AtomicBool::new(false));
    let (big, big_session) = (Arc::clone(&too_big), Arc::clone(&session));
    let gate = Gate::new(state.clone(), Arc::clone(&session), outgoing.clone());
    let source = source.take_while(move |message| {
        let length = match message {
            Ok(Message::Text(text)) => text.len(),
            Ok(Message::Binary(bytes)) => bytes.len(),
            _ => 0,
        };
        let refused = length > MAX_MESSAGE_BEFORE_INIT && big_session.get().is_none();
        if refused {
            big.store(true, Ordering::SeqCst);
        }
        std::future::ready(!refused)
    });
    let source = source.filter(move |message| {
        let admitted = match message {
            Ok(message) => gate.admits(message),
            Err(_) => true,
        };
        std::future::ready(admitted)
    });
    let graphql = GraphQLWebSocket::new_with_pair(outgoing, source, state.schema.clone(), protocol)
        .with_data(connection)
        .on_connection_init(move |payload| async move {
            let credentials = Credentials::of(&payload);
            let actor = credentials
                .check(&init_state)
                .await
                .map_err(|e| async_graphql::Error::new(ApiError::from(e).to_string()))?;
            let caller = Caller {
                actor: actor.clone(),
                correlation_id: Uuid::now_v7(),
                client_correlation_id: None,
            };
            let _ = init_session.set(Session { credentials, actor });
            let mut data = Data::default();
            data.insert(caller);
            Ok(data)
        })
        .serve();
    tokio::pin!(graphql);
    let init_deadline = tokio::time::sleep(state.limits.ws_init_timeout);
    tokio::pin!(init_deadline);
    let mut shutdown = state.shutdown.clone();
    let stopping = async move {
        // Also when the sender is gone: the server is gone.
        let _stopped = shutdown.wait_for(|stopped| *stopped).await.is_ok();
    };
    tokio::pin!(stopping);
    let every = state.limits.ws_recheck;
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let close = loop {
        tokio::select! {
            message = written.next() => match message {
                Some(message) => {
                    let closing = matches!(message, Message::Close(_));
                    if sink.send(message).await.is_err() || closing {
                        return;
                    }
                }
                None => break None,
            },
            () = &mut graphql => {
                if too_big.load(Ordering::SeqCst) {
                    break Some((TOO_BIG, "message too big before connection_init"));
                }
                // What it wrote last (a refused init's close) is still in the channel.
                while let Ok(message) = written.try_recv() {
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
                break None;
            }
            () = &mut init_deadline, if session.get().is_none() => {
                break Some((INIT_TIMEOUT, "Connection initialisation timeout"));
            }
            () = &mut stopping => break Some((GOING_AWAY, "the server is shutting down")),
            _ = recheck.tick() => {
                if let Some(session) = session.get()
                    && let Some(ended) = ended(session.credentials.check(&state).await)
                {
                    break Some(ended);
                }
            }
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    let _ = sink.close().await;
}

/// What a connection was acknowledged with: its credentials (checked again every
/// `ws_recheck`) and the actor they named then.
pub(super) struct Session {
    credentials: Credentials,
    /// The caller of every operation on the connection.
    pub(super) actor: Actor,
}

/// The credentials a `connection_init` payload carries.
struct Credentials {
    authorization: Option<String>,
    api_key: Option<String>,
}

impl Credentials {
    fn of(payload: &serde_json::Value) -> Self {
        let field = |names: &[&str]| {
            names.iter().find_map(|name| {
                payload
                    .get(*name)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            })
        };
        Self {
            authorization: field(&["authorization", "Authorization"]),
            api_key: field(&["apiKey", "x-api-key"]),
        }
    }

    /// The actor they name, if they hold now.
    async fn check(&self, state: &AppState) -> Result<Actor, application::Error> {
        state
            .auth
            .authenticate(self.authorization.as_deref(), self.api_key.as_deref())
            .await
    }
}

/// The close code and reason when a check of the credentials says they ended.
fn ended(checked: Result<Actor, application::Error>) -> Option<(u16, &'static str)> {
    match checked {
        Err(application::Error::Unauthenticated(Unauthenticated::Expired)) => {
            Some((EXPIRED, "the credentials expired"))
        }
        Err(application::Error::Unauthenticated(_)) => {
            Some((REVOKED, "the credentials no longer hold"))
        }
        // Held, or not known right now (the key store cannot be reached).
        _ => None,
    }
}

/// Whether a request with `headers` may open a WebSocket: no `Origin` (not a browser),
/// the server's own origin (same host and port as `Host`), or one in `allowed`.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if host.as_deref() == Some(authority) {
        return true;
    }
    let host_only = strip_port(authority);
    allowed.iter().any(|entry| {
        let entry = entry.trim().trim_end_matches('/').to_ascii_lowercase();
        let Some((entry_scheme, entry_authority)) = entry.split_once("://") else {
            return false;
        };
        entry_scheme == scheme
            && (entry_authority == authority
                || (strip_port(entry_authority) == entry_authority && entry_authority == host_only))
    })
}

/// `host` of `host[:port]` (IPv6 literals in brackets).
fn strip_port(authority: &str) -> &str {
    match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        headers
    }

    #[test]
    fn origins_are_checked() {
        let allowed = vec![
            "http://localhost".to_owned(),
            "https://app.example:8443".into(),
        ];
        let ok = |origin: Option<&str>| origin_allowed(&headers(origin, "api.example"), &allowed);
        assert!(ok(None));
        assert!(ok(Some("https://api.example")));
        assert!(ok(Some("http://localhost:5173")));
        assert!(ok(Some("http://localhost")));
        assert!(ok(Some("https://app.example:8443")));
        assert!(!ok(Some("https://app.example")));
        assert!(!ok(Some("https://localhost:5173")));
        assert!(!ok(Some("https://evil.example")));
        assert!(!ok(Some("http://localhost.evil.example")));
        assert!(!ok(Some("null")));
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }
}
