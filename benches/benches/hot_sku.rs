//! Loading a hot SKU's stock: a SKU with 100 000 settled orders behind it against a SKU
//! registered a moment ago. The stock keeps only open reservations, so its snapshot (taken
//! every 100 versions) stays as small as a new SKU's, and so does the cost of a load (the
//! snapshot plus the events after it). Run: `cargo bench -p benches --bench hot_sku` (see
//! `BENCHMARKS.md`).
//!
//! The history is appended in bulk (each order reserves one unit and buys it), then one
//! command through the repository stores a snapshot of the whole stream. After criterion's
//! group, a summary measures both again in interleaved rounds and prints the ratio.
//!
//! The database is a throwaway embedded cluster (fsync off), or `DATABASE_URL` when set.

#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a bench whose fixed setup fails has nothing to measure; its summary is its output"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use application::event_log::{Append, CommandMetadata, NewEvent, StreamRef};
use application::{Repository, RepositoryOptions, StockAggregate, Upcasters};
use criterion::Criterion;
use domain::stock::Command;
use domain::{Currency, Money, Quantity, Sku};
use infrastructure::{DatabaseOptions, EmbeddedPostgres, PgEventStore};
use serde_json::json;
use tokio::runtime::Runtime;
use uuid::Uuid;

/// Orders behind the hot SKU.
const ORDERS: usize = 100_000;
/// Orders per bulk append (two events each).
const ORDERS_PER_APPEND: usize = 1_000;
const ROUNDS: usize = 6;
const SLOT: Duration = Duration::from_millis(400);

fn metadata() -> CommandMetadata {
    let id = Uuid::now_v7();
    CommandMetadata {
        command_id: id,
        correlation_id: id,
        causation_id: None,
        actor: "bench".into(),
        client_correlation_id: None,
    }
}

fn register(sku: &str) -> Command {
    Command::Register {
        sku: Sku::parse(sku).expect("sku"),
        name: format!("Product {sku}"),
        low_stock_threshold: 0,
        initial_quantity: u32::try_from(ORDERS).expect("fits") + 10,
        price: Money::new(1250, Currency::parse("BRL").expect("currency")),
    }
}

/// Appends `ORDERS` reserve-then-buy pairs to the stream of `sku`, which is at `version`.
async fn settle_orders(store: &PgEventStore, sku: &str, mut version: i64) -> i64 {
    for chunk in 0..ORDERS / ORDERS_PER_APPEND {
        let mut events = Vec::with_capacity(2 * ORDERS_PER_APPEND);
        for n in 0..ORDERS_PER_APPEND {
            let order =
                Uuid::from_u128(u128::try_from(chunk * ORDERS_PER_APPEND + n).expect("fits") + 1);
            for event_type in ["StockReserved", "StockCommitted"] {
                events.push(NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: event_type.into(),
                    event_version: 1,
                    payload: json!({ "orderId": order, "quantity": 1 }),
                });
            }
        }
        let count = i64::try_from(events.len()).expect("fits");
        store
            .append(&Append {
                stream: StreamRef::new("stock", sku),
                expected_version: version,
                head_hash: None,
                events,
                metadata: metadata(),
                snapshot: None,
            })
            .await
            .expect("bulk append");
        version += count;
    }
    version
}

async fn load(repository: &Repository<StockAggregate>, sku: &str) {
    let (stock, _) = repository.load(sku).await.expect("load");
    black_box(stock);
}

fn main() {
    let runtime = Runtime::new().expect("runtime");
    let (_cluster, repository) = runtime.block_on(async {
        let (cluster, url) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => (None, url),
            _ => {
                let cluster = (EmbeddedPostgres::start_temporary().await)
                    .expect("embedded PostgreSQL (install the server binaries)");
                let url = (cluster.create_database("bench_hot_sku").await).expect("database");
                (Some(cluster), url)
            }
        };
        infrastructure::migrate(&url).await.expect("migrations");
        let pool = infrastructure::connect(&url, &DatabaseOptions::default())
            .await
            .expect("pool");
        let store = PgEventStore::new(pool);
        // A snapshot on every command, so the one command after the bulk history stores one.
        let repository = Repository::<StockAggregate>::new(
            Arc::new(store.clone()),
            Arc::new(Upcasters::current()),
            // Nothing kept: each command loads the stream, which is what is measured.
            RepositoryOptions {
                snapshot_every: 1,
                keep: 0,
                ..RepositoryOptions::default()
            },
        );
        let suffix = Uuid::now_v7().simple().to_string();
        let (hot, new) = (format!("HOT-{suffix}"), format!("NEW-{suffix}"));
        for sku in [&hot, &new] {
            repository
                .execute(sku, register(sku), &metadata())
                .await
                .expect("register");
        }
        let version = settle_orders(&store, &hot, 2).await;
        for sku in [&hot, &new] {
            let restock = Command::Restock {
                quantity: Quantity::new(1).expect("quantity"),
            };
            repository
                .execute(sku, restock, &metadata())
                .await
                .expect("restock with a snapshot");
        }
        println!("hot SKU: {} events behind it", version + 1);
        (cluster, (repository, hot, new))
    });
    let (repository, hot, new) = repository;

    let mut criterion = Criterion::default().configure_from_args();
    {
        let mut group = criterion.benchmark_group("stock_load");
        group.bench_function("new_sku", |b| {
            b.to_async(&runtime).iter(|| load(&repository, &new));
        });
        group.bench_function("sku_with_100k_orders", |b| {
            b.to_async(&runtime).iter(|| load(&repository, &hot));
        });
        group.finish();
    }
    criterion.final_summary();

    // Interleaved rounds, so that noise from the shared machine hits both alike.
    let mut per_load = [Duration::ZERO; 2];
    let mut loads = [0_u32; 2];
    runtime.block_on(async {
        for _ in 0..ROUNDS {
            for (i, sku) in [&new, &hot].into_iter().enumerate() {
                let started = Instant::now();
                while started.elapsed() < SLOT {
                    load(&repository, sku).await;
                    loads[i] += 1;
                }
                per_load[i] += started.elapsed();
            }
        }
    });
    let micros = |i: usize| per_load[i].as_secs_f64() * 1e6 / f64::from(loads[i]);
    println!(
        "\n| stock load | µs per load | / new SKU |\n|---|---:|---:|\n\
         | new SKU | {:.0} | 1.00 |\n| SKU with {ORDERS} orders behind it | {:.0} | {:.2} |",
        micros(0),
        micros(1),
        micros(1) / micros(0)
    );
}
