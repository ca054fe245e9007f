//! The dashboard's counts over GraphQL: `orderCounts` (orders by status; the staff) and
//! `sagasInFlight` (sagas not yet final, by phase; operators and auditors).

use std::time::Duration;

use application::Role;
use serde_json::{Value, json};
use tests::{TestApp, graphql_data, graphql_error, spawn_app};

async fn tallies(app: &TestApp, field: &str, role: Role) -> Vec<(String, i64)> {
    let token = app.token("staff", role);
    let query = format!("{{ {field} {{ label count }} }}");
    let data = graphql_data(app.graphql(&query, json!({}), Some(&token)).await).await;
    data[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|t: &Value| {
            (
                t["label"].as_str().unwrap().to_owned(),
                t["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn orders_are_counted_by_status_and_sagas_in_flight_by_phase() {
    let app = spawn_app().await;
    app.register_product("TALLY-1", 10).await;
    let mut settled = Vec::new();
    for (customer, token) in [
        ("t-1", "tok_visa"),
        ("t-2", "tok_visa"),
        ("t-3", "tok_chargeDeclined"),
    ] {
        let order = app
            .place_order_paid_with(customer, &[("TALLY-1", 1)], token)
            .await;
        settled.push(app.settled_order(&order, Duration::from_secs(30)).await["status"].clone());
    }
    assert_eq!(settled, ["CONFIRMED", "CONFIRMED", "CANCELLED"]);
    // A payment the provider never answers keeps its saga in PAYING until the deadline.
    let waiting = app
        .place_order_paid_with("t-4", &[("TALLY-1", 1)], "tok_timeout")
        .await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let orders = tallies(&app, "orderCounts", Role::Operator).await;
        let sagas = tallies(&app, "sagasInFlight", Role::Auditor).await;
        let wanted = [
            ("CANCELLED".to_owned(), 1),
            ("CONFIRMED".to_owned(), 2),
            ("PENDING".to_owned(), 1),
        ];
        if orders == wanted && sagas == [("PAYING".to_owned(), 1)] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "orders {orders:?}, sagas {sagas:?} ({waiting})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        tallies(&app, "orderCounts", Role::Agent).await.len(),
        3,
        "agents count orders too"
    );

    let customer = app.token("t-1", Role::Customer);
    for field in ["orderCounts", "sagasInFlight"] {
        let query = format!("{{ {field} {{ label count }} }}");
        graphql_error(
            app.graphql(&query, json!({}), Some(&customer)).await,
            "FORBIDDEN",
        )
        .await;
    }
    let agent = app.token("agent-1", Role::Agent);
    graphql_error(
        app.graphql("{ sagasInFlight { label count } }", json!({}), Some(&agent))
            .await,
        "FORBIDDEN",
    )
    .await;
}
