//! Payment tokens are never kept, run against the real binary: after orders paid with every
//! token of the simulated provider (approved, declined, failing twice, timing out, captured
//! with the answer lost, approved late), no token is in any table but the provider's own
//! vault, in the REST history (pages and NDJSON), the GraphQL history, `domainflow events
//! export` or the server's log. An event an older version stored with its token is shown
//! redacted on each of those paths; `verify` passes, and the export verifies offline with
//! that event taken on its hash.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use serde_json::Value;
use tests::books::{SIMULATED_TOKENS as TOKENS, TOKEN_PREFIX, tables_holding};
use tests::{ServerProcess, TestApp, readers, test_database, text};
use uuid::Uuid;

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");
/// The token an older version kept in the log.
const OLD_TOKEN: &str = "tok_keptByAnOlderVersion";

/// Every place a reader sees the log, as text: REST pages, REST NDJSON, GraphQL and the
/// export.
async fn every_read_path(app: &TestApp, url: &str) -> [(&'static str, String); 4] {
    [
        ("REST page", readers::history_page(app).await.to_string()),
        ("REST NDJSON", readers::history_ndjson(app).await),
        (
            "GraphQL",
            readers::graphql_history(app, "eventType payload redacted").await,
        ),
        ("export", readers::export(BINARY, url)),
    ]
}

#[tokio::test]
async fn no_payment_token_is_kept_or_shown_and_one_stored_by_an_older_version_is_redacted() {
    let db = test_database().await;
    let (secret, secret_bytes) = tests::jwt_secret();
    let server = ServerProcess::start_logging(
        BINARY,
        &[
            "--database-url",
            &db.url,
            "--jwt-secret",
            &secret,
            "--payment-provider-timeout",
            "1s",
            "--payment-timeout",
            "5s",
        ],
        "debug,sqlx=warn,hyper=warn,h2=warn",
    )
    .await;
    let app = TestApp::attach(server.address.clone(), db, &secret_bytes);
    app.register_product("TOK-1", 20).await;
    let mut orders = Vec::new();
    for (n, token) in TOKENS.iter().enumerate() {
        let order = app
            .place_order_paid_with(&format!("payer-{n}"), &[("TOK-1", 1)], token)
            .await;
        orders.push(order);
    }
    let mut outcomes = Vec::new();
    for order in &orders {
        let settled = app.settled_order(order, Duration::from_secs(60)).await;
        outcomes.push(settled["status"].as_str().unwrap().to_owned());
    }
    assert!(
        outcomes.contains(&"CONFIRMED".to_owned()) && outcomes.contains(&"CANCELLED".to_owned()),
        "every payment path ran: {outcomes:?}"
    );
    // The order's payment method is the provider's reference, and its fingerprint.
    let (_, placed) = app.events("order", &orders[0]).await.remove(0);
    let method = &placed["paymentMethod"];
    assert!(
        method["reference"].as_str().unwrap().starts_with("pm_"),
        "{placed}"
    );
    assert!(
        method["fingerprint"].as_str().unwrap().starts_with("fp_"),
        "{placed}"
    );

    assert_eq!(
        tables_holding(&app.db.pool, TOKEN_PREFIX).await.unwrap(),
        []
    );
    for (path, shown) in every_read_path(&app, &app.db.url).await {
        assert!(
            !shown.contains(TOKEN_PREFIX),
            "{path} shows a token: {shown}"
        );
    }

    // An order placed by an older version, which kept the token in its event.
    let old_order = Uuid::now_v7();
    tests::legacy::append_placed_v1(&app.db.pool, old_order, "OLD-1", 1250, OLD_TOKEN).await;
    // The saga takes it in like any order (and cancels it: nobody sells OLD-1).
    let settled = app
        .settled_order(&old_order.to_string(), Duration::from_secs(30))
        .await;
    assert_eq!(settled["status"], "CANCELLED");
    // The stored bytes stay, in the log alone.
    assert_eq!(
        tables_holding(&app.db.pool, OLD_TOKEN).await.unwrap(),
        [("public.events".to_owned(), 1)]
    );
    let paths = every_read_path(&app, &app.db.url).await;
    for (path, shown) in &paths {
        assert!(
            !shown.contains(OLD_TOKEN),
            "{path} shows the old token: {shown}"
        );
    }
    let [(_, page), _, (_, graphql), (_, export)] = paths;
    let page: Value = serde_json::from_str(&page).unwrap();
    let old = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["streamId"] == old_order.to_string().as_str())
        .unwrap();
    assert_eq!(old["payload"]["paymentToken"], "redacted");
    assert_eq!(old["redacted"], true);
    assert!(
        graphql.contains(r#""redacted":true"#),
        "GraphQL marks the redacted event: {graphql}"
    );

    let verified = tests::run(BINARY, &["verify", "--database-url", &app.db.url]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    let file = std::env::temp_dir().join(format!("export-{}.ndjson", Uuid::now_v7()));
    std::fs::write(&file, &export).unwrap();
    let offline = tests::run(BINARY, &["verify", "--export", file.to_str().unwrap()]);
    std::fs::remove_file(&file).unwrap();
    assert!(offline.status.success(), "{}", text(&offline.stderr));
    assert!(
        text(&offline.stdout)
            .contains("1 of them show a redacted payment token and were taken on their hash"),
        "{}",
        text(&offline.stdout)
    );

    let logs = server.log_lines().join("\n");
    assert!(!logs.is_empty());
    assert!(
        !logs.contains(TOKEN_PREFIX),
        "the server logged a token: {logs}"
    );
}
