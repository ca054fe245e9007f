//! `Idempotency-Key` over GraphQL: the key names one command, so it is accepted for an
//! operation with exactly one mutation field. The command id derives from it
//! ([`crate::caller::Caller::metadata`]), and the request is recorded under the key like
//! any POST ([`crate::idempotency::once`]): a repeat gets the first answer, another request
//! under the same key is refused.

use async_graphql::Request;
use async_graphql::parser::types::{OperationType, Selection};
use axum::http::HeaderMap;

use super::context::IdempotencyKey;
use super::operation::selected;
use crate::error::ApiError;

/// The key to run `request` under: `None` without the header, for a request that is not a
/// mutation, or one that does not parse (its execution reports why).
///
/// # Errors
/// [`ApiError::Validation`] for a malformed key, or a key on a mutation operation that
/// does not consist of exactly one field.
pub fn key_for(
    headers: &HeaderMap,
    request: &mut Request,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(key) = crate::idempotency::key(headers)?.map(str::to_owned) else {
        return Ok(None);
    };
    let operation_name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return Ok(None);
    };
    let Some(operation) = selected(document, operation_name.as_deref()) else {
        return Ok(None);
    };
    if operation.ty != OperationType::Mutation {
        return Ok(None);
    }
    let items = &operation.selection_set.node.items;
    match items.as_slice() {
        [only] if matches!(only.node, Selection::Field(_)) => Ok(Some(IdempotencyKey(key))),
        _ => Err(ApiError::Validation(format!(
            "an Idempotency-Key names one command: the mutation must select exactly one \
             field (no fragments), it selects {}",
            items.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(key: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(key) {
            headers.insert(crate::idempotency::HEADER, value);
        }
        headers
    }

    fn key(key: &str, query: &str, operation: Option<&str>) -> Result<Option<String>, ApiError> {
        let mut request = Request::new(query);
        if let Some(operation) = operation {
            request = request.operation_name(operation);
        }
        key_for(&headers(key), &mut request).map(|key| key.map(|k| k.0))
    }

    #[test]
    fn a_single_mutation_field_takes_the_key() {
        let one = "mutation { shipOrder(input: {orderId: \"x\"}) { id } }";
        assert_eq!(key("k-1", one, None), Ok(Some("k-1".into())));
    }

    #[test]
    fn no_header_means_no_key() {
        let mut request = Request::new("mutation { a b }");
        assert_eq!(key_for(&HeaderMap::new(), &mut request), Ok(None));
    }

    #[test]
    fn several_mutation_fields_refuse_the_key() {
        let two = "mutation { a: shipOrder(input: {orderId: \"x\"}) { id } \
                   b: shipOrder(input: {orderId: \"y\"}) { id } }";
        assert!(matches!(key("k", two, None), Err(ApiError::Validation(_))));
        let fragment = "mutation { ...F } fragment F on Mutation { shipOrder(input: {orderId: \"x\"}) { id } }";
        assert!(matches!(
            key("k", fragment, None),
            Err(ApiError::Validation(_))
        ));
    }

    #[test]
    fn the_selected_operation_decides() {
        let document = "query Q { apiVersion } \
                        mutation M { shipOrder(input: {orderId: \"x\"}) { id } }";
        assert_eq!(key("k", document, Some("Q")), Ok(None));
        assert_eq!(key("k", document, Some("M")), Ok(Some("k".into())));
        assert_eq!(key("k", document, None), Ok(None));
    }

    #[test]
    fn queries_and_unparsable_documents_ignore_the_key() {
        assert_eq!(key("k", "{ apiVersion }", None), Ok(None));
        assert_eq!(key("k", "mutation {", None), Ok(None));
    }

    #[test]
    fn malformed_keys_are_refused() {
        let one = "mutation { shipOrder(input: {orderId: \"x\"}) { id } }";
        assert!(matches!(key("", one, None), Err(ApiError::Validation(_))));
        assert!(matches!(
            key("a b", one, None),
            Err(ApiError::Validation(_))
        ));
        assert!(matches!(
            key(&"k".repeat(256), one, None),
            Err(ApiError::Validation(_))
        ));
    }
}
