//! The same order workload through two contenders on one PostgreSQL cluster: ours
//! ([`Ours`]: the use cases' repositories over our event store) and the peer ([`Theirs`]:
//! cqrs-es over postgres-es, deciding with the same aggregates). Each order is the
//! fulfilment saga's command sequence for a one-line `tok_visa` order ([`plan::order`]);
//! each client places one whole order after another. Every run gets a fresh database, and
//! checks its log and the stock after. The `peer` binary is its command line.

mod clients;
mod contender;
mod database;
mod measure;
mod options;
mod ours;
pub mod plan;
mod report;
mod theirs;

pub use clients::{Limit, Run};
pub use contender::Contender;
pub use database::{Scratch, with_database};
pub use measure::{Measured, Settings, measure};
pub use options::Options;
pub use ours::Ours;
pub use plan::{Catalogue, OPENING, Step};
pub use report::{Cell, GOAL, check_events_per_order, json, table};
pub use theirs::Theirs;
