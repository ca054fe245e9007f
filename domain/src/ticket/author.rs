//! Who writes on a ticket.

use std::fmt;

/// The writer of a ticket message: an identity and the role it wrote in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The writer's id (the token's subject, or `system`).
    pub id: String,
    /// In which role.
    pub role: Role,
}

/// The role a message was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The ticket's customer.
    Customer,
    /// A support agent.
    Agent,
    /// domainflow itself (the fulfilment saga).
    System,
}

impl Role {
    /// The role's name on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Agent => "agent",
            Self::System => "system",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
