//! A parked projection goes on once it is resumed or rebuilt; a failed rebuild names its event.

use application::Role;
use serde_json::{Value, json};
use tests::{TestApp, expect, spawn_app_without_saga};

use super::{rebuild_all, settled, statuses};

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

/// A rebuild writes each shadow table once per batch; when that write fails, the batch is
/// applied again one event at a time, so the error names the event at fault, and the live
/// tables keep serving as they were.
#[tokio::test]
async fn a_rebuild_that_fails_on_an_event_names_it_and_leaves_the_live_tables_serving() {
    let app = spawn_app_without_saga().await;
    for sku in ["MUG-1", "POISON-1", "PEN-1"] {
        app.register_product(sku, 5).await;
    }
    settled(&app).await;
    let owner = app.db.owner_pool().await;
    sqlx::query(
        "ALTER TABLE read_model_shadow.rm_products
         ADD CONSTRAINT no_poison CHECK (sku <> 'POISON-1')",
    )
    .execute(&owner)
    .await
    .unwrap();

    let store: std::sync::Arc<dyn application::EventStore> =
        std::sync::Arc::new(infrastructure::PgEventStore::new(app.db.pool.clone()));
    let rebuild = projections::Rebuild::start(
        &app.db.pool,
        store,
        std::sync::Arc::new(projections::Products),
        projections::RebuildOptions::default(),
    )
    .await
    .unwrap();
    let (_keep, stop) = tokio::sync::watch::channel(false);
    let error = rebuild.run(|_| {}, stop).await.unwrap_err().to_string();
    assert!(error.contains("stock/POISON-1"), "{error}");
    assert!(error.contains("no_poison"), "{error}");

    let skus: Vec<String> = sqlx::query_scalar("SELECT sku FROM rm_products ORDER BY sku")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(skus, ["MUG-1", "PEN-1", "POISON-1"]);
    assert_eq!(status_of(&app, "products").await["state"], "RUNNING");
}
