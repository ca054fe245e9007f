//! API.md's role table, command by command, on both transports.

use application::Role;
use reqwest::Response;
use serde_json::{Value, json};
use tests::{TestApp, body_json, spawn_app};

/// The commands of API.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    RegisterProduct,
    RepriceProduct,
    Restock,
    PlaceOrder,
    CancelOrder,
    ShipOrder,
    OpenTicket,
    PostMessage,
    AssignTicket,
    CloseTicket,
    ReopenTicket,
}

const Y: bool = true;
const N: bool = false;

/// The columns of [`MATRIX`].
const ROLES: [Role; 4] = [Role::Customer, Role::Agent, Role::Operator, Role::Auditor];

/// API.md's table: may this role run this command? Customers act on their own orders and
/// tickets (the fixtures belong to the calling customer); auditors run nothing.
#[rustfmt::skip]
const MATRIX: [(Command, [bool; 4]); 11] = [
    //                          customer agent operator auditor
    (Command::RegisterProduct,  [N,       N,    Y,       N]),
    (Command::RepriceProduct,   [N,       N,    Y,       N]),
    (Command::Restock,          [N,       N,    Y,       N]),
    (Command::PlaceOrder,       [Y,       N,    Y,       N]),
    (Command::CancelOrder,      [Y,       N,    Y,       N]),
    (Command::ShipOrder,        [N,       N,    Y,       N]),
    (Command::OpenTicket,       [Y,       Y,    N,       N]),
    (Command::PostMessage,      [Y,       Y,    N,       N]),
    (Command::AssignTicket,     [N,       Y,    N,       N]),
    (Command::CloseTicket,      [Y,       Y,    N,       N]),
    (Command::ReopenTicket,     [Y,       Y,    N,       N]),
];

/// The customer who owns every order and ticket of the fixtures.
const CUSTOMER: &str = "alice";

fn subject(role: Role) -> &'static str {
    match role {
        Role::Customer => CUSTOMER,
        Role::Agent => "arthur",
        Role::Operator => "olga",
        Role::Auditor => "audrey",
    }
}

/// One command ready to run against fresh fixtures, in both transports' words.
struct Request {
    path: String,
    body: Value,
    status: u16,
    mutation: &'static str,
    input: Value,
}

/// Prepares `command` on fixtures of its own (`n` keeps SKUs apart).
async fn prepare(app: &TestApp, command: Command, n: usize) -> Request {
    let request = |path: String, body: Value, status, mutation, input| Request {
        path,
        body,
        status,
        mutation,
        input,
    };
    match command {
        Command::RegisterProduct => {
            let body = json!({ "sku": format!("NEW-{n}"), "name": "Mug", "price": "9.90",
                               "currency": "BRL" });
            request(
                "/api/products".into(),
                body.clone(),
                201,
                "registerProduct",
                body,
            )
        }
        Command::RepriceProduct => {
            let sku = format!("PRICED-{n}");
            app.register_product(&sku, 1).await;
            let input = json!({ "sku": sku, "price": "14.90" });
            request(
                format!("/api/products/{sku}/price"),
                json!({ "price": "14.90" }),
                200,
                "repriceProduct",
                input,
            )
        }
        Command::Restock => {
            let sku = format!("OLD-{n}");
            app.register_product(&sku, 1).await;
            let input = json!({ "sku": sku, "quantity": 3 });
            request(
                format!("/api/products/{sku}/restock"),
                json!({ "quantity": 3 }),
                200,
                "restock",
                input,
            )
        }
        Command::PlaceOrder => {
            // At the catalog price: the line states none.
            let sku = format!("BUY-{n}");
            app.register_product(&sku, 1).await;
            let body = json!({
                "customerId": CUSTOMER,
                "currency": "BRL",
                "lines": [{ "sku": sku, "quantity": 1 }],
                "paymentToken": "tok_visa",
            });
            request("/api/orders".into(), body.clone(), 202, "placeOrder", body)
        }
        Command::CancelOrder => {
            // Stock and a payment that never answers keep the order cancellable: fulfilment
            // leaves it pending (until its 30 s deadline) instead of cancelling it first.
            let sku = format!("CANCEL-{n}");
            app.register_product(&sku, 1).await;
            let order = app
                .place_order_paid_with(CUSTOMER, &[(sku.as_str(), 1)], "tok_timeout")
                .await;
            let input = json!({ "orderId": order });
            request(
                format!("/api/orders/{order}/cancel"),
                json!({}),
                202,
                "cancelOrder",
                input,
            )
        }
        Command::ShipOrder => {
            let sku = format!("SHIP-{n}");
            app.register_product(&sku, 1).await;
            let order = app.place_order(CUSTOMER, &sku, 1).await;
            app.confirm_order(&order).await;
            let input = json!({ "orderId": order });
            request(
                format!("/api/orders/{order}/ship"),
                json!({}),
                200,
                "shipOrder",
                input,
            )
        }
        Command::OpenTicket => {
            let body = json!({ "customerId": CUSTOMER, "subject": "Hi", "message": "Hello" });
            request("/api/tickets".into(), body.clone(), 201, "openTicket", body)
        }
        Command::PostMessage => {
            let ticket = app.open_ticket(CUSTOMER).await;
            let input = json!({ "ticketId": ticket, "body": "Any news?" });
            let path = format!("/api/tickets/{ticket}/messages");
            request(
                path,
                json!({ "body": "Any news?" }),
                200,
                "postTicketMessage",
                input,
            )
        }
        Command::AssignTicket => {
            let ticket = app.open_ticket(CUSTOMER).await;
            let input = json!({ "ticketId": ticket, "agentId": "arthur" });
            let path = format!("/api/tickets/{ticket}/assign");
            request(
                path,
                json!({ "agentId": "arthur" }),
                200,
                "assignTicket",
                input,
            )
        }
        Command::CloseTicket => {
            let ticket = app.open_ticket(CUSTOMER).await;
            let input = json!({ "ticketId": ticket, "resolution": "Done" });
            let path = format!("/api/tickets/{ticket}/close");
            request(
                path,
                json!({ "resolution": "Done" }),
                200,
                "closeTicket",
                input,
            )
        }
        Command::ReopenTicket => {
            let ticket = app.open_ticket(CUSTOMER).await;
            app.close_ticket(CUSTOMER, &ticket).await;
            let input = json!({ "ticketId": ticket });
            request(
                format!("/api/tickets/{ticket}/reopen"),
                json!({}),
                200,
                "reopenTicket",
                input,
            )
        }
    }
}

/// Runs `request` as GraphQL `mutation`.
async fn mutate(app: &TestApp, request: &Request, token: Option<&str>) -> Response {
    let name = request.mutation;
    let input_type = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    let query = format!("mutation Run($input: {input_type}!) {{ {name}(input: $input) {{ id }} }}");
    app.graphql(&query, json!({ "input": request.input }), token)
        .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Rest,
    Graphql,
}

/// What the caller noticed: `Ok` when the command ran, the error code otherwise.
async fn outcome(
    app: &TestApp,
    transport: Transport,
    request: &Request,
    token: &str,
) -> Result<(), String> {
    match transport {
        Transport::Rest => {
            let response = app
                .post(&request.path, Some(token), request.body.clone())
                .await;
            let status = response.status().as_u16();
            let body = body_json(response).await;
            if status == request.status && body["id"].is_string() {
                Ok(())
            } else {
                Err(format!("{status} {}", body["code"]))
            }
        }
        Transport::Graphql => {
            let body = body_json(mutate(app, request, Some(token)).await).await;
            if body["data"][request.mutation]["id"].is_string() {
                Ok(())
            } else {
                Err(format!("{}", body["errors"][0]["extensions"]["code"]))
            }
        }
    }
}

/// Runs every cell of [`MATRIX`] over `transport` and lists the cells that disagree.
async fn check_matrix(transport: Transport) {
    let app = spawn_app().await;
    let mut disagreements = Vec::new();
    for (row, (command, allowed)) in MATRIX.iter().enumerate() {
        for (column, (role, allowed)) in ROLES.iter().zip(allowed).enumerate() {
            let request = prepare(&app, *command, row * ROLES.len() + column).await;
            let token = app.token(subject(*role), *role);
            let before = app.event_total().await;
            let outcome = outcome(&app, transport, &request, &token).await;
            let forbidden = match transport {
                Transport::Rest => "403 \"FORBIDDEN\"",
                Transport::Graphql => "\"FORBIDDEN\"",
            };
            let as_expected = match &outcome {
                Ok(()) => *allowed,
                Err(code) => !*allowed && code == forbidden && app.event_total().await == before,
            };
            if !as_expected {
                let expected = if *allowed { "allowed" } else { "forbidden" };
                disagreements.push(format!(
                    "{role} {command:?}: expected {expected}, got {outcome:?}"
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{transport:?} disagrees with the role table:\n{}",
        disagreements.join("\n")
    );
}

#[tokio::test]
async fn rest_commands_follow_the_role_table() {
    check_matrix(Transport::Rest).await;
}

#[tokio::test]
async fn graphql_mutations_follow_the_role_table() {
    check_matrix(Transport::Graphql).await;
}
