//! An auditor changes nothing: every command of the OpenAPI document and every mutation of
//! the GraphQL schema answers FORBIDDEN to an auditor, before its input is looked at.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use application::Role;
use serde_json::{Map, Value, json};
use tests::{body_json, expect, graphql_error, problem, spawn_app_without_saga};
use uuid::Uuid;

const INTROSPECT_MUTATIONS: &str = "{ __schema {
    mutationType { fields { name args { name type { ...T } } type { ...T } } }
    types { name kind inputFields { name type { ...T } } enumValues { name } }
} }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The GraphQL spelling of a type reference of the introspection.
fn type_name(t: &Value) -> String {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", type_name(&t["ofType"])),
        "LIST" => format!("[{}]", type_name(&t["ofType"])),
        _ => t["name"].as_str().unwrap().to_owned(),
    }
}

/// A value of type `t` that passes GraphQL validation: every required field filled in, with
/// values no use case would accept for long (empty lists, a nil id).
fn value_of(t: &Value, types: &[Value]) -> Value {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" => value_of(&t["ofType"], types),
        "LIST" => json!([]),
        "ENUM" | "INPUT_OBJECT" => {
            let name = t["name"].as_str().unwrap();
            let named = types.iter().find(|ty| ty["name"] == name).unwrap();
            if let Some(values) = named["enumValues"].as_array() {
                return values[0]["name"].clone();
            }
            let fields = named["inputFields"].as_array().unwrap();
            Value::Object(
                fields
                    .iter()
                    .filter(|f| f["type"]["kind"] == "NON_NULL")
                    .map(|f| {
                        let name = f["name"].as_str().unwrap().to_owned();
                        (name, value_of(&f["type"], types))
                    })
                    .collect(),
            )
        }
        _ => match t["name"].as_str().unwrap() {
            "Int" | "Float" => json!(1),
            "Boolean" => json!(true),
            "ID" => json!(Uuid::nil()),
            "String" => json!("x"),
            _ => json!({}),
        },
    }
}

/// Every mutation of the schema as an operation with variables that pass validation.
async fn every_mutation() -> Vec<(String, String, Value)> {
    let schema = interface::graphql::schema(true);
    let answer = serde_json::to_value(schema.execute(INTROSPECT_MUTATIONS).await).unwrap();
    let types = answer["data"]["__schema"]["types"]
        .as_array()
        .unwrap()
        .clone();
    let fields = answer["data"]["__schema"]["mutationType"]["fields"]
        .as_array()
        .unwrap()
        .clone();
    fields
        .iter()
        .map(|field| {
            let name = field["name"].as_str().unwrap().to_owned();
            let args = field["args"].as_array().unwrap();
            let declared: Vec<String> = args
                .iter()
                .map(|a| {
                    format!(
                        "${}: {}",
                        a["name"].as_str().unwrap(),
                        type_name(&a["type"])
                    )
                })
                .collect();
            let passed: Vec<String> = args
                .iter()
                .map(|a| format!("{0}: ${0}", a["name"].as_str().unwrap()))
                .collect();
            let variables: Map<String, Value> = args
                .iter()
                .map(|a| {
                    (
                        a["name"].as_str().unwrap().to_owned(),
                        value_of(&a["type"], &types),
                    )
                })
                .collect();
            let mut returned = &field["type"];
            while returned["kind"] == "NON_NULL" || returned["kind"] == "LIST" {
                returned = &returned["ofType"];
            }
            let selection = if returned["kind"] == "OBJECT" {
                "{ __typename }"
            } else {
                ""
            };
            let operation = format!(
                "mutation Run({}) {{ {name}({}) {selection} }}",
                declared.join(", "),
                passed.join(", ")
            )
            .replace("Run()", "Run")
            .replace(&format!("{name}()"), &name);
            (name, operation, Value::Object(variables))
        })
        .collect()
}

#[tokio::test]
async fn an_auditor_is_forbidden_every_command_on_both_transports_whatever_the_input() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "AUD-1", 1).await;
    let ticket = app.open_ticket("alice").await;
    let auditor = app.token("audrey", Role::Auditor);
    let before = app.event_total().await;

    // REST: every POST of the OpenAPI document, with an empty body (any other role would
    // get a validation error or a rejection for most of them).
    let document = expect(app.get("/api/openapi.json", None, &[]).await, 200).await;
    let mut commands = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        if operations.get("post").is_none() {
            continue;
        }
        let id = if path.starts_with("/api/tickets") {
            &ticket
        } else {
            &order
        };
        let concrete = path
            .replace("{id}", id)
            .replace("{sku}", "AUD-1")
            .replace("{name}", "orders");
        let response = app.post(&concrete, Some(&auditor), json!({})).await;
        let body = problem(response, 403, "FORBIDDEN").await;
        assert!(
            body["detail"].as_str().unwrap().contains("auditor"),
            "{body}"
        );
        commands.push(path.clone());
    }
    assert!(
        commands.len() >= 10,
        "the document lists the commands: {commands:?}"
    );

    // GraphQL: every mutation of the schema, with input that passes validation.
    let mutations = every_mutation().await;
    assert!(mutations.len() >= 10, "{mutations:?}");
    for (name, operation, variables) in &mutations {
        let error = graphql_error(
            app.graphql(operation, variables.clone(), Some(&auditor))
                .await,
            "FORBIDDEN",
        )
        .await;
        assert!(
            error["message"].as_str().unwrap().contains("auditor"),
            "{name}: {error}"
        );
    }

    assert_eq!(app.event_total().await, before, "nothing was appended");
    app.db.log_settled().await;
    let response = app.get("/api/events", Some(&auditor), &[]).await;
    assert_eq!(
        body_json(response).await["events"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
