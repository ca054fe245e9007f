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

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use application::aggregates::OrderAggregate;
use application::event_log::{Append, CommandMetadata, NewEvent, Position, StreamRef};
use cqrs_es::Aggregate as _;
use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use criterion::{Criterion, SamplingMode, Throughput};
use infrastructure::{DatabaseOptions, EmbeddedPostgres, PgEventStore, ReadFilter};
use postgres_es::PostgresEventRepository;
use serde_json::json;
use sqlx::{PgPool, Row};
use tokio::runtime::Runtime;
use uuid::Uuid;

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

/// The raw table is ours minus the hash columns (same primary key, same secondary indexes);
/// postgres-es's is its `db/init.sql` events table, renamed (`persist` without a snapshot never
/// touches its snapshots table).
const SETUP_SQL: &str = r"
DROP TABLE IF EXISTS raw_events, pg_es_events;
CREATE TABLE raw_events (LIKE events INCLUDING ALL);
ALTER TABLE raw_events DROP COLUMN prev_hash, DROP COLUMN hash;
CREATE TABLE pg_es_events (
    aggregate_type text NOT NULL, aggregate_id text NOT NULL,
    sequence bigint CHECK (sequence >= 0) NOT NULL, event_type text NOT NULL,
    event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);";

const RAW_INSERT: &str = "
INSERT INTO raw_events (stream_type, stream_id, version, event_id, event_type, event_version,
                        payload, metadata)
SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::uuid[], $5::text[],
                     $6::integer[], $7::jsonb[], $8::jsonb[])";

/// `read_all`'s query, rows left undecoded but for the keyset columns.
const RAW_READ: &str = "
SELECT position, transaction_id::text::bigint AS transaction_id, stream_type, stream_id,
       version, event_id, event_type, event_version, payload, metadata, recorded_at,
       prev_hash, hash
FROM events
WHERE (transaction_id, position) > ($1::text::xid8, $2)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY events.transaction_id, events.position
LIMIT $3";

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
    };
    Command {
        stream_id,
        events,
        metadata,
    }
}

/// Everything the contenders write and read through.
struct Stores {
    pool: PgPool,
    ours: PgEventStore,
    postgres_es: PostgresEventRepository,
}

impl Stores {
    async fn append(&self, contender: Contender, command: Command) {
        match contender {
            Contender::Ours => self.append_ours(command).await,
            Contender::PostgresEs => self.append_postgres_es(command).await,
            Contender::RawUnnest => self.append_raw(command).await,
        }
    }

    async fn append_ours(&self, command: Command) {
        let append = Append {
            stream: StreamRef::new(STREAM_TYPE, command.stream_id),
            expected_version: 0,
            head_hash: Some(Vec::new()),
            events: command.events,
            metadata: command.metadata,
            snapshot: None,
        };
        self.ours.append(&append).await.expect("our append");
    }

    async fn append_postgres_es(&self, command: Command) {
        let metadata = serde_json::to_value(&command.metadata).expect("metadata");
        let events: Vec<SerializedEvent> = (command.events.into_iter().zip(1..))
            .map(|(event, sequence)| SerializedEvent {
                aggregate_id: command.stream_id.clone(),
                sequence,
                aggregate_type: STREAM_TYPE.to_owned(),
                event_type: event.event_type,
                event_version: event.event_version.to_string(),
                payload: event.payload,
                metadata: metadata.clone(),
            })
            .collect();
        self.postgres_es
            .persist::<OrderAggregate>(&events, None)
            .await
            .expect("postgres-es persist");
    }

    async fn append_raw(&self, command: Command) {
        let metadata = serde_json::to_value(&command.metadata).expect("metadata");
        let events = &command.events;
        let n = events.len();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        sqlx::query(RAW_INSERT)
            .bind(vec![STREAM_TYPE; n])
            .bind(vec![command.stream_id.as_str(); n])
            .bind((1..=i64::try_from(n).expect("count")).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.event_id).collect::<Vec<_>>())
            .bind(&types)
            .bind(events.iter().map(|e| e.event_version).collect::<Vec<_>>())
            .bind(events.iter().map(|e| &e.payload).collect::<Vec<_>>())
            .bind(vec![&metadata; n])
            .execute(&self.pool)
            .await
            .expect("raw insert");
    }

    /// Reads the first `READ_EVENTS` events of the global order, in batches of `READ_BATCH`.
    async fn read(&self, reader: Reader) {
        let (mut after, mut read) = (Position::START, 0);
        while read < READ_EVENTS {
            let last = match reader {
                Reader::Ours => self.read_all_batch(after).await,
                Reader::RawKeyset => self.raw_batch(after).await,
            };
            let Some((position, count)) = last else { break };
            after = position;
            read += count;
        }
        assert!(read >= READ_EVENTS, "only {read} events to read");
    }

    /// One batch through `read_all`: the last position and the count, `None` past the end.
    async fn read_all_batch(&self, after: Position) -> Option<(Position, usize)> {
        let filter = ReadFilter::default();
        let batch = self.ours.read_all(after, READ_BATCH, &filter).await;
        let batch = batch.expect("read_all");
        let last = batch.last().map(|e| (e.position, batch.len()));
        black_box(batch);
        last
    }

    /// One batch through the bare keyset query, likewise.
    async fn raw_batch(&self, after: Position) -> Option<(Position, usize)> {
        let batch = sqlx::query(RAW_READ)
            .bind(after.transaction_id.to_string())
            .bind(after.position)
            .bind(READ_BATCH)
            .fetch_all(&self.pool)
            .await
            .expect("raw read");
        let last = batch.last().map(|row| {
            let transaction_id: i64 = row.try_get("transaction_id").expect("transaction_id");
            Position {
                transaction_id: u64::try_from(transaction_id).expect("an xid8"),
                position: row.try_get("position").expect("position"),
            }
        });
        let count = batch.len();
        black_box(batch);
        last.map(|position| (position, count))
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

/// One contender's events/s in an interleaved measurement, overall and per round.
struct Measured {
    overall: f64,
    rounds: Vec<f64>,
}

/// Runs contenders `0..contenders` for `ROUNDS` rounds, in an order rotated from round to
/// round, so that a burst of noise hits them alike. `run(i)` returns (events, wall time).
async fn interleave(
    contenders: usize,
    mut run: impl AsyncFnMut(usize) -> (u64, Duration),
) -> Vec<Measured> {
    let mut totals = vec![(0_u64, Duration::ZERO); contenders];
    let mut rounds = vec![Vec::with_capacity(ROUNDS); contenders];
    for round in 0..ROUNDS {
        for k in 0..contenders {
            let i = (k + round) % contenders;
            let (events, elapsed) = run(i).await;
            totals[i] = (totals[i].0 + events, totals[i].1 + elapsed);
            rounds[i].push(events as f64 / elapsed.as_secs_f64());
        }
    }
    let overall = |(events, elapsed): (u64, Duration)| events as f64 / elapsed.as_secs_f64();
    (totals.into_iter().zip(rounds))
        .map(|(total, rounds)| Measured {
            overall: overall(total),
            rounds,
        })
        .collect()
}

/// `a / b` overall, then the lowest and highest ratio of single rounds.
fn ratio(a: &Measured, b: &Measured) -> String {
    let per_round = a.rounds.iter().zip(&b.rounds).map(|(a, b)| a / b);
    let low = per_round.clone().fold(f64::INFINITY, f64::min);
    let high = per_round.fold(0.0, f64::max);
    format!("{:.2} ({low:.2}–{high:.2})", a.overall / b.overall)
}

/// Every configuration measured again in interleaved rounds, as Markdown tables.
async fn summary(stores: &Arc<Stores>, server: &str) -> String {
    let mut out = format!(
        "\n## Summary: interleaved rounds, events/s\n\nPostgreSQL {server}\n\n\
         ### Append ({ROUNDS} rounds of {} ms per contender; ratio overall, then lowest–highest \
         round)\n\n| events/command | writers | ours | postgres-es | raw UNNEST | \
         ours / postgres-es | ours / raw |\n|---:|---:|---:|---:|---:|---|---|\n",
        SLOT.as_millis()
    );
    for events in EVENTS_PER_COMMAND {
        for writers in WRITERS {
            let m = interleave(CONTENDERS.len(), async |i| {
                let work = Work::Until(Instant::now() + SLOT);
                run_writers(stores, CONTENDERS[i].0, writers, events, work).await
            })
            .await;
            let (ours, pg_es, raw) = (&m[0], &m[1], &m[2]);
            let _ = writeln!(
                out,
                "| {events} | {writers} | {:.0} | {:.0} | {:.0} | {} | {} |",
                ours.overall,
                pg_es.overall,
                raw.overall,
                ratio(ours, pg_es),
                ratio(ours, raw)
            );
        }
    }
    let log_size = log_size(stores).await;
    let m = interleave(READERS.len(), async |i| {
        let start = Instant::now();
        stores.read(READERS[i].0).await;
        (READ_EVENTS as u64, start.elapsed())
    })
    .await;
    let _ = write!(
        out,
        "\n### Reading the global order ({READ_EVENTS} events from the start in batches of \
         {READ_BATCH}, log of {log_size} events, {ROUNDS} rounds)\n\n\
         | reader | events/s | / raw keyset |\n|---|---:|---|\n\
         | ours (read_all) | {:.0} | {} |\n| raw keyset (undecoded) | {:.0} | 1.00 |\n",
        m[0].overall,
        ratio(&m[0], &m[1]),
        m[1].overall
    );
    out
}

/// The database, the stores, and the cluster when we started one.
struct Setup {
    cluster: Option<EmbeddedPostgres>,
    stores: Arc<Stores>,
    /// The server's version and durability settings, for the summary.
    server: String,
}

impl Setup {
    async fn start() -> Self {
        let (cluster, url) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => (None, url),
            _ => {
                let cluster = (EmbeddedPostgres::start_temporary().await)
                    .expect("embedded PostgreSQL (install the server binaries)");
                let url =
                    (cluster.create_database("bench_event_store").await).expect("bench database");
                (Some(cluster), url)
            }
        };
        infrastructure::migrate(&url).await.expect("migrations");
        let owner = DatabaseOptions {
            max_connections: 1,
            assume_app_role: false,
            ..DatabaseOptions::default()
        };
        let owner = (infrastructure::connect(&url, &owner).await).expect("owner connection");
        sqlx::raw_sql(SETUP_SQL)
            .execute(&owner)
            .await
            .expect("bench tables");
        let server: String = sqlx::query_scalar(
            "SELECT concat_ws(', ', current_setting('server_version'),
                              'fsync=' || current_setting('fsync'),
                              'synchronous_commit=' || current_setting('synchronous_commit'),
                              'shared_buffers=' || current_setting('shared_buffers'))",
        )
        .fetch_one(&owner)
        .await
        .expect("server settings");
        owner.close().await;

        // One pool, opened as the server opens it; every connection opened now.
        let options = DatabaseOptions {
            max_connections: POOL_SIZE,
            ..DatabaseOptions::default()
        };
        let pool = infrastructure::connect(&url, &options).await.expect("pool");
        let mut held = Vec::new();
        for _ in 0..POOL_SIZE {
            held.push(pool.acquire().await.expect("connection"));
        }
        drop(held);
        let stores = Stores {
            ours: PgEventStore::new(pool.clone()),
            postgres_es: PostgresEventRepository::new(pool.clone())
                .with_tables("pg_es_events", "pg_es_snapshots"),
            pool,
        };
        Self {
            cluster,
            stores: Arc::new(stores),
            server,
        }
    }

    async fn stop(self) {
        self.stores.pool.close().await;
        if let Some(cluster) = self.cluster {
            cluster.stop().await.expect("stopping the embedded cluster");
        }
    }
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
