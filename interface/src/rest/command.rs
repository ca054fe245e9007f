//! Running a command request: parse and validate the JSON body, honour `Idempotency-Key`,
//! run the use case, answer with the command result.

use std::future::Future;
use std::sync::Arc;

use application::event_log::CommandMetadata;
use application::{Actor, CommandResult, Commands};
use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::result::CommandResultBody;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::idempotency;
use crate::state::AppState;

/// The `Idempotency-Key` header as the OpenAPI document describes it.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// Makes a retry safe: the same key with the same request answers the first response
    /// again (`Idempotency-Replayed: true`); with another request, 422.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]{1,255}$"
    )]
    pub idempotency_key: Option<String>,
}

/// A request body, checked against the limits the OpenAPI document states: it becomes what
/// its use case takes, checked by `application` (`application::commands::limits`).
pub trait Validate: Sized {
    /// What the use case takes.
    type Valid;

    /// # Errors
    /// [`application::Error::Validation`] naming the first field out of bounds.
    fn validate(self) -> Result<Self::Valid, application::Error>;
}

/// A command request as every command route takes it: who calls, its headers and raw body,
/// and its method and path (what an idempotency key is bound to, with the body).
pub struct CommandRequest {
    state: AppState,
    caller: Caller,
    headers: HeaderMap,
    target: String,
    body: Bytes,
}

impl std::fmt::Debug for CommandRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandRequest")
            .field("caller", &self.caller.actor.subject)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl FromRequest<AppState> for CommandRequest {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let target = format!("{} {}", parts.method, percent_decoded(parts.uri.path()));
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            state: state.clone(),
            caller,
            headers,
            target,
            body,
        })
    }
}

impl CommandRequest {
    /// Who calls.
    #[must_use]
    pub fn actor(&self) -> Actor {
        self.caller.actor.clone()
    }

    /// The operators' use cases.
    #[must_use]
    pub fn operations(&self) -> application::operations::Operations {
        self.state.operations.clone()
    }

    /// A command route's whole answer: `call` runs the use case with the checked body (`T`,
    /// made what the use case takes), once per idempotency key, and a success answers
    /// `status` with the command result.
    pub async fn command<T, F, Fut>(self, status: StatusCode, call: F) -> Response
    where
        T: DeserializeOwned + Validate,
        F: FnOnce(Arc<Commands>, Actor, T::Valid, CommandMetadata) -> Fut,
        Fut: Future<Output = Result<CommandResult, application::Error>>,
    {
        let commands = Arc::clone(&self.state.commands);
        let actor = self.caller.actor.clone();
        self.run::<T, _, _>(|input, meta| async move {
            let result = call(commands, actor, input, meta).await?;
            Ok((status, CommandResultBody::json(&result)))
        })
        .await
    }

    /// Parses the JSON body (an empty body or `null` reads as `{}`), checks it, and runs
    /// `run` once per idempotency key: a repeat of the same request gets the first answer
    /// again.
    pub async fn run<T, F, Fut>(self, run: F) -> Response
    where
        T: DeserializeOwned + Validate,
        F: FnOnce(T::Valid, CommandMetadata) -> Fut,
        Fut: Future<Output = Result<(StatusCode, Value), ApiError>>,
    {
        match self.execute::<T, _, _>(run).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        }
    }

    async fn execute<T, F, Fut>(&self, run: F) -> Result<Response, ApiError>
    where
        T: DeserializeOwned + Validate,
        F: FnOnce(T::Valid, CommandMetadata) -> Fut,
        Fut: Future<Output = Result<(StatusCode, Value), ApiError>>,
    {
        let caller = &self.caller;
        // An auditor is refused whatever the body says.
        caller.actor.may_command()?;
        let input = parse_body::<T>(&self.headers, &self.body)?.validate()?;
        let Some(key) = idempotency::key(&self.headers)? else {
            let (status, body) = run(input, caller.metadata(None)).await?;
            return Ok((status, Json(body)).into_response());
        };
        let request = [self.target.as_bytes(), &self.body[..]];
        let answer = self
            .state
            .idempotency
            .once(&caller.actor, key, &request, || async {
                let (status, body) = run(input, caller.metadata(Some(key))).await?;
                Ok::<_, ApiError>((status.as_u16(), body))
            })
            .await?;
        let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
        let mut response = (status, Json(answer.body)).into_response();
        if answer.replayed {
            response
                .headers_mut()
                .insert(idempotency::REPLAYED, HeaderValue::from_static("true"));
        }
        Ok(response)
    }
}

/// `path` with its `%XX` escapes decoded, so that a retry whose path is escaped differently
/// (`SKU%2D1`, `SKU-1`) is the same request to its idempotency key.
fn percent_decoded(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}

/// The JSON body as `T`; an empty body is `{}`.
///
/// # Errors
/// [`ApiError::Validation`] for a body that is not JSON of the expected shape.
fn parse_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
        return serde_json::from_slice(b"{}")
            .map_err(|_| ApiError::Validation("a JSON request body is required".into()));
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/json")
                || (v.starts_with("application/") && v.ends_with("+json"))
        });
    if !json {
        return Err(ApiError::Validation(
            "the request body must be JSON (Content-Type: application/json)".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::Validation(format!("invalid body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_in_a_path_are_decoded_once() {
        assert_eq!(
            percent_decoded("/api/products/SKU%2D1/restock"),
            "/api/products/SKU-1/restock"
        );
        assert_eq!(
            percent_decoded("/api/products/SKU-1/restock"),
            "/api/products/SKU-1/restock"
        );
        assert_eq!(percent_decoded("/a%25b"), "/a%b");
        assert_eq!(percent_decoded("/a%zz%4"), "/a%zz%4");
    }
}
