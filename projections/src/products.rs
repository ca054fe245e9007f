//! The product read model: the price and the stock levels per SKU as the stock rules leave
//! them.

use std::collections::HashMap;

use application::event_log::RecordedEvent;
use async_trait::async_trait;
use domain::stock;
use sqlx::{PgConnection, Row as _};

use crate::decode::DomainEvent;
use crate::rows::{self, Rows};
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

    fn follows(&self) -> &'static [&'static str] {
        Self::FOLLOWS
    }

    async fn apply(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), Error> {
        rows::apply::<Self>(self.name(), tx, events).await
    }
}

impl Rows for Products {
    type Key = String;
    type Row = Row;
    type Event = stock::Event;

    const FOLLOWS: &'static [&'static str] = &["stock"];

    fn pick(event: DomainEvent) -> Option<stock::Event> {
        match event {
            DomainEvent::Stock(event) => Some(event),
            _ => None,
        }
    }

    fn key(event: &RecordedEvent) -> Result<String, Error> {
        Ok(event.stream.stream_id.clone())
    }

    async fn load(tx: &mut PgConnection, skus: &[String]) -> Result<HashMap<String, Row>, Error> {
        let rows = sqlx::query(
            "SELECT sku, name, on_hand, reserved, low_stock_threshold, low_stock, price_minor,
                 currency, version
             FROM rm_products WHERE sku = ANY($1) FOR UPDATE",
        )
        .bind(skus)
        .fetch_all(&mut *tx)
        .await?;
        rows.into_iter()
            .map(|row| {
                let sku: String = row.try_get("sku")?;
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
                };
                let product = Row {
                    name: row.try_get("name")?,
                    levels,
                    price_minor: row.try_get("price_minor")?,
                    currency: row.try_get("currency")?,
                    version: row.try_get("version")?,
                };
                Ok((sku, product))
            })
            .collect()
    }

    fn fold(
        rows: &mut HashMap<String, Row>,
        key: &String,
        record: &RecordedEvent,
        event: &stock::Event,
    ) -> Result<bool, Error> {
        Ok(fold(rows, key, record, event))
    }

    async fn store(tx: &mut PgConnection, rows: Vec<(String, Row)>) -> Result<(), Error> {
        let mut columns = Columns::default();
        for (sku, row) in rows {
            columns.sku.push(sku);
            columns.name.push(row.name);
            columns.on_hand.push(i64::from(row.levels.on_hand));
            columns.reserved.push(i64::from(row.levels.reserved));
            columns.available.push(i64::from(row.levels.available()));
            columns
                .threshold
                .push(i64::from(row.levels.low_stock_threshold));
            columns.low_stock.push(row.levels.low_stock);
            columns.price_minor.push(row.price_minor);
            columns.currency.push(row.currency);
            columns.version.push(row.version);
        }
        sqlx::query(
            "INSERT INTO rm_products (sku, name, on_hand, reserved, available, low_stock_threshold,
                 low_stock, price_minor, currency, version)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[],
                 $6::int8[], $7::bool[], $8::int8[], $9::text[], $10::int8[])
             ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, on_hand = EXCLUDED.on_hand,
                 reserved = EXCLUDED.reserved, available = EXCLUDED.available,
                 low_stock_threshold = EXCLUDED.low_stock_threshold,
                 low_stock = EXCLUDED.low_stock, price_minor = EXCLUDED.price_minor,
                 currency = EXCLUDED.currency, version = EXCLUDED.version",
        )
        .bind(columns.sku)
        .bind(columns.name)
        .bind(columns.on_hand)
        .bind(columns.reserved)
        .bind(columns.available)
        .bind(columns.threshold)
        .bind(columns.low_stock)
        .bind(columns.price_minor)
        .bind(columns.currency)
        .bind(columns.version)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// A product's row as the batch leaves it.
#[derive(Debug)]
pub(crate) struct Row {
    name: String,
    levels: Levels,
    price_minor: Option<i64>,
    currency: Option<String>,
    version: i64,
}

/// `rows` after `event`: registering adds the row; any later event changes it unless the row
/// already reflects its version (or the product is unknown, which the stock rules prevent).
fn fold(
    rows: &mut HashMap<String, Row>,
    sku: &str,
    event: &RecordedEvent,
    stock_event: &stock::Event,
) -> bool {
    if let stock::Event::Registered { name, price, .. } = stock_event {
        if !rows.contains_key(sku) {
            let row = Row {
                name: name.clone(),
                levels: Levels::default().after(stock_event),
                price_minor: price.map(|p| p.minor()),
                currency: price.map(|p| p.currency().to_string()),
                version: event.version,
            };
            rows.insert(sku.to_owned(), row);
            return true;
        }
        return false;
    }
    let Some(row) = rows.get_mut(sku) else {
        return false;
    };
    if event.version <= row.version {
        return false;
    }
    if let stock::Event::Repriced { price } = stock_event {
        row.price_minor = Some(price.minor());
        row.currency = Some(price.currency().to_string());
    } else {
        row.levels = row.levels.after(stock_event);
    }
    row.version = event.version;
    true
}

/// The changed rows, column by column, as `UNNEST` takes them.
#[derive(Default)]
struct Columns {
    sku: Vec<String>,
    name: Vec<String>,
    on_hand: Vec<i64>,
    reserved: Vec<i64>,
    available: Vec<i64>,
    threshold: Vec<i64>,
    low_stock: Vec<bool>,
    price_minor: Vec<Option<i64>>,
    currency: Vec<Option<String>>,
    version: Vec<i64>,
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
