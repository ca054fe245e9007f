//! The database the bench runs on: an embedded cluster or `DATABASE_URL`, migrated, with the
//! raw and postgres-es tables and one pool opened as the server opens it.

use std::sync::Arc;

use infrastructure::{DatabaseOptions, EmbeddedPostgres, PgEventStore};
use postgres_es::PostgresEventRepository;

use super::POOL_SIZE;
use super::stores::Stores;

/// The raw table is ours minus the hash columns (same primary key, same secondary indexes);
/// postgres-es's is its `db/init.sql` events table, renamed (`persist` without a snapshot never
/// touches its snapshots table).
const SETUP_SQL: &str = r"
DROP TABLE IF EXISTS raw_events, pg_es_events;
CREATE TABLE raw_events (LIKE events INCLUDING ALL);
ALTER TABLE raw_events DROP COLUMN prev_hash, DROP COLUMN hash;
CREATE TABLE pg_es_events (
    aggregate_type text NOT NULL, aggregate_id text NOT NULL,
    sequence bigint CHECK (sequence >= 0) NOT NULL, event_type text NOT NULL,
    event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);";

/// The database, the stores, and the cluster when we started one.
pub(super) struct Setup {
    cluster: Option<EmbeddedPostgres>,
    pub(super) stores: Arc<Stores>,
    /// The server's version and durability settings, for the summary.
    pub(super) server: String,
}

impl Setup {
    pub(super) async fn start() -> Self {
        let (cluster, url) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => (None, url),
            _ => {
                let cluster = (EmbeddedPostgres::start_temporary().await)
                    .expect("embedded PostgreSQL (install the server binaries)");
                let url =
                    (cluster.create_database("bench_event_store").await).expect("bench database");
                (Some(cluster), url)
            }
        };
        infrastructure::migrate(&url).await.expect("migrations");
        let owner = DatabaseOptions {
            max_connections: 1,
            assume_app_role: false,
            ..DatabaseOptions::default()
        };
        let owner = (infrastructure::connect(&url, &owner).await).expect("owner connection");
        sqlx::raw_sql(SETUP_SQL)
            .execute(&owner)
            .await
            .expect("bench tables");
        let server: String = sqlx::query_scalar(
            "SELECT concat_ws(', ', current_setting('server_version'),
                              'fsync=' || current_setting('fsync'),
                              'synchronous_commit=' || current_setting('synchronous_commit'),
                              'shared_buffers=' || current_setting('shared_buffers'))",
        )
        .fetch_one(&owner)
        .await
        .expect("server settings");
        owner.close().await;

        // One pool, opened as the server opens it; every connection opened now.
        let options = DatabaseOptions {
            max_connections: POOL_SIZE,
            ..DatabaseOptions::default()
        };
        let pool = infrastructure::connect(&url, &options).await.expect("pool");
        let mut held = Vec::new();
        for _ in 0..POOL_SIZE {
            held.push(pool.acquire().await.expect("connection"));
        }
        drop(held);
        let stores = Stores {
            ours: PgEventStore::new(pool.clone()),
            postgres_es: PostgresEventRepository::new(pool.clone())
                .with_tables("pg_es_events", "pg_es_snapshots"),
            pool,
        };
        Self {
            cluster,
            stores: Arc::new(stores),
            server,
        }
    }

    pub(super) async fn stop(self) {
        self.stores.pool.close().await;
        if let Some(cluster) = self.cluster {
            cluster.stop().await.expect("stopping the embedded cluster");
        }
    }
}
