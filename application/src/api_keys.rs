//! API keys: long random secrets for machine clients. The store behind [`ApiKeyStore`] keeps
//! only their SHA-256; a key is shown once, when created, and its name is the caller's
//! subject.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::random::random_bytes;
use crate::{Actor, Error, Role, Unauthenticated};

/// Every key starts with this, so a leaked one is recognisable (and greppable) as ours.
const PREFIX: &str = "df_";
/// `df_` and 32 bytes in unpadded base64url.
pub const KEY_LEN: usize = PREFIX.len() + 43;
/// Longest key name, in characters (the table checks it too).
const MAX_NAME_CHARS: usize = 200;

/// What is stored of a key. A plain hash, not a password hash: the key has 244 random bits,
/// so there is nothing to stretch.
pub type KeyHash = [u8; 32];

/// Where the hashes of API keys are kept.
#[async_trait::async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores `hash` as the key `name` for `role`; `false` when a key with this name exists
    /// or ever existed.
    async fn insert(&self, name: &str, role: Role, hash: &KeyHash) -> Result<bool, Error>;
    /// The name and stored role of the live key whose hash is `hash`.
    async fn find(&self, hash: &KeyHash) -> Result<Option<(String, String)>, Error>;
    /// Revokes the live key `name`; whether there was one.
    async fn revoke(&self, name: &str) -> Result<bool, Error>;
}

/// Creating, checking and revoking API keys.
#[derive(Clone)]
pub struct ApiKeys {
    store: Arc<dyn ApiKeyStore>,
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeys").finish_non_exhaustive()
    }
}

impl ApiKeys {
    /// API keys kept in `store`.
    #[must_use]
    pub fn new(store: Arc<dyn ApiKeyStore>) -> Self {
        Self { store }
    }

    /// Creates a key named `name` for `role` and returns it: the one time it can be seen.
    ///
    /// # Errors
    /// [`Error::Validation`] when the name is empty, longer than 200 characters, has
    /// control characters or surrounding spaces, or was ever used before (a revoked key
    /// keeps its name, so a new key never inherits an old subject by accident); the store's
    /// error otherwise.
    pub async fn create(&self, name: &str, role: Role) -> Result<String, Error> {
        validate_name(name)?;
        let key = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes(32)));
        if !self.store.insert(name, role, &hash(&key)).await? {
            return Err(name_rejected("a key with this name exists or existed"));
        }
        tracing::info!(name, %role, "API key created");
        Ok(key)
    }

    /// Who presents `key`: the name and role of the live key it is.
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] when the key is not of our format, unknown or revoked;
    /// the store's error when it cannot be asked.
    pub async fn authenticate(&self, key: &str) -> Result<Actor, Error> {
        // Refused before any query, so garbage costs the database nothing.
        if key.len() != KEY_LEN || !key.starts_with(PREFIX) {
            return Err(Unauthenticated::Invalid("malformed API key").into());
        }
        let (name, role) = self
            .store
            .find(&hash(key))
            .await?
            .ok_or(Unauthenticated::Invalid("unknown or revoked API key"))?;
        let role = role
            .parse()
            .map_err(|_| Unauthenticated::Invalid("API key has an unknown role"))?;
        Ok(Actor::new(name, role))
    }

    /// Revokes the live key named `name`, at once and for good.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no live key of that name; the store's error.
    pub async fn revoke(&self, name: &str) -> Result<(), Error> {
        if !self.store.revoke(name).await? {
            return Err(Error::NotFound {
                what: format!("live API key {name}"),
            });
        }
        tracing::info!(name, "API key revoked");
        Ok(())
    }
}

/// The SHA-256 of `key`.
#[must_use]
pub fn hash(key: &str) -> KeyHash {
    Sha256::digest(key.as_bytes()).into()
}

fn name_rejected(why: &str) -> Error {
    Error::Validation(format!("API key name rejected: {why}"))
}

fn validate_name(name: &str) -> Result<(), Error> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(name_rejected("must have 1 to 200 characters"));
    }
    if name.trim() != name || name.chars().any(char::is_control) {
        return Err(name_rejected(
            "must not have control characters or surrounding spaces",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_names_are_refused() {
        let long = "x".repeat(201);
        for name in ["", " bot", "bot\n", "a\u{0}b", &long] {
            assert!(
                matches!(validate_name(name), Err(Error::Validation(_))),
                "{name:?}"
            );
        }
        assert!(validate_name(&"é".repeat(200)).is_ok());
    }
}
