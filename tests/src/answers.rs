//! What a client reads from an answer: command results, problem documents and GraphQL
//! errors, each checked for the shape API.md promises.

use reqwest::Response;
use serde_json::Value;

/// The status API.md's `REJECTED` answers with over REST.
pub const REJECTED_STATUS: u16 = 409;

/// The JSON body of `response`.
///
/// # Panics
/// When the body is not JSON.
pub async fn body_json(response: Response) -> Value {
    let status = response.status();
    let text = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("reading a {status} body: {e}"));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a {status} body is not JSON ({e}): {text}"))
}

/// The JSON body of `response`, which must have `status`.
///
/// # Panics
/// When the status differs or the body is not JSON.
pub async fn expect(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let body = body_json(response).await;
    assert_eq!(actual, status, "unexpected status; body: {body}");
    body
}

/// The command result in `response`, which must have `status`: `id`, `streamType`,
/// `version` and a non-empty `position`.
///
/// # Panics
/// When the status or the shape differs.
pub async fn command_result(response: Response, status: u16) -> Value {
    let body = expect(response, status).await;
    assert!(body["id"].is_string(), "no id in {body}");
    assert!(body["streamType"].is_string(), "no streamType in {body}");
    assert!(
        body["version"].as_i64().is_some_and(|v| v > 0),
        "no version in {body}"
    );
    assert!(
        body["position"].as_str().is_some_and(|p| !p.is_empty()),
        "no position in {body}"
    );
    body
}

/// The problem document in `response`, which must have `status` and `code`, come as
/// `application/problem+json` with every field of API.md, and carry the request id of its
/// `x-request-id` header.
///
/// # Panics
/// When any of that differs.
pub async fn problem(response: Response, status: u16, code: &str) -> Value {
    let actual = response.status().as_u16();
    let content_type = header(&response, "content-type");
    let request_id = header(&response, "x-request-id");
    let body = body_json(response).await;
    assert_eq!(
        (actual, body["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type:?} of {body}"
    );
    assert_eq!(body["status"], status, "{body}");
    for field in ["type", "title", "detail"] {
        assert!(
            body[field].as_str().is_some_and(|v| !v.is_empty()),
            "no {field} in {body}"
        );
    }
    assert_eq!(
        body["requestId"].as_str(),
        Some(request_id.as_str()),
        "{body}"
    );
    body
}

/// The `REJECTED` problem in `response`, which must name `reason`.
///
/// # Panics
/// When the answer is anything else.
pub async fn rejected(response: Response, reason: &str) -> Value {
    let body = problem(response, REJECTED_STATUS, "REJECTED").await;
    assert_eq!(body["reason"], reason, "{body}");
    body
}

/// The `data` of a GraphQL answer that has no errors.
///
/// # Panics
/// When the answer is not 200 or has errors.
pub async fn graphql_data(response: Response) -> Value {
    let body = expect(response, 200).await;
    assert!(body.get("errors").is_none(), "errors in {body}");
    body["data"].clone()
}

/// The one error of a GraphQL answer, which must carry `code` (and a request id) in its
/// extensions and no data.
///
/// # Panics
/// When the answer differs.
pub async fn graphql_error(response: Response, code: &str) -> Value {
    let body = expect(response, 200).await;
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    let error = errors[0].clone();
    assert_eq!(error["extensions"]["code"], code, "{body}");
    assert!(error["message"].is_string(), "{body}");
    assert!(error["extensions"]["requestId"].is_string(), "{body}");
    if let Some(data) = body.get("data").and_then(Value::as_object) {
        assert!(
            data.values().all(Value::is_null),
            "data beside an error: {body}"
        );
    }
    error
}

/// The value of header `name` of `response`, empty when absent.
#[must_use]
pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
