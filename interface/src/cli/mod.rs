//! The `domainflow` command line: settings from flags, environment and an optional file.

mod api_key;
mod broker;
mod customers;
mod database;
mod dead_letters;
mod duration;
mod export;
mod jwt;
mod limits;
mod logging;
mod progress;
mod projections;
mod provider;
mod rebuild;
mod reference;
mod serve;
mod settings;
mod table;
mod telemetry;
mod token;
mod verify;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use broker::BrokerKind;
pub use database::open;
pub use duration::{parse_duration, parse_limit, parse_rate};
pub use logging::LogFormat;
pub use reference::settings_reference;
pub use settings::FileSettings;

/// Installs the log subscriber in the format the flag, or else the settings file, names,
/// exporting spans to the OTLP endpoint either gives.
///
/// # Errors
/// A message naming `--otlp-endpoint` when it is not a URL.
pub fn init_logging(cli: &Cli, file: &FileSettings) -> Result<(), String> {
    let endpoint = cli
        .otlp_endpoint
        .as_deref()
        .or(file.otlp_endpoint.as_deref());
    logging::init(
        cli.log_format.or(file.log_format).unwrap_or_default(),
        endpoint,
    )
}

/// Exports the spans not exported yet, before the process ends.
pub fn flush_traces() {
    telemetry::flush();
}

/// domainflow: an event-sourced CQRS server with its own PostgreSQL event store.
#[derive(Debug, Parser)]
#[command(name = "domainflow", version, about, long_about = None)]
pub struct Cli {
    /// A TOML file with settings (flags and environment variables override it).
    #[arg(long, global = true, env = "DOMAINFLOW_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How log lines look: `auto` (text on a terminal, JSON otherwise), `json` or `text`
    /// [default: auto].
    #[arg(
        long,
        global = true,
        env = "DOMAINFLOW_LOG_FORMAT",
        value_name = "FORMAT"
    )]
    pub log_format: Option<LogFormat>,
    /// Export spans to this OpenTelemetry collector (its base URL; spans go to URL/v1/traces
    /// over OTLP/HTTP JSON), e.g. http://otel-collector:4318; off without one.
    #[arg(
        long,
        global = true,
        env = "DOMAINFLOW_OTLP_ENDPOINT",
        value_name = "URL"
    )]
    pub otlp_endpoint: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (starts an embedded PostgreSQL when no database URL is given).
    Serve(Box<ServeArgs>),
    /// Run the followers of the log (the projection workers, the saga's runner and, with
    /// --broker, the relay) without the API, beside `serve` processes sharing the database;
    /// HTTP on --listen (default 127.0.0.1:9090) serves only the health probes and /metrics.
    Worker(Box<ServeArgs>),
    /// Run only the outbox relay, publishing integration events to --broker; HTTP on
    /// --listen (default 127.0.0.1:9091) serves only the health probes and /metrics.
    Relay(Box<ServeArgs>),
    /// Apply the database migrations and exit.
    Migrate(DatabaseArgs),
    /// Print a signed bearer token for local use.
    Token(TokenArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Print the REST API's OpenAPI document (JSON).
    Openapi,
    /// Print the reference of every setting of `serve` (Markdown).
    Settings,
    /// Print a completion script for SHELL (bash, elvish, fish, powershell, zsh).
    Completions {
        /// The shell.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Verify the event log's hash chains and its seals; exits non-zero naming the first
    /// broken link or seal.
    Verify {
        /// Only this stream, as TYPE/ID (e.g. `stock/MUG-1`); seals are not checked.
        #[arg(long, value_name = "TYPE/ID", conflicts_with = "export")]
        stream: Option<String>,
        /// Verify this export (`domainflow events export` of the whole log) instead of the
        /// database, offline: every hash recomputed from the lines, every seal checked.
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
        /// A seal kept from an earlier check, as `verify` printed it (`newest N:DIGEST`): it
        /// must still be there with that digest, or the log was cut back.
        #[arg(long, value_name = "N:DIGEST")]
        expect_seal: Option<String>,
        /// The seal key's public half (a file holding its 64 hex digits): every seal's
        /// signature is checked with it. Without it, seals are checked against the events
        /// but not their signatures.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Make a seal key, or print its public half.
    #[command(subcommand)]
    SealKey(SealKeyCommand),
    /// Make a data key, the master key of customers' personal data.
    #[command(subcommand)]
    DataKey(DataKeyCommand),
    /// Erase a customer's personal data.
    #[command(subcommand)]
    Customers(CustomersCommand),
    /// Create or revoke API keys (sent as `X-Api-Key`; only their hash is stored).
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Inspect the projections that build the read models.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Read the event log.
    #[command(subcommand)]
    Events(EventsCommand),
    /// List the order-fulfilment saga's dead letters, or redrive one.
    #[command(subcommand)]
    DeadLetters(DeadLettersCommand),
}

/// `dead-letters` subcommands.
#[derive(Debug, Subcommand)]
pub enum DeadLettersCommand {
    /// Print every dead letter: id, order, action, attempts, last failure and error.
    List {
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Carry out a dead letter's action again (and the rest of its step); removes it when
    /// it goes through, exits non-zero with the new error when it fails again.
    Retry {
        /// The dead letter's id (from `dead-letters list`).
        id: i64,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
        /// The payment provider (the same settings as `serve`'s).
        #[command(flatten)]
        provider: ProviderArgs,
        /// The data key the server runs with (see `serve --data-key`): a redrive that opens
        /// a support ticket stores its text encrypted under it.
        #[arg(long, env = "DOMAINFLOW_DATA_KEY", value_name = "FILE")]
        data_key: Option<PathBuf>,
    },
}

/// `events` subcommands.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Write the event log as NDJSON (one event per line, in the global order), with a
    /// progress bar on stderr.
    Export {
        /// Only events after this position token (an event's `position`).
        #[arg(long, value_name = "TOKEN")]
        since: Option<String>,
        /// Only this stream, as TYPE/ID (e.g. `order/0192…`).
        #[arg(long, value_name = "TYPE/ID")]
        stream: Option<String>,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `projections` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Print every projection's position, lag (events and seconds), state and error.
    Status {
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Rebuild read models from the start of the log without downtime: into shadow
    /// tables while the live ones serve, then swapped in (a progress bar goes to stderr).
    #[command(group = clap::ArgGroup::new("which").required(true))]
    Rebuild {
        /// The projection to rebuild: orders, products, tickets or payments.
        #[arg(group = "which")]
        name: Option<String>,
        /// Rebuild every projection, one after the other.
        #[arg(long, group = "which")]
        all: bool,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Let a parked projection run again from its checkpoint (after fixing what failed).
    Resume {
        /// The parked projection.
        name: String,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `api-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it (it is shown once).
    Create {
        /// The key's name: the subject its requests act as.
        #[arg(long)]
        name: String,
        /// customer, agent, operator or auditor.
        #[arg(long)]
        role: String,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke the live key with this name.
    Revoke {
        /// The key's name.
        #[arg(long)]
        name: String,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL of the server's login, a role that should own nothing; without it an
    /// embedded cluster under the data directory is used.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// PostgreSQL URL of the tables' owner: applies the migrations and makes the role of
    /// --database-url the server's login; not kept once that is done. Without it, pending
    /// migrations are applied as the --database-url login.
    #[arg(
        long,
        env = "DATABASE_OWNER_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub owner_url: Option<String>,
    /// Directory for the embedded cluster and the generated JWT secret
    /// [default: ./.domainflow].
    #[arg(long, env = "DOMAINFLOW_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Settings of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "DOMAINFLOW_LISTEN", value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Whether `serve` runs the projection workers and the saga's runner too; false when
    /// `domainflow worker` processes run them [default: true].
    #[arg(long, env = "DOMAINFLOW_WORKERS", value_name = "BOOL")]
    pub workers: Option<bool>,
    /// Bearer tokens.
    #[command(flatten)]
    pub jwt: JwtArgs,
    /// Turn GraphQL introspection and field suggestions on [default: false].
    #[arg(long, env = "DOMAINFLOW_GRAPHQL_INTROSPECTION", value_name = "BOOL")]
    pub graphql_introspection: Option<bool>,
    /// Serve GraphiQL at GET /graphql [default: true].
    #[arg(long, env = "DOMAINFLOW_GRAPHIQL", value_name = "BOOL")]
    pub graphiql: Option<bool>,
    /// Largest request body accepted, in bytes [default: 262144].
    #[arg(long, env = "DOMAINFLOW_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Store a snapshot every N events of an aggregate [default: 100].
    #[arg(long, env = "DOMAINFLOW_SNAPSHOT_EVERY", value_name = "N")]
    pub snapshot_every: Option<i64>,
    /// Database connections [default: 16].
    #[arg(long, env = "DOMAINFLOW_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<u32>,
    /// How long a payment may take to settle before the order is cancelled with
    /// PAYMENT_TIMEOUT, e.g. 30s, 2m [default: 30s].
    #[arg(long, env = "DOMAINFLOW_PAYMENT_TIMEOUT", value_parser = parse_duration, value_name = "DURATION")]
    pub payment_timeout: Option<std::time::Duration>,
    /// New orders wait (503 with Retry-After) while order fulfilment is further behind than
    /// this (the age of the oldest event the saga has not taken), e.g. 5m, or off; longer
    /// than --payment-timeout plus the provider call timeout [default: 120s].
    #[arg(long, env = "DOMAINFLOW_MAX_FULFILMENT_LAG", value_parser = parse_limit, value_name = "DURATION")]
    pub max_fulfilment_lag: Option<std::time::Duration>,
    /// The payment provider.
    #[command(flatten)]
    pub provider: ProviderArgs,
    /// The broker the outbox relay publishes to.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// Seals of the log.
    #[command(flatten)]
    pub seal: SealArgs,
    /// The data key (a file from `domainflow data-key generate`, readable by its owner
    /// only): customers' personal data (ticket subjects, messages, resolutions) is stored
    /// encrypted under per-customer keys it protects, and `customers erase` can destroy
    /// them. Without it, that data is stored in the clear and cannot be erased.
    #[arg(long, env = "DOMAINFLOW_DATA_KEY", value_name = "FILE")]
    pub data_key: Option<PathBuf>,
    /// Limits on use.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Limits on how much clients may ask of the server.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Requests per second one principal (a token's or API key's role and subject) may
    /// make, in bursts of up to twice as many; beyond it 429 RATE_LIMITED, or off
    /// [default: 200].
    #[arg(long, env = "DOMAINFLOW_RATE_LIMIT", value_parser = parse_rate, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Requests per second one client IP address may make, in bursts of up to twice as
    /// many, or off [default: 1000].
    #[arg(long, env = "DOMAINFLOW_ADDRESS_RATE_LIMIT", value_parser = parse_rate, value_name = "N")]
    pub address_rate_limit: Option<u32>,
    /// The most requests served at once; beyond it 503 with Retry-After [default: 512].
    #[arg(long, env = "DOMAINFLOW_MAX_IN_FLIGHT", value_name = "N")]
    pub max_in_flight: Option<usize>,
    /// The most requests from one client address served at once; beyond it 503 with
    /// Retry-After [default: 64].
    #[arg(long, env = "DOMAINFLOW_MAX_IN_FLIGHT_PER_ADDRESS", value_name = "N")]
    pub max_in_flight_per_address: Option<usize>,
    /// How long a request may take to answer before it is cut off with 503, e.g. 30s
    /// [default: 30s].
    #[arg(long, env = "DOMAINFLOW_REQUEST_TIMEOUT", value_parser = parse_duration, value_name = "DURATION")]
    pub request_timeout: Option<std::time::Duration>,
    /// How long a client may take to send a request's head, and a kept-alive connection
    /// may stay idle, before it is closed, e.g. 15s [default: 15s].
    #[arg(long, env = "DOMAINFLOW_HEADER_READ_TIMEOUT", value_parser = parse_duration, value_name = "DURATION")]
    pub header_read_timeout: Option<std::time::Duration>,
    /// How long an Idempotency-Key's answer is kept for repeats, e.g. 24h, 7d
    /// [default: 24h].
    #[arg(long, env = "DOMAINFLOW_IDEMPOTENCY_TTL", value_parser = parse_duration, value_name = "DURATION")]
    pub idempotency_ttl: Option<std::time::Duration>,
    /// A bearer token GET /metrics then asks for (open without one).
    #[arg(
        long,
        env = "DOMAINFLOW_METRICS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub metrics_token: Option<String>,
    /// `/health/ready` fails while a projection is further behind the log than this (the age
    /// of the first event it has not taken), e.g. 5m; every instance shares the log, so all
    /// turn not ready together [default: off].
    #[arg(long, env = "DOMAINFLOW_READY_MAX_LAG", value_parser = parse_limit, value_name = "DURATION")]
    pub ready_max_lag: Option<std::time::Duration>,
}

/// Which payment provider the saga charges through.
#[derive(Debug, Clone, Args)]
pub struct ProviderArgs {
    /// simulated (the built-in test tokens) or http (a card processor's JSON API at
    /// --payment-provider-url) [default: simulated].
    #[arg(
        long,
        env = "DOMAINFLOW_PAYMENT_PROVIDER",
        value_enum,
        value_name = "KIND"
    )]
    pub payment_provider: Option<crate::payment::ProviderKind>,
    /// Base URL of the http payment provider, e.g. http://payments.internal:8080/v1.
    #[arg(long, env = "DOMAINFLOW_PAYMENT_PROVIDER_URL", value_name = "URL")]
    pub payment_provider_url: Option<String>,
    /// How long one call to the payment provider may take before it is given up (its
    /// outcome is then looked up before the payment deadline cancels), e.g. 5s [default: 5s].
    #[arg(long, env = "DOMAINFLOW_PAYMENT_PROVIDER_TIMEOUT", value_parser = parse_duration, value_name = "DURATION")]
    pub payment_provider_timeout: Option<std::time::Duration>,
    /// API key of the http payment provider, sent as `Authorization: Bearer KEY`.
    #[arg(
        long,
        env = "DOMAINFLOW_PAYMENT_PROVIDER_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub payment_provider_key: Option<String>,
}

/// Where the outbox relay publishes integration events (`docs/integration-events.md`).
#[derive(Debug, Clone, Args)]
pub struct BrokerArgs {
    /// The broker integration events are published to: none, rabbitmq or nats. The relay
    /// runs beside the projection workers (in `serve` with workers, in `worker`) or alone
    /// (`relay`) [default: none].
    #[arg(long, env = "DOMAINFLOW_BROKER", value_enum, value_name = "BROKER")]
    pub broker: Option<BrokerKind>,
    /// The broker's URL [default: amqp://guest:guest@127.0.0.1:5672/%2f for rabbitmq,
    /// nats://127.0.0.1:4222 for nats].
    #[arg(
        long,
        env = "DOMAINFLOW_BROKER_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub broker_url: Option<String>,
}

/// Seals of the whole log (README, For auditors).
#[derive(Debug, Clone, Args)]
pub struct SealArgs {
    /// The Ed25519 seal key (a file from `domainflow seal-key generate`): with it, the
    /// process that runs the followers of the log seals the log every --seal-every; without
    /// it, nothing is sealed.
    #[arg(long, env = "DOMAINFLOW_SEAL_KEY", value_name = "FILE")]
    pub seal_key: Option<PathBuf>,
    /// How often the log is sealed, e.g. 1m [default: 60s].
    #[arg(long, env = "DOMAINFLOW_SEAL_EVERY", value_parser = parse_duration, value_name = "DURATION")]
    pub seal_every: Option<std::time::Duration>,
}

/// `seal-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum SealKeyCommand {
    /// Make a new seal key in FILE (which must not exist; readable by its owner only) and
    /// print its public half, for auditors.
    Generate {
        /// Where to write the private half.
        file: PathBuf,
    },
    /// Print the public half of the seal key in FILE.
    Public {
        /// The private half.
        file: PathBuf,
    },
}

/// `data-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum DataKeyCommand {
    /// Make a new data key in FILE (which must not exist; readable by its owner only). Keep
    /// it off the database host, and keep a copy: without it, no personal data can be read.
    Generate {
        /// Where to write it.
        file: PathBuf,
    },
}

/// `customers` subcommands.
#[derive(Debug, Subcommand)]
pub enum CustomersCommand {
    /// Erase a customer: destroy their data keys, so that their personal data reads as
    /// erased everywhere, and record the erasure in the log (`CustomerErased`).
    Erase {
        /// The customer's id.
        customer: String,
        /// The data key the server runs with (see `serve --data-key`).
        #[arg(long, env = "DOMAINFLOW_DATA_KEY", value_name = "FILE")]
        data_key: Option<PathBuf>,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Settings of `token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The token's subject (a customer id, an agent's or operator's name).
    #[arg(long)]
    pub sub: String,
    /// customer, agent, operator or auditor.
    #[arg(long)]
    pub role: String,
    /// How long the token is valid: e.g. 30m, 12h, 7d [default: 24h].
    #[arg(long, value_parser = parse_duration)]
    pub ttl: Option<std::time::Duration>,
    /// Bearer tokens: the same settings as `serve`'s, so the token is one it accepts.
    #[command(flatten)]
    pub jwt: JwtArgs,
    /// Directory holding the generated secret [default: ./.domainflow].
    #[arg(long, env = "DOMAINFLOW_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// How bearer tokens are signed and checked.
#[derive(Debug, Clone, Args)]
pub struct JwtArgs {
    /// The server's own HS256 secret, hex (64 or more hex digits, at least 32 bytes, as in
    /// the data directory's jwt-secret file); without it the secret in the data directory
    /// is used, created on first start.
    #[arg(
        long,
        env = "DOMAINFLOW_JWT_SECRET",
        hide_env_values = true,
        value_name = "HEX"
    )]
    pub jwt_secret: Option<String>,
    /// A JSON Web Key Set file of further keys, each with its kid and alg: an identity
    /// provider's RS256 or EdDSA public keys, previous HS256 secrets kept for a rotation.
    #[arg(long, env = "DOMAINFLOW_JWT_KEYS", value_name = "FILE")]
    pub jwt_keys: Option<PathBuf>,
    /// The `iss` every token must carry (and `token` puts in).
    #[arg(long, env = "DOMAINFLOW_JWT_ISSUER", value_name = "ISS")]
    pub jwt_issuer: Option<String>,
    /// The `aud` every token must carry (and `token` puts in).
    #[arg(long, env = "DOMAINFLOW_JWT_AUDIENCE", value_name = "AUD")]
    pub jwt_audience: Option<String>,
    /// The longest a token may be valid (exp after iat, or after now) [default: 7d].
    #[arg(long, env = "DOMAINFLOW_JWT_MAX_LIFETIME", value_parser = parse_duration, value_name = "DURATION")]
    pub jwt_max_lifetime: Option<std::time::Duration>,
}

pub use api_key::api_key;
pub use customers::{customers, data_key_command};
pub use dead_letters::dead_letters;
pub use export::{Export, export};
pub use jwt::jwt_keys;
pub use projections::projections;
pub use provider::provider_settings;
pub use serve::{relay, serve, worker};
pub use token::token;
pub use verify::{SealCheck, seal_key, verify, verify_export};
