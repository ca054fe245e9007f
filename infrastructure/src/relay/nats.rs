//! NATS JetStream: a file-backed stream over `domainflow.events.>`, deduplicated by
//! `Nats-Msg-Id`.

use std::time::Duration;

use application::Error;
use application::integration::{Broker, IntegrationEvent, Publisher};
use async_nats::jetstream::{self, stream};
use async_trait::async_trait;

use super::{CONFIRM_WITHIN, failed};

/// The JetStream stream that stores integration events.
pub const STREAM: &str = "DOMAINFLOW_EVENTS";

/// Integration events are published on `domainflow.events.NAME`, e.g.
/// `domainflow.events.order.placed`.
pub const SUBJECT_PREFIX: &str = "domainflow.events";

/// How long JetStream remembers a message id to drop a repeat (its default).
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// How long the stream keeps a message (when the relay creates it; an operator may
/// change the stream's limits afterwards).
const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

const KIND: &str = "nats";

/// How many times the client reconnects by itself before its publishes fail.
const RECONNECTS: usize = 3;

/// The stream the relay creates when it does not exist: file storage, every subject under
/// [`SUBJECT_PREFIX`], the duplicate window, a week's messages.
#[must_use]
pub fn stream_config() -> stream::Config {
    stream::Config {
        name: STREAM.to_owned(),
        subjects: vec![format!("{SUBJECT_PREFIX}.>")],
        storage: stream::StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        max_age: MAX_AGE,
        ..stream::Config::default()
    }
}

/// A NATS server with JetStream at a `nats://` URL.
#[derive(Clone)]
pub struct Nats {
    url: String,
}

impl std::fmt::Debug for Nats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log.
        f.debug_struct("Nats")
            .field("url", &super::redacted(&self.url))
            .finish()
    }
}

impl Nats {
    /// The server at `url`, e.g. `nats://127.0.0.1:4222`.
    #[must_use]
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
        }
    }
}

#[async_trait]
impl Broker for Nats {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn connect(&self) -> Result<Box<dyn Publisher>, Error> {
        // The client's own reconnects bridge a blip; past a few, its publishes fail and the
        // relay connects anew, so that an abandoned client never sends old publishes late.
        let mut options = async_nats::ConnectOptions::new()
            .name("domainflow relay")
            .max_reconnects(RECONNECTS);
        // Sent apart from the URL, which the client logs.
        let (url, login) = super::credentials(&self.url);
        if let Some((user, password)) = login {
            options = if password.is_empty() {
                options.token(user)
            } else {
                options.user_and_password(user, password)
            };
        }
        let client = options
            .connect(url.as_str())
            .await
            .map_err(|e| failed(KIND, "connecting", e))?;
        let context = jetstream::ContextBuilder::new()
            .timeout(CONFIRM_WITHIN)
            .build(client.clone());
        context
            .get_or_create_stream(stream_config())
            .await
            .map_err(|e| failed(KIND, &format!("declaring stream {STREAM}"), e))?;
        Ok(Box::new(NatsPublisher { client, context }))
    }
}

/// One client and its JetStream context.
struct NatsPublisher {
    client: async_nats::Client,
    context: jetstream::Context,
}

impl std::fmt::Debug for NatsPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsPublisher")
            .field("state", &self.client.connection_state())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Publisher for NatsPublisher {
    async fn publish(&mut self, events: &[IntegrationEvent]) -> Result<(), Error> {
        let mut acks = Vec::with_capacity(events.len());
        for event in events {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", event.id.to_string().as_str());
            headers.insert("Content-Type", "application/cloudevents+json");
            let ack = self
                .context
                .publish_with_headers(
                    format!("{SUBJECT_PREFIX}.{}", event.name),
                    headers,
                    bytes::Bytes::from(event.body.clone()),
                )
                .await
                .map_err(|e| failed(KIND, "publishing", e))?;
            acks.push(ack);
        }
        for ack in acks {
            // A repeat the duplicate window dropped is acknowledged too (`duplicate`): it is
            // stored already.
            ack.await
                .map_err(|e| failed(KIND, "waiting for acknowledgements", e))?;
        }
        Ok(())
    }
}
