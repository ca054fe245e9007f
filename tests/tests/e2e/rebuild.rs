//! Rebuilding read models without downtime: a rebuild from position zero yields exactly
//! the tables the live workers built; writes during a rebuild are neither lost nor applied
//! twice and queries keep answering; the REST and GraphQL endpoints start rebuilds for
//! operators only.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use application::{EventStore, Role};
use infrastructure::PgEventStore;
use projections::{Projections, Rebuild, RebuildOptions};
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::workload::{commands, register_catalogue, rounds};
use tests::{TestApp, expect, graphql_data, graphql_error, problem, spawn_app_without_saga};
use tokio::sync::watch;

/// Every row of every read model, as JSON, in primary-key order.
async fn read_models(pool: &PgPool) -> BTreeMap<&'static str, Vec<Value>> {
    let mut tables = BTreeMap::new();
    for (table, key) in [
        ("rm_orders", "id"),
        ("rm_tickets", "id"),
        ("rm_products", "sku"),
        ("rm_payments", "order_id"),
    ] {
        let rows: Vec<Value> =
            sqlx::query_scalar(&format!("SELECT to_jsonb(t) FROM {table} t ORDER BY {key}"))
                .fetch_all(pool)
                .await
                .unwrap();
        tables.insert(table, rows);
    }
    tables
}

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

/// Rebuilds every projection through the library, as `projections rebuild --all` does.
async fn rebuild_all(pool: &PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let (_keep, stop) = watch::channel(false);
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
        let mut seen = Vec::new();
        rebuild
            .run(|p| seen.push(p), stop.clone())
            .await
            .unwrap_or_else(|e| panic!("rebuilding {name}: {e}"));
        let last = seen.last().unwrap();
        assert!(last.applied >= last.total.min(1), "{name}: {seen:?}");
    }
}

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

/// A server without the saga, with 20 rounds of orders settled in its read models.
async fn settled_app() -> TestApp {
    let app = spawn_app_without_saga().await;
    let commands = commands(&app.db.pool);
    register_catalogue(&commands).await.unwrap();
    rounds(&commands, 0, 20, 1).await.unwrap();
    settled(&app).await;
    app
}

#[tokio::test]
async fn operators_start_rebuilds_over_rest_and_graphql() {
    let app = settled_app().await;
    let operator = app.token("olga", Role::Operator);
    // REST: 202, then the projection is rebuilt and serves the same rows.
    let response = app
        .post(
            "/api/admin/projections/orders/rebuild",
            Some(&operator),
            json!({}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 202);
    // GraphQL: the answer is the projection's status.
    let response = app
        .graphql(
            "mutation { rebuildProjection(input: {name: \"tickets\"}) { name state } }",
            json!({}),
            Some(&operator),
        )
        .await;
    let data = graphql_data(response).await;
    assert_eq!(data["rebuildProjection"]["name"], "tickets");
    let mut rebuilt = false;
    for _ in 0..300 {
        let rows: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM projection_checkpoints c
             WHERE c.name IN ('orders', 'tickets') AND c.updated_at > now() - interval '1 minute'
               AND NOT EXISTS (SELECT 1 FROM projection_rebuilds r WHERE r.name = c.name)",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        let all = statuses(&app).await;
        if rows == 2
            && all
                .iter()
                .all(|s| s["state"] == "RUNNING" && s["lagEvents"] == 0)
        {
            rebuilt = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        rebuilt,
        "the rebuilds did not finish: {:?}",
        statuses(&app).await
    );
    every_order_served(&app).await;
}

#[tokio::test]
async fn unknown_projections_and_other_roles_are_refused_a_rebuild() {
    let app = settled_app().await;
    let operator = app.token("olga", Role::Operator);
    let customer = app.token("customer-1", Role::Customer);
    // Unknown projection: 404 / NOT_FOUND.
    let response = app
        .post(
            "/api/admin/projections/nope/rebuild",
            Some(&operator),
            json!({}),
        )
        .await;
    problem(response, 404, "NOT_FOUND").await;
    let response = app
        .graphql(
            "mutation { rebuildProjection(input: {name: \"nope\"}) { name } }",
            json!({}),
            Some(&operator),
        )
        .await;
    graphql_error(response, "NOT_FOUND").await;

    // Other roles: 403 / FORBIDDEN; no credentials: 401.
    let response = app
        .post(
            "/api/admin/projections/orders/rebuild",
            Some(&customer),
            json!({}),
        )
        .await;
    problem(response, 403, "FORBIDDEN").await;
    let agent = app.token("agent-1", Role::Agent);
    let response = app
        .graphql(
            "mutation { rebuildProjection(input: {name: \"orders\"}) { name } }",
            json!({}),
            Some(&agent),
        )
        .await;
    graphql_error(response, "FORBIDDEN").await;
    let response = app
        .post("/api/admin/projections/orders/rebuild", None, json!({}))
        .await;
    problem(response, 401, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn one_rebuild_of_a_projection_runs_at_a_time_while_the_live_table_serves() {
    let app = settled_app().await;
    let operator = app.token("olga", Role::Operator);
    // One rebuild of a projection at a time: while one holds it, another is a CONFLICT, and
    // the status shows it rebuilding with its progress.
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(app.db.pool.clone()));
    let running = Rebuild::start(
        &app.db.pool,
        store,
        Projections::named("products").unwrap(),
        RebuildOptions::default(),
    )
    .await
    .unwrap();
    let response = app
        .post(
            "/api/admin/projections/products/rebuild",
            Some(&operator),
            json!({}),
        )
        .await;
    problem(response, 409, "CONFLICT").await;
    let products = statuses(&app)
        .await
        .into_iter()
        .find(|s| s["name"] == "products")
        .unwrap();
    assert_eq!(products["state"], "REBUILDING", "{products}");
    assert!(
        products["rebuild"]["total"].as_i64().unwrap() > 0,
        "{products}"
    );
    // The live table serves meanwhile.
    let response = app
        .graphql(
            "query { products(first: 3) { edges { node { sku } } } }",
            json!({}),
            Some(&operator),
        )
        .await;
    assert_eq!(
        graphql_data(response).await["products"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (_keep, stop) = watch::channel(false);
    running.run(|_| {}, stop).await.unwrap();
    every_order_served(&app).await;
}

/// Every order of the log has its row in the read model, and every ticket its row.
async fn every_order_served(app: &TestApp) {
    let models = read_models(&app.db.pool).await;
    for (event_type, table) in [("OrderPlaced", "rm_orders"), ("TicketOpened", "rm_tickets")] {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
            .bind(event_type)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        assert!(count > 0, "no {event_type} in the log");
        assert_eq!(
            models[table].len(),
            usize::try_from(count).unwrap(),
            "{table}"
        );
    }
}

/// Parks `name` as a failing handler would.
async fn park(app: &TestApp, name: &str) {
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, state, error) VALUES ($1, 'parked', 'boom')
         ON CONFLICT (name) DO UPDATE SET state = 'parked', error = 'boom'",
    )
    .bind(name)
    .execute(&app.db.pool)
    .await
    .unwrap();
}

async fn status_of(app: &TestApp, name: &str) -> Value {
    statuses(app)
        .await
        .into_iter()
        .find(|s| s["name"] == name)
        .unwrap()
}

#[tokio::test]
async fn a_parked_projection_goes_on_once_resumed_or_rebuilt() {
    let app = spawn_app_without_saga().await;
    app.register_product("PARK-1", 10).await;
    park(&app, "orders").await;
    let alice = app.token("alice", Role::Customer);
    let body = json!({
        "currency": "BRL",
        "lines": [{ "sku": "PARK-1", "quantity": 1, "unitPrice": "12.50" }],
        "paymentToken": "tok_visa",
    });
    let placed = expect(app.post("/api/orders", Some(&alice), body).await, 202).await;
    let order = placed["orderId"].as_str().unwrap();
    let at = placed["position"].as_str().unwrap();
    // Parked, the projection stays behind the new order.
    let orders = status_of(&app, "orders").await;
    assert_eq!(orders["state"], "PARKED", "{orders}");
    assert_eq!(orders["error"], "boom");
    assert!(orders["lagEvents"].as_i64().unwrap() >= 1, "{orders}");

    // `projections resume` un-parks it: the worker goes on and the order shows.
    let mut conn = app.db.pool.acquire().await.unwrap();
    assert!(
        projections::checkpoint::resume(&mut conn, "orders")
            .await
            .unwrap()
    );
    assert!(
        !projections::checkpoint::resume(&mut conn, "orders")
            .await
            .unwrap()
    );
    let response = app
        .client
        .get(app.url(&format!("/api/orders/{order}")))
        .bearer_auth(&alice)
        .header("X-Consistent-With", at)
        .send()
        .await
        .unwrap();
    assert_eq!(expect(response, 200).await["id"], order);

    // A rebuild clears a park too.
    park(&app, "orders").await;
    rebuild_all(&app.db.pool).await;
    settled(&app).await;
    assert_eq!(status_of(&app, "orders").await["error"], Value::Null);
}
