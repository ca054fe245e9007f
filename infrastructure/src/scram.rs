//! SCRAM-SHA-256 password verifiers (RFC 5802, RFC 7677), computed here so that a password
//! never reaches the database, its logs or its statistics in clear: `CREATE ROLE ...
//! PASSWORD` given a verifier stores it as it is.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

use crate::Error;

/// PostgreSQL's own iteration count (`scram_iterations`).
const ITERATIONS: u32 = 4096;

type HmacSha256 = Hmac<Sha256>;

/// The verifier of `password` with a fresh random salt, in PostgreSQL's format
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
///
/// # Errors
/// [`Error::Login`] for a password that is empty or not printable ASCII: PostgreSQL prepares
/// other passwords (SASLprep) in ways this does not reproduce.
pub fn verifier(password: &str) -> Result<String, Error> {
    if password.is_empty() || !password.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(Error::Login(
            "the login's password must be printable ASCII".into(),
        ));
    }
    let salt = application::random::random_bytes(16);
    Ok(verifier_with(password.as_bytes(), &salt, ITERATIONS))
}

fn verifier_with(password: &[u8], salt: &[u8], iterations: u32) -> String {
    let salted = pbkdf2(password, salt, iterations);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key),
        STANDARD.encode(server_key)
    )
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA256 with one output block (32 bytes), as SCRAM's `Hi()`.
fn pbkdf2(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(password, &block);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac(password, &u);
        for (o, x) in out.iter_mut().zip(u) {
            *o ^= x;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verifier_matches_one_postgresql_made() {
        // RFC 7677's example (password "pencil" and its salt), as PostgreSQL stores it in
        // pg_authid; logging in with verifiers made here is tested against the embedded
        // cluster, which asks for SCRAM.
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let made = verifier_with(b"pencil", &salt, 4096);
        assert_eq!(
            made,
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
    }

    #[test]
    fn passwords_that_would_need_preparing_are_refused() {
        assert!(verifier("").is_err());
        assert!(verifier("pässword").is_err());
        assert!(verifier("tab\there").is_err());
        assert!(verifier("plain ascii password").is_ok());
    }
}
