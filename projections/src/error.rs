//! The projection layer's one error type.

use application::event_log::Position;

/// Why a projection could not go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The read-model database failed (or the worker's connection was lost).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The event log could not be read, or a stored event does not decode.
    #[error(transparent)]
    Application(#[from] application::Error),
    /// A stored value does not fit the read model (an id that is not a UUID, a count that
    /// overflows).
    #[error("unexpected stored value: {0}")]
    Unexpected(String),
    /// A handler failed on one event; the checkpoint stays before it.
    #[error("{projection} failed on {stream} version {version} ({event_type}, position {}): {cause}", position.token())]
    Handler {
        /// The projection.
        projection: &'static str,
        /// Where the event sits in the global order.
        position: Position,
        /// Its stream, `type/id`.
        stream: String,
        /// Its version in the stream.
        version: i64,
        /// Its type.
        event_type: String,
        /// What went wrong.
        cause: Box<Error>,
    },
    /// Another worker advanced the checkpoint first: this worker's view is stale.
    #[error("the checkpoint of {0} moved under this worker")]
    CheckpointMoved(&'static str),
    /// Another runner took over (its epoch is newer): this runner must stop acting.
    #[error("another {0} runner took over; this one stops")]
    Fenced(&'static str),
    /// A rebuild of this projection is already running (in this or another process).
    #[error("a rebuild of {0} is already running")]
    RebuildRunning(&'static str),
    /// The rebuild stopped because the process shuts down; the live tables are untouched.
    #[error("the rebuild of {0} stopped before it finished")]
    RebuildStopped(&'static str),
    /// The projection is parked after repeated failures and waits for an operator.
    #[error("projection {name} is parked: {error}")]
    Parked {
        /// The projection.
        name: &'static str,
        /// The failure that parked it.
        error: String,
    },
}

impl Error {
    /// Whether the failure is the connection's (worth reconnecting) rather than the data's.
    #[must_use]
    pub fn is_connection_lost(&self) -> bool {
        match self {
            // SQLSTATE classes 08 (connection exception) and 57 (operator intervention,
            // e.g. the backend was terminated).
            Self::Database(sqlx::Error::Database(error)) => error
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
            Self::Database(error) => matches!(
                error,
                sqlx::Error::Io(_)
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::WorkerCrashed
            ),
            Self::Handler { cause, .. } => cause.is_connection_lost(),
            _ => false,
        }
    }
}
