//! The global order: the reader never passes an open transaction, and under concurrent
//! writers it delivers every committed event exactly once.

use std::collections::HashSet;
use std::time::Duration;

use application::event_log::{NewEvent, Position, StreamRef};
use infrastructure::{PgEventStore, ReadFilter};
use sqlx::PgPool;
use tests::test_database;
use uuid::Uuid;

use super::{append, event, read_when};

/// Inserts an event in a transaction that stays open until the returned one is committed.
async fn open_transaction_with_event(
    pool: &PgPool,
    stream_id: &str,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = projections::transaction::begin(pool).await.unwrap();
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
                    let mut tx = projections::transaction::begin(store.pool()).await.unwrap();
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

#[tokio::test]
async fn a_reader_gets_the_headers_alone_of_the_streams_it_does_not_follow() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    for (stream, n) in [("order", 1), ("stock", 2), ("payment", 3), ("stock", 4)] {
        let id = format!("{stream}-{n}");
        store
            .append(&append(&StreamRef::new(stream, &id), 0, vec![event(n)]))
            .await
            .unwrap();
    }
    let whole = read_when(&store, &ReadFilter::default(), 4).await;
    let filter = ReadFilter {
        bodies_of: Some(vec!["stock".into()]),
        ..ReadFilter::default()
    };
    let headed = read_when(&store, &filter, 4).await;

    assert_eq!(headed.len(), whole.len(), "every event, followed or not");
    for (full, read) in whole.iter().zip(&headed) {
        let header = |e: &application::event_log::RecordedEvent| {
            (
                e.position,
                e.stream.clone(),
                e.version,
                e.event_id,
                e.event_type.clone(),
                e.recorded_at,
                e.prev_hash.clone(),
                e.hash.clone(),
            )
        };
        assert_eq!(header(read), header(full));
        if full.stream.stream_type == "stock" {
            assert_eq!(
                (&read.payload, &read.metadata),
                (&full.payload, &full.metadata)
            );
        } else {
            assert_eq!(read.payload, serde_json::Value::Null, "{}", read.stream);
            assert_eq!(read.metadata, serde_json::Value::Null, "{}", read.stream);
            assert_ne!(full.payload, serde_json::Value::Null);
        }
    }
}
