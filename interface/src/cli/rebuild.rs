//! `domainflow projections rebuild NAME|--all`: rebuilds read models without downtime,
//! with a progress bar (rate and ETA) on stderr. Ctrl-C stops it and leaves the live
//! tables as they were.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use application::EventStore;
use infrastructure::PgEventStore;
use projections::{Projections, Rebuild, RebuildOptions};
use sqlx::PgPool;
use tokio::sync::watch;

use super::progress::Progress;

/// Rebuilds `name`, or every projection when `None`, one after the other; a summary line
/// per projection.
///
/// # Errors
/// `NOT_FOUND` for an unknown name, `CONFLICT` when a rebuild of it already runs, or why
/// the rebuild failed.
pub async fn rebuild(pool: &PgPool, name: Option<String>) -> Result<String, String> {
    let chosen = match name {
        Some(name) => vec![Projections::named(&name).ok_or_else(|| {
            let known: Vec<&str> = Projections::all().iter().map(|p| p.name()).collect();
            format!(
                "NOT_FOUND: no projection named {name:?} (known: {})",
                known.join(", ")
            )
        })?],
        None => Projections::all(),
    };
    let (stop, stopped) = watch::channel(false);
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop.send(true);
        }
    });
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let mut summary = Vec::new();
    let mut outcome = Ok(());
    for projection in chosen {
        let name = projection.name();
        let started = Instant::now();
        let run = async {
            let rebuild = Rebuild::start(
                pool,
                Arc::clone(&store),
                projection,
                RebuildOptions::default(),
            )
            .await
            .map_err(|error| match error {
                projections::Error::RebuildRunning(_) => format!("CONFLICT: {error}"),
                other => other.to_string(),
            })?;
            let _ = writeln!(std::io::stderr(), "rebuilding {name}");
            let mut bar: Option<Progress> = None;
            let rebuilt = rebuild
                .run(
                    |p| {
                        let bar = bar.get_or_insert_with(|| Progress::new("events", p.total));
                        bar.advance(p.applied.saturating_sub(bar.done()));
                    },
                    stopped.clone(),
                )
                .await
                .map_err(|e| e.to_string())?;
            if let Some(bar) = bar.as_mut() {
                bar.finish();
            }
            Ok::<_, String>(rebuilt)
        };
        match run.await {
            Ok(rebuilt) => {
                let seconds = started.elapsed().as_secs_f64();
                summary.push(format!(
                    "{name}: rebuilt from {} events in {seconds:.1} s ({:.0} events/s); live from position {}",
                    rebuilt.applied,
                    rebuilt.applied as f64 / seconds.max(f64::EPSILON),
                    rebuilt.position.token(),
                ));
            }
            Err(error) => {
                outcome = Err(format!("rebuilding {name}: {error}"));
                break;
            }
        }
    }
    interrupt.abort();
    outcome.map(|()| summary.join("\n"))
}
