//! The event history as auditors query it: one order's causal chain, REST pages and
//! NDJSON, GraphQL connections and roles, and the integrity report of the hash chains.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod graphql;
mod integrity;
mod rest;

use std::collections::BTreeSet;

use application::Role;
use serde_json::Value;
use tests::{TestApp, expect, graphql_data};

fn auditor(app: &TestApp) -> String {
    app.token("audrey", Role::Auditor)
}

async fn query(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    graphql_data(app.graphql(query, variables, Some(token)).await).await
}

/// The (streamType, streamId, eventType) of each event in a list of history events.
fn kinds(events: &[Value]) -> BTreeSet<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["streamType"].as_str().unwrap().to_owned(),
                e["streamId"].as_str().unwrap().to_owned(),
                e["eventType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The events whose positions (`position` tokens) rise strictly: the global order.
fn assert_global_order(events: &[Value]) {
    let positions: Vec<application::event_log::Position> = events
        .iter()
        .map(|e| {
            application::event_log::Position::from_token(e["position"].as_str().unwrap()).unwrap()
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "not in the global order: {positions:?}"
    );
}

/// Every page of `GET /api/events` with `filters`, followed through `next`.
async fn all_pages(app: &TestApp, token: &str, filters: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = String::new();
    loop {
        let path = format!("/api/events?limit=2{filters}{after}");
        let page = expect(app.get(&path, Some(token), &[]).await, 200).await;
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => return events,
        }
    }
}
