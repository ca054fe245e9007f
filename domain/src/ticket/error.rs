//! Why a ticket refuses a command.

use std::fmt;

use crate::InvalidValue;

/// A command the ticket refuses, naming the situation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The ticket already exists.
    AlreadyOpened,
    /// The ticket does not exist.
    NotOpened,
    /// The subject is not usable.
    InvalidSubject(InvalidValue),
    /// The message is empty or too long.
    InvalidMessage(InvalidValue),
    /// The resolution is not usable.
    InvalidResolution(InvalidValue),
    /// The ticket is closed.
    Closed,
    /// The ticket is already closed.
    AlreadyClosed,
    /// Only a closed ticket can be reopened.
    NotClosed,
}

impl Error {
    /// The name of the rule that refused the command: the variant's name, e.g.
    /// `"AlreadyOpened"`. Stable, so callers can report it as a reason code.
    #[must_use]
    pub const fn rule_name(&self) -> &'static str {
        match self {
            Self::AlreadyOpened => "AlreadyOpened",
            Self::NotOpened => "NotOpened",
            Self::InvalidSubject(_) => "InvalidSubject",
            Self::InvalidMessage(_) => "InvalidMessage",
            Self::InvalidResolution(_) => "InvalidResolution",
            Self::Closed => "Closed",
            Self::AlreadyClosed => "AlreadyClosed",
            Self::NotClosed => "NotClosed",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyOpened => f.write_str("the ticket is already open"),
            Self::NotOpened => f.write_str("the ticket has not been opened"),
            Self::InvalidSubject(why) => write!(f, "invalid subject: {why}"),
            Self::InvalidMessage(why) => write!(f, "invalid message: {why}"),
            Self::InvalidResolution(why) => write!(f, "invalid resolution: {why}"),
            Self::Closed => f.write_str("the ticket is closed"),
            Self::AlreadyClosed => f.write_str("the ticket is already closed"),
            Self::NotClosed => f.write_str("only a closed ticket can be reopened"),
        }
    }
}

impl std::error::Error for Error {}
