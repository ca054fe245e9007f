//! Event store benchmarks (added with the event store).
fn main() {}
