//! Loads a database with a mixed log through the application's use cases (no SQL, no
//! HTTP): `cargo run --release -p benches --bin load -- --database-url URL --events 100000`.
//! Rounds of the end-to-end tests' workload run on eight writers until the log holds at
//! least that many events. The database is migrated first.

#![allow(
    clippy::print_stdout,
    reason = "the loader reports what it did on stdout"
)]

use std::sync::Arc;
use std::time::Instant;

use application::{Commands, EventStore, RepositoryOptions};
use infrastructure::{DatabaseOptions, PgEventStore};
use tests::workload::{register_catalogue, rounds};

const WRITERS: usize = 8;
/// Rounds per step between counts of the log.
const STEP: usize = 400;

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut url = std::env::var("DATABASE_URL").ok();
    let mut events: i64 = 100_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--database-url" => url = args.next(),
            "--events" => {
                events = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--events takes a number")?;
            }
            other => return Err(format!("unknown argument {other:?}; see the file's header")),
        }
    }
    let url = url.ok_or("give --database-url URL (or set DATABASE_URL)")?;
    infrastructure::migrate(&url)
        .await
        .map_err(|e| e.to_string())?;
    let pool = infrastructure::connect(
        &url,
        &DatabaseOptions {
            max_connections: 12,
            ..DatabaseOptions::default()
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let commands = Arc::new(Commands::new(
        store,
        &RepositoryOptions::default(),
        infrastructure::SimulatedProvider::simulation(),
    ));
    let count = async || -> Result<i64, String> {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await
            .map_err(|e| e.to_string())
    };
    let started = Instant::now();
    let before = count().await?;
    // Rounds are numbered after what earlier loads may have made, so ids never repeat.
    let mut next = usize::try_from(before).unwrap_or(0);
    if before == 0 {
        register_catalogue(&commands)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut now = count().await?;
    while now < events {
        rounds(&commands, next, next + STEP, WRITERS)
            .await
            .map_err(|e| e.to_string())?;
        next += STEP;
        now = count().await?;
        println!("{now} events");
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "loaded {} events in {seconds:.1} s ({:.0} events/s); the log holds {now}",
        now - before,
        (now - before) as f64 / seconds
    );
    pool.close().await;
    Ok(())
}
