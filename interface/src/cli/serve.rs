//! `domainflow serve`.

use std::net::SocketAddr;

use application::RepositoryOptions;
use application::saga::SagaOptions;
use infrastructure::{Database, DatabaseOptions};

use super::broker::broker;
use super::duration::{duration_setting, setting};
use super::limits::http_limits;
use super::settings::default_data_dir;
use super::{FileSettings, SealArgs, ServeArgs, jwt_keys, parse_limit, provider_settings};
use crate::app::{Application, ProcessRole, ServerConfig};
use crate::payment::{ProviderKind, ProviderSettings};
use crate::saga::SagaConfig;
use crate::sealer::Sealing;
use infrastructure::seal::SealKey;

/// Runs the server until SIGINT or SIGTERM.
///
/// # Errors
/// A message naming what kept the server from starting.
pub async fn serve(args: ServeArgs, file: FileSettings) -> Result<(), String> {
    let workers = args.workers.or(file.workers).unwrap_or(true);
    run(args, file, ProcessRole::Api { workers }).await
}

/// Runs the followers of the log (projections, the saga's runner, the relay with a broker)
/// until SIGINT or SIGTERM, with only the health probes and `/metrics` over HTTP.
///
/// # Errors
/// A message naming what kept the worker from starting.
pub async fn worker(args: ServeArgs, file: FileSettings) -> Result<(), String> {
    run(args, file, ProcessRole::Worker).await
}

/// Runs only the outbox relay until SIGINT or SIGTERM, with only the health probes and
/// `/metrics` over HTTP.
///
/// # Errors
/// A message naming what kept the relay from starting (among them, no broker).
pub async fn relay(args: ServeArgs, file: FileSettings) -> Result<(), String> {
    run(args, file, ProcessRole::Relay).await
}

#[allow(clippy::print_stdout)] // Where the server listens is the command's output.
async fn run(args: ServeArgs, file: FileSettings, role: ProcessRole) -> Result<(), String> {
    // Settings are checked before anything starts, so a bad one fails at once.
    let limits = http_limits(&args, &file)?;
    let data_dir = args
        .database
        .data_dir
        .clone()
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(default_data_dir);
    let jwt = jwt_keys(&args.jwt, &file, &data_dir)?;
    let provider = provider_settings(args.provider, &file)?;
    let broker = broker(args.broker, &file)?;
    let sealing = sealing(&args.seal, &file)?;
    let data_key = data_key(args.data_key.as_ref(), &file)?;
    if data_key.is_none() {
        tracing::warn!(
            "no --data-key: customers' personal data is stored in the clear and cannot be \
             erased"
        );
    }
    if role == ProcessRole::Relay && broker.is_none() {
        return Err("domainflow relay needs a broker: --broker rabbitmq or --broker nats".into());
    }
    provider.validate()?;
    let database_url = args.database.database_url.or(file.database_url);
    let owner_url = args.database.owner_url.or(file.database_owner_url);
    let default_port = match role {
        ProcessRole::Api { .. } => 8080,
        ProcessRole::Worker => 9090,
        ProcessRole::Relay => 9091,
    };
    let listen: SocketAddr = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], default_port)));
    let repository = RepositoryOptions {
        snapshot_every: args
            .snapshot_every
            .or(file.snapshot_every)
            .unwrap_or(RepositoryOptions::default().snapshot_every),
        ..RepositoryOptions::default()
    };

    let payment_timeout = duration_setting(
        args.payment_timeout,
        "payment_timeout",
        file.payment_timeout.as_deref(),
    )?;
    let max_lag = setting(
        args.max_fulfilment_lag,
        "max_fulfilment_lag",
        file.max_fulfilment_lag.as_deref(),
        parse_limit,
    )?;
    let max_lag = max_fulfilment_lag(max_lag, payment_timeout, &provider)?;

    let database = Database::open(database_url, owner_url, &data_dir)
        .await
        .map_err(|e| e.to_string())?;
    // The simulation keeps its ledger in the database, so a restart or a redrive from the
    // CLI sees the charges already made; it gets a pool of its own because the provider is
    // chosen before the server opens its pool. Four connections starved under a sustained
    // overload (charges timed out waiting for one, the breaker opened, 3.4 % of orders ran
    // past their payment deadline); twelve carried it (BENCHMARKS.md, "Sustained overload").
    // A process without the saga only registers tokens there (one short insert per order):
    // four serve it, and leave the database's connections to those that charge.
    let ledger_connections = if role.runs_followers() { 12 } else { 4 };
    let ledger = match provider.kind {
        ProviderKind::Simulated => Some(
            infrastructure::connect(
                &database.url,
                &DatabaseOptions {
                    max_connections: ledger_connections,
                    ..DatabaseOptions::default()
                },
            )
            .await
            .map_err(|e| format!("connecting the simulated payment provider's ledger: {e}"))?,
        ),
        ProviderKind::Http => None,
    };
    let mut saga = saga_config(payment_timeout, &provider, ledger.as_ref())?;
    saga.max_lag = max_lag;
    let app = Application::build(ServerConfig {
        listen,
        database_url: database.url.clone(),
        jwt,
        limits,
        repository,
        max_connections: args.max_connections.or(file.max_connections).unwrap_or(16),
        saga,
        role,
        broker: broker.clone(),
        sealing,
        data_key,
    })
    .await
    // What kept the server from starting is for its operator: the whole cause.
    .map_err(|e| match e {
        crate::error::ApiError::Internal(cause) => cause,
        other => other.to_string(),
    })?;
    let address = app
        .local_addr()
        .map_or_else(|| listen.to_string(), |a| a.to_string());
    if let Some(dir) = database.embedded_dir() {
        println!(
            "domainflow: embedded PostgreSQL with its data in {}",
            dir.display()
        );
    }
    println!("domainflow listening on http://{address}");
    let relaying = broker
        .as_ref()
        .filter(|_| role.runs_relay())
        .map(|broker| broker.kind());
    if let Some(kind) = relaying {
        println!("  relaying integration events to {kind}");
    }
    if role == ProcessRole::Relay {
        println!("  a relay: integration events only; health and /metrics only");
    } else if role == ProcessRole::Worker {
        println!("  a worker: the followers of the log; health and /metrics only");
    } else {
        println!("  REST  http://{address}/api   (docs: http://{address}/api/docs)");
        println!("  GraphQL http://{address}/graphql");
        println!(
            "  get a token: domainflow token --sub alice --role customer{}",
            if data_dir == default_data_dir() {
                String::new()
            } else {
                format!(" --data-dir {}", data_dir.display())
            }
        );
    }
    app.run_until_stopped(shutdown_signal()).await;
    if let Some(ledger) = ledger {
        ledger.close().await;
    }
    database.close().await;
    tracing::info!("domainflow stopped");
    Ok(())
}

/// The limit on how far behind fulfilment may be for new orders (`None`: off). The saga's
/// checkpoint waits for its oldest step, and a payment step may take the payment deadline
/// plus one provider call: a limit no longer than that would refuse orders during a
/// provider outage while fulfilment itself keeps up, so it is refused at start.
fn max_fulfilment_lag(
    given: Option<std::time::Duration>,
    payment_timeout: Option<std::time::Duration>,
    provider: &ProviderSettings,
) -> Result<Option<std::time::Duration>, String> {
    let max_lag = match given {
        Some(lag) if lag.is_zero() => None,
        Some(lag) => Some(lag),
        None => SagaConfig::default().max_lag,
    };
    let payment_timeout = payment_timeout.unwrap_or(SagaOptions::default().payment_timeout);
    let longest_step = payment_timeout + SagaConfig::provider_call_bound(provider);
    match max_lag {
        Some(lag) if lag <= longest_step => Err(format!(
            "--max-fulfilment-lag ({}s) must be longer than --payment-timeout plus the \
             provider call timeout ({}s), or off",
            lag.as_secs(),
            longest_step.as_secs()
        )),
        _ => Ok(max_lag),
    }
}

/// The saga's settings: the defaults, with the payment deadline and the provider given.
fn saga_config(
    payment_timeout: Option<std::time::Duration>,
    provider: &ProviderSettings,
    ledger: Option<&sqlx::PgPool>,
) -> Result<SagaConfig, String> {
    let mut config = SagaConfig::with_provider(provider, ledger)?;
    if let Some(timeout) = payment_timeout {
        config.options.payment_timeout = timeout;
    }
    Ok(config)
}

/// The seal key and interval `args` over `file` name; `None` without a key.
fn sealing(args: &SealArgs, file: &FileSettings) -> Result<Option<Sealing>, String> {
    let every = duration_setting(args.seal_every, "seal_every", file.seal_every.as_deref())?
        .unwrap_or(DEFAULT_SEAL_EVERY);
    let Some(path) = args.seal_key.clone().or_else(|| file.seal_key.clone()) else {
        return Ok(None);
    };
    let key = SealKey::load(&path)?;
    Ok(Some(Sealing {
        key: std::sync::Arc::new(key),
        every,
    }))
}

/// The data key `arg` or `file` names, read; `None` without one.
///
/// # Errors
/// Why the named key cannot be used.
pub(super) fn data_key(
    arg: Option<&std::path::PathBuf>,
    file: &FileSettings,
) -> Result<Option<std::sync::Arc<infrastructure::DataKey>>, String> {
    arg.or(file.data_key.as_ref())
        .map(|path| infrastructure::DataKey::load(path).map(std::sync::Arc::new))
        .transpose()
}

/// How often the log is sealed when no interval is given.
const DEFAULT_SEAL_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
