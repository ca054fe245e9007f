//! Rebuilding read models without downtime: a rebuild from position zero yields exactly
//! the tables the live workers built; writes during a rebuild are neither lost nor applied
//! twice and queries keep answering; the REST and GraphQL endpoints start rebuilds for
//! operators only.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod parked;
mod replay;
mod requests;

use std::sync::Arc;
use std::time::Duration;

use application::{EventStore, Role};
use infrastructure::PgEventStore;
use projections::{Projections, Rebuild, RebuildOptions};
use serde_json::Value;
use sqlx::PgPool;
use tests::books::read_models;
use tests::{TestApp, expect};
use tokio::sync::watch;

async fn event_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// `GET /api/admin/projections` as an operator.
async fn statuses(app: &TestApp) -> Vec<Value> {
    let operator = app.token("olga", Role::Operator);
    let response = app
        .client
        .get(app.url("/api/admin/projections"))
        .bearer_auth(operator)
        .send()
        .await
        .unwrap();
    expect(response, 200).await.as_array().unwrap().clone()
}

/// Waits until every projection runs with no lag and the log has stopped growing.
async fn settled(app: &TestApp) {
    let mut last = -1;
    for _ in 0..600 {
        let count = event_count(&app.db.pool).await;
        let all = statuses(app).await;
        let caught_up = all
            .iter()
            .all(|s| s["lagEvents"] == 0 && s["state"] == "RUNNING");
        if caught_up && count == last {
            return;
        }
        last = count;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the projections did not catch up: {:?}",
        statuses(app).await
    );
}

/// Rebuilds every projection through the library, all at once, as `projections rebuild
/// --all` does.
async fn rebuild_all(pool: &PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let (_keep, stop) = watch::channel(false);
    let mut claimed = Vec::new();
    for projection in Projections::all() {
        let name = projection.name();
        let rebuild = Rebuild::start(
            pool,
            Arc::clone(&store),
            projection,
            RebuildOptions {
                batch_size: 250,
                ..RebuildOptions::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("starting the rebuild of {name}: {e}"));
        claimed.push((name, rebuild));
    }
    let runs = claimed.into_iter().map(|(name, rebuild)| {
        let stop = stop.clone();
        async move {
            let mut seen = Vec::new();
            rebuild
                .run(|p| seen.push(p), stop)
                .await
                .unwrap_or_else(|e| panic!("rebuilding {name}: {e}"));
            let last = seen.last().unwrap();
            assert!(last.applied >= last.total.min(1), "{name}: {seen:?}");
        }
    });
    futures::future::join_all(runs).await;
}
