//! Event store costs: append throughput of our store against postgres-es 0.5 and a raw
//! single-statement `UNNEST` insert of the same rows, and reading the global order back.
//! Run: `cargo bench -p benches --bench event_store` (see `BENCHMARKS.md`).
//!
//! Contenders, all writing into one database through one pool opened as the server opens it:
//! - `ours`: [`PgEventStore::append`]: hashes computed in Rust, then one plain `UNNEST` insert
//!   guarded by the stream's head (version and hash), with the command record.
//! - `postgres_es`: `PostgresEventRepository::persist`: `BEGIN`, one `INSERT` per event, `COMMIT`.
//! - `raw_unnest`: one `INSERT ... SELECT * FROM UNNEST(...)` of the same rows: the floor.
//!
//! Every command starts a new stream: expected version 0 and, for ours, the empty head hash, known
//! without a read as a handler that loaded the stream knows it. `W` writers share the commands;
//! one iteration is one command, throughput is counted in events. After criterion's groups, a
//! summary measures everything again in interleaved rounds, so that noise from the shared machine
//! hits the contenders alike.
//!
//! The database is a throwaway embedded cluster (fsync off), or `DATABASE_URL` when set: a scratch
//! database, which the bench migrates, appends to, and where it replaces `raw_events` and
//! `pg_es_events`.

#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a bench whose fixed setup fails has nothing to measure; its summary is its output"
)]

#[path = "event_store/setup.rs"]
mod setup;
#[path = "event_store/stores.rs"]
mod stores;
#[path = "event_store/summary.rs"]
mod summary;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use application::aggregates::OrderAggregate;
use application::event_log::{CommandMetadata, NewEvent};
use cqrs_es::Aggregate as _;
use criterion::{Criterion, SamplingMode, Throughput};
use serde_json::json;
use tokio::runtime::Runtime;
use uuid::Uuid;

use setup::Setup;
use stores::Stores;
use summary::summary;

const STREAM_TYPE: &str = OrderAggregate::TYPE;
/// The first event of a command, then the others.
const EVENT_TYPES: [&str; 2] = ["OrderPlaced", "OrderLineAdded"];
const EVENTS_PER_COMMAND: [usize; 2] = [1, 10];
const WRITERS: [usize; 3] = [1, 8, 32];
const POOL_SIZE: u32 = 40;
/// Events read from the start of the global order per read iteration.
const READ_EVENTS: usize = 50_000;
const READ_BATCH: i64 = 1_000;
const SAMPLE_SIZE: usize = 10;
/// Rounds of the interleaved summary.
const ROUNDS: usize = 6;
/// How long each contender appends per round of the summary.
const SLOT: Duration = Duration::from_millis(300);

/// Who appends.
#[derive(Debug, Clone, Copy)]
enum Contender {
    Ours,
    PostgresEs,
    RawUnnest,
}

/// Who reads the global order: `read_all`, or the same keyset query with rows undecoded.
#[derive(Debug, Clone, Copy)]
enum Reader {
    Ours,
    RawKeyset,
}

const CONTENDERS: [(Contender, &str); 3] = [
    (Contender::Ours, "ours"),
    (Contender::PostgresEs, "postgres_es"),
    (Contender::RawUnnest, "raw_unnest"),
];
const READERS: [(Reader, &str); 2] = [(Reader::Ours, "ours"), (Reader::RawKeyset, "raw_keyset")];

/// One command's events, on a new stream, as every contender receives them.
struct Command {
    stream_id: String,
    events: Vec<NewEvent>,
    metadata: CommandMetadata,
}

/// A command of `events` order-line-like events (about 200 bytes of JSON each).
fn command(events: usize) -> Command {
    let stream_id = format!("bench-{}", Uuid::new_v4());
    let events = (0..events)
        .map(|i| NewEvent {
            event_id: Uuid::now_v7(),
            event_type: EVENT_TYPES[usize::from(i > 0)].to_owned(),
            event_version: 1,
            payload: json!({
                "orderId": stream_id,
                "line": i,
                "sku": format!("SKU-{i:04}"),
                "quantity": 2,
                "unitPrice": { "amount": "12.50", "currency": "BRL" },
                "customerId": "alice",
                "paymentToken": "tok_visa",
            }),
        })
        .collect();
    let metadata = CommandMetadata {
        command_id: Uuid::now_v7(),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
        actor: "bench".to_owned(),
        client_correlation_id: None,
    };
    Command {
        stream_id,
        events,
        metadata,
    }
}

/// How much a run of writers does.
#[derive(Debug, Clone, Copy)]
enum Work {
    /// This many commands between them (criterion's iterations).
    Commands(u64),
    /// Commands until this instant (a round of the summary).
    Until(Instant),
}

impl Work {
    /// Whether a writer may start one more command; `started` counts the commands started.
    fn claim(self, started: &AtomicU64) -> bool {
        match self {
            Self::Commands(n) => started.fetch_add(1, Ordering::Relaxed) < n,
            Self::Until(deadline) => Instant::now() < deadline,
        }
    }
}

/// `writers` concurrent writers append commands of `events` events until `work` is done.
/// Returns the number of events appended and the wall time.
async fn run_writers(
    stores: &Arc<Stores>,
    contender: Contender,
    writers: usize,
    events: usize,
    work: Work,
) -> (u64, Duration) {
    let started = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let (stores, started) = (Arc::clone(stores), Arc::clone(&started));
            tokio::spawn(async move {
                let mut done = 0_u64;
                while work.claim(&started) {
                    stores.append(contender, command(events)).await;
                    done += events as u64;
                }
                done
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await.expect("writer task");
    }
    (done, start.elapsed())
}

/// The number of events in our log.
async fn log_size(stores: &Stores) -> i64 {
    let count = sqlx::query_scalar("SELECT count(*) FROM events");
    count.fetch_one(&stores.pool).await.expect("count events")
}

/// Appends 10-event commands with our store until the log holds at least `READ_EVENTS` events.
async fn fill_log(stores: &Arc<Stores>) {
    let missing = READ_EVENTS.saturating_sub(usize::try_from(log_size(stores).await).unwrap_or(0));
    let work = Work::Commands(missing.div_ceil(10) as u64);
    run_writers(stores, Contender::Ours, 8, 10, work).await;
}

/// `read/global_order/{ours,raw_keyset}`.
fn bench_reads(c: &mut Criterion, runtime: &Runtime, stores: &Arc<Stores>) {
    let mut group = c.benchmark_group("read/global_order");
    group
        .sample_size(SAMPLE_SIZE)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(READ_EVENTS as u64));
    for (reader, name) in READERS {
        group.bench_function(name, |b| {
            b.to_async(runtime).iter_custom(|iters| async move {
                let start = Instant::now();
                for _ in 0..iters {
                    stores.read(reader).await;
                }
                start.elapsed()
            });
        });
    }
    group.finish();
}

/// `append/{contender}/{E}_events/{W}_writers`, the contenders of a configuration back to back.
fn bench_appends(c: &mut Criterion, runtime: &Runtime, stores: &Arc<Stores>) {
    let mut group = c.benchmark_group("append");
    group
        .sample_size(SAMPLE_SIZE)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for events in EVENTS_PER_COMMAND {
        group.throughput(Throughput::Elements(events as u64));
        for writers in WRITERS {
            for (contender, name) in CONTENDERS {
                let id = format!("{name}/{events}_events/{writers}_writers");
                group.bench_function(id, |b| {
                    b.to_async(runtime).iter_custom(|iters| async move {
                        let work = Work::Commands(iters);
                        let (_, elapsed) =
                            run_writers(stores, contender, writers, events, work).await;
                        elapsed
                    });
                });
            }
        }
    }
    group.finish();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let setup = runtime.block_on(Setup::start());
    let stores = &setup.stores;
    let mut criterion = Criterion::default().configure_from_args();
    // Reads first, so that on a fresh database the log holds just the events read.
    runtime.block_on(fill_log(stores));
    bench_reads(&mut criterion, &runtime, stores);
    bench_appends(&mut criterion, &runtime, stores);
    criterion.final_summary();
    // Criterion's test mode (`cargo test --benches`, `-- --test`) runs each benchmark once:
    // there is nothing to compare then.
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test") {
        println!("{}", runtime.block_on(summary(stores, &setup.server)));
    }
    runtime.block_on(setup.stop());
}
