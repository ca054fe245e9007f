//! What the read-model projections share: read the rows a batch touches once, fold the
//! batch into them in memory, and write the changed ones back in one statement.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use application::event_log::RecordedEvent;
use sqlx::PgConnection;

use crate::Error;
use crate::decode::DomainEvent;
use crate::projection::{caused_by, decoded};

/// One read-model table, keyed by a stream's id.
pub(crate) trait Rows {
    /// A row's key (the stream id it is built from).
    type Key: Eq + Hash + Clone + Send + Sync;
    /// A row in memory.
    type Row: Send;
    /// The domain events it folds.
    type Event: Send + Sync;

    /// The stream types whose events it reads.
    const FOLLOWS: &'static [&'static str];

    /// The event it folds, if it folds this one.
    fn pick(event: DomainEvent) -> Option<Self::Event>;

    /// The key of the row `event` changes.
    ///
    /// # Errors
    /// [`Error::Unexpected`] when the stream id is not a key.
    fn key(event: &RecordedEvent) -> Result<Self::Key, Error>;

    /// The rows of `keys` that exist, locked: `SELECT ... FOR UPDATE` takes the table's
    /// ROW SHARE lock before any write (see [`crate::Projection`] on the order of locks).
    fn load(
        tx: &mut PgConnection,
        keys: &[Self::Key],
    ) -> impl Future<Output = Result<HashMap<Self::Key, Self::Row>, Error>> + Send;

    /// `rows` after `event`; whether it changed them. The first event of a stream adds its
    /// row unless it exists; a later one changes the row unless the row already reflects
    /// its version (redelivery), or there is no row.
    ///
    /// # Errors
    /// [`Error::Unexpected`] for a value the read model cannot hold.
    fn fold(
        rows: &mut HashMap<Self::Key, Self::Row>,
        key: &Self::Key,
        record: &RecordedEvent,
        event: &Self::Event,
    ) -> Result<bool, Error>;

    /// Writes `rows` (inserted or updated) in one statement.
    fn store(
        tx: &mut PgConnection,
        rows: Vec<(Self::Key, Self::Row)>,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Applies `events` to the table `T` for the projection `name`.
///
/// # Errors
/// [`Error::Handler`] naming the event at fault; a statement's error otherwise.
pub(crate) async fn apply<T: Rows>(
    name: &'static str,
    tx: &mut PgConnection,
    events: &[RecordedEvent],
) -> Result<(), Error> {
    let events = decoded(name, events, T::FOLLOWS, T::pick)?;
    if events.is_empty() {
        return Ok(());
    }
    let mut keys = Vec::with_capacity(events.len());
    for (record, _) in &events {
        keys.push(T::key(record).map_err(|e| caused_by(name, record, e))?);
    }
    let distinct: Vec<T::Key> = keys
        .iter()
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut rows = T::load(tx, &distinct).await?;
    let mut changed = HashSet::new();
    for ((record, event), key) in events.iter().zip(keys) {
        if T::fold(&mut rows, &key, record, event).map_err(|e| caused_by(name, record, e))? {
            changed.insert(key);
        }
    }
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|(key, _)| changed.contains(key))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    T::store(tx, rows).await
}
