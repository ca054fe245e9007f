//! `GET /graphql/ws`: the subscriptions over graphql-transport-ws (also the older
//! subscriptions-transport-ws when the client asks for it).
//!
//! - Origin: a browser's `Origin` must be the server's own or in `ws_allowed_origins`,
//!   else 403 before the upgrade; a request without one (not a browser) passes.
//! - Authentication: `connection_init` carries `{"authorization": "Bearer ..."}` (or
//!   `{"apiKey": "..."}`); bad or missing credentials close the connection unacknowledged.
//! - `connection_init` must arrive within `ws_init_timeout` (else close 4408), and at
//!   most `ws_max_subscriptions` subscriptions run at once.
//! - Size: no message may be longer than `max_body_bytes`, and none before the
//!   connection is acknowledged longer than 16 KiB (else close 1009): an unauthenticated
//!   client cannot make the server hold large messages.
//! - Shutdown: every connection closes (1001) when the server stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The close code of a connection that did not initialise in time (graphql-ws).
const INIT_TIMEOUT: u16 = 4408;
/// The close code of a server going away.
const GOING_AWAY: u16 = 1001;
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
    let acknowledged = Arc::new(AtomicBool::new(false));
    let mut connection = Data::default();
    connection.insert(state.clone());
    connection.insert(Slots::new(state.limits.ws_max_subscriptions));
    let init_state = state.clone();
    let init_acknowledged = Arc::clone(&acknowledged);
    // Before the acknowledgement a long message ends the stream, and the connection.
    let too_big = Arc::new(AtomicBool::new(false));
    let (gate, gate_acknowledged) = (Arc::clone(&too_big), Arc::clone(&acknowledged));
    let source = source.take_while(move |message| {
        let length = match message {
            Ok(Message::Text(text)) => text.len(),
            Ok(Message::Binary(bytes)) => bytes.len(),
            _ => 0,
        };
        let refused = length > MAX_MESSAGE_BEFORE_INIT && !gate_acknowledged.load(Ordering::SeqCst);
        if refused {
            gate.store(true, Ordering::SeqCst);
        }
        std::future::ready(!refused)
    });
    let graphql = GraphQLWebSocket::new_with_pair(outgoing, source, state.schema.clone(), protocol)
        .with_data(connection)
        .on_connection_init(move |payload| async move {
            let caller = authenticate(&init_state, &payload)
                .await
                .map_err(|e| async_graphql::Error::new(e.to_string()))?;
            init_acknowledged.store(true, Ordering::SeqCst);
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
            () = &mut init_deadline, if !acknowledged.load(Ordering::SeqCst) => {
                break Some((INIT_TIMEOUT, "Connection initialisation timeout"));
            }
            () = &mut stopping => break Some((GOING_AWAY, "the server is shutting down")),
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

/// The caller named by a `connection_init` payload.
async fn authenticate(state: &AppState, payload: &serde_json::Value) -> Result<Caller, ApiError> {
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| payload.get(*name).and_then(serde_json::Value::as_str))
    };
    let authorization = field(&["authorization", "Authorization"]);
    let api_key = field(&["apiKey", "x-api-key"]);
    let actor = state.auth.authenticate(authorization, api_key).await?;
    Ok(Caller {
        actor,
        correlation_id: Uuid::now_v7(),
    })
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
