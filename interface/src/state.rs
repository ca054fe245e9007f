//! What every handler shares.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use application::api_keys::KeyHash;
use application::audit::Audit;
use application::auth::Authenticator;
use application::idempotency::Idempotency;
use application::operations::Operations;
use application::queries::Queries;
use application::{Commands, EventStore};
use metrics_exporter_prometheus::PrometheusHandle;
use projections::Announcer;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::graphql::ApiSchema;
use crate::in_flight::InFlight;
use crate::saga::SagaRuntime;
use crate::throttle::Throttle;

/// The shared state of the HTTP server.
#[derive(Clone)]
pub struct AppState {
    /// The command side.
    pub commands: Arc<Commands>,
    /// The read models.
    pub queries: Queries,
    /// The event history, for auditors.
    pub audit: Audit,
    /// The event log (subscriptions that follow it).
    pub store: Arc<dyn EventStore>,
    /// Notified after each commit of this process (followers of the log wake on it).
    pub commits: Arc<tokio::sync::Notify>,
    /// The projection workers' announcements of committed batches (subscriptions wait on
    /// them).
    pub announcer: Announcer,
    /// Projections, rebuilds and readiness, for operators.
    pub operations: Operations,
    /// Who is calling.
    pub auth: Arc<Authenticator>,
    /// Runs keyed commands once per Idempotency-Key.
    pub idempotency: Idempotency,
    /// The database (health checks).
    pub pool: PgPool,
    /// The GraphQL schema.
    pub schema: ApiSchema,
    /// Request limits and switches.
    pub limits: Arc<HttpLimits>,
    /// Turns `true` when the server shuts down: WebSocket connections close on it.
    pub shutdown: watch::Receiver<bool>,
    /// The order-fulfilment saga (redrives, metrics).
    pub saga: SagaRuntime,
    /// The rate limits per principal and per client address.
    pub throttle: Arc<Throttle>,
    /// The places of requests in flight.
    pub in_flight: Arc<InFlight>,
    /// What this process has recorded, for `/metrics`.
    pub metrics: PrometheusHandle,
    /// This process's followers of the log (projection workers, the saga's runner), by
    /// name: readiness fails when one has stopped.
    pub followers: Arc<Vec<(String, tokio::task::AbortHandle)>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Requests per second per principal by default.
pub const DEFAULT_PRINCIPAL_RATE: u32 = 200;
/// Requests per second per client address by default.
pub const DEFAULT_ADDRESS_RATE: u32 = 1000;

/// Limits and switches of the HTTP API.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a request with a busy Idempotency-Key waits for the first one to finish
    /// before it is answered 409.
    pub idempotency_wait: std::time::Duration,
    /// Whether GraphQL introspection (and field suggestions) are on.
    pub graphql_introspection: bool,
    /// Whether GraphiQL is served at `GET /graphql`.
    pub graphiql: bool,
    /// Browser origins allowed to open `/graphql/ws` besides the server's own origin, as
    /// `scheme://host[:port]`; an entry without a port allows every port of that host. A
    /// request without an `Origin` header (not a browser) is always allowed.
    pub ws_allowed_origins: Vec<String>,
    /// How long a WebSocket connection may take to send `connection_init`.
    pub ws_init_timeout: std::time::Duration,
    /// The most subscriptions running at once on one WebSocket connection.
    pub ws_max_subscriptions: usize,
    /// How often a WebSocket connection's credentials are checked again (an expired token
    /// or a revoked key closes it).
    pub ws_recheck: Duration,
    /// Requests per second one principal (role and subject) may make, in bursts of up to
    /// twice as many; `None`: no limit.
    pub principal_rate: Option<NonZeroU32>,
    /// Requests per second one client IP address may make, in bursts of up to twice as
    /// many; `None`: no limit.
    pub address_rate: Option<NonZeroU32>,
    /// The most requests served at once; more are answered 503 at once.
    pub max_in_flight: usize,
    /// The most requests from one client address served at once.
    pub max_in_flight_per_address: usize,
    /// How long a request may take to produce its answer's head.
    pub request_timeout: Duration,
    /// How long a client may take to send a request's head, and how long a kept-alive
    /// connection may stay idle.
    pub header_read_timeout: Duration,
    /// How long an Idempotency-Key's answer is kept.
    pub idempotency_ttl: Duration,
    /// The SHA-256 of the bearer token `/metrics` asks for; `None`: open.
    pub metrics_token: Option<KeyHash>,
    /// How far behind the log a projection may be before `/health/ready` fails; zero (the
    /// default): lag never fails it.
    pub ready_max_lag: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            idempotency_wait: std::time::Duration::from_secs(10),
            graphql_introspection: false,
            graphiql: true,
            ws_allowed_origins: vec![
                "http://localhost".into(),
                "https://localhost".into(),
                "http://127.0.0.1".into(),
                "https://127.0.0.1".into(),
                "http://[::1]".into(),
                "https://[::1]".into(),
            ],
            ws_init_timeout: std::time::Duration::from_secs(10),
            ws_max_subscriptions: 20,
            ws_recheck: Duration::from_secs(5),
            principal_rate: NonZeroU32::new(DEFAULT_PRINCIPAL_RATE),
            address_rate: NonZeroU32::new(DEFAULT_ADDRESS_RATE),
            max_in_flight: 512,
            max_in_flight_per_address: 64,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(15),
            idempotency_ttl: Duration::from_secs(24 * 3600),
            metrics_token: None,
            ready_max_lag: Duration::ZERO,
        }
    }
}
