//! `domainflow projections rebuild NAME|--all`: rebuilds read models without downtime,
//! every projection at once with `--all`, with a progress bar (rate and ETA) on stderr.
//! Ctrl-C stops it and leaves the live tables as they were.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use application::operations::Operations;
use tokio::sync::watch;

use super::progress::Progress;

/// The rebuilds' progress: each one's count, and one bar for their sum.
#[derive(Default)]
struct Bar {
    counts: BTreeMap<&'static str, (u64, u64)>,
    bar: Option<Progress>,
}

/// Rebuilds `name`, or every projection at once; a summary line each. A projection whose
/// rebuild fails or is interrupted is named on stderr; the others' lines still go to stdout.
///
/// # Errors
/// An unknown name, a rebuild already running (nothing starts), or the first failed or
/// interrupted rebuild.
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
    let bar = Arc::new(Mutex::new(Bar::default()));
    let progress = {
        let bar = Arc::clone(&bar);
        move |name, applied, total| {
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
        }
    };
    let outcomes = operations
        .rebuild_now(name, Arc::new(progress), &stopped)
        .await;
    if let Some(mut bar) = bar
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .bar
        .take()
    {
        bar.finish();
    }
    interrupt.abort();
    let mut summary = Vec::new();
    let mut failed = None;
    for (name, outcome) in outcomes? {
        match outcome {
            Ok((rebuilt, took)) => {
                let seconds = took.as_secs_f64();
                summary.push(format!(
                    "{name}: rebuilt from {} events in {seconds:.1} s ({:.0} events/s); live from position {}",
                    rebuilt.applied,
                    rebuilt.applied as f64 / seconds.max(f64::EPSILON),
                    rebuilt.position.token(),
                ));
            }
            Err(error) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "{name}: not rebuilt, its live tables are as they were: {error}"
                );
                failed.get_or_insert(error);
            }
        }
    }
    match failed {
        None => Ok(summary.join("\n")),
        Some(error) => {
            // What did swap in is said too, so it need not be rebuilt again.
            if !summary.is_empty() {
                let _ = writeln!(std::io::stdout(), "{}", summary.join("\n"));
            }
            Err(error)
        }
    }
}
