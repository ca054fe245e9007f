//! Read-side costs: projection lag under a steady command load, and the full rebuild rate
//! against a raw sequential scan of the events table, measured in the same run.
//! Run: `cargo bench -p benches --bench projections` (see `BENCHMARKS.md`).
//!
//! - **Lag:** the four projection workers run as the server runs them (woken in process by
//!   the commits of a signalling store, polling otherwise). `place_order` commands arrive at
//!   a fixed rate; each one's commit instant (when the use case returns) and position are
//!   recorded, and a monitor reads the checkpoints every 2 ms. A command's lag is the
//!   time from its commit until the `orders` checkpoint (moved in the transaction that writes
//!   the rows, so the moment its row is visible), and until every checkpoint, passed its
//!   position.
//! - **Rebuild:** the log is filled to `LOG_EVENTS` with the end-to-end tests' mixed
//!   workload, then, in interleaved rounds, a raw scan streams every row of `events` to the
//!   client (`SELECT *`, the floor for reading the log), `read_all` pages through the log as
//!   a rebuild does, and each projection is rebuilt in full (into its shadow tables, then
//!   swapped in) while its live worker runs.
//!
//! The database is a throwaway embedded cluster (fsync off), or `DATABASE_URL` when set.

#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a bench whose fixed setup fails has nothing to measure; its summary is its output"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use application::commands::{OrderLineInput, PlaceOrder};
use application::event_log::Position;
use application::{Actor, Commands, EventStore, RepositoryOptions, Role, SignallingStore};
use futures::TryStreamExt;
use infrastructure::{DatabaseOptions, EmbeddedPostgres, PgEventStore};
use projections::{Announcer, Projections, Rebuild, RebuildOptions, WorkerOptions, spawn_workers};
use sqlx::{PgPool, Row};
use tests::workload::{metadata, register_catalogue, rounds, sku};
use tokio::sync::{Notify, watch};

/// Commands per second of each lag run, and how long each runs.
const RATES: [u32; 3] = [50, 200, 400];
const LAG_RUN: Duration = Duration::from_secs(15);
/// How often the monitor reads the checkpoints: the resolution of the lag figures.
const MONITOR_EVERY: Duration = Duration::from_millis(2);
/// Events in the log the rebuilds replay.
const LOG_EVENTS: i64 = 100_000;
/// Interleaved rounds of scan and rebuilds.
const ROUNDS: usize = 2;

/// A command waiting to show in the read models.
struct Pending {
    position: Position,
    committed: Instant,
    orders: Option<Duration>,
    all: Option<Duration>,
}

fn passed(checkpoint: Position, position: Position) -> bool {
    (checkpoint.transaction_id, checkpoint.position) >= (position.transaction_id, position.position)
}

async fn checkpoints(pool: &PgPool) -> Vec<(String, Position)> {
    sqlx::query("SELECT name, transaction_id::text AS xid, position FROM projection_checkpoints")
        .fetch_all(pool)
        .await
        .expect("checkpoints")
        .iter()
        .map(|row| {
            let xid: String = row.get("xid");
            let position = Position {
                transaction_id: xid.parse().expect("xid"),
                position: row.get("position"),
            };
            (row.get("name"), position)
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// One lag run at `rate` commands per second; prints its line.
async fn lag_run(pool: &PgPool, commands: &Arc<Commands>, rate: u32) {
    let pending: Arc<Mutex<Vec<Pending>>> = Arc::new(Mutex::new(Vec::new()));
    let (stop, stopped) = watch::channel(false);
    let monitor = {
        let (pool, pending) = (pool.clone(), Arc::clone(&pending));
        tokio::spawn(async move {
            while !*stopped.borrow() {
                let now = checkpoints(&pool).await;
                let at = Instant::now();
                let orders = now.iter().find(|(n, _)| n == "orders").map(|(_, p)| *p);
                let slowest = now
                    .iter()
                    .map(|(_, p)| *p)
                    .min_by_key(|p| (p.transaction_id, p.position));
                let complete = now.len() == Projections::all().len();
                for entry in pending.lock().expect("lock").iter_mut() {
                    if entry.orders.is_none() && orders.is_some_and(|c| passed(c, entry.position)) {
                        entry.orders = Some(at - entry.committed);
                    }
                    if entry.all.is_none()
                        && complete
                        && slowest.is_some_and(|c| passed(c, entry.position))
                    {
                        entry.all = Some(at - entry.committed);
                    }
                }
                tokio::time::sleep(MONITOR_EVERY).await;
            }
        })
    };
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / rate);
    let started = Instant::now();
    let mut sent = 0_usize;
    let mut tasks = Vec::new();
    while started.elapsed() < LAG_RUN {
        ticker.tick().await;
        let (commands, pending) = (Arc::clone(commands), Arc::clone(&pending));
        let n = sent;
        sent += 1;
        tasks.push(tokio::spawn(async move {
            let customer = format!("lag-{}", n % 50);
            let input = PlaceOrder {
                customer_id: None,
                currency: "EUR".into(),
                lines: vec![OrderLineInput {
                    sku: sku(n),
                    quantity: 1,
                    // The catalogue's price.
                    unit_price: None,
                }],
                payment_token: "tok_visa".into(),
            };
            let result = commands
                .place_order(
                    &Actor::new(&customer, Role::Customer),
                    input,
                    &metadata(&customer),
                )
                .await
                .expect("place order");
            pending.lock().expect("lock").push(Pending {
                position: result.position,
                committed: Instant::now(),
                orders: None,
                all: None,
            });
        }));
    }
    let achieved = sent as f64 / started.elapsed().as_secs_f64();
    for task in tasks {
        task.await.expect("command task");
    }
    // Let the last commands show.
    for _ in 0..500 {
        if pending
            .lock()
            .expect("lock")
            .iter()
            .all(|p| p.all.is_some())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    monitor.await.expect("monitor");
    let entries = std::mem::take(&mut *pending.lock().expect("lock"));
    let mut orders: Vec<Duration> = entries.iter().filter_map(|p| p.orders).collect();
    let mut all: Vec<Duration> = entries.iter().filter_map(|p| p.all).collect();
    orders.sort();
    all.sort();
    println!(
        "| {rate} | {achieved:.0} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
        entries.len(),
        percentile(&orders, 0.5),
        percentile(&orders, 0.99),
        percentile(&orders, 1.0),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        percentile(&all, 1.0),
    );
}

/// Streams every row of the events table to the client; events per second.
async fn raw_scan(pool: &PgPool) -> (u64, f64) {
    let started = Instant::now();
    let mut rows = sqlx::query("SELECT * FROM events").fetch(pool);
    let mut count = 0_u64;
    while let Some(row) = rows.try_next().await.expect("scan") {
        count += u64::from(!row.is_empty());
    }
    (count, count as f64 / started.elapsed().as_secs_f64())
}

/// Pages through the global order with `read_all`, as a rebuild reads it.
async fn paged_read(store: &Arc<dyn EventStore>) -> (u64, f64) {
    let started = Instant::now();
    let mut position = Position::START;
    let mut count = 0_u64;
    loop {
        let events = store
            .read_all(position, RebuildOptions::default().batch_size)
            .await
            .expect("read");
        let Some(last) = events.last() else { break };
        position = last.position;
        count += events.len() as u64;
    }
    (count, count as f64 / started.elapsed().as_secs_f64())
}

async fn caught_up(pool: &PgPool) {
    loop {
        let lag: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events e, projection_checkpoints c
             WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)",
        )
        .fetch_one(pool)
        .await
        .expect("lag");
        if lag == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let (cluster, url) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => (None, url),
            _ => {
                let cluster = (EmbeddedPostgres::start_temporary().await)
                    .expect("embedded PostgreSQL (install the server binaries)");
                let url = (cluster.create_database("bench_projections").await).expect("database");
                (Some(cluster), url)
            }
        };
        infrastructure::migrate(&url).await.expect("migrations");
        let options = DatabaseOptions { max_connections: 24, ..DatabaseOptions::default() };
        let pool = infrastructure::connect(&url, &options).await.expect("pool");
        let wake = Arc::new(Notify::new());
        let plain: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let store: Arc<dyn EventStore> =
            Arc::new(SignallingStore::new(Arc::clone(&plain), Arc::clone(&wake)));
        let commands = Arc::new(Commands::new(Arc::clone(&store), &RepositoryOptions::default(), infrastructure::SimulatedProvider::simulation()));
        let (stop_workers, stopped) = watch::channel(false);
        let workers =
            spawn_workers(
                &pool,
                &store,
                &wake,
                &Announcer::new(),
                &stopped,
                &WorkerOptions::default(),
            );
        register_catalogue(&commands).await.expect("catalogue");

        println!("\n## Projection lag (ms from commit to visible)\n");
        println!("| target cmd/s | achieved cmd/s | commands | orders p50 | orders p99 | orders max | all four p50 | all four p99 | all four max |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for rate in RATES {
            lag_run(&pool, &commands, rate).await;
        }

        let count = async || -> i64 {
            sqlx::query_scalar("SELECT count(*) FROM events")
                .fetch_one(&pool)
                .await
                .expect("count")
        };
        let started = Instant::now();
        let before = count().await;
        let mut next = 100_000;
        while count().await < LOG_EVENTS {
            rounds(&commands, next, next + 400, 8).await.expect("load");
            next += 400;
        }
        let loaded = count().await;
        println!(
            "\nLoaded {} events with the mixed workload in {:.1} s; the log holds {loaded}.",
            loaded - before,
            started.elapsed().as_secs_f64()
        );
        caught_up(&pool).await;

        println!("\n## Full rebuild vs raw scan (events/s, {loaded} events)\n");
        println!("| round | raw scan | read_all pages | orders | products | tickets | payments | rebuild / raw (min–max) |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---|");
        for round in 1..=ROUNDS {
            let (_, raw) = raw_scan(&pool).await;
            let (_, paged) = paged_read(&plain).await;
            let mut rates = Vec::new();
            for projection in Projections::all() {
                let (_keep, stop) = watch::channel(false);
                let started = Instant::now();
                let rebuilt = Rebuild::start(&pool, Arc::clone(&plain), projection, RebuildOptions::default())
                    .await
                    .expect("start")
                    .run(|_| {}, stop)
                    .await
                    .expect("rebuild");
                rates.push(rebuilt.applied as f64 / started.elapsed().as_secs_f64());
            }
            let low = rates.iter().copied().fold(f64::INFINITY, f64::min) / raw;
            let high = rates.iter().copied().fold(0.0, f64::max) / raw;
            println!(
                "| {round} | {raw:.0} | {paged:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {low:.2}–{high:.2} |",
                rates[0], rates[1], rates[2], rates[3]
            );
        }

        let _ = stop_workers.send(true);
        for worker in workers {
            let _ = worker.await;
        }
        pool.close().await;
        if let Some(cluster) = cluster {
            let _ = cluster.stop().await;
        }
    });
}
