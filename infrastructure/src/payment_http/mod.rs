//! The payment provider over HTTP: a card processor's JSON API, one call per port method,
//! each given up after the configured per-call timeout.
//!
//! # Wire contract
//!
//! `{base}` is the configured base URL (plain `http`); ids are the payment's UUID (the
//! order id), amounts are integer minor units with an ISO currency code. With an API key
//! configured, every call carries `Authorization: Bearer {key}`.
//!
//! - **Register**: `POST {base}/payment-methods` with body `{"token": "tok_visa"}` →
//!   `200` or `201 {"reference": "pm_…", "fingerprint": "…"}`: the provider keeps the
//!   customer's token and answers the method domainflow keeps instead (the token is never
//!   stored). Called when an order is placed. `402` or `422` → refused: the order is
//!   refused as invalid (`VALIDATION`); any other answer (a `400` too: a processor that
//!   does not know this contract), or none → unavailable (a fast failure is tried again
//!   twice, then the order is refused as `UNAVAILABLE`). The body of an answer to a
//!   registration is never quoted in an error or a log: it may hold the token.
//! - **Charge**: `POST {base}/charges` with header `Idempotency-Key: {paymentId}` and body
//!   `{"paymentId": "…", "amount": 1250, "currency": "BRL", "paymentMethod": "pm_…"}`.
//!   The processor charges a payment at most once: a repeat with the same key answers the
//!   first outcome.
//!   - `200 {"status": "captured"}` (or `"refunded"`, for a charge repeated after its
//!     refund) → approved;
//!   - `200 {"status": "declined", "reason": "…"}` or `402` (body optional, same shape) →
//!     declined, for good;
//!   - `200`/`202 {"status": "pending"}` → the outcome is not known yet:
//!     [`ProviderError::TimedOut`], so that the payment deadline's status look-up decides
//!     (a charge still pending then keeps the order waiting, never cancelled under it).
//! - **Status**: `GET {base}/charges/{paymentId}` →
//!   `200 {"status": "captured" | "refunded" | "declined" | "pending" | "not_found",
//!   "reason"?}`, or `404 {"status": "not_found"}`: not charged. A `404` without that body
//!   (a wrong base URL, a proxy's page) is no answer about the payment and fails as
//!   [`ProviderError::Unavailable`]: taking it for "not charged" would let the saga give up
//!   on a payment whose money was captured.
//! - **Refund**: `POST {base}/charges/{paymentId}/refunds` with header
//!   `Idempotency-Key: refund-{paymentId}` and body `{"amount": 1250, "currency": "BRL"}`
//!   → `200` or `201` (any body). A repeat refunds nothing more.
//!
//! # Failures
//!
//! - No answer within the per-call timeout → [`ProviderError::TimedOut`] (the charge may
//!   have happened; the saga reconciles with a status look-up).
//! - Connection refused or cut, `429`, `5xx` → [`ProviderError::Unavailable`]: trying
//!   again is safe because every charge and refund carries its idempotency key.
//! - `409` (the same key still being processed) → [`ProviderError::Unavailable`]: asking
//!   again later gets the first request's outcome.
//! - Any other `4xx`, or a `3xx` (redirects are not followed): a malformed request, bad
//!   credentials, a wrong base URL → [`ProviderError::Unavailable`] with the status and
//!   body. It is our fault, not the card's, so it must not decline the customer's order:
//!   the saga retries, then leaves a dead letter for an operator to fix and redrive.
//! - A `2xx` whose body is not the contract's → [`ProviderError::Unavailable`].

use std::time::Duration;

use application::saga::{
    Charge, ChargeRequest, ChargeStatus, PaymentProvider, ProviderError, Registration,
};
use async_trait::async_trait;
use domain::{Money, PaymentMethod};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Response, StatusCode, Url};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The longest response body quoted in an error.
const QUOTED_BODY: usize = 300;

/// Why an [`HttpProvider`] cannot be built from its settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpProviderError {
    /// The base URL is not an absolute `http` URL.
    #[error("payment provider URL {url:?} is not usable: {reason}")]
    BadUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The per-call timeout is zero.
    #[error("payment provider timeout must be more than zero")]
    ZeroTimeout,
    /// The API key cannot be sent in a header (it has control characters).
    #[error("payment provider API key is not usable in an HTTP header")]
    BadKey,
    /// The HTTP client could not be set up.
    #[error("payment provider HTTP client: {0}")]
    Client(String),
}

/// The payment provider behind an HTTP API. See the module documentation for the contract.
#[derive(Debug, Clone)]
pub struct HttpProvider {
    base: Url,
    client: reqwest::Client,
    /// `Bearer {key}`, marked sensitive so that it never shows in debug output.
    authorization: Option<HeaderValue>,
}

impl HttpProvider {
    /// A provider at `base` (e.g. `http://payments.internal:8443/v1`) whose calls give up
    /// after `timeout`.
    ///
    /// # Errors
    /// [`HttpProviderError::BadUrl`] unless `base` is an absolute `http` URL without query
    /// or fragment; [`HttpProviderError::ZeroTimeout`] for a zero timeout.
    pub fn new(base: &str, timeout: Duration) -> Result<Self, HttpProviderError> {
        let bad = |reason: &str| HttpProviderError::BadUrl {
            url: base.to_owned(),
            reason: reason.to_owned(),
        };
        let url = Url::parse(base).map_err(|e| bad(&e.to_string()))?;
        match url.scheme() {
            "http" => {}
            // The client is built without TLS; a TLS-terminating proxy next to the server
            // can forward plain HTTP to the processor over HTTPS.
            "https" => return Err(bad("https is not supported by this build; use http")),
            other => return Err(bad(&format!("scheme {other:?} is not http"))),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("it names no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("it must not have a query or fragment"));
        }
        if timeout.is_zero() {
            return Err(HttpProviderError::ZeroTimeout);
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirected charge must not turn into another request behind our back.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("domainflow/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpProviderError::Client(e.to_string()))?;
        Ok(Self {
            base: url,
            client,
            authorization: None,
        })
    }

    /// The provider, authenticating every call with `key` as a bearer credential.
    ///
    /// # Errors
    /// [`HttpProviderError::BadKey`] when `key` cannot be sent in a header.
    pub fn with_api_key(mut self, key: &str) -> Result<Self, HttpProviderError> {
        let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
            .map_err(|_| HttpProviderError::BadKey)?;
        value.set_sensitive(true);
        self.authorization = Some(value);
        Ok(self)
    }

    /// `request` with the credentials, if any.
    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.authorization {
            Some(value) => request.header(AUTHORIZATION, value.clone()),
            None => request,
        }
    }

    /// The base URL calls go to.
    #[must_use]
    pub const fn base(&self) -> &Url {
        &self.base
    }

    /// `{base}/charges[/{segments}…]`.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        // A base that can be a base (checked in `new`) always has path segments.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ChargeBody<'a> {
    payment_id: Uuid,
    amount: i64,
    currency: String,
    payment_method: &'a str,
}

#[derive(Debug, Serialize)]
struct RegisterBody<'a> {
    token: &'a str,
}

#[derive(Debug, Deserialize)]
struct Registered {
    reference: String,
    fingerprint: String,
}

#[derive(Debug, Serialize)]
struct RefundBody {
    amount: i64,
    currency: String,
}

#[derive(Debug, Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

#[async_trait]
impl PaymentProvider for HttpProvider {
    async fn register(&self, token: &str) -> Result<Registration, ProviderError> {
        let response = self
            .authorized(self.client.post(self.url(&["payment-methods"])))
            .json(&RegisterBody { token })
            .send()
            .await
            .map_err(transport)?;
        // No body of an answer to a registration is ever quoted: it may hold the token.
        match response.status() {
            StatusCode::OK | StatusCode::CREATED => {
                let bytes = response.bytes().await.map_err(transport)?;
                let unusable = || {
                    ProviderError::Unavailable(
                        "payment provider answered a registration with an unusable payment \
                         method"
                            .into(),
                    )
                };
                let answer: Registered = serde_json::from_slice(&bytes).map_err(|_| unusable())?;
                PaymentMethod::new(&answer.reference, &answer.fingerprint)
                    .map(Registration::Registered)
                    .map_err(|_| unusable())
            }
            // A 400 is a request the processor did not understand (one not on this
            // contract), which is no answer about the token.
            StatusCode::PAYMENT_REQUIRED | StatusCode::UNPROCESSABLE_ENTITY => {
                Ok(Registration::Refused)
            }
            status => Err(ProviderError::Unavailable(format!(
                "payment provider answered {status} to a registration"
            ))),
        }
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        let body = ChargeBody {
            payment_id: request.payment,
            amount: request.amount.minor(),
            currency: request.amount.currency().to_string(),
            payment_method: &request.method,
        };
        let response = self
            .authorized(self.client.post(self.url(&["charges"])))
            .header("Idempotency-Key", request.payment.to_string())
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        match response.status() {
            StatusCode::PAYMENT_REQUIRED => {
                let answer: Option<Answer> = read_answer(response).await.ok();
                Ok(Charge::Declined {
                    reason: declined_reason(answer.and_then(|a| a.reason)),
                })
            }
            StatusCode::OK | StatusCode::ACCEPTED => {
                let answer: Answer = read_answer(response).await?;
                match answer.status.as_str() {
                    "captured" | "refunded" => Ok(Charge::Approved),
                    "declined" => Ok(Charge::Declined {
                        reason: declined_reason(answer.reason),
                    }),
                    "pending" => Err(ProviderError::TimedOut),
                    other => Err(unexpected_status(other)),
                }
            }
            _ => Err(failed(response).await),
        }
    }

    async fn status(&self, payment: Uuid) -> Result<ChargeStatus, ProviderError> {
        let response = self
            .authorized(
                self.client
                    .get(self.url(&["charges", &payment.to_string()])),
            )
            .send()
            .await
            .map_err(transport)?;
        match response.status() {
            StatusCode::NOT_FOUND => match read_answer(response).await {
                Ok::<Answer, _>(answer) if answer.status == "not_found" => {
                    Ok(ChargeStatus::NotCharged)
                }
                _ => Err(ProviderError::Unavailable(
                    "payment provider answered 404 without {\"status\": \"not_found\"}: \
                     is the base URL right?"
                        .into(),
                )),
            },
            StatusCode::OK => {
                let answer: Answer = read_answer(response).await?;
                match answer.status.as_str() {
                    "captured" | "refunded" => Ok(ChargeStatus::Captured),
                    "declined" => Ok(ChargeStatus::Declined {
                        reason: declined_reason(answer.reason),
                    }),
                    "pending" => Ok(ChargeStatus::Pending),
                    "not_found" => Ok(ChargeStatus::NotCharged),
                    other => Err(unexpected_status(other)),
                }
            }
            _ => Err(failed(response).await),
        }
    }

    async fn refund(&self, payment: Uuid, amount: Money) -> Result<(), ProviderError> {
        let body = RefundBody {
            amount: amount.minor(),
            currency: amount.currency().to_string(),
        };
        let response = self
            .authorized(
                self.client
                    .post(self.url(&["charges", &payment.to_string(), "refunds"])),
            )
            .header("Idempotency-Key", format!("refund-{payment}"))
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        match response.status() {
            StatusCode::OK | StatusCode::CREATED => Ok(()),
            _ => Err(failed(response).await),
        }
    }
}

/// A request that got no HTTP answer: a timeout leaves the outcome unknown; anything else
/// (refused, reset, unreadable) is a passing failure, safe to try again.
fn transport(error: reqwest::Error) -> ProviderError {
    if error.is_timeout() && !error.is_connect() {
        ProviderError::TimedOut
    } else {
        ProviderError::Unavailable(error_chain(&error))
    }
}

/// `error` with its sources, which say what actually went wrong (refused, reset, …).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn read_answer<T: serde::de::DeserializeOwned>(
    response: Response,
) -> Result<T, ProviderError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(transport)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ProviderError::Unavailable(format!(
            "payment provider answered {status} with an unexpected body ({e}): {}",
            quote(&bytes)
        ))
    })
}

/// Any answer outside the contract's successes.
async fn failed(response: Response) -> ProviderError {
    let status = response.status();
    let body = match response.bytes().await {
        Ok(bytes) => quote(&bytes),
        Err(error) => return transport(error),
    };
    let what = match status {
        StatusCode::TOO_MANY_REQUESTS => "rate limited",
        StatusCode::CONFLICT => "a request with this idempotency key is still in flight",
        s if s.is_server_error() => "provider error",
        _ => "request refused",
    };
    ProviderError::Unavailable(format!(
        "payment provider answered {status} ({what}): {body}"
    ))
}

fn unexpected_status(status: &str) -> ProviderError {
    ProviderError::Unavailable(format!(
        "payment provider answered an unknown status {status:?}"
    ))
}

fn declined_reason(reason: Option<String>) -> String {
    reason
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| "declined by the payment provider".into())
}

fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut end = text.len().min(QUOTED_BODY);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests;
