//! What a run measured and found, as JSON and as a markdown table.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

/// The most lag one projection (or the saga, `fulfilment`) showed during a run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Lag {
    pub events: i64,
    pub seconds: f64,
}

/// A run's figures.
#[derive(Debug)]
pub struct Report {
    pub json: Value,
    /// Broken promises: answers no correct server gives and books that do not add up.
    pub violations: Vec<String>,
}

/// The figures of one run, before they are put together.
#[derive(Debug)]
pub struct Figures<'a> {
    pub scenario: &'static str,
    pub clients: usize,
    pub skus: usize,
    /// How long the clients ran.
    pub ran: Duration,
    pub accepted: usize,
    /// From the first order placed to the last one final.
    pub fulfilled_in: Duration,
    pub place_latencies: &'a mut Vec<Duration>,
    pub read_latencies: &'a mut Vec<Duration>,
    pub answers: &'a BTreeMap<&'static str, BTreeMap<u16, u64>>,
    /// Orders by final status and reason, e.g. `CANCELLED OUT_OF_STOCK`.
    pub outcomes: BTreeMap<String, u64>,
    pub lag: &'a BTreeMap<String, Lag>,
}

impl Report {
    /// Puts the figures together.
    #[must_use]
    pub fn new(figures: Figures<'_>, violations: Vec<String>) -> Self {
        figures.place_latencies.sort();
        figures.read_latencies.sort();
        let reads = figures.read_latencies.len();
        let lag: BTreeMap<&String, Value> = figures
            .lag
            .iter()
            .map(|(name, lag)| {
                (
                    name,
                    json!({ "events": lag.events, "seconds": lag.seconds }),
                )
            })
            .collect();
        let json = json!({
            "scenario": figures.scenario,
            "clients": figures.clients,
            "skus": figures.skus,
            "seconds": figures.ran.as_secs_f64(),
            "accepted": figures.accepted,
            "acceptedPerSecond": per_second(figures.accepted, figures.ran),
            "fulfilledPerSecond": per_second(figures.accepted, figures.fulfilled_in),
            "placeMs": percentiles(figures.place_latencies),
            "reads": reads,
            "readsPerSecond": per_second(reads, figures.ran),
            "readMs": percentiles(figures.read_latencies),
            "answers": figures.answers,
            "outcomes": figures.outcomes,
            "maxLag": lag,
            "violations": violations,
        });
        Self { json, violations }
    }

    /// A markdown table of the headline figures.
    #[must_use]
    pub fn markdown(&self) -> String {
        let j = &self.json;
        let number = |v: &Value| v.as_f64().unwrap_or_default();
        let ms = |key: &str, p: &str| number(&j[key][p]);
        let lag = j["maxLag"]
            .as_object()
            .map(|lags| {
                lags.values()
                    .map(|l| number(&l["seconds"]))
                    .fold(0.0, f64::max)
            })
            .unwrap_or_default();
        format!(
            "| scenario | clients | SKUs | accepted/s | fulfilled/s | place p50/p95/p99 ms | reads/s | read p50/p95/p99 ms | max lag s | violations |\n\
             |---|---:|---:|---:|---:|---|---:|---|---:|---:|\n\
             | {} | {} | {} | {:.0} | {:.0} | {:.1} / {:.1} / {:.1} | {:.0} | {:.1} / {:.1} / {:.1} | {:.2} | {} |",
            j["scenario"].as_str().unwrap_or_default(),
            j["clients"],
            j["skus"],
            number(&j["acceptedPerSecond"]),
            number(&j["fulfilledPerSecond"]),
            ms("placeMs", "p50"),
            ms("placeMs", "p95"),
            ms("placeMs", "p99"),
            number(&j["readsPerSecond"]),
            ms("readMs", "p50"),
            ms("readMs", "p95"),
            ms("readMs", "p99"),
            lag,
            self.violations.len(),
        )
    }
}

fn per_second(count: usize, over: Duration) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "a rate for a report")]
    let count = count as f64;
    count / over.as_secs_f64().max(f64::EPSILON)
}

fn percentiles(sorted: &[Duration]) -> Value {
    let at = |percent: usize| {
        sorted.len().checked_sub(1).map_or(0.0, |last| {
            sorted[last * percent / 100].as_secs_f64() * 1000.0
        })
    };
    json!({ "p50": at(50), "p95": at(95), "p99": at(99) })
}
