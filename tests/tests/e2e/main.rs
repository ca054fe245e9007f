//! The end-to-end tests, one binary: each module drives the real server (HTTP, WebSocket)
//! or the real stores against a real PostgreSQL. Linked once rather than once per file.

mod aggregates;
mod api_keys;
mod audit_as_of;
mod audit_forbidden;
mod audit_history;
mod authorization;
mod contracts;
mod database_outage;
mod erasure;
mod event_store;
mod fulfilment_faults;
mod graphql_commands;
mod graphql_hardening;
mod hot_sku;
mod idempotency;
mod least_privilege;
mod limits;
mod payment_provider;
mod pool;
mod prices;
mod projection_status;
mod projections;
mod reads;
mod rebuild;
mod relay;
mod rest_commands;
mod saga;
mod subscriptions;
