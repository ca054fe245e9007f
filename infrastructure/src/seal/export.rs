//! Verifying an export offline: `domainflow verify --export events.ndjson`, with no
//! database. Every event's hash is recomputed from the line's content and linked to the one
//! before it in its stream; the running digest is kept over the lines in their order; each
//! seal line is checked against the events before it (and its signature, with the key).

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;

use application::event_log::Position;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{PublicKey, Seal, SealRecord, chain, covers, standing};
use application::schema::shows_redacted_token;

use crate::secret_file::{hex, unhex};
use crate::store::hash::{Content, event_hash};

/// What checking an export found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportReport {
    /// Every chain and every seal holds.
    Verified {
        /// Events in the export.
        events: i64,
        /// Streams in the export.
        streams: usize,
        /// Seals in the export.
        seals: i64,
        /// Events after the last seal.
        after: i64,
        /// Whether the signatures were checked.
        signatures: bool,
        /// Events shown with a redacted payment token, taken on their hash.
        redacted: i64,
    },
    /// The first thing that does not hold, with its line number.
    Broken {
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Verified {
                events,
                streams,
                seals,
                after,
                signatures,
                redacted,
            } => {
                write!(f, "verified {events} events in {streams} streams; ")?;
                if *redacted > 0 {
                    write!(
                        f,
                        "{redacted} of them show a redacted payment token and were taken on \
                         their hash; "
                    )?;
                }
                if *seals == 0 {
                    write!(f, "no seal in the export")?;
                } else {
                    write!(f, "{seals} seals hold, {after} events after the last seal")?;
                }
                if !signatures && *seals > 0 {
                    write!(f, " (signatures not checked: pass --public-key)")?;
                }
                Ok(())
            }
            Self::Broken { line, problem } => write!(f, "line {line}: {problem}"),
        }
    }
}

/// Checks the export read from `lines` (a whole-log export: `domainflow events export`
/// without `--since` or `--stream`).
///
/// # Errors
/// A message when the export cannot be read.
pub fn verify_export(
    lines: impl BufRead,
    public_key: Option<&PublicKey>,
    expected: Option<&Expected>,
) -> Result<ExportReport, String> {
    let mut check = Check {
        public_key,
        expected,
        expected_seen: false,
        lines: 0,
        streams: HashMap::new(),
        digest: Vec::new(),
        events: 0,
        seals: 0,
        covered: 0,
        redacted: 0,
        last: Position::START,
    };
    for (index, line) in lines.lines().enumerate() {
        let line = line.map_err(|e| format!("reading the export: {e}"))?;
        check.lines = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        if let Err(problem) = check.line(&line) {
            return Ok(ExportReport::Broken {
                line: index + 1,
                problem,
            });
        }
    }
    let end = |problem: String| {
        Ok(ExportReport::Broken {
            line: check.lines,
            problem,
        })
    };
    if public_key.is_some() && check.seals == 0 {
        return end(
            "the export holds no seal (a whole-log export of a sealed log has them)".into(),
        );
    }
    if let Some(expected) = expected.filter(|_| !check.expected_seen) {
        return end(format!(
            "seal {} is not in the export: the log was cut back",
            expected.sequence
        ));
    }
    Ok(ExportReport::Verified {
        events: check.events,
        streams: check.streams.len(),
        seals: check.seals,
        after: check.events - check.covered,
        signatures: public_key.is_some(),
        redacted: check.redacted,
    })
}

/// A seal an auditor kept: it must still be there, with this digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Its number.
    pub sequence: i64,
    /// Its digest.
    pub digest: Vec<u8>,
}

impl Expected {
    /// `N:DIGEST`, as `verify` prints the newest seal.
    ///
    /// # Errors
    /// A message when `text` is not that.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("{text:?} is not SEQUENCE:DIGEST, e.g. 12:9f86d0…");
        let (sequence, digest) = text.split_once(':').ok_or_else(invalid)?;
        Ok(Self {
            sequence: sequence.parse().map_err(|_| invalid())?,
            digest: unhex(digest).ok_or_else(invalid)?,
        })
    }
}

/// Where the walk through the export stands.
struct Check<'a> {
    public_key: Option<&'a PublicKey>,
    expected: Option<&'a Expected>,
    expected_seen: bool,
    lines: usize,
    /// Each stream's last version and hash.
    streams: HashMap<(String, String), (i64, Vec<u8>)>,
    digest: Vec<u8>,
    events: i64,
    seals: i64,
    covered: i64,
    redacted: i64,
    last: Position,
}

impl Check<'_> {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
        match value.get("seal") {
            Some(seal) => self.seal(seal),
            None => self.event(&value),
        }
    }

    fn event(&mut self, line: &Value) -> Result<(), String> {
        if let Value::Object(fields) = line
            && let Some(unknown) = fields
                .keys()
                .find(|name| !EVENT_FIELDS.contains(&name.as_str()))
        {
            return Err(format!(
                "an event line with a field no export writes: {unknown:?}"
            ));
        }
        let text = |name: &str| {
            line.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("no {name}"))
        };
        let number = |name: &str| {
            line.get(name)
                .and_then(Value::as_i64)
                .ok_or_else(|| format!("no {name}"))
        };
        let position = Position::from_token(text("position")?)
            .ok_or_else(|| "its position is not a position token".to_owned())?;
        if position <= self.last {
            return Err(format!(
                "event {} is not after {} in the global order",
                position.token(),
                self.last.token()
            ));
        }
        let (stream_type, stream_id) = (text("streamType")?, text("streamId")?);
        let version = number("version")?;
        let key = (stream_type.to_owned(), stream_id.to_owned());
        let (previous_version, previous_hash) =
            self.streams.get(&key).cloned().unwrap_or((0, Vec::new()));
        if version != previous_version + 1 {
            return Err(format!(
                "{stream_type}/{stream_id} version {} is missing before version {version}",
                previous_version + 1
            ));
        }
        let event_id = Uuid::parse_str(text("eventId")?).map_err(|e| format!("eventId: {e}"))?;
        let recorded_at: DateTime<Utc> = DateTime::parse_from_rfc3339(text("recordedAt")?)
            .map_err(|e| format!("recordedAt: {e}"))?
            .with_timezone(&Utc);
        let payload = line.get("payload").cloned().unwrap_or(Value::Null);
        let metadata = stored_metadata(line.get("metadata"));
        let stored = unhex(text("hash")?).ok_or_else(|| "its hash is not hex".to_owned())?;
        let event_type = text("eventType")?;
        let event_version = i32::try_from(number("eventVersion")?)
            .map_err(|_| "eventVersion is out of range".to_owned())?;
        if line.get("redacted") == Some(&Value::Bool(true)) {
            // Only a stored token is ever redacted; such an event cannot be recomputed
            // without it, so its hash is taken as it stands (`verify` against the database
            // recomputes it).
            if !shows_redacted_token(stream_type, event_type, event_version, &payload) {
                return Err(format!(
                    "{stream_type}/{stream_id} version {version} is marked redacted, but it is \
                     not a {event_type} v{event_version} showing a redacted payment token"
                ));
            }
            self.redacted += 1;
            self.linked((key, version), stored, position);
            return Ok(());
        }
        let recomputed = event_hash(
            &previous_hash,
            &Content {
                stream_type,
                stream_id,
                version,
                event_id,
                event_type,
                event_version,
                recorded_at,
                metadata: &metadata,
                payload: &payload,
            },
        );
        if recomputed != stored {
            return Err(format!(
                "{stream_type}/{stream_id} version {version}: its content does not match its \
                 hash (expected {}, found {})",
                hex(&recomputed),
                hex(&stored)
            ));
        }
        self.linked((key, version), stored, position);
        Ok(())
    }

    /// Takes an event whose hash holds as its stream's head and into the digest.
    fn linked(
        &mut self,
        (stream, version): ((String, String), i64),
        hash: Vec<u8>,
        position: Position,
    ) {
        self.digest = chain(&self.digest, &hash);
        self.streams.insert(stream, (version, hash));
        self.events += 1;
        self.last = position;
    }

    fn seal(&mut self, record: &Value) -> Result<(), String> {
        let record: SealRecord = serde_json::from_value(record.clone())
            .map_err(|e| format!("a seal line that is not one: {e}"))?;
        let seal = Seal::try_from(&record).map_err(|e| format!("seal {}: {e}", record.sequence))?;
        let broken = |problem: String| Err(format!("seal {} is broken: {problem}", seal.sequence));
        if SealRecord::from(&seal) != record {
            return broken("its line is not written the one way an export writes it".to_owned());
        }
        match standing(&seal, self.seals + 1, self.public_key, self.expected) {
            Ok(expected) => self.expected_seen |= expected,
            Err((sequence, problem)) => {
                return Err(format!("seal {sequence} is broken: {problem}"));
            }
        }
        if seal.head != self.last {
            return broken(format!(
                "its last event ({}) is not the event before it in the export",
                seal.head.token()
            ));
        }
        covers(&seal, self.events, &self.digest)
            .map_err(|problem| format!("seal {} is broken: {problem}", seal.sequence))?;
        self.seals = seal.sequence;
        self.covered = self.events;
        Ok(())
    }
}

/// The fields of an event line.
const EVENT_FIELDS: [&str; 12] = [
    "position",
    "streamType",
    "streamId",
    "version",
    "eventId",
    "eventType",
    "eventVersion",
    "payload",
    "metadata",
    "recordedAt",
    "hash",
    "redacted",
];

/// The metadata as stored, from the export's fields: the server stores `commandId`,
/// `correlationId`, `actor`, and `causationId` and `clientCorrelationId` when they are set;
/// the export shows the unset ones as `null`.
fn stored_metadata(shown: Option<&Value>) -> Value {
    let mut stored = Map::new();
    if let Some(Value::Object(fields)) = shown {
        for (name, value) in fields {
            if !value.is_null() {
                stored.insert(name.clone(), value.clone());
            }
        }
    }
    Value::Object(stored)
}
