//! Where the simulated provider keeps its ledger: in memory (one process, gone on restart)
//! or in PostgreSQL (table `simulated_payments`), so that a restart, another replica or an
//! operator's CLI redrive sees the charges already made.
//!
//! Every write keeps the first answer: a charge decided once stays decided, whoever asks.
//! A charge under way (`tok_lateApproval`) is stored with the time it captures at, and
//! counts as captured from then on, without any task having to survive until then.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use application::saga::{Charge, ProviderError};
use domain::Money;
use sqlx::PgPool;
use uuid::Uuid;

/// What the ledger knows of one payment's charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Known {
    /// Answered; every later charge repeats this answer.
    Answered(Charge),
    /// Under way; it captures later.
    Pending,
    /// Nothing decided.
    Nothing,
}

/// The ledger's storage.
#[derive(Debug)]
pub(super) enum Ledger {
    Memory(Mutex<Memory>),
    Postgres(PgPool),
}

#[derive(Debug, Default)]
pub(super) struct Memory {
    answered: HashMap<Uuid, Charge>,
    pending_until: HashMap<Uuid, Instant>,
    flaky_calls: HashMap<Uuid, u32>,
    refunded: HashMap<Uuid, Money>,
}

impl Memory {
    /// Captures a charge under way whose time has come.
    fn settle(&mut self, payment: Uuid) {
        if let Some(until) = self.pending_until.get(&payment).copied()
            && until <= Instant::now()
        {
            self.pending_until.remove(&payment);
            self.answered.entry(payment).or_insert(Charge::Approved);
        }
    }

    fn known(&mut self, payment: Uuid) -> Known {
        self.settle(payment);
        match self.answered.get(&payment) {
            Some(answer) => Known::Answered(answer.clone()),
            None if self.pending_until.contains_key(&payment) => Known::Pending,
            None => Known::Nothing,
        }
    }
}

fn unavailable(error: &sqlx::Error) -> ProviderError {
    ProviderError::Unavailable(format!("simulated provider ledger: {error}"))
}

fn charge_from(outcome: Option<String>, reason: Option<String>) -> Option<Charge> {
    match outcome.as_deref() {
        Some("approved") => Some(Charge::Approved),
        Some(_) => Some(Charge::Declined {
            reason: reason.unwrap_or_default(),
        }),
        None => None,
    }
}

impl Ledger {
    pub(super) fn memory() -> Self {
        Self::Memory(Mutex::default())
    }

    fn lock(memory: &Mutex<Memory>) -> MutexGuard<'_, Memory> {
        memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What is known of `payment`'s charge.
    pub(super) async fn known(&self, payment: Uuid) -> Result<Known, ProviderError> {
        let pool = match self {
            Self::Memory(memory) => return Ok(Self::lock(memory).known(payment)),
            Self::Postgres(pool) => pool,
        };
        sqlx::query(
            "UPDATE simulated_payments
             SET outcome = 'approved', pending_until = NULL, updated_at = now()
             WHERE payment_id = $1 AND outcome IS NULL AND pending_until <= now()",
        )
        .bind(payment)
        .execute(pool)
        .await
        .map_err(|e| unavailable(&e))?;
        let row: Option<(Option<String>, Option<String>, bool)> = sqlx::query_as(
            "SELECT outcome, decline_reason, coalesce(pending_until > now(), false)
             FROM simulated_payments WHERE payment_id = $1",
        )
        .bind(payment)
        .fetch_optional(pool)
        .await
        .map_err(|e| unavailable(&e))?;
        Ok(match row {
            Some((outcome, reason, pending)) => match charge_from(outcome, reason) {
                Some(answer) => Known::Answered(answer),
                None if pending => Known::Pending,
                None => Known::Nothing,
            },
            None => Known::Nothing,
        })
    }

    /// Records `answer` unless the charge was answered already; the answer that stands.
    pub(super) async fn answer(
        &self,
        payment: Uuid,
        answer: Charge,
    ) -> Result<Charge, ProviderError> {
        let pool = match self {
            Self::Memory(memory) => {
                let mut memory = Self::lock(memory);
                return Ok(memory.answered.entry(payment).or_insert(answer).clone());
            }
            Self::Postgres(pool) => pool,
        };
        let (outcome, reason) = match &answer {
            Charge::Approved => ("approved", None),
            Charge::Declined { reason } => ("declined", Some(reason.as_str())),
        };
        let (outcome, reason): (Option<String>, Option<String>) = sqlx::query_as(
            "INSERT INTO simulated_payments (payment_id, outcome, decline_reason)
             VALUES ($1, $2, $3)
             ON CONFLICT (payment_id) DO UPDATE SET
               outcome = coalesce(simulated_payments.outcome, excluded.outcome),
               decline_reason = CASE WHEN simulated_payments.outcome IS NULL
                                     THEN excluded.decline_reason
                                     ELSE simulated_payments.decline_reason END,
               updated_at = now()
             RETURNING outcome, decline_reason",
        )
        .bind(payment)
        .bind(outcome)
        .bind(reason)
        .fetch_one(pool)
        .await
        .map_err(|e| unavailable(&e))?;
        Ok(charge_from(outcome, reason).unwrap_or(answer))
    }

    /// Starts a charge that captures `late_by` from now, unless one is under way already.
    pub(super) async fn begin_pending(
        &self,
        payment: Uuid,
        late_by: Duration,
    ) -> Result<(), ProviderError> {
        match self {
            Self::Memory(memory) => {
                Self::lock(memory)
                    .pending_until
                    .entry(payment)
                    .or_insert_with(|| Instant::now() + late_by);
                Ok(())
            }
            Self::Postgres(pool) => {
                let micros = i64::try_from(late_by.as_micros()).unwrap_or(i64::MAX);
                sqlx::query(
                    "INSERT INTO simulated_payments (payment_id, pending_until)
                     VALUES ($1, now() + $2 * interval '1 microsecond')
                     ON CONFLICT (payment_id) DO UPDATE SET
                       pending_until = coalesce(simulated_payments.pending_until,
                                                excluded.pending_until),
                       updated_at = now()",
                )
                .bind(payment)
                .bind(micros)
                .execute(pool)
                .await
                .map_err(|e| unavailable(&e))?;
                Ok(())
            }
        }
    }

    /// Counts one more call of a `tok_flaky` charge; how many there have been.
    pub(super) async fn flaky_call(&self, payment: Uuid) -> Result<u32, ProviderError> {
        match self {
            Self::Memory(memory) => {
                let mut memory = Self::lock(memory);
                let calls = memory.flaky_calls.entry(payment).or_default();
                *calls += 1;
                Ok(*calls)
            }
            Self::Postgres(pool) => {
                let calls: i32 = sqlx::query_scalar(
                    "INSERT INTO simulated_payments (payment_id, flaky_calls) VALUES ($1, 1)
                     ON CONFLICT (payment_id) DO UPDATE SET
                       flaky_calls = simulated_payments.flaky_calls + 1, updated_at = now()
                     RETURNING flaky_calls",
                )
                .bind(payment)
                .fetch_one(pool)
                .await
                .map_err(|e| unavailable(&e))?;
                Ok(u32::try_from(calls).unwrap_or(u32::MAX))
            }
        }
    }

    /// Records that `amount` was paid back for `payment` (the first refund stands).
    pub(super) async fn refund(&self, payment: Uuid, amount: Money) -> Result<(), ProviderError> {
        match self {
            Self::Memory(memory) => {
                Self::lock(memory).refunded.entry(payment).or_insert(amount);
                Ok(())
            }
            Self::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO simulated_payments (payment_id, refunded_minor, refunded_currency)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (payment_id) DO UPDATE SET
                       refunded_minor = coalesce(simulated_payments.refunded_minor,
                                                 excluded.refunded_minor),
                       refunded_currency = coalesce(simulated_payments.refunded_currency,
                                                    excluded.refunded_currency),
                       updated_at = now()",
                )
                .bind(payment)
                .bind(amount.minor())
                .bind(amount.currency().to_string())
                .execute(pool)
                .await
                .map_err(|e| unavailable(&e))?;
                Ok(())
            }
        }
    }

    /// For an in-memory ledger, what is known of `payment` without waiting.
    pub(super) fn known_now(&self, payment: Uuid) -> Option<Known> {
        match self {
            Self::Memory(memory) => Some(Self::lock(memory).known(payment)),
            Self::Postgres(_) => None,
        }
    }

    /// For an in-memory ledger, what was refunded for `payment`.
    pub(super) fn refunded_now(&self, payment: Uuid) -> Option<Money> {
        match self {
            Self::Memory(memory) => Self::lock(memory).refunded.get(&payment).copied(),
            Self::Postgres(_) => None,
        }
    }
}
