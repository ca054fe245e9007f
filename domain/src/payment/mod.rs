//! The payment of one order: requested once, settled once, refunded at most once.

mod command;
mod error;
mod event;
mod parts;
mod status;
#[cfg(test)]
mod tests;

pub use command::Command;
pub use error::Error;
pub use event::Event;
pub use parts::{Parts, RequestedParts};
pub use status::Status;

use crate::{Aggregate, Money, OrderId, PaymentMethod};

/// The state of one order's payment, folded from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payment {
    requested: Option<Requested>,
    status: Status,
    attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requested {
    order: OrderId,
    amount: Money,
    method: PaymentMethod,
}

impl Payment {
    /// Where the payment stands.
    #[must_use]
    pub fn status(&self) -> Status {
        self.status
    }

    /// How many answers the provider has given (authorized, declined or failed).
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The amount requested, `None` before the request.
    #[must_use]
    pub fn amount(&self) -> Option<Money> {
        self.requested.as_ref().map(|r| r.amount)
    }

    /// The order paid for, `None` before the request.
    #[must_use]
    pub fn order(&self) -> Option<OrderId> {
        self.requested.as_ref().map(|r| r.order)
    }

    /// The payment method charged, `None` before the request.
    #[must_use]
    pub fn method(&self) -> Option<&PaymentMethod> {
        self.requested.as_ref().map(|r| &r.method)
    }

    fn request(
        &self,
        order: OrderId,
        amount: Money,
        method: PaymentMethod,
    ) -> Result<Vec<Event>, Error> {
        if self.requested.is_some() {
            return Err(Error::AlreadyRequested);
        }
        if amount.minor() <= 0 {
            return Err(Error::NonPositiveAmount);
        }
        Ok(vec![Event::Requested {
            order,
            amount,
            method,
        }])
    }

    /// The payment when it still waits for an answer, or the error naming why it does not.
    fn awaiting_answer(&self) -> Result<&Requested, Error> {
        let requested = self.requested.as_ref().ok_or(Error::NotRequested)?;
        match self.status {
            Status::Requested | Status::FailedTransiently => Ok(requested),
            settled => Err(Error::AlreadySettled { status: settled }),
        }
    }

    fn next_attempt(&self) -> u32 {
        self.attempts.saturating_add(1)
    }

    fn refund(&self) -> Result<Vec<Event>, Error> {
        let requested = self.requested.as_ref().ok_or(Error::NotRequested)?;
        match self.status {
            Status::Succeeded => Ok(vec![Event::Refunded {
                amount: requested.amount,
            }]),
            Status::Refunded => Err(Error::AlreadyRefunded),
            _ => Err(Error::NotCaptured),
        }
    }
}

impl Aggregate for Payment {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Request {
                order,
                amount,
                method,
            } => self.request(order, amount, method),
            Command::RecordAuthorized => {
                // Money the provider captured after the payment was given up is still
                // recorded: the record is what gets it refunded.
                let requested = match (self.awaiting_answer(), &self.requested, self.status) {
                    (Ok(requested), _, _) => requested,
                    (Err(_), Some(requested), Status::Expired) => requested,
                    (Err(error), _, _) => return Err(error),
                };
                Ok(vec![Event::Authorized {
                    amount: requested.amount,
                    attempt: self.next_attempt(),
                }])
            }
            Command::RecordDeclined { reason } => {
                self.awaiting_answer()?;
                Ok(vec![Event::Declined {
                    reason,
                    attempt: self.next_attempt(),
                }])
            }
            Command::RecordFailure { error } => {
                self.awaiting_answer()?;
                Ok(vec![Event::FailedTransiently {
                    error,
                    attempt: self.next_attempt(),
                }])
            }
            // Also before the request: an order whose payment could never be requested
            // still reaches its deadline.
            Command::PassDeadline => match self.status {
                Status::NotRequested | Status::Requested | Status::FailedTransiently => {
                    Ok(vec![Event::DeadlinePassed])
                }
                settled => Err(Error::AlreadySettled { status: settled }),
            },
            Command::Expire => {
                self.awaiting_answer()?;
                Ok(vec![Event::Expired])
            }
            Command::Refund => self.refund(),
        }
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::Requested {
                order,
                amount,
                method,
            } => {
                self.requested = Some(Requested {
                    order: *order,
                    amount: *amount,
                    method: method.clone(),
                });
            }
            Event::Authorized { attempt, .. }
            | Event::Declined { attempt, .. }
            | Event::FailedTransiently { attempt, .. } => self.attempts = *attempt,
            Event::DeadlinePassed | Event::Expired | Event::Refunded { .. } => {}
        }
        if let Some(status) = Status::after(event) {
            self.status = status;
        }
    }
}
