//! The order workload both contenders run: the catalogue registered before timing, and the
//! commands of one order, which are what the fulfilment saga sends for a `tok_visa` order
//! with one line.

use std::time::{SystemTime, UNIX_EPOCH};

use domain::order::Line;
use domain::{
    Currency, CustomerId, Money, OrderId, Quantity, Sku, Timestamp, order, payment, stock,
};
use uuid::Uuid;

/// Units of each SKU on hand before timing: more than any run sells.
pub const OPENING: u32 = 1_000_000;

/// What one unit of every SKU costs, in cents.
const UNIT_PRICE: i64 = 1250;

/// Units of the one line of every order.
pub const UNITS: u32 = 1;

/// One domain command, addressed to its aggregate.
#[derive(Debug, Clone)]
pub enum Step {
    /// To the order `id`.
    Order {
        /// The order's stream id.
        id: String,
        /// What it is asked.
        command: order::Command,
    },
    /// To the stock of `sku`.
    Stock {
        /// The SKU (the stream id).
        sku: String,
        /// What it is asked.
        command: stock::Command,
    },
    /// To the payment of order `id`.
    Payment {
        /// The payment's stream id (the order's).
        id: String,
        /// What it is asked.
        command: payment::Command,
    },
}

/// The SKUs the orders are spread over.
#[derive(Debug, Clone, Copy)]
pub struct Catalogue {
    skus: usize,
}

impl Catalogue {
    /// A catalogue of `skus` SKUs (at least one).
    #[must_use]
    pub fn new(skus: usize) -> Self {
        Self { skus: skus.max(1) }
    }

    /// How many SKUs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.skus
    }

    /// Never: a catalogue has at least one SKU.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The SKU numbered `index`.
    #[must_use]
    pub fn sku(&self, index: usize) -> String {
        format!("PEER-{index:05}")
    }

    /// The SKU order `order` of client `client` buys: a fixed scatter over the catalogue,
    /// so both contenders buy the same SKUs in the same turn.
    #[must_use]
    pub fn pick(&self, client: usize, order: u64) -> usize {
        // splitmix64 of (client, order).
        let mut z = ((client as u64) << 40 ^ order).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        usize::try_from(z % self.skus as u64).unwrap_or(0)
    }

    /// Registering every SKU with [`OPENING`] units.
    ///
    /// # Errors
    /// When a SKU or the price is invalid.
    pub fn registrations(&self) -> Result<Vec<Step>, String> {
        (0..self.skus)
            .map(|index| {
                let sku = self.sku(index);
                Ok(Step::Stock {
                    command: stock::Command::Register {
                        sku: parse_sku(&sku)?,
                        name: format!("Peer product {index}"),
                        low_stock_threshold: 10,
                        initial_quantity: OPENING,
                        price: Money::new(UNIT_PRICE, euro()?),
                    },
                    sku,
                })
            })
            .collect()
    }
}

/// The commands of one order of one unit of `sku`, in the order the fulfilment saga sends
/// them for a `tok_visa` order: place it, reserve the line and record it reserved, request
/// the payment, record it authorized (the saga does after the provider's charge; no
/// provider here), record the order paid, commit the stock, confirm the order.
///
/// # Errors
/// When the SKU or customer is invalid.
pub fn order(sku: &str, customer: &str) -> Result<Vec<Step>, String> {
    let order = OrderId::from_u128(Uuid::now_v7().as_u128());
    let id = order.to_string();
    let currency = euro()?;
    let quantity = Quantity::new(UNITS).map_err(|e| e.to_string())?;
    let unit_price = Money::new(UNIT_PRICE, currency);
    let amount = Money::new(UNIT_PRICE * i64::from(UNITS), currency);
    let at = now();
    let to_order = |command| Step::Order {
        id: id.clone(),
        command,
    };
    let to_stock = |command| Step::Stock {
        sku: sku.to_owned(),
        command,
    };
    let card = domain::PaymentMethod::new("pm_bench", "fp_bench").map_err(|e| e.to_string())?;
    Ok(vec![
        to_order(order::Command::Place {
            order,
            customer: CustomerId::parse(customer).map_err(|e| e.to_string())?,
            currency,
            lines: vec![Line {
                sku: parse_sku(sku)?,
                quantity,
                unit_price,
            }],
            payment: card.clone(),
            at,
        }),
        to_stock(stock::Command::Reserve { order, quantity }),
        to_order(order::Command::RecordLineReserved {
            sku: parse_sku(sku)?,
        }),
        Step::Payment {
            id: id.clone(),
            command: payment::Command::Request {
                order,
                amount,
                method: card,
            },
        },
        Step::Payment {
            id: id.clone(),
            command: payment::Command::RecordAuthorized,
        },
        to_order(order::Command::RecordPaymentSucceeded),
        to_stock(stock::Command::Commit { order }),
        to_order(order::Command::Confirm { at }),
    ])
}

fn parse_sku(sku: &str) -> Result<Sku, String> {
    Sku::parse(sku).map_err(|e| e.to_string())
}

fn euro() -> Result<Currency, String> {
    Currency::parse("EUR").map_err(|e| e.to_string())
}

fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_are_spread_over_the_whole_catalogue() {
        let catalogue = Catalogue::new(200);
        let mut seen = vec![0_u32; 200];
        for client in 0..8 {
            for order in 0..1000 {
                seen[catalogue.pick(client, order)] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
    }

    #[test]
    fn an_order_is_the_sagas_eight_commands() {
        let steps = order("PEER-00001", "customer-1").unwrap();
        assert_eq!(steps.len(), 8);
    }
}
