//! A GraphQL client over a real WebSocket (graphql-transport-ws at `/graphql/ws`).

// A test helper that cannot talk to the server has nothing left to do: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::TestApp;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for any one message.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The upgrade request to `/graphql/ws`, with `origin` when given.
pub async fn open(app: &TestApp, origin: Option<&str>) -> Result<Ws, WsError> {
    let url = app.url("/graphql/ws").replacen("http://", "ws://", 1);
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    connect_async(request).await.map(|(ws, _)| ws)
}

pub async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string())).await.unwrap();
}

/// The next protocol message (pings answered, other frames skipped); `None` once closed,
/// with the close frame's code when there was one.
pub async fn receive(ws: &mut Ws) -> Result<Value, Option<CloseCode>> {
    loop {
        let message = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("no message in time");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(text.as_str()).unwrap();
                if value["type"] == "ping" {
                    send(ws, json!({"type": "pong"})).await;
                    continue;
                }
                return Ok(value);
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Err(None),
        }
    }
}

/// A connection initialised as the holder of `token`.
pub async fn connect(app: &TestApp, token: &str) -> Ws {
    let mut ws = open(app, None).await.unwrap();
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}),
    )
    .await;
    let ack = receive(&mut ws).await.unwrap();
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

pub async fn subscribe(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    send(
        ws,
        json!({"type": "subscribe", "id": id, "payload": {"query": query, "variables": variables}}),
    )
    .await;
}

/// The next message of subscription `id` (messages of others skipped).
pub async fn next_of(ws: &mut Ws, id: &str) -> Value {
    loop {
        let message = receive(ws).await.unwrap();
        if message["id"] == id {
            return message;
        }
    }
}
