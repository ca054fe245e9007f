#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Server processes killed with SIGKILL while sagas are mid-flight: a restarted server, or
//! a second server sharing the database, brings every saga to its outcome; no command is
//! applied twice, no stock is leaked, and the money matches the outcomes.

use std::collections::HashMap;
use std::time::Duration;

use application::Role;
use tests::{ServerProcess, TestApp, test_database};

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");

/// Half approving, a quarter each declining and timing out.
const TOKENS: [&str; 4] = ["tok_visa", "tok_chargeDeclined", "tok_timeout", "tok_visa"];

#[tokio::test]
async fn a_killed_server_resumes_every_saga_without_repeating_or_leaking_anything() {
    let db = test_database().await;
    let (secret, secret_bytes) = tests::jwt_secret();
    let url = db.url.clone();
    let args = server_args(&url, &secret);
    let server = ServerProcess::start(BINARY, &args).await;
    let mut app = TestApp::attach(server.address.clone(), db, &secret_bytes);
    app.register_product("CRASH-1", 40).await;

    let placed = place_forty(&[&app]).await;

    // Mid-flight: some sagas have started, few (if any) have finished.
    server.kill().await;
    assert!(
        finished(&app).await < 40,
        "every saga had finished before the kill"
    );
    let server = ServerProcess::start(BINARY, &args).await;
    app.address.clone_from(&server.address);

    assert_came_out_whole(&app, &placed).await;
    server.kill().await;
}

#[tokio::test]
async fn two_servers_on_one_database_run_one_saga_and_the_survivor_finishes_what_the_killed_one_started()
 {
    let db = test_database().await;
    let (secret, secret_bytes) = tests::jwt_secret();
    let separator = if db.url.contains('?') { '&' } else { '?' };
    let (url_a, url_b) = (
        format!("{}{separator}application_name=df-server-a", db.url),
        format!("{}{separator}application_name=df-server-b", db.url),
    );
    let a = ServerProcess::start(BINARY, &server_args(&url_a, &secret)).await;
    let b = ServerProcess::start(BINARY, &server_args(&url_b, &secret)).await;
    let mut app_a = TestApp::attach(a.address.clone(), db, &secret_bytes);
    let app_b = TestApp::attach(b.address.clone(), app_a.db.clone(), &secret_bytes);
    app_a.register_product("CRASH-1", 40).await;

    // Orders come in through both servers; one of them runs the saga.
    let placed = place_forty(&[&app_a, &app_b]).await;
    let runner = saga_runner(&app_a).await;
    assert!(
        finished(&app_a).await < 40,
        "every saga had finished before the kill"
    );

    // The runner dies mid-batch; the other server takes the saga over.
    let survivor = if runner == "df-server-a" {
        a.kill().await;
        app_a.address.clone_from(&app_b.address);
        b
    } else {
        b.kill().await;
        a
    };

    assert_came_out_whole(&app_a, &placed).await;
    assert_eq!(
        saga_runner(&app_a).await,
        if runner == "df-server-a" {
            "df-server-b"
        } else {
            "df-server-a"
        }
    );
    survivor.kill().await;
}

fn server_args<'a>(url: &'a str, secret: &'a str) -> [&'a str; 8] {
    [
        "--database-url",
        url,
        "--jwt-secret",
        secret,
        "--payment-timeout",
        "6s",
        // Two servers (each with its provider's pool) beside the other tests running at
        // once stay well under the database's connection limit.
        "--max-connections",
        "8",
    ]
}

/// Forty orders of one `CRASH-1` each, paid with [`TOKENS`] in turn, placed through `apps`
/// in turn; each with its token.
async fn place_forty(apps: &[&TestApp]) -> Vec<(String, &'static str)> {
    futures::future::join_all((0..40).map(|i| {
        let app = apps[i % apps.len()];
        let token = TOKENS[i % TOKENS.len()];
        async move {
            let order = app
                .place_order_paid_with(&format!("c-{i}"), &[("CRASH-1", 1)], token)
                .await;
            (order, token)
        }
    }))
    .await
}

/// How many sagas have reached their outcome.
async fn finished(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM saga_fulfilments WHERE phase IN ('CONFIRMED', 'CANCELLED')",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

/// The application name of the connection holding the saga's lock, once one holds it.
async fn saga_runner(app: &TestApp) -> String {
    for _ in 0..300 {
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)
             WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()
               AND ((l.classid::bigint << 32) | l.objid::bigint)
                   = hashtext('saga:fulfilment')::bigint",
        )
        .fetch_optional(&app.db.pool)
        .await
        .unwrap();
        if let Some(holder) = holder {
            return holder;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no server took the saga's lock within 30 s");
}

/// Every order reached the outcome its token calls for; the stock of the twenty sold
/// units left and nothing stayed reserved; the simulated provider holds the money of the
/// confirmed orders only; no fact was recorded twice; one ticket per failed order; no dead
/// letter.
async fn assert_came_out_whole(app: &TestApp, placed: &[(String, &str)]) {
    let mut confirmed = 0;
    for (order, token) in placed {
        let settled = app.settled_order(order, Duration::from_secs(90)).await;
        let outcome = (
            settled["status"].as_str().unwrap(),
            settled["cancellationReason"].as_str(),
        );
        let expected = match *token {
            "tok_visa" => ("CONFIRMED", None),
            "tok_chargeDeclined" => ("CANCELLED", Some("PAYMENT_DECLINED")),
            _ => ("CANCELLED", Some("PAYMENT_TIMEOUT")),
        };
        assert_eq!(outcome, expected, "order {order} paid with {token}");
        confirmed += usize::from(outcome.0 == "CONFIRMED");
    }
    assert_eq!(confirmed, 20);

    // No stock leaked: 20 sold, nothing left reserved.
    let product = app.product("CRASH-1").await;
    assert_eq!(
        (product["onHand"].as_i64(), product["reserved"].as_i64()),
        (Some(20), Some(0)),
        "{product}"
    );

    // The money: captured and kept for exactly the confirmed orders.
    let kept: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT payment_id FROM simulated_payments
         WHERE outcome = 'approved' AND refunded_minor IS NULL ORDER BY payment_id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let mut paid: Vec<uuid::Uuid> = placed
        .iter()
        .filter(|(_, token)| *token == "tok_visa")
        .map(|(order, _)| uuid::Uuid::parse_str(order).unwrap())
        .collect();
    paid.sort();
    assert_eq!(
        kept, paid,
        "the provider keeps the money of the confirmed orders only"
    );

    // No command applied twice: per order, each kind of fact happened at most once.
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT stream_type, stream_id, event_type, payload ->> 'orderId' FROM events",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let mut facts: HashMap<(String, String, String), usize> = HashMap::new();
    for (stream_type, stream_id, event_type, order) in rows {
        if event_type == "PaymentFailedTransiently" || stream_type == "ticket" {
            continue;
        }
        let about = order.unwrap_or_else(|| stream_id.clone());
        *facts.entry((stream_type, about, event_type)).or_default() += 1;
    }
    let repeated: Vec<_> = facts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "facts recorded twice: {repeated:?}");
    let tickets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'TicketOpened'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(tickets, 20, "one ticket per declined or timed-out order");

    let operator = app.token("operator-1", Role::Operator);
    let letters = tests::expect(
        app.get("/api/admin/dead-letters", Some(&operator), &[])
            .await,
        200,
    )
    .await;
    assert_eq!(letters["items"], serde_json::json!([]));
}
