//! The GraphQL API: schema (queries, mutations, subscriptions), its hardening, and its
//! HTTP and WebSocket mounts.
//!
//! - [`QueryRoot`] (the read models' [`Query`] and the audit trail's [`HistoryQuery`]),
//!   [`Mutation`], [`Subscription`]: the roots; mutations take an `input` object checked by
//!   the same limits as the REST bodies and answer a [`CommandResultObject`] (never to an
//!   auditor); subscriptions poll the read models and the log.
//! - [`router`]: `POST /graphql` (one JSON request, no batches, bounded body), `GET
//!   /graphql` (GraphiQL, served offline; never runs operations), `GET /graphql/ws`
//!   (subscriptions over graphql-transport-ws, see `ws`).
//! - `context`: what resolvers know of their request: the caller, authenticated lazily,
//!   and the `Idempotency-Key`.
//!
//! Limits: depth 12, complexity 500 (`integrity` costs 400, so one per request), 30
//! aliases and 2 000 fields with fragments inlined (`document_size`), 8 directives per
//! field, parser recursion 32; with introspection on,
//! introspection-only queries may nest deeper (GraphiQL's needs 15).

mod as_of;
mod command_result;
mod context;
mod dead_letters;
mod document_size;
mod graphiql;
mod history;
mod http;
mod idempotency;
mod inputs;
mod integrity;
mod introspection;
mod mutation;
mod operation;
mod order_loader;
mod query;
mod reads;
mod rebuild;
mod response;
mod subscription;
mod tallies;
mod ws;
mod ws_gate;

use async_graphql::{MergedObject, Schema};

pub use command_result::CommandResultObject;
pub use dead_letters::{DeadLetterMutation, DeadLetterQuery};
pub use history::HistoryQuery;
pub use http::router;
pub use inputs::{
    AssignTicketInput, CancelOrderInput, ClientCancellationReason, CloseTicketInput,
    OpenTicketInput, OrderLineInput, PlaceOrderInput, PostTicketMessageInput, RegisterProductInput,
    ReopenTicketInput, RestockInput, ShipOrderInput,
};
pub use mutation::Mutation;
pub use query::Query;
pub use rebuild::RebuildProjectionInput;
pub use subscription::{AppendedEvent, Subscription};
pub use tallies::TallyQuery;

/// The root of the queries: the read models, the audit trail and the saga's dead letters.
#[derive(Debug, Default, MergedObject)]
#[graphql(name = "Query")]
pub struct QueryRoot(Query, HistoryQuery, DeadLetterQuery, TallyQuery);

/// The root of the mutations: the commands and the operators' redrive.
#[derive(Debug, Default, MergedObject)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(Mutation, DeadLetterMutation);

/// The schema served at `/graphql`.
pub type ApiSchema = Schema<QueryRoot, MutationRoot, Subscription>;

/// Builds the schema. `introspection` switches introspection and field suggestions on
/// (off in production).
#[must_use]
pub fn schema(introspection: bool) -> ApiSchema {
    build(introspection, MAX_DEPTH)
}

/// The depth limit of operations.
const MAX_DEPTH: usize = 12;

/// The schema with the depth limit `depth`.
fn build(introspection: bool, depth: usize) -> ApiSchema {
    let builder = Schema::build(QueryRoot::default(), MutationRoot::default(), Subscription)
        .limit_depth(depth)
        .limit_complexity(500)
        .limit_directives(8)
        .limit_recursive_depth(32);
    let builder = if introspection {
        builder
    } else {
        builder.disable_introspection().disable_suggestions()
    };
    builder.finish()
}
