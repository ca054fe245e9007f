#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The order-fulfilment saga end to end: every outcome a client can observe (API.md, "Saga
//! outcomes"), retries, dead letters and their redrive, and a race for the last units.

use std::time::Duration;

use application::Role;
use serde_json::{Value, json};
use sqlx::Connection;
use tests::{TestApp, spawn_app, spawn_app_with_simulation};
use tests::{expect, graphql_data, graphql_error};

const SETTLE: Duration = Duration::from_secs(30);

/// A server whose saga retries quickly, gives up on a payment after `payment_timeout`, and
/// whose provider gives up on a call after 100 ms.
async fn quick_app(payment_timeout: Duration) -> TestApp {
    let simulation = infrastructure::SimulatedProvider::new(Duration::from_millis(100));
    spawn_app_with_simulation(std::sync::Arc::new(simulation), |config| {
        config.saga.options.retry.base = Duration::from_millis(20);
        config.saga.options.retry.cap = Duration::from_millis(100);
        config.saga.options.payment_timeout = payment_timeout;
        config.saga.breaker_cooldown = Duration::from_millis(200);
    })
    .await
}

fn levels(product: &Value) -> (i64, i64, i64) {
    (
        product["onHand"].as_i64().unwrap(),
        product["reserved"].as_i64().unwrap(),
        product["available"].as_i64().unwrap(),
    )
}

/// The tickets of `customer` that name `order`, as an agent sees them.
async fn tickets_about(app: &TestApp, customer: &str, order: &str) -> Vec<Value> {
    let agent = app.token("agent-1", Role::Agent);
    let data = graphql_data(
        app.graphql(
            "query($c: String!) { tickets(first: 50, customerId: $c) { edges { node { id orderId subject status } } } }",
            json!({ "c": customer }),
            Some(&agent),
        )
        .await,
    )
    .await;
    data["tickets"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"].clone())
        .filter(|ticket| ticket["orderId"] == order)
        .collect()
}

/// Waits until the ticket read model shows a ticket about `order`.
async fn ticket_about(app: &TestApp, customer: &str, order: &str) -> Value {
    for _ in 0..200 {
        if let Some(ticket) = tickets_about(app, customer, order).await.pop() {
            return ticket;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no ticket about order {order} was opened");
}

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

    let metrics = app.get("/metrics", None, &[]).await.text().await.unwrap();
    assert!(
        metrics.contains("domainflow_sagas{phase=\"CONFIRMED\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("domainflow_saga_dead_letters 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("domainflow_payment_circuit_state{state=\"closed\"} 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_line_out_of_stock_cancels_the_order_and_releases_every_other_line_uncharged() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    app.register_product("RARE-1", 1).await;
    let order = app
        .place_order_paid_with("alice", &[("MUG-1", 3), ("RARE-1", 2)], "tok_visa")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CANCELLED");
    assert_eq!(settled["cancellationReason"], "OUT_OF_STOCK");
    assert_eq!(levels(&app.product("MUG-1").await), (10, 0, 10));
    assert_eq!(levels(&app.product("RARE-1").await), (1, 0, 1));
    assert!(
        app.event_types("payment", &order).await.is_empty(),
        "nothing may be charged for an order that could not be reserved"
    );
}

#[tokio::test]
async fn a_declined_payment_cancels_releases_and_opens_a_ticket_naming_the_order() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 5).await;
    let order = app
        .place_order_paid_with("bob", &[("MUG-1", 2)], "tok_chargeDeclined")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CANCELLED");
    assert_eq!(settled["cancellationReason"], "PAYMENT_DECLINED");
    assert_eq!(settled["payment"]["status"], "DECLINED");
    assert_eq!(levels(&app.product("MUG-1").await), (5, 0, 5));
    let ticket = ticket_about(&app, "bob", &order).await;
    assert_eq!(ticket["status"], "OPEN");
    assert!(ticket["subject"].as_str().unwrap().contains(&order));
}

#[tokio::test]
async fn a_payment_not_settled_before_its_deadline_is_compensated_as_a_timeout() {
    let app = quick_app(Duration::from_millis(800)).await;
    app.register_product("MUG-1", 5).await;
    let order = app
        .place_order_paid_with("carol", &[("MUG-1", 1)], "tok_timeout")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CANCELLED");
    assert_eq!(settled["cancellationReason"], "PAYMENT_TIMEOUT");
    assert_eq!(settled["payment"]["status"], "FAILED");
    assert_eq!(levels(&app.product("MUG-1").await), (5, 0, 5));
    ticket_about(&app, "carol", &order).await;
    let deadlines: i64 = sqlx::query_scalar("SELECT count(*) FROM saga_deadlines")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(deadlines, 0, "a deadline that fired is gone");
}

#[tokio::test]
async fn cancelling_a_confirmed_order_refunds_the_payment_and_returns_the_stock() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 4).await;
    let order = app
        .place_order_paid_with("dave", &[("MUG-1", 3)], "tok_visa")
        .await;
    assert_eq!(
        app.settled_order(&order, SETTLE).await["status"],
        "CONFIRMED"
    );
    assert_eq!(levels(&app.product("MUG-1").await), (1, 0, 1));

    let dave = app.token("dave", Role::Customer);
    let path = format!("/api/orders/{order}/cancel");
    expect(
        app.post(&path, Some(&dave), json!({ "reason": "CUSTOMER_REQUEST" }))
            .await,
        202,
    )
    .await;

    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let order = app.order(&order).await;
        let product = app.product("MUG-1").await;
        if order["payment"]["status"] == "REFUNDED" && levels(&product) == (4, 0, 4) {
            assert_eq!(order["status"], "CANCELLED");
            assert_eq!(order["cancellationReason"], "CUSTOMER_REQUEST");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not compensated: {order} {product}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refunded = app
        .provider
        .refunded(uuid::Uuid::parse_str(&order).unwrap());
    assert_eq!(refunded.map(|m| m.minor()), Some(3750));
}

#[tokio::test]
async fn a_flaky_provider_is_retried_until_the_order_is_confirmed() {
    let app = quick_app(Duration::from_secs(30)).await;
    app.register_product("MUG-1", 5).await;
    let order = app
        .place_order_paid_with("erin", &[("MUG-1", 1)], "tok_flaky")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CONFIRMED");
    let payment = app.event_types("payment", &order).await;
    assert_eq!(
        payment,
        [
            "PaymentRequested",
            "PaymentFailedTransiently",
            "PaymentFailedTransiently",
            "PaymentAuthorized"
        ]
    );
}

#[tokio::test]
async fn a_provider_that_keeps_failing_ends_in_a_dead_letter_that_a_redrive_completes() {
    let app = quick_app(Duration::from_secs(120)).await;
    app.register_product("MUG-1", 5).await;
    app.provider.set_outage(true);
    let order = app
        .place_order_paid_with("fay", &[("MUG-1", 2)], "tok_visa")
        .await;
    let operator = app.token("operator-1", Role::Operator);

    // The charge is tried, recorded as failed each time, and finally dead-lettered.
    let letter = loop {
        let page = expect(
            app.get("/api/admin/dead-letters", Some(&operator), &[])
                .await,
            200,
        )
        .await;
        if let Some(letter) = page["items"].as_array().unwrap().first() {
            break letter.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(letter["orderId"], order);
    assert_eq!(letter["action"], "ChargePayment");
    assert!(letter["attempts"].as_i64().unwrap() >= 5, "{letter}");
    assert!(
        letter["error"]
            .as_str()
            .unwrap()
            .contains("charge attempts"),
        "{letter}"
    );
    assert_eq!(app.order(&order).await["status"], "PENDING");

    // GraphQL lists the same letter, to operators only.
    let listed = graphql_data(
        app.graphql(
            "{ deadLetters(first: 10) { edges { node { id orderId action attempts } } } }",
            json!({}),
            Some(&operator),
        )
        .await,
    )
    .await;
    let node = &listed["deadLetters"]["edges"][0]["node"];
    assert_eq!(node["id"], letter["id"].to_string());
    assert_eq!(node["orderId"], order);
    let customer = app.token("fay", Role::Customer);
    graphql_error(
        app.graphql(
            "{ deadLetters { edges { cursor } } }",
            json!({}),
            Some(&customer),
        )
        .await,
        "FORBIDDEN",
    )
    .await;

    // While the provider is still down, a redrive fails and the letter stays.
    let again = graphql_data(
        app.graphql(
            "mutation($id: ID!) { retryDeadLetter(input: { id: $id }) { status error attempts } }",
            json!({ "id": letter["id"].to_string() }),
            Some(&operator),
        )
        .await,
    )
    .await;
    assert_eq!(again["retryDeadLetter"]["status"], "FAILED", "{again}");
    let retry = format!("/api/admin/dead-letters/{}/retry", letter["id"]);

    app.provider.set_outage(false);
    tokio::time::sleep(Duration::from_millis(300)).await; // the circuit's cooldown
    let done = expect(app.post(&retry, Some(&operator), json!({})).await, 202).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CONFIRMED");
    assert_eq!(levels(&app.product("MUG-1").await), (3, 0, 3));
    let page = expect(
        app.get("/api/admin/dead-letters", Some(&operator), &[])
            .await,
        200,
    )
    .await;
    assert_eq!(page["items"], json!([]));
}

#[tokio::test]
async fn two_hundred_orders_racing_for_fifty_units_confirm_exactly_fifty() {
    let app = spawn_app().await;
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
async fn an_order_for_a_product_nobody_registered_is_cancelled_as_out_of_stock() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let order = app
        .place_order_paid_with("gus", &[("MUG-1", 1), ("GHOST-1", 1)], "tok_visa")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CANCELLED");
    assert_eq!(settled["cancellationReason"], "OUT_OF_STOCK");
    assert_eq!(levels(&app.product("MUG-1").await), (10, 0, 10));
    assert!(app.event_types("stock", "GHOST-1").await.is_empty());
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
        jwt_secret: secret.clone(),
        limits: interface::HttpLimits::default(),
        repository: application::RepositoryOptions::default(),
        max_connections: 8,
        saga: interface::SagaConfig::default(),
    };
    let server = interface::Application::build(config).await.unwrap();
    long.commit().await.unwrap();
    let address = format!("http://127.0.0.1:{}", server.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let same_database = tests::TestDatabase {
        url: before.db.url.clone(),
        pool: before.db.pool.clone(),
    };
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
