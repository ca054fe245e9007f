//! The edges of domainflow: REST (with its OpenAPI document), GraphQL, authentication, and
//! the `domainflow` binary's commands.
//!
//! - [`app`]: [`Application::build`] binds the server, [`router`] is the whole HTTP surface.
//! - [`rest`] and [`graphql`]: the two transports over the same use cases.
//! - [`history`]: the audit trail's wire shape of events, filters and batched reads.
//! - [`error`]: the one place errors become problem+json and GraphQL codes.
//! - [`payment`]: the payment provider the settings choose.
//! - [`cli`]: `serve`, `migrate`, `token`, `schema`.

pub mod access;
pub mod app;
pub mod caller;
#[cfg(test)]
mod captured_logs;
pub mod cli;
pub mod connections;
pub mod dashboard;
pub mod embedded;
pub mod error;
pub mod failure_log;
pub mod graphql;
pub mod guard;
pub mod health;
pub mod history;
pub mod idempotency;
pub mod in_flight;
pub mod metrics;
pub mod payment;
pub mod request_id;
pub mod rest;
pub mod saga;
pub mod sealer;
pub mod state;
pub mod throttle;

pub use app::{Application, ServerConfig, router};
pub use error::ApiError;
pub use payment::{ProviderKind, ProviderSettings};
pub use saga::SagaConfig;
pub use state::{AppState, HttpLimits};
