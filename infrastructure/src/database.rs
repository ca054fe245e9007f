//! Connecting to PostgreSQL and applying the embedded migrations.

use std::time::Duration;

use sqlx::Executor;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::Error;

/// The SQL migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// The role the server works as once migrations have run: it may read and append events,
/// never update or delete them (see the first migration).
pub const APP_ROLE: &str = "domainflow_app";

/// How to connect.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long to wait for a free connection before failing.
    pub acquire_timeout: Duration,
    /// Whether each connection switches to [`APP_ROLE`] (when the login role may), so the
    /// server itself cannot change the event log.
    pub assume_app_role: bool,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
            assume_app_role: true,
        }
    }
}

/// Opens a connection pool to `url`.
///
/// # Errors
/// [`Error::Database`] when the URL is malformed or the server cannot be reached.
pub async fn connect(url: &str, options: &DatabaseOptions) -> Result<PgPool, Error> {
    let connect: PgConnectOptions = url.parse::<PgConnectOptions>()?;
    let assume = options.assume_app_role;
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        // No liveness ping as a connection is handed out: sqlx already pings each one as it
        // comes back. Transactions begin through `projections::transaction`, which a cancel
        // cannot leave open (sqlx issue 4393).
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if assume {
                    // Only when the login role may: a restricted login already is what it is.
                    conn.execute(
                        "DO $$ BEGIN
                           IF pg_has_role(current_user, 'domainflow_app', 'MEMBER') THEN
                             SET ROLE domainflow_app;
                           END IF;
                         END $$",
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .connect_with(connect)
        .await?;
    Ok(pool)
}

/// Applies every migration not yet applied. Safe to run from several processes at once
/// (sqlx takes an advisory lock).
///
/// # Errors
/// [`Error::Migrate`] when a migration fails or an applied one was edited.
pub async fn migrate(url: &str) -> Result<(), Error> {
    // Migrations run as the login role (the owner), never as the restricted app role.
    let pool = connect(
        url,
        &DatabaseOptions {
            max_connections: 1,
            assume_app_role: false,
            ..DatabaseOptions::default()
        },
    )
    .await?;
    MIGRATOR.run(&pool).await?;
    pool.close().await;
    Ok(())
}
