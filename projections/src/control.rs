//! The read side as operators steer it: [`ProjectionControl`] over the projections of
//! [`Projections::all`], their checkpoints and their rebuilds.

use std::sync::Arc;

use application::EventStore;
use application::operations::{self, ProjectionControl, ProjectionStatus, RebuildRun};
use async_trait::async_trait;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::{Error, Projections, Rebuild, RebuildOptions};

/// The projections in `pool`'s database, rebuilt from `store`.
#[derive(Clone)]
pub struct Control {
    pool: PgPool,
    store: Arc<dyn EventStore>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control").finish_non_exhaustive()
    }
}

impl Control {
    /// Control of the projections kept in `pool`'s database.
    #[must_use]
    pub fn new(pool: PgPool, store: Arc<dyn EventStore>) -> Self {
        Self { pool, store }
    }
}

#[async_trait]
impl ProjectionControl for Control {
    fn names(&self) -> Vec<&'static str> {
        Projections::all().iter().map(|p| p.name()).collect()
    }

    async fn statuses(&self) -> Result<Vec<ProjectionStatus>, application::Error> {
        Ok(crate::status(&self.pool).await?)
    }

    async fn start_rebuild(&self, name: &str) -> Result<Box<dyn RebuildRun>, application::Error> {
        let projection = Projections::named(name).ok_or_else(|| application::Error::NotFound {
            what: format!("projection {name:?}"),
        })?;
        let store = Arc::clone(&self.store);
        let rebuild =
            Rebuild::start(&self.pool, store, projection, RebuildOptions::default()).await?;
        Ok(Box::new(rebuild))
    }

    async fn resume(&self, name: &str) -> Result<bool, application::Error> {
        if !crate::followers().iter().any(|known| known == name) {
            return Err(application::Error::NotFound {
                what: format!("projection {name:?}"),
            });
        }
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        Ok(crate::checkpoint::resume(&mut conn, name).await?)
    }
}

#[async_trait]
impl RebuildRun for Rebuild {
    fn name(&self) -> &'static str {
        Self::name(self)
    }

    async fn run(
        self: Box<Self>,
        progress: operations::Progress<'_>,
        stop: watch::Receiver<bool>,
    ) -> Result<operations::Rebuilt, application::Error> {
        let rebuilt = Self::run(*self, |p| progress(p.applied, p.total), stop).await?;
        Ok(operations::Rebuilt {
            applied: rebuilt.applied,
            position: rebuilt.position,
        })
    }
}

impl From<Error> for application::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Application(error) => error,
            Error::RebuildRunning(_) | Error::RebuildStopped(_) => Self::Busy(error.to_string()),
            other if other.is_connection_lost() => Self::Unavailable(other.to_string()),
            other => Self::Infrastructure(other.to_string()),
        }
    }
}
