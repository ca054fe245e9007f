//! The audit trail's wire shape, the same for every transport: one event ([`Event`]), also
//! each line of the NDJSON export ([`write_line`]). What is read, and who may read it, is
//! [`application::audit`]'s.

mod event;

pub use event::{Event, EventMetadata, write_line, write_seal_line};
