//! The outer ring of domainflow below the interfaces: our PostgreSQL event store
//! ([`PgEventStore`]), database connection and migrations ([`database`]), the embedded
//! PostgreSQL cluster used when no database URL is given ([`EmbeddedPostgres`]), and the
//! built-in simulated payment provider ([`SimulatedProvider`]).

pub mod database;
pub mod embedded;
pub mod error;
pub mod idempotency;
pub mod payment;
pub mod store;

pub use database::{DatabaseOptions, MIGRATOR, connect, migrate};
pub use embedded::{EmbeddedPostgres, find_binaries};
pub use error::Error;
pub use idempotency::{Claim, IdempotencyKeys};
pub use payment::SimulatedProvider;
pub use store::{CqrsEventStore, PgEventStore, ReadFilter};
