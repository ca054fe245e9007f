//! Reading tickets: by their customer and agents only, with the order a ticket names shown
//! only to those who may read that order.

use application::Role;
use serde_json::{Value, json};
use tests::{TestApp, expect, graphql_data, problem, spawn_app};

use super::place;

#[tokio::test]
async fn a_ticket_is_readable_by_its_customer_and_agents_only() {
    let app = spawn_app().await;
    let id = app.open_ticket("alice").await;
    let alice = app.token("alice", Role::Customer);
    let bob = app.token("bob", Role::Customer);
    let agent = app.token("arthur", Role::Agent);
    // Read-your-writes through a later command on the same ticket.
    let posted = expect(
        app.post(
            &format!("/api/tickets/{id}/messages"),
            Some(&agent),
            json!({ "body": "On it." }),
        )
        .await,
        200,
    )
    .await;
    let at = posted["position"].as_str().unwrap();
    let ticket = expect(
        app.get(
            &format!("/api/tickets/{id}"),
            Some(&alice),
            &[("X-Consistent-With", at)],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ticket["status"], "OPEN");
    assert_eq!(ticket["messages"].as_array().unwrap().len(), 2);
    problem(
        app.get(&format!("/api/tickets/{id}"), Some(&bob), &[])
            .await,
        404,
        "NOT_FOUND",
    )
    .await;

    let query = "query { tickets { edges { node { id customerId messages { body } } } } }";
    let data = graphql_data(app.graphql(query, json!({}), Some(&bob)).await).await;
    assert_eq!(data["tickets"]["edges"], json!([]));
    let data = graphql_data(app.graphql(query, json!({}), Some(&agent)).await).await;
    assert_eq!(data["tickets"]["edges"][0]["node"]["id"], id);
}

const TICKET_ORDER: &str = "query($id: ID!, $at: String) {
    ticket(id: $id, consistentWith: $at) { id orderId order { id customerId total payment { status } } }
}";

/// Opens a ticket as `customer` naming `order`; its id and position token.
async fn ticket_about(app: &TestApp, customer: &str, order: &str) -> (String, String) {
    let token = app.token(customer, Role::Customer);
    let body = json!({ "subject": "Damaged", "message": "The box was crushed.", "orderId": order });
    let result = expect(app.post("/api/tickets", Some(&token), body).await, 201).await;
    (
        result["ticketId"].as_str().unwrap().to_owned(),
        result["position"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_ticket_shows_the_order_it_names_only_to_those_who_may_read_that_order() {
    let app = spawn_app().await;
    app.register_product("TKO-1", 10).await;
    let order = place(&app, "alice", "TKO-1").await;
    let order_id = order["orderId"].as_str().unwrap();
    let alice = app.token("alice", Role::Customer);
    let bob = app.token("bob", Role::Customer);
    let agent = app.token("arthur", Role::Agent);

    // Its customer and agents see the order through the ticket, as order(id) shows it.
    let (ticket, at) = ticket_about(&app, "alice", order_id).await;
    for token in [&alice, &agent] {
        let vars = json!({ "id": ticket, "at": at });
        let data = graphql_data(app.graphql(TICKET_ORDER, vars, Some(token)).await).await;
        let nested = &data["ticket"]["order"];
        assert_eq!(nested["id"], order_id, "{data}");
        assert_eq!(nested["customerId"], "alice");
        assert_eq!(nested["total"], "25.00");
    }

    // Bob may name Alice's order in his own ticket, but never reads it through it.
    let (ticket, at) = ticket_about(&app, "bob", order_id).await;
    let vars = json!({ "id": ticket, "at": at });
    let data = graphql_data(app.graphql(TICKET_ORDER, vars.clone(), Some(&bob)).await).await;
    assert_eq!(data["ticket"]["orderId"], order_id);
    assert_eq!(data["ticket"]["order"], Value::Null);
    let data = graphql_data(app.graphql(TICKET_ORDER, vars, Some(&agent)).await).await;
    assert_eq!(data["ticket"]["order"]["id"], order_id);

    // Through the tickets list too, every nested order loaded for the page.
    let query = "query { tickets { edges { node { customerId order { id customerId } } } } }";
    let data = graphql_data(app.graphql(query, json!({}), Some(&agent)).await).await;
    let edges = data["tickets"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert!(
        edges.iter().all(|e| e["node"]["order"]["id"] == order_id),
        "{data}"
    );
    let data = graphql_data(app.graphql(query, json!({}), Some(&bob)).await).await;
    assert_eq!(
        data["tickets"]["edges"][0]["node"]["order"],
        Value::Null,
        "{data}"
    );
}
