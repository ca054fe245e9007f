//! Orders the saga confirms: stock reserved and sold, payment captured, exactly as many
//! confirmed as there are units, and orders from before the saga left alone.

use std::time::Duration;

use sqlx::Connection;
use tests::{TestApp, spawn_app, spawn_app_with};

use super::{SETTLE, levels};

#[tokio::test]
async fn reserved_and_paid_orders_are_confirmed_and_their_stock_is_sold() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let order = app
        .place_order_paid_with("alice", &[("MUG-1", 2)], "tok_visa")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CONFIRMED");
    assert_eq!(settled["payment"]["status"], "SUCCEEDED");
    assert_eq!(settled["payment"]["amount"], "25.00");
    assert_eq!(levels(&app.product("MUG-1").await), (8, 0, 8));
}

#[tokio::test]
async fn two_hundred_orders_racing_for_fifty_units_confirm_exactly_fifty() {
    // Two hundred customers at once, all from the test's one address.
    let app = spawn_app_with(|config| config.limits.max_in_flight_per_address = 256).await;
    app.register_product("HOT-1", 50).await;

    let placed = futures::future::join_all((0..200).map(|i| {
        let app = &app;
        async move {
            app.place_order_paid_with(&format!("racer-{i}"), &[("HOT-1", 1)], "tok_visa")
                .await
        }
    }))
    .await;

    let mut confirmed = 0;
    let mut out_of_stock = 0;
    for order in &placed {
        let settled = app.settled_order(order, Duration::from_secs(120)).await;
        match (
            settled["status"].as_str(),
            settled["cancellationReason"].as_str(),
        ) {
            (Some("CONFIRMED"), _) => confirmed += 1,
            (Some("CANCELLED"), Some("OUT_OF_STOCK")) => out_of_stock += 1,
            other => panic!("unexpected outcome {other:?} for {order}"),
        }
    }
    assert_eq!((confirmed, out_of_stock), (50, 150));
    assert_eq!(levels(&app.product("HOT-1").await), (0, 0, 0));

    // No count went negative at any point: replay the SKU's log version by version.
    let (mut on_hand, mut reserved) = (0_i64, 0_i64);
    for (event_type, payload) in app.events("stock", "HOT-1").await {
        let quantity = payload["quantity"].as_i64().unwrap_or(0);
        match event_type.as_str() {
            "StockRestocked" => on_hand += quantity,
            "StockReserved" => reserved += quantity,
            "StockReleased" => reserved -= quantity,
            "StockCommitted" => {
                reserved -= quantity;
                on_hand -= quantity;
            }
            _ => {}
        }
        assert!(
            on_hand >= 0 && reserved >= 0 && on_hand - reserved >= 0,
            "after {event_type}"
        );
    }
    assert_eq!((on_hand, reserved), (0, 0));
}

#[tokio::test]
async fn a_saga_started_on_a_database_with_history_leaves_earlier_orders_alone() {
    // Orders placed while no saga ran (a database from before fulfilment existed) ...
    let before = tests::spawn_app_without_saga().await;
    before.register_product("OLD-1", 5).await;
    // Meanwhile a long transaction runs on the cluster (a report, say): it is older than
    // the order.
    let mut reporting = sqlx::PgConnection::connect(&before.db.url).await.unwrap();
    let mut long = reporting.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *long)
        .await
        .unwrap();
    let old = before
        .place_order_paid_with("hal", &[("OLD-1", 1)], "tok_visa")
        .await;

    // ... are history to a saga that starts later on the same database: it begins at the
    // end of the log. Orders placed from then on are fulfilled.
    let secret = format!("test-secret-{}", uuid::Uuid::new_v4().simple()).into_bytes();
    let config = interface::ServerConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        database_url: before.db.url.clone(),
        jwt: infrastructure::JwtKeys::new(&secret).unwrap_or_else(|e| panic!("test JWT keys: {e}")),
        limits: interface::HttpLimits::default(),
        repository: application::RepositoryOptions::default(),
        max_connections: 8,
        saga: interface::SagaConfig::default(),
        role: interface::app::ProcessRole::Api { workers: true },
        broker: None,
        sealing: None,
        data_key: None,
    };
    let server = interface::Application::build(config).await.unwrap();
    long.commit().await.unwrap();
    let address = format!("http://127.0.0.1:{}", server.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let same_database = before.db.clone();
    let after = TestApp::attach(address, same_database, &secret);
    let new = after
        .place_order_paid_with("hal", &[("OLD-1", 1)], "tok_visa")
        .await;
    assert_eq!(
        after.settled_order(&new, SETTLE).await["status"],
        "CONFIRMED"
    );
    assert_eq!(after.order(&old).await["status"], "PENDING");
    assert_eq!(after.event_types("order", &old).await, ["OrderPlaced"]);
    drop(stop);
}
