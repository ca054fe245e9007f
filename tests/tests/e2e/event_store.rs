//! The event store against a real PostgreSQL: concurrency, gap-free global order,
//! append-only enforcement, tamper detection and command idempotency.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::time::Duration;

use application::event_log::{
    Append, CommandMetadata, Integrity, NewEvent, Position, RecordedEvent, StreamRef,
};
use infrastructure::{Error, PgEventStore, ReadFilter};
use serde_json::json;
use sqlx::PgPool;
use tests::test_database;
use uuid::Uuid;

fn metadata() -> CommandMetadata {
    CommandMetadata {
        command_id: Uuid::now_v7(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        actor: "tester".into(),
    }
}

fn event(n: u32) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "StockRestocked".into(),
        event_version: 1,
        payload: json!({ "quantity": n }),
    }
}

fn append(stream: &StreamRef, expected_version: i64, events: Vec<NewEvent>) -> Append {
    Append {
        stream: stream.clone(),
        expected_version,
        head_hash: None,
        events,
        metadata: metadata(),
        snapshot: None,
    }
}

/// Reads the selection once `count` events are visible. The read horizon is cluster-wide,
/// so a transaction of another test running in parallel can hold it back for a moment.
async fn read_when(store: &PgEventStore, filter: &ReadFilter, count: usize) -> Vec<RecordedEvent> {
    for _ in 0..1000 {
        let events = store
            .read_all(Position::START, 1_000_000, filter)
            .await
            .unwrap();
        if events.len() >= count {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("fewer than {count} events became visible");
}

#[tokio::test]
async fn thirty_two_concurrent_appends_at_one_version_have_exactly_one_winner() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    let stream = StreamRef::new("stock", "HOT");
    store
        .append(&append(&stream, 0, vec![event(1)]))
        .await
        .unwrap();

    let attempts = (0..32).map(|i| {
        let store = store.clone();
        let stream = stream.clone();
        tokio::spawn(async move {
            store
                .append(&append(&stream, 1, vec![event(i), event(i)]))
                .await
        })
    });
    let results = futures::future::join_all(attempts).await;
    let (mut won, mut conflicts) = (0, 0);
    for result in results {
        match result.unwrap() {
            Ok(appended) => {
                won += 1;
                assert_eq!(appended.version, 3);
            }
            Err(Error::Conflict {
                expected_version, ..
            }) => {
                conflicts += 1;
                assert_eq!(expected_version, 1);
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!((won, conflicts), (1, 31));
    let versions: Vec<i64> = store
        .read_stream(&stream, 0)
        .await
        .unwrap()
        .iter()
        .map(|e| e.version)
        .collect();
    assert_eq!(versions, vec![1, 2, 3], "no gap and no duplicate version");
}

#[tokio::test]
async fn appending_at_a_version_the_stream_has_not_reached_is_a_conflict() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    let stream = StreamRef::new("stock", "A");
    let result = store.append(&append(&stream, 5, vec![event(1)])).await;
    assert!(matches!(result, Err(Error::Conflict { .. })), "{result:?}");
    assert!(store.read_stream(&stream, 0).await.unwrap().is_empty());
}

/// Inserts an event in a transaction that stays open until the returned one is committed.
async fn open_transaction_with_event(
    pool: &PgPool,
    stream_id: &str,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO events (stream_type, stream_id, version, event_id, event_type,
                             event_version, payload, metadata, prev_hash, hash)
         VALUES ('stock', $1, 1, $2, 'StockRestocked', 1, '{}', '{}', '', '')",
    )
    .bind(stream_id)
    .bind(Uuid::now_v7())
    .execute(&mut *tx)
    .await
    .unwrap();
    tx
}

#[tokio::test]
async fn the_global_reader_does_not_pass_an_open_transaction_and_delivers_it_after_commit() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    store
        .append(&append(
            &StreamRef::new("stock", "before"),
            0,
            vec![event(1)],
        ))
        .await
        .unwrap();
    let slow = open_transaction_with_event(&db.pool, "slow").await;
    // Committed after the slow transaction began: a higher position, a later transaction.
    store
        .append(&append(
            &StreamRef::new("stock", "after"),
            0,
            vec![event(2)],
        ))
        .await
        .unwrap();

    let seen: Vec<String> = read_when(&store, &ReadFilter::default(), 1)
        .await
        .into_iter()
        .map(|e| e.stream.stream_id)
        .collect();
    assert_eq!(
        seen,
        vec!["before"],
        "the reader stops below the open transaction"
    );

    slow.commit().await.unwrap();
    let seen: Vec<String> = read_when(&store, &ReadFilter::default(), 3)
        .await
        .into_iter()
        .map(|e| e.stream.stream_id)
        .collect();
    assert_eq!(seen, vec!["before", "slow", "after"]);
}

#[tokio::test]
async fn under_concurrent_writers_the_reader_delivers_every_committed_event_exactly_once() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    let writers = (0..8_u64).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut written = Vec::new();
            let mut seed = w.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let mut next = move |n: u64| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed % n
            };
            for i in 0..40 {
                let stream_id = format!("w{w}-{i}");
                if next(4) == 0 {
                    // A transaction that takes its time to commit after taking a position.
                    let mut tx = store.pool().begin().await.unwrap();
                    let id = Uuid::now_v7();
                    sqlx::query(
                        "INSERT INTO events (stream_type, stream_id, version, event_id, event_type,
                                             event_version, payload, metadata, prev_hash, hash)
                         VALUES ('stock', $1, 1, $2, 'StockRestocked', 1, '{}', '{}', '', '')",
                    )
                    .bind(&stream_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                    tokio::time::sleep(Duration::from_millis(next(30))).await;
                    if next(5) == 0 {
                        tx.rollback().await.unwrap();
                    } else {
                        tx.commit().await.unwrap();
                        written.push(id);
                    }
                } else {
                    let events: Vec<NewEvent> = (0..=next(3))
                        .map(|n| event(u32::try_from(n).unwrap()))
                        .collect();
                    written.extend(events.iter().map(|e| e.event_id));
                    store
                        .append(&append(&StreamRef::new("stock", stream_id), 0, events))
                        .await
                        .unwrap();
                }
            }
            written
        })
    });
    let mut writers = tokio::spawn(futures::future::join_all(writers));

    // Read in small batches while the writers run, then until everything committed has
    // arrived. The horizon is cluster-wide, so transactions of other tests may hold the
    // reader back for a moment: it waits, bounded.
    let mut delivered = Vec::new();
    let mut checkpoint = Position::START;
    let mut written: Option<HashSet<Uuid>> = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let batch = store
            .read_all(checkpoint, 7, &ReadFilter::default())
            .await
            .unwrap();
        if let Some(last) = batch.last() {
            assert!(last.position > checkpoint, "the reader moves forward");
            checkpoint = last.position;
        }
        delivered.extend(batch.iter().map(|e| e.event_id));
        if written.is_none() && writers.is_finished() {
            let all = (&mut writers).await.unwrap();
            written = Some(all.into_iter().flat_map(Result::unwrap).collect());
        }
        if let Some(written) = &written
            && delivered.len() >= written.len()
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the reader stalled");
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let written = written.unwrap_or_default();
    let unique: HashSet<Uuid> = delivered.iter().copied().collect();
    assert_eq!(
        unique.len(),
        delivered.len(),
        "an event was delivered twice"
    );
    assert_eq!(
        unique, written,
        "delivered events differ from committed events"
    );
    assert!(
        written.len() > 200,
        "the load was real: {} events",
        written.len()
    );
}

async fn expect_refused(pool: &PgPool, sql: &str, sqlstate: &str) {
    let error = sqlx::query(sql).execute(pool).await.expect_err(sql);
    let code = error
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .map(std::borrow::Cow::into_owned);
    assert_eq!(code.as_deref(), Some(sqlstate), "{sql}: {error}");
}

#[tokio::test]
async fn update_delete_and_truncate_fail_for_the_owner_and_the_server_role() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    store
        .append(&append(&StreamRef::new("stock", "A"), 0, vec![event(1)]))
        .await
        .unwrap();
    let owner = db.owner_pool().await;
    for sql in [
        "UPDATE events SET payload = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        // The owner is stopped by the append-only triggers ...
        expect_refused(&owner, sql, "DF001").await;
        // ... and the server's role has no such privilege at all.
        expect_refused(&db.pool, sql, "42501").await;
    }
    let stream = StreamRef::new("stock", "A");
    assert_eq!(store.read_stream(&stream, 0).await.unwrap().len(), 1);
}

async fn three_streams(store: &PgEventStore) {
    for id in ["A", "B", "C"] {
        let stream = StreamRef::new("stock", id);
        store
            .append(&append(&stream, 0, vec![event(1), event(2)]))
            .await
            .unwrap();
        store
            .append(&append(&stream, 2, vec![event(3)]))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_untouched_log_verifies() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    three_streams(&store).await;
    let report = store.verify(None).await.unwrap();
    assert_eq!(
        report,
        Integrity::Verified {
            events: 9,
            streams: 3
        }
    );
    assert_eq!(report.to_string(), "verified 9 events in 3 streams");
}

#[tokio::test]
async fn a_tampered_payload_is_named_as_the_first_broken_link() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    three_streams(&store).await;
    let stored = store
        .read_stream(&StreamRef::new("stock", "B"), 1)
        .await
        .unwrap();
    db.break_glass(
        "UPDATE events SET payload = '{\"quantity\": 999}' WHERE stream_id = 'B' AND version = 2",
    )
    .await;
    let Integrity::Broken(link) = store.verify(None).await.unwrap() else {
        panic!("tampering went unnoticed");
    };
    assert_eq!(link.stream, StreamRef::new("stock", "B"));
    assert_eq!(link.version, 2);
    assert_eq!(
        link.found,
        hex(&stored[0].hash),
        "the stored hash is what was found"
    );
    assert_ne!(link.expected, link.found);
    assert_eq!(link.problem, "stored content does not match its hash");
}

#[tokio::test]
async fn a_deleted_event_is_named_as_the_first_broken_link() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    three_streams(&store).await;
    db.break_glass("DELETE FROM events WHERE stream_id = 'C' AND version = 2")
        .await;
    let Integrity::Broken(link) = store
        .verify(Some(&StreamRef::new("stock", "C")))
        .await
        .unwrap()
    else {
        panic!("the deletion went unnoticed");
    };
    assert_eq!((link.stream.stream_id.as_str(), link.version), ("C", 3));
    assert_eq!(link.problem, "version 2 is missing");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn the_same_command_id_twice_appends_once_and_keeps_the_first_result() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    let stream = StreamRef::new("stock", "A");
    let first = append(&stream, 0, vec![event(1)]);
    let appended = store.append(&first).await.unwrap();

    let mut repeat = append(&stream, 1, vec![event(1)]);
    repeat.metadata.command_id = first.metadata.command_id;
    let result = store.append(&repeat).await;
    assert!(
        matches!(result, Err(Error::DuplicateCommand { .. })),
        "{result:?}"
    );
    assert_eq!(
        store
            .command_outcome(first.metadata.command_id)
            .await
            .unwrap(),
        Some((stream.clone(), appended))
    );
    assert_eq!(store.read_stream(&stream, 0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn events_are_found_by_correlation_id_and_time_range() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    let chain = append(&StreamRef::new("order", "o1"), 0, vec![event(1)]);
    let correlation = chain.metadata.correlation_id;
    store.append(&chain).await.unwrap();
    let mut follow_up = append(&StreamRef::new("stock", "A"), 0, vec![event(2)]);
    follow_up.metadata.correlation_id = correlation;
    store.append(&follow_up).await.unwrap();
    store
        .append(&append(&StreamRef::new("order", "o2"), 0, vec![event(3)]))
        .await
        .unwrap();

    let everything = read_when(&store, &ReadFilter::default(), 3).await;
    let by_correlation = store
        .read_all(
            Position::START,
            100,
            &ReadFilter {
                correlation_id: Some(correlation),
                ..ReadFilter::default()
            },
        )
        .await
        .unwrap();
    let streams: Vec<String> = by_correlation
        .iter()
        .map(|e| e.stream.to_string())
        .collect();
    assert_eq!(streams, vec!["order/o1", "stock/A"]);

    let since_second = store
        .read_all(
            Position::START,
            100,
            &ReadFilter {
                from: Some(everything[1].recorded_at),
                ..ReadFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(since_second.len(), 2);
    assert!(
        since_second
            .iter()
            .all(|e| e.recorded_at >= everything[1].recorded_at)
    );
}
