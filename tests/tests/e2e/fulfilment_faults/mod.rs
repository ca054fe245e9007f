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

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod case;
mod checks;
mod runner;

use std::collections::BTreeMap;
use std::sync::Arc;

use application::saga::Fulfil;
use futures::StreamExt;
use infrastructure::EmbeddedPostgres;
use sqlx::PgPool;
use tokio::sync::RwLock;
use uuid::Uuid;

use case::run_case;

use tests::books::SIMULATED_TOKENS as TOKENS;
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

/// One order as the case placed it.
struct Placed {
    id: Uuid,
    lines: Vec<(&'static str, u32)>,
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

async fn redrive_all(pool: &PgPool, fulfil: &Fulfil) {
    if let Ok(letters) = projections::saga::dead_letters(pool, None, 100).await {
        for letter in letters {
            injected("dead letter redriven");
            let _ = projections::saga::redrive(pool, fulfil, letter.id).await;
        }
    }
}
