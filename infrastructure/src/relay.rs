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

/// `url` without its user and password, and them (percent-decoded) when it has them: what
/// may be logged, and what is sent apart.
fn credentials(url: &str) -> (String, Option<(String, String)>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    (
        format!("{scheme}://{host}{path}"),
        Some((decode(user), decode(password))),
    )
}

/// `url` as it may be logged: without its user and password.
fn redacted(url: &str) -> String {
    credentials(url).0
}

/// A broker's failure as the application sees it.
fn failed(broker: &str, what: &str, error: impl std::fmt::Display) -> application::Error {
    application::Error::Infrastructure(format!("{broker}: {what}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_out_of_the_url_decoded() {
        assert_eq!(
            credentials("amqp://relay:p%40ss@rabbit:5672/%2f"),
            (
                "amqp://rabbit:5672/%2f".to_owned(),
                Some(("relay".to_owned(), "p@ss".to_owned()))
            )
        );
        assert_eq!(
            credentials("nats://127.0.0.1:4222"),
            ("nats://127.0.0.1:4222".to_owned(), None)
        );
        assert_eq!(redacted("nats://token@nats:4222"), "nats://nats:4222");
    }
}
