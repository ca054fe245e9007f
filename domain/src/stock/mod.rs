//! The stock of one SKU: what is on hand, what orders have reserved, what they bought.

mod command;
mod error;
mod event;
mod parts;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use command::Command;
pub use error::Error;
pub use event::Event;
pub use parts::{Parts, ProductParts};

use crate::values::bounded_text;
use crate::{Aggregate, Money, OrderId, Quantity, Sku};

/// The longest product name accepted.
pub const MAX_NAME_LEN: usize = 200;

/// The state of one SKU's stock, folded from its events.
///
/// Invariant: `reserved` is the sum of the open reservations and never exceeds `on_hand`,
/// so neither count can go negative whatever order the commands come in.
///
/// Only open reservations are kept per order: an order's allocation is dropped once it is
/// released or sold, so the state (and its snapshot) of a SKU that has served a hundred
/// thousand orders is as small as a new one's. Repeats of a command are recognised by the
/// event store's command ids, not by this state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stock {
    product: Option<Product>,
    on_hand: u32,
    reserved: u32,
    low: bool,
    reservations: BTreeMap<OrderId, Quantity>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Product {
    sku: Sku,
    name: String,
    low_stock_threshold: u32,
    price: Option<Money>,
}

impl Stock {
    /// Units physically in stock (sold units have left).
    #[must_use]
    pub fn on_hand(&self) -> u32 {
        self.on_hand
    }

    /// Units held for orders that have not bought them yet.
    #[must_use]
    pub fn reserved(&self) -> u32 {
        self.reserved
    }

    /// Units that can still be reserved.
    #[must_use]
    pub fn available(&self) -> u32 {
        self.on_hand.saturating_sub(self.reserved)
    }

    /// Whether available stock is below the low-stock threshold (and the alert was raised).
    #[must_use]
    pub fn is_low(&self) -> bool {
        self.low
    }

    /// The product's SKU, `None` before it is registered.
    #[must_use]
    pub fn sku(&self) -> Option<&Sku> {
        self.product.as_ref().map(|p| &p.sku)
    }

    /// The product's name, `None` before it is registered.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.product.as_ref().map(|p| p.name.as_str())
    }

    /// The threshold below which available stock counts as low.
    #[must_use]
    pub fn low_stock_threshold(&self) -> u32 {
        self.product.as_ref().map_or(0, |p| p.low_stock_threshold)
    }

    /// What one unit costs: `None` before registration, and for a product registered
    /// before products had prices until it is repriced.
    #[must_use]
    pub fn price(&self) -> Option<Money> {
        self.product.as_ref().and_then(|p| p.price)
    }

    /// The units `order` holds here, `None` when it holds none (never reserved, or
    /// released or sold since).
    #[must_use]
    pub fn reservation(&self, order: OrderId) -> Option<Quantity> {
        self.reservations.get(&order).copied()
    }

    fn product(&self) -> Result<&Product, Error> {
        self.product.as_ref().ok_or(Error::NotRegistered)
    }

    fn register(
        &self,
        sku: Sku,
        name: &str,
        low_stock_threshold: u32,
        initial_quantity: u32,
        price: Money,
    ) -> Result<Vec<Event>, Error> {
        if self.product.is_some() {
            return Err(Error::AlreadyRegistered);
        }
        let name = bounded_text("product name", name, MAX_NAME_LEN).map_err(Error::InvalidName)?;
        check_price(price)?;
        let mut events = vec![Event::Registered {
            sku,
            name,
            low_stock_threshold,
            price: Some(price),
        }];
        if let Ok(quantity) = Quantity::new(initial_quantity) {
            events.push(Event::Restocked { quantity });
        }
        self.alert_if_low(&mut events, initial_quantity, low_stock_threshold);
        Ok(events)
    }

    fn restock(&self, quantity: Quantity) -> Result<Vec<Event>, Error> {
        self.product()?;
        self.on_hand
            .checked_add(quantity.get())
            .ok_or(Error::QuantityOverflow)?;
        Ok(vec![Event::Restocked { quantity }])
    }

    fn reprice(&self, price: Money) -> Result<Vec<Event>, Error> {
        let product = self.product()?;
        check_price(price)?;
        if product.price == Some(price) {
            // Repeating a price changes nothing.
            return Ok(vec![]);
        }
        Ok(vec![Event::Repriced { price }])
    }

    fn reserve(&self, order: OrderId, quantity: Quantity) -> Result<Vec<Event>, Error> {
        let product = self.product()?;
        if self.reservations.contains_key(&order) {
            // The order already holds its units: a repeat changes nothing.
            return Ok(vec![]);
        }
        let available = self.available();
        if quantity.get() > available {
            return Ok(vec![Event::ReservationRejected {
                order,
                requested: quantity,
                available,
            }]);
        }
        let mut events = vec![Event::Reserved { order, quantity }];
        self.alert_if_low(
            &mut events,
            available - quantity.get(),
            product.low_stock_threshold,
        );
        Ok(events)
    }

    fn release(&self, order: OrderId) -> Result<Vec<Event>, Error> {
        self.product()?;
        Ok(self
            .reservation(order)
            .map(|quantity| Event::Released { order, quantity })
            .into_iter()
            .collect())
    }

    fn commit(&self, order: OrderId) -> Result<Vec<Event>, Error> {
        self.product()?;
        match self.reservation(order) {
            Some(quantity) => Ok(vec![Event::Committed { order, quantity }]),
            // Sold already, or released (the order was given up): nothing to commit.
            None => Err(Error::NothingReserved { order }),
        }
    }

    /// Puts `quantity` sold units back. The stock keeps no record of settled orders, so the
    /// caller (the saga, once it has seen the sale in the log) sends this once per order,
    /// under a command id that makes a repeat a no-op.
    fn give_back(&self, order: OrderId, quantity: Quantity) -> Result<Vec<Event>, Error> {
        self.product()?;
        self.on_hand
            .checked_add(quantity.get())
            .ok_or(Error::QuantityOverflow)?;
        Ok(vec![Event::Returned { order, quantity }])
    }

    /// Appends a `LowStock` alert when `available_after` is below the threshold and the
    /// alert has not been raised since stock was last at or above it.
    fn alert_if_low(&self, events: &mut Vec<Event>, available_after: u32, threshold: u32) {
        if available_after < threshold && !self.low {
            events.push(Event::LowStock {
                available: available_after,
                threshold,
            });
        }
    }

    fn clear_low_flag_if_recovered(&mut self) {
        if self.available() >= self.low_stock_threshold() {
            self.low = false;
        }
    }
}

/// Nothing is given away: a price of zero or less is refused.
fn check_price(price: Money) -> Result<(), Error> {
    if price.minor() <= 0 {
        return Err(Error::NonPositivePrice);
    }
    Ok(())
}

impl Aggregate for Stock {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Register {
                sku,
                name,
                low_stock_threshold,
                initial_quantity,
                price,
            } => self.register(sku, &name, low_stock_threshold, initial_quantity, price),
            Command::Reprice { price } => self.reprice(price),
            Command::Restock { quantity } => self.restock(quantity),
            Command::Reserve { order, quantity } => self.reserve(order, quantity),
            Command::Release { order } => self.release(order),
            Command::Commit { order } => self.commit(order),
            Command::Return { order, quantity } => self.give_back(order, quantity),
        }
    }

    // Arithmetic saturates: `decide` keeps the counts consistent, and replaying a damaged
    // log must not panic the process.
    fn apply(&mut self, event: &Event) {
        match event {
            Event::Registered {
                sku,
                name,
                low_stock_threshold,
                price,
            } => {
                self.product = Some(Product {
                    sku: sku.clone(),
                    name: name.clone(),
                    low_stock_threshold: *low_stock_threshold,
                    price: *price,
                });
            }
            Event::Repriced { price } => {
                if let Some(product) = &mut self.product {
                    product.price = Some(*price);
                }
            }
            Event::Restocked { quantity } => {
                self.on_hand = self.on_hand.saturating_add(quantity.get());
            }
            Event::Reserved { order, quantity } => {
                self.reserved = self.reserved.saturating_add(quantity.get());
                self.reservations.insert(*order, *quantity);
            }
            Event::ReservationRejected { .. } => {}
            Event::Released { order, quantity } => {
                self.reserved = self.reserved.saturating_sub(quantity.get());
                self.reservations.remove(order);
            }
            Event::Committed { order, quantity } => {
                self.reserved = self.reserved.saturating_sub(quantity.get());
                self.on_hand = self.on_hand.saturating_sub(quantity.get());
                self.reservations.remove(order);
            }
            Event::Returned { quantity, .. } => {
                self.on_hand = self.on_hand.saturating_add(quantity.get());
            }
            Event::LowStock { .. } => self.low = true,
        }
        if !matches!(event, Event::LowStock { .. }) {
            self.clear_low_flag_if_recovered();
        }
    }
}
