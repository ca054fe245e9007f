//! Every GraphQL mutation of API.md over real HTTP: a success (the command result and the
//! event it recorded), an input the limits refuse (`VALIDATION`) and a refusal by the rules
//! (`REJECTED` with its `reason`, or `NOT_FOUND`/`FORBIDDEN` where no rule can refuse).

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod orders;
mod parity;
mod products;
mod tickets;

use application::Role;
use reqwest::Response;
use serde_json::{Value, json};
use tests::{TestApp, graphql_data, graphql_error};

/// Runs mutation `name` (whose input type is `<Name>Input`) with `input` as `role` `sub`.
async fn mutate(app: &TestApp, name: &str, input: Value, sub: &str, role: Role) -> Response {
    let input_type = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    let query = format!(
        "mutation Run($input: {input_type}!) {{ {name}(input: $input) \
         {{ id streamType version position orderId ticketId }} }}"
    );
    let token = app.token(sub, role);
    app.graphql(&query, json!({ "input": input }), Some(&token))
        .await
}

/// The command result of a mutation that must have worked.
async fn succeeds(app: &TestApp, name: &str, input: Value, sub: &str, role: Role) -> Value {
    let data = graphql_data(mutate(app, name, input, sub, role).await).await;
    let result = data[name].clone();
    assert!(result["id"].is_string(), "{data}");
    assert!(result["version"].as_i64().is_some_and(|v| v > 0), "{data}");
    assert!(
        result["position"].as_str().is_some_and(|p| !p.is_empty()),
        "{data}"
    );
    result
}

/// The error of a mutation that must have failed with `code`, at the mutation's path.
async fn fails(app: &TestApp, name: &str, input: Value, role: (&str, Role), code: &str) -> Value {
    let error = graphql_error(mutate(app, name, input, role.0, role.1).await, code).await;
    if code != "VALIDATION" || error.get("path").is_some() {
        assert_eq!(error["path"], json!([name]), "{error}");
    }
    error
}

/// The error of a mutation a business rule refused with `reason`.
async fn rejected(app: &TestApp, name: &str, input: Value, role: (&str, Role), reason: &str) {
    let error = fails(app, name, input, role, "REJECTED").await;
    assert_eq!(error["extensions"]["reason"], reason, "{error}");
}

const OPERATOR: (&str, Role) = ("olga", Role::Operator);
const ALICE: (&str, Role) = ("alice", Role::Customer);
const AGENT: (&str, Role) = ("arthur", Role::Agent);

fn order_input(lines: Value) -> Value {
    json!({ "currency": "BRL", "lines": lines, "paymentToken": "tok_visa" })
}
