//! What every handler shares.

use std::sync::Arc;

use application::Commands;
use infrastructure::IdempotencyKeys;
use sqlx::PgPool;

use crate::auth::Authenticator;
use crate::graphql::ApiSchema;

/// The shared state of the HTTP server.
#[derive(Clone)]
pub struct AppState {
    /// The command side.
    pub commands: Arc<Commands>,
    /// Who is calling.
    pub auth: Arc<Authenticator>,
    /// Idempotency-Key records.
    pub idempotency: IdempotencyKeys,
    /// The database (health checks).
    pub pool: PgPool,
    /// The GraphQL schema.
    pub schema: ApiSchema,
    /// Request limits and switches.
    pub limits: Arc<HttpLimits>,
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
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            idempotency_wait: std::time::Duration::from_secs(10),
            graphql_introspection: false,
            graphiql: true,
        }
    }
}
