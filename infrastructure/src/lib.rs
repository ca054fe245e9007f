//! The outer ring of domainflow below the interfaces: our PostgreSQL event store
//! ([`PgEventStore`]), database connection and migrations ([`database`]), the embedded
//! PostgreSQL cluster used when no database URL is given ([`EmbeddedPostgres`]), and the
//! payment providers: the built-in simulation ([`SimulatedProvider`]) and a card processor
//! over HTTP ([`HttpProvider`]).

pub mod api_keys;
pub mod auth;
pub mod database;
pub mod embedded;
pub mod error;
pub mod health;
pub mod idempotency;
pub mod login;
pub mod opened;
pub mod payment;
pub mod payment_http;
pub mod personal_data;
pub mod relay;
mod scram;
pub mod seal;
mod secret_file;
pub mod store;

pub use api_keys::PgApiKeys;
pub use auth::{JwtKeys, TokenRules, load_or_create_secret, parse_secret};
pub use database::{DatabaseOptions, MIGRATOR, connect, migrate, migrate_if_needed};
pub use embedded::{EmbeddedPostgres, find_binaries};
pub use error::Error;
pub use health::PgHealth;
pub use idempotency::IdempotencyKeys;
pub use opened::Database;
pub use payment::SimulatedProvider;
pub use payment_http::{HttpProvider, HttpProviderError};
pub use personal_data::{DataKey, PgPersonalData, open_personal_data};
pub use store::{CqrsEventStore, PgEventStore, ReadFilter};
