//! Projection workers that turn the event log into read models.
//!
//! - [`Projection`]: a named, idempotent handler of events; [`Orders`], [`Products`],
//!   [`Tickets`] and [`Payments`] build the `rm_*` tables, listed by [`Projections::all`].
//! - [`Worker`]: runs one projection — one active worker across processes (a session
//!   advisory lock), batches applied with a compare-and-set checkpoint in one transaction,
//!   woken in process or by adaptive polling, failing events retried then parked.
//! - [`Follower`]: the next batch of the log after a position, waiting for one.
//! - [`spawn_workers`]: one worker per projection, announcing each committed batch
//!   ([`Announcer`]).
//! - [`status`]: every projection's checkpoint, state and lag.
//! - [`Control`]: the application's [`application::operations::ProjectionControl`] port.
//! - [`saga`]: the order-fulfilment saga's runner, state, deadlines and dead letters; it
//!   reads the log like a projection and sends commands instead of writing read models.
//! - [`Relay`]: the outbox relay, publishing the log's integration events to a broker
//!   from a checkpoint of its own.
//! - [`Rebuild`]: rebuilds a projection into shadow tables from the start of the log while
//!   the live tables serve, then swaps them in with the live worker's checkpoint.
//! - [`transaction`]: transactions on pooled connections that a cancel cannot leave open.
//! - [`Error`]: the crate's one error type.

pub mod checkpoint;
pub mod committed;
pub mod control;
pub mod decode;
pub mod error;
pub mod follow;
pub mod lag;
pub mod lock;
pub mod orders;
pub mod payments;
pub mod products;
pub mod projection;
pub mod read;
pub mod rebuild;
pub mod registry;
pub mod relay;
mod rows;
pub mod saga;
pub mod status;
pub mod tickets;
pub mod transaction;
pub mod worker;

pub use checkpoint::Checkpoint;
pub use committed::{Announcer, Committed, Listener};
pub use control::Control;
pub use error::Error;
pub use follow::Follower;
pub use orders::Orders;
pub use payments::Payments;
pub use products::{Levels, Products};
pub use projection::Projection;
pub use rebuild::{Progress, Rebuild, RebuildOptions, Rebuilt};
pub use registry::{Projections, spawn_workers};
pub use relay::{Relay, RelayOptions};
pub use saga::{RunnerOptions, SagaRunner};
pub use status::{ProjectionState, ProjectionStatus, RebuildProgress, followers, status};
pub use tickets::Tickets;
pub use worker::{Worker, WorkerOptions};
