//! The mutations' inputs refuse what the REST bodies refuse.

use super::*;

fn line(sku: &str, quantity: i32, unit_price: &str) -> OrderLineInput {
    OrderLineInput {
        sku: sku.into(),
        quantity,
        unit_price: Some(unit_price.into()),
    }
}

fn order(lines: Vec<OrderLineInput>) -> PlaceOrderInput {
    PlaceOrderInput {
        customer_id: None,
        currency: "BRL".into(),
        lines,
        payment_token: "tok_visa".into(),
    }
}

fn is_validation<T: std::fmt::Debug>(result: Result<T, application::Error>) -> bool {
    matches!(result, Err(application::Error::Validation(_)))
}

#[test]
fn a_valid_order_becomes_the_command() {
    let command = order(vec![line("SKU-1", 2, "12.50")]).into_command();
    assert_eq!(
        command.ok(),
        Some(PlaceOrder {
            customer_id: None,
            currency: "BRL".into(),
            lines: vec![OrderLine {
                sku: "SKU-1".into(),
                quantity: 2,
                unit_price: Some("12.50".into()),
            }],
            payment_token: "tok_visa".into(),
        })
    );
}

#[test]
fn orders_refuse_what_rest_refuses() {
    assert!(is_validation(order(vec![]).into_command()));
    assert!(is_validation(
        order(vec![line("A", 1, "1"); 101]).into_command()
    ));
    assert!(order(vec![line("A", 1, "1"); 100]).into_command().is_ok());
    assert!(is_validation(order(vec![line("A", 0, "1")]).into_command()));
    assert!(is_validation(
        order(vec![line("A", 1_000_001, "1")]).into_command()
    ));
    assert!(is_validation(
        order(vec![line("a b", 1, "1")]).into_command()
    ));
    assert!(is_validation(order(vec![line("A", 1, "")]).into_command()));
    assert!(is_validation(order(vec![line("A", 1, "0")]).into_command()));
    assert!(is_validation(
        order(vec![line("A", 1, "1.505")]).into_command()
    ));
    let mut lower = order(vec![line("A", 1, "1")]);
    lower.currency = "brl".into();
    assert!(is_validation(lower.into_command()));
    let mut blank_token = order(vec![line("A", 1, "1")]);
    blank_token.payment_token = "  ".into();
    assert!(is_validation(blank_token.into_command()));
    let mut no_price = order(vec![line("A", 1, "1")]);
    no_price.lines[0].unit_price = None;
    assert!(no_price.into_command().is_ok());
    let mut no_customer = order(vec![line("A", 1, "1")]);
    no_customer.customer_id = Some(ID(String::new()));
    assert!(is_validation(no_customer.into_command()));
}

#[test]
fn products_refuse_what_rest_refuses() {
    let product = |sku: &str, name: &str, initial: i32, threshold: i32| RegisterProductInput {
        sku: sku.into(),
        name: name.into(),
        initial_quantity: initial,
        low_stock_threshold: threshold,
        price: "12.50".into(),
        currency: "BRL".into(),
    };
    assert!(product("A", "Apple", 0, 0).into_command().is_ok());
    let mut free = product("A", "Apple", 0, 0);
    free.price = "0".into();
    assert!(is_validation(free.into_command()));
    let mut lower = product("A", "Apple", 0, 0);
    lower.currency = "brl".into();
    assert!(is_validation(lower.into_command()));
    let reprice = |price: &str, currency: Option<&str>| RepriceProductInput {
        sku: "A".into(),
        price: price.into(),
        currency: currency.map(Into::into),
    };
    assert!(reprice("14.90", None).into_command().is_ok());
    assert!(reprice("14.90", Some("USD")).into_command().is_ok());
    assert!(is_validation(reprice("-1", None).into_command()));
    assert!(is_validation(reprice("1", Some("usd")).into_command()));
    assert!(is_validation(product("A", " ", 0, 0).into_command()));
    assert!(is_validation(product("A", "Apple", -1, 0).into_command()));
    assert!(is_validation(
        product("A", "Apple", 0, 1_000_000_001).into_command()
    ));
    let restock = |quantity| RestockInput {
        sku: "A".into(),
        quantity,
    };
    assert_eq!(restock(5).into_command().ok(), Some(("A".into(), 5)));
    assert!(is_validation(restock(0).into_command()));
}

#[test]
fn cancelling_needs_an_order_id() {
    let id = Uuid::now_v7();
    let cancel = |reason| CancelOrderInput {
        order_id: ID(id.to_string()),
        reason,
    };
    assert_eq!(cancel(None).into_command().ok(), Some(id));
    let by_request = cancel(Some(ClientCancellationReason::CustomerRequest));
    assert_eq!(by_request.into_command().ok(), Some(id));
    let bad_id = CancelOrderInput {
        order_id: ID("not-a-uuid".into()),
        reason: None,
    };
    assert!(is_validation(bad_id.into_command()));
}

#[test]
fn tickets_refuse_what_rest_refuses() {
    let open = |subject: &str, message: &str, order: Option<&str>| OpenTicketInput {
        customer_id: None,
        subject: subject.into(),
        message: message.into(),
        order_id: order.map(|o| ID(o.into())),
    };
    assert!(open("Help", "Where is it?", None).into_command().is_ok());
    assert!(is_validation(open("", "m", None).into_command()));
    assert!(is_validation(
        open("s", &"m".repeat(4001), None).into_command()
    ));
    assert!(is_validation(open("s", "m", Some("nope")).into_command()));
    let ticket = ID(Uuid::now_v7().to_string());
    let message = |body: &str| PostTicketMessageInput {
        ticket_id: ticket.clone(),
        body: body.into(),
    };
    assert!(message("hi").into_command().is_ok());
    assert!(is_validation(message(" ").into_command()));
    assert!(is_validation(message("a\u{0}b").into_command()));
    let assign = |agent: &str| AssignTicketInput {
        ticket_id: ticket.clone(),
        agent_id: ID(agent.into()),
    };
    assert!(assign("bob").into_command().is_ok());
    assert!(is_validation(assign(&"b".repeat(129)).into_command()));
    assert!(is_validation(assign("bob smith").into_command()));
    let close = |resolution: &str| CloseTicketInput {
        ticket_id: ticket.clone(),
        resolution: resolution.into(),
    };
    assert!(close("fixed").into_command().is_ok());
    assert!(is_validation(close(&"r".repeat(1001)).into_command()));
    let reopen = ReopenTicketInput {
        ticket_id: ID("x".into()),
    };
    assert!(is_validation(reopen.into_command()));
}

/// A ticket's fields are checked in REST's order: subject and message before the order id.
#[test]
fn a_ticket_names_its_first_bad_field_as_rest_does() {
    let input = OpenTicketInput {
        customer_id: None,
        subject: " ".into(),
        message: "m".into(),
        order_id: Some(ID("nope".into())),
    };
    match input.into_command() {
        Err(application::Error::Validation(message)) => {
            assert!(message.starts_with("subject"), "{message}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}
