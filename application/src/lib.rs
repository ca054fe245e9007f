//! The use cases of domainflow, the ports they need, the cqrs-es adapters of the domain
//! aggregates and the versioned, serialisable shape of every event.
pub mod event_log;
