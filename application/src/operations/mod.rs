//! The operators' use cases: where the projections stand, rebuilding one without downtime,
//! the saga's dead letters, and whether the server is ready. The read side implements
//! [`ProjectionControl`] and [`DeadLetters`], the database [`HealthCheck`].

mod dead_letters;
mod status;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::watch;

pub use dead_letters::{DeadLetter, DeadLetters, Redrive};
pub use status::{ProjectionState, ProjectionStatus, RebuildProgress};

use crate::event_log::Position;
use crate::queries::Tally;
use crate::{Actor, Error, Role};

/// How far a rebuild has come: events applied of the total.
pub type Progress<'a> = &'a mut (dyn FnMut(u64, u64) + Send);

/// What a finished rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// Events applied to the shadow tables.
    pub applied: u64,
    /// Where the swapped-in tables stand: the live worker goes on from here.
    pub position: Position,
}

/// A rebuild that holds its projection's claim and waits to be run.
#[async_trait]
pub trait RebuildRun: Send {
    /// The projection.
    fn name(&self) -> &'static str;

    /// Fills the shadow tables from the start of the log, reporting `progress`, then swaps
    /// them in; a `true` on `stop` ends it early with the live tables untouched.
    ///
    /// # Errors
    /// The store's error, or [`Error::Busy`] when stopped.
    async fn run(
        self: Box<Self>,
        progress: Progress<'_>,
        stop: watch::Receiver<bool>,
    ) -> Result<Rebuilt, Error>;
}

/// The read side, as operators steer it.
#[async_trait]
pub trait ProjectionControl: Send + Sync {
    /// The names of the projections that can be rebuilt.
    fn names(&self) -> Vec<&'static str>;

    /// Every follower of the log, in a fixed order.
    async fn statuses(&self) -> Result<Vec<ProjectionStatus>, Error>;

    /// Claims a rebuild of `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown projection; [`Error::Busy`] when a rebuild of it
    /// already runs.
    async fn start_rebuild(&self, name: &str) -> Result<Box<dyn RebuildRun>, Error>;

    /// Un-parks the follower `name`; whether it was parked.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown follower; the store's error.
    async fn resume(&self, name: &str) -> Result<bool, Error>;
}

/// Whether the database is fit to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    /// Migrations applied.
    pub migrations_applied: i64,
    /// Migrations this build knows.
    pub migrations_known: i64,
    /// Every follower of the log with a checkpoint, by name.
    pub followers: Vec<FollowerHealth>,
}

/// How one follower of the log (a projection, the saga) stands, as its checkpoint says.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowerHealth {
    /// Its name.
    pub name: String,
    /// Why it is parked, when it is (`Some("")` for no reason given).
    pub parked: Option<String>,
    /// Age in seconds of the first event after its checkpoint (0 when there is none).
    pub lag_seconds: f64,
}

/// Asks the database how it stands.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// The migrations and the followers' checkpoints. Cheap enough for a probe every
    /// second: one row per follower, no count.
    async fn readiness(&self) -> Result<Readiness, Error>;
}

/// The operators' use cases.
#[derive(Clone)]
pub struct Operations {
    projections: Arc<dyn ProjectionControl>,
    dead_letters: Arc<dyn DeadLetters>,
    health: Arc<dyn HealthCheck>,
}

impl fmt::Debug for Operations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operations").finish_non_exhaustive()
    }
}

impl Operations {
    /// Operations over these ports.
    #[must_use]
    pub fn new(
        projections: Arc<dyn ProjectionControl>,
        dead_letters: Arc<dyn DeadLetters>,
        health: Arc<dyn HealthCheck>,
    ) -> Self {
        Self {
            projections,
            dead_letters,
            health,
        }
    }

    /// Up to `limit` of the saga's dead letters after the id `after`, oldest first
    /// (operators).
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn dead_letters(
        &self,
        actor: &Actor,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeadLetter>, Error> {
        Self::may_operate(actor)?;
        self.dead_letters.list(after, limit).await
    }

    /// Carries out the dead letter `id` again (operators).
    ///
    /// # Errors
    /// [`Error::Forbidden`]; [`Error::Validation`] for an id that is not positive;
    /// [`Error::NotFound`]; the store's error.
    pub async fn redrive(&self, actor: &Actor, id: i64) -> Result<Redrive, Error> {
        actor.may_command()?;
        Self::may_operate(actor)?;
        if id <= 0 {
            return Err(Error::Validation(format!("{id} is not a dead letter id")));
        }
        self.dead_letters.redrive(id).await
    }

    /// How many sagas stand in each phase not yet final (operators and auditors).
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn sagas_in_flight(&self, actor: &Actor) -> Result<Vec<Tally>, Error> {
        actor.require(&[Role::Operator, Role::Auditor], "count the sagas")?;
        self.dead_letters.in_flight().await
    }

    /// Refuses every role but operator: transports ask first, before they look at the
    /// request any further.
    ///
    /// # Errors
    /// [`Error::Forbidden`].
    pub fn may_operate(actor: &Actor) -> Result<(), Error> {
        actor.require(&[Role::Operator], "operate the server")
    }

    /// Every projection's checkpoint, state and lag (operators).
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn projections(&self, actor: &Actor) -> Result<Vec<ProjectionStatus>, Error> {
        Self::may_operate(actor)?;
        self.projections.statuses().await
    }

    /// Starts rebuilding `name` in the background (operators) and answers its status,
    /// `REBUILDING` with its progress; the rebuild ends when `stop` turns `true`.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; [`Error::NotFound`]; [`Error::Busy`] when one already runs.
    pub async fn rebuild(
        &self,
        actor: &Actor,
        name: &str,
        stop: watch::Receiver<bool>,
    ) -> Result<ProjectionStatus, Error> {
        actor.may_command()?;
        Self::may_operate(actor)?;
        let rebuild = self.projections.start_rebuild(name).await?;
        let name = rebuild.name();
        tokio::spawn(async move {
            match rebuild.run(&mut |_, _| {}, stop).await {
                Ok(rebuilt) => tracing::info!(
                    projection = name,
                    applied = rebuilt.applied,
                    position = %rebuilt.position.token(),
                    "projection rebuilt"
                ),
                Err(error) => {
                    tracing::error!(projection = name, %error, "projection rebuild failed");
                }
            }
        });
        self.projections
            .statuses()
            .await?
            .into_iter()
            .find(|status| status.name == name)
            .ok_or_else(|| Error::NotFound {
                what: format!("projection {name:?}"),
            })
    }

    /// Rebuilds `name` (every projection without one, all at once, each on a task of its
    /// own), in the foreground, reporting each one's progress as
    /// `progress(projection, applied, total)`: the operator command line. Every rebuild is
    /// claimed before any starts. Each one's outcome comes back on its own: what it did and
    /// how long it took, or why it failed (a failed or stopped rebuild leaves that
    /// projection's live tables as they were; the others swap in).
    ///
    /// # Errors
    /// [`Error::NotFound`] naming the projections there are; [`Error::Busy`] when one is
    /// being rebuilt already (nothing starts then).
    pub async fn rebuild_now(
        &self,
        name: Option<&str>,
        progress: Arc<dyn Fn(&'static str, u64, u64) + Send + Sync>,
        stop: &watch::Receiver<bool>,
    ) -> Result<Vec<(&'static str, Result<(Rebuilt, Duration), Error>)>, Error> {
        let names = match name {
            Some(name) => {
                let known = self.projections.names();
                let Some(found) = known.iter().find(|known| **known == name) else {
                    return Err(Error::NotFound {
                        what: format!("projection {name:?} (known: {})", known.join(", ")),
                    });
                };
                vec![*found]
            }
            None => self.projections.names(),
        };
        let mut claimed = Vec::with_capacity(names.len());
        for name in names {
            claimed.push(self.projections.start_rebuild(name).await?);
        }
        let runs: Vec<_> = claimed
            .into_iter()
            .map(|rebuild| {
                let (name, progress, stop) = (rebuild.name(), Arc::clone(&progress), stop.clone());
                let run = tokio::spawn(async move {
                    let started = Instant::now();
                    let mut report = |applied, total| progress(name, applied, total);
                    let rebuilt = rebuild.run(&mut report, stop).await?;
                    Ok((rebuilt, started.elapsed()))
                });
                (name, run)
            })
            .collect();
        let mut outcomes = Vec::with_capacity(runs.len());
        for (name, run) in runs {
            let outcome = run
                .await
                .unwrap_or_else(|e| Err(Error::Infrastructure(format!("rebuild of {name}: {e}"))));
            outcomes.push((name, outcome));
        }
        Ok(outcomes)
    }

    /// Un-parks the follower `name` (operators): its worker goes on from its checkpoint.
    /// Whether it was parked.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; [`Error::NotFound`]; the store's error.
    pub async fn resume(&self, actor: &Actor, name: &str) -> Result<bool, Error> {
        actor.may_command()?;
        Self::may_operate(actor)?;
        self.projections.resume(name).await
    }

    /// Whether the server may take traffic: every migration applied, no projection parked.
    ///
    /// # Errors
    /// The store's error when the database cannot be asked.
    pub async fn readiness(&self) -> Result<Readiness, Error> {
        self.health.readiness().await
    }
}
