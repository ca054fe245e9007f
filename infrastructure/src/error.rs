//! The infrastructure layer's one error type.

use std::path::PathBuf;

/// Everything that can go wrong below the application layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither a database URL nor PostgreSQL server binaries are available.
    #[error(
        "no PostgreSQL to use: set DATABASE_URL (or --database-url) to a running server, \
         or install the PostgreSQL server package (initdb, pg_ctl, postgres on PATH or under \
         /usr/lib/postgresql/*/bin) so domainflow can start its own cluster"
    )]
    NoPostgres,
    /// The embedded cluster could not be created, started or stopped.
    #[error("embedded PostgreSQL in {dir}: {message}")]
    Embedded {
        /// The cluster's data directory.
        dir: PathBuf,
        /// What failed, with the tool's own output where there is one.
        message: String,
    },
    /// A file system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The stream is no longer at the version the command was decided on.
    #[error("concurrency conflict on {stream}: it is no longer at version {expected_version}")]
    Conflict {
        /// The stream, `type/id`.
        stream: String,
        /// The version the command expected.
        expected_version: i64,
    },
    /// The command id was already applied; nothing was appended.
    #[error("command {command_id} was already applied")]
    DuplicateCommand {
        /// The command id.
        command_id: uuid::Uuid,
    },
    /// The sealer refuses to go on from a last seal it cannot vouch for.
    #[error("refusing to seal the log: {0}")]
    SealRefused(String),
    /// An append carried no events.
    #[error("an append needs at least one event")]
    NothingToAppend,
    /// A value could not be serialised for storage.
    #[error("encoding: {0}")]
    Encode(String),
    /// The database answered with an error or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The configured JWT secret is shorter than 32 bytes.
    #[error("the JWT secret must be at least 32 bytes")]
    WeakSecret,
    /// The configured JWT secret is not hex.
    #[error(
        "the JWT secret must be hex, as in the data directory's jwt-secret file (64 or more \
         hex digits); to keep a secret given as text, give its hex: printf %s \"$SECRET\" | \
         od -An -tx1 | tr -d ' \\n'"
    )]
    SecretNotHex,
    /// The key set for verifying tokens is malformed.
    #[error("JWT key set: {0}")]
    KeySet(String),
    /// Applying the embedded migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Migrations are pending and the login given may not apply them.
    #[error(
        "{pending} database migration(s) pending and the login {login} may not apply them: run \
         `domainflow migrate --owner-url OWNER_URL --database-url LOGIN_URL`, or give the \
         server --owner-url (DATABASE_OWNER_URL) too"
    )]
    MigrationsPending {
        /// How many are pending.
        pending: usize,
        /// The login that may not apply them.
        login: String,
    },
    /// The role a database URL names cannot be made or used as the server's login, or the
    /// URLs given do not go together.
    #[error("the database login: {0}")]
    Login(String),
}

impl Error {
    /// Whether the database could not be reached, rather than refusing the request: the
    /// connection failed or was lost (SQLSTATE classes 08 and 57, I/O, protocol), or no
    /// connection could be had in time.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(error) => unreachable_database(error),
            _ => false,
        }
    }
}

/// Whether `error` says the database could not be reached (see [`Error::is_unavailable`]).
#[must_use]
pub fn unreachable_database(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(error) => error
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}
