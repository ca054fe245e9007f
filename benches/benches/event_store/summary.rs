//! The summary after criterion's groups: every configuration measured again in interleaved
//! rounds, as Markdown tables.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::stores::Stores;
use super::{
    CONTENDERS, EVENTS_PER_COMMAND, READ_BATCH, READ_EVENTS, READERS, ROUNDS, SLOT, WRITERS, Work,
    log_size, run_writers,
};

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
pub(super) async fn summary(stores: &Arc<Stores>, server: &str) -> String {
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
