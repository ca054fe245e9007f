//! The projection workers: woken in process, resuming from their checkpoint, one per
//! projection, parking before a failing event, announcing each committed batch.

use std::sync::Arc;
use std::time::Duration;

use application::event_log::Position;
use application::{Actor, EventStore, Role};
use domain::stock;
use projections::{Announcer, Error, Products, Projection, Projections, Tickets, WorkerOptions};
use serde_json::Value;
use sqlx::Connection;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use super::{fast, shop, stop, units, world};

#[tokio::test]
async fn workers_are_woken_in_process_and_stop_on_shutdown() {
    let shop = shop().await;
    // Woken in process: a new command is visible without waiting for a long poll.
    shop.w.register("CUP-1", 1, 0).await;
    shop.w.caught_up(&["products"]).await;
    assert_eq!(shop.w.product_row("CUP-1").await["on_hand"], 1);

    shop.stop().await;
    assert_eq!(Projections::all().len(), 4);
}

#[tokio::test]
async fn a_worker_whose_connection_is_dropped_resumes_from_its_checkpoint_without_doubling() {
    let w = world().await;
    let owner = w.db.owner_pool().await;
    let ticket = w.open_ticket("alice", None).await;
    let agent = Actor::new("agnes", Role::Agent);
    for n in 1..=15 {
        w.post(ticket, &agent, &format!("message {n}")).await;
    }
    let options = WorkerOptions {
        batch_size: 4,
        ..fast()
    };
    let (shutdown, stopped) = watch::channel(false);
    let handle = tokio::spawn(w.worker(Arc::new(Tickets), options).run(stopped));
    w.caught_up(&["tickets"]).await;

    // Its session is killed; more messages arrive meanwhile.
    let holders = w.lock_holders(&owner).await;
    assert_eq!(holders.len(), 1);
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(holders[0])
        .fetch_one(&owner)
        .await
        .unwrap();
    assert!(killed);
    for n in 16..=30 {
        w.post(ticket, &agent, &format!("message {n}")).await;
    }
    w.wake.notify_waiters();
    w.caught_up(&["tickets"]).await;
    let holders_after = w.lock_holders(&owner).await;
    assert_eq!(holders_after.len(), 1);
    assert_ne!(holders_after, holders, "a new session took the lock");

    let bodies = |row: &Value| -> Vec<String> {
        row["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut expected = vec!["It has been a week.".to_owned()];
    expected.extend((1..=30).map(|n| format!("message {n}")));
    let row = w.ticket_row(ticket).await;
    assert_eq!(bodies(&row), expected);
    assert_eq!(row["version"], 31);

    // Killed by aborting its task this time: a new worker resumes where it left off.
    handle.abort();
    let _ = handle.await;
    for n in 31..=33 {
        w.post(ticket, &agent, &format!("message {n}")).await;
    }
    let (shutdown2, stopped2) = watch::channel(false);
    let again = tokio::spawn(w.worker(Arc::new(Tickets), fast()).run(stopped2));
    w.caught_up(&["tickets"]).await;
    expected.extend((31..=33).map(|n| format!("message {n}")));
    assert_eq!(bodies(&w.ticket_row(ticket).await), expected);

    // At-least-once: delivering the whole log again changes nothing.
    let mut conn = w.db.pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    for event in w.all_events().await {
        Tickets
            .apply(&mut tx, std::slice::from_ref(&event))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(bodies(&w.ticket_row(ticket).await), expected);

    stop(&shutdown2, again).await;
    drop(shutdown);
}

#[tokio::test]
async fn of_two_workers_for_one_projection_one_processes_and_the_other_takes_over_when_it_stops() {
    let w = world().await;
    let owner = w.db.owner_pool().await;
    w.register("MUG-1", 5, 0).await;
    let (stop_a, stopped_a) = watch::channel(false);
    let a = tokio::spawn(w.worker(Arc::new(Products), fast()).run(stopped_a));
    w.caught_up(&["products"]).await;
    let (stop_b, stopped_b) = watch::channel(false);
    let b = tokio::spawn(w.worker(Arc::new(Products), fast()).run(stopped_b));

    let first = w.lock_holders(&owner).await;
    assert_eq!(first.len(), 1, "exactly one worker holds the lock");
    w.stock("MUG-1", stock::Command::Restock { quantity: units(1) })
        .await;
    w.wake.notify_waiters();
    w.caught_up(&["products"]).await;
    assert_eq!(w.product_row("MUG-1").await["on_hand"], 6);
    assert_eq!(
        w.lock_holders(&owner).await,
        first,
        "the first worker kept it"
    );

    stop(&stop_a, a).await;
    w.stock("MUG-1", stock::Command::Restock { quantity: units(2) })
        .await;
    w.caught_up(&["products"]).await;
    let product = w.product_row("MUG-1").await;
    assert_eq!(product["on_hand"], 8);
    assert_eq!(product["version"], 4);
    let second = w.lock_holders(&owner).await;
    assert_eq!(second.len(), 1);
    assert_ne!(second, first, "the waiting worker took over");
    stop(&stop_b, b).await;
}

/// Runs a products worker until it parks on the event of stock stream `culprit`; the
/// position of the event before it, and the parked error.
async fn run_until_parked(w: &super::World, culprit: &str) -> (Position, String) {
    let events = w.all_events().await;
    let at = events
        .iter()
        .position(|e| e.stream.stream_id == culprit)
        .unwrap();
    let (_shutdown, stopped) = watch::channel(false);
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        w.worker(Arc::new(Products), fast()).run(stopped),
    )
    .await
    .expect("the worker gives up and parks");
    let Err(Error::Parked { name, error }) = outcome else {
        panic!("expected a parked projection, got {outcome:?}");
    };
    assert_eq!(name, "products");
    (events[at - 1].position, error)
}

#[tokio::test]
async fn a_failing_event_is_retried_then_parks_the_projection_before_it() {
    let w = world().await;
    let owner = w.db.owner_pool().await;
    w.register("MUG-1", 10, 0).await;
    sqlx::query(
        "INSERT INTO events (stream_type, stream_id, version, event_id, event_type,
             event_version, payload, metadata, prev_hash, hash)
         VALUES ('stock', 'BAD-1', 1, $1, 'ProductRegistered', 1, '{\"oops\": true}', '{}',
             '', '\\x00')",
    )
    .bind(Uuid::now_v7())
    .execute(&owner)
    .await
    .unwrap();
    w.register("PEN-1", 3, 0).await;
    let (before_bad, error) = run_until_parked(&w, "BAD-1").await;
    assert!(error.contains("stock/BAD-1"), "{error}");

    let checkpoint = w.checkpoint("products").await;
    assert_eq!(checkpoint["state"], "parked");
    assert!(
        checkpoint["error"]
            .as_str()
            .unwrap()
            .contains("ProductRegistered")
    );
    assert_eq!(checkpoint["position"], before_bad.position);
    assert_eq!(
        checkpoint["transaction_id"],
        before_bad.transaction_id.to_string()
    );
    // The events before the bad one are applied, none after it.
    assert_eq!(w.product_row("MUG-1").await["on_hand"], 10);
    assert_eq!(w.product_row("PEN-1").await, Value::Null);

    // A parked projection stays parked for the next worker too.
    let (_shutdown, stopped) = watch::channel(false);
    let again = w.worker(Arc::new(Products), fast()).run(stopped).await;
    assert!(matches!(again, Err(Error::Parked { .. })), "{again:?}");
}

/// A projection writes each table once per batch, so a statement that fails fails the whole
/// batch: the worker then goes one event at a time, commits those before the culprit and
/// parks naming it.
#[tokio::test]
async fn a_batch_whose_write_fails_is_retried_event_by_event_and_parks_at_the_culprit() {
    let w = world().await;
    let owner = w.db.owner_pool().await;
    // The read model refuses one row: its insert fails inside a batch of many.
    sqlx::query("ALTER TABLE rm_products ADD CONSTRAINT no_poison CHECK (sku <> 'POISON-1')")
        .execute(&owner)
        .await
        .unwrap();
    for sku in ["MUG-1", "CUP-1", "POISON-1", "PEN-1"] {
        w.register(sku, 5, 0).await;
    }
    let (before_poison, error) = run_until_parked(&w, "POISON-1").await;
    assert!(error.contains("stock/POISON-1"), "{error}");
    assert!(error.contains("no_poison"), "{error}");
    let checkpoint = w.checkpoint("products").await;
    assert_eq!(checkpoint["position"], before_poison.position);
    for sku in ["MUG-1", "CUP-1"] {
        assert_eq!(w.product_row(sku).await["on_hand"], 5, "{sku}");
    }
    assert_eq!(w.product_row("PEN-1").await, Value::Null);
}

/// After each committed batch a worker announces its projection and new checkpoint, which
/// is what row subscriptions wait on instead of polling their row.
#[tokio::test]
async fn a_worker_announces_each_committed_batch_with_its_checkpoint() {
    let w = world().await;
    let announcer = Announcer::new();
    let mut committed = announcer.listen();
    let (shutdown, stopped) = watch::channel(false);
    let worker = w
        .worker(Arc::new(Products), fast())
        .announcing(announcer.clone());
    let handle = tokio::spawn(worker.run(stopped));

    w.register("MUG-1", 5, 1).await;
    let last: (String, i64) = sqlx::query_as(
        "SELECT transaction_id::text, position FROM events
         ORDER BY transaction_id DESC, position DESC LIMIT 1",
    )
    .fetch_one(&w.db.pool)
    .await
    .unwrap();
    let batch = tokio::time::timeout(Duration::from_secs(30), committed.recv())
        .await
        .expect("an announcement")
        .unwrap();
    assert_eq!(batch.projection, "products");
    assert_eq!(
        (
            batch.position.transaction_id.to_string(),
            batch.position.position
        ),
        last
    );
    stop(&shutdown, handle).await;
}

/// A follower woken by commits right after it looked waits until `min_poll` has passed
/// since that look: a burst of commits is one read, not one per commit.
#[tokio::test]
async fn a_follower_looks_at_most_once_per_min_poll_under_load() {
    let db = tests::test_database().await;
    let store: Arc<dyn EventStore> = Arc::new(infrastructure::PgEventStore::new(db.pool.clone()));
    let wake = Arc::new(Notify::new());
    let min_poll = Duration::from_millis(300);
    let mut follower =
        projections::Follower::new(store, Arc::clone(&wake), min_poll, Duration::from_secs(5));
    let (_stop, mut shutdown) = watch::channel(false);

    let looked = tokio::time::Instant::now();
    follower.read(Position::START, 10).await.unwrap();
    wake.notify_waiters();
    follower.wait(std::future::pending(), &mut shutdown).await;
    assert!(
        looked.elapsed() >= min_poll,
        "looked again after {:?}",
        looked.elapsed()
    );
}
