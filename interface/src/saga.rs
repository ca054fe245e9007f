//! The order-fulfilment saga as the server runs it: the payment provider the settings chose
//! behind a circuit breaker, the action executor, and the runner task.

use std::sync::Arc;
use std::time::Duration;

use application::saga::{CircuitBreaker, Fulfil, PaymentProvider, SagaOptions};
use application::{Commands, EventStore};
use infrastructure::SimulatedProvider;
use projections::{RunnerOptions, SagaRunner};
use sqlx::PgPool;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::payment::ProviderSettings;

/// How the saga runs.
#[derive(Debug, Clone)]
pub struct SagaConfig {
    /// Whether this process runs the saga runner (one runner is active across processes
    /// either way; redrives work without it).
    pub run: bool,
    /// Retries, backoff and the payment deadline.
    pub options: SagaOptions,
    /// Batch size and polling of the runner.
    pub runner: RunnerOptions,
    /// Provider failures in a row that open the circuit.
    pub breaker_threshold: u32,
    /// How long the circuit stays open before a probe.
    pub breaker_cooldown: Duration,
    /// The payment provider (by default the built-in simulation).
    pub provider: Arc<dyn PaymentProvider>,
    /// New orders wait (503 `UNAVAILABLE`, `Retry-After`) while the oldest event the saga
    /// has not taken is older than this (`None`: never), so that a sustained overload
    /// cannot grow the backlog without bound.
    pub max_lag: Option<Duration>,
    /// How often this process looks how far behind the saga is (with `max_lag`).
    pub lag_check: Duration,
}

impl Default for SagaConfig {
    fn default() -> Self {
        Self {
            run: true,
            options: SagaOptions::default(),
            runner: RunnerOptions::default(),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(2),
            provider: Arc::new(SimulatedProvider::new(Duration::from_secs(2))),
            max_lag: Some(Duration::from_secs(120)),
            lag_check: Duration::from_millis(500),
        }
    }
}

impl SagaConfig {
    /// The defaults, charging through the provider `settings` describe (a simulation keeps
    /// its ledger in the database behind `ledger` when given). The saga's own bound on a
    /// provider call stays above the provider's per-call timeout, so that the provider's
    /// own timeout is the one that decides.
    ///
    /// # Errors
    /// As [`ProviderSettings::build`]: a message naming the setting at fault.
    pub fn with_provider(
        settings: &ProviderSettings,
        ledger: Option<&PgPool>,
    ) -> Result<Self, String> {
        let mut config = Self {
            provider: settings.build(ledger)?,
            ..Self::default()
        };
        config.options.provider_call_timeout = Self::provider_call_bound(settings);
        Ok(config)
    }

    /// The saga's bound on one call to the provider `settings` describe: the default, or
    /// just above the provider's own per-call timeout when that is longer.
    #[must_use]
    pub fn provider_call_bound(settings: &ProviderSettings) -> Duration {
        let bound = settings.timeout.saturating_add(Duration::from_secs(1));
        SagaOptions::default().provider_call_timeout.max(bound)
    }
}

/// The saga's executor and its circuit breaker, shared by the runner, redrives and metrics.
#[derive(Debug, Clone)]
pub struct SagaRuntime {
    /// Carries out the policy's actions.
    pub fulfil: Fulfil,
    /// The breaker in front of the provider.
    pub breaker: Arc<CircuitBreaker>,
}

impl SagaRuntime {
    /// The saga over `commands` as `config` says.
    #[must_use]
    pub fn new(commands: Commands, config: &SagaConfig) -> Self {
        let breaker = Arc::new(CircuitBreaker::new(
            Arc::clone(&config.provider),
            config.breaker_threshold,
            config.breaker_cooldown,
        ));
        let fulfil = Fulfil::new(
            commands,
            Arc::clone(&breaker) as Arc<dyn PaymentProvider>,
            config.options.clone(),
        );
        Self { fulfil, breaker }
    }

    /// Prepares the runner's starting point (so that no order this process accepts falls
    /// before it), then spawns the runner when `run`; it ends when `shutdown` turns true.
    /// An API process without the followers prepares all the same: the runner may start
    /// later, in a worker.
    ///
    /// # Errors
    /// When the database cannot be reached.
    pub async fn start(
        &self,
        store: Arc<dyn EventStore>,
        pool: PgPool,
        wake: Arc<Notify>,
        options: RunnerOptions,
        run: bool,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Option<JoinHandle<()>>, projections::Error> {
        let runner = SagaRunner::new(store, pool, self.fulfil.clone(), wake, options);
        runner.prepare().await?;
        Ok(run.then(|| tokio::spawn(runner.run(shutdown))))
    }
}
