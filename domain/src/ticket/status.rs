//! Whether a ticket is open or closed.

use std::fmt;

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Open: messages may be posted, it may be assigned or closed.
    Open,
    /// Closed with a resolution; it may be reopened.
    Closed,
}

impl Status {
    /// The status name used on the wire and stored in the read model: `OPEN`, `CLOSED`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Closed => "CLOSED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
