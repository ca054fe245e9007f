//! `domainflow projections rebuild NAME|--all`: rebuilds read models without downtime,
//! with a progress bar (rate and ETA) on stderr. Ctrl-C stops it and leaves the live
//! tables as they were.

use std::io::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use application::operations::Operations;
use tokio::sync::watch;

use super::progress::Progress;

/// Rebuilds `name`, or every projection, one after the other; a summary line each.
///
/// # Errors
/// An unknown name, a rebuild already running, or a failed or interrupted rebuild.
pub async fn rebuild(
    operations: &Operations,
    name: Option<&str>,
) -> Result<String, application::Error> {
    let (stop, stopped) = watch::channel(false);
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop.send(true);
        }
    });
    // One bar per projection: a new one starts with each rebuild.
    let bar: Mutex<Option<Progress>> = Mutex::new(None);
    let mut starts = Vec::new();
    let rebuilt = operations
        .rebuild_now(
            name,
            |name| {
                finish(&bar);
                let _ = writeln!(std::io::stderr(), "rebuilding {name}");
                starts.push(Instant::now());
            },
            &mut |applied, total| {
                let mut bar = bar.lock().unwrap_or_else(PoisonError::into_inner);
                let bar = bar.get_or_insert_with(|| Progress::new("events", total));
                bar.advance(applied.saturating_sub(bar.done()));
            },
            &stopped,
        )
        .await;
    finish(&bar);
    interrupt.abort();
    let rebuilt = rebuilt?;
    let ended = Instant::now();
    let mut summary = Vec::new();
    for (index, (name, rebuilt)) in rebuilt.iter().enumerate() {
        let started = starts.get(index).copied().unwrap_or(ended);
        let until = starts.get(index + 1).copied().unwrap_or(ended);
        let seconds = until.duration_since(started).as_secs_f64();
        summary.push(format!(
            "{name}: rebuilt from {} events in {seconds:.1} s ({:.0} events/s); live from position {}",
            rebuilt.applied,
            rebuilt.applied as f64 / seconds.max(f64::EPSILON),
            rebuilt.position.token(),
        ));
    }
    Ok(summary.join("\n"))
}

/// Completes the current bar, if there is one.
fn finish(bar: &Mutex<Option<Progress>>) {
    if let Some(mut bar) = bar.lock().unwrap_or_else(PoisonError::into_inner).take() {
        bar.finish();
    }
}
