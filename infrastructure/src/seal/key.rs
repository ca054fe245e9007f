//! The seal key: an Ed25519 key pair whose private half is a file outside the database
//! (hex of its 32-byte seed, readable by its owner only), and the public half auditors keep.

use std::path::Path;

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::secret_file::{generate_private_seed, hex, read_private_seed, unhex};

/// The private half, which signs seals.
pub struct SealKey {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private half never reaches a log.
        f.debug_struct("SealKey")
            .field("public_key", &self.public().hex())
            .finish_non_exhaustive()
    }
}

impl SealKey {
    /// Reads the key in `path`.
    ///
    /// # Errors
    /// A message naming the file when it cannot be read, is readable by anyone but its
    /// owner, or is not a 32-byte hex seed.
    pub fn load(path: &Path) -> Result<Self, String> {
        let seed = read_private_seed(path, "seal key")?;
        Self::from_seed(&seed).map_err(|e| format!("the seal key {}: {e}", path.display()))
    }

    /// Makes a new key and writes it to `path`, which must not exist (readable by its
    /// owner only).
    ///
    /// # Errors
    /// A message when `path` exists or cannot be written.
    pub fn generate(path: &Path) -> Result<Self, String> {
        Self::from_seed(&generate_private_seed(path)?)
    }

    fn from_seed(seed: &[u8]) -> Result<Self, String> {
        let seed = seed
            .get(..32)
            .filter(|_| seed.len() == 32)
            .ok_or("not 32 bytes")?;
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(|pair| Self { pair })
            .map_err(|_| "not an Ed25519 seed".to_owned())
    }

    /// The public half.
    #[must_use]
    pub fn public(&self) -> PublicKey {
        PublicKey {
            bytes: self.pair.public_key().as_ref().to_vec(),
        }
    }

    /// The signature of `message`.
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

/// The public half, which checks seals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    bytes: Vec<u8>,
}

impl PublicKey {
    /// The key in `text`: 64 hex digits.
    ///
    /// # Errors
    /// A message when it is not.
    pub fn parse(text: &str) -> Result<Self, String> {
        match unhex(text.trim()) {
            Some(bytes) if bytes.len() == 32 => Ok(Self { bytes }),
            _ => Err("a seal public key is 64 hex digits".to_owned()),
        }
    }

    /// The key in the file at `path`.
    ///
    /// # Errors
    /// A message naming the file when it cannot be read or holds no key.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The key as hex, as seals name it.
    #[must_use]
    pub fn hex(&self) -> String {
        hex(&self.bytes)
    }

    /// Whether `signature` is this key's over `message`.
    #[must_use]
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.bytes)
            .verify(message, signature)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_generated_key_signs_what_its_public_half_verifies_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("seal-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("seal.key");
        let key = SealKey::generate(&path).unwrap();
        assert!(
            SealKey::generate(&path).is_err(),
            "an existing key is never replaced"
        );
        let again = SealKey::load(&path).unwrap();
        assert_eq!(key.public(), again.public());
        let public = PublicKey::parse(&key.public().hex()).unwrap();
        let signature = again.sign(b"the log");
        assert!(public.verifies(b"the log", &signature));
        assert!(!public.verifies(b"the log!", &signature));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_key_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("seal-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("seal.key");
        let _ = SealKey::generate(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = SealKey::load(&path).map(|key| key.public().hex());
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("readable by others")),
            "{refused:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
