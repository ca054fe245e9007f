//! One contender's run in a cell: a fresh database, the catalogue registered, the clients
//! timed, then the log and the stock checked.

use std::sync::Arc;
use std::time::Duration;

use super::clients::{self, Limit};
use super::contender::Contender;
use super::database::Scratch;
use super::plan::{Catalogue, OPENING};

/// What one contender's run measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The contender's name.
    pub contender: &'static str,
    /// Concurrent clients.
    pub clients: usize,
    /// Orders done.
    pub orders: u64,
    /// How long the clients ran.
    pub elapsed: Duration,
    /// Median time of a whole order.
    pub p50: Duration,
    /// 99th percentile time of a whole order.
    pub p99: Duration,
    /// Events in the log after the run, the catalogue's included.
    pub events: i64,
    /// Events the orders wrote, per order.
    pub events_per_order: i64,
    /// Conflicts resolved by sending a command again.
    pub retries: u64,
    /// Units sold of each SKU, by SKU number.
    pub sold: Vec<u32>,
    /// Units on hand of each SKU after the run, read from its stream.
    pub on_hand: Vec<u32>,
}

impl Measured {
    /// Orders done per second.
    #[must_use]
    pub fn per_second(&self) -> f64 {
        self.orders as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// What a run is.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The cluster (any database on it).
    pub url: String,
    /// Connections of each contender's pool.
    pub pool: u32,
    /// The SKUs orders are spread over.
    pub catalogue: Catalogue,
}

/// Runs contender `C` with `clients` clients until `limit`, on a database of its own that
/// is dropped after.
///
/// # Errors
/// A failed command, a log whose events are not a whole number per order, stock on hand
/// that is not the opening stock less what was sold, or a database failure.
pub async fn measure<C: Contender>(
    settings: &Settings,
    clients: usize,
    limit: Limit,
) -> Result<Measured, String> {
    let scratch = Scratch::create(&settings.url, C::NAME).await?;
    let contender = C::open(&scratch.url, settings.pool).await;
    let outcome = match contender {
        Ok(contender) => {
            let contender = Arc::new(contender);
            let outcome = timed(&contender, settings.catalogue, clients, limit).await;
            contender.close().await;
            outcome
        }
        Err(e) => Err(e),
    };
    let dropped = scratch.drop_database().await;
    let measured = outcome.map_err(|e| format!("{} at {clients} clients: {e}", C::NAME))?;
    dropped?;
    Ok(measured)
}

async fn timed<C: Contender>(
    contender: &Arc<C>,
    catalogue: Catalogue,
    clients: usize,
    limit: Limit,
) -> Result<Measured, String> {
    for step in catalogue.registrations()? {
        contender.execute(step).await?;
    }
    let before = contender.events().await?;
    let run = clients::run(contender, catalogue, clients, limit).await?;
    let events = contender.events().await?;
    let written = events - before;
    let orders = i64::try_from(run.orders).map_err(|e| e.to_string())?;
    if orders == 0 || written % orders != 0 {
        return Err(format!(
            "{written} events for {orders} orders: not a whole number per order"
        ));
    }
    let mut stock = Vec::with_capacity(run.sold.len());
    for (index, sold) in run.sold.iter().enumerate() {
        let sku = catalogue.sku(index);
        let on_hand = contender.on_hand(&sku).await?;
        stock.push(on_hand);
        if on_hand != OPENING - sold {
            return Err(format!(
                "{sku}: {on_hand} on hand, but {OPENING} less {sold} sold is {}",
                OPENING - sold
            ));
        }
    }
    let at = |percent: usize| {
        run.latencies
            .len()
            .checked_sub(1)
            .map_or(Duration::ZERO, |last| run.latencies[last * percent / 100])
    };
    Ok(Measured {
        contender: C::NAME,
        clients,
        orders: run.orders,
        elapsed: run.elapsed,
        p50: at(50),
        p99: at(99),
        events,
        events_per_order: written / orders,
        retries: contender.retries(),
        sold: run.sold,
        on_hand: stock,
    })
}
