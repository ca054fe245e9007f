//! The order: what a customer buys, and where it stands on the way to being shipped.

mod command;
mod error;
mod event;
mod line;
mod parts;
mod pricing;
mod status;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

pub use command::Command;
pub use error::Error;
pub use event::Event;
pub use line::Line;
pub use parts::{Parts, PlacedParts};
pub use pricing::{PriceError, unit_price};
pub use status::{CancellationReason, Status};

use crate::values::bounded_text;
use crate::{Aggregate, Currency, CustomerId, Money, OrderId, PaymentMethod, Sku};

/// The most lines one order may have.
pub const MAX_LINES: usize = 100;
/// The longest payment token accepted, in characters.
pub const MAX_PAYMENT_TOKEN_LEN: usize = 128;

/// The customer's payment token, checked before it goes to the payment provider (which
/// registers it and answers the [`PaymentMethod`] an order keeps instead).
///
/// # Errors
/// [`Error::InvalidPaymentToken`] when it is empty, padded or too long.
pub fn payment_token(raw: &str) -> Result<String, Error> {
    bounded_text("payment token", raw, MAX_PAYMENT_TOKEN_LEN).map_err(Error::InvalidPaymentToken)
}

/// The state of one order, folded from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Order {
    placed: Option<Placed>,
    reserved: BTreeSet<Sku>,
    paid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Placed {
    id: OrderId,
    customer: CustomerId,
    lines: Vec<Line>,
    total: Money,
    status: Status,
}

impl Order {
    /// The order's status, `None` before it is placed.
    #[must_use]
    pub fn status(&self) -> Option<Status> {
        self.placed.as_ref().map(|p| p.status)
    }

    /// The order's id, `None` before it is placed.
    #[must_use]
    pub fn id(&self) -> Option<OrderId> {
        self.placed.as_ref().map(|p| p.id)
    }

    /// Who placed the order.
    #[must_use]
    pub fn customer(&self) -> Option<&CustomerId> {
        self.placed.as_ref().map(|p| &p.customer)
    }

    /// The order's lines (empty before it is placed).
    #[must_use]
    pub fn lines(&self) -> &[Line] {
        self.placed.as_ref().map_or(&[], |p| p.lines.as_slice())
    }

    /// The exact sum of the line totals.
    #[must_use]
    pub fn total(&self) -> Option<Money> {
        self.placed.as_ref().map(|p| p.total)
    }

    /// Whether the stock for `sku` is recorded as reserved.
    #[must_use]
    pub fn is_reserved(&self, sku: &Sku) -> bool {
        self.reserved.contains(sku)
    }

    /// Whether the payment is recorded as succeeded.
    #[must_use]
    pub fn is_paid(&self) -> bool {
        self.paid
    }

    fn place(
        &self,
        order: OrderId,
        customer: CustomerId,
        currency: Currency,
        lines: Vec<Line>,
        payment: PaymentMethod,
        at: crate::Timestamp,
    ) -> Result<Vec<Event>, Error> {
        if self.placed.is_some() {
            return Err(Error::AlreadyPlaced);
        }
        if lines.is_empty() {
            return Err(Error::NoLines);
        }
        if lines.len() > MAX_LINES {
            return Err(Error::TooManyLines {
                count: lines.len(),
                max: MAX_LINES,
            });
        }
        let mut total = Money::new(0, currency);
        let mut seen = BTreeSet::new();
        for line in &lines {
            if line.unit_price.currency() != currency {
                return Err(Error::CurrencyMismatch {
                    expected: currency,
                    found: line.unit_price.currency(),
                });
            }
            if line.unit_price.minor() <= 0 {
                return Err(Error::NonPositivePrice {
                    sku: line.sku.clone(),
                });
            }
            if !seen.insert(&line.sku) {
                return Err(Error::DuplicateSku {
                    sku: line.sku.clone(),
                });
            }
            total = line
                .total()
                .and_then(|line_total| total.plus(line_total))
                .ok_or(Error::AmountOverflow)?;
        }
        Ok(vec![Event::Placed {
            order,
            customer,
            currency,
            lines,
            total,
            payment,
            at,
        }])
    }

    /// The placed order if it is still pending, or the error naming where it stands instead.
    fn pending(&self) -> Result<&Placed, Error> {
        let placed = self.placed.as_ref().ok_or(Error::NotPlaced)?;
        match placed.status {
            Status::Pending => Ok(placed),
            Status::Confirmed => Err(Error::AlreadyConfirmed),
            Status::Cancelled(_) => Err(Error::AlreadyCancelled),
            Status::Shipped => Err(Error::AlreadyShipped),
        }
    }

    fn record_line_reserved(&self, sku: Sku) -> Result<Vec<Event>, Error> {
        let placed = self.pending()?;
        if !placed.lines.iter().any(|line| line.sku == sku) {
            return Err(Error::UnknownLine { sku });
        }
        if self.reserved.contains(&sku) {
            return Ok(vec![]);
        }
        Ok(vec![Event::LineReserved { sku }])
    }

    fn record_payment_succeeded(&self) -> Result<Vec<Event>, Error> {
        self.pending()?;
        if self.paid {
            return Ok(vec![]);
        }
        Ok(vec![Event::Paid])
    }

    fn confirm(&self, at: crate::Timestamp) -> Result<Vec<Event>, Error> {
        let placed = self.pending()?;
        let missing = placed
            .lines
            .iter()
            .filter(|line| !self.reserved.contains(&line.sku))
            .count();
        if missing > 0 {
            return Err(Error::NotFullyReserved { missing });
        }
        if !self.paid {
            return Err(Error::NotPaid);
        }
        Ok(vec![Event::Confirmed { at }])
    }

    fn cancel(
        &self,
        reason: CancellationReason,
        at: crate::Timestamp,
    ) -> Result<Vec<Event>, Error> {
        let placed = self.placed.as_ref().ok_or(Error::NotPlaced)?;
        match placed.status {
            Status::Cancelled(_) => Err(Error::AlreadyCancelled),
            Status::Shipped => Err(Error::AlreadyShipped),
            // Only the customer can take back a confirmed order; the saga's reasons
            // (stock, payment) no longer apply once it is confirmed.
            Status::Confirmed if reason != CancellationReason::CustomerRequest => {
                Err(Error::AlreadyConfirmed)
            }
            Status::Pending | Status::Confirmed => Ok(vec![Event::Cancelled { reason, at }]),
        }
    }

    fn ship(&self, at: crate::Timestamp) -> Result<Vec<Event>, Error> {
        let placed = self.placed.as_ref().ok_or(Error::NotPlaced)?;
        match placed.status {
            Status::Confirmed => Ok(vec![Event::Shipped { at }]),
            Status::Pending => Err(Error::NotConfirmed),
            Status::Cancelled(_) => Err(Error::AlreadyCancelled),
            Status::Shipped => Err(Error::AlreadyShipped),
        }
    }
}

impl Aggregate for Order {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Place {
                order,
                customer,
                currency,
                lines,
                payment,
                at,
            } => self.place(order, customer, currency, lines, payment, at),
            Command::RecordLineReserved { sku } => self.record_line_reserved(sku),
            Command::RecordPaymentSucceeded => self.record_payment_succeeded(),
            Command::Confirm { at } => self.confirm(at),
            Command::Cancel { reason, at } => self.cancel(reason, at),
            Command::Ship { at } => self.ship(at),
        }
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::Placed {
                order,
                customer,
                lines,
                total,
                ..
            } => {
                self.placed = Some(Placed {
                    id: *order,
                    customer: customer.clone(),
                    lines: lines.clone(),
                    total: *total,
                    status: Status::Pending,
                });
            }
            Event::LineReserved { sku } => {
                self.reserved.insert(sku.clone());
            }
            Event::Paid => self.paid = true,
            Event::Confirmed { .. } => self.set_status(Status::Confirmed),
            Event::Cancelled { reason, .. } => self.set_status(Status::Cancelled(*reason)),
            Event::Shipped { .. } => self.set_status(Status::Shipped),
        }
    }
}

impl Order {
    fn set_status(&mut self, status: Status) {
        if let Some(placed) = &mut self.placed {
            placed.status = status;
        }
    }
}
