//! The stored form of the fulfilment policy's inputs: a saga's durable state is the list of
//! [`Step`]s it has taken in, folded again when it is loaded.

use domain::fulfilment::Step;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Error;
use crate::schema::wire;

/// One [`Step`] as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "step",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum StepRecord {
    /// [`Step::Placed`].
    Placed {
        /// The order.
        order: Uuid,
        /// Its customer.
        customer: String,
        /// `(sku, quantity)` per line.
        lines: Vec<(String, u32)>,
        /// The total in minor units.
        total_minor: i64,
        /// The total's currency.
        currency: String,
        /// The payment method, as the provider registered it.
        payment_method: wire::Method,
    },
    /// [`Step::StockReserved`].
    StockReserved {
        /// The line.
        sku: String,
    },
    /// [`Step::StockRejected`].
    StockRejected {
        /// The line.
        sku: String,
    },
    /// [`Step::StockCommitted`].
    StockCommitted {
        /// The line.
        sku: String,
    },
    /// [`Step::PaymentRequested`].
    PaymentRequested,
    /// [`Step::PaymentFailed`].
    PaymentFailed {
        /// Which attempt failed.
        attempt: u32,
    },
    /// [`Step::PaymentAuthorized`].
    PaymentAuthorized,
    /// [`Step::PaymentDeclined`].
    PaymentDeclined,
    /// [`Step::PaymentDeadlinePassed`].
    PaymentDeadlinePassed,
    /// [`Step::OrderConfirmed`].
    OrderConfirmed,
    /// [`Step::OrderCancelled`].
    OrderCancelled {
        /// Why, by wire name (`OUT_OF_STOCK`).
        reason: String,
    },
}

impl From<&Step> for StepRecord {
    fn from(step: &Step) -> Self {
        match step {
            Step::Placed {
                order,
                customer,
                lines,
                total,
                payment,
            } => Self::Placed {
                order: wire::order_uuid(*order),
                customer: customer.as_str().to_owned(),
                lines: lines
                    .iter()
                    .map(|(sku, quantity)| (sku.as_str().to_owned(), quantity.get()))
                    .collect(),
                total_minor: total.minor(),
                currency: total.currency().as_str().to_owned(),
                payment_method: payment.into(),
            },
            Step::StockReserved { sku } => Self::StockReserved {
                sku: sku.as_str().to_owned(),
            },
            Step::StockRejected { sku } => Self::StockRejected {
                sku: sku.as_str().to_owned(),
            },
            Step::StockCommitted { sku } => Self::StockCommitted {
                sku: sku.as_str().to_owned(),
            },
            Step::PaymentRequested => Self::PaymentRequested,
            Step::PaymentFailed { attempt } => Self::PaymentFailed { attempt: *attempt },
            Step::PaymentAuthorized => Self::PaymentAuthorized,
            Step::PaymentDeclined => Self::PaymentDeclined,
            Step::PaymentDeadlinePassed => Self::PaymentDeadlinePassed,
            Step::OrderConfirmed => Self::OrderConfirmed,
            Step::OrderCancelled { reason } => Self::OrderCancelled {
                reason: reason.as_str().to_owned(),
            },
        }
    }
}

impl TryFrom<StepRecord> for Step {
    type Error = Error;

    fn try_from(record: StepRecord) -> Result<Self, Error> {
        Ok(match record {
            StepRecord::Placed {
                order,
                customer,
                lines,
                total_minor,
                currency,
                payment_method,
            } => Self::Placed {
                order: wire::order_id(order),
                customer: wire::customer(&customer)?,
                lines: lines
                    .into_iter()
                    .map(|(sku, units)| Ok((wire::sku(&sku)?, wire::quantity(units)?)))
                    .collect::<Result<_, Error>>()?,
                total: wire::money(total_minor, &currency)?,
                payment: payment_method.read()?,
            },
            StepRecord::StockReserved { sku } => Self::StockReserved {
                sku: wire::sku(&sku)?,
            },
            StepRecord::StockRejected { sku } => Self::StockRejected {
                sku: wire::sku(&sku)?,
            },
            StepRecord::StockCommitted { sku } => Self::StockCommitted {
                sku: wire::sku(&sku)?,
            },
            StepRecord::PaymentRequested => Self::PaymentRequested,
            StepRecord::PaymentFailed { attempt } => Self::PaymentFailed { attempt },
            StepRecord::PaymentAuthorized => Self::PaymentAuthorized,
            StepRecord::PaymentDeclined => Self::PaymentDeclined,
            StepRecord::PaymentDeadlinePassed => Self::PaymentDeadlinePassed,
            StepRecord::OrderConfirmed => Self::OrderConfirmed,
            StepRecord::OrderCancelled { reason } => Self::OrderCancelled {
                reason: wire::cancellation_reason(&reason)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use domain::{Currency, CustomerId, Money, OrderId, Quantity, Sku};

    use super::*;

    #[test]
    fn every_step_reads_back_as_it_was_stored() {
        let steps = vec![
            Step::Placed {
                order: OrderId::from_u128(7),
                customer: CustomerId::parse("alice").unwrap(),
                lines: vec![(Sku::parse("MUG-1").unwrap(), Quantity::new(2).unwrap())],
                total: Money::new(2500, Currency::parse("BRL").unwrap()),
                payment: domain::PaymentMethod::new("pm_visa", "fp_visa").unwrap(),
            },
            Step::StockReserved {
                sku: Sku::parse("MUG-1").unwrap(),
            },
            Step::StockRejected {
                sku: Sku::parse("MUG-1").unwrap(),
            },
            Step::StockCommitted {
                sku: Sku::parse("MUG-1").unwrap(),
            },
            Step::PaymentRequested,
            Step::PaymentFailed { attempt: 2 },
            Step::PaymentAuthorized,
            Step::PaymentDeclined,
            Step::PaymentDeadlinePassed,
            Step::OrderConfirmed,
            Step::OrderCancelled {
                reason: domain::order::CancellationReason::PaymentTimeout,
            },
        ];
        for step in steps {
            let json = serde_json::to_value(StepRecord::from(&step)).unwrap();
            let back: StepRecord = serde_json::from_value(json).unwrap();
            assert_eq!(Step::try_from(back).unwrap(), step);
        }
    }
}
