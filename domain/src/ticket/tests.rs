use super::*;
use crate::testing::given;
use crate::{InvalidValue, Timestamp};

const TICKET: TicketId = TicketId::from_u128(3);

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn alice() -> CustomerId {
    CustomerId::parse("alice").unwrap()
}

fn open(subject: &str, message: &str) -> Command {
    Command::Open {
        ticket: TICKET,
        customer: alice(),
        subject: subject.into(),
        message: message.into(),
        order: Some(OrderId::from_u128(7)),
        at: at(1),
    }
}

fn opened() -> Event {
    Event::Opened {
        ticket: TICKET,
        customer: alice(),
        subject: "Where is my mug?".into(),
        message: "It has not arrived.".into(),
        order: Some(OrderId::from_u128(7)),
        at: at(1),
    }
}

fn closed() -> Event {
    Event::Closed {
        resolution: "Refunded".into(),
        at: at(5),
    }
}

fn agent_says(body: &str) -> Command {
    Command::PostMessage {
        author: Author {
            id: "bob".into(),
            role: Role::Agent,
        },
        body: body.into(),
        at: at(2),
    }
}

#[test]
fn opening_records_the_subject_first_message_and_linked_order() {
    let ticket = given::<Ticket>([])
        .when(open("Where is my mug?", "It has not arrived."))
        .then([opened()]);
    assert_eq!(ticket.order(), Some(OrderId::from_u128(7)));
    assert_eq!(ticket.message_count(), 1);
}

#[test]
fn opening_needs_a_subject_and_a_first_message() {
    given::<Ticket>([])
        .when(open(" ", "text"))
        .then_err(Error::InvalidSubject(InvalidValue::Empty {
            field: "subject",
        }));
    given::<Ticket>([])
        .when(open("subject", ""))
        .then_err(Error::InvalidMessage(InvalidValue::Empty {
            field: "message",
        }));
    given::<Ticket>([opened()])
        .when(open("again", "again"))
        .then_err(Error::AlreadyOpened);
}

#[test]
fn a_message_is_added_to_the_thread() {
    let ticket = given::<Ticket>([opened()])
        .when(agent_says("On its way."))
        .then([Event::MessagePosted {
            author: Author {
                id: "bob".into(),
                role: Role::Agent,
            },
            body: "On its way.".into(),
            at: at(2),
        }]);
    assert_eq!(ticket.message_count(), 2);
}

#[test]
fn a_message_must_not_be_empty() {
    given::<Ticket>([opened()])
        .when(agent_says("   "))
        .then_err(Error::InvalidMessage(InvalidValue::Empty {
            field: "message",
        }));
}

#[test]
fn a_message_has_at_most_four_thousand_characters() {
    let limit = "é".repeat(MAX_MESSAGE_LEN);
    given::<Ticket>([opened()])
        .when(agent_says(&limit))
        .then([Event::MessagePosted {
            author: Author {
                id: "bob".into(),
                role: Role::Agent,
            },
            body: limit.clone(),
            at: at(2),
        }]);
    given::<Ticket>([opened()])
        .when(agent_says(&format!("{limit}x")))
        .then_err(Error::InvalidMessage(InvalidValue::TooLong {
            field: "message",
            length: 4001,
            max: 4000,
        }));
}

#[test]
fn a_closed_ticket_takes_no_message() {
    given::<Ticket>([opened(), closed()])
        .when(agent_says("hello?"))
        .then_err(Error::Closed);
}

#[test]
fn a_ticket_is_assigned_to_an_agent() {
    let bob = AgentId::parse("bob").unwrap();
    let ticket = given::<Ticket>([opened()])
        .when(Command::Assign {
            agent: bob.clone(),
            at: at(2),
        })
        .then([Event::Assigned {
            agent: bob.clone(),
            at: at(2),
        }]);
    assert_eq!(ticket.assignee(), Some(&bob));
    given::<Ticket>([
        opened(),
        Event::Assigned {
            agent: bob.clone(),
            at: at(2),
        },
    ])
    .when(Command::Assign {
        agent: bob,
        at: at(3),
    })
    .then([]);
}

#[test]
fn closing_twice_is_an_error() {
    let close = || Command::Close {
        resolution: "Refunded".into(),
        at: at(5),
    };
    let ticket = given::<Ticket>([opened()]).when(close()).then([closed()]);
    assert!(ticket.is_closed());
    given::<Ticket>([opened(), closed()])
        .when(close())
        .then_err(Error::AlreadyClosed);
}

#[test]
fn only_a_closed_ticket_is_reopened() {
    let ticket = given::<Ticket>([opened(), closed()])
        .when(Command::Reopen { at: at(6) })
        .then([Event::Reopened { at: at(6) }]);
    assert!(!ticket.is_closed());
    given::<Ticket>([opened()])
        .when(Command::Reopen { at: at(6) })
        .then_err(Error::NotClosed);
}

#[test]
fn nothing_happens_to_a_ticket_that_was_never_opened() {
    given::<Ticket>([])
        .when(agent_says("hi"))
        .then_err(Error::NotOpened);
}
