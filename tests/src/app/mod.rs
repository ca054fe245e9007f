//! The real server for end-to-end tests: [`spawn_app`] starts it on port 0 against a
//! database of its own, and [`TestApp`] talks to it over HTTP the way a client does.

mod commands;
mod log;
mod reads;
mod requests;

use std::sync::Arc;

use application::saga::PaymentProvider;
use application::{Commands, RepositoryOptions, Role};
use chrono::{Duration, Utc};
use infrastructure::JwtKeys;
use infrastructure::{PgEventStore, SimulatedProvider};
use interface::{Application, HttpLimits, SagaConfig, ServerConfig};
use serde_json::Value;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::{TestDatabase, test_database};

/// A running server and what a test needs to talk to it and to look behind it.
#[derive(Debug)]
pub struct TestApp {
    /// The server's base URL, e.g. `http://127.0.0.1:41234`.
    pub address: String,
    /// The server's database, for checks a client cannot make (the event log).
    pub db: TestDatabase,
    /// The HTTP client every helper uses.
    pub client: reqwest::Client,
    keys: JwtKeys,
    commands: Commands,
    /// The simulated payment provider the server charges through (to take it down and bring
    /// it back), unless the test chose another provider; for a server in another process
    /// ([`TestApp::attach`]) a stand-in that server never calls.
    pub provider: Arc<SimulatedProvider>,
    /// Dropping it (with the app) stops an in-process server.
    _stop: Option<oneshot::Sender<()>>,
}

/// Starts the real server on a free port against a fresh database, with a random JWT
/// secret and the default limits.
///
/// # Panics
/// When there is no database or the server cannot start.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] without the fulfilment saga, for tests that drive orders step by step or
/// count every event of the log.
///
/// # Panics
/// When there is no database or the server cannot start.
pub async fn spawn_app_without_saga() -> TestApp {
    spawn_app_with(|config| config.saga.run = false).await
}

/// [`spawn_app`] with the server's settings changed by `configure` first.
///
/// # Panics
/// When there is no database or the server cannot start.
pub async fn spawn_app_with(configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let simulation = SimulatedProvider::new(std::time::Duration::from_secs(2));
    spawn_app_with_simulation(Arc::new(simulation), configure).await
}

/// [`spawn_app_with`] charging through `simulation` (unless `configure` sets another
/// provider), which the test keeps as [`TestApp::provider`] to control it.
///
/// # Panics
/// When there is no database or the server cannot start.
pub async fn spawn_app_with_simulation(
    simulation: Arc<SimulatedProvider>,
    configure: impl FnOnce(&mut ServerConfig),
) -> TestApp {
    let db = test_database().await;
    let secret = format!("test-secret-{}", Uuid::new_v4().simple()).into_bytes();
    let mut config = ServerConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        database_url: db.url.clone(),
        jwt: infrastructure::JwtKeys::new(&secret).unwrap_or_else(|e| panic!("test JWT keys: {e}")),
        limits: HttpLimits::default(),
        repository: RepositoryOptions::default(),
        max_connections: 16,
        saga: SagaConfig {
            provider: Arc::clone(&simulation) as Arc<dyn PaymentProvider>,
            ..SagaConfig::default()
        },
        role: interface::app::ProcessRole::Api { workers: true },
        broker: None,
        sealing: None,
        data_key: None,
    };
    configure(&mut config);
    let app = Application::build(config)
        .await
        .unwrap_or_else(|e| panic!("starting the server: {e}"));
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let keys = JwtKeys::new(&secret).unwrap_or_else(|e| panic!("test JWT keys: {e}"));
    TestApp {
        address,
        client: reqwest::Client::new(),
        keys,
        commands: commands_over(&db),
        db,
        provider: simulation,
        _stop: Some(stop),
    }
}

impl TestApp {
    /// Helpers for a server running in another process at `address`, over `db`, signing
    /// its tokens with `secret`.
    ///
    /// # Panics
    /// When `secret` is too short to sign with.
    #[must_use]
    pub fn attach(address: String, db: TestDatabase, secret: &[u8]) -> Self {
        Self {
            address,
            client: reqwest::Client::new(),
            keys: JwtKeys::new(secret).unwrap_or_else(|e| panic!("test JWT keys: {e}")),
            commands: commands_over(&db),
            db,
            provider: Arc::new(SimulatedProvider::new(std::time::Duration::ZERO)),
            _stop: None,
        }
    }

    /// The absolute URL of `path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A bearer token for `sub` in `role`, valid for an hour, signed with the server's secret.
    #[must_use]
    pub fn token(&self, sub: &str, role: Role) -> String {
        self.keys.sign(sub, role, Duration::hours(1), Utc::now())
    }

    /// A bearer token for `sub` in `role` that the server accepts for `ttl` more: its
    /// `exp` is set back by the clock skew the server tolerates.
    #[must_use]
    pub fn token_valid_for(&self, sub: &str, role: Role, ttl: Duration) -> String {
        let leeway = Duration::seconds(infrastructure::auth::LEEWAY_SECONDS);
        self.keys.sign(sub, role, ttl, Utc::now() - leeway)
    }

    /// A genuine token for `sub` in `role` that expired an hour ago.
    #[must_use]
    pub fn expired_token(&self, sub: &str, role: Role) -> String {
        self.keys.sign(
            sub,
            role,
            Duration::hours(1),
            Utc::now() - Duration::hours(2),
        )
    }
}

/// `request` with `token` as its bearer credentials (if any) and `headers` added.
fn with_credentials(
    request: reqwest::RequestBuilder,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    headers.iter().fold(request, |request, (name, value)| {
        request.header(*name, *value)
    })
}

/// The command side over `db`, behind the API.
fn commands_over(db: &TestDatabase) -> Commands {
    let store = Arc::new(PgEventStore::new(db.pool.clone()));
    Commands::new(
        store,
        &RepositoryOptions::default(),
        infrastructure::SimulatedProvider::simulation(),
    )
}

fn string_field(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}
