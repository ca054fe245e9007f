//! Seals in the database: the next one appended, and every one checked against the events.

use std::fmt;

use application::event_log::{Position, ReadFilter};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::{PgPool, Row};

use super::{Expected, PublicKey, Seal, SealKey, chain, covers, standing};
use crate::Error;
use crate::store::PgEventStore;
use crate::store::row::position;

/// The most events one seal reads past the one before (a first seal of a long log is made
/// in steps of this many).
const MOST_PER_SEAL: usize = 1_000_000;

/// Events read at once while sealing.
const BATCH: i64 = 5_000;

/// The `log_seals` table.
#[derive(Debug, Clone)]
pub struct PgSeals {
    store: PgEventStore,
}

/// What checking the seals found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealReport {
    /// Every seal holds.
    Held {
        /// How many seals there are.
        seals: i64,
        /// The newest seal's digest (hex): with its number, what an auditor keeps to check
        /// later that the log was not cut back (`verify --expect-seal N:DIGEST`).
        newest: String,
        /// Events the last seal covers.
        covered: i64,
        /// Events after the last seal (not covered yet).
        after: i64,
        /// Whether the signatures were checked (with a public key).
        signatures: bool,
    },
    /// There is no seal yet.
    Unsealed {
        /// Events in the log.
        events: i64,
    },
    /// The first seal that does not hold, and why.
    Broken {
        /// Its sequence number.
        sequence: i64,
        /// What is wrong.
        problem: String,
    },
}

impl fmt::Display for SealReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Held {
                seals,
                newest,
                covered,
                after,
                signatures,
            } => {
                write!(
                    f,
                    "{seals} seals hold: {covered} events sealed, {after} after the last seal \
                     (newest {seals}:{newest})"
                )?;
                if !signatures {
                    write!(f, " (signatures not checked: pass --public-key)")?;
                }
                Ok(())
            }
            Self::Unsealed { events } => write!(f, "no seal yet ({events} events unsealed)"),
            Self::Broken { sequence, problem } => write!(f, "seal {sequence} is broken: {problem}"),
        }
    }
}

impl PgSeals {
    /// The seals of the database behind `pool`.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self {
            store: PgEventStore::new(pool),
        }
    }

    /// The newest seal, if there is one.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn last(&self) -> Result<Option<Seal>, Error> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM log_seals ORDER BY sequence DESC LIMIT 1"
        ))
        .fetch_optional(self.store.pool())
        .await?;
        row.as_ref().map(seal_of).transpose()
    }

    /// Seals the events since the last seal (those every reader may see: below the oldest
    /// transaction in progress) with `key`; `None` when there is nothing new, or another
    /// process sealed first.
    ///
    /// It goes on only from a last seal it can vouch for: signed by `key`, numbered at
    /// least `newest_known` (the newest seal this sealer has seen; 0 for none), its head
    /// still in the log with as many events up to it as it says. Otherwise the seals or the
    /// events under them were changed, and sealing over them would sign the change.
    ///
    /// # Errors
    /// [`Error::SealRefused`] naming what does not hold; [`Error::Database`].
    pub async fn seal(&self, key: &SealKey, newest_known: i64) -> Result<Option<Seal>, Error> {
        let last = self.last().await?;
        let refused = |why: String| Err(Error::SealRefused(why));
        if last.as_ref().map_or(0, |last| last.sequence) < newest_known {
            return refused(format!(
                "seal {newest_known} was made and is gone: seals were deleted"
            ));
        }
        if let Some(last) = &last {
            let public = key.public();
            if last.public_key != public.hex() || !public.verifies(&last.message(), &last.signature)
            {
                return refused(format!(
                    "seal {} is not signed by this key: the seals or the key were changed",
                    last.sequence
                ));
            }
            let (present, below): (bool, i64) = sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM events
                                WHERE transaction_id = $1::text::xid8 AND position = $2),
                        (SELECT count(*) FROM events
                         WHERE (transaction_id, position) <= ($1::text::xid8, $2))",
            )
            .bind(last.head.transaction_id.to_string())
            .bind(last.head.position)
            .fetch_one(self.store.pool())
            .await?;
            if !present || below != last.event_count {
                return refused(format!(
                    "seal {} no longer matches the log ({below} events up to its head, {} \
                     sealed{}): run domainflow verify",
                    last.sequence,
                    last.event_count,
                    if present { "" } else { ", its last event gone" }
                ));
            }
        }
        let (mut head, mut count, mut digest, sequence) = match &last {
            Some(last) => (
                last.head,
                last.event_count,
                last.digest.clone(),
                last.sequence.checked_add(1).ok_or_else(|| {
                    Error::SealRefused(format!("seal {} is the last number", last.sequence))
                })?,
            ),
            None => (Position::START, 0, Vec::new(), 1),
        };
        let headers = ReadFilter {
            bodies_of: Some(Vec::new()),
            ..ReadFilter::default()
        };
        let mut read = 0;
        while read < MOST_PER_SEAL {
            let events = self.store.read_all(head, BATCH, &headers).await?;
            let Some(newest) = events.last() else { break };
            head = newest.position;
            for event in &events {
                digest = chain(&digest, &event.hash);
            }
            count += i64::try_from(events.len()).unwrap_or(i64::MAX);
            read += events.len();
        }
        if read == 0 {
            return Ok(None);
        }
        let now = Utc::now();
        let mut seal = Seal {
            sequence,
            head,
            event_count: count,
            digest,
            // As stored: microseconds.
            sealed_at: DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now),
            public_key: key.public().hex(),
            signature: Vec::new(),
        };
        seal.signature = key.sign(&seal.message());
        let inserted = sqlx::query(
            "INSERT INTO log_seals (sequence, transaction_id, position, event_count, digest,
                                    sealed_at, public_key, signature)
             VALUES ($1, $2::text::xid8, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (sequence) DO NOTHING",
        )
        .bind(seal.sequence)
        .bind(seal.head.transaction_id.to_string())
        .bind(seal.head.position)
        .bind(seal.event_count)
        .bind(&seal.digest)
        .bind(seal.sealed_at)
        .bind(&seal.public_key)
        .bind(&seal.signature)
        .execute(self.store.pool())
        .await?
        .rows_affected();
        Ok((inserted == 1).then_some(seal))
    }

    /// Every seal, oldest first, one at a time.
    pub fn stream(&self) -> impl futures::Stream<Item = Result<Seal, Error>> + Send + '_ {
        sqlx::query(SEALS_IN_ORDER)
            .fetch(self.store.pool())
            .map_err(Error::from)
            .and_then(|row| std::future::ready(seal_of(&row)))
    }

    /// Checks every seal against the stored events: `expected` (a seal an auditor kept)
    /// still there with its digest, numbered without a gap, signed by `public_key` (when
    /// given), and the count and running digest of the events in the global order equal to
    /// the seal's at its head. Events and seals are both streamed, side by side, so memory
    /// holds one of each at a time.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn verify(
        &self,
        public_key: Option<&PublicKey>,
        expected: Option<&Expected>,
    ) -> Result<SealReport, Error> {
        let mut feed = Feed {
            seals: Box::pin(self.stream()),
            next: 1,
            public_key,
            expected,
            expected_seen: false,
            newest: None,
        };
        let mut pending = match feed.next().await? {
            Ok(seal) => seal,
            Err(broken) => return Ok(broken),
        };
        let mut rows = sqlx::query(
            "SELECT transaction_id::text::bigint AS transaction_id, position, hash
             FROM events ORDER BY transaction_id, position",
        )
        .fetch(self.store.pool());
        let (mut digest, mut count) = (Vec::new(), 0_i64);
        let broken = |sequence: i64, problem: String| Ok(SealReport::Broken { sequence, problem });
        while let Some(row) = rows.try_next().await? {
            let position = position(&row)?;
            let hash: Vec<u8> = row.try_get("hash")?;
            digest = chain(&digest, &hash);
            count += 1;
            // Heads grow with each seal: one event is the head of one seal at most.
            let Some(seal) = &pending else { continue };
            if position > seal.head {
                return broken(
                    seal.sequence,
                    format!(
                        "its last event ({}) is not in the log: it was deleted or moved",
                        seal.head.token()
                    ),
                );
            }
            if position < seal.head {
                continue;
            }
            if let Err(problem) = covers(seal, count, &digest) {
                return broken(seal.sequence, problem);
            }
            pending = match feed.next().await? {
                Ok(seal) => seal,
                Err(broken) => return Ok(broken),
            };
        }
        if let Some(seal) = pending {
            return broken(
                seal.sequence,
                format!(
                    "the log ends before its last event ({}): events were deleted",
                    seal.head.token()
                ),
            );
        }
        if let Some(expected) = expected.filter(|_| !feed.expected_seen) {
            return broken(
                expected.sequence,
                "it is not in the log: the log was cut back".to_owned(),
            );
        }
        Ok(match feed.newest {
            Some((sequence, newest, covered)) => SealReport::Held {
                seals: sequence,
                newest,
                covered,
                after: count - covered,
                signatures: public_key.is_some(),
            },
            None => SealReport::Unsealed { events: count },
        })
    }
}

/// The columns of a seal, as [`seal_of`] reads them.
macro_rules! columns {
    () => {
        "sequence, transaction_id::text::bigint AS transaction_id, position, event_count, \
         digest, sealed_at, public_key, signature"
    };
}

const COLUMNS: &str = columns!();

const SEALS_IN_ORDER: &str = concat!("SELECT ", columns!(), " FROM log_seals ORDER BY sequence");

fn seal_of(row: &sqlx::postgres::PgRow) -> Result<Seal, Error> {
    Ok(Seal {
        sequence: row.try_get("sequence")?,
        head: position(row)?,
        event_count: row.try_get("event_count")?,
        digest: row.try_get("digest")?,
        sealed_at: row.try_get("sealed_at")?,
        public_key: row.try_get("public_key")?,
        signature: row.try_get("signature")?,
    })
}

/// The seals, one at a time, each checked as it comes: numbered without a gap, signed by
/// the key, and the expected one with its digest.
struct Feed<'a, S> {
    seals: std::pin::Pin<Box<S>>,
    /// The number the next seal must carry.
    next: i64,
    public_key: Option<&'a PublicKey>,
    expected: Option<&'a Expected>,
    expected_seen: bool,
    /// The newest seal taken: its number, digest (hex) and event count.
    newest: Option<(i64, String, i64)>,
}

impl<S: futures::Stream<Item = Result<Seal, Error>>> Feed<'_, S> {
    /// The next seal (`None` after the last), or the report of why it does not hold.
    async fn next(&mut self) -> Result<Result<Option<Seal>, SealReport>, Error> {
        let Some(seal) = self.seals.try_next().await? else {
            return Ok(Ok(None));
        };
        match standing(&seal, self.next, self.public_key, self.expected) {
            Ok(expected) => self.expected_seen |= expected,
            Err((sequence, problem)) => return Ok(Err(SealReport::Broken { sequence, problem })),
        }
        self.next += 1;
        self.newest = Some((
            seal.sequence,
            crate::secret_file::hex(&seal.digest),
            seal.event_count,
        ));
        Ok(Ok(Some(seal)))
    }
}
