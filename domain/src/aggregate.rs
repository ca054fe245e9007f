//! The shape every aggregate shares.

/// An event-sourced aggregate: state folded from its events, and a pure decision function.
///
/// `decide` never mutates: it looks at the current state and a command and answers with the
/// events that happen (possibly none, for a repeat that changes nothing) or an error naming
/// why the command is refused. `apply` folds one event into the state and must accept every
/// event `decide` can produce, in the order it produced them.
pub trait Aggregate: Default {
    /// What a caller asks for.
    type Command;
    /// What happened.
    type Event;
    /// Why a command was refused.
    type Error;

    /// Decides which events a command causes, given the current state.
    ///
    /// # Errors
    /// Returns the aggregate's error when a business rule refuses the command.
    fn decide(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// Folds one event into the state.
    fn apply(&mut self, event: &Self::Event);

    /// Builds the state from a sequence of events.
    fn from_events<'a, I>(events: I) -> Self
    where
        I: IntoIterator<Item = &'a Self::Event>,
        Self::Event: 'a,
    {
        let mut state = Self::default();
        for event in events {
            state.apply(event);
        }
        state
    }
}
