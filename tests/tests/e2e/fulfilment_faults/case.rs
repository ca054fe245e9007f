//! One seeded fault case: its own database, the client and the saga behind a link that can be
//! cut, random orders, payment behaviours, cancels, redrives and faults, then the checks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use application::commands::{OrderLineInput, PlaceOrder, RegisterProduct};
use application::event_log::CommandMetadata;
use application::saga::{CircuitBreaker, Fulfil, PaymentProvider, SagaOptions};
use application::{Actor, Commands, RepositoryOptions, Role};

use infrastructure::{DatabaseOptions, EmbeddedPostgres, PgEventStore, SimulatedProvider};
use projections::{RunnerOptions, SagaRunner};
use sqlx::{Connection, Executor, PgPool};
use tests::rng::Rng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::checks::{check, settle};
use super::{Cluster, Placed, SKUS, TOKENS, injected, kill, kill_lock_holder, redrive_all};

/// A new, migrated database on `cluster`: its URL as the server's login (which owns
/// nothing, as in production) and a pool for the case's checks and faults, as the superuser
/// (only a superuser may kill the server's connections).
async fn case_database(cluster: &EmbeddedPostgres) -> Result<(String, PgPool), String> {
    let name = format!("f_{}", Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres"))
        .await
        .map_err(|e| e.to_string())?;
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .map_err(|e| e.to_string())?;
    // The throwaway cluster trades durability for speed, but a crash must lose no commit
    // it acknowledged, as on a durable server: this database waits for its WAL.
    admin
        .execute(format!("ALTER DATABASE \"{name}\" SET synchronous_commit = on").as_str())
        .await
        .map_err(|e| e.to_string())?;
    let _ = admin.close().await;
    let url = cluster.url(&name);
    let login = cluster.login_url(&name);
    infrastructure::migrate(&url)
        .await
        .map_err(|e| e.to_string())?;
    infrastructure::login::provision(&url, &login)
        .await
        .map_err(|e| e.to_string())?;
    // The checker observes the faults without suffering them: it tests each connection
    // before use, so one a restart killed while idle is replaced instead of failing a check.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .test_before_acquire(true)
        .connect(&url)
        .await
        .map_err(|e| e.to_string())?;
    Ok((login, pool))
}

/// The saga's parts for one case.
struct Saga {
    store: Arc<PgEventStore>,
    pool: PgPool,
    fulfil: Fulfil,
    options: RunnerOptions,
}

impl Saga {
    fn spawn(&self) -> (JoinHandle<()>, watch::Sender<bool>) {
        let (stop, stopped) = watch::channel(false);
        let runner = SagaRunner::new(
            self.store.clone(),
            self.pool.clone(),
            self.fulfil.clone(),
            Arc::new(Notify::new()),
            self.options.clone(),
        );
        (tokio::spawn(runner.run(stopped)), stop)
    }
}

async fn pool_named(url: &str, name: &str) -> PgPool {
    let separator = if url.contains('?') { '&' } else { '?' };
    let options = DatabaseOptions {
        max_connections: 5,
        acquire_timeout: Duration::from_secs(5),
        ..DatabaseOptions::default()
    };
    infrastructure::connect(
        &format!("{url}{separator}application_name={name}"),
        &options,
    )
    .await
    .unwrap()
}

fn metadata(id: Uuid, actor: &str) -> CommandMetadata {
    CommandMetadata {
        command_id: id,
        correlation_id: id,
        causation_id: None,
        actor: actor.into(),
        client_correlation_id: None,
    }
}

#[allow(clippy::too_many_lines)]
pub(super) async fn run_case(seed: u64, cluster: Cluster) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let setting_up = cluster.clone().read_owned().await;
    let (url, checker) = case_database(&setting_up).await?;
    // The client and the saga reach the database through a link the case can cut, as a
    // network partition does; the checks go straight to it.
    let link = tests::cut::Link::to_server_of(&url).await;
    let client_pool = pool_named(&link.url(&url), "df-client").await;
    let saga_pool = pool_named(&link.url(&url), "df-saga").await;
    let provider = Arc::new(SimulatedProvider::new(Duration::from_millis(40)));
    let client = Commands::new(
        Arc::new(PgEventStore::new(client_pool.clone())),
        &RepositoryOptions::default(),
        provider.clone(),
    );
    let breaker: Arc<dyn PaymentProvider> = Arc::new(CircuitBreaker::new(
        provider.clone(),
        3,
        Duration::from_millis(60),
    ));
    let store = Arc::new(PgEventStore::new(saga_pool.clone()));
    let fulfil = Fulfil::new(
        Commands::new(
            store.clone(),
            &RepositoryOptions::default(),
            provider.clone(),
        ),
        breaker,
        SagaOptions {
            max_charge_attempts: 3,
            max_command_attempts: 3,
            retry: application::backoff::Backoff {
                base: Duration::from_millis(5),
                cap: Duration::from_millis(40),
            },
            payment_timeout: Duration::from_millis(700),
            provider_call_timeout: Duration::from_millis(200),
        },
    );
    let saga = Saga {
        store,
        pool: saga_pool.clone(),
        fulfil: fulfil.clone(),
        options: RunnerOptions {
            batch_size: 40,
            min_poll: Duration::from_millis(5),
            max_poll: Duration::from_millis(50),
            lock_retry: Duration::from_millis(50),
            max_in_flight: 100,
        },
    };
    SagaRunner::new(
        saga.store.clone(),
        saga.pool.clone(),
        fulfil.clone(),
        Arc::new(Notify::new()),
        saga.options.clone(),
    )
    .prepare()
    .await
    .map_err(|e| e.to_string())?;
    let mut runners = vec![saga.spawn()];

    let operator = Actor::new("ops", Role::Operator);
    let mut registered = BTreeMap::new();
    for sku in SKUS {
        let units = 2 + u32::try_from(rng.below(8)).unwrap();
        let registration = metadata(Uuid::now_v7(), "ops");
        retry(|| {
            client.register_product(
                &operator,
                RegisterProduct {
                    sku: sku.into(),
                    name: format!("Product {sku}"),
                    initial_quantity: units,
                    low_stock_threshold: 1,
                    price: "10.00".into(),
                    currency: "BRL".into(),
                },
                &registration,
            )
        })
        .await?;
        registered.insert(sku, units);
    }
    drop(setting_up);

    let mut placed: Vec<Placed> = Vec::new();
    let orders = 8 + rng.below(8);
    for n in 0..orders {
        let customer = format!("c{n}");
        let actor = Actor::new(customer.clone(), Role::Customer);
        let mut lines: Vec<(&'static str, u32)> = Vec::new();
        for _ in 0..=rng.below(2) {
            let sku = *rng.pick(&SKUS);
            if lines.iter().all(|(s, _)| *s != sku) {
                lines.push((sku, 1 + u32::try_from(rng.below(3)).unwrap()));
            }
        }
        let token = *rng.pick(&TOKENS);
        injected(&format!("paid with {token}"));
        let command = Uuid::now_v7();
        let input = PlaceOrder {
            customer_id: None,
            currency: "BRL".into(),
            lines: lines
                .iter()
                .map(|(sku, quantity)| OrderLineInput {
                    sku: (*sku).into(),
                    quantity: *quantity,
                    unit_price: None,
                })
                .collect(),
            payment_token: token.into(),
        };
        let placing = metadata(command, &customer);
        // The order's id is the one the store answers: a random one, the same for every
        // retry of this command (a retry is recognised by its command id).
        let result = retry(|| client.place_order(&actor, input.clone(), &placing)).await?;
        let id = Uuid::parse_str(&result.stream.stream_id)
            .map_err(|e| format!("order id {}: {e}", result.stream.stream_id))?;
        placed.push(Placed { id, lines });

        // Faults between orders.
        for _ in 0..rng.below(3) {
            match rng.below(13) {
                0 => {
                    kill(&checker, Some("df-saga"), "saga connections killed").await;
                }
                12 => {
                    // The whole server goes down, as a crash or an operator's fast shutdown,
                    // and comes back after a while on the same address.
                    let immediate = rng.below(2) == 0;
                    let away = Duration::from_millis(rng.below(400));
                    if let Ok(mut server) = cluster.clone().try_write_owned() {
                        injected("database restarted");
                        server
                            .restart(immediate, away)
                            .await
                            .map_err(|e| format!("restarting the database: {e}"))?;
                    }
                }
                11 => {
                    injected("database away");
                    // The database is out of reach: every connection is cut, and none can
                    // be made for a while.
                    link.cut();
                    tokio::time::sleep(Duration::from_millis(30 + rng.below(300))).await;
                    link.mend();
                }
                9 | 10 => {
                    // The database is away for a while as far as the saga can tell: its
                    // connections die as soon as they are made, and commands in flight fail
                    // past their retries into dead letters.
                    let until =
                        tokio::time::Instant::now() + Duration::from_millis(50 + rng.below(250));
                    while tokio::time::Instant::now() < until {
                        kill(&checker, Some("df-saga"), "saga cut off for a while").await;
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                    if rng.below(2) == 0 {
                        let order = placed[placed.len() - 1].id;
                        let _ = client
                            .cancel_order(&operator, order, &metadata(Uuid::now_v7(), "ops"))
                            .await;
                    }
                }
                1 => {
                    kill(&checker, None, "all connections killed").await;
                }
                2 => {
                    injected("runner crashed");
                    // The runner crashes and a new one starts.
                    if let Some((handle, _stop)) = runners.pop() {
                        handle.abort();
                    }
                    runners.push(saga.spawn());
                }
                3 if runners.len() < 2 => {
                    // A second runner waits for the lock; the holder's connection dies.
                    runners.push(saga.spawn());
                    tokio::time::sleep(Duration::from_millis(rng.below(60))).await;
                    kill_lock_holder(&checker).await;
                }
                4 => {
                    injected("provider down");
                    provider.set_outage(true);
                }
                5 => provider.set_outage(false),
                6 | 7 => {
                    injected("order cancelled");
                    let order = rng.pick(&placed).id;
                    let _ = client
                        .cancel_order(&operator, order, &metadata(Uuid::now_v7(), "ops"))
                        .await;
                }
                _ => redrive_all(&saga_pool, &fulfil).await,
            }
            tokio::time::sleep(Duration::from_millis(rng.below(80))).await;
        }
    }

    // Quiescence: the provider is back, an operator redrives what is left.
    provider.set_outage(false);
    let settled = settle(&checker, &saga_pool, &fulfil, &client, &placed).await;
    for (handle, stop) in runners {
        let _ = stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), handle).await;
    }
    let checking = cluster.clone().read_owned().await;
    let outcome = match settled {
        Ok(()) => check(&checker, &client, &provider, &placed, &registered).await,
        Err(why) => {
            let connections: Result<i64, _> =
                sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity")
                    .fetch_one(&checker)
                    .await;
            Err(format!(
                "{why} ({connections:?} connections to the cluster)"
            ))
        }
    };
    drop(checking);
    client_pool.close().await;
    saga_pool.close().await;
    checker.close().await;
    outcome
}

/// Retries `attempt` (a client whose connection was killed tries again, with the same
/// command id) until it goes through.
pub(super) async fn retry<T, F, Fut>(attempt: F) -> Result<T, String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, application::Error>>,
{
    let mut last = String::new();
    for _ in 0..100 {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("a client command kept failing: {last}"))
}
