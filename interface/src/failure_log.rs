//! Every failure answered over HTTP logged once, here, with its cause and the request id: an
//! [`ApiError`] that turns into a 500 or an unavailable database's 503 leaves its cause (with
//! the causes below it) on the response, and this middleware logs it, as an error `request
//! failed` or a warning `database unavailable` (the texts GraphQL logs its own with). A 503
//! that is no failure (a read model not caught up yet) is not logged.
//!
//! [`ApiError`]: crate::error::ApiError

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::request_id;

/// Why a response is a 5xx, as the logs should tell it.
#[derive(Debug, Clone)]
pub struct Cause(pub String);

/// Middleware: logs a failure inside as an error, an unavailable database as a warning.
pub async fn log(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let cause = response.extensions().get::<Cause>().map(|c| c.0.as_str());
    match (status, cause) {
        (StatusCode::SERVICE_UNAVAILABLE, Some(cause)) => {
            let request_id = request_id::current();
            tracing::warn!(%request_id, %cause, "database unavailable");
        }
        (StatusCode::SERVICE_UNAVAILABLE, None) => {}
        (status, cause) if status.is_server_error() => {
            let (request_id, cause) = (request_id::current(), cause.unwrap_or("-"));
            tracing::error!(%request_id, status = status.as_u16(), %cause, "request failed");
        }
        _ => {}
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::captured_logs::Lines;
    use crate::error::ApiError;

    async fn get_status(address: std::net::SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer.lines().next().unwrap_or_default().to_owned()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_failure_inside_is_logged_once_with_its_cause_and_a_client_error_is_not() {
        let (lines, _guard) = Lines::capture();
        let internal = || async { ApiError::Internal("disk: full".into()).into_response() };
        let invalid = || async { ApiError::Validation("no".into()).into_response() };
        let router = Router::new()
            .route("/boom", get(internal))
            .route("/bad", get(invalid))
            .layer(axum::middleware::from_fn(log));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });

        assert!(get_status(address, "/boom").await.contains("500"));
        assert!(get_status(address, "/bad").await.contains("422"));

        let logged = lines.text();
        assert_eq!(logged.matches("request failed").count(), 1, "{logged}");
        assert!(logged.contains("disk: full"), "{logged}");
        assert!(logged.contains("request_id"), "{logged}");
        assert!(!logged.contains("422"), "{logged}");
    }
}
