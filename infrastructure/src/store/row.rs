//! Mapping stored rows to [`RecordedEvent`]s.

use application::event_log::{Appended, Position, RecordedEvent, StreamRef};
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::append::transaction_id;
use crate::Error;

/// The columns of an event's header: [`EVENT_COLUMNS`] before `payload`.
macro_rules! header_columns {
    () => {
        "position, transaction_id::text::bigint AS transaction_id, stream_type, stream_id, \
         version, event_id, event_type, event_version"
    };
}

/// The columns every event read selects, in the order [`recorded_event`] expects.
pub(super) const EVENT_COLUMNS: &str = concat!(
    header_columns!(),
    ", payload, metadata, recorded_at, prev_hash, hash"
);

/// An event's header: the columns of [`EVENT_COLUMNS`] before `payload`.
pub(super) const HEADER_COLUMNS: &str = header_columns!();

/// The place in the global order of a row with `transaction_id` (as `int8`) and
/// `position` columns: an event's, a seal's head.
pub(crate) fn position(row: &PgRow) -> Result<Position, Error> {
    Ok(Position {
        transaction_id: transaction_id(row.try_get("transaction_id")?),
        position: row.try_get("position")?,
    })
}

pub(super) fn recorded_event(row: &PgRow) -> Result<RecordedEvent, Error> {
    Ok(RecordedEvent {
        position: position(row)?,
        stream: StreamRef {
            stream_type: row.try_get("stream_type")?,
            stream_id: row.try_get("stream_id")?,
        },
        version: row.try_get("version")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// The record of an applied command in `row` (columns `applied_*`), if the row has one.
pub(super) fn applied(row: &PgRow) -> Result<Option<(StreamRef, Appended)>, Error> {
    let Some(stream_type) = row.try_get::<Option<String>, _>("applied_stream_type")? else {
        return Ok(None);
    };
    Ok(Some((
        StreamRef::new(stream_type, row.try_get::<String, _>("applied_stream_id")?),
        Appended {
            version: row.try_get("applied_version")?,
            position: Position {
                transaction_id: transaction_id(row.try_get("applied_transaction_id")?),
                position: row.try_get("applied_position")?,
            },
        },
    )))
}
