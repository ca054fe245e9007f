//! `domainflow projections rebuild NAME|--all`: rebuilds read models without downtime,
//! every projection at once with `--all`, with a progress bar (rate and ETA) on stderr.
//! Ctrl-C stops it and leaves the live tables as they were.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::{Mutex, PoisonError};

use application::operations::Operations;
use tokio::sync::watch;

use super::progress::Progress;

/// The rebuilds' progress: each one's count, and one bar for their sum.
#[derive(Default)]
struct Bar {
    counts: BTreeMap<&'static str, (u64, u64)>,
    bar: Option<Progress>,
}

/// Rebuilds `name`, or every projection at once; a summary line each.
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
    let _ = writeln!(
        std::io::stderr(),
        "rebuilding {}",
        name.unwrap_or("every projection")
    );
    let bar = Mutex::new(Bar::default());
    let progress = |name, applied, total| {
        let mut bar = bar.lock().unwrap_or_else(PoisonError::into_inner);
        bar.counts.insert(name, (applied, total));
        let (done, total) = bar
            .counts
            .values()
            .fold((0, 0), |(done, all), (applied, total)| {
                (done + applied, all + total)
            });
        let bar = bar
            .bar
            .get_or_insert_with(|| Progress::new("events", total));
        bar.set_total(total);
        bar.advance(done.saturating_sub(bar.done()));
    };
    let rebuilt = operations.rebuild_now(name, &progress, &stopped).await;
    if let Some(mut bar) = bar
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .bar
        .take()
    {
        bar.finish();
    }
    interrupt.abort();
    let summary: Vec<String> = rebuilt?
        .iter()
        .map(|(name, rebuilt, took)| {
            let seconds = took.as_secs_f64();
            format!(
                "{name}: rebuilt from {} events in {seconds:.1} s ({:.0} events/s); live from position {}",
                rebuilt.applied,
                rebuilt.applied as f64 / seconds.max(f64::EPSILON),
                rebuilt.position.token(),
            )
        })
        .collect();
    Ok(summary.join("\n"))
}
