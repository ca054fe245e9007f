//! GraphQL refuses what REST refuses, with the same error code.

use application::Role;
use serde_json::{Value, json};
use tests::spawn_app;

use super::{AGENT, ALICE, OPERATOR, mutate, order_input};

/// One request in both transports' words.
struct Twin {
    case: &'static str,
    caller: (&'static str, Role),
    mutation: &'static str,
    path: String,
    body: Value,
    input: Value,
}

/// The same request over REST (`path`, `body`) and as a mutation whose input is the body.
fn twin(
    case: &'static str,
    caller: (&'static str, Role),
    mutation: &'static str,
    path: &str,
    body: Value,
) -> Twin {
    Twin {
        case,
        caller,
        mutation,
        path: path.to_owned(),
        input: body.clone(),
        body,
    }
}

/// API.md: both transports are one API. The same request must be refused with the same code
/// whichever way it comes.
#[tokio::test]
async fn graphql_refuses_what_rest_refuses_with_the_same_code() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    app.register_product("MUG-1", 10).await;
    let line = |price: &str| json!([{ "sku": "MUG-1", "quantity": 1, "unitPrice": price }]);
    let bell = json!({ "subject": "Bell\u{7}", "message": "Hello" });
    let stranger = json!({ "customerId": "alice smith", "subject": "Hi", "message": "Hello" });
    let twins = [
        twin(
            "a zero price",
            ALICE,
            "placeOrder",
            "/api/orders",
            order_input(line("0.00")),
        ),
        twin(
            "a negative price",
            ALICE,
            "placeOrder",
            "/api/orders",
            order_input(line("-1.00")),
        ),
        twin(
            "a price other than the catalog price",
            ALICE,
            "placeOrder",
            "/api/orders",
            order_input(line("0.01")),
        ),
        twin(
            "a currency other than the product's",
            ALICE,
            "placeOrder",
            "/api/orders",
            json!({ "currency": "USD", "lines": [{ "sku": "MUG-1", "quantity": 1 }],
                    "paymentToken": "tok_visa" }),
        ),
        twin(
            "a product without a price",
            OPERATOR,
            "registerProduct",
            "/api/products",
            json!({ "sku": "MUG-2", "name": "Mug", "currency": "BRL" }),
        ),
        twin(
            "a control character in a subject",
            ALICE,
            "openTicket",
            "/api/tickets",
            bell,
        ),
        twin(
            "a customer id with a space",
            AGENT,
            "openTicket",
            "/api/tickets",
            stranger,
        ),
        Twin {
            input: json!({ "ticketId": ticket, "body": "Bell\u{7}" }),
            ..twin(
                "a control character in a message",
                ALICE,
                "postTicketMessage",
                &format!("/api/tickets/{ticket}/messages"),
                json!({ "body": "Bell\u{7}" }),
            )
        },
    ];

    let mut differences = Vec::new();
    for Twin {
        case,
        caller: (sub, role),
        mutation,
        path,
        body,
        input,
    } in twins
    {
        let token = app.token(sub, role);
        let rest = tests::body_json(app.post(&path, Some(&token), body).await).await;
        let graphql = tests::body_json(mutate(&app, mutation, input, sub, role).await).await;
        let rest_code = rest["code"].clone();
        let graphql_code = graphql["errors"][0]["extensions"]["code"].clone();
        if rest_code != graphql_code || rest_code.is_null() {
            differences.push(format!("{case}: REST {rest_code}, GraphQL {graphql_code}"));
        }
    }
    assert!(
        differences.is_empty(),
        "the transports disagree:\n{}",
        differences.join("\n")
    );
}
