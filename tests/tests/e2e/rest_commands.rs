//! Every REST command of API.md over real HTTP: what it answers when it works, each way a
//! malformed request is refused, each business rule that says no, and what the event log
//! holds afterwards.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use application::Role;
use serde_json::{Value, json};
use tests::{TestApp, command_result, problem, rejected, spawn_app, spawn_app_without_saga};
use uuid::Uuid;

fn operator(app: &TestApp) -> String {
    app.token("olga", Role::Operator)
}

fn customer(app: &TestApp) -> String {
    app.token("alice", Role::Customer)
}

fn agent(app: &TestApp) -> String {
    app.token("arthur", Role::Agent)
}

fn order_body(lines: Value) -> Value {
    json!({ "currency": "BRL", "lines": lines, "paymentToken": "tok_visa" })
}

fn line(sku: &str, quantity: u32, price: &str) -> Value {
    json!({ "sku": sku, "quantity": quantity, "unitPrice": price })
}

fn product(sku: &str, name: &str) -> Value {
    json!({ "sku": sku, "name": name, "initialQuantity": 1, "lowStockThreshold": 0,
            "price": "12.50", "currency": "BRL" })
}

/// How many events the whole log holds.
async fn event_total(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

// --- what each command answers when it works ---

#[tokio::test]
async fn registering_a_product_answers_201_and_records_its_price_and_opening_stock() {
    let app = spawn_app().await;
    let body = json!({ "sku": "MUG-1", "name": "Mug", "initialQuantity": 5,
                       "lowStockThreshold": 0, "price": "12.50", "currency": "BRL" });

    let result = command_result(
        app.post("/api/products", Some(&operator(&app)), body).await,
        201,
    )
    .await;

    assert_eq!(result["id"], "MUG-1");
    assert_eq!(result["streamType"], "stock");
    assert_eq!(result["version"], 2);
    assert!(result.get("orderId").is_none() && result.get("ticketId").is_none());
    let events = app.events("stock", "MUG-1").await;
    assert_eq!(events[0].0, "ProductRegistered");
    assert_eq!(
        (&events[0].1["priceMinor"], &events[0].1["currency"]),
        (&json!(1250), &json!("BRL"))
    );
    assert_eq!(
        events[1],
        ("StockRestocked".to_owned(), json!({ "quantity": 5 }))
    );
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn restocking_answers_200_and_records_the_units() {
    let app = spawn_app().await;
    let registered = app.register_product("MUG-1", 5).await;

    let response = app
        .post(
            "/api/products/MUG-1/restock",
            Some(&operator(&app)),
            json!({ "quantity": 7 }),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(result["id"], "MUG-1");
    assert_eq!(result["version"], 3);
    assert_ne!(result["position"], registered["position"]);
    let events = app.events("stock", "MUG-1").await;
    assert_eq!(
        events.last().unwrap(),
        &("StockRestocked".to_owned(), json!({ "quantity": 7 }))
    );
}

#[tokio::test]
async fn placing_an_order_answers_202_with_the_new_order_id() {
    let app = spawn_app().await;
    let body = order_body(json!([
        { "sku": "MUG-1", "quantity": 2, "unitPrice": "12.50" },
        { "sku": "TEA-9", "quantity": 1, "unitPrice": "3" },
    ]));

    let result = command_result(
        app.post("/api/orders", Some(&customer(&app)), body).await,
        202,
    )
    .await;

    let order = result["orderId"].as_str().unwrap();
    Uuid::parse_str(order).unwrap();
    assert_eq!(result["id"], order);
    assert_eq!(result["streamType"], "order");
    assert_eq!(result["version"], 1);
    assert_eq!(app.event_types("order", order).await, ["OrderPlaced"]);
}

#[tokio::test]
async fn cancelling_an_order_answers_202_and_records_the_cancellation() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "MUG-1", 1).await;

    let response = app
        .post(
            &format!("/api/orders/{order}/cancel"),
            Some(&customer(&app)),
            json!({ "reason": "CUSTOMER_REQUEST" }),
        )
        .await;

    let result = command_result(response, 202).await;
    assert_eq!(
        (result["orderId"].as_str(), result["version"].as_i64()),
        (Some(order.as_str()), Some(2))
    );
    assert_eq!(
        app.event_types("order", &order).await,
        ["OrderPlaced", "OrderCancelled"]
    );
}

#[tokio::test]
async fn shipping_a_confirmed_order_answers_200_and_records_the_shipment() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    app.confirm_order(&order).await;

    let response = app
        .post(
            &format!("/api/orders/{order}/ship"),
            Some(&operator(&app)),
            json!({}),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(result["orderId"], order.as_str());
    let events = app.event_types("order", &order).await;
    assert_eq!(events.last().map(String::as_str), Some("OrderShipped"));
    assert_eq!(result["version"], events.len());
}

#[tokio::test]
async fn opening_a_ticket_answers_201_with_the_new_ticket_id() {
    let app = spawn_app().await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let body =
        json!({ "subject": "Broken mug", "message": "It arrived in pieces.", "orderId": order });

    let result = command_result(
        app.post("/api/tickets", Some(&customer(&app)), body).await,
        201,
    )
    .await;

    let ticket = result["ticketId"].as_str().unwrap();
    Uuid::parse_str(ticket).unwrap();
    assert_eq!(
        (result["id"].as_str(), result["streamType"].as_str()),
        (Some(ticket), Some("ticket"))
    );
    assert_eq!(result["version"], 1);
    assert_eq!(app.event_types("ticket", ticket).await, ["TicketOpened"]);
}

#[tokio::test]
async fn an_agent_opens_a_ticket_for_a_named_customer() {
    let app = spawn_app().await;
    let body =
        json!({ "customerId": "alice", "subject": "Call back", "message": "Asked by phone." });

    let result = command_result(
        app.post("/api/tickets", Some(&agent(&app)), body).await,
        201,
    )
    .await;

    let ticket = result["ticketId"].as_str().unwrap();
    let (_, opened) = &app.events("ticket", ticket).await[0];
    assert_eq!(opened["customerId"], "alice", "{opened}");
}

#[tokio::test]
async fn posting_a_message_answers_200_and_records_it() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/messages"),
            Some(&agent(&app)),
            json!({ "body": "We are on it." }),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(
        (result["ticketId"].as_str(), result["version"].as_i64()),
        (Some(ticket.as_str()), Some(2))
    );
    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketMessagePosted"]
    );
}

#[tokio::test]
async fn assigning_a_ticket_answers_200_and_records_the_assignee() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/assign"),
            Some(&agent(&app)),
            json!({ "agentId": "arthur" }),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(result["ticketId"], ticket.as_str());
    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketAssigned"]
    );
}

#[tokio::test]
async fn closing_a_ticket_answers_200_and_records_the_resolution() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/close"),
            Some(&customer(&app)),
            json!({ "resolution": "Found it." }),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(result["ticketId"], ticket.as_str());
    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketClosed"]
    );
}

#[tokio::test]
async fn reopening_a_closed_ticket_answers_200_and_records_it() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    app.close_ticket("alice", &ticket).await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/reopen"),
            Some(&customer(&app)),
            json!({}),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(result["version"], 3);
    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketClosed", "TicketReopened"]
    );
}

// --- malformed requests ---

/// What the limit tests send refused requests against: a product, a settled order and a
/// ticket, and the number of events recorded once fulfilment is done.
struct Limits {
    app: TestApp,
    order: String,
    ticket: String,
    before: i64,
    ops: String,
    alice: String,
    arthur: String,
}

async fn limits() -> Limits {
    let app = spawn_app().await;
    app.register_product("MUG-1", 5).await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let ticket = app.open_ticket("alice").await;
    // Fulfilment appends events of its own: count once it is done.
    app.settled_order(&order, std::time::Duration::from_secs(30))
        .await;
    let before = event_total(&app).await;
    let (ops, alice, arthur) = (operator(&app), customer(&app), agent(&app));
    Limits {
        app,
        order,
        ticket,
        before,
        ops,
        alice,
        arthur,
    }
}

impl Limits {
    /// Every case is a 422 `VALIDATION` problem, and none recorded an event.
    async fn all_refused(&self, cases: Vec<(&str, &str, String, Value)>) {
        for (case, token, path, body) in cases {
            let response = self.app.post(&path, Some(token), body).await;
            let status = response.status();
            let problem = tests::body_json(response).await;
            assert_eq!(
                (status.as_u16(), problem["code"].as_str()),
                (422, Some("VALIDATION")),
                "{case}: {problem}"
            );
        }
        assert_eq!(
            event_total(&self.app).await,
            self.before,
            "a refused request recorded events"
        );
    }
}

#[tokio::test]
async fn product_requests_outside_the_documented_limits_are_validation_problems() {
    let l = limits().await;
    l.all_refused(vec![
        (
            "a SKU with a space",
            &l.ops,
            "/api/products".into(),
            product("MUG 1", "Mug"),
        ),
        (
            "a SKU of 65 characters",
            &l.ops,
            "/api/products".into(),
            product(&"S".repeat(65), "Mug"),
        ),
        (
            "an empty product name",
            &l.ops,
            "/api/products".into(),
            product("MUG-2", "  "),
        ),
        (
            "an unknown field",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "price": "1", "currency": "BRL",
                    "colour": "red" }),
        ),
        (
            "a negative opening stock",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "initialQuantity": -1,
                    "price": "1", "currency": "BRL" }),
        ),
        (
            "a product without a price",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "currency": "BRL" }),
        ),
        (
            "a product without a currency",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "price": "1" }),
        ),
        (
            "a free product",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "price": "0.00", "currency": "BRL" }),
        ),
        (
            "a price with more decimals than the currency has",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "price": "1.5", "currency": "JPY" }),
        ),
        (
            "repricing to a negative price",
            &l.ops,
            "/api/products/MUG-1/price".into(),
            json!({ "price": "-1.00" }),
        ),
        (
            "repricing in a lower-case currency",
            &l.ops,
            "/api/products/MUG-1/price".into(),
            json!({ "price": "1.00", "currency": "usd" }),
        ),
        (
            "restocking zero units",
            &l.ops,
            "/api/products/MUG-1/restock".into(),
            json!({ "quantity": 0 }),
        ),
        (
            "restocking without a quantity",
            &l.ops,
            "/api/products/MUG-1/restock".into(),
            json!({}),
        ),
        (
            "a bad SKU in the path",
            &l.ops,
            "/api/products/MUG%201/restock".into(),
            json!({ "quantity": 1 }),
        ),
    ])
    .await;
}

#[tokio::test]
async fn order_requests_outside_the_documented_limits_are_validation_problems() {
    let l = limits().await;
    let many_lines: Vec<Value> = (0..101)
        .map(|i| line(&format!("SKU-{i}"), 1, "1.00"))
        .collect();
    l.all_refused(vec![
        (
            "an order without lines",
            &l.alice,
            "/api/orders".into(),
            order_body(json!([])),
        ),
        (
            "an order of 101 lines",
            &l.alice,
            "/api/orders".into(),
            order_body(json!(many_lines)),
        ),
        (
            "a line of zero units",
            &l.alice,
            "/api/orders".into(),
            order_body(json!([line("MUG-1", 0, "1.00")])),
        ),
        (
            "a line with a bad SKU",
            &l.alice,
            "/api/orders".into(),
            order_body(json!([line("MUG/1", 1, "1.00")])),
        ),
        (
            "a price with three decimals",
            &l.alice,
            "/api/orders".into(),
            order_body(json!([line("MUG-1", 1, "12.505")])),
        ),
        (
            "a price that is not a number",
            &l.alice,
            "/api/orders".into(),
            order_body(json!([line("MUG-1", 1, "cheap")])),
        ),
        (
            "a lower-case currency",
            &l.alice,
            "/api/orders".into(),
            json!({
                "currency": "brl",
                "lines": [line("MUG-1", 1, "1.00")],
                "paymentToken": "tok_visa",
            }),
        ),
        (
            "no payment token",
            &l.alice,
            "/api/orders".into(),
            json!({ "currency": "BRL", "lines": [line("MUG-1", 1, "1.00")] }),
        ),
        (
            "a bad order id in the path",
            &l.alice,
            "/api/orders/not-a-uuid/cancel".into(),
            json!({}),
        ),
        (
            "a cancellation reason of fulfilment",
            &l.alice,
            format!("/api/orders/{}/cancel", l.order),
            json!({ "reason": "OUT_OF_STOCK" }),
        ),
        (
            "shipping a bad order id",
            &l.ops,
            "/api/orders/42/ship".into(),
            json!({}),
        ),
    ])
    .await;
}

#[tokio::test]
async fn ticket_requests_outside_the_documented_limits_are_validation_problems() {
    let l = limits().await;
    let long_text = "x".repeat(4001);
    l.all_refused(vec![
        (
            "an empty subject",
            &l.alice,
            "/api/tickets".into(),
            json!({ "subject": "", "message": "Hello" }),
        ),
        (
            "a first message of 4001 characters",
            &l.alice,
            "/api/tickets".into(),
            json!({ "subject": "Hi", "message": long_text }),
        ),
        (
            "a ticket about a bad order id",
            &l.alice,
            "/api/tickets".into(),
            json!({ "subject": "Hi", "message": "Hello", "orderId": "x" }),
        ),
        (
            "a message of 4001 characters",
            &l.alice,
            format!("/api/tickets/{}/messages", l.ticket),
            json!({ "body": long_text }),
        ),
        (
            "an empty message",
            &l.alice,
            format!("/api/tickets/{}/messages", l.ticket),
            json!({ "body": "" }),
        ),
        (
            "a message to a bad ticket id",
            &l.alice,
            "/api/tickets/nope/messages".into(),
            json!({ "body": "Hello" }),
        ),
        (
            "an empty agent id",
            &l.arthur,
            format!("/api/tickets/{}/assign", l.ticket),
            json!({ "agentId": "" }),
        ),
        (
            "an empty resolution",
            &l.alice,
            format!("/api/tickets/{}/close", l.ticket),
            json!({ "resolution": "" }),
        ),
        (
            "reopening a bad ticket id",
            &l.alice,
            "/api/tickets/123/reopen".into(),
            json!({}),
        ),
        (
            "a body on a bodiless command",
            &l.alice,
            format!("/api/tickets/{}/reopen", l.ticket),
            json!({ "now": true }),
        ),
    ])
    .await;
}

#[tokio::test]
async fn a_validation_problem_is_a_complete_problem_document() {
    let app = spawn_app().await;

    let response = app
        .post(
            "/api/products/MUG-1/restock",
            Some(&operator(&app)),
            json!({ "quantity": 0 }),
        )
        .await;

    let body = problem(response, 422, "VALIDATION").await;
    assert!(
        body["detail"].as_str().unwrap().contains("quantity"),
        "{body}"
    );
    assert!(body.get("reason").is_none(), "{body}");
}

#[tokio::test]
async fn malformed_json_is_a_validation_problem() {
    let app = spawn_app().await;

    let response = app
        .post_raw(
            "/api/products",
            Some(&operator(&app)),
            "application/json",
            r#"{"sku": "MUG-1", "name": "#,
        )
        .await;

    problem(response, 422, "VALIDATION").await;
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_a_validation_problem() {
    let app = spawn_app().await;
    let body = r#"{"sku": "MUG-1", "name": "Mug"}"#;

    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let response = app
            .post_raw("/api/products", Some(&operator(&app)), content_type, body)
            .await;
        problem(response, 422, "VALIDATION").await;
    }
    assert!(app.events("stock", "MUG-1").await.is_empty());
}

#[tokio::test]
async fn a_command_without_a_body_still_needs_its_fields() {
    let app = spawn_app().await;

    let response = app
        .post_raw(
            "/api/products",
            Some(&operator(&app)),
            "application/json",
            "",
        )
        .await;

    problem(response, 422, "VALIDATION").await;
}

// --- business rules that say no ---

#[tokio::test]
async fn registering_a_registered_sku_is_rejected_as_already_registered() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 5).await;
    let body = product("MUG-1", "Another mug");

    rejected(
        app.post("/api/products", Some(&operator(&app)), body).await,
        "AlreadyRegistered",
    )
    .await;

    assert_eq!(app.events("stock", "MUG-1").await.len(), 2);
}

#[tokio::test]
async fn an_order_with_a_sku_on_two_lines_is_rejected_as_duplicate_sku() {
    let app = spawn_app().await;
    let mug = json!({ "sku": "MUG-1", "quantity": 1, "unitPrice": "1.00" });

    rejected(
        app.post(
            "/api/orders",
            Some(&customer(&app)),
            order_body(json!([mug, mug])),
        )
        .await,
        "DuplicateSku",
    )
    .await;

    let orders = app.orders_placed().await;
    assert_eq!(orders, 0);
}

#[tokio::test]
async fn shipping_a_pending_order_is_rejected_as_not_confirmed() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "MUG-1", 1).await;

    let response = app
        .post(
            &format!("/api/orders/{order}/ship"),
            Some(&operator(&app)),
            json!({}),
        )
        .await;

    let body = rejected(response, "NotConfirmed").await;
    assert!(
        body["detail"].as_str().unwrap().contains("confirmed"),
        "{body}"
    );
    assert_eq!(app.event_types("order", &order).await, ["OrderPlaced"]);
}

#[tokio::test]
async fn cancelling_a_cancelled_order_is_rejected_as_already_cancelled() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let path = format!("/api/orders/{order}/cancel");
    command_result(app.post(&path, Some(&customer(&app)), json!({})).await, 202).await;

    rejected(
        app.post(&path, Some(&customer(&app)), json!({})).await,
        "AlreadyCancelled",
    )
    .await;

    assert_eq!(
        app.event_types("order", &order).await,
        ["OrderPlaced", "OrderCancelled"]
    );
}

#[tokio::test]
async fn a_shipped_order_can_be_neither_cancelled_nor_shipped_again() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    app.confirm_order(&order).await;
    let ship = format!("/api/orders/{order}/ship");
    command_result(app.post(&ship, Some(&operator(&app)), json!({})).await, 200).await;
    let recorded = app.event_types("order", &order).await.len();

    rejected(
        app.post(&ship, Some(&operator(&app)), json!({})).await,
        "AlreadyShipped",
    )
    .await;
    let cancel = format!("/api/orders/{order}/cancel");
    rejected(
        app.post(&cancel, Some(&customer(&app)), json!({})).await,
        "AlreadyShipped",
    )
    .await;

    assert_eq!(app.event_types("order", &order).await.len(), recorded);
}

#[tokio::test]
async fn closing_a_closed_ticket_is_rejected_as_already_closed() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    app.close_ticket("alice", &ticket).await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/close"),
            Some(&agent(&app)),
            json!({ "resolution": "Again." }),
        )
        .await;

    rejected(response, "AlreadyClosed").await;
}

#[tokio::test]
async fn reopening_an_open_ticket_is_rejected_as_not_closed() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/reopen"),
            Some(&customer(&app)),
            json!({}),
        )
        .await;

    rejected(response, "NotClosed").await;
    assert_eq!(app.event_types("ticket", &ticket).await, ["TicketOpened"]);
}

#[tokio::test]
async fn a_closed_ticket_takes_no_messages_and_no_assignee() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    app.close_ticket("alice", &ticket).await;

    let message = app
        .post(
            &format!("/api/tickets/{ticket}/messages"),
            Some(&customer(&app)),
            json!({ "body": "Hello?" }),
        )
        .await;
    rejected(message, "Closed").await;
    let assign = app
        .post(
            &format!("/api/tickets/{ticket}/assign"),
            Some(&agent(&app)),
            json!({ "agentId": "arthur" }),
        )
        .await;
    rejected(assign, "Closed").await;

    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketClosed"]
    );
}

#[tokio::test]
async fn commands_on_unknown_products_orders_and_tickets_are_not_found() {
    let app = spawn_app().await;
    let unknown = Uuid::now_v7();
    let (ops, alice, arthur) = (operator(&app), customer(&app), agent(&app));
    let cases: Vec<(&str, String, Value)> = vec![
        (
            &ops,
            "/api/products/NOPE-1/restock".into(),
            json!({ "quantity": 1 }),
        ),
        (
            &ops,
            "/api/products/NOPE-1/price".into(),
            json!({ "price": "1.00" }),
        ),
        (
            &ops,
            "/api/products/NOPE-1/price".into(),
            json!({ "price": "1.00", "currency": "BRL" }),
        ),
        // A line with no price for a product nobody registered: nothing to charge.
        (
            &alice,
            "/api/orders".into(),
            order_body(json!([{ "sku": "GHOST-1", "quantity": 1 }])),
        ),
        (&alice, format!("/api/orders/{unknown}/cancel"), json!({})),
        (&ops, format!("/api/orders/{unknown}/cancel"), json!({})),
        (&ops, format!("/api/orders/{unknown}/ship"), json!({})),
        (
            &alice,
            format!("/api/tickets/{unknown}/messages"),
            json!({ "body": "Hi" }),
        ),
        (
            &arthur,
            format!("/api/tickets/{unknown}/assign"),
            json!({ "agentId": "arthur" }),
        ),
        (
            &arthur,
            format!("/api/tickets/{unknown}/close"),
            json!({ "resolution": "Done" }),
        ),
        (&alice, format!("/api/tickets/{unknown}/reopen"), json!({})),
    ];

    for (token, path, body) in cases {
        let body = problem(app.post(&path, Some(token), body).await, 404, "NOT_FOUND").await;
        assert!(body.get("reason").is_none(), "{path}: {body}");
    }
    assert_eq!(event_total(&app).await, 0);
}

#[tokio::test]
async fn an_unknown_route_is_a_not_found_problem() {
    let app = spawn_app().await;

    let response = app
        .post("/api/widgets", Some(&operator(&app)), json!({}))
        .await;

    problem(response, 404, "NOT_FOUND").await;
}
