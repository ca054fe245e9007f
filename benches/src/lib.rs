//! Benchmarks of domainflow; the criterion benches live in `benches/`.
