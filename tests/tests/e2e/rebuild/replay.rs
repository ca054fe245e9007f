//! What a rebuild produces: the tables the live workers built, even while writes arrive.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use application::Role;
use serde_json::json;
use tests::workload::{commands, register_catalogue, rounds};
use tests::{TestApp, graphql_data, spawn_app_without_saga};

use super::{event_count, read_models, rebuild_all, settled, statuses};

/// Rebuilds every projection from position zero and checks that the tables come out
/// exactly as the live workers left them. Processes reacting to the log (fulfilment and its
/// deadlines) may still append now and then: a comparison the log moved under is retried
/// once things settle again.
async fn assert_rebuild_matches_live(app: &TestApp) {
    for _ in 0..3 {
        settled(app).await;
        let events = event_count(&app.db.pool).await;
        let live = read_models(&app.db.pool).await;
        assert!(
            live.values().all(|rows| !rows.is_empty()),
            "an empty read model"
        );
        rebuild_all(&app.db.pool).await;
        if event_count(&app.db.pool).await != events {
            continue;
        }
        let rebuilt = read_models(&app.db.pool).await;
        for (table, rows) in &live {
            assert_eq!(
                rows.len(),
                rebuilt[table].len(),
                "{table}: row counts differ"
            );
            for (before, after) in rows.iter().zip(&rebuilt[table]) {
                assert_eq!(before, after, "{table}: a row differs");
            }
        }
        return;
    }
    panic!("the log never stood still for a whole rebuild");
}

#[tokio::test]
async fn rebuilding_every_projection_from_zero_yields_the_tables_the_live_workers_built() {
    let app = spawn_app_without_saga().await;
    let commands = commands(&app.db.pool);
    register_catalogue(&commands).await.unwrap();
    rounds(&commands, 0, 500, 4).await.unwrap();
    settled(&app).await;
    let events = event_count(&app.db.pool).await;
    assert!(events >= 3000, "only {events} events");
    let live = read_models(&app.db.pool).await;
    assert!(
        live.values().all(|rows| !rows.is_empty()),
        "an empty read model"
    );

    rebuild_all(&app.db.pool).await;

    assert_eq!(event_count(&app.db.pool).await, events, "the log moved on");
    let rebuilt = read_models(&app.db.pool).await;
    for (table, rows) in &live {
        assert_eq!(
            rows.len(),
            rebuilt[table].len(),
            "{table}: row counts differ"
        );
        for (before, after) in rows.iter().zip(&rebuilt[table]) {
            assert_eq!(before, after, "{table}: a row differs");
        }
    }
    // The live workers go on from the rebuilds' checkpoints: nothing left to apply.
    let all = statuses(&app).await;
    assert!(
        all.iter()
            .all(|s| s["lagEvents"] == 0 && s["state"] == "RUNNING"),
        "{all:?}"
    );
}

const ORDERS_AND_PRODUCTS: &str = "query {
    orders(first: 5) { edges { node { id status total } } }
    products(first: 5) { edges { node { sku onHand } } }
    tickets(first: 5) { edges { node { id status order { id } } } }
}";

#[tokio::test]
async fn a_rebuild_while_writes_arrive_misses_and_doubles_nothing_and_queries_keep_answering() {
    let app = Arc::new(spawn_app_without_saga().await);
    let commands = commands(&app.db.pool);
    register_catalogue(&commands).await.unwrap();
    rounds(&commands, 0, 150, 2).await.unwrap();
    settled(&app).await;

    // Writers and readers run throughout the rebuild.
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (commands, done) = (Arc::clone(&commands), Arc::clone(&done));
        tokio::spawn(async move {
            let mut n = 1000;
            while !done.load(Ordering::Relaxed) {
                rounds(&commands, n, n + 4, 2).await.unwrap();
                n += 4;
            }
            n - 1000
        })
    };
    let answered = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (app, done, answered) = (Arc::clone(&app), Arc::clone(&done), Arc::clone(&answered));
        tokio::spawn(async move {
            let operator = app.token("olga", Role::Operator);
            while !done.load(Ordering::Relaxed) {
                let response = app
                    .graphql(ORDERS_AND_PRODUCTS, json!({}), Some(&operator))
                    .await;
                let data = graphql_data(response).await;
                for list in ["orders", "products", "tickets"] {
                    let edges = data[list]["edges"].as_array().unwrap();
                    assert!(
                        !edges.is_empty(),
                        "{list} answered empty during the rebuild"
                    );
                }
                answered.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    rebuild_all(&app.db.pool).await;
    // More writes after the swap land on the rebuilt tables.
    let before = event_count(&app.db.pool).await;
    while event_count(&app.db.pool).await < before + 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    reader.await.unwrap();
    assert!(written > 0 && answered.load(Ordering::Relaxed) > 0);

    // What the live workers hold now is exactly what a build from scratch of the whole log
    // gives: an event lost or applied twice around the swap would show.
    assert_rebuild_matches_live(&app).await;
    let live = read_models(&app.db.pool).await;
    let placed = app.orders_placed().await;
    assert_eq!(live["rm_orders"].len(), usize::try_from(placed).unwrap());
}
