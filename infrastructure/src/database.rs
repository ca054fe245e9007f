//! Connecting to PostgreSQL and applying the embedded migrations.

use std::time::Duration;

use sqlx::Executor;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::Error;

/// The SQL migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// The group role whose privileges the server's login holds: it may read and append events,
/// never update or delete them (see the first migration), and keeps the read models.
pub const APP_ROLE: &str = "domainflow_app";

/// How to connect.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long to wait for a free connection before failing.
    pub acquire_timeout: Duration,
    /// Whether each connection switches to [`APP_ROLE`] (when the login role may). A login
    /// made by [`crate::login::provision`] has no more than that role anyway; for a more
    /// powerful login (the owner's, given as the server's only URL) it is a second line of
    /// defence that any statement could undo, which is why the server warns about such a login.
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

/// Applies every migration not yet applied, working as the login `url` names (the tables'
/// owner). Safe to run from several processes at once (sqlx takes an advisory lock).
///
/// # Errors
/// [`Error::Migrate`] when a migration fails or an applied one was edited.
pub async fn migrate(url: &str) -> Result<(), Error> {
    let pool = owner_pool(url).await?;
    let outcome = MIGRATOR.run(&pool).await;
    pool.close().await;
    Ok(outcome?)
}

/// Applies the pending migrations, if any, as the login `url` names: a login that owns
/// nothing may start a server on an up-to-date database, but not migrate one.
///
/// # Errors
/// [`Error::MigrationsPending`] when migrations are pending and the login may not apply
/// them; [`Error::Migrate`] when one fails otherwise.
pub async fn migrate_if_needed(url: &str) -> Result<(), Error> {
    let pool = owner_pool(url).await?;
    let outcome = async {
        let pending = pending_migrations(&pool).await?;
        if pending == 0 {
            return Ok(());
        }
        match MIGRATOR.run(&pool).await {
            Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(error)))
                if error.code().as_deref() == Some("42501") =>
            {
                Err(Error::MigrationsPending {
                    pending,
                    login: crate::login::login_name(&pool).await?,
                })
            }
            outcome => Ok(outcome?),
        }
    }
    .await;
    pool.close().await;
    outcome
}

/// How many of the embedded migrations the database of `pool` has not applied.
///
/// # Errors
/// [`Error::Migrate`] when an applied migration differs from the embedded one (it was
/// edited after it ran); [`Error::Database`] when the history cannot be read.
pub async fn pending_migrations(pool: &PgPool) -> Result<usize, Error> {
    let applied: Vec<(i64, Vec<u8>)> = if sqlx::query_scalar::<_, bool>(
        "SELECT to_regclass('public._sqlx_migrations') IS NOT NULL",
    )
    .fetch_one(pool)
    .await?
    {
        sqlx::query_as("SELECT version, checksum FROM public._sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    let mut pending = 0;
    for migration in MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
    {
        match applied
            .iter()
            .find(|(version, _)| *version == migration.version)
        {
            Some((_, checksum)) if *checksum != *migration.checksum => {
                return Err(Error::Migrate(
                    sqlx::migrate::MigrateError::VersionMismatch(migration.version),
                ));
            }
            Some(_) => {}
            None => pending += 1,
        }
    }
    Ok(pending)
}

/// One connection as the login `url` names, without switching to [`APP_ROLE`].
async fn owner_pool(url: &str) -> Result<PgPool, Error> {
    connect(
        url,
        &DatabaseOptions {
            max_connections: 1,
            assume_app_role: false,
            ..DatabaseOptions::default()
        },
    )
    .await
}
