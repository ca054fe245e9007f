//! Erasure by crypto-shredding, run against the real binary with a data key: customers'
//! ticket subjects, messages and resolutions are never at rest in the clear (not in the
//! log, not in a read model, not in an export, not in the server's log); after a customer
//! is erased (over REST, over GraphQL and from the command line), no read path shows any of
//! their personal data, read models rebuilt from the log show it erased too, other
//! customers' data is intact, `verify` and the offline export check pass, and each erasure
//! is in the history. A server without that key, or with another, refuses to start.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use application::Role;
use serde_json::{Value, json};
use tests::books::tables_holding;
use tests::{ServerProcess, TestApp, expect, readers, test_database, text};
use uuid::Uuid;

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");

/// What `customer` writes: subject, message, a later message and the resolution, each
/// marked with `customer`'s secret.
fn writings(customer: &str) -> [String; 4] {
    ["subject", "message", "reply", "resolution"].map(|what| format!("{customer}-{what}-secret"))
}

/// Opens a ticket as `customer`, adds a message and has an agent close it; its id.
async fn ticket_of(app: &TestApp, customer: &str) -> String {
    let [subject, message, reply, resolution] = writings(customer);
    let token = app.token(customer, Role::Customer);
    let opened = expect(
        app.post(
            "/api/tickets",
            Some(&token),
            json!({ "subject": subject, "message": message }),
        )
        .await,
        201,
    )
    .await;
    let id = opened["ticketId"].as_str().unwrap().to_owned();
    let path = format!("/api/tickets/{id}/messages");
    expect(
        app.post(&path, Some(&token), json!({ "body": reply }))
            .await,
        200,
    )
    .await;
    let agent = app.token("agent-1", Role::Agent);
    let path = format!("/api/tickets/{id}/close");
    let closing = json!({ "resolution": resolution });
    expect(app.post(&path, Some(&agent), closing).await, 200).await;
    id
}

/// The ticket `id` as its read model serves it, once it shows the close (version 3).
async fn ticket(app: &TestApp, id: &str) -> Value {
    let agent = app.token("agent-1", Role::Agent);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = app
            .get(&format!("/api/tickets/{id}"), Some(&agent), &[])
            .await;
        if response.status() == 200 {
            let ticket: Value = response.json().await.unwrap();
            if ticket["version"] == 3 {
                return ticket;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "ticket {id} never settled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The subject, messages and resolution `ticket` shows.
fn shown(ticket: &Value) -> Vec<String> {
    let mut texts = vec![ticket["subject"].as_str().unwrap().to_owned()];
    for message in ticket["messages"].as_array().unwrap() {
        texts.push(message["body"].as_str().unwrap().to_owned());
    }
    texts.push(ticket["resolution"].as_str().unwrap().to_owned());
    texts
}

/// The whole history as an auditor pages it, and as the GraphQL history shows it.
async fn history(app: &TestApp) -> (Vec<Value>, String) {
    let page = readers::history_page(app).await;
    let graphql = readers::graphql_history(app, "streamType eventType payload").await;
    (page["events"].as_array().unwrap().clone(), graphql)
}

fn export(url: &str) -> String {
    readers::export(BINARY, url)
}

#[tokio::test]
async fn an_erased_customer_reads_as_erased_everywhere_and_the_log_still_verifies() {
    let dir = std::env::temp_dir().join(format!("erasure-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("data.key");
    let key = key.to_str().unwrap();
    let generated = tests::run(BINARY, &["data-key", "generate", key]);
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let again = tests::run(BINARY, &["data-key", "generate", key]);
    assert!(!again.status.success(), "a key is never replaced");

    let db = test_database().await;
    let (secret, secret_bytes) = tests::jwt_secret();
    let server = ServerProcess::start_logging(
        BINARY,
        &[
            "--database-url",
            &db.url,
            "--jwt-secret",
            &secret,
            "--data-key",
            key,
        ],
        "debug,sqlx=warn,hyper=warn,h2=warn",
    )
    .await;
    let app = TestApp::attach(server.address.clone(), db, &secret_bytes);
    let customers = ["ann", "bob", "cy", "dee"];
    let mut tickets = Vec::new();
    for customer in customers {
        tickets.push(ticket_of(&app, customer).await);
    }
    for (customer, id) in customers.iter().zip(&tickets) {
        assert_eq!(
            shown(&ticket(&app, id).await),
            writings(customer),
            "{customer}"
        );
    }
    // Nothing anyone wrote is at rest in the clear, nor in an export.
    assert_eq!(tables_holding(&app.db.pool, "-secret").await.unwrap(), []);
    assert!(!export(&app.db.url).contains("-secret"));
    let (page, _) = history(&app).await;
    assert!(
        serde_json::to_string(&page)
            .unwrap()
            .contains("ann-subject-secret"),
        "auditors read the history in the plain"
    );

    // Erasing: only operators; a malformed id is refused.
    for role in [Role::Customer, Role::Agent, Role::Auditor] {
        let token = app.token("ann", role);
        let refused = app
            .post("/api/customers/ann/erasure", Some(&token), json!({}))
            .await;
        assert_eq!(refused.status(), 403, "{role:?}");
    }
    let operator = app.token("operator-1", Role::Operator);
    let bad = app
        .post("/api/customers/a%20b/erasure", Some(&operator), json!({}))
        .await;
    assert_eq!(bad.status(), 422);
    // ann over REST, cy over GraphQL, dee from the command line.
    let erased = expect(
        app.post("/api/customers/ann/erasure", Some(&operator), json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(
        (erased["streamType"].as_str(), erased["id"].as_str()),
        (Some("customer"), Some("ann")),
        "{erased}"
    );
    let graphql = tests::graphql_data(
        app.graphql(
            "mutation { eraseCustomer(input: {customerId: \"cy\"}) { version } }",
            json!({}),
            Some(&operator),
        )
        .await,
    )
    .await;
    assert_eq!(graphql["eraseCustomer"]["version"], 1);
    let cli = tests::run(
        BINARY,
        &[
            "customers",
            "erase",
            "dee",
            "--data-key",
            key,
            "--database-url",
            &app.db.url,
        ],
    );
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    assert!(text(&cli.stdout).contains("customer dee erased"));

    let erased = ["ann", "cy", "dee"];
    for (customer, id) in customers.iter().zip(&tickets) {
        let texts = shown(&ticket(&app, id).await);
        if erased.contains(customer) {
            assert!(
                texts.iter().all(|t| t == "[erased]"),
                "{customer}: {texts:?}"
            );
        } else {
            assert_eq!(texts, writings(customer), "{customer} is intact");
        }
    }
    // A ticket followed live shows the same.
    let mut ws = tests::ws::connect(&app, &app.token("agent-1", Role::Agent)).await;
    let query = "subscription($id: ID!) { ticketUpdated(id: $id) { subject resolution } }";
    for (n, id) in tickets.iter().enumerate().take(2) {
        let sub = format!("s{n}");
        tests::ws::subscribe(&mut ws, &sub, query, json!({ "id": id })).await;
        let first = tests::ws::next_of(&mut ws, &sub).await;
        let followed = &first["payload"]["data"]["ticketUpdated"];
        let expected = if n == 0 {
            "[erased]"
        } else {
            "bob-subject-secret"
        };
        assert_eq!(followed["subject"], expected, "{first}");
    }
    let check = |what: &str, text: &str| {
        for customer in erased {
            assert!(
                !text.contains(&format!("{customer}-")),
                "{what} shows {customer}'s data"
            );
        }
        assert!(
            text.contains("bob-subject-secret"),
            "{what} lost bob's data"
        );
    };
    let (page, graphql) = history(&app).await;
    check("the REST history", &serde_json::to_string(&page).unwrap());
    check("the GraphQL history", &graphql);
    let records: Vec<&Value> = page
        .iter()
        .filter(|event| event["eventType"] == "CustomerErased")
        .collect();
    assert_eq!(records.len(), 3, "each erasure is in the history");
    assert!(
        records.iter().all(|r| r["payload"]["keysDestroyed"] == 1),
        "{records:?}"
    );

    // A value changed where it is stored reads as unreadable, and nothing else suffers.
    app.db
        .break_glass(&format!(
            "UPDATE rm_tickets SET subject = left(subject, -2) || 'AA' WHERE id = '{}'",
            tickets[1]
        ))
        .await;
    let tampered = ticket(&app, &tickets[1]).await;
    assert_eq!(tampered["subject"], "[unreadable]", "{tampered}");
    assert_eq!(
        tampered["resolution"], "bob-resolution-secret",
        "{tampered}"
    );

    // Read models rebuilt from the log show the same.
    let rebuilt = tests::run(
        BINARY,
        &[
            "projections",
            "rebuild",
            "--all",
            "--database-url",
            &app.db.url,
        ],
    );
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    for (customer, id) in customers.iter().zip(&tickets) {
        let texts = shown(&ticket(&app, id).await);
        assert_eq!(
            erased.contains(customer),
            texts[0] == "[erased]",
            "{customer}: {texts:?}"
        );
    }
    assert_eq!(tables_holding(&app.db.pool, "-secret").await.unwrap(), []);

    // The log is as it was: its chains hold, and so does an export, offline.
    let verified = tests::run(BINARY, &["verify", "--database-url", &app.db.url]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    let exported = export(&app.db.url);
    assert!(!exported.contains("-secret"));
    let file = dir.join("events.ndjson");
    std::fs::write(&file, exported).unwrap();
    let offline = tests::run(BINARY, &["verify", "--export", file.to_str().unwrap()]);
    assert!(offline.status.success(), "{}", text(&offline.stderr));
    // No process may write this database's personal data in the clear, or under another key.
    let without = crate::serve_refused_on(&app.db.url, &["--jwt-secret", &secret]).await;
    assert!(
        without.contains("start with the --data-key it was written with"),
        "{without}"
    );
    let other = dir.join("other.key");
    let other = other.to_str().unwrap();
    assert!(
        tests::run(BINARY, &["data-key", "generate", other])
            .status
            .success()
    );
    let wrong =
        crate::serve_refused_on(&app.db.url, &["--jwt-secret", &secret, "--data-key", other]).await;
    assert!(wrong.contains("is not the key this database"), "{wrong}");
    std::fs::remove_dir_all(&dir).unwrap();

    // A key row given to another customer no longer opens: what it protected reads as
    // unreadable, not as the other customer's.
    app.db
        .break_glass("UPDATE customer_keys SET customer_id = 'zed' WHERE customer_id = 'bob'")
        .await;
    let moved = ticket(&app, &tickets[1]).await;
    assert_eq!(moved["subject"], "[unreadable]", "{moved}");

    let logs = server.log_lines().join("\n");
    assert!(!logs.is_empty());
    assert!(
        !logs.contains("-secret"),
        "the server logged what a customer wrote: {logs}"
    );
}
