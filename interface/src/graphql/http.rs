//! `/graphql` over HTTP, hardened: operations run only from a `POST` with an
//! `application/json` body of one request (no batches) within the body limit; `GET` never
//! runs anything and serves GraphiQL (when switched on) and its assets.

use async_graphql::Request;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;

use super::context::LazyCaller;
use super::document_size;
use super::graphiql;
use super::idempotency;
use super::introspection;
use super::response::{Format, answer, refuse, server_error};
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The routes: `POST /graphql` runs an operation; `GET /graphql` is the GraphiQL page;
/// `GET /graphql/assets/{name}` its files; `GET /graphql/ws` the subscriptions.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .route("/graphql/assets/{name}", get(get_asset))
        .route("/graphql/ws", get(super::ws::upgrade))
}

/// A request refused before GraphQL sees it: the status and why.
type Refusal = (StatusCode, ApiError);

async fn post_graphql(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let format = Format::negotiate(&headers);
    let (mut request, bytes) = match read_request(&state, &headers, body).await {
        Ok(read) => read,
        Err((status, error)) => return refuse(format, status, &error),
    };
    if let Some(refusal) = document_size::too_large_request(&mut request) {
        let error = ApiError::Validation(refusal.message());
        return refuse(format, StatusCode::BAD_REQUEST, &error);
    }
    let key = match idempotency::key_for(&headers, &mut request) {
        Ok(key) => key,
        Err(error) => {
            let response = async_graphql::Response::from_errors(vec![server_error(&error)]);
            return answer(format, response);
        }
    };
    let schema = if !state.limits.graphql_introspection {
        request = request.disable_introspection();
        state.schema.clone()
    } else if introspection::is_introspection_only(&mut request) {
        introspection::schema().clone()
    } else {
        state.schema.clone()
    };
    // A keyed request is authenticated here (once: resolvers take this answer). An over
    // the rate limit is refused at once; an anonymous caller gets no key semantics, and
    // the mutation itself answers UNAUTHENTICATED.
    let (lazy, caller) = match &key {
        Some(_) => match Caller::from_headers(&state, &headers).await {
            Err(refused @ ApiError::RateLimited { .. }) => {
                let response = async_graphql::Response::from_errors(vec![server_error(&refused)]);
                return answer(format, response);
            }
            checked => (
                LazyCaller::checked(headers.clone(), checked.clone()),
                checked.ok(),
            ),
        },
        None => (LazyCaller::new(headers.clone()), None),
    };
    let request = request.data(lazy).data(state.clone());
    let (Some(key), Some(caller)) = (key, caller) else {
        // Executed in this task, so errors can read the request id.
        return answer(format, schema.execute(request).await);
    };
    let request = request.data(key.clone());
    let sent = [&b"POST /graphql"[..], &bytes[..]];
    let once = state
        .idempotency
        .once(&caller.actor, &key.0, &sent, || async move {
            let response = schema.execute(request).await;
            if response.is_ok() {
                let body = serde_json::to_value(&response)
                    .map_err(|e| Failed::Refused(ApiError::Internal(e.to_string())))?;
                Ok((StatusCode::OK.as_u16(), body))
            } else {
                Err(Failed::Executed(response))
            }
        })
        .await;
    match once {
        Ok(stored) => {
            let mut response = (
                StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
                [(header::CONTENT_TYPE, format.content_type())],
                stored.body.to_string(),
            )
                .into_response();
            if stored.replayed {
                response.headers_mut().insert(
                    crate::idempotency::REPLAYED,
                    HeaderValue::from_static("true"),
                );
            }
            response
        }
        Err(Failed::Executed(response)) => answer(format, response),
        Err(Failed::Refused(error)) => answer(
            format,
            async_graphql::Response::from_errors(vec![server_error(&error)]),
        ),
    }
}

/// Why a keyed mutation has no answer worth repeating.
enum Failed {
    /// It ran and reported errors.
    Executed(async_graphql::Response),
    /// The key refused it (another request under it, or still running).
    Refused(ApiError),
}

impl From<application::Error> for Failed {
    fn from(error: application::Error) -> Self {
        Self::Refused(error.into())
    }
}

/// The one GraphQL request in the body.
async fn read_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Request, Vec<u8>), Refusal> {
    if !is_json(headers) {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(
                "a GraphQL request is a POST with Content-Type: application/json".into(),
            ),
        ));
    }
    let bytes = read_body(body, headers, state.limits.max_body_bytes).await?;
    let request = parse_request(&bytes).map_err(|error| (StatusCode::BAD_REQUEST, error))?;
    Ok((request, bytes))
}

/// Whether the body is declared `application/json` (UTF-8, the only charset JSON has).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default();
    media.eq_ignore_ascii_case("application/json")
        && parts.all(|parameter| match parameter.split_once('=') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
                value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            }
            _ => true,
        })
}

/// The body, refused with 413 as soon as it is known to exceed `limit`.
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Vec<u8>, Refusal> {
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::PayloadTooLarge { limit },
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            if is_length_limit(&error) {
                too_large()
            } else {
                (
                    StatusCode::BAD_REQUEST,
                    ApiError::Validation("the request body could not be read".into()),
                )
            }
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Whether reading failed because a body limit further out (e.g. a tower-http layer)
/// cut it off.
fn is_length_limit(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = cause {
        if error.to_string().contains("length limit exceeded") {
            return true;
        }
        cause = error.source();
    }
    false
}

/// One GraphQL request: a JSON object with `query` (and `operationName`, `variables`).
///
/// # Errors
/// [`ApiError::Validation`] for a batch (a JSON array), a body that is not such an
/// object, or an empty query.
fn parse_request(bytes: &[u8]) -> Result<Request, ApiError> {
    let request: Request = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => serde_json::from_slice(bytes)
            .map_err(|e| ApiError::Validation(format!("the body is not a GraphQL request: {e}")))?,
        Some(b'[') => {
            return Err(ApiError::Validation(
                "batched requests are not supported: send one operation per request".into(),
            ));
        }
        Some(_) => {
            return Err(ApiError::Validation(
                "the body must be a JSON object {\"query\", \"operationName\", \"variables\"}"
                    .into(),
            ));
        }
        None => {
            return Err(ApiError::Validation(
                "a JSON request body is required".into(),
            ));
        }
    };
    if request.query.trim().is_empty() {
        return Err(ApiError::Validation("the request has no query".into()));
    }
    Ok(request)
}

async fn get_graphql(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    if state.limits.graphiql && !asks_to_execute(&uri) {
        return graphiql::page();
    }
    let error = ApiError::Validation(
        "GraphQL operations run only from a POST with Content-Type: application/json".into(),
    );
    let mut response = refuse(
        Format::negotiate(&headers),
        StatusCode::METHOD_NOT_ALLOWED,
        &error,
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// Whether a GET carries a GraphQL request in its query string (refused: GET never runs
/// operations). A query string that does not parse counts as one.
fn asks_to_execute(uri: &Uri) -> bool {
    if uri.query().is_none() {
        return false;
    }
    Query::<Vec<(String, String)>>::try_from_uri(uri).map_or(true, |Query(pairs)| {
        pairs.iter().any(|(name, _)| {
            matches!(
                name.as_str(),
                "query" | "operationName" | "variables" | "extensions"
            )
        })
    })
}

async fn get_asset(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    state
        .limits
        .graphiql
        .then(|| graphiql::asset(&name))
        .flatten()
        .unwrap_or_else(|| ApiError::NotFound(format!("no asset {name:?}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(header::CONTENT_TYPE, value);
        }
        headers
    }

    #[test]
    fn only_json_bodies_are_accepted() {
        assert!(is_json(&content_type("application/json")));
        assert!(is_json(&content_type("Application/JSON; charset=UTF-8")));
        assert!(is_json(&content_type("application/json;charset=\"utf-8\"")));
        assert!(!is_json(&content_type("application/json; charset=latin1")));
        assert!(!is_json(&content_type("application/graphql")));
        assert!(!is_json(&content_type("text/plain")));
        assert!(!is_json(&content_type("application/x-www-form-urlencoded")));
        assert!(!is_json(&content_type("multipart/form-data; boundary=x")));
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn batches_and_non_requests_are_refused() {
        let refused =
            |body: &str| matches!(parse_request(body.as_bytes()), Err(ApiError::Validation(_)));
        assert!(refused(r#"[{"query": "{ apiVersion }"}]"#));
        assert!(refused(r#"  [ ]"#));
        assert!(refused(""));
        assert!(refused("\"{ apiVersion }\""));
        assert!(refused("{ apiVersion }"));
        assert!(refused(r#"{"query": "  "}"#));
        assert!(refused(r#"{"operationName": "A"}"#));
        let request = parse_request(
            br#"{"query": "query A { apiVersion }", "operationName": "A", "variables": {"x": 1}}"#,
        );
        assert_eq!(request.map(|r| r.operation_name), Ok(Some("A".to_owned())));
    }

    #[test]
    fn a_get_with_an_operation_is_refused() {
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        assert!(!asks_to_execute(&uri("/graphql")));
        assert!(!asks_to_execute(&uri("/graphql?theme=dark")));
        assert!(asks_to_execute(&uri("/graphql?query=%7BapiVersion%7D")));
        assert!(asks_to_execute(&uri("/graphql?qu%65ry=x")));
        assert!(asks_to_execute(&uri(
            "/graphql?operationName=A&variables=%7B%7D"
        )));
    }
}
