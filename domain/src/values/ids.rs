//! Identifiers. Order and ticket ids are 128-bit (UUIDs at the edges, made there); customer
//! and agent ids are the names the identity provider gives (the token's subject).

use std::fmt;

use super::{InvalidValue, bounded_text};

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u128);

        impl $name {
            /// Wraps the 128 bits of an id made at the edge (a UUID).
            #[must_use]
            pub const fn from_u128(bits: u128) -> Self {
                Self(bits)
            }

            /// The id's 128 bits.
            #[must_use]
            pub const fn as_u128(self) -> u128 {
                self.0
            }
        }

        /// Prints the id in the hyphenated UUID form used on the wire.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let b = self.0;
                write!(
                    f,
                    "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                    (b >> 96) as u32,
                    (b >> 80) as u16,
                    (b >> 64) as u16,
                    (b >> 48) as u16,
                    b & 0xffff_ffff_ffff
                )
            }
        }
    };
}

numeric_id!(
    /// Identifies an order, and the payment that belongs to it.
    OrderId
);
numeric_id!(
    /// Identifies a support ticket.
    TicketId
);

macro_rules! named_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Validates a name: not blank, at most 128 characters, no control characters.
            ///
            /// # Errors
            /// [`InvalidValue`] naming what is wrong with it.
            pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
                let text = bounded_text($field, raw, 128)?;
                if text.chars().any(char::is_whitespace) {
                    return Err(InvalidValue::BadCharacters {
                        field: $field,
                        allowed: "characters other than whitespace",
                    });
                }
                Ok(Self(text))
            }

            /// The name as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

named_id!(
    /// Identifies a customer.
    CustomerId,
    "customer id"
);
named_id!(
    /// Identifies a support agent.
    AgentId,
    "agent id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_print_as_hyphenated_uuids() {
        let id = OrderId::from_u128(0x0192_3b4c_5d6e_7f80_9a1b_2c3d_4e5f_6a7b);
        assert_eq!(id.to_string(), "01923b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b");
    }

    #[test]
    fn a_blank_customer_id_is_rejected() {
        assert_eq!(
            CustomerId::parse("  "),
            Err(InvalidValue::Empty {
                field: "customer id"
            })
        );
        assert!(CustomerId::parse("ali ce").is_err());
        assert_eq!(
            CustomerId::parse(" alice ").map(|c| c.to_string()),
            Ok("alice".into())
        );
    }
}
