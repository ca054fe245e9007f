//! Value objects: small immutable types that are valid by construction.

mod currency;
mod error;
mod ids;
mod money;
mod name;
mod payment_method;
mod quantity;
mod sku;
mod timestamp;

pub use currency::Currency;
pub use error::InvalidValue;
pub use ids::{AgentId, CustomerId, OrderId, TicketId};
pub use money::Money;
pub(crate) use name::bounded_text;
pub use payment_method::PaymentMethod;
pub use quantity::Quantity;
pub use sku::Sku;
pub use timestamp::Timestamp;
