//! The log is append-only, and the hash chains name the first broken link of a log changed
//! behind the store's back.

use application::event_log::{Integrity, StreamRef};
use infrastructure::PgEventStore;
use sqlx::PgPool;
use tests::test_database;

use super::{append, event};

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
