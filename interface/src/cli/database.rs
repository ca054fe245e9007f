//! The database an operator command names: `--database-url`, or the embedded cluster under
//! `--data-dir` (flags over the settings file over the defaults).

use std::future::Future;

use infrastructure::Database;
use sqlx::PgPool;

use super::settings::default_data_dir;
use super::{DatabaseArgs, FileSettings};

/// Opens the database `args` (over the settings `file`) name, migrated.
///
/// # Errors
/// Why it could not be opened.
pub async fn open(args: DatabaseArgs, file: FileSettings) -> Result<Database, String> {
    let data_dir = args
        .data_dir
        .or(file.data_dir)
        .unwrap_or_else(default_data_dir);
    Database::open(
        args.database_url.or(file.database_url),
        args.owner_url.or(file.database_owner_url),
        &data_dir,
    )
    .await
    .map_err(|e| e.to_string())
}

/// Runs `work` with a pool on the database that `args` (over the settings `file`) name,
/// then closes the pool and the embedded cluster, if one was started: what every operator
/// command that reads the database does.
///
/// # Errors
/// Why the database could not be opened, or `work`'s error.
pub async fn with_pool<T, F, Fut>(
    args: DatabaseArgs,
    file: FileSettings,
    work: F,
) -> Result<T, String>
where
    F: FnOnce(PgPool) -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let database = open(args, file).await?;
    let outcome = async {
        let pool = database.pool().await.map_err(|e| e.to_string())?;
        let outcome = work(pool.clone()).await;
        pool.close().await;
        outcome
    }
    .await;
    database.close().await;
    outcome
}
