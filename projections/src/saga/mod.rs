//! The order-fulfilment saga's runner and its PostgreSQL state: each order's steps
//! ([`state`]), payment deadlines, and dead letters ([`dead_letters`]), with the runner
//! itself ([`SagaRunner`]) reading the global order like a projection does; [`Desk`] is the
//! application's dead-letter port.

pub mod act;
pub mod dead_letters;
mod desk;
pub mod fence;
pub mod runner;
pub mod state;
mod summary;

pub use dead_letters::{DeadLetter, Redrive, list as dead_letters, redrive};
pub use desk::Desk;
pub use runner::{RunnerOptions, SagaRunner};
pub use summary::{SagaSummary, summary};
