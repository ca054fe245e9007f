//! The log as its readers see it, each way it can be read: what tests of what must never
//! be shown (payment tokens, an erased customer's data) look through.

use application::Role;
use serde_json::{Value, json};

use crate::{TestApp, expect, run, text};

/// An auditor's first page of the history (up to 1000 events), `/api/events`.
///
/// # Panics
/// Unless the server answers 200.
pub async fn history_page(app: &TestApp) -> Value {
    let auditor = app.token("audrey", Role::Auditor);
    expect(
        app.get("/api/events?limit=1000", Some(&auditor), &[]).await,
        200,
    )
    .await
}

/// The whole history streamed as NDJSON to an auditor.
///
/// # Panics
/// When the answer cannot be read.
pub async fn history_ndjson(app: &TestApp) -> String {
    let auditor = app.token("audrey", Role::Auditor);
    app.get(
        "/api/events",
        Some(&auditor),
        &[("Accept", "application/x-ndjson")],
    )
    .await
    .text()
    .await
    .unwrap_or_else(|e| panic!("reading the NDJSON history: {e}"))
}

/// The first 100 events of the GraphQL history, with `fields` of each, as the answer's
/// text.
///
/// # Panics
/// When the answer cannot be read.
pub async fn graphql_history(app: &TestApp, fields: &str) -> String {
    let auditor = app.token("audrey", Role::Auditor);
    app.graphql(
        &format!("{{ events(first: 100) {{ edges {{ node {{ {fields} }} }} }} }}"),
        json!({}),
        Some(&auditor),
    )
    .await
    .text()
    .await
    .unwrap_or_else(|e| panic!("reading the GraphQL history: {e}"))
}

/// `domainflow events export` of the whole log of the database at `url`, run as `binary`.
///
/// # Panics
/// Unless the export succeeds.
#[must_use]
pub fn export(binary: &str, url: &str) -> String {
    let export = run(binary, &["events", "export", "--database-url", url]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    text(&export.stdout)
}
