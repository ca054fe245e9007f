//! Rebuilding a projection without downtime.
//!
//! The shadow copies of a projection's tables (schema `read_model_shadow`, from the
//! migrations) are emptied and filled from the start of the log while the live tables keep
//! serving, on a connection whose `search_path` puts the shadow schema first, so the
//! projection's own code writes them. Once caught up with the log, one transaction stops
//! the live worker (it locks the live tables against writes and the checkpoint row),
//! applies the last events, swaps the two copies and moves the checkpoint to the last event
//! applied: the live worker then goes on from exactly there, so no event is missed or
//! applied twice. Readers are never blocked for longer than the swap itself.

use std::sync::Arc;

use application::EventStore;
use application::event_log::{Position, RecordedEvent};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::sync::watch;

use crate::projection::apply_naming;
use crate::{Error, Follower, Projection, checkpoint};

/// The schema holding the shadow copies of the read-model tables.
pub const SHADOW_SCHEMA: &str = "read_model_shadow";

/// How a rebuild paces itself.
#[derive(Debug, Clone)]
pub struct RebuildOptions {
    /// Most events applied in one transaction.
    pub batch_size: i64,
    /// Most batches applied inside the swap transaction, when writes keep arriving: past
    /// them the live worker applies the rest.
    pub final_batches: u32,
}

impl Default for RebuildOptions {
    fn default() -> Self {
        Self {
            batch_size: 2000,
            final_batches: 5,
        }
    }
}

/// How far a rebuild has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Events of the log applied to the shadow tables so far.
    pub applied: u64,
    /// Events in the log (counted at the start; raised when the log grew past it).
    pub total: u64,
}

/// A finished rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// The checkpoint the live worker goes on from.
    pub position: Position,
    /// Events applied.
    pub applied: u64,
}

/// A started rebuild of one projection: it holds the projection's rebuild lock until it
/// finishes or is dropped.
pub struct Rebuild {
    projection: Arc<dyn Projection>,
    log: Follower,
    conn: PgConnection,
    options: RebuildOptions,
    total: u64,
}

impl std::fmt::Debug for Rebuild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rebuild")
            .field("projection", &self.projection.name())
            .field("options", &self.options)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl Rebuild {
    /// Takes the projection's rebuild lock, empties its shadow tables and records the
    /// rebuild as running (for `projections status`).
    ///
    /// # Errors
    /// [`Error::RebuildRunning`] when another rebuild of it holds the lock;
    /// [`Error::Database`], also when its shadow tables differ from the live ones.
    pub async fn start(
        pool: &PgPool,
        store: Arc<dyn EventStore>,
        projection: Arc<dyn Projection>,
        options: RebuildOptions,
    ) -> Result<Self, Error> {
        let mut conn = pool.acquire().await?.detach();
        let name = projection.name();
        let started = async {
            let locked: bool =
                sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext('rebuild:' || $1))")
                    .bind(name)
                    .fetch_one(&mut conn)
                    .await?;
            if !locked {
                return Err(Error::RebuildRunning(name));
            }
            // Unqualified table names now mean the shadow copies on this connection.
            conn.execute(format!("SET search_path TO {SHADOW_SCHEMA}, public").as_str())
                .await?;
            sqlx::query("SELECT read_model_clear_shadow($1)")
                .bind(projection.tables())
                .execute(&mut conn)
                .await?;
            let total: i64 = sqlx::query_scalar("SELECT count(*) FROM public.events")
                .fetch_one(&mut conn)
                .await?;
            sqlx::query(
                "INSERT INTO public.projection_rebuilds (name, backend_pid, total)
                 VALUES ($1, pg_backend_pid(), $2)
                 ON CONFLICT (name) DO UPDATE SET backend_pid = pg_backend_pid(),
                     transaction_id = '0', position = 0, applied = 0, total = $2,
                     started_at = now(), updated_at = now()",
            )
            .bind(name)
            .bind(total)
            .execute(&mut conn)
            .await?;
            Ok(u64::try_from(total).unwrap_or(0))
        }
        .await;
        match started {
            Ok(total) => Ok(Self {
                log: Follower::reader(store).bodies_of(projection.follows()),
                projection,
                conn,
                options,
                total,
            }),
            Err(error) => {
                let _ = conn.close().await;
                Err(error)
            }
        }
    }

    /// The projection rebuilt.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.projection.name()
    }

    /// Fills the shadow tables from the start of the log, calling `progress` after every
    /// batch, then swaps them in (see the module's overview). The live tables are not
    /// touched before the swap, so a failure leaves them serving as they were.
    ///
    /// # Errors
    /// [`Error::Handler`] when an event fails to apply; [`Error::RebuildStopped`] when
    /// `shutdown` turns true first; [`Error::Database`]; [`Error::Application`] when the log
    /// cannot be read.
    #[tracing::instrument(skip_all, fields(projection = self.name()))]
    pub async fn run(
        mut self,
        mut progress: impl FnMut(Progress) + Send,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Rebuilt, Error> {
        let outcome = self.fill_and_swap(&mut progress, &shutdown).await;
        if outcome.is_ok() {
            // The old live rows are garbage now; a later rebuild would empty them anyway.
            if let Err(error) = sqlx::query("SELECT read_model_clear_shadow($1)")
                .bind(self.projection.tables())
                .execute(&mut self.conn)
                .await
            {
                tracing::warn!(%error, "emptying the replaced tables");
            }
        } else {
            let _ = sqlx::query("DELETE FROM public.projection_rebuilds WHERE name = $1")
                .bind(self.name())
                .execute(&mut self.conn)
                .await;
        }
        // Closing the session releases the rebuild lock.
        let _ = self.conn.close().await;
        outcome
    }

    async fn fill_and_swap(
        &mut self,
        progress: &mut (impl FnMut(Progress) + Send),
        shutdown: &watch::Receiver<bool>,
    ) -> Result<Rebuilt, Error> {
        let name = self.name();
        let mut position = Position::START;
        let mut applied = 0_u64;
        progress(self.progress(applied));
        loop {
            if *shutdown.borrow() {
                return Err(Error::RebuildStopped(name));
            }
            let events = self.log.read(position, self.options.batch_size).await?;
            let caught_up = events.len() < usize::try_from(self.options.batch_size).unwrap_or(0);
            if !events.is_empty() {
                position = self.apply(position, &events).await?;
                applied += events.len() as u64;
                progress(self.progress(applied));
            }
            if caught_up {
                break;
            }
        }
        let (position, applied) = self.swap(position, applied).await?;
        progress(self.progress(applied));
        tracing::info!(applied, "rebuild swapped in");
        Ok(Rebuilt { position, applied })
    }

    fn progress(&mut self, applied: u64) -> Progress {
        self.total = self.total.max(applied);
        Progress {
            applied,
            total: self.total,
        }
    }

    /// Applies `events` to the shadow tables and records the progress, in one transaction.
    async fn apply(&mut self, from: Position, events: &[RecordedEvent]) -> Result<Position, Error> {
        let name = self.projection.name();
        let mut tx = self.conn.begin().await?;
        apply_naming(self.projection.as_ref(), &mut tx, events).await?;
        let to = events.last().map_or(from, |e| e.position);
        sqlx::query(
            "UPDATE public.projection_rebuilds
             SET transaction_id = $2::text::xid8, position = $3, applied = applied + $4,
                 total = greatest(total, applied + $4), updated_at = now()
             WHERE name = $1",
        )
        .bind(name)
        .bind(to.transaction_id.to_string())
        .bind(to.position)
        .bind(i64::try_from(events.len()).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(to)
    }

    /// The swap transaction: stops the live worker, applies what is left of the log, swaps
    /// the tables and hands the checkpoint over. Returns the checkpoint and the events
    /// applied in all.
    async fn swap(
        &mut self,
        mut position: Position,
        mut applied: u64,
    ) -> Result<(Position, u64), Error> {
        let name = self.projection.name();
        let tables = self.projection.tables();
        let mut tx = self.conn.begin().await?;
        // In the order the live worker takes them (its tables, then the checkpoint row), so
        // the two never deadlock. EXCLUSIVE blocks writers and lets readers in.
        for table in tables {
            tx.execute(format!("LOCK TABLE public.{table} IN EXCLUSIVE MODE").as_str())
                .await?;
        }
        checkpoint::load(&mut tx, name).await?;
        sqlx::query("SELECT 1 FROM public.projection_checkpoints WHERE name = $1 FOR UPDATE")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        for _ in 0..self.options.final_batches {
            let events = self.log.read(position, self.options.batch_size).await?;
            if events.is_empty() {
                break;
            }
            apply_naming(self.projection.as_ref(), &mut tx, &events).await?;
            position = events.last().map_or(position, |e| e.position);
            applied += events.len() as u64;
        }
        sqlx::query("SELECT read_model_swap($1)")
            .bind(tables)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE public.projection_checkpoints
             SET transaction_id = $2::text::xid8, position = $3, state = 'running', error = NULL,
                 updated_at = now()
             WHERE name = $1",
        )
        .bind(name)
        .bind(position.transaction_id.to_string())
        .bind(position.position)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM public.projection_rebuilds WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((position, applied))
    }
}
