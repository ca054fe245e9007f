//! Idempotency keys, the same for every command on both transports: the first request with
//! a key runs; a repeat of the same request gets the first answer again; the same key with
//! another request is refused; a repeat while the first still runs waits for it, bounded.
//! The records are kept behind [`IdempotencyStore`]; an answer is kept for a time to live
//! ([`Idempotency::sweep`]), after which the key may run again. A command sent again under
//! the same key even then takes effect once: its command id derives from the key, and the
//! event store recognises it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Actor, Error};

/// The longest key, in characters.
const MAX_KEY_LEN: usize = 255;
/// How often a request waiting for the first one with its key looks again.
const RECHECK: Duration = Duration::from_millis(15);

/// What a request with an idempotency key should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This request owns the key: run it, then complete or release it.
    Owner,
    /// The key already answered this request: send that answer again.
    Replay {
        /// The status of the first answer (an HTTP status).
        status: u16,
        /// Its JSON body.
        body: Value,
    },
    /// The key belongs to a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// Where the keys' records are kept.
#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` of `caller` for a request whose content hashes to `request_hash`.
    async fn claim(&self, caller: &str, key: &str, request_hash: &[u8]) -> Result<Claim, Error>;
    /// Records the answer of the request that owns `key`.
    async fn complete(
        &self,
        caller: &str,
        key: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Error>;
    /// Gives `key` up after its request failed, so a retry runs again.
    async fn release(&self, caller: &str, key: &str) -> Result<(), Error>;
    /// Deletes the answers completed more than `age` ago; how many there were.
    async fn forget(&self, age: Duration) -> Result<u64, Error>;
}

/// The longest pause between two sweeps of expired answers.
const MAX_SWEEP_EVERY: Duration = Duration::from_secs(600);

/// A stored or fresh answer.
#[derive(Debug)]
pub struct Answer {
    /// The status (an HTTP status).
    pub status: u16,
    /// The JSON body.
    pub body: Value,
    /// Whether this repeats the first answer.
    pub replayed: bool,
}

/// Running requests once per idempotency key.
#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    wait: Duration,
}

impl fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Idempotency")
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl Idempotency {
    /// Keys recorded in `store`; a repeat waits at most `wait` for the first request.
    #[must_use]
    pub fn new(store: Arc<dyn IdempotencyStore>, wait: Duration) -> Self {
        Self { store, wait }
    }

    /// Checks a key as sent: 1 to 255 visible ASCII characters.
    ///
    /// # Errors
    /// [`Error::Validation`] otherwise.
    pub fn key(raw: &[u8]) -> Result<&str, Error> {
        std::str::from_utf8(raw)
            .ok()
            .filter(|k| (1..=MAX_KEY_LEN).contains(&k.len()))
            .filter(|k| k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                Error::Validation(
                    "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
                )
            })
    }

    /// Runs `run` once for `key` of `actor`: `request` (the method, path and body as sent)
    /// tells a repeat from a different request. `run` answers `Ok` for an answer worth
    /// repeating (it is stored), `Err` for a failure (the key is freed so a retry runs again).
    ///
    /// # Errors
    /// `run`'s error; [`Error::IdempotencyMismatch`] for another request under the same
    /// key; [`Error::Busy`] when the first request is still running after the wait; the
    /// store's error when the records cannot be read or written.
    pub async fn once<E, F, Fut>(
        &self,
        actor: &Actor,
        key: &str,
        request: &[&[u8]],
        run: F,
    ) -> Result<Answer, E>
    where
        E: From<Error>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(u16, Value), E>>,
    {
        let subject = actor.principal();
        let hash = request
            .iter()
            .fold(Sha256::new(), |hash, part| {
                hash.chain_update(part).chain_update([0])
            })
            .finalize();
        let started = Instant::now();
        loop {
            match self.store.claim(&subject, key, &hash).await? {
                Claim::Owner => {
                    // Dropped before it finishes (the request timed out or the client
                    // left), the claim is given up at once, so a retry under the key runs
                    // again rather than waiting for the claim to go stale.
                    let mut claim = Held {
                        store: Some(Arc::clone(&self.store)),
                        subject: subject.clone(),
                        key: key.to_owned(),
                    };
                    let outcome = run().await;
                    claim.store = None;
                    return match outcome {
                        Ok((status, body)) => {
                            self.store.complete(&subject, key, status, &body).await?;
                            Ok(Answer {
                                status,
                                body,
                                replayed: false,
                            })
                        }
                        Err(error) => {
                            self.store.release(&subject, key).await?;
                            Err(error)
                        }
                    };
                }
                Claim::Replay { status, body } => {
                    return Ok(Answer {
                        status,
                        body,
                        replayed: true,
                    });
                }
                Claim::Mismatch => return Err(Error::IdempotencyMismatch.into()),
                Claim::InProgress if started.elapsed() < self.wait => {
                    tokio::time::sleep(RECHECK).await;
                }
                Claim::InProgress => {
                    return Err(Error::Busy(
                        "a request with this Idempotency-Key is still running".into(),
                    )
                    .into());
                }
            }
        }
    }
}

/// A claim whose request is running; released in the background if dropped while `store`
/// is still set.
struct Held {
    store: Option<Arc<dyn IdempotencyStore>>,
    subject: String,
    key: String,
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(store) = self.store.take() else {
            return;
        };
        let (subject, key) = (
            std::mem::take(&mut self.subject),
            std::mem::take(&mut self.key),
        );
        // Outside a runtime (nothing can run the release) the claim goes stale as before.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = store.release(&subject, &key).await {
                    tracing::warn!(%error, "an abandoned idempotency claim was not released");
                }
            });
        }
    }
}

impl Idempotency {
    /// Deletes the answers completed more than `ttl` ago, every quarter of `ttl` (at most
    /// every ten minutes), until `stopped` turns `true`. A sweep that fails is logged and
    /// tried again next time.
    pub async fn sweep(self, ttl: Duration, mut stopped: tokio::sync::watch::Receiver<bool>) {
        let every = (ttl / 4).min(MAX_SWEEP_EVERY);
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = stopped.wait_for(|stop| *stop) => return,
            }
            match self.store.forget(ttl).await {
                Ok(0) => {}
                Ok(forgotten) => tracing::debug!(forgotten, "expired idempotency answers deleted"),
                Err(error) => tracing::warn!(%error, "expired idempotency answers not deleted"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        assert_eq!(Idempotency::key(b"k-1").ok(), Some("k-1"));
        assert!(Idempotency::key("k".repeat(255).as_bytes()).is_ok());
        for bad in [&b""[..], b"a b", "k".repeat(256).as_bytes(), "é".as_bytes()] {
            assert!(
                matches!(Idempotency::key(bad), Err(Error::Validation(_))),
                "{bad:?}"
            );
        }
    }
}
