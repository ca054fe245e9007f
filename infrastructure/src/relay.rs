//! The brokers the outbox relay publishes integration events to
//! ([`application::integration`]): RabbitMQ and NATS JetStream.

mod nats;
mod rabbitmq;

use std::sync::Arc;
use std::time::Duration;

use application::integration::Broker;

pub use nats::{Nats, STREAM, SUBJECT_PREFIX, stream_config};
pub use rabbitmq::{DEAD_LETTER_EXCHANGE, EXCHANGE, RabbitMq};

/// How long a broker may take to confirm a batch before the connection is given up.
pub const CONFIRM_WITHIN: Duration = Duration::from_secs(10);

/// The broker of `kind` (`rabbitmq` or `nats`) at `url`.
///
/// # Errors
/// A message naming the kinds known, for any other.
pub fn broker(kind: &str, url: &str) -> Result<Arc<dyn Broker>, String> {
    match kind {
        "rabbitmq" => Ok(Arc::new(RabbitMq::new(url))),
        "nats" => Ok(Arc::new(Nats::new(url))),
        other => Err(format!("unknown broker {other:?}: rabbitmq or nats")),
    }
}

/// A broker's failure as the application sees it.
fn failed(broker: &str, what: &str, error: impl std::fmt::Display) -> application::Error {
    application::Error::Infrastructure(format!("{broker}: {what}: {error}"))
}
