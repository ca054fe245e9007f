//! Walking the hash chains: every link recomputed from the stored content.

use application::event_log::{BrokenLink, Integrity, StreamRef};
use futures::TryStreamExt;
use serde_json::Value;
use sqlx::Row;

use super::PgEventStore;
use super::hash::{Content, event_hash, hex};
use crate::Error;

impl PgEventStore {
    /// Recomputes the hash of every event (of one stream, or of all) from its stored
    /// content with the same function the append uses, and checks that each event links to
    /// its predecessor and versions have no gap. Rows are streamed, so memory stays flat
    /// whatever the size of the log.
    ///
    /// # Errors
    /// [`Error::Database`] when the store cannot be read.
    pub async fn verify(&self, stream: Option<&StreamRef>) -> Result<Integrity, Error> {
        let sql = format!(
            "SELECT stream_type, stream_id, version, event_id, event_type, event_version,
                    payload, metadata, recorded_at, prev_hash, hash,
                    lag(hash) OVER w AS previous_hash,
                    lag(version) OVER w AS previous_version
             FROM events
             {}
             WINDOW w AS (PARTITION BY stream_type, stream_id ORDER BY version)
             ORDER BY stream_type, stream_id, version",
            if stream.is_some() {
                "WHERE stream_type = $1 AND stream_id = $2"
            } else {
                ""
            }
        );
        let mut query = sqlx::query(&sql);
        if let Some(stream) = stream {
            query = query.bind(&stream.stream_type).bind(&stream.stream_id);
        }
        let mut rows = query.fetch(&self.pool);
        let (mut events, mut streams) = (0_u64, 0_u64);
        while let Some(row) = rows.try_next().await? {
            let version: i64 = row.try_get("version")?;
            let prev_hash: Vec<u8> = row.try_get("prev_hash")?;
            let hash: Vec<u8> = row.try_get("hash")?;
            let stream_type: String = row.try_get("stream_type")?;
            let stream_id: String = row.try_get("stream_id")?;
            let metadata: Value = row.try_get("metadata")?;
            let payload: Value = row.try_get("payload")?;
            let recomputed = event_hash(
                &prev_hash,
                &Content {
                    stream_type: &stream_type,
                    stream_id: &stream_id,
                    version,
                    event_id: row.try_get("event_id")?,
                    event_type: &row.try_get::<String, _>("event_type")?,
                    event_version: row.try_get("event_version")?,
                    recorded_at: row.try_get("recorded_at")?,
                    metadata: &metadata,
                    payload: &payload,
                },
            );
            let previous_hash: Option<Vec<u8>> = row.try_get("previous_hash")?;
            let previous_version: Option<i64> = row.try_get("previous_version")?;
            let broken =
                |expected: &[u8], found: &[u8], problem: &str| -> Result<Integrity, Error> {
                    Ok(Integrity::Broken(BrokenLink {
                        stream: StreamRef::new(
                            row.try_get::<String, _>("stream_type")?,
                            row.try_get::<String, _>("stream_id")?,
                        ),
                        version,
                        expected: hex(expected),
                        found: hex(found),
                        problem: problem.to_owned(),
                    }))
                };
            // The event before this one is missing, or the chain was relinked.
            let expected_prev = previous_hash.unwrap_or_default();
            let expected_version = previous_version.unwrap_or(0) + 1;
            if version != expected_version {
                return broken(
                    &expected_prev,
                    &prev_hash,
                    &format!("version {expected_version} is missing"),
                );
            }
            if prev_hash != expected_prev {
                return broken(
                    &expected_prev,
                    &prev_hash,
                    "does not link to the previous event",
                );
            }
            if hash != recomputed {
                return broken(&recomputed, &hash, "stored content does not match its hash");
            }
            events += 1;
            if version == 1 {
                streams += 1;
            }
        }
        Ok(Integrity::Verified { events, streams })
    }
}
