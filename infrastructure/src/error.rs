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
    /// The database answered with an error or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
