//! The product read model: the price and the stock levels per SKU as the stock rules leave
//! them.

use application::event_log::RecordedEvent;
use async_trait::async_trait;
use domain::stock;
use sqlx::{PgConnection, Row};

use crate::decode::{DomainEvent, decode};
use crate::{Error, Projection};

/// Builds `rm_products` from stock events.
#[derive(Debug, Clone, Copy, Default)]
pub struct Products;

/// One SKU's levels, changed by events exactly as the domain's `Stock` changes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Levels {
    /// Units physically in stock.
    pub on_hand: u32,
    /// Units held for orders.
    pub reserved: u32,
    /// Available below this is low.
    pub low_stock_threshold: u32,
    /// Whether the low-stock alert is raised.
    pub low_stock: bool,
}

impl Levels {
    /// Units that can still be reserved.
    #[must_use]
    pub fn available(&self) -> u32 {
        self.on_hand.saturating_sub(self.reserved)
    }

    /// The levels after `event`. A rejected reservation changes nothing; the low-stock flag
    /// is raised by `LowStock` and cleared by any event after which available stock is back
    /// at the threshold (the rules of `domain::stock::Stock`).
    #[must_use]
    pub fn after(mut self, event: &stock::Event) -> Self {
        match event {
            stock::Event::Registered {
                low_stock_threshold,
                ..
            } => self.low_stock_threshold = *low_stock_threshold,
            stock::Event::Restocked { quantity } | stock::Event::Returned { quantity, .. } => {
                self.on_hand = self.on_hand.saturating_add(quantity.get());
            }
            stock::Event::Reserved { quantity, .. } => {
                self.reserved = self.reserved.saturating_add(quantity.get());
            }
            stock::Event::Released { quantity, .. } => {
                self.reserved = self.reserved.saturating_sub(quantity.get());
            }
            stock::Event::Committed { quantity, .. } => {
                self.reserved = self.reserved.saturating_sub(quantity.get());
                self.on_hand = self.on_hand.saturating_sub(quantity.get());
            }
            // The price is not a level: `apply` writes it.
            stock::Event::ReservationRejected { .. } | stock::Event::Repriced { .. } => {}
            stock::Event::LowStock { .. } => self.low_stock = true,
        }
        if !matches!(event, stock::Event::LowStock { .. })
            && self.available() >= self.low_stock_threshold
        {
            self.low_stock = false;
        }
        self
    }
}

#[async_trait]
impl Projection for Products {
    fn name(&self) -> &'static str {
        "products"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["rm_products"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), Error> {
        let Some(DomainEvent::Stock(stock_event)) = decode(event)? else {
            return Ok(());
        };
        let sku = event.stream.stream_id.as_str();
        if let stock::Event::Registered { name, price, .. } = &stock_event {
            let levels = Levels::default().after(&stock_event);
            sqlx::query(
                "INSERT INTO rm_products (sku, name, on_hand, reserved, available,
                     low_stock_threshold, low_stock, price_minor, currency, version)
                 VALUES ($1, $2, 0, 0, 0, $3, false, $4, $5, $6)
                 ON CONFLICT (sku) DO NOTHING",
            )
            .bind(sku)
            .bind(name)
            .bind(i64::from(levels.low_stock_threshold))
            .bind(price.map(|p| p.minor()))
            .bind(price.map(|p| p.currency().to_string()))
            .bind(event.version)
            .execute(&mut *tx)
            .await?;
            return Ok(());
        }
        if let stock::Event::Repriced { price } = &stock_event {
            // `version < $2`: a redelivered event changes nothing.
            sqlx::query(
                "UPDATE rm_products SET price_minor = $3, currency = $4, version = $2
                 WHERE sku = $1 AND version < $2",
            )
            .bind(sku)
            .bind(event.version)
            .bind(price.minor())
            .bind(price.currency().to_string())
            .execute(&mut *tx)
            .await?;
            return Ok(());
        }
        let row = sqlx::query(
            "SELECT on_hand, reserved, low_stock_threshold, low_stock FROM rm_products
             WHERE sku = $1 AND version < $2 FOR UPDATE",
        )
        .bind(sku)
        .bind(event.version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            // Already applied (or the product is unknown, which the stock rules prevent).
            return Ok(());
        };
        let count = |column: &str| -> Result<u32, Error> {
            let value: i64 = row.try_get(column)?;
            u32::try_from(value)
                .map_err(|_| Error::Unexpected(format!("{column} {value} of {sku}")))
        };
        let levels = Levels {
            on_hand: count("on_hand")?,
            reserved: count("reserved")?,
            low_stock_threshold: count("low_stock_threshold")?,
            low_stock: row.try_get("low_stock")?,
        }
        .after(&stock_event);
        sqlx::query(
            "UPDATE rm_products SET on_hand = $3, reserved = $4, available = $5,
                 low_stock = $6, version = $2
             WHERE sku = $1",
        )
        .bind(sku)
        .bind(event.version)
        .bind(i64::from(levels.on_hand))
        .bind(i64::from(levels.reserved))
        .bind(i64::from(levels.available()))
        .bind(levels.low_stock)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use domain::{OrderId, Quantity, Sku};

    use super::*;

    fn units(n: u32) -> Quantity {
        Quantity::new(n).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn levels_follow_the_stock_rules_and_the_low_flag_clears_on_recovery() {
        let order = OrderId::from_u128(1);
        let sku = Sku::parse("SKU-1").unwrap_or_else(|e| unreachable!("{e}"));
        let events = [
            stock::Event::Registered {
                sku,
                name: "Mug".into(),
                low_stock_threshold: 3,
                price: None,
            },
            stock::Event::Restocked { quantity: units(5) },
            stock::Event::Reserved {
                order,
                quantity: units(4),
            },
            stock::Event::LowStock {
                available: 1,
                threshold: 3,
            },
            stock::Event::ReservationRejected {
                order: OrderId::from_u128(2),
                requested: units(9),
                available: 1,
            },
        ];
        let low = events.iter().fold(Levels::default(), Levels::after);
        assert_eq!((low.on_hand, low.reserved, low.available()), (5, 4, 1));
        assert!(low.low_stock);
        let sold = low.after(&stock::Event::Committed {
            order,
            quantity: units(4),
        });
        assert_eq!((sold.on_hand, sold.reserved, sold.available()), (1, 0, 1));
        assert!(sold.low_stock);
        let back = sold.after(&stock::Event::Returned {
            order,
            quantity: units(4),
        });
        assert_eq!((back.on_hand, back.available()), (5, 5));
        assert!(!back.low_stock);
    }
}
