//! `domainflow events export`: the event log (or part of it) as NDJSON, one event per
//! line in the global order, in the same format as `GET /api/events` with `Accept:
//! application/x-ndjson`; an export of the whole log also carries its seals, each a line
//! `{"seal": {...}}` after the event that is its head. Read in batches, so memory stays flat whatever the size of the
//! log; a progress bar on stderr counts against the selection's size.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use application::Actor;
use application::audit::Audit;
use application::event_log::{Position, ReadFilter};
use futures::TryStreamExt;

use super::database::with_pool;
use super::progress::Progress;
use super::verify::parse_stream;
use super::{DatabaseArgs, FileSettings};
use crate::history::{write_line, write_seal_line};
use infrastructure::seal::PgSeals;

/// What to export and where.
#[derive(Debug, Clone)]
pub struct Export {
    /// Only events after this position token.
    pub since: Option<String>,
    /// Only this stream, as `TYPE/ID`.
    pub stream: Option<String>,
    /// The file to write (created or truncated); stdout without one.
    pub out: Option<PathBuf>,
}

/// Writes the selection as NDJSON; a summary line on stderr at the end.
///
/// # Errors
/// A malformed `--since` or `--stream`, a file that cannot be written, or a database that
/// cannot be read.
pub async fn export(
    export: Export,
    database: DatabaseArgs,
    file: FileSettings,
) -> Result<String, String> {
    let after = match &export.since {
        Some(token) => Position::from_token(token)
            .ok_or_else(|| format!("--since {token:?} is not a position token"))?,
        None => Position::START,
    };
    let filter = match export.stream.as_deref().map(parse_stream).transpose()? {
        Some(stream) => ReadFilter {
            stream_type: Some(stream.stream_type),
            stream_id: Some(stream.stream_id),
            ..ReadFilter::default()
        },
        None => ReadFilter::default(),
    };
    let out: Box<dyn Write> = match &export.out {
        Some(path) => Box::new(
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 16, out);
    // A whole-log export carries the seals, each after the event that is its head, so that
    // it can be verified offline (`verify --export`).
    let whole = export.since.is_none() && export.stream.is_none();
    let written = with_pool(database, file, |pool| async move {
        let all_seals = PgSeals::new(pool.clone());
        let mut seals = std::pin::pin!(all_seals.stream());
        let mut next_seal = if whole {
            seals.try_next().await.map_err(|e| e.to_string())?
        } else {
            None
        };
        let audit = Audit::new(crate::app::event_store(&pool));
        let console = Actor::console();
        let total = audit
            .count(&console, after, &filter)
            .await
            .map_err(|e| e.to_string())?;
        let mut progress = Progress::new("events", u64::try_from(total).unwrap_or(0));
        let lines = audit
            .stream(&console, after, filter)
            .map_err(|e| e.to_string())?;
        let mut lines = std::pin::pin!(lines);
        let mut chunk = Vec::new();
        while let Some(batch) = lines.try_next().await.map_err(|e| e.to_string())? {
            chunk.clear();
            for event in &batch {
                write_line(event, &mut chunk);
                if let Some(seal) = next_seal.as_ref().filter(|s| s.head == event.position) {
                    write_seal_line(seal, &mut chunk);
                    next_seal = seals.try_next().await.map_err(|e| e.to_string())?;
                }
            }
            out.write_all(&chunk).map_err(|e| format!("writing: {e}"))?;
            progress.advance(batch.len() as u64);
        }
        out.flush().map_err(|e| format!("writing: {e}"))?;
        progress.finish();
        // A seal whose last event was not met: the log under it was changed. The export
        // would pass offline without it, so it fails here.
        if let Some(seal) = next_seal {
            return Err(format!(
                "seal {} names a last event ({}) the log does not hold: the log was changed; \
                 run domainflow verify",
                seal.sequence,
                seal.head.token()
            ));
        }
        Ok(progress.done())
    })
    .await?;
    let target = export
        .out
        .map_or_else(|| "stdout".to_owned(), |p| p.display().to_string());
    Ok(format!("exported {written} events to {target}"))
}
