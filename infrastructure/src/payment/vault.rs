//! The simulated provider's vault: the tokens it registered, by the reference it answered.
//! What a real provider keeps on its side, in memory or in PostgreSQL (table
//! `simulated_payment_methods`, keyed by the secret in `simulated_payment_vault`). The
//! memory vault is one per process, as there is one provider out there: a method registered
//! through one simulated provider can be charged through another.
//!
//! A fingerprint is `fp_` and the first 20 hex digits of sha256(secret ‖ token): equal
//! tokens get equal fingerprints, and without the secret a fingerprint gives nothing back.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use application::saga::ProviderError;
use domain::PaymentMethod;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// The vault's storage.
#[derive(Debug)]
pub(super) enum Vault {
    /// This process's.
    Memory(&'static Memory),
    /// The database's, shared by every process on it.
    Postgres(PgPool),
}

/// The process's memory vault, with a secret of its own.
#[derive(Debug)]
pub(super) struct Memory {
    secret: [u8; 32],
    tokens: Mutex<HashMap<String, String>>,
}

fn unavailable(error: &sqlx::Error) -> ProviderError {
    ProviderError::Unavailable(format!("simulated provider vault: {error}"))
}

fn method(reference: &str, fingerprint: &str) -> Result<PaymentMethod, ProviderError> {
    PaymentMethod::new(reference, fingerprint)
        .map_err(|why| ProviderError::Unavailable(format!("simulated provider vault: {why}")))
}

impl Vault {
    pub(super) fn memory() -> Self {
        static MEMORY: OnceLock<Memory> = OnceLock::new();
        Self::Memory(MEMORY.get_or_init(|| {
            let mut secret = [0; 32];
            secret[..16].copy_from_slice(Uuid::new_v4().as_bytes());
            secret[16..].copy_from_slice(Uuid::new_v4().as_bytes());
            Memory {
                secret,
                tokens: Mutex::default(),
            }
        }))
    }

    /// Keeps `token` under a new reference.
    pub(super) async fn register(&self, token: &str) -> Result<PaymentMethod, ProviderError> {
        let reference = format!("pm_{}", Uuid::now_v7().simple());
        match self {
            Self::Memory(Memory { secret, tokens }) => {
                let digest = Sha256::new()
                    .chain_update(secret)
                    .chain_update(token.as_bytes())
                    .finalize();
                let fingerprint = format!("fp_{}", crate::secret_file::hex(&digest[..10]));
                tokens
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(reference.clone(), token.to_owned());
                method(&reference, &fingerprint)
            }
            Self::Postgres(pool) => {
                let fingerprint: String = sqlx::query_scalar(
                    "INSERT INTO simulated_payment_methods (reference, token, fingerprint)
                     SELECT $1, $2, 'fp_' || left(encode(sha256(secret || convert_to($2, 'UTF8')), 'hex'), 20)
                     FROM simulated_payment_vault
                     RETURNING fingerprint",
                )
                .bind(&reference)
                .bind(token)
                .fetch_one(pool)
                .await
                .map_err(|e| unavailable(&e))?;
                method(&reference, &fingerprint)
            }
        }
    }

    /// The token kept under `reference`, `None` for a reference it never answered.
    pub(super) async fn token(&self, reference: &str) -> Result<Option<String>, ProviderError> {
        match self {
            Self::Memory(Memory { tokens, .. }) => Ok(tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(reference)
                .cloned()),
            Self::Postgres(pool) => sqlx::query_scalar(
                "SELECT token FROM simulated_payment_methods WHERE reference = $1",
            )
            .bind(reference)
            .fetch_optional(pool)
            .await
            .map_err(|e| unavailable(&e)),
        }
    }
}
