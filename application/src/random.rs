//! Secrets: random bytes from the operating system.

use uuid::Uuid;

/// `len` bytes from the operating system's CSPRNG, by way of v4 UUIDs: 122 random bits in
/// every 16 bytes (the other 6 are fixed version and variant bits).
#[must_use]
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len + 16);
    while bytes.len() < len {
        bytes.extend_from_slice(Uuid::new_v4().as_bytes());
    }
    bytes.truncate(len);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_bytes_have_the_asked_length_and_differ() {
        assert_eq!(random_bytes(64).len(), 64);
        assert_eq!(random_bytes(5).len(), 5);
        assert_ne!(random_bytes(32), random_bytes(32));
    }
}
