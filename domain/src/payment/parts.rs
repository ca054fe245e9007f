//! The payment state laid out as plain data: the door for snapshots.

use super::{Payment, Requested, Status};
use crate::{Money, OrderId, PaymentMethod};

/// Every field of a [`Payment`] state, public, so a snapshot can store it and restore it.
///
/// This is not a way to make a state: `from_parts` trusts what it is given, and parts that
/// did not come from [`Payment::to_parts`] may break the invariants `decide` keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parts {
    /// The requested charge, `None` before the request.
    pub requested: Option<RequestedParts>,
    /// Where the payment stands.
    pub status: Status,
    /// How many answers the provider has given.
    pub attempts: u32,
}

/// The requested charge of a [`Parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedParts {
    /// The order paid for.
    pub order: OrderId,
    /// How much.
    pub amount: Money,
    /// The payment method charged.
    pub method: PaymentMethod,
}

impl Payment {
    /// The state as plain data, for a snapshot.
    #[must_use]
    pub fn to_parts(&self) -> Parts {
        Parts {
            requested: self.requested.as_ref().map(|r| RequestedParts {
                order: r.order,
                amount: r.amount,
                method: r.method.clone(),
            }),
            status: self.status,
            attempts: self.attempts,
        }
    }

    /// The state a snapshot made with [`Payment::to_parts`] describes.
    #[must_use]
    pub fn from_parts(parts: Parts) -> Self {
        Self {
            requested: parts.requested.map(|r| Requested {
                order: r.order,
                amount: r.amount,
                method: r.method,
            }),
            status: parts.status,
            attempts: parts.attempts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::Event;
    use crate::{Aggregate, Currency};

    #[test]
    fn a_state_survives_the_trip_through_its_parts() {
        let amount = Money::new(3300, Currency::parse("BRL").unwrap());
        let payment = Payment::from_events(&[
            Event::Requested {
                order: OrderId::from_u128(7),
                amount,
                method: crate::testing::card(),
            },
            Event::FailedTransiently {
                error: "gateway timeout".into(),
                attempt: 1,
            },
            Event::Authorized { amount, attempt: 2 },
        ]);
        assert_eq!(
            (payment.status(), payment.attempts()),
            (Status::Succeeded, 2)
        );

        assert_eq!(Payment::from_parts(payment.to_parts()), payment);
        assert_eq!(Payment::from_parts(Parts::default()), Payment::default());
    }
}
