//! The integrity report: an untouched log verifies, and a broken hash chain is named at its
//! exact link.

use application::Role;
use serde_json::json;
use tests::{TestApp, command_result, spawn_app_without_saga};

use super::{auditor, query};

const INTEGRITY: &str = "query($type: String, $id: String) {
    integrity(streamType: $type, streamId: $id) {
        verified events streams report
        brokenLink { streamType streamId version expected found problem }
    }
}";

#[tokio::test]
async fn integrity_verifies_an_untouched_log_and_names_the_exact_broken_link() {
    let app = spawn_app_without_saga().await;
    app.register_product("INT-1", 5).await;
    let operator = app.token("olga", Role::Operator);
    let restock = json!({ "quantity": 1 });
    command_result(
        app.post("/api/products/INT-1/restock", Some(&operator), restock)
            .await,
        200,
    )
    .await;
    let first = app.place_order("alice", "INT-1", 1).await;
    let second = app.place_order("bob", "INT-1", 1).await;
    app.close_ticket("alice", &app.open_ticket("alice").await)
        .await;
    app.db.log_settled().await;
    let auditor = auditor(&app);

    let report = query(&app, &auditor, INTEGRITY, json!({})).await["integrity"].clone();
    assert_eq!(
        report,
        json!({
            "verified": true, "events": 7, "streams": 4, "brokenLink": null,
            "report": "verified 7 events in 4 streams",
        })
    );

    // A tampered payload: the stored hash no longer matches the content.
    let stored = recorded_hashes(&app, &first).await;
    app.db
        .break_glass(&format!(
            "UPDATE events SET payload = jsonb_set(payload, '{{paymentToken}}', '\"tok_x\"') \
             WHERE stream_type = 'order' AND stream_id = '{first}'"
        ))
        .await;
    let report = query(&app, &auditor, INTEGRITY, json!({})).await["integrity"].clone();
    let link = &report["brokenLink"];
    assert_eq!(report["verified"], false);
    assert_eq!(
        (&link["streamType"], &link["streamId"], &link["version"]),
        (&json!("order"), &json!(first), &json!(1))
    );
    assert_eq!(
        link["found"], stored[0],
        "the stored hash is what was found"
    );
    assert_ne!(link["expected"], link["found"]);
    assert_eq!(link["problem"], "stored content does not match its hash");
    assert_eq!(
        report["report"],
        format!(
            "broken link in order/{first} at version 1: stored content does not match its \
             hash (expected hash {}, found {})",
            link["expected"].as_str().unwrap(),
            stored[0]
        )
    );

    // A deleted row: the stream's next version no longer links. The other order's stream
    // is checked on its own, past the first break.
    app.db
        .break_glass("DELETE FROM events WHERE stream_type = 'stock' AND version = 2")
        .await;
    let stock = query(
        &app,
        &auditor,
        INTEGRITY,
        json!({ "type": "stock", "id": "INT-1" }),
    )
    .await["integrity"]
        .clone();
    assert_eq!(stock["verified"], false, "{stock}");
    assert_eq!(stock["brokenLink"]["version"], 3);
    assert_eq!(stock["brokenLink"]["problem"], "version 2 is missing");
    let untouched = query(
        &app,
        &auditor,
        INTEGRITY,
        json!({ "type": "order", "id": second }),
    )
    .await;
    assert_eq!(
        untouched["integrity"]["report"],
        "verified 1 events in 1 streams"
    );
}

/// The hashes of an order stream's events as the history shows them, by version.
async fn recorded_hashes(app: &TestApp, order: &str) -> Vec<String> {
    app.history_stream("order", order)
        .await
        .iter()
        .map(|node| node["hash"].as_str().unwrap().to_owned())
        .collect()
}
