//! Which rows a list asks for, parsed once into the domain's values before anything reaches
//! the database: a raw string that is not a valid SKU, customer or agent id is refused here
//! with [`Error::Validation`].

use domain::{AgentId, CustomerId, Sku};

use crate::{Actor, Error, Role};

/// Which orders to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only orders in this status (its stored name, `PENDING`, ...).
    pub status: Option<&'static str>,
    /// Only this customer's orders.
    pub customer: Option<CustomerId>,
}

impl OrderFilter {
    /// The orders `actor` asked for: a customer always sees only their own, staff the
    /// customer they name (or everyone's).
    ///
    /// # Errors
    /// [`Error::Validation`] for a customer id that is not one.
    pub fn parse(
        actor: &Actor,
        status: Option<&'static str>,
        customer_id: Option<&str>,
    ) -> Result<Self, Error> {
        Ok(Self {
            status,
            customer: customer_scope(actor, customer_id)?,
        })
    }
}

/// Which tickets to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    /// Only tickets in this status (`OPEN`, `CLOSED`).
    pub status: Option<&'static str>,
    /// Only this customer's tickets.
    pub customer: Option<CustomerId>,
    /// Only tickets assigned to this agent.
    pub assignee: Option<AgentId>,
}

impl TicketFilter {
    /// The tickets `actor` asked for, scoped as [`OrderFilter::parse`] scopes orders.
    ///
    /// # Errors
    /// [`Error::Validation`] for a customer or agent id that is not one.
    pub fn parse(
        actor: &Actor,
        status: Option<&'static str>,
        customer_id: Option<&str>,
        assignee: Option<&str>,
    ) -> Result<Self, Error> {
        Ok(Self {
            status,
            customer: customer_scope(actor, customer_id)?,
            assignee: assignee.map(AgentId::parse).transpose()?,
        })
    }
}

/// A SKU named in a query or a path.
///
/// # Errors
/// [`Error::Validation`] when it is not one.
pub fn sku(raw: &str) -> Result<Sku, Error> {
    Ok(Sku::parse(raw)?)
}

/// The customer a list is narrowed to: a customer always their own, staff what they asked
/// for.
fn customer_scope(actor: &Actor, requested: Option<&str>) -> Result<Option<CustomerId>, Error> {
    if actor.role == Role::Customer {
        return actor.customer_id().map(Some);
    }
    Ok(requested.map(CustomerId::parse).transpose()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_sees_only_their_own_whatever_they_name() {
        let alice = Actor::new("alice", Role::Customer);
        let filter = OrderFilter::parse(&alice, None, Some("bob")).ok();
        assert_eq!(
            filter.and_then(|f| f.customer).map(|c| c.to_string()),
            Some("alice".to_owned())
        );
    }

    #[test]
    fn a_customer_is_its_subject_exactly() {
        for subject in ["alice ", " alice", "acme shop", "a\0b"] {
            let customer = Actor::new(subject, Role::Customer);
            assert!(
                matches!(
                    OrderFilter::parse(&customer, None, None),
                    Err(Error::Forbidden(_))
                ),
                "{subject:?}"
            );
        }
    }

    #[test]
    fn staff_filters_are_parsed_before_they_reach_the_database() {
        let ops = Actor::new("ops", Role::Operator);
        assert!(matches!(
            OrderFilter::parse(&ops, None, Some("a\0b")),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            TicketFilter::parse(&ops, Some("OPEN"), None, Some("a\0b")),
            Err(Error::Validation(_))
        ));
        assert_eq!(
            OrderFilter::parse(&ops, None, None),
            Ok(OrderFilter::default())
        );
        assert!(matches!(sku("A\0B"), Err(Error::Validation(_))));
    }
}
