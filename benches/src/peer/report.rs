//! The figures of every cell: a markdown table and one JSON line, and the check that both
//! contenders wrote the same events per order.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::measure::Measured;

/// The goal: ours completes at least this many times the peer's orders per second.
pub const GOAL: f64 = 2.0;

/// Every run of both contenders at one number of clients.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    /// Concurrent clients.
    pub clients: usize,
    /// Our runs, in the order they ran.
    pub ours: Vec<Measured>,
    /// The peer's runs, in the order they ran.
    pub peer: Vec<Measured>,
}

impl Cell {
    /// A cell with no runs yet.
    #[must_use]
    pub fn new(clients: usize) -> Self {
        Self {
            clients,
            ..Self::default()
        }
    }

    /// Our best run and the peer's (most orders per second), when both ran.
    #[must_use]
    pub fn best(&self) -> Option<(&Measured, &Measured)> {
        Some((best(&self.ours)?, best(&self.peer)?))
    }

    /// Our best orders per second over the peer's.
    #[must_use]
    pub fn ratio(&self) -> Option<f64> {
        self.best()
            .map(|(ours, peer)| ours.per_second() / peer.per_second().max(f64::EPSILON))
    }
}

fn best(runs: &[Measured]) -> Option<&Measured> {
    runs.iter()
        .max_by(|a, b| a.per_second().total_cmp(&b.per_second()))
}

/// Checks that every run of every cell wrote the same number of events per order.
///
/// # Errors
/// The runs that differ.
pub fn check_events_per_order(cells: &[Cell]) -> Result<i64, String> {
    let mut runs = cells.iter().flat_map(|c| c.ours.iter().chain(&c.peer));
    let Some(first) = runs.next() else {
        return Err("no runs".into());
    };
    let differing: Vec<String> = runs
        .filter(|run| run.events_per_order != first.events_per_order)
        .map(|run| {
            format!(
                "{} at {} clients wrote {} events per order",
                run.contender, run.clients, run.events_per_order
            )
        })
        .collect();
    if differing.is_empty() {
        Ok(first.events_per_order)
    } else {
        Err(format!(
            "{} at {} clients wrote {} events per order, but {}",
            first.contender,
            first.clients,
            first.events_per_order,
            differing.join("; ")
        ))
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn rates(runs: &[Measured]) -> String {
    runs.iter()
        .map(|run| format!("{:.0}", run.per_second()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A markdown table of the cells: the best run of each contender, and every run's rate.
#[must_use]
pub fn table(cells: &[Cell]) -> String {
    let mut out = String::from(
        "| clients | ours orders/s | peer orders/s | ours/peer | goal ≥ 2x | ours p50 / p99 ms \
         | peer p50 / p99 ms | events/order ours / peer | events in log ours / peer \
         | peer retries | every run, orders/s (ours; peer) |\n\
         |---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|---|\n",
    );
    for cell in cells {
        let (Some((ours, peer)), Some(ratio)) = (cell.best(), cell.ratio()) else {
            continue;
        };
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0} | {ratio:.2} | {} | {:.1} / {:.1} | {:.1} / {:.1} | {} / {} \
             | {} / {} | {} | {}; {} |",
            cell.clients,
            ours.per_second(),
            peer.per_second(),
            if ratio >= GOAL { "met" } else { "not met" },
            ms(ours.p50),
            ms(ours.p99),
            ms(peer.p50),
            ms(peer.p99),
            ours.events_per_order,
            peer.events_per_order,
            ours.events,
            peer.events,
            peer.retries,
            rates(&cell.ours),
            rates(&cell.peer),
        );
    }
    out
}

fn run_json(run: &Measured) -> Value {
    json!({
        "orders": run.orders,
        "seconds": run.elapsed.as_secs_f64(),
        "ordersPerSecond": run.per_second(),
        "p50Ms": ms(run.p50),
        "p99Ms": ms(run.p99),
        "events": run.events,
        "eventsPerOrder": run.events_per_order,
        "retries": run.retries,
    })
}

/// The cells as one JSON value: per cell the ratio of the best runs and every run.
#[must_use]
pub fn json(cells: &[Cell]) -> Value {
    let cells: Vec<Value> = cells
        .iter()
        .map(|cell| {
            json!({
                "clients": cell.clients,
                "ratio": cell.ratio(),
                "goalMet": cell.ratio().map(|r| r >= GOAL),
                "ours": cell.ours.iter().map(run_json).collect::<Vec<_>>(),
                "peer": cell.peer.iter().map(run_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "peer": cells })
}
