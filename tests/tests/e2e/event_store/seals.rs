//! Seals of the whole log catch what the per-stream hash chains cannot: a stream's last
//! events deleted, a whole stream deleted, a chain recomputed by the database's owner, an
//! event moved in the global order, and a seal forged, deleted or signed by another key.
//! Each tampering is done as the owner, behind the append-only triggers' back.

use application::event_log::{Integrity, StreamRef};
use infrastructure::PgEventStore;
use infrastructure::seal::{Expected, PgSeals, SealKey, SealReport};
use infrastructure::store::hash::{Content, event_hash, hex};
use sqlx::Row;
use tests::{TestDatabase, test_database};

use super::{append, event};

/// A key in a directory of its own.
fn key() -> SealKey {
    let dir = std::env::temp_dir().join(format!("seals-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = SealKey::generate(&dir.join("seal.key")).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
    key
}

/// Streams A, B and C of three events each, sealed (two seals: after the first two events
/// of each, and after the third).
async fn sealed_log(key: &SealKey) -> (TestDatabase, PgEventStore, PgSeals) {
    let db = test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    let seals = PgSeals::new(db.pool.clone());
    for id in ["A", "B", "C"] {
        let stream = StreamRef::new("stock", id);
        store
            .append(&append(&stream, 0, vec![event(1), event(2)]))
            .await
            .unwrap();
    }
    db.log_settled().await;
    assert_eq!(seals.seal(key, 0).await.unwrap().unwrap().sequence, 1);
    for id in ["A", "B", "C"] {
        let stream = StreamRef::new("stock", id);
        store
            .append(&append(&stream, 2, vec![event(3)]))
            .await
            .unwrap();
    }
    db.log_settled().await;
    let second = seals.seal(key, 1).await.unwrap().unwrap();
    assert_eq!((second.sequence, second.event_count), (2, 9));
    // Nothing new: no seal.
    assert!(seals.seal(key, 2).await.unwrap().is_none());
    (db, store, seals)
}

/// What verification says: the chains, then the seals with the key's public half.
async fn verified(store: &PgEventStore, seals: &PgSeals, key: &SealKey) -> (Integrity, SealReport) {
    (
        store.verify(None).await.unwrap(),
        seals.verify(Some(&key.public()), None).await.unwrap(),
    )
}

fn broken_at(report: &SealReport, sequence: i64, words: &str) {
    match report {
        SealReport::Broken {
            sequence: at,
            problem,
        } => {
            assert_eq!(*at, sequence, "{report}");
            assert!(problem.contains(words), "{report}");
        }
        other => panic!("the seals hold after tampering: {other}"),
    }
}

#[tokio::test]
async fn an_untouched_log_keeps_its_seals_and_events_after_the_last_are_counted() {
    let key = key();
    let (_db, store, seals) = sealed_log(&key).await;
    store
        .append(&append(&StreamRef::new("stock", "D"), 0, vec![event(1)]))
        .await
        .unwrap();
    let (chains, report) = verified(&store, &seals, &key).await;
    assert!(
        matches!(chains, Integrity::Verified { events: 10, .. }),
        "{chains}"
    );
    let newest = seals.last().await.unwrap().unwrap();
    let digest = infrastructure::store::hash::hex(&newest.digest);
    assert_eq!(
        report,
        SealReport::Held {
            seals: 2,
            newest: digest.clone(),
            covered: 9,
            after: 1,
            signatures: true
        }
    );
    assert_eq!(
        report.to_string(),
        format!("2 seals hold: 9 events sealed, 1 after the last seal (newest 2:{digest})")
    );
    // Without the key, the digests are checked and the signatures are said not to be.
    let unsigned = seals.verify(None, None).await.unwrap();
    assert!(
        unsigned.to_string().contains("signatures not checked"),
        "{unsigned}"
    );
}

#[tokio::test]
async fn a_deleted_stream_tail_passes_the_chains_and_breaks_the_seal() {
    let key = key();
    let (db, store, seals) = sealed_log(&key).await;
    db.break_glass("DELETE FROM events WHERE stream_id = 'A' AND version = 3")
        .await;
    let (chains, report) = verified(&store, &seals, &key).await;
    assert!(matches!(chains, Integrity::Verified { .. }), "{chains}");
    broken_at(&report, 2, "events up to its head");
}

#[tokio::test]
async fn a_deleted_stream_passes_the_chains_and_breaks_the_first_seal() {
    let key = key();
    let (db, store, seals) = sealed_log(&key).await;
    db.break_glass("DELETE FROM events WHERE stream_id = 'B'")
        .await;
    let (chains, report) = verified(&store, &seals, &key).await;
    assert!(matches!(chains, Integrity::Verified { .. }), "{chains}");
    broken_at(&report, 1, "events up to its head");
}

#[tokio::test]
async fn the_deleted_end_of_the_log_breaks_the_seal_that_covered_it() {
    let key = key();
    let (db, store, seals) = sealed_log(&key).await;
    db.break_glass("DELETE FROM events WHERE version = 3").await;
    let (chains, report) = verified(&store, &seals, &key).await;
    assert!(matches!(chains, Integrity::Verified { .. }), "{chains}");
    broken_at(&report, 2, "the log ends before its last event");
}

#[tokio::test]
async fn a_chain_recomputed_by_the_owner_passes_the_chains_and_breaks_the_seal() {
    let key = key();
    let (db, store, seals) = sealed_log(&key).await;
    // Stream C's first event says something else, and every hash of C is recomputed.
    let rows = sqlx::query(
        "SELECT event_id, version, event_type, event_version, payload, metadata, recorded_at
         FROM events WHERE stream_id = 'C' ORDER BY version",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut prev: Vec<u8> = Vec::new();
    let mut statements = Vec::new();
    for row in &rows {
        let version: i64 = row.get("version");
        let payload = if version == 1 {
            serde_json::json!({ "quantity": 1000 })
        } else {
            row.get::<serde_json::Value, _>("payload")
        };
        let metadata: serde_json::Value = row.get("metadata");
        let event_type: String = row.get("event_type");
        let hash = event_hash(
            &prev,
            &Content {
                stream_type: "stock",
                stream_id: "C",
                version,
                event_id: row.get("event_id"),
                event_type: &event_type,
                event_version: row.get("event_version"),
                recorded_at: row.get("recorded_at"),
                metadata: &metadata,
                payload: &payload,
            },
        );
        statements.push(format!(
            "UPDATE events SET payload = '{payload}', prev_hash = '\\x{}', hash = '\\x{}' \
             WHERE stream_id = 'C' AND version = {version}",
            hex(&prev),
            hex(&hash)
        ));
        prev = hash;
    }
    for statement in &statements {
        db.break_glass(statement).await;
    }
    let (chains, report) = verified(&store, &seals, &key).await;
    assert!(matches!(chains, Integrity::Verified { .. }), "{chains}");
    broken_at(&report, 1, "not the ones sealed");
}

#[tokio::test]
async fn an_event_moved_in_the_global_order_breaks_the_seal() {
    let key = key();
    let (db, store, seals) = sealed_log(&key).await;
    // A's first event moved into the transaction of C's last: every chain holds (they
    // follow versions), the global order does not.
    db.break_glass(
        "UPDATE events
         SET transaction_id = (SELECT transaction_id FROM events
                               WHERE stream_id = 'C' AND version = 3)
         WHERE stream_id = 'A' AND version = 1",
    )
    .await;
    let (chains, report) = verified(&store, &seals, &key).await;
    assert!(matches!(chains, Integrity::Verified { .. }), "{chains}");
    assert!(
        matches!(report, SealReport::Broken { sequence: 1, .. }),
        "{report}"
    );
}

#[tokio::test]
async fn a_forged_deleted_or_foreign_seal_is_named() {
    let key = key();
    let (db, store, seals) = sealed_log(&key).await;
    let owner = db.owner_pool().await;
    // Another key's public half: every seal is someone else's.
    let (_, other) = verified(&store, &seals, &self::key()).await;
    broken_at(&other, 1, "signed with another key");
    // A digest rewritten to match a changed log fails its signature.
    db.break_glass_on(
        "log_seals",
        "UPDATE log_seals SET event_count = event_count + 1 WHERE sequence = 2",
    )
    .await;
    let (_, forged) = verified(&store, &seals, &key).await;
    broken_at(&forged, 2, "signature does not match");
    db.break_glass_on("log_seals", "DELETE FROM log_seals WHERE sequence = 1")
        .await;
    let (_, deleted) = verified(&store, &seals, &key).await;
    broken_at(&deleted, 1, "missing");
    // The seals are append-only for the owner too.
    let refused = sqlx::query("DELETE FROM log_seals").execute(&owner).await;
    assert!(refused.is_err(), "the owner deleted seals");
}

/// The newest seal deleted together with the events after the one before: every remaining
/// seal holds, so the cut shows only against a seal an auditor kept; and the sealer, which
/// saw that seal, refuses to sign over the cut.
#[tokio::test]
async fn a_log_cut_back_with_its_newest_seal_shows_against_the_kept_seal_and_is_not_resealed() {
    let key = key();
    let (db, store, seals) = sealed_log(&key).await;
    let kept = seals.last().await.unwrap().unwrap();
    db.break_glass("DELETE FROM events WHERE version = 3").await;
    db.break_glass_on("log_seals", "DELETE FROM log_seals WHERE sequence = 2")
        .await;
    let (chains, report) = verified(&store, &seals, &key).await;
    assert!(matches!(chains, Integrity::Verified { .. }), "{chains}");
    assert!(
        matches!(report, SealReport::Held { seals: 1, .. }),
        "{report}"
    );
    let expected = Expected {
        sequence: kept.sequence,
        digest: kept.digest.clone(),
    };
    let against_kept = seals
        .verify(Some(&key.public()), Some(&expected))
        .await
        .unwrap();
    broken_at(&against_kept, 2, "cut back");
    let refused = seals.seal(&key, kept.sequence).await;
    assert!(
        matches!(refused, Err(infrastructure::Error::SealRefused(_))),
        "{refused:?}"
    );
}

/// A sealer does not go on from a seal it cannot vouch for: one forged, one of another key,
/// or one whose events were changed under it.
#[tokio::test]
async fn the_sealer_refuses_to_sign_over_a_changed_log_or_a_forged_seal() {
    let key = key();
    let (db, store, seals) = sealed_log(&key).await;
    store
        .append(&append(&StreamRef::new("stock", "D"), 0, vec![event(1)]))
        .await
        .unwrap();
    db.log_settled().await;
    // Another key's sealer.
    let other = self::key();
    let refused = seals.seal(&other, 0).await;
    assert!(
        matches!(refused, Err(infrastructure::Error::SealRefused(_))),
        "{refused:?}"
    );
    // The events under the last seal changed.
    db.break_glass("DELETE FROM events WHERE stream_id = 'A' AND version = 3")
        .await;
    let refused = seals.seal(&key, 2).await;
    assert!(
        matches!(refused, Err(infrastructure::Error::SealRefused(_))),
        "{refused:?}"
    );
    assert_eq!(
        seals.last().await.unwrap().unwrap().sequence,
        2,
        "nothing was sealed"
    );
}
