//! Every projection of domainflow, and one worker for each.

use std::sync::Arc;

use application::EventStore;
use sqlx::PgPool;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::{
    Announcer, Error, Orders, Payments, Products, Projection, Tickets, Worker, WorkerOptions,
};

/// The projections the server runs.
#[derive(Debug, Clone, Copy)]
pub struct Projections;

impl Projections {
    /// Orders, products, tickets and payments.
    #[must_use]
    pub fn all() -> Vec<Arc<dyn Projection>> {
        vec![
            Arc::new(Orders),
            Arc::new(Products),
            Arc::new(Tickets),
            Arc::new(Payments),
        ]
    }

    /// The projection called `name`, if there is one.
    #[must_use]
    pub fn named(name: &str) -> Option<Arc<dyn Projection>> {
        Self::all().into_iter().find(|p| p.name() == name)
    }
}

/// Spawns one [`Worker`] per projection of [`Projections::all`], supervised (see
/// [`Worker::supervise`]), each announcing its committed batches through `announcer`: each
/// task ends when `shutdown` turns true; a parked projection waits for an operator.
#[must_use]
pub fn spawn_workers(
    pool: &PgPool,
    store: &Arc<dyn EventStore>,
    wake: &Arc<Notify>,
    announcer: &Announcer,
    shutdown: &watch::Receiver<bool>,
    options: &WorkerOptions,
) -> Vec<JoinHandle<Result<(), Error>>> {
    Projections::all()
        .into_iter()
        .map(|projection| {
            let worker = Worker::new(
                projection,
                Arc::clone(store),
                pool.clone(),
                Arc::clone(wake),
                options.clone(),
            )
            .announcing(announcer.clone());
            tokio::spawn(worker.supervise(shutdown.clone()))
        })
        .collect()
}
