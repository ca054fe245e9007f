//! Wiring: the router, and the server that serves it until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use application::api_keys::ApiKeys;
use application::audit::Audit;
use application::auth::Authenticator;
use application::idempotency::Idempotency;
use application::integration::Broker;
use application::operations::Operations;
use application::queries::Queries;
use application::saga::Fulfil;
use application::{Admission, Commands, EventStore, RepositoryOptions, SignallingStore};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use infrastructure::{
    DatabaseOptions, IdempotencyKeys, JwtKeys, PgApiKeys, PgEventStore, PgHealth,
};
use projections::read::PgReadModels;
use projections::saga::Desk;
use projections::{Announcer, Projections, Relay, RelayOptions, WorkerOptions};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::in_flight::InFlight;
use crate::saga::{SagaConfig, SagaRuntime};
use crate::state::{AppState, HttpLimits};
use crate::throttle::Throttle;
use crate::{failure_log, graphql, guard, health, request_id, rest};

/// Everything the HTTP server needs to start.
#[derive(Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The database (migrations already applied).
    pub database_url: String,
    /// The HS256 secret for bearer tokens.
    pub jwt: JwtKeys,
    /// Request limits and switches.
    pub limits: HttpLimits,
    /// Snapshot and retry behaviour of the command side.
    pub repository: RepositoryOptions,
    /// Database pool size.
    pub max_connections: u32,
    /// The order-fulfilment saga.
    pub saga: SagaConfig,
    /// What this process runs.
    pub role: ProcessRole,
    /// The broker the outbox relay publishes to; no relay without one.
    pub broker: Option<Arc<dyn Broker>>,
    /// The seal key and how often to seal; no seals without one.
    pub sealing: Option<crate::sealer::Sealing>,
    /// The master key of customers' data keys: with it, personal fields are stored
    /// encrypted and customers can be erased; without it, they are stored in the clear.
    pub data_key: Option<Arc<infrastructure::DataKey>>,
}

/// What a process runs: the API and, or only, the followers of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessRole {
    /// The API (`serve`), with the projection workers and the saga's runner when `workers`.
    Api {
        /// Whether the followers of the log run here too.
        workers: bool,
    },
    /// The projection workers, the saga's runner and the relay (`worker`); HTTP serves only
    /// the health probes and `/metrics`.
    Worker,
    /// The outbox relay alone (`relay`); HTTP serves only the health probes and `/metrics`.
    Relay,
}

impl ProcessRole {
    /// Whether the projection workers and the saga's runner run in this process.
    #[must_use]
    pub const fn runs_followers(self) -> bool {
        matches!(self, Self::Worker | Self::Api { workers: true })
    }

    /// Whether the outbox relay runs in this process (when a broker is configured).
    #[must_use]
    pub const fn runs_relay(self) -> bool {
        matches!(
            self,
            Self::Worker | Self::Relay | Self::Api { workers: true }
        )
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log.
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("limits", &self.limits)
            .field("repository", &self.repository)
            .field("max_connections", &self.max_connections)
            .field("saga", &self.saga)
            .field("role", &self.role)
            .field("broker", &self.broker.as_ref().map(|broker| broker.kind()))
            .field("sealing", &self.sealing)
            .field("data_key", &self.data_key.is_some())
            .finish_non_exhaustive()
    }
}

/// A bound, ready-to-run server, with its projection workers running.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    workers: Vec<JoinHandle<Result<(), projections::Error>>>,
    saga_runner: Option<JoinHandle<()>>,
    relay: Option<JoinHandle<Result<(), projections::Error>>>,
    stop_workers: watch::Sender<bool>,
    /// Tells WebSocket connections (which graceful shutdown does not wait for) to close.
    shutting_down: watch::Sender<bool>,
}

impl Application {
    /// Connects to the database and binds the listener (so [`Application::port`] is known
    /// before serving starts).
    ///
    /// # Errors
    /// [`ApiError::Internal`] when the database cannot be reached, the secret is too short
    /// or the address cannot be bound.
    pub async fn build(config: ServerConfig) -> Result<Self, ApiError> {
        // Before anything records: the workers set their gauges from their first look.
        let metrics = crate::metrics::recorder();
        let pool = infrastructure::connect(
            &config.database_url,
            &DatabaseOptions {
                max_connections: config.max_connections,
                ..DatabaseOptions::default()
            },
        )
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        warn_of_a_powerful_login(&pool).await;
        // Before anything runs: a process that would write personal data in the clear
        // beside encrypted data, or under another key, stops here. The relay writes none.
        let personal: Arc<dyn application::personal_data::PersonalData> =
            if config.role == ProcessRole::Relay {
                Arc::new(application::personal_data::Unprotected)
            } else {
                infrastructure::open_personal_data(&pool, config.data_key.clone(), true)
                    .await
                    .map_err(ApiError::Internal)?
            };
        let commits = Arc::new(Notify::new());
        let store: Arc<dyn EventStore> = Arc::new(SignallingStore::new(
            event_store(&pool),
            Arc::clone(&commits),
        ));
        let (stop_workers, stopped) = watch::channel(false);
        let announcer = Announcer::new();
        let followers = config.role.runs_followers();
        let workers = if followers {
            projections::spawn_workers(
                &pool,
                &store,
                &commits,
                &announcer,
                &stopped,
                &WorkerOptions::default(),
            )
        } else {
            Vec::new()
        };
        let jwt = config.jwt;
        let (shutting_down, shutdown) = watch::channel(false);
        let throttle = Arc::new(Throttle::new(
            config.limits.principal_rate,
            config.limits.address_rate,
        ));
        let admission = Arc::new(Admission::new(config.saga.max_lag));
        if admission.limit().is_some() {
            tokio::spawn(projections::saga::backlog::watch(
                pool.clone(),
                Arc::clone(&admission),
                config.saga.lag_check,
                stopped.clone(),
            ));
        }
        // Registering tokens goes through a breaker of its own: while the provider fails,
        // orders are refused at once instead of each waiting for its timeout.
        let registrations = Arc::new(application::saga::CircuitBreaker::new(
            Arc::clone(&config.saga.provider),
            config.saga.breaker_threshold,
            config.saga.breaker_cooldown,
        ));
        let commands = Commands::new(Arc::clone(&store), &config.repository, registrations)
            .with_admission(admission)
            .with_personal_data(Arc::clone(&personal));
        let saga = SagaRuntime::new(commands.clone(), &config.saga);
        let saga_runner = if config.saga.run {
            saga.start(
                Arc::clone(&store),
                pool.clone(),
                Arc::clone(&commits),
                config.saga.runner.clone(),
                followers,
                stopped.clone(),
            )
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
        } else {
            None
        };
        let relay = match &config.broker {
            Some(broker) if config.role.runs_relay() => Some(tokio::spawn(
                Relay::new(
                    Arc::clone(broker),
                    Arc::clone(&store),
                    pool.clone(),
                    Arc::clone(&commits),
                    RelayOptions::default(),
                )
                .run(stopped.clone()),
            )),
            _ => None,
        };
        if let Some(sealing) = config.sealing.clone().filter(|_| followers) {
            tokio::spawn(crate::sealer::run(
                infrastructure::seal::PgSeals::new(pool.clone()),
                sealing,
                stopped.clone(),
            ));
        }
        // spawn_workers runs one worker per projection, in the order of Projections::all.
        let followers = Projections::all()
            .iter()
            .map(|projection| projection.name())
            .zip(workers.iter().map(JoinHandle::abort_handle))
            .chain(
                saga_runner
                    .iter()
                    .map(|runner| (projections::saga::runner::NAME, runner.abort_handle())),
            )
            .chain(
                relay
                    .iter()
                    .map(|relay| (projections::relay::NAME, relay.abort_handle())),
            )
            .map(|(name, handle)| (name.to_owned(), handle))
            .collect();
        let state = AppState {
            commands: Arc::new(commands),
            queries: Queries::new(Arc::new(PgReadModels::new(pool.clone())))
                .with_personal_data(Arc::clone(&personal)),
            audit: Audit::new(Arc::clone(&store)).with_personal_data(personal),
            operations: operations(&pool, saga.fulfil.clone()),
            store: Arc::clone(&store),
            commits: Arc::clone(&commits),
            announcer,
            auth: Arc::new(Authenticator::new(
                Arc::new(jwt),
                ApiKeys::new(Arc::new(PgApiKeys::new(pool.clone()))),
            )),
            idempotency: Idempotency::new(
                Arc::new(IdempotencyKeys::new(pool.clone(), Duration::from_secs(60))),
                config.limits.idempotency_wait,
            ),
            pool,
            schema: graphql::schema(config.limits.graphql_introspection),
            throttle: Arc::clone(&throttle),
            in_flight: Arc::new(InFlight::new(
                config.limits.max_in_flight,
                config.limits.max_in_flight_per_address,
            )),
            limits: Arc::new(config.limits),
            shutdown,
            saga,
            metrics: metrics.clone(),
            followers: Arc::new(followers),
        };
        tokio::spawn(throttle.sweep(stopped.clone()));
        tokio::spawn(crate::metrics::upkeep(metrics, stopped.clone()));
        tokio::spawn(
            state
                .idempotency
                .clone()
                .sweep(state.limits.idempotency_ttl, stopped.clone()),
        );
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| ApiError::Internal(format!("cannot listen on {}: {e}", config.listen)))?;
        Ok(Self {
            listener,
            router: match config.role {
                ProcessRole::Api { .. } => router(state.clone()),
                ProcessRole::Worker | ProcessRole::Relay => probes(state.clone()),
            },
            state,
            workers,
            saga_runner,
            relay,
            stop_workers,
            shutting_down,
        })
    }

    /// The port the server listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    /// The address the server listens on.
    #[must_use]
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight and stops
    /// the workers.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let shutting_down = self.shutting_down;
        let shutdown = async move {
            shutdown.await;
            // Upgraded connections are not awaited by graceful shutdown: end them here.
            let _ = shutting_down.send(true);
        };
        let header_read_timeout = self.state.limits.header_read_timeout;
        crate::connections::serve(self.listener, self.router, header_read_timeout, shutdown).await;
        // One shutdown for everything: the workers finish their batch and stop, all within
        // one bound.
        let _ = self.stop_workers.send(true);
        let deadline = tokio::time::Instant::now() + WORKERS_STOP_WITHIN;
        for worker in self.workers {
            match tokio::time::timeout_at(deadline, worker).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(error))) => {
                    tracing::warn!(%error, "projection worker stopped with an error");
                }
                Ok(Err(error)) => tracing::warn!(%error, "projection worker panicked"),
                Err(_) => tracing::warn!("projection worker did not stop in time"),
            }
        }
        if let Some(runner) = self.saga_runner {
            match tokio::time::timeout_at(deadline, runner).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "saga runner panicked"),
                Err(_) => tracing::warn!("saga runner did not stop in time"),
            }
        }
        if let Some(relay) = self.relay {
            match tokio::time::timeout_at(deadline, relay).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "relay panicked"),
                Err(_) => tracing::warn!("relay did not stop in time"),
            }
        }
        self.state.pool.close().await;
    }
}

/// How long the projection workers, the saga's runner and the relay, together, may take to finish
/// their batch once the server stops.
pub const WORKERS_STOP_WITHIN: Duration = Duration::from_secs(10);

/// The whole HTTP surface over `state`.
pub fn router(state: AppState) -> Router {
    let limit = state.limits.max_body_bytes;
    Router::new()
        .merge(rest::router())
        .merge(graphql::router())
        .merge(health::router())
        .merge(crate::metrics::router())
        .merge(crate::dashboard::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), limit_body))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(middleware::from_fn(failure_log::log))
        .layer(middleware::from_fn(crate::access::record))
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// A worker's HTTP surface: the health probes and `/metrics`, under the same limits.
pub fn probes(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(crate::metrics::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(middleware::from_fn(failure_log::log))
        .layer(middleware::from_fn(crate::access::record))
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

async fn not_found() -> Response {
    ApiError::NotFound("no such route".into()).into_response()
}

/// Refuses a declared body over the limit before anything reads it (problem+json 413);
/// [`DefaultBodyLimit`] still caps bodies of undeclared length.
async fn limit_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.limits.max_body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return ApiError::PayloadTooLarge { limit }.into_response();
    }
    next.run(request).await
}

/// The operators' use cases over the database of `pool`, redriving dead letters through
/// `fulfil`: the server's and the command line's.
#[must_use]
pub fn operations(pool: &PgPool, fulfil: Fulfil) -> Operations {
    Operations::new(
        Arc::new(projections::Control::new(pool.clone(), event_store(pool))),
        Arc::new(Desk::new(pool.clone(), fulfil)),
        Arc::new(PgHealth::new(pool.clone())),
    )
}

/// The event store over the database of `pool`: the one place the server and the command
/// line make it.
#[must_use]
pub fn event_store(pool: &PgPool) -> Arc<dyn EventStore> {
    Arc::new(PgEventStore::new(pool.clone()))
}

/// Warns when the server's login may do more than the server needs (the owner's or a
/// superuser's login given as its only URL): it then works through `SET ROLE`, which any
/// statement could undo.
async fn warn_of_a_powerful_login(pool: &sqlx::PgPool) {
    match infrastructure::login::excess_privileges(pool).await {
        Ok(excess) if excess.is_empty() => {}
        Ok(excess) => {
            let login = infrastructure::login::login_name(pool)
                .await
                .unwrap_or_else(|_| "?".to_owned());
            tracing::warn!(
                login,
                excess = excess.join("; "),
                "the server's database login can do more than the server needs; give it a \
                 login that owns nothing (--database-url) and the owner's separately \
                 (--owner-url), see README, Security"
            );
        }
        Err(error) => tracing::warn!(%error, "could not check the server's database login"),
    }
}
