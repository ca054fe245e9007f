//! AES-256-GCM (ring's) for data keys and the values they protect: a fresh random 96-bit
//! nonce per value, stored before the ciphertext and its tag; the additional data binds a
//! value to the key id it names.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom as _, SystemRandom};

/// An AES-256-GCM key.
pub(super) struct Cipher(LessSafeKey);

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

/// 32 random bytes.
pub(super) fn random_key() -> Result<[u8; 32], String> {
    let mut key = [0_u8; 32];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| "the operating system gave no random bytes".to_owned())?;
    Ok(key)
}

impl Cipher {
    /// The cipher of the 32-byte `key`.
    pub(super) fn new(key: &[u8]) -> Result<Self, String> {
        UnboundKey::new(&AES_256_GCM, key)
            .map(|key| Self(LessSafeKey::new(key)))
            .map_err(|_| "an AES-256 key is 32 bytes".to_owned())
    }

    /// nonce ‖ ciphertext ‖ tag of `plain`, bound to `aad`.
    pub(super) fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, String> {
        let mut nonce = [0_u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "the operating system gave no random bytes".to_owned())?;
        let mut sealed = plain.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut sealed,
            )
            .map_err(|_| "encryption failed".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    /// The plain text of what [`Cipher::seal`] made with this key and `aad`; `None` for
    /// anything else (another key, another aad, a changed byte).
    pub(super) fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(aad), &mut body)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_key_and_aad_open_what_was_sealed() {
        let key = Cipher::new(&random_key().unwrap()).unwrap();
        let other = Cipher::new(&random_key().unwrap()).unwrap();
        let sealed = key.seal(b"id-1", b"my address").unwrap();
        assert_eq!(
            key.open(b"id-1", &sealed).as_deref(),
            Some(&b"my address"[..])
        );
        assert_ne!(
            key.seal(b"id-1", b"my address").unwrap(),
            sealed,
            "fresh nonces"
        );
        assert_eq!(key.open(b"id-2", &sealed), None);
        assert_eq!(other.open(b"id-1", &sealed), None);
        let mut changed = sealed.clone();
        changed[20] ^= 1;
        assert_eq!(key.open(b"id-1", &changed), None);
        assert_eq!(key.open(b"id-1", &sealed[..5]), None);
    }
}
