//! Who is asking: an authenticated subject acting in one role.

use std::fmt;
use std::str::FromStr;

/// The four roles of domainflow (API.md, "Auth").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Places and cancels their own orders, opens and follows their own tickets.
    Customer,
    /// Works tickets; reads orders.
    Agent,
    /// Runs the shop: products, stock, shipping, projections, dead letters.
    Operator,
    /// Reads the event history; changes nothing.
    Auditor,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 4] = [Self::Customer, Self::Agent, Self::Operator, Self::Auditor];

    /// The role's name in tokens and on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Agent => "agent",
            Self::Operator => "operator",
            Self::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}"))
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    /// The token subject or API key name.
    pub subject: String,
    /// The role it acts in.
    pub role: Role,
}

impl Actor {
    /// `subject` acting as `role`.
    #[must_use]
    pub fn new(subject: impl Into<String>, role: Role) -> Self {
        Self {
            subject: subject.into(),
            role,
        }
    }

    /// The principal this actor is, as one string: its role and subject (`customer:alice`).
    /// The same subject in another role is another principal.
    #[must_use]
    pub fn principal(&self) -> String {
        format!("{}:{}", self.role, self.subject)
    }

    /// The operator at the `domainflow` command line: whoever may run the binary against
    /// the database is one.
    #[must_use]
    pub fn console() -> Self {
        Self::new("console", Role::Operator)
    }

    /// The customer this actor is, when it acts as one: its subject, which must be a
    /// customer id exactly as written (a subject with surrounding spaces is not `alice`).
    ///
    /// # Errors
    /// [`crate::Error::Forbidden`] for a subject that is not a customer id.
    pub fn customer_id(&self) -> Result<domain::CustomerId, crate::Error> {
        match domain::CustomerId::parse(&self.subject) {
            Ok(id) if id.as_str() == self.subject => Ok(id),
            _ => Err(crate::Error::Forbidden(
                "this caller's subject is not a customer id".into(),
            )),
        }
    }

    /// Whether the actor may see or act on what `owner` (a customer id) owns: customers
    /// only their own, staff everything their role reaches.
    #[must_use]
    pub fn sees(&self, owner: &str) -> bool {
        self.role != Role::Customer || self.subject == owner
    }

    /// [`crate::Error::Forbidden`] for an auditor, who reads the event history and never
    /// changes state: checked before any command looks at its input, so every command
    /// answers an auditor the same way, whatever the request.
    ///
    /// # Errors
    /// [`crate::Error::Forbidden`] for the auditor role.
    pub fn may_command(&self) -> Result<(), crate::Error> {
        if self.role == Role::Auditor {
            Err(crate::Error::Forbidden(
                "the auditor role reads the event history and runs no commands".into(),
            ))
        } else {
            Ok(())
        }
    }

    /// [`crate::Error::Forbidden`] unless the actor holds one of `roles`.
    ///
    /// # Errors
    /// [`crate::Error::Forbidden`] naming the action.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<(), crate::Error> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(crate::Error::Forbidden(format!(
                "the {} role may not {action}",
                self.role
            )))
        }
    }
}
