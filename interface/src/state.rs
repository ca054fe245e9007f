//! What every handler shares.

use std::sync::Arc;

use application::audit::Audit;
use application::auth::Authenticator;
use application::idempotency::Idempotency;
use application::operations::Operations;
use application::queries::Queries;
use application::{Commands, EventStore};
use projections::Announcer;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::graphql::ApiSchema;
use crate::saga::SagaRuntime;

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
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

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
        }
    }
}
