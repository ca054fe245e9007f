//! Helpers for domainflow's end-to-end tests (the tests themselves live in `tests/`).
//!
//! Every test gets its own freshly migrated database. The databases live in one throwaway
//! PostgreSQL cluster per test process, started from the installed server binaries, or on
//! the server named by `DATABASE_URL` when it is set.
//!
//! [`spawn_app`] starts the real server on port 0 against such a database and returns a
//! [`TestApp`] with typed helpers to talk to it over HTTP. [`fake_provider`] is a card
//! processor on a real port for the HTTP payment provider to talk to.

// A helper that cannot provide a database has no way to go on but to fail the test.
#![allow(clippy::panic)]

mod answers;
mod app;
pub mod books;
pub mod brokers;
pub mod cut;
pub mod fake_provider;
pub mod legacy;
mod process;
pub mod readers;
pub mod rng;
pub mod workload;
pub mod ws;

pub use answers::{
    REJECTED_STATUS, body_json, command_result, expect, graphql_data, graphql_error, header,
    problem, rejected,
};
pub use app::{
    TestApp, spawn_app, spawn_app_with, spawn_app_with_simulation, spawn_app_without_saga,
};
pub use process::{ServerProcess, run, text};

use std::path::Path;
use std::sync::OnceLock;

use application::event_log::{Append, CommandMetadata, NewEvent, StreamRef};

use infrastructure::{DatabaseOptions, EmbeddedPostgres};
use sqlx::PgPool;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor};

/// A migrated database of its own for one test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// Its URL as the server's login, which owns nothing (the server's `--database-url`).
    pub url: String,
    /// Its URL as the tables' owner, who ran the migrations (the server's `--owner-url`).
    pub owner_url: String,
    /// A pool working as the server does: as its login.
    pub pool: PgPool,
}

impl TestDatabase {
    /// API keys kept in this database, as the server keeps them.
    #[must_use]
    pub fn api_keys(&self) -> application::api_keys::ApiKeys {
        let store = infrastructure::PgApiKeys::new(self.pool.clone());
        application::api_keys::ApiKeys::new(std::sync::Arc::new(store))
    }

    /// A pool working as the owner of every table: for checks the server itself could never
    /// make, such as the break-glass tampering tests.
    ///
    /// # Panics
    /// When the database cannot be reached.
    pub async fn owner_pool(&self) -> PgPool {
        let options = DatabaseOptions {
            assume_app_role: false,
            max_connections: 2,
            ..DatabaseOptions::default()
        };
        infrastructure::connect(&self.owner_url, &options)
            .await
            .unwrap_or_else(|e| panic!("owner connection: {e}"))
    }

    /// Waits until every event appended so far is readable in the global order. The read
    /// horizon is cluster-wide: a transaction of another test running in parallel can hold
    /// it back for a moment.
    ///
    /// # Panics
    /// When the log cannot be read, or the events stay out of reach for 10 s.
    pub async fn log_settled(&self) {
        let store = infrastructure::PgEventStore::new(self.pool.clone());
        let everything = infrastructure::ReadFilter::default();
        for _ in 0..1000 {
            let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
                .fetch_one(&self.pool)
                .await
                .unwrap_or_else(|e| panic!("counting events: {e}"));
            let readable = store
                .count(application::event_log::Position::START, &everything)
                .await
                .unwrap_or_else(|e| panic!("counting readable events: {e}"));
            if readable >= total {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("appended events stayed below the read horizon");
    }

    /// Runs `sql` against the event log behind the append-only triggers' back, as only an
    /// attacker with the owner's credentials could: the break-glass path of the first
    /// migration (disable the trigger, change, enable it again, in one transaction).
    ///
    /// # Panics
    /// When a statement fails.
    pub async fn break_glass(&self, sql: &str) {
        self.break_glass_on("events", sql).await;
    }

    /// [`TestDatabase::break_glass`] on the append-only `table` (`events`, `log_seals`):
    /// its trigger `{table}_no_update_or_delete` is disabled while `sql` runs.
    ///
    /// # Panics
    /// When a statement fails.
    pub async fn break_glass_on(&self, table: &str, sql: &str) {
        let owner = self.owner_pool().await;
        let mut tx = projections::transaction::begin(&owner)
            .await
            .unwrap_or_else(|e| panic!("break glass: {e}"));
        for statement in [
            &format!("ALTER TABLE {table} DISABLE TRIGGER {table}_no_update_or_delete"),
            sql,
            &format!("ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_update_or_delete"),
        ] {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("break glass, {statement}: {e}"));
        }
        tx.commit()
            .await
            .unwrap_or_else(|e| panic!("break glass: {e}"));
        owner.close().await;
    }
}

enum Server {
    Embedded(EmbeddedPostgres),
    External(String),
}

/// The server's login on a server given by `DATABASE_URL` (which names its owner); the
/// password matters only where the server asks for one.
const TEST_LOGIN: (&str, &str) = ("domainflow_test_login", "test-login-password");

impl Server {
    /// The URL of `database` as the owner.
    fn url(&self, database: &str) -> String {
        match self {
            Self::Embedded(cluster) => cluster.url(database),
            Self::External(url) => with_database(url, database),
        }
    }

    /// The URL of `database` as the server's login.
    fn login_url(&self, database: &str) -> String {
        match self {
            Self::Embedded(cluster) => cluster.login_url(database),
            Self::External(url) => {
                let url = with_database(url, database);
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", &url));
                let host = rest.split_once('@').map_or(rest, |(_, host)| host);
                let (name, password) = TEST_LOGIN;
                format!("{scheme}://{name}:{password}@{host}")
            }
        }
    }
}

/// `url` naming `database` instead of its own.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let host = rest.split_once('/').map_or(rest, |(host, _)| host);
    format!("{scheme}://{host}/{database}{query}")
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// The process-wide server, started on first use. Each test runs its own tokio runtime,
/// so the cluster is started on a thread with a runtime of its own; it is stopped and
/// deleted by its reaper when the test process exits.
fn server() -> &'static Server {
    let server = SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return Ok(Server::External(url));
        }
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(EmbeddedPostgres::start_temporary())
                .map(Server::Embedded)
                .map_err(|e| e.to_string())
        })
        .join()
        .unwrap_or_else(|_| Err("the cluster start-up thread panicked".into()))
    });
    match server {
        Ok(server) => server,
        Err(e) => panic!("no PostgreSQL for the tests: {e}"),
    }
}

/// One command's `count` `StockRestocked` events for stock stream `sku`, to append at
/// `expected_version` straight to the store (the store builds the hash chain, as for any
/// command): for tests that need a log of a given shape quickly.
#[must_use]
pub fn restocks(sku: &str, expected_version: i64, count: u32) -> Append {
    Append {
        stream: StreamRef::new("stock", sku),
        expected_version,
        head_hash: None,
        events: (1..=count)
            .map(|quantity| NewEvent {
                event_id: uuid::Uuid::now_v7(),
                event_type: "StockRestocked".into(),
                event_version: 1,
                payload: serde_json::json!({ "quantity": quantity }),
            })
            .collect(),
        metadata: CommandMetadata {
            command_id: uuid::Uuid::now_v7(),
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: None,
            actor: "tester".into(),
            client_correlation_id: None,
        },
        snapshot: None,
    }
}

/// A new, migrated database for one test.
///
/// # Panics
/// When no PostgreSQL can be started or reached, or the migrations fail.
pub async fn test_database() -> TestDatabase {
    let server = server();
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut admin = PgConnection::connect(&server.url("postgres"))
        .await
        .unwrap_or_else(|e| panic!("connecting to the test server: {e}"));
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .unwrap_or_else(|e| panic!("creating the test database: {e}"));
    drop(admin);
    // As `domainflow serve --owner-url ... --database-url ...` does: the owner migrates and
    // makes the server's login, which the server and the test pool then work as.
    let owner_url = server.url(&name);
    let url = server.login_url(&name);
    infrastructure::Database::open(Some(url.clone()), Some(owner_url.clone()), Path::new("."))
        .await
        .unwrap_or_else(|e| panic!("migrating the test database: {e}"));
    let pool = infrastructure::connect(&url, &DatabaseOptions::default())
        .await
        .unwrap_or_else(|e| panic!("connecting to the test database: {e}"));
    TestDatabase {
        url,
        owner_url,
        pool,
    }
}

/// A random JWT secret for a server started as a process: its hex, for `--jwt-secret`, and
/// its bytes, to sign tokens with.
#[must_use]
pub fn jwt_secret() -> (String, Vec<u8>) {
    let bytes: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|id| id.as_bytes().to_vec())
        .collect();
    let hex = bytes.iter().map(|b| format!("{b:02x}")).collect();
    (hex, bytes)
}
