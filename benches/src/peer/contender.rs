//! What the clients need of a contender: run one domain command, count its log, read a
//! SKU's stock.

use std::future::Future;

use super::plan::Step;

/// One way of running the workload's commands against PostgreSQL.
pub trait Contender: Send + Sync + Sized + 'static {
    /// The contender's name in the report.
    const NAME: &'static str;

    /// Opens the contender on the empty database at `url`, with a pool of `pool`
    /// connections, and creates what it needs there.
    ///
    /// # Errors
    /// When the database cannot be reached or prepared.
    fn open(url: &str, pool: u32) -> impl Future<Output = Result<Self, String>> + Send;

    /// Runs `step`, as a client would.
    ///
    /// # Errors
    /// Any failure: a rejection, a conflict it could not resolve, the database.
    fn execute(&self, step: Step) -> impl Future<Output = Result<(), String>> + Send;

    /// Events in the contender's log.
    ///
    /// # Errors
    /// When the count fails.
    fn events(&self) -> impl Future<Output = Result<i64, String>> + Send;

    /// Units of `sku` on hand, from its stream.
    ///
    /// # Errors
    /// When the stream cannot be loaded.
    fn on_hand(&self, sku: &str) -> impl Future<Output = Result<u32, String>> + Send;

    /// Concurrency conflicts the contender resolved by deciding a command again, as far as
    /// it tells.
    fn retries(&self) -> u64;

    /// Closes the pool.
    fn close(&self) -> impl Future<Output = ()> + Send;
}
