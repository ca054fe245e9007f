//! The interface layer's one error type, and the one place errors become HTTP problem
//! documents (RFC 9457) and GraphQL error codes.

use application::error::with_causes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::{failure_log, request_id};

/// Why a request failed, in the terms API.md promises clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No credentials, or credentials that do not hold.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed or breaks a documented limit.
    #[error("{0}")]
    Validation(String),
    /// The request body is larger than allowed.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The thing asked about does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A concurrency conflict that retries did not resolve, or a request still running.
    #[error("{0}")]
    Conflict(String),
    /// An order line states a unit price (or currency) other than its product's catalog
    /// price.
    #[error("{0}")]
    PriceMismatch(String),
    /// A business rule said no.
    #[error("{message}")]
    Rejected {
        /// The rule's name, e.g. `AlreadyCancelled`.
        reason: String,
        /// The rule's explanation.
        message: String,
    },
    /// The same idempotency key came with a different request.
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    /// A read model did not reach the requested position in time.
    #[error("the read model has not caught up with the requested position yet")]
    Stale,
    /// The database cannot be reached right now; the request did nothing and may be
    /// retried shortly.
    #[error("the service is temporarily unavailable; retry shortly")]
    Unavailable(String),
    /// The server was not set up for the request (an erasure without a data key); the
    /// request did nothing, and trying again will not help until an operator sets it up:
    /// 409, like a request that conflicts with how the server stands.
    #[error("{0}")]
    NotConfigured(String),
    /// The server sheds load (new orders while fulfilment is too far behind); the request
    /// did nothing and may be retried shortly.
    #[error("{0}")]
    Overloaded(String),
    /// The request did not produce its answer within the server's request timeout. A
    /// command may still take effect: retry it with the same Idempotency-Key.
    #[error(
        "the request did not finish within {} s; a command may still take effect, so retry \
         it with the same Idempotency-Key",
        after.as_secs_f64()
    )]
    TimedOut {
        /// The timeout.
        after: std::time::Duration,
    },
    /// The caller (a principal or a client address) made more requests than its rate
    /// limit allows; the request did nothing.
    #[error("too many requests; retry in {} s", retry_seconds(*retry_after))]
    RateLimited {
        /// How long until one more request would be accepted.
        retry_after: std::time::Duration,
    },
    /// Something failed inside; the details are in the logs under the request id.
    #[error("internal error")]
    Internal(String),
}

/// Whole seconds to wait for `wait`, at least one (what `Retry-After` carries).
const fn retry_seconds(wait: std::time::Duration) -> u64 {
    let whole = wait.as_secs() + if wait.subsec_nanos() > 0 { 1 } else { 0 };
    if whole == 0 { 1 } else { whole }
}

impl ApiError {
    /// The error code of API.md (`VALIDATION`, `FORBIDDEN`, ...).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Validation(_) | Self::PayloadTooLarge { .. } => "VALIDATION",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::Rejected { .. } => "REJECTED",
            Self::PriceMismatch(_) => "PRICE_MISMATCH",
            Self::IdempotencyMismatch => "IDEMPOTENCY_MISMATCH",
            Self::Stale => "STALE",
            Self::Unavailable(_) | Self::Overloaded(_) | Self::TimedOut { .. } => "UNAVAILABLE",
            Self::NotConfigured(_) => "NOT_CONFIGURED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Validation(_) | Self::PriceMismatch(_) | Self::IdempotencyMismatch => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            // A business rule refused the request as the resource stands now.
            Self::Rejected { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Stale | Self::Unavailable(_) | Self::Overloaded(_) | Self::TimedOut { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::NotConfigured(_) => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a client may see: internal details stay in the logs.
    #[must_use]
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => format!(
                "internal error; quote request id {} when reporting it",
                request_id::current()
            ),
            other => other.to_string(),
        }
    }

    /// The rule's name for [`ApiError::Rejected`].
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Rejected { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The error as GraphQL reports it: the message, with `code` (and `reason`, `requestId`)
    /// in `extensions`.
    #[must_use]
    pub fn to_graphql(&self) -> async_graphql::Error {
        self.log();
        let mut error = async_graphql::Error::new(self.public_message());
        error = async_graphql::ErrorExtensions::extend_with(error, |_, extensions| {
            extensions.set("code", self.code());
            if let Some(reason) = self.reason() {
                extensions.set("reason", reason);
            }
            if let Some(seconds) = self.retry_after() {
                extensions.set("retryAfter", seconds);
            }
            extensions.set("requestId", request_id::current());
        });
        error
    }

    /// The whole seconds a client should wait before trying again, when the answer says.
    #[must_use]
    pub const fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Unavailable(_) | Self::Overloaded(_) | Self::TimedOut { .. } => Some(1),
            Self::RateLimited { retry_after } => Some(retry_seconds(*retry_after)),
            _ => None,
        }
    }

    /// What the logs should say of a server-side failure; `None` for a client error.
    fn cause(&self) -> Option<&str> {
        match self {
            Self::Internal(cause) | Self::Unavailable(cause) => Some(cause),
            _ => None,
        }
    }

    /// Logs a server-side failure answered inside a GraphQL response (whose HTTP status
    /// stays 200, so [`crate::failure_log`] does not see it).
    fn log(&self) {
        match self {
            Self::Internal(cause) => {
                tracing::error!(request_id = %request_id::current(), %cause, "request failed");
            }
            Self::Unavailable(cause) => {
                tracing::warn!(request_id = %request_id::current(), %cause, "unavailable");
            }
            _ => {}
        }
    }
}

impl From<application::Error> for ApiError {
    fn from(error: application::Error) -> Self {
        use application::Error as E;
        match error {
            E::Rejected(rejection) => Self::Rejected {
                reason: rejection.rule().to_owned(),
                message: rejection.to_string(),
            },
            E::Validation(message) => Self::Validation(message),
            E::PriceMismatch(mismatch) => Self::PriceMismatch(mismatch.to_string()),
            E::NotFound { what } => Self::NotFound(format!("{what} not found")),
            E::Conflict { .. } => {
                Self::Conflict("the resource was changed concurrently; retry the request".into())
            }
            E::Forbidden(message) => Self::Forbidden(message),
            E::Busy(message) => Self::Conflict(message),
            E::Stale => Self::Stale,
            E::IdempotencyMismatch => Self::IdempotencyMismatch,
            E::Unauthenticated(why) => Self::Unauthenticated(why.to_string()),
            E::Schema(cause) | E::Infrastructure(cause) => Self::Internal(cause),
            E::Unavailable(cause) => Self::Unavailable(cause),
            E::Overloaded(message) => Self::Overloaded(message),
            E::NotConfigured(message) => Self::NotConfigured(message),
        }
    }
}

impl From<projections::Error> for ApiError {
    fn from(error: projections::Error) -> Self {
        match error {
            projections::Error::Application(error) => error.into(),
            other if other.is_connection_lost() => Self::Unavailable(with_causes(&other)),
            other => Self::Internal(with_causes(&other)),
        }
    }
}

impl From<infrastructure::Error> for ApiError {
    fn from(error: infrastructure::Error) -> Self {
        if error.is_unavailable() {
            Self::Unavailable(with_causes(&error))
        } else {
            Self::Internal(with_causes(&error))
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        infrastructure::Error::Database(error).into()
    }
}

/// An RFC 9457 problem document, with domainflow's `code`, `reason` and `requestId`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong in this case.
    pub detail: String,
    /// The error code: VALIDATION, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT,
    /// REJECTED, PRICE_MISMATCH, IDEMPOTENCY_MISMATCH, NOT_CONFIGURED, RATE_LIMITED, STALE,
    /// UNAVAILABLE or INTERNAL.
    pub code: String,
    /// For REJECTED: the business rule that said no.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The id of the request, as in the `x-request-id` header and the logs.
    pub request_id: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let problem = Problem {
            kind: format!(
                "https://domainflow.invalid/problems/{}",
                self.code().to_lowercase().replace('_', "-")
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.public_message(),
            code: self.code().to_owned(),
            reason: self.reason().map(str::to_owned),
            request_id: request_id::current(),
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(cause) = self.cause() {
            response
                .extensions_mut()
                .insert(failure_log::Cause(cause.to_owned()));
        }
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
