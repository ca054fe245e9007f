//! The use cases of domainflow, the ports they need, the cqrs-es adapters of the domain
//! aggregates and the versioned, serialisable shape of every event.
//!
//! - [`schema`]: how each domain event is stored — public type name, version, JSON payload
//!   ([`EventSchema`], [`EncodedEvent`]) — and the upcasters that bring old stored shapes
//!   to the current one ([`Upcasters`]).
//! - [`aggregates`]: the domain aggregates as cqrs-es aggregates ([`StockAggregate`] ...),
//!   with their snapshot shapes, tied together for the event store by [`EventSourced`].
//! - [`event_log`]: the shapes that cross the event-store port ([`EventStore`]).
//! - [`repository`]: running a command against one aggregate ([`Repository`]): load from
//!   snapshot and tail, decide, append atomically, idempotent per command id, retried on
//!   concurrency conflicts.
//! - [`queries`]: what the read side is asked, parsed into the domain's values.
//! - [`audit`]: the event history for auditors, over the event-store port ([`audit::Audit`]).
//! - [`auth`]: who is calling, from a bearer token ([`auth::TokenVerifier`]) or an API key.
//! - [`operations`]: projections, rebuilds and readiness for operators, over ports.
//! - [`history`]: an aggregate's state as of a version or an instant, for auditors.
//! - [`api_keys`]: API keys for machine clients, over the [`api_keys::ApiKeyStore`] port.
//! - [`Error`]: the layer's one error type.

pub mod actor;
pub mod admission;
mod aggregate_cache;
pub mod aggregates;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod backoff;
pub mod commands;
pub mod commit_signal;
pub mod error;
pub mod event_log;
pub mod event_store;
pub mod history;
pub mod idempotency;
pub mod input;
pub mod instruments;
pub mod integration;
pub mod locks;
pub mod money;
pub mod operations;
pub mod personal_data;
pub mod queries;
pub mod random;
pub mod repository;
pub mod saga;
pub mod schema;

pub use actor::{Actor, Role};
pub use admission::Admission;
pub use aggregates::{
    EventSourced, OrderAggregate, OrderEvent, PaymentAggregate, PaymentEvent, StockAggregate,
    StockEvent, TicketAggregate, TicketEvent,
};
pub use commands::Commands;
pub use commit_signal::SignallingStore;
pub use error::{Error, Rejection, Unauthenticated};
pub use event_store::{AppendOutcome, EventStore, ForCommand};
pub use repository::{CommandResult, Repository, RepositoryOptions};
pub use schema::{DomainEvent, EncodedEvent, EventSchema, Upcasters, decode_recorded, upcast};
