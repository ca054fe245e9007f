//! Every GraphQL mutation of API.md over real HTTP: a success (the command result and the
//! event it recorded), an input the limits refuse (`VALIDATION`) and a refusal by the rules
//! (`REJECTED` with its `reason`, or `NOT_FOUND`/`FORBIDDEN` where no rule can refuse).

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use application::Role;
use reqwest::Response;
use serde_json::{Value, json};
use tests::{TestApp, graphql_data, graphql_error, spawn_app, spawn_app_without_saga};
use uuid::Uuid;

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

#[tokio::test]
async fn register_product_registers_refuses_a_bad_sku_and_rejects_a_second_registration() {
    let app = spawn_app().await;
    let input = json!({ "sku": "MUG-1", "name": "Mug", "initialQuantity": 5,
                        "price": "12.50", "currency": "BRL" });

    let result = succeeds(
        &app,
        "registerProduct",
        input.clone(),
        "olga",
        Role::Operator,
    )
    .await;
    assert_eq!(
        (result["id"].as_str(), result["streamType"].as_str()),
        (Some("MUG-1"), Some("stock"))
    );
    assert_eq!(
        app.event_types("stock", "MUG-1").await,
        ["ProductRegistered", "StockRestocked"]
    );

    let bad_sku = json!({ "sku": "MUG 2", "name": "Mug", "price": "1", "currency": "BRL" });
    fails(&app, "registerProduct", bad_sku, OPERATOR, "VALIDATION").await;
    let no_price = json!({ "sku": "MUG-2", "name": "Mug", "currency": "BRL" });
    fails(&app, "registerProduct", no_price, OPERATOR, "VALIDATION").await;
    let free = json!({ "sku": "MUG-2", "name": "Mug", "price": "0", "currency": "BRL" });
    fails(&app, "registerProduct", free, OPERATOR, "VALIDATION").await;
    rejected(
        &app,
        "registerProduct",
        input,
        OPERATOR,
        "AlreadyRegistered",
    )
    .await;
    assert_eq!(app.event_types("stock", "MUG-1").await.len(), 2);
    assert!(app.events("stock", "MUG 2").await.is_empty());
    assert!(app.events("stock", "MUG-2").await.is_empty());
}

#[tokio::test]
async fn reprice_product_reprices_refuses_a_bad_price_and_finds_no_unknown_sku() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 5).await;

    let result = succeeds(
        &app,
        "repriceProduct",
        json!({ "sku": "MUG-1", "price": "14.90" }),
        "olga",
        Role::Operator,
    )
    .await;
    assert_eq!(
        (result["id"].as_str(), result["version"].as_i64()),
        (Some("MUG-1"), Some(3))
    );
    assert_eq!(
        app.events("stock", "MUG-1").await.last().unwrap(),
        &(
            "ProductRepriced".to_owned(),
            json!({ "priceMinor": 1490, "currency": "BRL" })
        )
    );

    for bad in [json!("0"), json!("1.999"), json!("cheap")] {
        let input = json!({ "sku": "MUG-1", "price": bad });
        fails(&app, "repriceProduct", input, OPERATOR, "VALIDATION").await;
    }
    let unknown = json!({ "sku": "NOPE-1", "price": "1.00" });
    fails(&app, "repriceProduct", unknown, OPERATOR, "NOT_FOUND").await;
    assert_eq!(app.events("stock", "MUG-1").await.len(), 3);
}

#[tokio::test]
async fn restock_adds_units_refuses_zero_and_rejects_an_overflow_or_an_unknown_sku() {
    let app = spawn_app().await;
    let billion = 1_000_000_000;
    app.register_product("MUG-1", billion).await;

    for _ in 0..3 {
        let result = succeeds(
            &app,
            "restock",
            json!({ "sku": "MUG-1", "quantity": billion }),
            "olga",
            Role::Operator,
        )
        .await;
        assert_eq!(result["streamType"], "stock");
    }
    let restocks = app.events("stock", "MUG-1").await;
    assert_eq!(
        restocks.last().unwrap(),
        &("StockRestocked".to_owned(), json!({ "quantity": billion }))
    );

    fails(
        &app,
        "restock",
        json!({ "sku": "MUG-1", "quantity": 0 }),
        OPERATOR,
        "VALIDATION",
    )
    .await;
    // Four billion units are on hand: a fifth billion does not fit.
    rejected(
        &app,
        "restock",
        json!({ "sku": "MUG-1", "quantity": billion }),
        OPERATOR,
        "QuantityOverflow",
    )
    .await;
    fails(
        &app,
        "restock",
        json!({ "sku": "NOPE-1", "quantity": 1 }),
        OPERATOR,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(app.events("stock", "MUG-1").await.len(), restocks.len());
}

#[tokio::test]
async fn place_order_places_refuses_a_lower_case_currency_and_rejects_a_duplicate_sku() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let line = json!({ "sku": "MUG-1", "quantity": 2, "unitPrice": "12.50" });

    let result = succeeds(
        &app,
        "placeOrder",
        order_input(json!([line])),
        "alice",
        Role::Customer,
    )
    .await;
    let order = result["orderId"].as_str().unwrap();
    assert_eq!(
        (result["id"].as_str(), result["version"].as_i64()),
        (Some(order), Some(1))
    );
    let placed = app.events("order", order).await;
    assert_eq!(placed[0].0, "OrderPlaced");
    assert_eq!(placed[0].1["customerId"], "alice", "{}", placed[0].1);

    let lower_case = json!({ "currency": "brl", "lines": [line], "paymentToken": "tok_visa" });
    fails(&app, "placeOrder", lower_case, ALICE, "VALIDATION").await;
    let three_decimals =
        order_input(json!([{ "sku": "MUG-1", "quantity": 1, "unitPrice": "12.505" }]));
    fails(&app, "placeOrder", three_decimals, ALICE, "VALIDATION").await;
    rejected(
        &app,
        "placeOrder",
        order_input(json!([line, line])),
        ALICE,
        "DuplicateSku",
    )
    .await;
    let orders = app.orders_placed().await;
    assert_eq!(orders, 1);
}

#[tokio::test]
async fn an_input_of_the_wrong_type_is_a_validation_error_without_data() {
    let app = spawn_app().await;
    let input = order_input(json!([{ "sku": "MUG-1", "quantity": "two", "unitPrice": "1.00" }]));

    let error = graphql_error(
        mutate(&app, "placeOrder", input, "alice", Role::Customer).await,
        "VALIDATION",
    )
    .await;

    assert!(error.get("path").is_none(), "{error}");
}

#[tokio::test]
async fn cancel_order_cancels_refuses_a_bad_id_and_rejects_a_second_cancellation() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let input = json!({ "orderId": order, "reason": "CUSTOMER_REQUEST" });

    let result = succeeds(&app, "cancelOrder", input.clone(), "alice", Role::Customer).await;
    assert_eq!(result["orderId"], order.as_str());
    assert_eq!(
        app.event_types("order", &order).await,
        ["OrderPlaced", "OrderCancelled"]
    );

    fails(
        &app,
        "cancelOrder",
        json!({ "orderId": "not-a-uuid" }),
        ALICE,
        "VALIDATION",
    )
    .await;
    let fulfilment_reason = json!({ "orderId": order, "reason": "PAYMENT_DECLINED" });
    fails(&app, "cancelOrder", fulfilment_reason, ALICE, "VALIDATION").await;
    rejected(&app, "cancelOrder", input, ALICE, "AlreadyCancelled").await;
    assert_eq!(app.event_types("order", &order).await.len(), 2);
}

#[tokio::test]
async fn ship_order_ships_refuses_a_bad_id_and_rejects_a_pending_order() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let confirmed = app.place_order("alice", "MUG-1", 1).await;
    app.confirm_order(&confirmed).await;
    // A payment that never answers keeps this one pending (until its 30 s deadline).
    let pending = app
        .place_order_paid_with("alice", &[("MUG-1", 1)], "tok_timeout")
        .await;

    let result = succeeds(
        &app,
        "shipOrder",
        json!({ "orderId": confirmed }),
        "olga",
        Role::Operator,
    )
    .await;
    assert_eq!(result["orderId"], confirmed.as_str());
    let events = app.event_types("order", &confirmed).await;
    assert_eq!(events.last().map(String::as_str), Some("OrderShipped"));

    fails(
        &app,
        "shipOrder",
        json!({ "orderId": "42" }),
        OPERATOR,
        "VALIDATION",
    )
    .await;
    rejected(
        &app,
        "shipOrder",
        json!({ "orderId": pending }),
        OPERATOR,
        "NotConfirmed",
    )
    .await;
    let unknown = Uuid::now_v7().to_string();
    fails(
        &app,
        "shipOrder",
        json!({ "orderId": unknown }),
        OPERATOR,
        "NOT_FOUND",
    )
    .await;
    let pending_events = app.event_types("order", &pending).await;
    assert!(
        !pending_events.iter().any(|e| e == "OrderShipped"),
        "{pending_events:?}"
    );
}

#[tokio::test]
async fn open_ticket_opens_refuses_an_empty_subject_and_forbids_opening_for_someone_else() {
    let app = spawn_app().await;
    let input = json!({ "subject": "Broken mug", "message": "It arrived in pieces." });

    let result = succeeds(&app, "openTicket", input, "alice", Role::Customer).await;
    let ticket = result["ticketId"].as_str().unwrap();
    assert_eq!(
        (result["id"].as_str(), result["streamType"].as_str()),
        (Some(ticket), Some("ticket"))
    );
    assert_eq!(app.event_types("ticket", ticket).await, ["TicketOpened"]);

    let empty = json!({ "subject": " ", "message": "Hello" });
    fails(&app, "openTicket", empty, ALICE, "VALIDATION").await;
    let long = json!({ "subject": "Hi", "message": "x".repeat(4001) });
    fails(&app, "openTicket", long, ALICE, "VALIDATION").await;
    // No rule of the ticket refuses a valid opening; who it is for is the one refusal left.
    let for_bob = json!({ "customerId": "bob", "subject": "Hi", "message": "Hello" });
    fails(&app, "openTicket", for_bob, ALICE, "FORBIDDEN").await;
    let tickets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_type = 'ticket'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(tickets, 1);
}

#[tokio::test]
async fn post_ticket_message_posts_refuses_a_long_body_and_rejects_a_closed_ticket() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;

    let input = json!({ "ticketId": ticket, "body": "Any news?" });
    let result = succeeds(
        &app,
        "postTicketMessage",
        input.clone(),
        "alice",
        Role::Customer,
    )
    .await;
    assert_eq!(
        (result["ticketId"].as_str(), result["version"].as_i64()),
        (Some(ticket.as_str()), Some(2))
    );
    let (_, posted) = &app.events("ticket", &ticket).await[1];
    assert_eq!(posted["body"], "Any news?", "{posted}");

    let long = json!({ "ticketId": ticket, "body": "x".repeat(4001) });
    fails(&app, "postTicketMessage", long, AGENT, "VALIDATION").await;
    app.close_ticket("alice", &ticket).await;
    rejected(&app, "postTicketMessage", input, ALICE, "Closed").await;
    assert_eq!(app.event_types("ticket", &ticket).await.len(), 3);
}

#[tokio::test]
async fn assign_ticket_assigns_refuses_an_empty_agent_and_rejects_a_closed_ticket() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    let input = json!({ "ticketId": ticket, "agentId": "arthur" });

    let result = succeeds(&app, "assignTicket", input.clone(), "arthur", Role::Agent).await;
    assert_eq!(result["ticketId"], ticket.as_str());
    let (assigned, payload) = &app.events("ticket", &ticket).await[1];
    assert_eq!(assigned, "TicketAssigned");
    assert_eq!(payload["agentId"], "arthur", "{payload}");

    fails(
        &app,
        "assignTicket",
        json!({ "ticketId": ticket, "agentId": "" }),
        AGENT,
        "VALIDATION",
    )
    .await;
    app.close_ticket("alice", &ticket).await;
    rejected(&app, "assignTicket", input, AGENT, "Closed").await;
}

#[tokio::test]
async fn close_ticket_closes_refuses_an_empty_resolution_and_rejects_a_second_close() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    let input = json!({ "ticketId": ticket, "resolution": "Found it." });

    let result = succeeds(&app, "closeTicket", input.clone(), "arthur", Role::Agent).await;
    assert_eq!(result["ticketId"], ticket.as_str());
    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketClosed"]
    );

    fails(
        &app,
        "closeTicket",
        json!({ "ticketId": ticket, "resolution": "" }),
        AGENT,
        "VALIDATION",
    )
    .await;
    rejected(&app, "closeTicket", input, ALICE, "AlreadyClosed").await;
    assert_eq!(app.event_types("ticket", &ticket).await.len(), 2);
}

#[tokio::test]
async fn reopen_ticket_reopens_refuses_a_bad_id_and_rejects_an_open_ticket() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    app.close_ticket("alice", &ticket).await;
    let input = json!({ "ticketId": ticket });

    let result = succeeds(&app, "reopenTicket", input.clone(), "alice", Role::Customer).await;
    assert_eq!(
        (result["ticketId"].as_str(), result["version"].as_i64()),
        (Some(ticket.as_str()), Some(3))
    );
    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketClosed", "TicketReopened"]
    );

    fails(
        &app,
        "reopenTicket",
        json!({ "ticketId": "nope" }),
        ALICE,
        "VALIDATION",
    )
    .await;
    rejected(&app, "reopenTicket", input, AGENT, "NotClosed").await;
    let unknown = Uuid::now_v7().to_string();
    fails(
        &app,
        "reopenTicket",
        json!({ "ticketId": unknown }),
        AGENT,
        "NOT_FOUND",
    )
    .await;
}

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
