//! The saga's dead letters over GraphQL: `deadLetters` (a Relay connection) and the
//! `retryDeadLetter` mutation (operators only).

use application::operations::{DeadLetter, Operations, Redrive};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::context::state;
use super::reads::graphql_error;
use super::reads::page_size;
use crate::error::ApiError;

/// The dead-letter queries.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeadLetterQuery;

/// The dead-letter mutations.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeadLetterMutation;

/// An action the order-fulfilment saga gave up on after its retries.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "DeadLetter")]
pub struct DeadLetterObject {
    /// Its id, for `retryDeadLetter`.
    id: ID,
    /// The order whose fulfilment stopped.
    order_id: ID,
    /// The action that failed, e.g. `ChargePayment`.
    action: String,
    /// The event that caused it (`eventId`, `position`, `stream`, `version`, `eventType`);
    /// empty for a payment deadline.
    cause: Json<Value>,
    /// The last error.
    error: String,
    /// Attempts so far.
    attempts: i32,
    /// When it first failed (RFC 3339).
    first_failed_at: String,
    /// When it last failed (RFC 3339).
    last_failed_at: String,
}

impl From<DeadLetter> for DeadLetterObject {
    fn from(letter: DeadLetter) -> Self {
        Self {
            id: ID(letter.id.to_string()),
            order_id: ID(letter.order.to_string()),
            action: letter.action,
            cause: Json(letter.cause),
            error: letter.error,
            attempts: letter.attempts,
            first_failed_at: instant(letter.first_failed_at),
            last_failed_at: instant(letter.last_failed_at),
        }
    }
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// What a redrive came to.
#[derive(Debug, Clone, SimpleObject)]
pub struct RedriveResult {
    /// The dead letter.
    id: ID,
    /// `COMPLETED` (the letter is gone) or `FAILED` (it stays, with the new error).
    status: String,
    /// The new error, when it failed again.
    error: Option<String>,
    /// Attempts so far, when it failed again.
    attempts: Option<i32>,
}

/// Which dead letter to redrive.
#[derive(Debug, InputObject)]
pub struct RetryDeadLetterInput {
    /// The dead letter's id.
    pub id: ID,
}

#[Object]
impl DeadLetterQuery {
    /// The saga's dead letters, oldest first (operators only).
    async fn dead_letters(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, DeadLetterObject>> {
        let caller = super::context::caller(ctx).await?;
        Operations::may_operate(&caller.actor).map_err(graphql_error)?;
        let first = page_size(first)?;
        let after_id = after
            .as_deref()
            .map(|cursor| {
                cursor.parse::<i64>().map_err(|_| {
                    ApiError::Validation(format!("after {cursor:?} is not a cursor")).to_graphql()
                })
            })
            .transpose()?;
        let limit = i64::try_from(first).unwrap_or(i64::MAX).saturating_add(1);
        let letters = state(ctx)?
            .operations
            .dead_letters(&caller.actor, after_id, limit)
            .await
            .map_err(graphql_error)?;
        let has_next = letters.len() > first;
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            letters
                .into_iter()
                .take(first)
                .map(|letter| Edge::new(letter.id.to_string(), DeadLetterObject::from(letter))),
        );
        Ok(connection)
    }
}

#[Object]
impl DeadLetterMutation {
    /// Carries out a dead letter's action again, and the rest of its step (operators only).
    async fn retry_dead_letter(
        &self,
        ctx: &Context<'_>,
        input: RetryDeadLetterInput,
    ) -> async_graphql::Result<RedriveResult> {
        let caller = super::context::caller(ctx).await?;
        caller.actor.may_command().map_err(graphql_error)?;
        Operations::may_operate(&caller.actor).map_err(graphql_error)?;
        let id: i64 = input.id.parse().map_err(|_| {
            ApiError::Validation(format!("{:?} is not a dead letter id", input.id.0)).to_graphql()
        })?;
        let outcome = state(ctx)?
            .operations
            .redrive(&caller.actor, id)
            .await
            .map_err(graphql_error)?;
        let (status, error, attempts) = match outcome {
            Redrive::Completed => ("COMPLETED", None, None),
            Redrive::Failed { error, attempts } => ("FAILED", Some(error), Some(attempts)),
        };
        Ok(RedriveResult {
            id: ID(id.to_string()),
            status: status.to_owned(),
            error,
            attempts,
        })
    }
}
