//! The optional settings file: the same settings as the flags, in TOML.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `--config FILE`: every key is optional; flags and environment variables win over it.
///
/// ```toml
/// listen = "0.0.0.0:8080"
/// workers = true                  # serve runs the projection workers and the saga
/// database_url = "postgres://domainflow@db/domainflow"
/// data_dir = "/var/lib/domainflow"
/// graphql_introspection = false
/// max_body_bytes = 262144
/// snapshot_every = 100
/// payment_provider = "http"
/// payment_provider_url = "http://payments.internal:8080/v1"
/// payment_provider_timeout = "5s"
/// rate_limit = 200                # requests per second per principal; 0: off
/// address_rate_limit = 1000       # requests per second per client address; 0: off
/// max_in_flight = 512
/// max_in_flight_per_address = 64
/// request_timeout = "30s"
/// header_read_timeout = "15s"
/// idempotency_ttl = "24h"
/// payment_timeout = "30s"
/// max_fulfilment_lag = "120s"     # or "off"
/// ready_max_lag = "5m"            # default "off"
/// log_format = "json"             # auto, json or text
/// otlp_endpoint = "http://otel-collector:4318"
/// broker = "rabbitmq"             # none, rabbitmq or nats
/// broker_url = "amqp://domainflow:secret@rabbitmq:5672/%2f"
/// seal_key = "/etc/domainflow/seal.key"
/// seal_every = "1m"
/// ```
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// See `--listen`.
    pub listen: Option<std::net::SocketAddr>,
    /// See `--workers`.
    pub workers: Option<bool>,
    /// See `--database-url`.
    pub database_url: Option<String>,
    /// See `--owner-url`.
    pub database_owner_url: Option<String>,
    /// See `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// See `--jwt-secret` (hex).
    pub jwt_secret: Option<String>,
    /// See `--jwt-keys`.
    pub jwt_keys: Option<PathBuf>,
    /// See `--jwt-issuer`.
    pub jwt_issuer: Option<String>,
    /// See `--jwt-audience`.
    pub jwt_audience: Option<String>,
    /// See `--jwt-max-lifetime`, e.g. `"7d"`.
    pub jwt_max_lifetime: Option<String>,
    /// See `--graphql-introspection`.
    pub graphql_introspection: Option<bool>,
    /// See `--graphiql`.
    pub graphiql: Option<bool>,
    /// See `--max-body-bytes`.
    pub max_body_bytes: Option<usize>,
    /// See `--snapshot-every`.
    pub snapshot_every: Option<i64>,
    /// See `--max-connections`.
    pub max_connections: Option<u32>,
    /// See `--payment-provider`: `"simulated"` or `"http"`.
    pub payment_provider: Option<crate::payment::ProviderKind>,
    /// See `--payment-provider-url`.
    pub payment_provider_url: Option<String>,
    /// See `--payment-provider-timeout`, e.g. `"5s"`.
    pub payment_provider_timeout: Option<String>,
    /// See `--payment-provider-key`.
    pub payment_provider_key: Option<String>,
    /// See `--rate-limit` (0: off).
    pub rate_limit: Option<u32>,
    /// See `--address-rate-limit` (0: off).
    pub address_rate_limit: Option<u32>,
    /// See `--max-in-flight`.
    pub max_in_flight: Option<usize>,
    /// See `--max-in-flight-per-address`.
    pub max_in_flight_per_address: Option<usize>,
    /// See `--request-timeout`, e.g. `"30s"`.
    pub request_timeout: Option<String>,
    /// See `--header-read-timeout`, e.g. `"15s"`.
    pub header_read_timeout: Option<String>,
    /// See `--idempotency-ttl`, e.g. `"24h"`.
    pub idempotency_ttl: Option<String>,
    /// See `--metrics-token`.
    pub metrics_token: Option<String>,
    /// See `--payment-timeout`, e.g. `"30s"`.
    pub payment_timeout: Option<String>,
    /// See `--max-fulfilment-lag`, e.g. `"120s"` or `"off"`.
    pub max_fulfilment_lag: Option<String>,
    /// See `--ready-max-lag`, e.g. `"5m"` or `"off"`.
    pub ready_max_lag: Option<String>,
    /// See `--otlp-endpoint`.
    pub otlp_endpoint: Option<String>,
    /// See `--log-format`: `"auto"`, `"json"` or `"text"`.
    pub log_format: Option<super::LogFormat>,
    /// See `--broker`: `"none"`, `"rabbitmq"` or `"nats"`.
    pub broker: Option<super::BrokerKind>,
    /// See `--broker-url`.
    pub broker_url: Option<String>,
    /// See `--seal-key`.
    pub seal_key: Option<PathBuf>,
    /// See `--seal-every`, e.g. `"1m"`.
    pub seal_every: Option<String>,
    /// See `--data-key`.
    pub data_key: Option<PathBuf>,
}

impl FileSettings {
    /// Reads `path`, or the defaults when there is no file.
    ///
    /// # Errors
    /// A message naming the file and what is wrong with it.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The data directory when none is configured.
#[must_use]
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(".domainflow")
}
