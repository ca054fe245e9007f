//! The alias limit. Aliases let one document ask for the same field many times, each
//! resolved on its own: an expensive field (a whole-log integrity check) hundreds of times
//! within the complexity limit. A document may name at most [`MAX_ALIASES`] fields by an
//! alias, counted through every fragment spread where it is spread.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// The most aliased fields one document may hold.
pub const MAX_ALIASES: usize = 30;

/// How deep fragment spreads are followed (cycles are invalid GraphQL, and refused by
/// validation; this only bounds the count's own work).
const MAX_SPREAD_DEPTH: usize = 32;

/// Whether `document` names more than [`MAX_ALIASES`] fields by an alias.
#[must_use]
pub fn too_many(document: &ExecutableDocument) -> bool {
    let mut count = 0;
    document
        .operations
        .iter()
        .any(|(_, operation)| over(document, &operation.node.selection_set.node, 0, &mut count))
}

/// Adds the aliases of `set` to `count`; `true` as soon as it passes the limit.
fn over(
    document: &ExecutableDocument,
    set: &SelectionSet,
    depth: usize,
    count: &mut usize,
) -> bool {
    if depth > MAX_SPREAD_DEPTH {
        return false;
    }
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            *count += usize::from(field.node.alias.is_some());
            *count > MAX_ALIASES || over(document, &field.node.selection_set.node, depth, count)
        }
        Selection::InlineFragment(fragment) => {
            over(document, &fragment.node.selection_set.node, depth, count)
        }
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|fragment| {
                over(
                    document,
                    &fragment.node.selection_set.node,
                    depth + 1,
                    count,
                )
            }),
    })
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn aliased(n: usize, field: &str) -> String {
        (0..n).map(|i| format!("a{i}: {field} ")).collect()
    }

    fn refused(query: &str) -> bool {
        too_many(&parse_query(query).unwrap())
    }

    #[test]
    fn up_to_the_limit_passes_and_one_more_is_refused() {
        assert!(!refused(&format!(
            "{{ {} }}",
            aliased(MAX_ALIASES, "__typename")
        )));
        assert!(refused(&format!(
            "{{ {} }}",
            aliased(MAX_ALIASES + 1, "__typename")
        )));
    }

    #[test]
    fn aliases_count_in_nested_fields_and_in_every_spread_of_a_fragment() {
        let nested = format!(
            "{{ orders {{ {} }} }}",
            aliased(MAX_ALIASES + 1, "totalCount")
        );
        assert!(refused(&nested));
        let fragment = format!("fragment F on Query {{ {} }}", aliased(11, "__typename"));
        assert!(!refused(&format!("{{ ...F ...F }} {fragment}")));
        assert!(refused(&format!(
            "{{ ...F ...F ... on Query {{ ...F }} }} {fragment}"
        )));
    }

    #[test]
    fn a_cycle_of_fragments_ends() {
        assert!(!refused(
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
        ));
    }
}
