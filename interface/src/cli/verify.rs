//! `domainflow verify`: walks the hash chains of the event log.

use application::Actor;
use application::audit::Audit;
use application::event_log::{Integrity, StreamRef};

use super::database::with_pool;
use super::{DatabaseArgs, FileSettings};

/// Recomputes every link (of one stream, or of all) from the stored content.
///
/// # Errors
/// The report of the first broken link, or why the log could not be read.
pub async fn verify(
    stream: Option<String>,
    database: DatabaseArgs,
    file: FileSettings,
) -> Result<String, String> {
    let stream = stream.as_deref().map(parse_stream).transpose()?;
    let outcome = with_pool(database, file, |pool| async move {
        Audit::new(crate::app::event_store(&pool))
            .verify(&Actor::console(), stream.as_ref())
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    match outcome? {
        verified @ Integrity::Verified { .. } => Ok(verified.to_string()),
        broken @ Integrity::Broken(_) => Err(broken.to_string()),
    }
}

/// `TYPE/ID`, e.g. `stock/MUG-1`.
pub(super) fn parse_stream(text: &str) -> Result<StreamRef, String> {
    match text.split_once('/') {
        Some((stream_type, id)) if !stream_type.is_empty() && !id.is_empty() => {
            Ok(StreamRef::new(stream_type, id))
        }
        _ => Err(format!(
            "--stream {text:?} is not TYPE/ID, e.g. stock/MUG-1"
        )),
    }
}
