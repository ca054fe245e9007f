//! Integration events: what domainflow tells the rest of the company through a broker.
//!
//! They are a public contract of their own, versioned apart from the internal event schema
//! ([`crate::schema`]) and documented in `docs/integration-events.md`: an internal event may
//! be renamed, reshaped or upcast without a consumer noticing, and only the events listed
//! there leave the system, without payment tokens or free text written by customers.
//!
//! - [`IntegrationEvent`]: one message, its routing name and its CloudEvents JSON body;
//!   [`integration_event`] makes it from a recorded event.
//! - [`Broker`] and [`Publisher`]: the port the relay publishes through (RabbitMQ and NATS
//!   JetStream adapters live in `infrastructure`).

mod contract;
mod publisher;

pub use contract::{CONTRACT_VERSION, IntegrationEvent, NAMES, integration_event};
pub use publisher::{Broker, Publisher};
