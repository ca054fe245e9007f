//! Asking for a rebuild: operators start one over REST and GraphQL, others and unknown
//! projections are refused, and one rebuild of a projection runs at a time.

use std::sync::Arc;
use std::time::Duration;

use application::{EventStore, Role};
use infrastructure::PgEventStore;
use projections::{Projections, Rebuild, RebuildOptions};
use serde_json::json;
use tests::workload::{commands, register_catalogue, rounds};
use tests::{TestApp, graphql_data, graphql_error, problem, spawn_app_without_saga};
use tokio::sync::watch;

use super::{read_models, settled, statuses};

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
