//! API keys kept in PostgreSQL: only a key's hash is stored, a revoked key stops working at
//! once, and a name is never given to a second key.

#![allow(clippy::unwrap_used)]

use application::api_keys::{KEY_LEN, hash};
use application::{Actor, Error, Role};
use tests::test_database;

#[tokio::test]
async fn a_created_key_authenticates_as_its_name_and_role() {
    let db = test_database().await;
    let key = db
        .api_keys()
        .create("billing-bot", Role::Operator)
        .await
        .unwrap();
    assert!(key.starts_with("df_") && key.len() == KEY_LEN, "{key}");
    let actor = db.api_keys().authenticate(&key).await.unwrap();
    assert_eq!(actor, Actor::new("billing-bot", Role::Operator));
}

#[tokio::test]
async fn an_unknown_or_malformed_key_is_unauthenticated() {
    let db = test_database().await;
    let key = db
        .api_keys()
        .create("billing-bot", Role::Operator)
        .await
        .unwrap();
    let mut other = key.clone();
    other.replace_range(10..11, if &key[10..11] == "A" { "B" } else { "A" });
    for candidate in [other.as_str(), "df_", "", "nope", &key[..KEY_LEN - 1]] {
        let result = db.api_keys().authenticate(candidate).await;
        assert!(
            matches!(result, Err(Error::Unauthenticated(_))),
            "{candidate}"
        );
    }
}

#[tokio::test]
async fn a_revoked_key_is_unauthenticated() {
    let db = test_database().await;
    let keys = db.api_keys();
    let key = keys.create("old-bot", Role::Auditor).await.unwrap();
    keys.revoke("old-bot").await.unwrap();
    assert!(matches!(
        keys.authenticate(&key).await,
        Err(Error::Unauthenticated(_))
    ));
    let again = keys.revoke("old-bot").await;
    assert!(
        matches!(again, Err(Error::NotFound { .. })),
        "already revoked"
    );
    let never = keys.revoke("never-was").await;
    assert!(matches!(never, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn only_the_hash_of_a_key_is_stored() {
    let db = test_database().await;
    let key = db
        .api_keys()
        .create("billing-bot", Role::Operator)
        .await
        .unwrap();
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE name = 'billing-bot'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_ne!(stored, key.as_bytes());
    assert_eq!(stored, hash(&key).to_vec());
}

#[tokio::test]
async fn a_name_is_never_reused() {
    let db = test_database().await;
    let keys = db.api_keys();
    keys.create("bot", Role::Agent).await.unwrap();
    keys.revoke("bot").await.unwrap();
    assert!(matches!(
        keys.create("bot", Role::Agent).await,
        Err(Error::Validation(_))
    ));
}
