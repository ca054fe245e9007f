//! A small given/when/then harness for aggregate rules.

use std::fmt::Debug;

use crate::Aggregate;

/// Starts a scenario from the events that already happened.
pub(crate) fn given<A: Aggregate>(events: impl IntoIterator<Item = A::Event>) -> Given<A> {
    let mut state = A::default();
    for event in events {
        state.apply(&event);
    }
    Given { state }
}

pub(crate) struct Given<A> {
    state: A,
}

impl<A: Aggregate> Given<A> {
    /// Runs the command against the state built from the given events.
    pub(crate) fn when(self, command: A::Command) -> Outcome<A> {
        let result = self.state.decide(command);
        Outcome {
            state: self.state,
            result,
        }
    }
}

pub(crate) struct Outcome<A: Aggregate> {
    state: A,
    result: Result<Vec<A::Event>, A::Error>,
}

impl<A> Outcome<A>
where
    A: Aggregate,
    A::Event: Debug + PartialEq,
    A::Error: Debug + PartialEq,
{
    /// Asserts the command produced exactly these events, and returns the state after them.
    #[track_caller]
    pub(crate) fn then(self, expected: impl IntoIterator<Item = A::Event>) -> A {
        let expected: Vec<A::Event> = expected.into_iter().collect();
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "unexpected events");
                let mut state = self.state;
                for event in &events {
                    state.apply(event);
                }
                state
            }
            Err(error) => panic!("expected events {expected:?}, got error {error:?}"),
        }
    }

    /// Asserts the command was refused with this error.
    #[track_caller]
    pub(crate) fn then_err(self, expected: A::Error) {
        match self.result {
            Ok(events) => panic!("expected error {expected:?}, got events {events:?}"),
            Err(error) => assert_eq!(error, expected),
        }
    }
}

/// The payment method the tests pay with.
pub(crate) fn card() -> crate::PaymentMethod {
    crate::PaymentMethod::new("pm_visa", "fp_visa").unwrap()
}
