//! Introspection for tools. The query GraphiQL (graphql-js 16) sends nests `ofType` nine
//! deep: depth 15, over the depth limit of operations. When introspection is on, a query
//! that selects nothing but introspection fields (`__schema`, `__type`, `__typename`) runs
//! on a twin of the schema with a depth limit that fits it; it reads only the type
//! registry, never a resolver, and the complexity limit still applies. Every other
//! operation keeps the schema's limits.

use std::sync::LazyLock;

use async_graphql::Request;
use async_graphql::parser::types::{OperationType, Selection};

use super::operation::selected;
use super::{ApiSchema, build};

/// The depth introspection queries may reach: graphql-js's query needs 15.
pub const INTROSPECTION_DEPTH: usize = 16;

static SCHEMA: LazyLock<ApiSchema> = LazyLock::new(|| build(true, INTROSPECTION_DEPTH));

/// The schema introspection-only queries run on.
#[must_use]
pub fn schema() -> &'static ApiSchema {
    &SCHEMA
}

/// Whether `request` is a query selecting only introspection fields (no fragments at the
/// root, so nothing else can hide there). A document that does not parse is not.
#[must_use]
pub fn is_introspection_only(request: &mut Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    let Some(operation) = selected(document, name.as_deref()) else {
        return false;
    };
    let items = &operation.selection_set.node.items;
    operation.ty == OperationType::Query
        && !items.is_empty()
        && items.iter().all(|item| match &item.node {
            Selection::Field(field) => matches!(
                field.node.name.node.as_str(),
                "__schema" | "__type" | "__typename"
            ),
            Selection::FragmentSpread(_) | Selection::InlineFragment(_) => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What GraphiQL 3.9 sends to load the schema (`getIntrospectionQuery()` of graphql 16).
    const GRAPHIQL_QUERY: &str = include_str!("graphiql_introspection.graphql");

    fn only(query: &str) -> bool {
        is_introspection_only(&mut Request::new(query))
    }

    #[tokio::test]
    async fn graphiql_can_load_the_schema() {
        let mut request = Request::new(GRAPHIQL_QUERY);
        assert!(is_introspection_only(&mut request));
        let response = schema().execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        // The operations' schema alone would refuse it: that is why the twin exists.
        let refused = super::super::schema(true).execute(GRAPHIQL_QUERY).await;
        assert!(!refused.errors.is_empty());
    }

    #[test]
    fn only_pure_introspection_queries_qualify() {
        assert!(only("{ __schema { queryType { name } } }"));
        assert!(only(
            "query { __type(name: \"Query\") { name } __typename }"
        ));
        assert!(!only("{ apiVersion __schema { queryType { name } } }"));
        assert!(!only("{ ...F } fragment F on Query { __typename }"));
        assert!(!only("mutation { __typename }"));
        assert!(!only("{ __schema "));
    }
}
