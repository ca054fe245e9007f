//! GraphQL answers over HTTP (GraphQL over HTTP): the media type the client accepts, the
//! status, and an error `code` on every error.

use async_graphql::{ServerError, Value};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::request_id;

/// The media type of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/graphql-response+json`: request errors answer 4xx.
    GraphqlResponse,
    /// `application/json`: every executed request answers 200.
    Json,
}

impl Format {
    /// `application/graphql-response+json` when the client's `Accept` lists it,
    /// `application/json` otherwise.
    #[must_use]
    pub fn negotiate(headers: &HeaderMap) -> Self {
        let accepts = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|range| {
                let mut parts = range.split(';').map(str::trim);
                let media = parts.next().unwrap_or_default();
                let refused = parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                media.eq_ignore_ascii_case("application/graphql-response+json") && !refused
            });
        if accepts {
            Self::GraphqlResponse
        } else {
            Self::Json
        }
    }

    /// The `Content-Type` of the answer.
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// The body of an answer: `data` is left out when the request never executed.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Value>,
    #[serde(skip_serializing_if = "<[ServerError]>::is_empty")]
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, Value>,
}

/// The HTTP answer to an executed (or refused before execution) GraphQL request.
#[must_use]
pub fn answer(format: Format, mut response: async_graphql::Response) -> Response {
    for error in &mut response.errors {
        complete(error);
    }
    // A request error (parse, validation, limits) leaves no data and errors without path.
    let request_error = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let status = if request_error && format == Format::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = Body {
        data: (!request_error).then_some(&response.data),
        errors: &response.errors,
        extensions: &response.extensions,
    };
    let mut http = json(format, status, &body);
    for (name, value) in &response.http_headers {
        http.headers_mut().append(name, value.clone());
    }
    http
}

/// The answer to a request refused before GraphQL saw it (wrong media type, batch, too
/// large ...), shaped like a GraphQL response.
#[must_use]
pub fn refuse(format: Format, status: StatusCode, error: &ApiError) -> Response {
    let errors = [server_error(error)];
    let body = Body {
        data: None,
        errors: &errors,
        extensions: &std::collections::BTreeMap::new(),
    };
    json(format, status, &body)
}

/// A request-level GraphQL error for `error`.
#[must_use]
pub fn server_error(error: &ApiError) -> ServerError {
    let mut server_error = ServerError::new(error.public_message(), None);
    server_error.extensions = error.to_graphql().extensions;
    server_error
}

/// Gives an error that has no `code` (GraphQL's own: syntax, validation, coercion and
/// limit errors; resolvers always set one) the code `VALIDATION`, and every error the
/// request id.
fn complete(error: &mut ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", "VALIDATION");
    }
    if extensions.get("requestId").is_none() {
        extensions.set("requestId", request_id::current());
    }
}

fn json(format: Format, status: StatusCode, body: &Body<'_>) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            ApiError::Internal(format!("serialising a GraphQL response: {e}")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Format {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(header::ACCEPT, value);
        }
        Format::negotiate(&headers)
    }

    #[test]
    fn the_graphql_media_type_only_when_asked_for() {
        assert_eq!(accept(""), Format::Json);
        assert_eq!(accept("application/json"), Format::Json);
        assert_eq!(accept("*/*"), Format::Json);
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Format::GraphqlResponse
        );
        assert_eq!(
            accept("application/json, application/graphql-response+json;q=0"),
            Format::Json
        );
    }

    #[tokio::test]
    async fn request_errors_answer_400_without_data_in_the_graphql_media_type() {
        let response =
            async_graphql::Response::from_errors(vec![ServerError::new("syntax error", None)]);
        let http = answer(Format::GraphqlResponse, response);
        assert_eq!(http.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(http.into_body(), 1 << 20)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(json.get("data").is_none());
        assert_eq!(json["errors"][0]["extensions"]["code"], "VALIDATION");
        assert_eq!(json["errors"][0]["extensions"]["requestId"], "-");
    }

    #[tokio::test]
    async fn request_errors_answer_200_in_plain_json() {
        let response =
            async_graphql::Response::from_errors(vec![ServerError::new("syntax error", None)]);
        let http = answer(Format::Json, response);
        assert_eq!(http.status(), StatusCode::OK);
        assert_eq!(
            http.headers()[header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
    }

    #[tokio::test]
    async fn resolver_codes_are_kept() {
        let mut error = server_error(&ApiError::Forbidden("no".into()));
        error.path = vec![async_graphql::PathSegment::Field("shipOrder".into())];
        let response = async_graphql::Response::from_errors(vec![error]);
        let http = answer(Format::GraphqlResponse, response);
        assert_eq!(http.status(), StatusCode::OK);
        let body = axum::body::to_bytes(http.into_body(), 1 << 20)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["data"], serde_json::Value::Null);
        assert_eq!(json["errors"][0]["extensions"]["code"], "FORBIDDEN");
    }
}
