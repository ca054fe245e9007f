//! API keys: long random secrets for machine clients, stored only as their SHA-256 in the
//! `api_keys` table. A key is shown once, when created; its name is the caller's subject.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::{AuthError, Principal, Role, random_bytes};

/// Every key starts with this, so a leaked one is recognisable (and greppable) as ours.
const PREFIX: &str = "df_";
/// `df_` and 32 bytes in unpadded base64url.
const KEY_LEN: usize = PREFIX.len() + 43;
/// Longest key name, in characters (the table checks it too).
const MAX_NAME_CHARS: usize = 200;

/// Creates a key named `name` for `role` and returns it. Only its hash is stored: this is the
/// one time the key can be seen.
///
/// # Errors
/// [`AuthError::KeyName`] when the name is empty, longer than 200 characters, has control
/// characters or surrounding spaces, or was ever used before (a revoked key keeps its name,
/// so a new key never inherits an old subject by accident); [`AuthError::Database`] when the
/// insert fails otherwise.
pub async fn create(pool: &PgPool, name: &str, role: Role) -> Result<String, AuthError> {
    validate_name(name)?;
    let key = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes(32)));
    let inserted =
        sqlx::query("INSERT INTO api_keys (id, name, role, key_hash) VALUES ($1, $2, $3, $4)")
            .bind(Uuid::now_v7())
            .bind(name)
            .bind(role.as_str())
            .bind(&hash(&key)[..])
            .execute(pool)
            .await;
    match inserted {
        Ok(_) => {
            tracing::info!(name, %role, "API key created");
            Ok(key)
        }
        Err(sqlx::Error::Database(e))
            if e.is_unique_violation() && e.constraint() == Some("api_keys_name_key") =>
        {
            Err(AuthError::KeyName("a key with this name exists or existed"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Who presents `key`: the name and role of the live key it is.
///
/// # Errors
/// [`AuthError::Invalid`] when the key is not of our format, unknown or revoked;
/// [`AuthError::Database`] when the lookup fails.
pub async fn authenticate(pool: &PgPool, key: &str) -> Result<Principal, AuthError> {
    // Refused before any query, so garbage costs the database nothing.
    if key.len() != KEY_LEN || !key.starts_with(PREFIX) {
        return Err(AuthError::Invalid("malformed API key"));
    }
    // Looked up by hash: an index walk leaks nothing usable about a preimage.
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT name, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(&hash(key)[..])
    .fetch_optional(pool)
    .await?;
    let (name, role) = row.ok_or(AuthError::Invalid("unknown or revoked API key"))?;
    let role = role
        .parse()
        .map_err(|_| AuthError::Invalid("API key has an unknown role"))?;
    Ok(Principal {
        subject: name,
        role,
    })
}

/// Revokes the live key named `name`, at once and for good. Returns whether there was one.
///
/// # Errors
/// [`AuthError::Database`] when the update fails.
pub async fn revoke(pool: &PgPool, name: &str) -> Result<bool, AuthError> {
    let revoked = sqlx::query(
        "UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
    )
    .bind(name)
    .execute(pool)
    .await?
    .rows_affected()
        > 0;
    if revoked {
        tracing::info!(name, "API key revoked");
    }
    Ok(revoked)
}

/// What is stored of a key. A plain hash, not a password hash: the key has 244 random bits,
/// so there is nothing to stretch.
fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn validate_name(name: &str) -> Result<(), AuthError> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(AuthError::KeyName("must have 1 to 200 characters"));
    }
    if name.trim() != name || name.chars().any(char::is_control) {
        return Err(AuthError::KeyName(
            "must not have control characters or surrounding spaces",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_created_key_authenticates_as_its_name_and_role() {
        let db = ::tests::test_database().await;
        let key = create(&db.pool, "billing-bot", Role::Operator)
            .await
            .unwrap();
        assert!(key.starts_with("df_") && key.len() == KEY_LEN, "{key}");
        let principal = authenticate(&db.pool, &key).await.unwrap();
        assert_eq!(
            principal,
            Principal {
                subject: "billing-bot".into(),
                role: Role::Operator
            }
        );
    }

    #[tokio::test]
    async fn an_unknown_key_is_invalid() {
        let db = ::tests::test_database().await;
        let key = create(&db.pool, "billing-bot", Role::Operator)
            .await
            .unwrap();
        let mut other = key.clone();
        other.replace_range(10..11, if &key[10..11] == "A" { "B" } else { "A" });
        for candidate in [other.as_str(), "df_", "", "nope", &key[..KEY_LEN - 1]] {
            assert!(
                matches!(
                    authenticate(&db.pool, candidate).await,
                    Err(AuthError::Invalid(_))
                ),
                "{candidate}"
            );
        }
    }

    #[tokio::test]
    async fn a_revoked_key_is_invalid() {
        let db = ::tests::test_database().await;
        let key = create(&db.pool, "old-bot", Role::Auditor).await.unwrap();
        assert!(revoke(&db.pool, "old-bot").await.unwrap());
        assert!(matches!(
            authenticate(&db.pool, &key).await,
            Err(AuthError::Invalid(_))
        ));
        assert!(
            !revoke(&db.pool, "old-bot").await.unwrap(),
            "already revoked"
        );
        assert!(!revoke(&db.pool, "never-was").await.unwrap());
    }

    #[tokio::test]
    async fn only_the_hash_of_a_key_is_stored() {
        let db = ::tests::test_database().await;
        let key = create(&db.pool, "billing-bot", Role::Operator)
            .await
            .unwrap();
        let stored: Vec<u8> =
            sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE name = 'billing-bot'")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_ne!(stored, key.as_bytes());
        assert_eq!(stored, Sha256::digest(key.as_bytes()).to_vec());
    }

    #[tokio::test]
    async fn a_name_is_never_reused() {
        let db = ::tests::test_database().await;
        create(&db.pool, "bot", Role::Agent).await.unwrap();
        revoke(&db.pool, "bot").await.unwrap();
        assert!(matches!(
            create(&db.pool, "bot", Role::Agent).await,
            Err(AuthError::KeyName(_))
        ));
    }

    #[test]
    fn malformed_names_are_refused() {
        let long = "x".repeat(201);
        for name in ["", " bot", "bot\n", "a\u{0}b", &long] {
            assert!(
                matches!(validate_name(name), Err(AuthError::KeyName(_))),
                "{name:?}"
            );
        }
        assert!(validate_name(&"é".repeat(200)).is_ok());
    }
}
