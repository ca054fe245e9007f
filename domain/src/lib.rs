//! The pure business rules of domainflow.
//!
//! Four aggregates decide which events happen — [`order`], [`stock`], [`payment`] and
//! [`ticket`] — and the [`fulfilment`] policy decides what the order-fulfilment saga does
//! next. Everything here is synchronous and deterministic: no IO, no clock, no randomness.
//! Time, ids and looked-up data arrive inside the commands, so every rule can be tested as
//! given events / when command / then events.
//!
//! This crate has no dependencies, not even serde: the persisted shapes of events live in
//! the `application` crate and convert to and from the types here.

pub mod aggregate;
pub mod fulfilment;
pub mod order;
pub mod payment;
pub mod stock;
pub mod ticket;
pub mod values;

#[cfg(test)]
pub(crate) mod testing;

pub use aggregate::Aggregate;
pub use values::{
    AgentId, Currency, CustomerId, InvalidValue, Money, OrderId, PaymentMethod, Quantity, Sku,
    TicketId, Timestamp,
};
