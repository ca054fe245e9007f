//! The database `serve` and `migrate` use: a URL, or the embedded cluster.

use std::future::Future;
use std::path::Path;

use infrastructure::{DatabaseOptions, EmbeddedPostgres};
use sqlx::PgPool;

use super::settings::default_data_dir;
use super::{DatabaseArgs, FileSettings};

/// A database ready for use; holds the embedded cluster (if any) until dropped or stopped.
#[derive(Debug)]
pub struct Database {
    /// Its URL.
    pub url: String,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Uses `url`, or starts (creating it the first time) the embedded cluster under
    /// `data_dir`, then applies the migrations.
    ///
    /// # Errors
    /// A message naming what failed and how to fix it.
    pub async fn open(url: Option<String>, data_dir: &Path) -> Result<Self, String> {
        let (url, embedded) = match url {
            Some(url) => (url, None),
            None => {
                let cluster = EmbeddedPostgres::start(data_dir)
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!(
                    data_dir = %cluster.data_dir().display(),
                    port = cluster.port(),
                    "embedded PostgreSQL started"
                );
                let url = ensure_database(&cluster).await?;
                (url, Some(cluster))
            }
        };
        infrastructure::migrate(&url)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self { url, embedded })
    }

    /// Where the embedded cluster keeps its data, if one is used.
    #[must_use]
    pub fn embedded_dir(&self) -> Option<&Path> {
        self.embedded.as_ref().map(EmbeddedPostgres::data_dir)
    }

    /// Stops the embedded cluster, if any.
    pub async fn close(self) {
        if let Some(cluster) = self.embedded
            && let Err(error) = cluster.stop().await
        {
            tracing::warn!(%error, "stopping the embedded PostgreSQL");
        }
    }
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
    let data_dir = args
        .data_dir
        .or(file.data_dir)
        .unwrap_or_else(default_data_dir);
    let database = Database::open(args.database_url.or(file.database_url), &data_dir).await?;
    let outcome = async {
        let pool = infrastructure::connect(&database.url, &DatabaseOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        let outcome = work(pool.clone()).await;
        pool.close().await;
        outcome
    }
    .await;
    database.close().await;
    outcome
}

/// The `domainflow` database of the embedded cluster, created on first use.
async fn ensure_database(cluster: &EmbeddedPostgres) -> Result<String, String> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres"))
        .await
        .map_err(|e| e.to_string())?;
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'domainflow')",
    )
    .fetch_one(&mut admin)
    .await
    .map_err(|e| e.to_string())?;
    drop(admin);
    if exists {
        Ok(cluster.url("domainflow"))
    } else {
        cluster
            .create_database("domainflow")
            .await
            .map_err(|e| e.to_string())
    }
}
