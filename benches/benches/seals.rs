//! Verifying a log of 100 000 events: the seals (every event's hash streamed in the global
//! order, the digest recomputed), the per-stream chains (every hash recomputed from the
//! content), and an export verified offline (every line parsed, every hash recomputed),
//! against the floor: the same rows streamed and counted, nothing computed.
//! Run: `cargo bench -p benches --bench seals` (see `BENCHMARKS.md`).
//!
//! The database is a throwaway embedded cluster (fsync off), or `DATABASE_URL` when set: a
//! scratch database, which the bench migrates and appends 100 000 events to.

#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a bench whose fixed setup fails has nothing to measure"
)]

use std::io::Write as _;
use std::time::Duration;

use application::event_log::{Position, ReadFilter};
use criterion::{Criterion, SamplingMode, Throughput};
use futures::TryStreamExt as _;
use infrastructure::seal::{PgSeals, SealKey, verify_export};
use infrastructure::{DatabaseOptions, EmbeddedPostgres, PgEventStore};
use sqlx::PgPool;
use tokio::runtime::Runtime;

/// Events in the log.
const EVENTS: u64 = 100_000;
/// Events per stream (and per append).
const PER_STREAM: u32 = 10;

struct Log {
    _cluster: Option<EmbeddedPostgres>,
    pool: PgPool,
    seals: PgSeals,
    store: PgEventStore,
    key: SealKey,
    export: std::path::PathBuf,
}

async fn log() -> Log {
    let (cluster, url) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => (None, url),
        _ => {
            let cluster = (EmbeddedPostgres::start_temporary().await)
                .expect("embedded PostgreSQL (install the server binaries)");
            let url = (cluster.create_database("bench_seals").await).expect("bench database");
            (Some(cluster), url)
        }
    };
    infrastructure::migrate(&url).await.expect("migrations");
    let pool = infrastructure::connect(&url, &DatabaseOptions::default())
        .await
        .expect("pool");
    let store = PgEventStore::new(pool.clone());
    let streams = EVENTS / u64::from(PER_STREAM);
    for i in 0..streams {
        store
            .append(&tests::restocks(&format!("SKU-{i}"), 0, PER_STREAM))
            .await
            .expect("append");
    }
    let dir = std::env::temp_dir().join(format!("bench-seals-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let key = SealKey::generate(&dir.join("seal.key")).expect("a key");
    let seals = PgSeals::new(pool.clone());
    seals.seal(&key, 0).await.expect("sealing").expect("a seal");
    // The whole log exported as `domainflow events export` writes it.
    let export = dir.join("events.ndjson");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&export).expect("export file"));
    let all_seals: Vec<_> = seals.stream().try_collect().await.expect("seals");
    let mut after = Position::START;
    loop {
        let batch = store
            .read_all(after, 1000, &ReadFilter::default())
            .await
            .expect("read");
        let Some(last) = batch.last() else { break };
        after = last.position;
        let mut chunk = Vec::new();
        for event in &batch {
            interface::history::write_line(event, &mut chunk);
            for seal in all_seals.iter().filter(|seal| seal.head == event.position) {
                interface::history::write_seal_line(seal, &mut chunk);
            }
        }
        out.write_all(&chunk).expect("writing the export");
    }
    out.flush().expect("writing the export");
    Log {
        _cluster: cluster,
        pool,
        seals,
        store,
        key,
        export,
    }
}

/// The floor: the rows the seal check reads, streamed and counted.
async fn raw_scan(pool: &PgPool) -> u64 {
    let mut rows = sqlx::query(
        "SELECT transaction_id::text::bigint AS transaction_id, position, hash
         FROM events ORDER BY transaction_id, position",
    )
    .fetch(pool);
    let mut count = 0;
    while rows.try_next().await.expect("a row").is_some() {
        count += 1;
    }
    count
}

fn bench(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a runtime");
    let log = runtime.block_on(log());
    let public = log.key.public();
    let mut group = c.benchmark_group("verify_100k");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(EVENTS));
    group.bench_function("raw_scan", |b| {
        b.iter(|| assert_eq!(runtime.block_on(raw_scan(&log.pool)), EVENTS));
    });
    group.bench_function("seals", |b| {
        b.iter(|| {
            let report = runtime
                .block_on(log.seals.verify(Some(&public), None))
                .expect("verify");
            assert!(report.to_string().starts_with("1 seals hold"), "{report}");
        });
    });
    group.bench_function("chains", |b| {
        b.iter(|| runtime.block_on(log.store.verify(None)).expect("verify"));
    });
    group.bench_function("export_offline", |b| {
        b.iter(|| {
            let file = std::fs::File::open(&log.export).expect("the export");
            let report = verify_export(std::io::BufReader::new(file), Some(&public), None)
                .expect("verify the export");
            assert!(report.to_string().contains("1 seals hold"), "{report}");
        });
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
