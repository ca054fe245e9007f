//! A failing payment provider: retried until it answers, or a dead letter that an operator's
//! redrive completes.

use std::time::Duration;

use application::Role;
use serde_json::{Value, json};
use tests::{TestApp, expect, graphql_data, graphql_error, problem};

use super::{SETTLE, levels, quick_app};

/// The first dead letter listed, once there is one.
async fn first_dead_letter(app: &TestApp, operator: &str) -> Value {
    loop {
        let page = expect(
            app.get("/api/admin/dead-letters", Some(operator), &[])
                .await,
            200,
        )
        .await;
        if let Some(letter) = page["items"].as_array().unwrap().first() {
            return letter.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
    let letter = first_dead_letter(&app, &operator).await;
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

    // While another redrive of the letter runs (its lock held here), one more is refused.
    let mut other = app.db.pool.acquire().await.unwrap();
    let key = projections::saga::dead_letters::redrive_lock(letter["id"].as_i64().unwrap());
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
        .bind(&key)
        .fetch_one(&mut *other)
        .await
        .unwrap();
    assert!(held);
    problem(
        app.post(&retry, Some(&operator), json!({})).await,
        409,
        "CONFLICT",
    )
    .await;
    let _: bool = sqlx::query_scalar("SELECT pg_advisory_unlock(hashtext($1))")
        .bind(&key)
        .fetch_one(&mut *other)
        .await
        .unwrap();
    drop(other);

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
async fn a_payment_request_redriven_after_the_customer_cancelled_is_given_up() {
    let app = quick_app(Duration::from_secs(120)).await;
    app.register_product("MUG-1", 5).await;
    // Payments cannot be written for a while: the saga's request is dead-lettered.
    let owner = app.db.owner_pool().await;
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_payments() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'payments are refused for this test'; END $$;
         CREATE TRIGGER refuse_payments BEFORE INSERT ON events FOR EACH ROW
         WHEN (NEW.stream_type = 'payment') EXECUTE FUNCTION refuse_payments();",
    )
    .execute(&owner)
    .await
    .unwrap();
    let order = app
        .place_order_paid_with("gus", &[("MUG-1", 2)], "tok_visa")
        .await;
    let operator = app.token("operator-1", Role::Operator);
    let letter = first_dead_letter(&app, &operator).await;
    assert_eq!(letter["action"], "RequestPayment", "{letter}");

    // The customer cancels meanwhile: the stock goes back, and there is no payment to give up.
    let gus = app.token("gus", Role::Customer);
    let cancel = format!("/api/orders/{order}/cancel");
    expect(
        app.post(&cancel, Some(&gus), json!({ "reason": "CUSTOMER_REQUEST" }))
            .await,
        202,
    )
    .await;
    assert_eq!(
        app.settled_order(&order, SETTLE).await["status"],
        "CANCELLED"
    );

    // The operator redrives the request once payments can be written again: the request
    // lands after the cancel, and the saga gives it up rather than leave it waiting.
    sqlx::raw_sql("DROP TRIGGER refuse_payments ON events")
        .execute(&owner)
        .await
        .unwrap();
    let retry = format!("/api/admin/dead-letters/{}/retry", letter["id"]);
    let done = expect(app.post(&retry, Some(&operator), json!({})).await, 202).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let payment = app.event_types("payment", &order).await;
        let read = app.order(&order).await;
        if payment == ["PaymentRequested", "PaymentExpired"]
            && read["payment"]["status"] == "FAILED"
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the payment is left waiting: {payment:?}, {read}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(levels(&app.product("MUG-1").await), (5, 0, 5));
}
