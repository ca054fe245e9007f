//! Benchmarks of domainflow; the criterion benches live in `benches/`, the load generator
//! that drives a running server in [`drive`].

pub mod drive;
