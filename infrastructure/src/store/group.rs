//! Group commit of appends: appends that reach the store while another statement is being
//! written wait for it, then go out together in one statement (`append_group.sql`), each
//! still checked against its own stream's head. A lone append goes out at once, alone.
//!
//! The result of each append is what it would have been alone: appended, or a conflict when
//! its stream moved on. When the group's statement fails on one member's collision (a
//! repeated command id, a race with another process at the same version), nothing was
//! written, and every append of the group is written again alone to learn its own outcome;
//! any other failure (a lost connection) is every member's, outcome unknown.
//!
//! Events are inserted in stream order, so two processes' groups lock index entries in the
//! same order and cannot deadlock each other.

use std::sync::OnceLock;

use application::event_log::{Appended, Position};
use sqlx::{PgPool, Row};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::append::{Prepared, append_one, conflict, transaction_id};
use crate::Error;

const APPEND_GROUP: &str = include_str!("../sql/append_group.sql");

/// Most appends written in one statement.
const MOST: usize = 64;

type Outcome = Result<(Appended, Vec<u8>), Error>;
type Waiting = (Prepared, oneshot::Sender<Outcome>);

/// The appends of one store waiting to be written. See the module documentation.
#[derive(Debug, Default)]
pub(super) struct Group {
    /// The writer task, started by the first append (it needs a runtime).
    queue: OnceLock<mpsc::UnboundedSender<Waiting>>,
}

impl Group {
    /// Writes `prepared` through `pool`, with whatever other appends wait meanwhile.
    pub(super) async fn append(&self, pool: &PgPool, prepared: Prepared) -> Outcome {
        let queue = self.queue.get_or_init(|| start(pool.clone()));
        let (reply, answer) = oneshot::channel();
        match queue.send((prepared, reply)) {
            // A writer that stopped mid-append leaves its outcome unknown, like a connection
            // lost mid-statement (the command id settles it when the command is sent again).
            Ok(()) => answer
                .await
                .map_err(|_| Error::Database(sqlx::Error::WorkerCrashed))?,
            // The writer's runtime is gone (a store outliving the runtime that first used
            // it): write alone.
            Err(mpsc::error::SendError((prepared, _))) => append_one(pool, &prepared).await,
        }
    }
}

/// Starts the writer task over `pool`.
fn start(pool: PgPool) -> mpsc::UnboundedSender<Waiting> {
    let (queue, mut waiting) = mpsc::unbounded_channel::<Waiting>();
    tokio::spawn(async move {
        let mut group = Vec::with_capacity(MOST);
        while let Some(first) = waiting.recv().await {
            group.push(first);
            while group.len() < MOST {
                let Ok(next) = waiting.try_recv() else {
                    break;
                };
                group.push(next);
            }
            if group.len() == 1 {
                for (prepared, reply) in group.drain(..) {
                    let _ = reply.send(append_one(&pool, &prepared).await);
                }
                continue;
            }
            let prepared: Vec<&Prepared> = group.iter().map(|(p, _)| p).collect();
            match append_all(&pool, &prepared).await {
                Ok(outcomes) => {
                    for ((_, reply), outcome) in group.drain(..).zip(outcomes) {
                        let _ = reply.send(outcome);
                    }
                }
                // One member's collision (a repeated command id, another process at the
                // same version, two members on one stream) failed the whole group, and
                // nothing of it was written: each member alone learns its own outcome.
                Err(error) if collided(&error) => {
                    tracing::debug!(%error, appends = group.len(), "group append collided; appending each alone");
                    let alone = group.drain(..).map(|(prepared, reply)| {
                        let pool = &pool;
                        async move {
                            let _ = reply.send(append_one(pool, &prepared).await);
                        }
                    });
                    futures::future::join_all(alone).await;
                }
                // Anything else (a lost connection) leaves the outcome unknown, as it would
                // for each append alone: every member is told so, and the command ids settle
                // it when the commands are sent again.
                Err(error) => {
                    let mut replies = group.drain(..).map(|(_, reply)| reply);
                    let first = replies.next();
                    for reply in replies {
                        let _ = reply.send(Err(again(&error)));
                    }
                    if let Some(first) = first {
                        let _ = first.send(Err(error));
                    }
                }
            }
        }
    });
    queue
}

/// Whether a group's statement failed on a collision of one member (a unique violation, a
/// deadlock, a serialization failure), having written nothing.
fn collided(error: &Error) -> bool {
    matches!(
        error,
        Error::Database(sqlx::Error::Database(db))
            if matches!(db.code().as_deref(), Some("23505" | "40P01" | "40001"))
    )
}

/// The failure of a group's statement, for a member other than the first: of the same kind
/// (unreachable database or not), with the same message.
fn again(error: &Error) -> Error {
    let message = format!("a group append failed: {error}");
    if error.is_unavailable() {
        Error::Database(sqlx::Error::Io(std::io::Error::other(message)))
    } else {
        Error::Database(sqlx::Error::Protocol(message))
    }
}

/// Writes `group` in one statement: each append's outcome, in order.
async fn append_all(pool: &PgPool, group: &[&Prepared]) -> Result<Vec<Outcome>, Error> {
    let count = group.len();
    let index = |i: usize| i32::try_from(i).unwrap_or(i32::MAX);
    let mut commands = Commands::with_capacity(count);
    let mut events = Events::default();
    for (i, prepared) in group.iter().enumerate() {
        let append = &prepared.append;
        let snapshot = append.snapshot.as_ref();
        commands.index.push(index(i));
        commands
            .stream_type
            .push(append.stream.stream_type.as_str());
        commands.stream_id.push(append.stream.stream_id.as_str());
        commands.expected.push(append.expected_version);
        commands.head_hash.push(prepared.head_hash.as_slice());
        commands.metadata.push(&prepared.metadata);
        commands.recorded_at.push(prepared.recorded_at);
        commands.command_id.push(append.metadata.command_id);
        commands
            .snapshot_schema
            .push(snapshot.map(|s| s.schema_version));
        commands.snapshot_state.push(snapshot.map(|s| &s.state));
        commands.snapshot_version.push(snapshot.map(|s| s.version));
        commands
            .new_head
            .push(prepared.hashes.last().map_or(&[][..], Vec::as_slice));
        for (n, event) in append.events.iter().enumerate() {
            events.index.push(index(i));
            events.id.push(event.event_id);
            events.event_type.push(event.event_type.as_str());
            events.event_version.push(event.event_version);
            events.payload.push(&event.payload);
            events.prev_hash.push(prepared.prev_hashes[n].as_slice());
            events.hash.push(prepared.hashes[n].as_slice());
            events.n.push(i64::try_from(n).unwrap_or(i64::MAX) + 1);
        }
    }
    let rows = sqlx::query(APPEND_GROUP)
        .bind(&commands.index)
        .bind(&commands.stream_type)
        .bind(&commands.stream_id)
        .bind(&commands.expected)
        .bind(&commands.head_hash)
        .bind(&commands.metadata)
        .bind(&commands.recorded_at)
        .bind(&commands.command_id)
        .bind(&commands.snapshot_schema)
        .bind(&commands.snapshot_state)
        .bind(&commands.snapshot_version)
        .bind(&commands.new_head)
        .bind(&events.index)
        .bind(&events.id)
        .bind(&events.event_type)
        .bind(&events.event_version)
        .bind(&events.payload)
        .bind(&events.prev_hash)
        .bind(&events.hash)
        .bind(&events.n)
        .fetch_all(pool)
        .await?;
    let mut outcomes: Vec<Option<Appended>> = vec![None; count];
    for row in rows {
        let i: i32 = row.try_get("i")?;
        let appended = Appended {
            version: row.try_get("version")?,
            position: Position {
                transaction_id: transaction_id(row.try_get("transaction_id")?),
                position: row.try_get("position")?,
            },
        };
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| outcomes.get_mut(i)) {
            *slot = Some(appended);
        }
    }
    Ok(outcomes
        .into_iter()
        .zip(group)
        .map(|(appended, prepared)| match appended {
            Some(appended) => Ok((appended, prepared.new_head())),
            // Its head guard let nothing through: the stream moved on.
            None => Err(conflict(&prepared.append)),
        })
        .collect())
}

/// The per-command columns of a group append.
#[derive(Default)]
struct Commands<'a> {
    index: Vec<i32>,
    stream_type: Vec<&'a str>,
    stream_id: Vec<&'a str>,
    expected: Vec<i64>,
    head_hash: Vec<&'a [u8]>,
    metadata: Vec<&'a serde_json::Value>,
    recorded_at: Vec<chrono::DateTime<chrono::Utc>>,
    command_id: Vec<Uuid>,
    snapshot_schema: Vec<Option<i32>>,
    snapshot_state: Vec<Option<&'a serde_json::Value>>,
    snapshot_version: Vec<Option<i64>>,
    new_head: Vec<&'a [u8]>,
}

impl Commands<'_> {
    fn with_capacity(count: usize) -> Self {
        Self {
            index: Vec::with_capacity(count),
            ..Self::default()
        }
    }
}

/// The per-event columns of a group append.
#[derive(Default)]
struct Events<'a> {
    index: Vec<i32>,
    id: Vec<Uuid>,
    event_type: Vec<&'a str>,
    event_version: Vec<i32>,
    payload: Vec<&'a serde_json::Value>,
    prev_hash: Vec<&'a [u8]>,
    hash: Vec<&'a [u8]>,
    n: Vec<i64>,
}
