//! Customers' data keys in PostgreSQL (table `customer_keys`), each encrypted under the
//! master key from the settings (`--data-key`, a file outside the database), and the
//! encryption of personal fields with them: crypto-shredding.
//!
//! A protected value is `enc1:KEY:DATA`: `KEY` the data key's id (32 hex digits), `DATA`
//! the base64url of nonce ‖ AES-256-GCM ciphertext ‖ tag, bound to the key id. Erasing a
//! customer sets their keys' `wrapped_key` to NULL: whatever they protected reads as
//! [`ERASED`] from then on, in every process (keys are read per request, never cached).

mod cipher;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use application::Error;
use application::personal_data::{ERASED, PROTECTED_PREFIX, PersonalData, Unprotected};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::PgPool;
use uuid::Uuid;

use crate::secret_file::{generate_private_seed, read_private_seed};
use cipher::{Cipher, random_key};

/// The master key: 32 bytes in a file readable by its owner only, which encrypts the
/// customers' data keys.
#[derive(Debug)]
pub struct DataKey(Cipher);

impl DataKey {
    /// Reads the key in `path`.
    ///
    /// # Errors
    /// A message naming the file when it cannot be read, is readable by anyone but its
    /// owner, or is not 32 bytes of hex.
    pub fn load(path: &Path) -> Result<Self, String> {
        Cipher::new(&read_private_seed(path, "data key")?).map(Self)
    }

    /// Makes a new key and writes it to `path`, which must not exist.
    ///
    /// # Errors
    /// A message when `path` exists or cannot be written.
    pub fn generate(path: &Path) -> Result<Self, String> {
        Cipher::new(&generate_private_seed(path)?).map(Self)
    }
}

/// What `data_key_check` holds sealed under the data key.
const CHECK: &[u8] = b"domainflow data key check";

/// Customers' personal data over the database behind `pool`: encrypted under `data_key`
/// when one is given, in the clear otherwise. The database remembers which key its data
/// is written with (table `data_key_check`), so that no process writes it under another
/// key, or in the clear beside encrypted data. A server (`claim`) makes its key the
/// database's when it has none yet; the command-line tools do not.
///
/// # Errors
/// A message saying why this process must not start: another key than the database's, or
/// none for a database whose personal data is encrypted, or a key for a database that has
/// none (without `claim`); or the database's error.
pub async fn open_personal_data(
    pool: &PgPool,
    data_key: Option<Arc<DataKey>>,
    claim: bool,
) -> Result<Arc<dyn PersonalData>, String> {
    let sealed = stored_check(pool).await?;
    let Some(key) = data_key else {
        return match sealed {
            None => Ok(Arc::new(Clear {
                pool: pool.clone(),
                checked: Mutex::new(None),
            })),
            Some(_) => Err(ENCRYPTED.into()),
        };
    };
    let sealed = match sealed {
        Some(sealed) => sealed,
        None if claim => {
            let sealed = key.0.seal(CHECK, CHECK)?;
            sqlx::query("INSERT INTO data_key_check (sealed) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(sealed)
                .execute(pool)
                .await
                .map_err(|e| format!("writing data_key_check: {e}"))?;
            // Another process may have written its key first: check against the stored one.
            stored_check(pool)
                .await?
                .ok_or("data_key_check is empty after it was written")?
        }
        None => {
            return Err(
                "this database has no data key yet: a server started with --data-key \
                 makes its key the database's"
                    .into(),
            );
        }
    };
    if key.0.open(CHECK, &sealed).is_none() {
        return Err(
            "the --data-key given is not the key this database's personal data is \
             written with"
                .into(),
        );
    }
    Ok(Arc::new(PgPersonalData::new(pool.clone(), key)))
}

/// Why a process without a data key must not write to a database that has one.
const ENCRYPTED: &str = "this database keeps customers' personal data encrypted: start with the --data-key it \
     was written with";

async fn stored_check(pool: &PgPool) -> Result<Option<Vec<u8>>, String> {
    sqlx::query_scalar("SELECT sealed FROM data_key_check")
        .fetch_optional(pool)
        .await
        .map_err(|e| format!("reading data_key_check: {e}"))
}

/// How long a process without a data key trusts that the database still has none.
const RECHECK: Duration = Duration::from_secs(5);

/// Personal data in the clear, for a database without a data key: as
/// [`application::personal_data::Unprotected`], except that it stops writing once a server
/// with a key has made it the database's (looked at again every [`RECHECK`]), rather than
/// write in the clear beside encrypted data.
#[derive(Debug)]
struct Clear {
    pool: PgPool,
    /// When the database was last seen without a key.
    checked: Mutex<Option<Instant>>,
}

#[async_trait]
impl PersonalData for Clear {
    async fn protect(&self, customer: &str, texts: &[String]) -> Result<Vec<String>, Error> {
        let fresh = self
            .checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < RECHECK);
        if !fresh {
            if stored_check(&self.pool)
                .await
                .map_err(Error::Infrastructure)?
                .is_some()
            {
                return Err(Error::Infrastructure(ENCRYPTED.into()));
            }
            *self.checked.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        }
        Unprotected.protect(customer, texts).await
    }

    async fn reveal(&self, texts: &[String]) -> Result<Vec<String>, Error> {
        Unprotected.reveal(texts).await
    }

    async fn erase(&self, customer: &str) -> Result<u64, Error> {
        Unprotected.erase(customer).await
    }
}

/// The additional data a data key is wrapped with: its id and its customer, so that a key
/// moved to another customer's row does not open.
fn wrapping_aad(key_id: Uuid, customer: &str) -> Vec<u8> {
    [
        b"domainflow data key ".as_slice(),
        key_id.as_bytes(),
        customer.as_bytes(),
    ]
    .concat()
}

/// What a protected value reads as when it cannot be opened and was not erased: its
/// ciphertext was changed where it is stored (in the log, `verify` names where; in a read
/// model, a rebuild restores it), or its key row was changed or deleted. Logged as an error.
const UNREADABLE: &str = "[unreadable]";

fn failed(what: &str, error: &sqlx::Error) -> Error {
    Error::Infrastructure(format!("{what}: {error}"))
}

/// The customers' data keys in the database behind a pool, under a master key.
#[derive(Debug)]
pub struct PgPersonalData {
    pool: PgPool,
    master: Arc<DataKey>,
}

impl PgPersonalData {
    /// Keys in the database behind `pool`, wrapped with `master`.
    #[must_use]
    pub fn new(pool: PgPool, master: Arc<DataKey>) -> Self {
        Self { pool, master }
    }

    /// `customer`'s live data key, made now if they have none.
    async fn key_of(&self, customer: &str) -> Result<(Uuid, Cipher), Error> {
        for _ in 0..2 {
            let live: Option<(Uuid, Option<Vec<u8>>)> = sqlx::query_as(
                "SELECT key_id, wrapped_key FROM customer_keys
                 WHERE customer_id = $1 AND erased_at IS NULL",
            )
            .bind(customer)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| failed("reading a data key", &e))?;
            if let Some((key_id, Some(wrapped))) = live {
                return Ok((key_id, self.unwrap_key(key_id, customer, &wrapped)?));
            }
            let key_id = Uuid::now_v7();
            let key = random_key().map_err(Error::Infrastructure)?;
            let wrapped = self
                .master
                .0
                .seal(&wrapping_aad(key_id, customer), &key)
                .map_err(Error::Infrastructure)?;
            // Another process may make the customer's key at the same moment: one wins,
            // and both use it.
            let made = sqlx::query(
                "INSERT INTO customer_keys (key_id, customer_id, wrapped_key)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (customer_id) WHERE erased_at IS NULL DO NOTHING",
            )
            .bind(key_id)
            .bind(customer)
            .bind(&wrapped)
            .execute(&self.pool)
            .await
            .map_err(|e| failed("storing a data key", &e))?;
            if made.rows_affected() == 1 {
                return Ok((key_id, Cipher::new(&key).map_err(Error::Infrastructure)?));
            }
        }
        Err(Error::Infrastructure(format!(
            "no data key could be made for customer {customer}"
        )))
    }

    fn unwrap_key(&self, key_id: Uuid, customer: &str, wrapped: &[u8]) -> Result<Cipher, Error> {
        let aad = wrapping_aad(key_id, customer);
        let key = self.master.0.open(&aad, wrapped).ok_or_else(|| {
            Error::Infrastructure(format!(
                "data key {key_id} of customer {customer} does not open with the data key: its \
                 row was changed"
            ))
        })?;
        Cipher::new(&key).map_err(Error::Infrastructure)
    }
}

/// The key id and sealed bytes of a protected value; `None` for any other text.
fn parse(text: &str) -> Option<(Uuid, Vec<u8>)> {
    let (key, data) = text.strip_prefix(PROTECTED_PREFIX)?.split_once(':')?;
    Some((
        Uuid::try_parse(key).ok()?,
        URL_SAFE_NO_PAD.decode(data).ok()?,
    ))
}

#[async_trait]
impl PersonalData for PgPersonalData {
    async fn protect(&self, customer: &str, texts: &[String]) -> Result<Vec<String>, Error> {
        let (key_id, key) = self.key_of(customer).await?;
        texts
            .iter()
            .map(|text| {
                let sealed = key
                    .seal(key_id.as_bytes(), text.as_bytes())
                    .map_err(Error::Infrastructure)?;
                Ok(format!(
                    "{PROTECTED_PREFIX}{}:{}",
                    key_id.simple(),
                    URL_SAFE_NO_PAD.encode(sealed)
                ))
            })
            .collect()
    }

    async fn reveal(&self, texts: &[String]) -> Result<Vec<String>, Error> {
        let parsed: Vec<Option<(Uuid, Vec<u8>)>> = texts.iter().map(|t| parse(t)).collect();
        let mut ids: Vec<Uuid> = parsed.iter().flatten().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() && !texts.iter().any(|t| t.starts_with(PROTECTED_PREFIX)) {
            return Ok(texts.to_vec());
        }
        let rows: Vec<(Uuid, String, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT key_id, customer_id, wrapped_key FROM customer_keys WHERE key_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| failed("reading data keys", &e))?;
        // Per key: a destroyed one (`None`), or one that does not open (its row changed),
        // which spoils only the values under it.
        let mut keys = HashMap::new();
        for (key_id, customer, wrapped) in rows {
            let key = match wrapped {
                None => None,
                Some(wrapped) => match self.unwrap_key(key_id, &customer, &wrapped) {
                    Ok(key) => Some(Some(key)),
                    Err(error) => {
                        tracing::error!(%error, "a data key does not open");
                        Some(None)
                    }
                },
            };
            keys.insert(key_id, key);
        }
        texts
            .iter()
            .zip(parsed)
            .map(|(text, parsed)| match parsed {
                None if text.starts_with(PROTECTED_PREFIX) => {
                    tracing::error!("a protected value is malformed");
                    Ok(UNREADABLE.to_owned())
                }
                None => Ok(text.clone()),
                Some((key_id, sealed)) => match keys.get(&key_id) {
                    // Destroyed by an erasure.
                    Some(None) => Ok(ERASED.to_owned()),
                    // No such key row: erasures keep theirs, so it was deleted behind the
                    // server's back; or its row was changed.
                    None | Some(Some(None)) => {
                        tracing::error!(%key_id, "a protected value's data key is missing or does not open");
                        Ok(UNREADABLE.to_owned())
                    }
                    Some(Some(Some(key))) => Ok(key
                        .open(key_id.as_bytes(), &sealed)
                        .and_then(|plain| String::from_utf8(plain).ok())
                        .unwrap_or_else(|| {
                            tracing::error!(%key_id, "a protected value does not decrypt: it was changed");
                            UNREADABLE.to_owned()
                        })),
                },
            })
            .collect()
    }

    async fn erase(&self, customer: &str) -> Result<u64, Error> {
        let erased = sqlx::query(
            "UPDATE customer_keys SET wrapped_key = NULL, erased_at = now()
             WHERE customer_id = $1 AND erased_at IS NULL",
        )
        .bind(customer)
        .execute(&self.pool)
        .await
        .map_err(|e| failed("destroying data keys", &e))?;
        Ok(erased.rows_affected())
    }
}
