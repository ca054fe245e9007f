//! Benchmarks of domainflow; the criterion benches live in `benches/`, the load generator
//! that drives a running server in [`drive`], and the comparison with cqrs-es +
//! postgres-es on the same orders in [`peer`].

pub mod drive;
pub mod peer;
