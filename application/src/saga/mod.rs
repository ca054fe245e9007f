//! The order-fulfilment saga's runtime pieces that need no database: which events are its
//! steps ([`step_of`]), how its state is stored ([`StepRecord`]), how its actions are carried
//! out ([`Fulfil`]: commands with deterministic ids, retries with backoff and jitter), and
//! the payment provider port ([`PaymentProvider`]) behind a [`CircuitBreaker`].
//!
//! The decisions themselves are the pure `domain::fulfilment` policy; the runner that reads
//! the log, keeps each order's state and its deadlines and dead letters in PostgreSQL lives
//! next to the projection runtime it shares (locking, checkpoints).

mod breaker;
mod fulfil;
mod provider;
mod record;
mod steps;

pub use breaker::{BreakerState, CircuitBreaker};
pub use fulfil::{Cause, Failure, Fulfil, Outcome, Reconciled, SagaOptions, command_id};
pub use provider::{Charge, ChargeRequest, ChargeStatus, PaymentProvider, ProviderError};
pub use record::StepRecord;
pub use steps::step_of;
