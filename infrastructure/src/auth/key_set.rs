//! Verifying keys from a JSON Web Key Set (RFC 7517): an identity provider's public keys
//! (RS256, EdDSA with Ed25519) and previous shared secrets kept for a rotation (HS256).
//! Every key names its `kid` and pins its `alg`.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::jwt::MIN_SECRET_LEN;
use crate::Error;

/// A key that verifies tokens of one algorithm.
#[derive(Clone)]
pub(super) struct VerifyingKey {
    pub(super) algorithm: Algorithm,
    pub(super) key: DecodingKey,
}

/// The keys of the key set `json`, by `kid`.
///
/// # Errors
/// [`Error::KeySet`] when it is not a key set, or a key has no `kid`, no `alg` or one other
/// than HS256, RS256 and EdDSA, a type that does not fit its `alg`, is meant for encryption,
/// or is an HS256 secret shorter than 32 bytes.
pub(super) fn parse(json: &str) -> Result<Vec<(String, VerifyingKey)>, Error> {
    let set: JwkSet = serde_json::from_str(json)
        .map_err(|e| Error::KeySet(format!("not a JSON Web Key Set: {e}")))?;
    set.keys
        .iter()
        .enumerate()
        .map(|(index, jwk)| {
            let at = |why: &str| Error::KeySet(format!("key {index}: {why}"));
            let kid = jwk
                .common
                .key_id
                .clone()
                .filter(|kid| !kid.is_empty())
                .ok_or_else(|| at("no kid"))?;
            let at = |why: &str| Error::KeySet(format!("key {kid:?}: {why}"));
            if matches!(
                jwk.common.public_key_use,
                Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
            ) {
                return Err(at("its use is not sig"));
            }
            let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
                (Some(KeyAlgorithm::HS256), AlgorithmParameters::OctetKey(secret)) => {
                    let bytes = base64::Engine::decode(
                        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                        &secret.value,
                    )
                    .map_err(|_| at("k is not base64url"))?;
                    if bytes.len() < MIN_SECRET_LEN {
                        return Err(at("an HS256 secret must be at least 32 bytes"));
                    }
                    Algorithm::HS256
                }
                (Some(KeyAlgorithm::RS256), AlgorithmParameters::RSA(_)) => Algorithm::RS256,
                (Some(KeyAlgorithm::EdDSA), AlgorithmParameters::OctetKeyPair(okp))
                    if okp.curve == EllipticCurve::Ed25519 =>
                {
                    Algorithm::EdDSA
                }
                (None, _) => return Err(at("no alg (each key pins its algorithm)")),
                _ => {
                    return Err(at(
                        "alg must be HS256 (kty oct), RS256 (kty RSA) or EdDSA (kty OKP, crv Ed25519)",
                    ));
                }
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| at(&e.to_string()))?;
            Ok((kid, VerifyingKey { algorithm, key }))
        })
        .collect()
}
