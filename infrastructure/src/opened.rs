//! The database a command works on: a URL, or the embedded cluster under a data directory
//! (created and started on first use), with the migrations applied.

use std::path::Path;

use sqlx::PgPool;

use crate::{DatabaseOptions, EmbeddedPostgres, Error};

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
    /// What failed: the cluster, the database or the migrations.
    pub async fn open(url: Option<String>, data_dir: &Path) -> Result<Self, Error> {
        let (url, embedded) = match url {
            Some(url) => (url, None),
            None => {
                let cluster = EmbeddedPostgres::start(data_dir).await?;
                tracing::info!(
                    data_dir = %cluster.data_dir().display(),
                    port = cluster.port(),
                    "embedded PostgreSQL started"
                );
                let url = ensure_database(&cluster).await?;
                (url, Some(cluster))
            }
        };
        crate::migrate(&url).await?;
        Ok(Self { url, embedded })
    }

    /// Where the embedded cluster keeps its data, if one is used.
    #[must_use]
    pub fn embedded_dir(&self) -> Option<&Path> {
        self.embedded.as_ref().map(EmbeddedPostgres::data_dir)
    }

    /// A pool on it, with the default options.
    ///
    /// # Errors
    /// [`Error::Database`] when it cannot be reached.
    pub async fn pool(&self) -> Result<PgPool, Error> {
        crate::connect(&self.url, &DatabaseOptions::default()).await
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

/// The `domainflow` database of the embedded cluster, created on first use.
async fn ensure_database(cluster: &EmbeddedPostgres) -> Result<String, Error> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres")).await?;
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'domainflow')",
    )
    .fetch_one(&mut admin)
    .await?;
    drop(admin);
    if exists {
        Ok(cluster.url("domainflow"))
    } else {
        cluster.create_database("domainflow").await
    }
}
