//! Serves the router over HTTP/1.1 connections, with what `axum::serve` does not offer:
//!
//! - A header-read timeout: a client that sends its request head too slowly (slowloris),
//!   or leaves a kept-alive connection idle for that long, is disconnected.
//! - The peer address in every request's extensions ([`ConnectInfo`]), for the
//!   per-address rate limit.
//!
//! Shutdown is graceful as with `axum::serve`: once `shutdown` completes, no connection is
//! accepted, every connection finishes the request in flight and closes, and [`serve`]
//! returns when the last one has, or after 30 s at most. Upgraded connections (WebSockets)
//! are handed off to their own tasks and are not waited for.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

/// Accepts connections on `listener` and serves `router` on each until `shutdown`
/// completes, then waits for the connections in flight to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send,
) {
    // Each connection holds a receiver: `stop` tells them to finish, and `closed` resolves
    // once every one of them has dropped it.
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, as axum::serve does, rather
                    // than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |request: Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let connection = builder
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .with_upgrades();
            let mut connection = pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_end(peer, result),
                // The one change there is: `false` to `true` (or the sender gone).
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    log_end(peer, connection.await);
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(stopping);
    // A client that stops reading its answer would hold shutdown for ever.
    if tokio::time::timeout(DRAIN, stop.closed()).await.is_err() {
        tracing::warn!(
            seconds = DRAIN.as_secs(),
            "connections still open after shutdown began; not waiting for them"
        );
    }
}

/// How long shutdown waits for the connections in flight to finish.
const DRAIN: Duration = Duration::from_secs(30);

/// Connections end with an error when the client goes away or is too slow: that is the
/// client's business, worth a debug line only.
fn log_end(peer: SocketAddr, result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection ended");
    }
}
