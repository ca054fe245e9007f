//! The order-fulfilment saga on PostgreSQL: the runner ([`SagaRunner`]) that reads the
//! global order under a lock like a projection does and takes each step through
//! `application::saga`, and the tables it keeps: each order's saga and payment deadline
//! ([`state`]), its dead letters ([`dead_letters`]) and the runner's fence ([`fence`]);
//! what taking a step leaves behind is stored in one fenced statement ([`outcome`]).
//! [`Desk`] is the application's dead-letter port; [`backlog`] tells how far behind the saga
//! is, for the admission of new orders; [`gauges`] are its metrics.

pub mod backlog;
pub mod dead_letters;
mod desk;
pub mod fence;
pub mod gauges;
pub mod outcome;
pub mod runner;
pub mod state;

pub use dead_letters::{DeadLetter, Redrive, list as dead_letters, redrive};
pub use desk::Desk;
pub use runner::{RunnerOptions, SagaRunner};
