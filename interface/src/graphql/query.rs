//! The queries. The read-model queries of API.md come with their own issue; until then the
//! root holds the one field GraphQL requires.

use async_graphql::Object;

/// The root of the queries.
#[derive(Debug, Default, Clone, Copy)]
pub struct Query;

#[Object]
impl Query {
    /// The version of the domainflow server answering.
    async fn api_version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
}
