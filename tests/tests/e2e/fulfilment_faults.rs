#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Fulfilment under combined faults, as a seeded randomized test: many orders over few SKUs,
//! each with a random payment behaviour (approve, decline, transient failures, capture then
//! time out, late approval, a provider that goes down), customer cancels and operator
//! redrives at random moments, the saga's database connections killed, every connection of
//! the database killed at once, the database out of reach for a while (every connection cut
//! and none accepted), the whole PostgreSQL server restarted (crashed or shut down, then
//! started again: the cases share a cluster of their own, so one case's restart hits them
//! all), and the runner crashed and restarted, sometimes with a second runner racing it. After quiescence every order must have come out whole:
//!
//! - money: captured minus refunded is the total for a CONFIRMED order and zero otherwise;
//! - stock: on hand is what was registered less what CONFIRMED orders bought, and nothing
//!   is reserved (no reservation outlives a final order);
//! - no order is left PENDING;
//! - every command was applied at most once (its id appears in one transaction), and no
//!   order reserved, sold, released or returned one SKU twice, nor was refunded twice.
//!
//! A failing case prints its seed. Replay it with
//! `FAULT_SEED=<seed> cargo test -p tests --test e2e fulfilment_faults`; soak with
//! `FAULT_CASES=2000 cargo test --release -p tests --test e2e fulfilment_faults`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use application::commands::{OrderLineInput, PlaceOrder, RegisterProduct};
use application::event_log::CommandMetadata;
use application::saga::{CircuitBreaker, Fulfil, PaymentProvider, SagaOptions};
use application::{Actor, Commands, RepositoryOptions, Role};
use domain::order::Status;
use domain::payment;
use futures::StreamExt;
use infrastructure::{DatabaseOptions, EmbeddedPostgres, PgEventStore, SimulatedProvider};
use projections::{RunnerOptions, SagaRunner};
use sqlx::{Connection, Executor, PgPool};
use tokio::sync::{Notify, RwLock, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

const TOKENS: [&str; 6] = [
    "tok_visa",
    "tok_chargeDeclined",
    "tok_flaky",
    "tok_timeout",
    "tok_captureTimeout",
    "tok_lateApproval",
];
const SKUS: [&str; 3] = ["HOT-1", "WARM-2", "COLD-3"];

/// How many times each kind of fault (and each payment behaviour) was injected, over every
/// case of the run: a run whose faults never fired proves nothing.
static INJECTED: std::sync::Mutex<BTreeMap<String, u64>> = std::sync::Mutex::new(BTreeMap::new());

fn injected(kind: &str) {
    let mut counts = INJECTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *counts.entry(kind.to_owned()).or_default() += 1;
}

/// A small deterministic generator: one seed, one sequence of choices.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.below(items.len() as u64)).unwrap()]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fulfilment_keeps_money_and_stock_whole_under_random_faults() {
    let seeds: Vec<u64> = match std::env::var("FAULT_SEED") {
        Ok(seed) => vec![seed.parse().expect("FAULT_SEED is a number")],
        Err(_) => {
            let cases: u64 = std::env::var("FAULT_CASES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(100);
            let base = std::env::var("FAULT_BASE_SEED")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| {
                    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(1)
                });
            (0..cases).map(|n| base.wrapping_add(n)).collect()
        }
    };
    let cases = seeds.len();
    println!("fault cases: {cases} (seeds {}..)", seeds.first().unwrap());
    let cluster: Cluster = Arc::new(RwLock::new(
        EmbeddedPostgres::start_temporary()
            .await
            .expect("the fault test starts a PostgreSQL cluster of its own to restart"),
    ));
    let failures: Vec<(u64, String)> = futures::stream::iter(seeds)
        .map(|seed| {
            let cluster = cluster.clone();
            async move { (seed, tokio::spawn(run_case(seed, cluster)).await) }
        })
        .buffer_unordered(4)
        .filter_map(|(seed, outcome)| async move {
            match outcome {
                Ok(Ok(())) => None,
                Ok(Err(why)) => Some((seed, why)),
                Err(panic) => Some((seed, format!("panicked: {panic}"))),
            }
        })
        .collect()
        .await;
    let counts = INJECTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    println!("faults injected: {counts:?}");
    if cases > 1 {
        let kinds = [
            "saga connections killed",
            "all connections killed",
            "database away",
            "database restarted",
            "saga cut off for a while",
            "runner crashed",
            "runner taken over",
            "provider down",
            "order cancelled",
            "dead letter redriven",
        ];
        for kind in kinds
            .iter()
            .map(|k| (*k).to_owned())
            .chain(TOKENS.iter().map(|t| format!("paid with {t}")))
        {
            assert!(
                counts.get(&kind).copied().unwrap_or(0) > 0,
                "no fault of kind {kind:?} fired"
            );
        }
    }
    for (seed, why) in &failures {
        eprintln!(
            "FAILED seed {seed}: {why}\n  replay: FAULT_SEED={seed} cargo test -p tests --test e2e fulfilment_faults"
        );
    }
    assert!(failures.is_empty(), "{} fault cases failed", failures.len());
}

/// The cases' own PostgreSQL server. A case holds it for reading while it sets up and
/// while it checks its outcome; a restart takes it for writing, and is skipped when it
/// cannot have it at once.
type Cluster = Arc<RwLock<EmbeddedPostgres>>;

/// A new, migrated database on `cluster`: its URL and a pool for the case's checks and
/// faults, as the superuser (only a superuser may kill the server's connections).
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
    infrastructure::migrate(&url)
        .await
        .map_err(|e| e.to_string())?;
    let owner = DatabaseOptions {
        assume_app_role: false,
        ..DatabaseOptions::default()
    };
    let pool = infrastructure::connect(&url, &owner)
        .await
        .map_err(|e| e.to_string())?;
    Ok((url, pool))
}

/// One order as the case placed it.
struct Placed {
    id: Uuid,
    lines: Vec<(&'static str, u32)>,
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
    }
}

/// Kills the connections of the case's database whose application name is `name` (all of
/// them for `None`), as a crash or a restart of the database would; counts the fault as
/// `kind` when it killed any.
async fn kill(checker: &PgPool, name: Option<&str>, kind: &str) {
    let killed: Result<Vec<bool>, _> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND application_name LIKE 'df-%'
           AND ($1::text IS NULL OR application_name = $1)",
    )
    .bind(name)
    .fetch_all(checker)
    .await;
    count_kills(killed, kind);
}

/// Kills the connection holding the saga's lock, so another runner takes over while the
/// old one's lanes are still at work.
async fn kill_lock_holder(checker: &PgPool) {
    let killed: Result<Vec<bool>, _> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(l.pid) FROM pg_locks l
         JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND a.datname = current_database()",
    )
    .fetch_all(checker)
    .await;
    count_kills(killed, "runner taken over");
}

/// Counts a fault as injected only when it killed a connection: a kill that was refused
/// (or found nothing to kill) proves nothing.
fn count_kills(killed: Result<Vec<bool>, sqlx::Error>, kind: &str) {
    if killed.is_ok_and(|killed| killed.contains(&true)) {
        injected(kind);
    }
}

#[allow(clippy::too_many_lines)]
async fn run_case(seed: u64, cluster: Cluster) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let setting_up = cluster.clone().read_owned().await;
    let (url, checker) = case_database(&setting_up).await?;
    // The client and the saga reach the database through a link the case can cut, as a
    // network partition does; the checks go straight to it.
    let link = tests::cut::Link::to_server_of(&url).await;
    let client_pool = pool_named(&link.url(&url), "df-client").await;
    let saga_pool = pool_named(&link.url(&url), "df-saga").await;
    let client = Commands::new(
        Arc::new(PgEventStore::new(client_pool.clone())),
        &RepositoryOptions::default(),
    );
    let provider = Arc::new(SimulatedProvider::new(Duration::from_millis(40)));
    let breaker: Arc<dyn PaymentProvider> = Arc::new(CircuitBreaker::new(
        provider.clone(),
        3,
        Duration::from_millis(60),
    ));
    let store = Arc::new(PgEventStore::new(saga_pool.clone()));
    let fulfil = Fulfil::new(
        Commands::new(store.clone(), &RepositoryOptions::default()),
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
        let id = Uuid::now_v7();
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
        let placing = metadata(id, &customer);
        retry(|| client.place_order(&actor, input.clone(), &placing)).await?;
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
async fn retry<T, F, Fut>(attempt: F) -> Result<T, String>
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

async fn redrive_all(pool: &PgPool, fulfil: &Fulfil) {
    if let Ok(letters) = projections::saga::dead_letters(pool, None, 100).await {
        for letter in letters {
            injected("dead letter redriven");
            let _ = projections::saga::redrive(pool, fulfil, letter.id).await;
        }
    }
}

/// Waits (bounded) until every order is final, no deadline is running, no dead letter is
/// left and the saga has taken in the whole log, redriving dead letters meanwhile.
async fn settle(
    checker: &PgPool,
    saga_pool: &PgPool,
    fulfil: &Fulfil,
    client: &Commands,
    placed: &[Placed],
) -> Result<(), String> {
    let mut why = String::new();
    for _ in 0..600 {
        redrive_all(saga_pool, fulfil).await;
        why = match unsettled(checker, client, placed).await {
            Ok(None) => return Ok(()),
            Ok(Some(why)) => why,
            Err(error) => error,
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("did not settle in 60 s: {why}"))
}

async fn order_of(client: &Commands, id: Uuid) -> Result<domain::order::Order, String> {
    let (order, _) = client
        .orders()
        .load(&id.to_string())
        .await
        .map_err(|e| e.to_string())?;
    Ok(order.0)
}

async fn payment_of(client: &Commands, id: Uuid) -> Result<payment::Payment, String> {
    let (payment, _) = client
        .payments()
        .load(&id.to_string())
        .await
        .map_err(|e| e.to_string())?;
    Ok(payment.0)
}

async fn unsettled(
    checker: &PgPool,
    client: &Commands,
    placed: &[Placed],
) -> Result<Option<String>, String> {
    for order in placed {
        let state = order_of(client, order.id).await?;
        if state.status() == Some(Status::Pending) {
            let saga: Option<(String, i64, bool)> = sqlx::query_as(
                "SELECT phase, jsonb_array_length(steps)::bigint,
                        EXISTS (SELECT 1 FROM saga_deadlines d WHERE d.order_id = f.order_id)
                 FROM saga_fulfilments f WHERE order_id = $1",
            )
            .bind(order.id)
            .fetch_optional(checker)
            .await
            .map_err(|e| e.to_string())?;
            let runner: Option<(String, Option<String>)> = sqlx::query_as(
                "SELECT state, error FROM projection_checkpoints WHERE name = 'fulfilment'",
            )
            .fetch_optional(checker)
            .await
            .map_err(|e| e.to_string())?;
            let (letters, lag) = backlog(checker).await?;
            return Ok(Some(format!(
                "order {} is pending; its saga (phase, steps, deadline): {saga:?}; runner: {runner:?}; \
                 {letters} dead letters, {lag} events not taken in{}",
                order.id,
                history(checker, order.id).await
            )));
        }
        let payment = payment_of(client, order.id).await?;
        if matches!(
            payment.status(),
            payment::Status::Requested | payment::Status::FailedTransiently
        ) {
            return Ok(Some(format!("the payment of {} is unsettled", order.id)));
        }
    }
    let (letters, lag) = backlog(checker).await?;
    let deadlines: i64 = sqlx::query_scalar("SELECT count(*) FROM saga_deadlines")
        .fetch_one(checker)
        .await
        .map_err(|e| e.to_string())?;
    Ok(match (letters, deadlines, lag) {
        (0, 0, 0) => None,
        _ => Some(format!(
            "{letters} dead letters, {deadlines} deadlines, {lag} events not taken in"
        )),
    })
}

/// The dead letters left, and the events the saga has not taken in yet.
async fn backlog(checker: &PgPool) -> Result<(i64, i64), String> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM saga_dead_letters),
                (SELECT count(*) FROM events e, projection_checkpoints c
                 WHERE c.name = 'fulfilment'
                   AND (e.transaction_id, e.position) > (c.transaction_id, c.position))",
    )
    .fetch_one(checker)
    .await
    .map_err(|e| e.to_string())
}

async fn check(
    checker: &PgPool,
    client: &Commands,
    provider: &SimulatedProvider,
    placed: &[Placed],
    registered: &BTreeMap<&'static str, u32>,
) -> Result<(), String> {
    let mut sold: BTreeMap<&str, u32> = BTreeMap::new();
    for order in placed {
        let state = order_of(client, order.id).await?;
        let status = state.status();
        let kept = matches!(status, Some(Status::Confirmed | Status::Shipped));
        let captured = provider.captured(order.id);
        let refunded = provider.refunded(order.id).is_some();
        let paid = captured && !refunded;
        if kept != paid {
            return Err(format!(
                "order {} is {status:?} but captured={captured} refunded={refunded}",
                order.id
            ));
        }
        if kept {
            for (sku, quantity) in &order.lines {
                *sold.entry(sku).or_default() += quantity;
            }
        }
        let payment = payment_of(client, order.id).await?;
        let recorded_paid = payment.status() == payment::Status::Succeeded;
        if recorded_paid != paid {
            return Err(format!(
                "order {} ({status:?}): the payment says {:?}, the provider captured={captured} refunded={refunded}",
                order.id,
                payment.status()
            ));
        }
    }
    for (sku, units) in registered {
        let (stock, _) = client.stock().load(sku).await.map_err(|e| e.to_string())?;
        let expected = units - sold.get(sku).copied().unwrap_or(0);
        if stock.0.on_hand() != expected || stock.0.reserved() != 0 {
            let mut holders = String::new();
            for order in placed {
                let id = domain::OrderId::from_u128(order.id.as_u128());
                if stock.0.reservation(id).is_some() {
                    holders.push_str(&history(checker, order.id).await);
                }
            }
            return Err(format!(
                "{sku}: on hand {} reserved {} but {units} registered and {} sold{holders}",
                stock.0.on_hand(),
                stock.0.reserved(),
                sold.get(sku).copied().unwrap_or(0)
            ));
        }
    }
    let repeated: Vec<(String, i64)> = sqlx::query_as(
        "SELECT metadata->>'commandId', count(DISTINCT transaction_id)
         FROM events GROUP BY 1 HAVING count(DISTINCT transaction_id) > 1",
    )
    .fetch_all(checker)
    .await
    .map_err(|e| e.to_string())?;
    if !repeated.is_empty() {
        return Err(format!("commands applied more than once: {repeated:?}"));
    }
    let twice: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT stream_id, event_type, payload->>'orderId', count(*) FROM events
         WHERE event_type IN ('StockReserved', 'StockCommitted', 'StockReleased',
                              'StockReturned', 'PaymentAuthorized', 'PaymentRefunded')
         GROUP BY 1, 2, 3 HAVING count(*) > 1",
    )
    .fetch_all(checker)
    .await
    .map_err(|e| e.to_string())?;
    if !twice.is_empty() {
        return Err(format!("effects applied twice: {twice:?}"));
    }
    Ok(())
}

/// An event as a failure's message shows it: position, stream, type, command id, actor.
type LoggedEvent = (String, String, String, Option<String>, Option<String>);

/// What the log, the saga and the dead letters say of `order`, for a failure's message.
async fn history(checker: &PgPool, order: Uuid) -> String {
    let events: Vec<LoggedEvent> = sqlx::query_as(
        "SELECT transaction_id::text || '/' || position, stream_id, event_type,
                metadata->>'commandId', metadata->>'actor'
         FROM events
         WHERE stream_id = $1 OR payload->>'orderId' = $1 OR payload->>'order' = $1
         ORDER BY transaction_id, position",
    )
    .bind(order.to_string())
    .fetch_all(checker)
    .await
    .unwrap_or_default();
    let saga: Option<(String, serde_json::Value)> =
        sqlx::query_as("SELECT phase, steps FROM saga_fulfilments WHERE order_id = $1")
            .bind(order)
            .fetch_optional(checker)
            .await
            .unwrap_or_default();
    let letters: Vec<(String, String)> =
        sqlx::query_as("SELECT action, error FROM saga_dead_letters WHERE order_id = $1")
            .bind(order)
            .fetch_all(checker)
            .await
            .unwrap_or_default();
    let mut out = format!("\n  order {order}:");
    for event in events {
        out.push_str(&format!("\n    {event:?}"));
    }
    out.push_str(&format!(
        "\n    saga: {saga:?}\n    dead letters: {letters:?}"
    ));
    out
}

#[tokio::test]
async fn a_runner_that_lost_its_lock_can_store_nothing() {
    use projections::saga::fence;
    let db = tests::test_database().await;
    let mut old = db.pool.acquire().await.unwrap();
    let mut new = db.pool.acquire().await.unwrap();
    let old_epoch = fence::take(&mut old, "fulfilment").await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut *old).await.unwrap();
    fence::hold(&mut tx, "fulfilment", old_epoch).await.unwrap();
    // The new runner's take waits for the old one's write in flight, then wins.
    let taking = tokio::spawn(async move {
        let epoch = fence::take(&mut new, "fulfilment").await.unwrap();
        (new, epoch)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!taking.is_finished(), "take waits for the write in flight");
    tx.commit().await.unwrap();
    let (mut new, new_epoch) = taking.await.unwrap();
    assert!(new_epoch > old_epoch);
    let mut tx = sqlx::Connection::begin(&mut *old).await.unwrap();
    assert!(matches!(
        fence::hold(&mut tx, "fulfilment", old_epoch).await,
        Err(projections::Error::Fenced("fulfilment"))
    ));
    let mut tx = sqlx::Connection::begin(&mut *new).await.unwrap();
    fence::hold(&mut tx, "fulfilment", new_epoch).await.unwrap();
}

#[tokio::test]
async fn an_event_that_does_not_decode_parks_the_saga_until_an_operator_resumes_it() {
    let app = tests::spawn_app().await;
    let operator = app.token("ops", Role::Operator);
    app.register_product("MUG-1", 10).await;
    // An event the saga cannot read (its payload lacks the order), on a stream of its own.
    let mut poison = tests::restocks("POISON-1", 0, 1);
    poison.events[0].event_type = "StockReserved".into();
    poison.events[0].payload = serde_json::json!({ "quantity": 1 });
    PgEventStore::new(app.db.pool.clone())
        .append(&poison)
        .await
        .unwrap();
    let order = app.place_order("alice", "MUG-1", 1).await;

    let mut row = serde_json::Value::Null;
    for _ in 0..200 {
        let statuses = tests::expect(
            app.get("/api/admin/projections", Some(&operator), &[])
                .await,
            200,
        )
        .await;
        row = statuses
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "fulfilment")
            .cloned()
            .expect("the saga is a row of the projections status");
        if row["state"] == "PARKED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(row["state"], "PARKED", "{row}");
    assert!(
        row["error"].as_str().unwrap().contains("stock/POISON-1"),
        "{row}"
    );
    assert!(row["lagEvents"].as_i64().unwrap() >= 2, "{row}");
    let ready = app.get("/health/ready", None, &[]).await;
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["parked"][0]["name"], "fulfilment", "{body}");
    assert_eq!(
        app.event_types("order", &order).await,
        ["OrderPlaced"],
        "the parked saga does not act"
    );

    // The operator mends the event (here, by hand in the database) and resumes the saga.
    app.db
        .break_glass(&format!(
            "UPDATE events SET payload = '{{\"orderId\": \"{}\", \"quantity\": 1}}'
             WHERE stream_type = 'stock' AND stream_id = 'POISON-1'",
            Uuid::nil()
        ))
        .await;
    let mut conn = app.db.pool.acquire().await.unwrap();
    assert!(
        projections::checkpoint::resume(&mut conn, "fulfilment")
            .await
            .unwrap()
    );
    let settled = app.settled_order(&order, Duration::from_secs(30)).await;
    assert_eq!(settled["status"], "CONFIRMED");
    assert_eq!(app.get("/health/ready", None, &[]).await.status(), 200);
}
