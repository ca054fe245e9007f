//! RabbitMQ: a durable topic exchange, persistent messages, publisher confirms.

use application::Error;
use application::integration::{Broker, IntegrationEvent, Publisher};
use async_trait::async_trait;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

use super::{CONFIRM_WITHIN, failed};

/// The topic exchange integration events are published to, routed by their name.
pub const EXCHANGE: &str = "domainflow.events";

/// A topic exchange declared for consumers to dead-letter into (`x-dead-letter-exchange`
/// on their queues); the relay never publishes to it.
pub const DEAD_LETTER_EXCHANGE: &str = "domainflow.events.dead-letter";

const KIND: &str = "rabbitmq";

/// A RabbitMQ server at an `amqp://` URL.
#[derive(Clone)]
pub struct RabbitMq {
    url: String,
}

impl std::fmt::Debug for RabbitMq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log.
        f.debug_struct("RabbitMq")
            .field("url", &super::redacted(&self.url))
            .finish()
    }
}

impl RabbitMq {
    /// The server at `url`, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    #[must_use]
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
        }
    }
}

#[async_trait]
impl Broker for RabbitMq {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn connect(&self) -> Result<Box<dyn Publisher>, Error> {
        let connection = Connection::connect(
            &self.url,
            ConnectionProperties::default().with_connection_name("domainflow relay".into()),
        )
        .await
        .map_err(|e| failed(KIND, "connecting", e))?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| failed(KIND, "opening a channel", e))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| failed(KIND, "turning publisher confirms on", e))?;
        for exchange in [EXCHANGE, DEAD_LETTER_EXCHANGE] {
            channel
                .exchange_declare(
                    exchange.into(),
                    ExchangeKind::Topic,
                    ExchangeDeclareOptions {
                        durable: true,
                        ..ExchangeDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await
                .map_err(|e| failed(KIND, &format!("declaring exchange {exchange}"), e))?;
        }
        Ok(Box::new(RabbitPublisher {
            connection,
            channel,
        }))
    }
}

/// One connection and its confirming channel; dropping it closes the connection.
struct RabbitPublisher {
    connection: Connection,
    channel: Channel,
}

impl std::fmt::Debug for RabbitPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitPublisher")
            .field("connected", &self.connection.status().connected())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Publisher for RabbitPublisher {
    async fn publish(&mut self, events: &[IntegrationEvent]) -> Result<(), Error> {
        let mut confirms = Vec::with_capacity(events.len());
        for event in events {
            let mut properties = BasicProperties::default()
                .with_message_id(event.id.to_string().into())
                .with_type(event.name.into())
                .with_content_type("application/cloudevents+json".into())
                .with_app_id("domainflow".into())
                // Persistent: stored on disk by durable queues.
                .with_delivery_mode(2);
            if let Some(correlation) = event.correlation_id {
                properties = properties.with_correlation_id(correlation.to_string().into());
            }
            let confirm = self
                .channel
                .basic_publish(
                    EXCHANGE.into(),
                    event.name.into(),
                    BasicPublishOptions::default(),
                    &event.body,
                    properties,
                )
                .await
                .map_err(|e| failed(KIND, "publishing", e))?;
            confirms.push((event.id, confirm));
        }
        let deadline = tokio::time::Instant::now() + CONFIRM_WITHIN;
        for (id, confirm) in confirms {
            let confirmation = tokio::time::timeout_at(deadline, confirm)
                .await
                .map_err(|_| failed(KIND, "waiting for confirms", "none came in time"))?
                .map_err(|e| failed(KIND, "waiting for confirms", e))?;
            if !confirmation.is_ack() {
                return Err(failed(
                    KIND,
                    "publishing",
                    format!("message {id} was not acknowledged"),
                ));
            }
        }
        Ok(())
    }
}
