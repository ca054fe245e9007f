//! `/graphql` refuses what a hardened endpoint should: operations over GET, batches,
//! oversized bodies, too deep or too complex queries, other media types and, by default,
//! introspection; and `GET /graphql` serves GraphiQL with every file it loads.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use application::Role;
use reqwest::Response;
use serde_json::{Value, json};
use tests::{TestApp, body_json, expect, graphql_data, graphql_error, header, problem, spawn_app};

/// A GraphQL error answer refused before execution: `status`, no `data`, one error with
/// `code` `VALIDATION`.
async fn refused(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let body = body_json(response).await;
    assert_eq!(actual, status, "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "VALIDATION",
        "{body}"
    );
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    body
}

async fn event_total(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

const REGISTER: &str = "mutation { registerProduct(input: \
     { sku: \"MUG-1\", name: \"Mug\", price: \"9.90\", currency: \"BRL\" }) { id } }";

#[tokio::test]
async fn a_plain_query_is_answered() {
    let app = spawn_app().await;

    let data = graphql_data(app.graphql("{ apiVersion }", json!({}), None).await).await;

    assert!(
        data["apiVersion"].as_str().is_some_and(|v| !v.is_empty()),
        "{data}"
    );
}

#[tokio::test]
async fn an_operation_sent_with_get_is_refused_with_405() {
    let app = spawn_app().await;
    let operator = app.token("olga", Role::Operator);

    for query in [REGISTER, "{ apiVersion }"] {
        let response = app
            .client
            .get(app.url("/graphql"))
            .query(&[("query", query)])
            .bearer_auth(&operator)
            .send()
            .await
            .unwrap();
        assert_eq!(header(&response, "allow"), "POST");
        refused(response, 405).await;
    }

    assert_eq!(event_total(&app).await, 0);
}

#[tokio::test]
async fn a_batch_is_refused_with_400() {
    let app = spawn_app().await;
    let operator = app.token("olga", Role::Operator);
    let batch = json!([{ "query": REGISTER }, { "query": "{ apiVersion }" }]).to_string();

    let response = app
        .post_raw("/graphql", Some(&operator), "application/json", batch)
        .await;

    refused(response, 400).await;
    assert_eq!(event_total(&app).await, 0);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = spawn_app().await;
    let limit = interface::HttpLimits::default().max_body_bytes;
    let body = json!({ "query": "{ apiVersion }", "variables": { "pad": "x".repeat(limit) } });

    let response = app.post("/graphql", None, body).await;

    // The server's body limit answers before GraphQL reads a byte, as a problem document.
    let body = problem(response, 413, "VALIDATION").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&limit.to_string()),
        "{body}"
    );
}

#[tokio::test]
async fn a_query_nested_too_deep_is_refused() {
    let app = spawn_app().await;
    let of_type = "ofType { ".repeat(10) + "name" + &" }".repeat(10);
    let query = format!("{{ __type(name: \"Query\") {{ fields {{ type {{ {of_type} }} }} }} }}");

    let error = graphql_error(app.graphql(&query, json!({}), None).await, "VALIDATION").await;

    assert!(
        error["message"].as_str().unwrap().contains("too deep"),
        "{error}"
    );
}

#[tokio::test]
async fn a_query_too_complex_is_refused_and_the_whole_log_check_fits_once() {
    let app = spawn_app().await;
    let auditor = app.token("audra", Role::Auditor);
    // The integrity check walks the whole log: it costs most of a request's budget.
    let twice = "{ a: integrity { verified } b: integrity { verified } }";

    let error = graphql_error(
        app.graphql(twice, json!({}), Some(&auditor)).await,
        "VALIDATION",
    )
    .await;

    assert!(
        error["message"].as_str().unwrap().contains("too complex"),
        "{error}"
    );
    let once = graphql_data(
        app.graphql("{ integrity { verified } }", json!({}), Some(&auditor))
            .await,
    )
    .await;
    assert_eq!(once["integrity"]["verified"], true, "{once}");
}

#[tokio::test]
async fn an_alias_bomb_is_refused_before_anything_runs() {
    let app = spawn_app().await;
    let auditor = app.token("audra", Role::Auditor);
    let fields = |n: usize| -> String { (0..n).map(|i| format!("v{i}: apiVersion ")).collect() };

    let body = refused(
        app.graphql(&format!("{{ {} }}", fields(31)), json!({}), Some(&auditor))
            .await,
        400,
    )
    .await;

    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("at most 30 fields by an alias"), "{body}");
    // Spread through a fragment, the aliases count each time it is spread.
    let fragment = format!("fragment F on Query {{ {} }}", fields(16));
    refused(
        app.graphql(
            &format!("{{ ...F ...F }} {fragment}"),
            json!({}),
            Some(&auditor),
        )
        .await,
        400,
    )
    .await;
    let thirty = graphql_data(
        app.graphql(&format!("{{ {} }}", fields(30)), json!({}), Some(&auditor))
            .await,
    )
    .await;
    assert!(thirty["v29"].is_string(), "{thirty}");
}

#[tokio::test]
async fn request_errors_answer_400_to_clients_of_the_graphql_media_type() {
    let app = spawn_app().await;

    let response = app
        .post_with(
            "/graphql",
            None,
            json!({ "query": "{ apiVersion" }),
            &[("Accept", "application/graphql-response+json")],
        )
        .await;

    assert!(header(&response, "content-type").starts_with("application/graphql-response+json"));
    refused(response, 400).await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused_with_415() {
    let app = spawn_app().await;
    let operator = app.token("olga", Role::Operator);

    for content_type in [
        "application/graphql",
        "text/plain",
        "application/x-www-form-urlencoded",
    ] {
        let response = app
            .post_raw("/graphql", Some(&operator), content_type, REGISTER)
            .await;
        refused(response, 415).await;
    }

    assert_eq!(event_total(&app).await, 0);
}

#[tokio::test]
async fn introspection_and_field_suggestions_are_off_by_default() {
    let app = spawn_app().await;

    for (field, query) in [
        (
            "__schema",
            "{ __schema { queryType { name } types { name } } }",
        ),
        (
            "__type",
            "{ __type(name: \"Mutation\") { fields { name } } }",
        ),
    ] {
        let body = expect(app.graphql(query, json!({}), None).await, 200).await;
        // async-graphql answers a disabled introspection field with null rather than an error.
        assert_eq!(
            body["data"][field],
            Value::Null,
            "the schema leaked: {body}"
        );
        let text = body.to_string();
        assert!(
            !text.contains("placeOrder") && !text.contains("apiVersion"),
            "the schema leaked: {body}"
        );
    }
    let error = graphql_error(
        app.graphql("{ apiVersio }", json!({}), None).await,
        "VALIDATION",
    )
    .await;
    assert!(
        !error["message"].as_str().unwrap().contains("apiVersion"),
        "a suggestion: {error}"
    );
}

#[tokio::test]
async fn graphiql_is_served_with_every_file_it_loads() {
    let app = spawn_app().await;

    let page = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("GraphiQL"), "{html}");
    let assets: Vec<&str> = html
        .split('"')
        .filter(|part| part.starts_with("/graphql/assets/"))
        .collect();
    assert!(assets.len() >= 4, "the page loads {assets:?}");

    for asset in assets {
        let response = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{asset}");
        let content_type = header(&response, "content-type");
        let expected = if asset.contains(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            content_type.starts_with(expected),
            "{asset}: {content_type}"
        );
        assert!(
            !response.bytes().await.unwrap().is_empty(),
            "{asset} is empty"
        );
    }
    let missing = app
        .client
        .get(app.url("/graphql/assets/evil.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

/// Every string argument is parsed before it reaches the database: a NUL character, which
/// PostgreSQL refuses in text, answers `VALIDATION` for each filter, never `INTERNAL`.
#[tokio::test]
async fn a_nul_in_a_string_argument_is_a_validation_error() {
    let app = spawn_app().await;
    let ops = app.token("ops", Role::Operator);
    let queries = [
        "query($v: String!) { product(sku: $v) { sku } }",
        "query($v: String) { orders(customerId: $v) { edges { cursor } } }",
        "query($v: String) { tickets(customerId: $v) { edges { cursor } } }",
        "query($v: String) { tickets(assignee: $v) { edges { cursor } } }",
    ];
    for query in queries {
        let response = app
            .graphql(query, json!({ "v": "A\u{0}B" }), Some(&ops))
            .await;
        let error = graphql_error(response, "VALIDATION").await;
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| !m.contains("0x00")),
            "{error}"
        );
    }
}

/// A list cursor is parsed before it reaches the database: a product cursor that decodes to
/// something other than a SKU, or an order cursor beyond PostgreSQL's timestamps, answers
/// `VALIDATION`.
#[tokio::test]
async fn a_cursor_that_names_no_place_in_the_list_is_a_validation_error() {
    let app = spawn_app().await;
    let ops = app.token("ops", Role::Operator);
    let far = format!("{:016x}{}", i64::MAX / 2, "0".repeat(32));
    let queries = [
        (
            "query($v: String) { products(after: $v) { edges { cursor } } }",
            "s00".to_owned(),
        ),
        (
            "query($v: String) { orders(after: $v) { edges { cursor } } }",
            far.clone(),
        ),
        (
            "query($v: String) { tickets(after: $v) { edges { cursor } } }",
            far,
        ),
    ];
    for (query, cursor) in queries {
        let response = app.graphql(query, json!({ "v": cursor }), Some(&ops)).await;
        graphql_error(response, "VALIDATION").await;
    }
}
