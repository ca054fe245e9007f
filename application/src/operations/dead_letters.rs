//! The saga's dead letters as operators see them: the actions it gave up on, and their
//! redrive through the [`DeadLetters`] port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::Error;

/// One dead letter.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Its id, for a redrive.
    pub id: i64,
    /// The order whose saga failed.
    pub order: Uuid,
    /// The action that failed, e.g. `ChargePayment`.
    pub action: String,
    /// The event that caused it: `{position, stream, version, eventType}` (empty for a
    /// deadline).
    pub cause: Value,
    /// The last error.
    pub error: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When it first failed.
    pub first_failed_at: DateTime<Utc>,
    /// When it last failed.
    pub last_failed_at: DateTime<Utc>,
}

/// What a redrive came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redrive {
    /// Every remaining action went through; the dead letter is gone.
    Completed,
    /// An action failed again; the dead letter stays, with the new error.
    Failed {
        /// The error.
        error: String,
        /// Attempts so far.
        attempts: i32,
    },
}

/// Where the dead letters are kept, who carries them out again, and the sagas still in
/// flight.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// Up to `limit` letters after the id `after`, oldest first.
    async fn list(&self, after: Option<i64>, limit: i64) -> Result<Vec<DeadLetter>, Error>;

    /// Carries out the letter `id` again, and the rest of its step; removes it when they
    /// go through.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown id; the store's error.
    async fn redrive(&self, id: i64) -> Result<Redrive, Error>;

    /// How many sagas stand in each phase not yet final (`NOT_STARTED`, `RESERVING`,
    /// `PAYING`, `CONFIRMING`).
    async fn in_flight(&self) -> Result<Vec<crate::queries::Tally>, Error>;
}
