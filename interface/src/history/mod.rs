//! The audit trail as every transport shows it, read straight from the event log (never
//! from a projection): the one wire shape of an event ([`Event`], also each line of the
//! NDJSON export), the checked selection of the log a request asks for ([`Selection`]),
//! and the log read in batches, so a whole selection streams in flat memory
//! ([`batches`]).

mod batches;
mod event;
mod selection;

pub use batches::{EXPORT_BATCH, batches};
pub use event::{Event, EventMetadata, write_line};
pub use selection::{Selection, parse_time, stream_ref};
