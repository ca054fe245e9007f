//! What the store keeps of each command: one append per command id, and its events found by
//! correlation id and time range.

use application::event_log::{Position, StreamRef};
use infrastructure::{Error, PgEventStore, ReadFilter};
use tests::test_database;

use super::{append, event, read_when};

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
