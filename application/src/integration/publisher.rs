//! The port the relay publishes through.

use async_trait::async_trait;

use super::IntegrationEvent;
use crate::Error;

/// A broker the relay can connect to.
#[async_trait]
pub trait Broker: Send + Sync + std::fmt::Debug {
    /// The broker's kind, for logs and status: `rabbitmq` or `nats`.
    fn kind(&self) -> &'static str;

    /// A new connection that publishes, with the exchange or stream declared.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the broker cannot be reached or refuses the declaration.
    async fn connect(&self) -> Result<Box<dyn Publisher>, Error>;
}

/// One connection to a broker.
#[async_trait]
pub trait Publisher: Send + std::fmt::Debug {
    /// Publishes `events` and returns once the broker has confirmed every one of them:
    /// stored in the stream (JetStream), or routed to every bound queue and stored there
    /// (RabbitMQ, which drops a message no queue binds). Events are sent in the order given; on an error, any of them may
    /// or may not have been stored, and the connection should be dropped.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the connection fails, a confirm does not come in time
    /// or the broker refuses a message.
    async fn publish(&mut self, events: &[IntegrationEvent]) -> Result<(), Error>;
}
