//! `domainflow events export`, run as the real binary against a log of 100 000 events:
//! every event once, in the global order, in the line format of the REST NDJSON, with the
//! process's peak memory measured while it runs.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use application::event_log::Position;
use futures::StreamExt;
use infrastructure::{PgEventStore, ReadFilter};
use serde_json::Value;
use tests::restocks;
use uuid::Uuid;

const STREAMS: usize = 100;
const PER_STREAM: u32 = 1000;
const EVENTS: usize = STREAMS * PER_STREAM as usize;
/// The most the export process may hold at its peak.
const MEMORY_LIMIT_KB: u64 = 100 * 1024;

/// The peak resident set (VmHWM) of process `pid` in kB, if it still runs.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `domainflow events export` with `args`; its exit status, stderr and peak memory.
fn export(url: &str, args: &[&str]) -> (std::process::ExitStatus, String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_domainflow"))
        .args(["events", "export", "--database-url", url])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());
    let mut peak = 0;
    let status = loop {
        // VmHWM only grows: the last reading before the exit is the peak.
        if let Some(kb) = peak_kb(pid) {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status, reader.join().unwrap(), peak)
}

/// The lines of an NDJSON file, each parsed.
fn lines(path: &Path) -> Vec<Value> {
    let file = std::fs::File::open(path).unwrap();
    BufReader::new(file)
        .lines()
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .collect()
}

fn position(line: &Value) -> Position {
    Position::from_token(line["position"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_000_event_log_exports_every_event_once_in_global_order_in_flat_memory() {
    let db = tests::test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    futures::stream::iter(0..STREAMS)
        .map(|n| {
            let store = store.clone();
            async move {
                let sku = format!("SKU-{n}");
                store.append(&restocks(&sku, 0, PER_STREAM)).await.unwrap()
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await;
    db.log_settled().await;
    let dir = std::env::temp_dir().join(format!("export-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();

    let all = dir.join("all.ndjson");
    let (status, stderr, peak) = export(&db.url, &["--out", all.to_str().unwrap()]);
    assert!(status.success(), "{stderr}");
    eprintln!("peak memory of the export of {EVENTS} events: {peak} kB");
    assert!(peak > 0, "the memory was measured");
    assert!(
        peak < MEMORY_LIMIT_KB,
        "peak memory {peak} kB is over {MEMORY_LIMIT_KB} kB"
    );
    assert!(
        stderr.contains(&format!("{EVENTS}/{EVENTS} events (100.0%)")),
        "the progress bar counts against the total: {stderr}"
    );
    assert!(
        stderr.contains("events/s") && stderr.contains("ETA"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("exported {EVENTS} events to")),
        "{stderr}"
    );

    let exported = lines(&all);
    assert_eq!(exported.len(), EVENTS);
    // The export verifies offline: every hash recomputed from its lines.
    let offline = tests::run(
        env!("CARGO_BIN_EXE_domainflow"),
        &["verify", "--export", all.to_str().unwrap()],
    );
    assert!(offline.status.success(), "{}", tests::text(&offline.stderr));
    assert!(
        tests::text(&offline.stdout).starts_with(&format!("verified {EVENTS} events in ")),
        "{}",
        tests::text(&offline.stdout)
    );
    assert!(
        exported
            .windows(2)
            .all(|w| position(&w[0]) < position(&w[1])),
        "the lines follow the global order"
    );
    let events: HashSet<(String, i64)> = exported
        .iter()
        .map(|line| {
            (
                line["streamId"].as_str().unwrap().to_owned(),
                line["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(events.len(), EVENTS, "every event once");
    let first = store
        .read_all(Position::START, 1, &ReadFilter::default())
        .await
        .unwrap();
    let mut expected_line = Vec::new();
    interface::history::write_line(&first[0], &mut expected_line);
    assert_eq!(
        exported[0],
        serde_json::from_slice::<Value>(&expected_line).unwrap(),
        "the REST NDJSON line format"
    );

    // Part of the log: one stream, or what follows a position.
    let one = dir.join("one.ndjson");
    let (status, stderr, one_peak) = export(
        &db.url,
        &["--stream", "stock/SKU-7", "--out", one.to_str().unwrap()],
    );
    assert!(status.success(), "{stderr}");
    eprintln!("peak memory of the export of one stream of 1000 events: {one_peak} kB");
    assert!(
        peak < one_peak + 20 * 1024,
        "memory grows with the log: {peak} kB for {EVENTS} events, {one_peak} kB for 1000"
    );
    let versions: Vec<i64> = lines(&one)
        .iter()
        .map(|line| {
            assert_eq!(line["streamId"], "SKU-7");
            line["version"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(versions, (1..=1000).collect::<Vec<i64>>());
    let since = exported[EVENTS / 2 - 1]["position"].as_str().unwrap();
    let rest = dir.join("rest.ndjson");
    let (status, stderr, _) = export(
        &db.url,
        &["--since", since, "--out", rest.to_str().unwrap()],
    );
    assert!(status.success(), "{stderr}");
    assert_eq!(lines(&rest), exported[EVENTS / 2..]);

    let (status, stderr, _) = export(&db.url, &["--since", "nope"]);
    assert!(!status.success());
    assert!(stderr.contains("--since"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
