//! The ticket mutations: opening, posting, assigning, closing and reopening, with their
//! validation and rejections.

use application::Role;
use serde_json::json;
use tests::spawn_app;
use uuid::Uuid;

use super::{AGENT, ALICE, fails, rejected, succeeds};

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
