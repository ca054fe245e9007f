//! The broker the outbox relay publishes to, from flags, environment and the settings file.

use std::sync::Arc;

use application::integration::Broker;
use serde::Deserialize;

use super::{BrokerArgs, FileSettings};

/// The brokers the relay publishes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerKind {
    /// No relay.
    None,
    /// RabbitMQ: the durable topic exchange `domainflow.events`.
    Rabbitmq,
    /// NATS JetStream: the stream `DOMAINFLOW_EVENTS` over `domainflow.events.>`.
    Nats,
}

impl BrokerKind {
    /// The URL of a broker of this kind on this machine, with RabbitMQ's default login.
    const fn local_url(self) -> &'static str {
        match self {
            Self::Rabbitmq => "amqp://guest:guest@127.0.0.1:5672/%2f",
            Self::Nats => "nats://127.0.0.1:4222",
            Self::None => "",
        }
    }
}

/// The broker `args` over `file` name (flags and environment variables win); `None` when
/// there is none.
///
/// # Errors
/// A message for a broker URL given without a broker.
pub fn broker(args: BrokerArgs, file: &FileSettings) -> Result<Option<Arc<dyn Broker>>, String> {
    let kind = args.broker.or(file.broker).unwrap_or(BrokerKind::None);
    let url = args.broker_url.or_else(|| file.broker_url.clone());
    let name = match kind {
        BrokerKind::None if url.is_some() => {
            return Err("--broker-url is set but --broker is none: name rabbitmq or nats".into());
        }
        BrokerKind::None => return Ok(None),
        BrokerKind::Rabbitmq => "rabbitmq",
        BrokerKind::Nats => "nats",
    };
    let url = url.unwrap_or_else(|| kind.local_url().to_owned());
    infrastructure::relay::broker(name, &url).map(Some)
}
