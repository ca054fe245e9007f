//! A selection of the log read batch by batch in the global order: what the NDJSON answer
//! of `GET /api/events` and `domainflow events export` stream, holding one batch at a time.

use std::sync::Arc;

use futures::Stream;
use futures::stream;

use crate::event_log::{Position, ReadFilter, RecordedEvent};
use crate::{Error, EventStore};

/// Events per batch of a streamed selection.
pub const EXPORT_BATCH: i64 = 1000;

/// The events after `after` matching `filter`, `size` at a time, up to the end of what is
/// readable now (a batch shorter than `size`).
pub(super) fn batches(
    store: Arc<dyn EventStore>,
    after: Position,
    filter: ReadFilter,
    size: i64,
) -> impl Stream<Item = Result<Vec<RecordedEvent>, Error>> + Send + 'static {
    stream::try_unfold(Some(after), move |cursor| {
        let (store, filter) = (Arc::clone(&store), filter.clone());
        async move {
            let Some(after) = cursor else {
                return Ok(None);
            };
            let batch = store.read_filtered(after, size, &filter).await?;
            let Some(last) = batch.last() else {
                return Ok(None);
            };
            let full = i64::try_from(batch.len()).is_ok_and(|n| n >= size);
            let next = full.then_some(last.position);
            Ok(Some((batch, next)))
        }
    })
}
