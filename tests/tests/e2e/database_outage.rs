#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The server rides out a database outage: while PostgreSQL cannot be reached, commands and
//! queries answer 503 problem+json (`UNAVAILABLE`, with `Retry-After`) and readiness says
//! not ready; once it is back, everything (commands, projections, the saga) goes on by
//! itself, with nothing lost or applied twice.

use std::time::Duration;

use application::Role;
use serde_json::{Value, json};
use tests::cut::Link;
use tests::{expect, spawn_app_with};

#[tokio::test]
async fn commands_answer_503_while_the_database_is_away_and_resume_by_themselves() {
    let probe = tests::test_database().await;
    let link = Link::to_server_of(&probe.url).await;
    let app = spawn_app_with(|config| {
        config.database_url = link.url(&config.database_url);
        config.saga.options.payment_timeout = Duration::from_secs(5);
    })
    .await;
    let operator = app.token("ops", Role::Operator);
    app.register_product("MUG-1", 10).await;
    let before = app.place_order("alice", "MUG-1", 1).await;
    assert_eq!(
        app.settled_order(&before, Duration::from_secs(30)).await["status"],
        "CONFIRMED"
    );

    link.cut();
    let restock = || {
        app.post(
            "/api/products/MUG-1/restock",
            Some(&operator),
            json!({ "quantity": 1 }),
        )
    };
    let refused = restock().await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "UNAVAILABLE", "{problem}");
    assert_eq!(app.get("/health/ready", None, &[]).await.status(), 503);
    // A scrape reads what the process keeps, so it answers while the database is away.
    let scraped = app.get("/metrics", None, &[]).await;
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(text.contains("# TYPE domainflow_sagas gauge\n"), "{text}");
    let answer: Value = app
        .graphql(
            "mutation { restock(input: {sku: \"MUG-1\", quantity: 1}) { version } }",
            json!({}),
            Some(&operator),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{answer}"
    );
    let read = app.get("/api/products/MUG-1", Some(&operator), &[]).await;
    assert_eq!(read.status(), 503);

    link.mend();
    let mut restocked = 0;
    for _ in 0..100 {
        if restock().await.status() == 200 {
            restocked += 1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(restocked, 1, "commands did not resume within 20 s");
    assert_eq!(app.get("/health/ready", None, &[]).await.status(), 200);
    let after = app.place_order("bob", "MUG-1", 2).await;
    assert_eq!(
        app.settled_order(&after, Duration::from_secs(30)).await["status"],
        "CONFIRMED"
    );
    // Nothing lost, nothing doubled: one restock went through, two orders sold 3 units.
    assert_eq!(
        app.event_types("stock", "MUG-1")
            .await
            .iter()
            .filter(|t| *t == "StockRestocked")
            .count(),
        2,
        "the initial quantity and the one restock that was answered 200"
    );
    let mut product = Value::Null;
    for _ in 0..100 {
        product = expect(
            app.get("/api/products/MUG-1", Some(&operator), &[]).await,
            200,
        )
        .await;
        if product["onHand"] == 10 + 1 - 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(product["onHand"], 10 + 1 - 3, "{product}");
    assert_eq!(product["reserved"], 0, "{product}");
}
