//! Counts for the operators' dashboard: `orderCounts` (orders by status; the staff) and
//! `sagasInFlight` (sagas by phase not yet final; operators and auditors).

use application::queries::Tally;
use async_graphql::{Context, Object};

use super::context::state;
use super::reads::graphql_error;

/// How many of something stand under one label.
#[derive(Debug, Clone)]
pub struct TallyObject(pub Tally);

#[Object(name = "Tally")]
impl TallyObject {
    /// The label: an order status (`PENDING`, `CONFIRMED`, ...) or a saga phase
    /// (`RESERVING`, `PAYING`, `CONFIRMING`).
    async fn label(&self) -> &str {
        &self.0.label
    }

    /// How many.
    async fn count(&self) -> i64 {
        self.0.count
    }
}

/// The counts' queries.
#[derive(Debug, Default, Clone, Copy)]
pub struct TallyQuery;

#[Object]
impl TallyQuery {
    /// How many orders stand in each status that has any (agents, operators, auditors).
    async fn order_counts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TallyObject>> {
        let caller = super::context::caller(ctx).await?;
        let counts = state(ctx)?
            .queries
            .order_counts(&caller.actor)
            .await
            .map_err(graphql_error)?;
        Ok(counts.into_iter().map(TallyObject).collect())
    }

    /// How many sagas stand in each phase not yet final (operators, auditors).
    async fn sagas_in_flight(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TallyObject>> {
        let caller = super::context::caller(ctx).await?;
        let counts = state(ctx)?
            .operations
            .sagas_in_flight(&caller.actor)
            .await
            .map_err(graphql_error)?;
        Ok(counts.into_iter().map(TallyObject).collect())
    }
}
