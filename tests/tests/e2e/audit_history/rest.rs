//! The history over REST: pages in the global order, NDJSON streaming and refused filters.

use application::Role;
use serde_json::Value;
use tests::{expect, header, problem, spawn_app_without_saga};
use uuid::Uuid;

use super::{all_pages, assert_global_order, auditor, kinds};

#[tokio::test]
async fn the_rest_history_pages_streams_ndjson_and_refuses_bad_filters() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "HIS-1", 1).await;
    app.open_ticket("alice").await;
    app.db.log_settled().await;
    let auditor = auditor(&app);

    let paged = all_pages(&app, &auditor, "").await;
    assert_eq!(paged.len(), 2, "the placed order, the opened ticket");
    assert_global_order(&paged);
    let first = &paged[0];
    for field in [
        "position",
        "streamType",
        "streamId",
        "version",
        "eventType",
        "eventVersion",
        "payload",
        "metadata",
        "recordedAt",
        "hash",
    ] {
        assert!(!first[field].is_null(), "{field} in {first}");
    }
    assert_eq!(first["hash"].as_str().unwrap().len(), 64);

    let response = app
        .get(
            "/api/events",
            Some(&auditor),
            &[("Accept", "application/x-ndjson")],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/x-ndjson");
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines, paged, "NDJSON lines are the page's events");

    let only_orders = all_pages(&app, &auditor, "&streamType=order&actor=alice").await;
    assert_eq!(kinds(&only_orders).len(), 1);
    assert_eq!(only_orders[0]["streamId"], order.as_str());
    let later = all_pages(
        &app,
        &auditor,
        &format!(
            "&from={}",
            urlencode(paged[1]["recordedAt"].as_str().unwrap())
        ),
    )
    .await;
    assert_eq!(later, paged[1..], "from is inclusive");

    let stream = expect(
        app.get(
            &format!("/api/streams/order/{order}/events"),
            Some(&auditor),
            &[],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(stream["events"].as_array().unwrap(), &paged[..1]);
    problem(
        app.get(
            &format!("/api/streams/order/{}/events", Uuid::now_v7()),
            Some(&auditor),
            &[],
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;

    for bad in [
        "after=nope",
        "limit=0",
        "limit=1001",
        "limit=ten",
        "streamType=orders",
        "correlationId=123",
        "from=yesterday",
        "to=2026-13-01T00:00:00Z",
        "actor=%00",
    ] {
        let response = app
            .get(&format!("/api/events?{bad}"), Some(&auditor), &[])
            .await;
        problem(response, 422, "VALIDATION").await;
    }
    problem(
        app.get("/api/streams/orders/x/events", Some(&auditor), &[])
            .await,
        422,
        "VALIDATION",
    )
    .await;

    for role in [Role::Customer, Role::Agent] {
        let token = app.token("someone", role);
        for path in ["/api/events", &format!("/api/streams/order/{order}/events")] {
            problem(app.get(path, Some(&token), &[]).await, 403, "FORBIDDEN").await;
        }
    }
    problem(
        app.get("/api/events", None, &[]).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
