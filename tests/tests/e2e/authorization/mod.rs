//! Who may run which command, on both transports, exactly as API.md's table says; and who
//! is not even let in: no credentials, expired, forged or unsigned tokens, revoked API keys.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authentication;
mod ownership;
mod role_table;
