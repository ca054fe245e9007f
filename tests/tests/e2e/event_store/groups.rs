//! Group commit: appends that reach the store together are written in one statement, and
//! each still gets the outcome it would have had alone.

use application::event_log::{Append, StreamRef};
use infrastructure::{Error, PgEventStore};
use tests::test_database;

use super::{append, event, metadata};

#[tokio::test]
async fn appends_that_arrive_together_share_a_commit_and_each_gets_its_own_outcome() {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    // A stream at version 1, for appends that expect it new (stale).
    let stale = StreamRef::new("stock", "STALE");
    store
        .append(&append(&stale, 0, vec![event(1)]))
        .await
        .unwrap();
    // A command id applied once already.
    let repeated = metadata();
    let first = StreamRef::new("stock", "FIRST");
    store
        .append(&Append {
            metadata: repeated.clone(),
            ..append(&first, 0, vec![event(1)])
        })
        .await
        .unwrap();

    for round in 0..12 {
        // Every other round mixes in a stale append and a repeated command id.
        let faulty = round % 2 == 1;
        let mut appends: Vec<(Append, &str)> = (0..16)
            .map(|i| {
                let stream = StreamRef::new("stock", format!("S{round}-{i}"));
                let events = (0..=i % 3).map(event).collect();
                (append(&stream, 0, events), "ok")
            })
            .collect();
        if faulty {
            appends.push((append(&stale, 0, vec![event(2)]), "stale"));
            let stream = StreamRef::new("stock", format!("R{round}"));
            let again = Append {
                metadata: repeated.clone(),
                ..append(&stream, 0, vec![event(3)])
            };
            appends.push((again, "repeated"));
        }
        let running = appends.into_iter().map(|(append, expect)| {
            let store = store.clone();
            tokio::spawn(async move {
                let outcome = store.append_with_head(&append).await;
                (append, expect, outcome)
            })
        });
        for done in futures::future::join_all(running).await {
            let (append, expect, outcome) = done.unwrap();
            match (expect, outcome) {
                ("ok", Ok((appended, head))) => {
                    let count = i64::try_from(append.events.len()).unwrap();
                    assert_eq!(appended.version, count);
                    let stored = store.read_stream(&append.stream, 0).await.unwrap();
                    assert_eq!(stored.last().map(|e| e.hash.clone()), Some(head));
                    assert_eq!(stored.last().map(|e| e.position), Some(appended.position));
                }
                ("stale", Err(Error::Conflict { .. }))
                | ("repeated", Err(Error::DuplicateCommand { .. })) => {}
                (expect, outcome) => panic!("round {round}: expected {expect}, got {outcome:?}"),
            }
        }
        for stream in [&stale, &first] {
            let stored = store.read_stream(stream, 0).await.unwrap();
            assert_eq!(stored.len(), 1, "{stream} changed");
        }
    }

    // Some commit carried the events of several streams: appends were grouped.
    let shared: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT transaction_id FROM events GROUP BY transaction_id
                              HAVING count(DISTINCT stream_id) > 1) grouped",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(shared > 0, "no two appends ever shared a commit");
    let integrity = store.verify(None).await.unwrap();
    assert!(
        matches!(
            integrity,
            application::event_log::Integrity::Verified { .. }
        ),
        "{integrity:?}"
    );
}
