//! Seals of the whole log: signed statements of where the global order stood.
//!
//! The hash chains of the events are per stream: they show a changed event, but not a
//! stream's last events deleted, a whole stream deleted, or a chain recomputed by someone
//! who can write the table. A seal covers the whole log: the head (the last event, in the
//! global order), the number of events up to it, and a running digest over the hash of
//! every one of them in the global order (`digest = sha256(digest ‖ hash)`, starting from
//! nothing), signed with an Ed25519 key whose private half stays outside the database.
//! Each seal goes on from the one before, so sealing reads only the events since.
//!
//! - [`SealKey`] and [`PublicKey`]: the key files.
//! - [`PgSeals`]: appends the next seal ([`PgSeals::seal`]) and checks every seal against
//!   the stored events ([`PgSeals::verify`]).

mod export;
mod key;
mod store;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use application::event_log::Position;

pub use export::{Expected, ExportReport, verify_export};

pub use key::{PublicKey, SealKey};
pub use store::{PgSeals, SealReport};

/// One seal, as stored in `log_seals`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// 1, 2, 3, …
    pub sequence: i64,
    /// The last event it covers.
    pub head: Position,
    /// Events up to and including the head.
    pub event_count: i64,
    /// The running digest at the head.
    pub digest: Vec<u8>,
    /// When it was made.
    pub sealed_at: DateTime<Utc>,
    /// The signing key's public half, hex.
    pub public_key: String,
    /// Ed25519 over [`Seal::message`].
    pub signature: Vec<u8>,
}

impl Seal {
    /// What is signed: every field but the signature, one per line.
    #[must_use]
    pub fn message(&self) -> Vec<u8> {
        format!(
            "domainflow seal v1\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.sequence,
            self.head.token(),
            self.event_count,
            crate::secret_file::hex(&self.digest),
            self.sealed_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.public_key,
        )
        .into_bytes()
    }
}

/// A seal as an export writes it (a line `{"seal": {...}}` after the event that is its head).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealRecord {
    /// 1, 2, 3, …
    pub sequence: i64,
    /// The position token of the last event it covers.
    pub head: String,
    /// Events up to and including the head.
    pub event_count: i64,
    /// The running digest at the head (hex).
    pub digest: String,
    /// When it was made (RFC 3339, microseconds).
    pub sealed_at: String,
    /// The signing key's public half (hex).
    pub public_key: String,
    /// Ed25519 over the seal's message (hex).
    pub signature: String,
}

impl From<&Seal> for SealRecord {
    fn from(seal: &Seal) -> Self {
        Self {
            sequence: seal.sequence,
            head: seal.head.token(),
            event_count: seal.event_count,
            digest: crate::secret_file::hex(&seal.digest),
            sealed_at: seal.sealed_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            public_key: seal.public_key.clone(),
            signature: crate::secret_file::hex(&seal.signature),
        }
    }
}

impl TryFrom<&SealRecord> for Seal {
    type Error = String;

    fn try_from(record: &SealRecord) -> Result<Self, String> {
        let hex = |text: &str, what: &str| {
            crate::secret_file::unhex(text).ok_or_else(|| format!("its {what} is not hex"))
        };
        Ok(Self {
            sequence: record.sequence,
            head: Position::from_token(&record.head)
                .ok_or_else(|| format!("its head {:?} is not a position", record.head))?,
            event_count: record.event_count,
            digest: hex(&record.digest, "digest")?,
            sealed_at: DateTime::parse_from_rfc3339(&record.sealed_at)
                .map_err(|e| format!("its time {:?}: {e}", record.sealed_at))?
                .with_timezone(&Utc),
            public_key: record.public_key.clone(),
            signature: hex(&record.signature, "signature")?,
        })
    }
}

/// Whether `seal`, met where seal number `next` is due, holds on its own: no seal missing
/// before it, signed by `key` (when given), and with the digest an auditor kept for its
/// number (`expected`). `Ok(true)` when it is the expected one; the number of the seal at
/// fault and why otherwise. The database walk and the offline check of an export share it.
pub(crate) fn standing(
    seal: &Seal,
    next: i64,
    key: Option<&PublicKey>,
    expected: Option<&Expected>,
) -> Result<bool, (i64, String)> {
    if seal.sequence != next {
        return Err((next, "it is missing: seals were deleted".to_owned()));
    }
    let broken = |problem: String| Err((seal.sequence, problem));
    if let Some(key) = key {
        if seal.public_key != key.hex() {
            return broken(format!(
                "it was signed with another key ({})",
                seal.public_key
            ));
        }
        if !key.verifies(&seal.message(), &seal.signature) {
            return broken("its signature does not match its content".to_owned());
        }
    }
    match expected.filter(|e| e.sequence == seal.sequence) {
        Some(expected) if expected.digest != seal.digest => {
            broken("its digest is not the one expected (--expect-seal)".to_owned())
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// Whether the `count` events up to `seal`'s head, with running digest `digest`, are the
/// ones it sealed; why not otherwise.
pub(crate) fn covers(seal: &Seal, count: i64, digest: &[u8]) -> Result<(), String> {
    if count != seal.event_count {
        return Err(format!(
            "{count} events up to its head, {} sealed: events were deleted or added below it",
            seal.event_count
        ));
    }
    if digest != seal.digest.as_slice() {
        return Err(
            "the events up to its head are not the ones sealed: one was changed, \
                    replaced or moved in the global order"
                .to_owned(),
        );
    }
    Ok(())
}

/// The running digest after one more event of hash `hash`.
#[must_use]
pub(crate) fn chain(digest: &[u8], hash: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(digest);
    hasher.update(hash);
    hasher.finalize().to_vec()
}
