//! Limits on the size of a document's operation, checked before anything else reads it:
//!
//! - Aliases let one document ask for the same field many times, each resolved on its own:
//!   an expensive field hundreds of times within the complexity limit. An operation may
//!   name at most [`MAX_ALIASES`] fields by an alias.
//! - Fragment spreads multiply: a fragment spread twice in a fragment spread twice, and so
//!   on, is a short text whose expansion is exponential. An operation may expand to at most
//!   [`MAX_FIELDS`] fields, fragments inlined.
//!
//! Both are counted with each fragment's own counts computed once, so the check itself is
//! linear in the document; a fragment that spreads itself (invalid GraphQL) counts nothing
//! here and is refused by validation.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Positioned};

use super::operation::selected;

/// The most aliased fields one operation may hold.
pub const MAX_ALIASES: u64 = 30;
/// The most fields one operation may expand to.
pub const MAX_FIELDS: u64 = 2_000;

/// Why a document is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooLarge {
    /// More than [`MAX_ALIASES`] aliased fields.
    Aliases,
    /// More than [`MAX_FIELDS`] fields once fragments are inlined.
    Fields,
}

impl TooLarge {
    /// What the client is told.
    #[must_use]
    pub fn message(self) -> String {
        match self {
            Self::Aliases => {
                format!("an operation may name at most {MAX_ALIASES} fields by an alias")
            }
            Self::Fields => format!(
                "an operation may select at most {MAX_FIELDS} fields, fragments counted each \
                 time they are spread"
            ),
        }
    }
}

/// Aliased fields and fields of a selection, fragments inlined (saturating).
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    aliases: u64,
    fields: u64,
}

impl Counts {
    fn add(self, other: Self) -> Self {
        Self {
            aliases: self.aliases.saturating_add(other.aliases),
            fields: self.fields.saturating_add(other.fields),
        }
    }
}

/// Whether the operation `name` of `document` runs (every operation when the document
/// does not say which) is over a limit.
#[must_use]
pub fn too_large(document: &ExecutableDocument, name: Option<&str>) -> Option<TooLarge> {
    let mut fragments = Fragments {
        document,
        counted: HashMap::new(),
    };
    let operations: Vec<&SelectionSet> = match selected(document, name) {
        Some(operation) => vec![&operation.selection_set.node],
        None => document
            .operations
            .iter()
            .map(|(_, operation)| &operation.node.selection_set.node)
            .collect(),
    };
    operations.into_iter().find_map(|set| {
        let counts = fragments.count(set);
        if counts.aliases > MAX_ALIASES {
            Some(TooLarge::Aliases)
        } else if counts.fields > MAX_FIELDS {
            Some(TooLarge::Fields)
        } else {
            None
        }
    })
}

/// [`too_large`] for the operation `request` runs; `None` also for a document that does
/// not parse (execution reports that).
pub fn too_large_request(request: &mut async_graphql::Request) -> Option<TooLarge> {
    let name = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    too_large(document, name.as_deref())
}

/// Each fragment's counts, computed once.
struct Fragments<'a> {
    document: &'a ExecutableDocument,
    /// `None` while a fragment is being counted (so a cycle counts nothing).
    counted: HashMap<&'a Name, Option<Counts>>,
}

impl<'a> Fragments<'a> {
    fn count(&mut self, set: &'a SelectionSet) -> Counts {
        set.items.iter().fold(Counts::default(), |total, item| {
            let counts = match &item.node {
                Selection::Field(field) => Counts {
                    aliases: u64::from(field.node.alias.is_some()),
                    fields: 1,
                }
                .add(self.count(&field.node.selection_set.node)),
                Selection::InlineFragment(fragment) => {
                    self.count(&fragment.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => self.spread(&spread.node.fragment_name),
            };
            total.add(counts)
        })
    }

    fn spread(&mut self, name: &'a Positioned<Name>) -> Counts {
        if let Some(known) = self.counted.get(&name.node) {
            return known.unwrap_or_default();
        }
        let Some(fragment) = self.document.fragments.get(&name.node) else {
            return Counts::default();
        };
        self.counted.insert(&name.node, None);
        let counts = self.count(&fragment.node.selection_set.node);
        self.counted.insert(&name.node, Some(counts));
        counts
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn aliased(n: u64, field: &str) -> String {
        (0..n).map(|i| format!("a{i}: {field} ")).collect()
    }

    fn refused(query: &str) -> Option<TooLarge> {
        too_large(&parse_query(query).unwrap(), None)
    }

    #[test]
    fn up_to_the_limit_passes_and_one_more_is_refused() {
        assert_eq!(
            refused(&format!("{{ {} }}", aliased(MAX_ALIASES, "__typename"))),
            None
        );
        assert_eq!(
            refused(&format!("{{ {} }}", aliased(MAX_ALIASES + 1, "__typename"))),
            Some(TooLarge::Aliases)
        );
    }

    #[test]
    fn aliases_count_in_nested_fields_and_in_every_spread_of_a_fragment() {
        let nested = format!(
            "{{ orders {{ {} }} }}",
            aliased(MAX_ALIASES + 1, "totalCount")
        );
        assert_eq!(refused(&nested), Some(TooLarge::Aliases));
        let fragment = format!("fragment F on Query {{ {} }}", aliased(11, "__typename"));
        assert_eq!(refused(&format!("{{ ...F ...F }} {fragment}")), None);
        assert_eq!(
            refused(&format!(
                "{{ ...F ...F ... on Query {{ ...F }} }} {fragment}"
            )),
            Some(TooLarge::Aliases)
        );
    }

    #[test]
    fn only_the_operation_that_runs_is_counted() {
        let big = format!(
            "query Big {{ {} }} query Small {{ __typename }}",
            aliased(31, "__typename")
        );
        let document = parse_query(&big).unwrap();
        assert_eq!(too_large(&document, Some("Small")), None);
        assert_eq!(too_large(&document, Some("Big")), Some(TooLarge::Aliases));
    }

    #[test]
    fn fragments_that_double_at_every_level_are_refused_at_once() {
        // Forty levels, each spreading the next twice: 2^40 fields once inlined.
        let mut query = String::from("{ ...F0 } ");
        for level in 0..40 {
            query.push_str(&format!(
                "fragment F{level} on Query {{ ...F{} ...F{} }} ",
                level + 1,
                level + 1
            ));
        }
        query.push_str("fragment F40 on Query { __typename }");
        assert_eq!(refused(&query), Some(TooLarge::Fields));
    }

    #[test]
    fn cycles_of_fragments_end_whatever_their_fan_out() {
        assert_eq!(
            refused("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"),
            None
        );
        assert_eq!(
            refused("{ ...A } fragment A on Query { ...A ...A ...A __typename }"),
            None
        );
    }
}
