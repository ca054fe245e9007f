//! Projection status over real HTTP: `GET /api/admin/projections` and the GraphQL
//! `projections` query show every projection's position, lag and state; operators only.
//! `GET /metrics` asks for its token when one is set (its series are checked on a server
//! process of their own, in the binary's tests). And `projections::status` itself on a log the
//! workers have not read.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use application::commands::RegisterProduct;
use application::event_log::{CommandMetadata, Position};
use application::{Actor, Commands, EventStore, RepositoryOptions, Role};
use infrastructure::PgEventStore;
use projections::ProjectionState;
use serde_json::{Value, json};
use sqlx::{PgPool, Row};
use tests::{
    TestApp, expect, graphql_data, graphql_error, problem, spawn_app, spawn_app_with, test_database,
};
use uuid::Uuid;

const NAMES: [&str; 5] = ["orders", "products", "tickets", "payments", "fulfilment"];

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// The token of the last event of the log.
async fn last_position(pool: &PgPool) -> String {
    let row = sqlx::query(
        "SELECT transaction_id::text AS transaction_id, position FROM events
         ORDER BY transaction_id DESC, position DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    Position {
        transaction_id: row.get::<String, _>("transaction_id").parse().unwrap(),
        position: row.get("position"),
    }
    .token()
}

/// A few commands touching every projection.
async fn some_commands(app: &TestApp) {
    app.register_product("STATUS-1", 10).await;
    let order = app.place_order("alice", "STATUS-1", 2).await;
    app.confirm_order(&order).await;
    let ticket = app.open_ticket("alice").await;
    app.close_ticket("alice", &ticket).await;
}

/// Polls the admin endpoint (bounded) until every projection has lag 0.
async fn caught_up(app: &TestApp) -> Vec<Value> {
    let operator = app.token("olga", Role::Operator);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let body = expect(
            get(app, "/api/admin/projections", Some(&operator)).await,
            200,
        )
        .await;
        let list = body.as_array().unwrap().clone();
        if list.iter().all(|p| p["lagEvents"] == 0) {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "projections did not catch up: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn after_some_commands_every_projection_is_caught_up() {
    let app = spawn_app().await;
    some_commands(&app).await;
    let list = caught_up(&app).await;
    let last = last_position(&app.db.pool).await;
    let names: Vec<&str> = list.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, NAMES);
    for projection in &list {
        assert_eq!(projection["position"], last.as_str(), "{projection}");
        assert_eq!(projection["state"], "RUNNING", "{projection}");
        assert_eq!(projection["error"], Value::Null, "{projection}");
        assert_eq!(projection["lagSeconds"], 0.0, "{projection}");
    }

    let operator = app.token("olga", Role::Operator);
    let data = graphql_data(
        app.graphql(
            "{ projections { name position state error lagEvents lagSeconds } }",
            json!({}),
            Some(&operator),
        )
        .await,
    )
    .await;
    let graphql = data["projections"].as_array().unwrap();
    assert_eq!(graphql.len(), NAMES.len(), "{data}");
    for (projection, name) in graphql.iter().zip(NAMES) {
        assert_eq!(projection["name"], name);
        assert_eq!(projection["position"], last.as_str());
        assert_eq!(projection["state"], "RUNNING");
        assert_eq!(projection["lagEvents"], 0);
    }
}

#[tokio::test]
async fn only_operators_read_the_projection_status() {
    let app = spawn_app().await;
    for role in [Role::Customer, Role::Agent, Role::Auditor] {
        let token = app.token("someone", role);
        problem(
            get(&app, "/api/admin/projections", Some(&token)).await,
            403,
            "FORBIDDEN",
        )
        .await;
        graphql_error(
            app.graphql("{ projections { name } }", json!({}), Some(&token))
                .await,
            "FORBIDDEN",
        )
        .await;
    }
    problem(
        get(&app, "/api/admin/projections", None).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
    let operator = app.token("olga", Role::Operator);
    expect(
        get(&app, "/api/admin/projections", Some(&operator)).await,
        200,
    )
    .await;
}

fn meta() -> CommandMetadata {
    let id = Uuid::now_v7();
    CommandMetadata {
        command_id: id,
        correlation_id: id,
        causation_id: None,
        actor: "test".into(),
        client_correlation_id: None,
    }
}

#[tokio::test]
async fn without_workers_the_lag_is_the_whole_log_and_parked_projections_show_their_error() {
    let db = test_database().await;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(db.pool.clone()));
    let commands = Commands::new(
        store,
        &RepositoryOptions::default(),
        infrastructure::SimulatedProvider::simulation(),
    );
    for sku in ["LAG-1", "LAG-2", "LAG-3"] {
        let input = RegisterProduct {
            sku: sku.into(),
            name: format!("Product {sku}"),
            initial_quantity: 5,
            low_stock_threshold: 1,
            price: "3.00".into(),
            currency: "BRL".into(),
        };
        commands
            .register_product(&Actor::new("olga", Role::Operator), input, &meta())
            .await
            .unwrap();
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(total >= 3);
    // Let the oldest event age a little.
    tokio::time::sleep(Duration::from_millis(50)).await;

    // No checkpoint rows yet: position 0, the whole log behind.
    let statuses = projections::status(&db.pool).await.unwrap();
    // The saga never ran on this database: only the projections are listed.
    let expected: Vec<String> = projections::followers()
        .into_iter()
        .filter(|name| name != "fulfilment" && name != "relay")
        .collect();
    let names: Vec<String> = statuses.iter().map(|s| s.name.clone()).collect();
    assert_eq!(names, expected);
    for status in &statuses {
        assert_eq!(status.position, Position::START.token());
        assert_eq!(status.lag_events, total);
        assert!(status.lag_seconds >= 0.05, "{status:?}");
        assert_eq!(status.state, ProjectionState::Running);
    }

    // `products` caught up to the last event; `tickets` parked one event behind it.
    let last = last_position(&db.pool).await;
    let owner = db.owner_pool().await;
    let at = Position::from_token(&last).unwrap();
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, transaction_id, position, state, error)
         VALUES ('products', $1::text::xid8, $2, 'running', NULL),
                ('tickets', $1::text::xid8, $2 - 1, 'parked', 'boom')",
    )
    .bind(at.transaction_id.to_string())
    .bind(at.position)
    .execute(&owner)
    .await
    .unwrap();
    let statuses = projections::status(&db.pool).await.unwrap();
    let products = statuses.iter().find(|s| s.name == "products").unwrap();
    assert_eq!((products.lag_events, products.lag_seconds), (0, 0.0));
    assert_eq!(products.position, last);
    let tickets = statuses.iter().find(|s| s.name == "tickets").unwrap();
    assert_eq!(tickets.state, ProjectionState::Parked);
    assert_eq!(tickets.error.as_deref(), Some("boom"));
    assert_eq!(tickets.lag_events, 1);
    assert!(tickets.lag_seconds > 0.0);
    let orders = statuses.iter().find(|s| s.name == "orders").unwrap();
    assert_eq!(orders.lag_events, total);
}

#[tokio::test]
async fn with_a_metrics_token_a_scrape_must_send_it() {
    let app = spawn_app_with(|config| {
        config.limits.metrics_token = Some(application::api_keys::hash("scrape-secret"));
    })
    .await;

    for wrong in [None, Some("guess")] {
        problem(get(&app, "/metrics", wrong).await, 401, "UNAUTHENTICATED").await;
    }

    let response = get(&app, "/metrics", Some("scrape-secret")).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    assert!(
        // The refused scrapes above were counted.
        text.contains("route=\"/metrics\",method=\"GET\",status=\"401\"} "),
        "{text}"
    );
}
