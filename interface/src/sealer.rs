//! The sealer: every so often, a signed seal of the events since the last one
//! ([`infrastructure::seal`]). It runs beside the followers of the log; two sealers at once
//! are harmless (a seal's number is taken once: the slower one's seal is dropped).

use std::sync::Arc;
use std::time::Duration;

use application::instruments::SEALS;
use infrastructure::seal::{PgSeals, SealKey};
use tokio::sync::watch;

/// What the sealer needs.
#[derive(Debug, Clone)]
pub struct Sealing {
    /// The private half of the seal key.
    pub key: Arc<SealKey>,
    /// How often it seals.
    pub every: Duration,
}

/// Seals every `sealing.every` until `shutdown` turns true; a failure is logged and the
/// next round tries again.
pub async fn run(seals: PgSeals, sealing: Sealing, mut shutdown: watch::Receiver<bool>) {
    let mut newest_known = 0;
    let mut ticks = tokio::time::interval(sealing.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        let outcome = seals.seal(&sealing.key, newest_known).await;
        let counted = match &outcome {
            Ok(Some(_)) => "sealed",
            Ok(None) => "nothing_new",
            Err(infrastructure::Error::SealRefused(_)) => "refused",
            Err(_) => "failed",
        };
        metrics::counter!(SEALS, "outcome" => counted).increment(1);
        match outcome {
            Ok(Some(seal)) => {
                newest_known = seal.sequence;
                tracing::info!(
                    sequence = seal.sequence,
                    events = seal.event_count,
                    head = %seal.head.token(),
                    "log sealed"
                );
            }
            Ok(None) => tracing::debug!("nothing new to seal"),
            // The seals or the events under them were changed: loud, every round, until an
            // operator looks.
            Err(error @ infrastructure::Error::SealRefused(_)) => {
                tracing::error!(%error, "the log is not sealed");
            }
            Err(error) => tracing::warn!(%error, "sealing the log failed; trying again later"),
        }
    }
}
