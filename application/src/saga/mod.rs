//! The order-fulfilment saga's runtime: which events are its steps ([`step_of`]), one
//! order's saga and the policy state it folds to ([`Saga`], stored as [`StepRecord`]s),
//! taking a step (asking the policy, then [`carry_out`] its actions in order), how each
//! action is carried out ([`Fulfil`]: commands with deterministic ids, retries with backoff
//! and jitter), and the payment provider port ([`PaymentProvider`]) behind a
//! [`CircuitBreaker`].
//!
//! The decisions themselves are the pure `domain::fulfilment` policy. What needs PostgreSQL
//! is `projections::saga`: the runner that reads the log under a lock, and the tables of
//! each order's saga, its deadline and its dead letters.

mod act;
mod breaker;
mod fulfil;
mod provider;
mod record;
mod state;
mod steps;

pub use act::{Carried, carry_out, cause_of, describe};
pub use breaker::{BreakerState, CircuitBreaker};
pub use fulfil::{Cause, Failure, Fulfil, Outcome, Reconciled, SagaOptions, command_id};
pub use provider::{
    Charge, ChargeRequest, ChargeStatus, PaymentProvider, ProviderError, Registration,
};
pub use record::StepRecord;
pub use state::Saga;
pub use steps::step_of;
