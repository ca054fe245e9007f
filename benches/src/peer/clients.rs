//! Clients placing one whole order after another, each waiting for its order to be done
//! before the next, until the time (or a count of orders) is up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::contender::Contender;
use super::plan::{self, Catalogue};

/// When the clients stop.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// No order starts after this long.
    For(Duration),
    /// Each client places this many orders.
    Orders(u64),
}

/// What the clients did.
#[derive(Debug, Default)]
pub struct Run {
    /// Orders done, each from placing to confirming.
    pub orders: u64,
    /// From the first order's start to the last one's end.
    pub elapsed: Duration,
    /// How long each order took, sorted.
    pub latencies: Vec<Duration>,
    /// Units bought of each SKU, by SKU number.
    pub sold: Vec<u32>,
}

/// Runs `clients` clients against `contender` until `limit`.
///
/// # Errors
/// The first command that failed (the other clients stop after their current order).
pub async fn run<C: Contender>(
    contender: &Arc<C>,
    catalogue: Catalogue,
    clients: usize,
    limit: Limit,
) -> Result<Run, String> {
    let failed = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let contender = Arc::clone(contender);
            let failed = Arc::clone(&failed);
            tokio::spawn(async move {
                let outcome =
                    client_loop(&*contender, catalogue, client, limit, started, &failed).await;
                if outcome.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                outcome
            })
        })
        .collect();
    let mut run = Run {
        sold: vec![0; catalogue.len()],
        ..Run::default()
    };
    let mut first_error = None;
    for task in tasks {
        match task.await.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok((latencies, sold)) => {
                run.orders += latencies.len() as u64;
                run.latencies.extend(latencies);
                for (total, units) in run.sold.iter_mut().zip(sold) {
                    *total += units;
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    run.elapsed = started.elapsed();
    if let Some(e) = first_error {
        return Err(e);
    }
    run.latencies.sort_unstable();
    Ok(run)
}

/// One client's orders: their latencies and the units it bought of each SKU.
async fn client_loop<C: Contender>(
    contender: &C,
    catalogue: Catalogue,
    client: usize,
    limit: Limit,
    started: Instant,
    failed: &AtomicBool,
) -> Result<(Vec<Duration>, Vec<u32>), String> {
    let customer = format!("customer-{client}");
    let mut latencies = Vec::new();
    let mut sold = vec![0; catalogue.len()];
    for n in 0.. {
        let more = match limit {
            Limit::For(duration) => started.elapsed() < duration,
            Limit::Orders(count) => n < count,
        };
        if !more || failed.load(Ordering::Relaxed) {
            break;
        }
        let index = catalogue.pick(client, n);
        let steps = plan::order(&catalogue.sku(index), &customer)?;
        let began = Instant::now();
        for step in steps {
            contender.execute(step).await?;
        }
        latencies.push(began.elapsed());
        sold[index] += plan::UNITS;
    }
    Ok((latencies, sold))
}
