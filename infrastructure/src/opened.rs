//! The database a command works on: a URL, or the embedded cluster under a data directory
//! (created and started on first use), with the migrations applied by the tables' owner and
//! the server's own login made.

use std::path::Path;

use sqlx::PgPool;

use crate::{DatabaseOptions, EmbeddedPostgres, Error};

/// A database ready for use; holds the embedded cluster (if any) until dropped or stopped.
pub struct Database {
    /// Its URL, as the server's login. The owner's URL is not kept.
    pub url: String,
    embedded: Option<EmbeddedPostgres>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL carries the login's password.
        f.debug_struct("Database")
            .field("embedded", &self.embedded)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Uses `url` (the server's login), or starts (creating it the first time) the embedded
    /// cluster under `data_dir`, and brings the database up to date:
    /// - embedded: the superuser applies the migrations and makes the server's login
    ///   ([`crate::embedded::LOGIN_ROLE`]); `url` is that login's;
    /// - `url` with `owner_url`: the owner applies the migrations and, when `url` names
    ///   another role, makes it the server's login ([`crate::login::provision`]);
    /// - `url` alone: pending migrations are applied as that login, which must then be the
    ///   owner.
    ///
    /// # Errors
    /// What failed: the cluster, the database, the login or the migrations.
    pub async fn open(
        url: Option<String>,
        owner_url: Option<String>,
        data_dir: &Path,
    ) -> Result<Self, Error> {
        match (url, owner_url) {
            (None, Some(_)) => Err(Error::Login(
                "an owner URL is for a database given by URL too (--database-url); the \
                 embedded cluster has its own"
                    .into(),
            )),
            (None, None) => {
                let cluster = EmbeddedPostgres::start(data_dir).await?;
                tracing::info!(
                    data_dir = %cluster.data_dir().display(),
                    port = cluster.port(),
                    "embedded PostgreSQL started"
                );
                let owner = ensure_database(&cluster).await?;
                crate::migrate(&owner).await?;
                let url = cluster.login_url("domainflow");
                crate::login::provision(&owner, &url).await?;
                Ok(Self {
                    url,
                    embedded: Some(cluster),
                })
            }
            (Some(url), Some(owner)) => {
                crate::migrate(&owner).await?;
                if user_of(&url)? != user_of(&owner)? {
                    crate::login::provision(&owner, &url).await?;
                }
                Ok(Self {
                    url,
                    embedded: None,
                })
            }
            (Some(url), None) => {
                crate::database::migrate_if_needed(&url).await?;
                Ok(Self {
                    url,
                    embedded: None,
                })
            }
        }
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

/// The role a database URL logs in as.
fn user_of(url: &str) -> Result<String, Error> {
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    Ok(options.get_username().to_owned())
}

/// The `domainflow` database of the embedded cluster, created on first use; its URL as the
/// owner.
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
