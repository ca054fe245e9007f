//! The peer: one [`cqrs_es::CqrsFramework`] per aggregate type over
//! [`cqrs_es::persist::PersistedEventStore::new_event_store`] on
//! [`postgres_es::PostgresEventRepository`], deciding with the same aggregate adapters
//! ([`application::aggregates`]). Event-sourced only: cqrs-es 0.5's snapshot and aggregate
//! stores apply each new event twice. A command that loses a concurrency race is sent
//! again, as a cqrs-es application has to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use application::{OrderAggregate, PaymentAggregate, StockAggregate};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateContext as _, AggregateError, CqrsFramework, EventStore as _};
use infrastructure::DatabaseOptions;
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;
use uuid::Uuid;

use super::contender::Contender;
use super::plan::Step;

/// postgres-es's tables, from its `db/init.sql` (the snapshots table stays empty).
const TABLES_SQL: &str = r"
CREATE TABLE events (
    aggregate_type text NOT NULL, aggregate_id text NOT NULL,
    sequence bigint CHECK (sequence >= 0) NOT NULL, event_type text NOT NULL,
    event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE TABLE snapshots (
    aggregate_type text NOT NULL, aggregate_id text NOT NULL,
    last_sequence bigint CHECK (last_sequence >= 0) NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);";

/// How many times a command is sent in all when it keeps losing races: as many as our
/// repository decides one.
const MAX_ATTEMPTS: u32 = 8;

type Store<A> = PersistedEventStore<PostgresEventRepository, A>;
type Framework<A> = CqrsFramework<A, Store<A>>;

/// cqrs-es + postgres-es on a database of their own.
pub struct Theirs {
    orders: Framework<OrderAggregate>,
    stock: Framework<StockAggregate>,
    payments: Framework<PaymentAggregate>,
    /// For reading the stock after the run.
    stock_store: Store<StockAggregate>,
    pool: PgPool,
    retries: AtomicU64,
}

impl std::fmt::Debug for Theirs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Theirs")
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

fn framework<A: Aggregate<Services = ()>>(pool: &PgPool) -> Framework<A> {
    CqrsFramework::new(store(pool), vec![], ())
}

fn store<A: Aggregate>(pool: &PgPool) -> Store<A> {
    PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()))
}

/// The metadata our clients send, as cqrs-es takes it.
fn metadata() -> HashMap<String, String> {
    let id = Uuid::now_v7().to_string();
    HashMap::from([
        ("command_id".to_owned(), id.clone()),
        ("correlation_id".to_owned(), id),
        ("actor".to_owned(), "peer-bench".to_owned()),
    ])
}

impl Theirs {
    async fn send<A>(
        &self,
        cqrs: &Framework<A>,
        id: &str,
        command: A::Command,
    ) -> Result<(), String>
    where
        A: Aggregate<Services = ()>,
        A::Command: Clone,
    {
        let metadata = metadata();
        let mut attempt = 1;
        loop {
            match cqrs
                .execute_with_metadata(id, command.clone(), metadata.clone())
                .await
            {
                Ok(()) => return Ok(()),
                Err(AggregateError::AggregateConflict) if attempt < MAX_ATTEMPTS => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    attempt += 1;
                }
                Err(e) => return Err(format!("{} {id}: {e}", A::TYPE)),
            }
        }
    }
}

impl Contender for Theirs {
    const NAME: &'static str = "peer";

    async fn open(url: &str, pool: u32) -> Result<Self, String> {
        // Their tables belong to the login role: no switch to our restricted role.
        let options = DatabaseOptions {
            max_connections: pool,
            assume_app_role: false,
            ..DatabaseOptions::default()
        };
        let pool = infrastructure::connect(url, &options)
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        sqlx::raw_sql(TABLES_SQL)
            .execute(&pool)
            .await
            .map_err(|e| format!("creating postgres-es's tables: {e}"))?;
        Ok(Self {
            orders: framework(&pool),
            stock: framework(&pool),
            payments: framework(&pool),
            stock_store: store(&pool),
            pool,
            retries: AtomicU64::new(0),
        })
    }

    async fn execute(&self, step: Step) -> Result<(), String> {
        match step {
            Step::Order { id, command } => self.send(&self.orders, &id, command).await,
            Step::Stock { sku, command } => self.send(&self.stock, &sku, command).await,
            Step::Payment { id, command } => self.send(&self.payments, &id, command).await,
        }
    }

    async fn events(&self) -> Result<i64, String> {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| e.to_string())
    }

    async fn on_hand(&self, sku: &str) -> Result<u32, String> {
        let mut context = self
            .stock_store
            .load_aggregate(sku)
            .await
            .map_err(|e| e.to_string())?;
        Ok(context.aggregate().0.on_hand())
    }

    fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
