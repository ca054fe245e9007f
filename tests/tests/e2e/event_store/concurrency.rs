//! Optimistic concurrency: of concurrent appends at one version exactly one wins, and an
//! append at a version the stream has not reached is a conflict.

use application::event_log::StreamRef;
use infrastructure::{Error, PgEventStore};
use tests::test_database;

use super::{append, event};

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
