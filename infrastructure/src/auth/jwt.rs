//! Signing and verifying bearer tokens: compact JWS with HS256 (RFC 7515/7519), by hand on
//! `hmac` and `sha2` so that exactly one algorithm exists to be confused with.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use application::auth::TokenVerifier;
use application::{Actor, Role, Unauthenticated};

use crate::Error;

type HmacSha256 = Hmac<Sha256>;

/// Shortest secret accepted: the HS256 key should be as long as its output (RFC 7518 §3.2).
pub const MIN_SECRET_LEN: usize = 32;
/// Longest token looked at: far beyond any token we issue, and a bound on the work an
/// anonymous caller can ask for.
const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Clock skew tolerated between the issuer and this server.
pub const LEEWAY_SECONDS: i64 = 30;
/// The header of every token we issue.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The key that signs and verifies bearer tokens.
#[derive(Clone)]
pub struct JwtKeys {
    mac: HmacSha256,
}

impl JwtKeys {
    /// Keys from a shared secret.
    ///
    /// # Errors
    /// [`Error::WeakSecret`] when `secret` is shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &[u8]) -> Result<Self, Error> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(Error::WeakSecret);
        }
        // HMAC takes keys of any length, so this cannot fail.
        let mac = HmacSha256::new_from_slice(secret).map_err(|_| Error::WeakSecret)?;
        Ok(Self { mac })
    }

    /// A token for `subject` in `role`, issued at `now` and valid for `ttl`. A token with an
    /// empty subject is issued but never accepted by [`verify`](Self::verify).
    #[must_use]
    pub fn sign(&self, subject: &str, role: Role, ttl: Duration, now: DateTime<Utc>) -> String {
        let iat = now.timestamp();
        let claims = serde_json::json!({
            "sub": subject,
            "role": role.as_str(),
            "iat": iat,
            "exp": iat.saturating_add(ttl.num_seconds()),
        });
        let mut token = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
        );
        let mut mac = self.mac.clone();
        mac.update(token.as_bytes());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
        token
    }

    /// Who `token` speaks for, if we signed it with this key and it has not expired at `now`
    /// (give or take 30 seconds).
    ///
    /// # Errors
    /// [`Unauthenticated::Expired`] for a genuine token past its `exp`; [`Unauthenticated::Invalid`] for
    /// everything else: too long, not three base64url parts, an `alg` other than `HS256`, a
    /// critical header, a wrong signature, or claims without a `sub`, a known `role` and an
    /// integer `exp`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Actor, Unauthenticated> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Unauthenticated::Invalid("token too long"));
        }
        let mut parts = token.split('.');
        let (Some(header_part), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Unauthenticated::Invalid("malformed token"));
        };

        // The header is read before the signature is checked only to refuse every other
        // algorithm, `none` above all; nothing else in it is trusted.
        let header: Header =
            decode_json(header_part).ok_or(Unauthenticated::Invalid("malformed token header"))?;
        if header.alg != "HS256" {
            return Err(Unauthenticated::Invalid("unsupported token algorithm"));
        }
        if header.crit.is_some() {
            return Err(Unauthenticated::Invalid(
                "unsupported critical token header",
            ));
        }
        if header
            .typ
            .is_some_and(|typ| !typ.eq_ignore_ascii_case("JWT"))
        {
            return Err(Unauthenticated::Invalid("unsupported token type"));
        }

        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Unauthenticated::Invalid("malformed token signature"))?;
        let mut mac = self.mac.clone();
        mac.update(header_part.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| Unauthenticated::Invalid("bad token signature"))?;

        let claims: Claims =
            decode_json(payload).ok_or(Unauthenticated::Invalid("malformed token claims"))?;
        let now = now.timestamp();
        if now > claims.exp.saturating_add(LEEWAY_SECONDS) {
            return Err(Unauthenticated::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| now < nbf.saturating_sub(LEEWAY_SECONDS))
        {
            return Err(Unauthenticated::Invalid("token not yet valid"));
        }
        if claims.sub.is_empty() {
            return Err(Unauthenticated::Invalid("token has no subject"));
        }
        let role = claims
            .role
            .parse()
            .map_err(|_| Unauthenticated::Invalid("unknown role in token"))?;
        Ok(Actor::new(claims.sub, role))
    }
}

impl TokenVerifier for JwtKeys {
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Actor, Unauthenticated> {
        Self::verify(self, token, now)
    }
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

/// The header fields we look at. Duplicate fields fail to parse, so a token cannot show one
/// `alg` to us and another to someone else.
#[derive(Deserialize)]
struct Header {
    alg: String,
    typ: Option<String>,
    crit: Option<serde_json::Value>,
}

/// The claims we look at; others (`iat` among them) are ignored.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    role: String,
    exp: i64,
    nbf: Option<i64>,
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    /// A token with any header and claims, correctly HS256-signed with `SECRET` (or, for an
    /// empty `signature_key`, with an empty signature).
    fn forge(header: &str, claims: &str, signature_key: &[u8]) -> String {
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature = if signature_key.is_empty() {
            String::new()
        } else {
            let mut mac = HmacSha256::new_from_slice(signature_key).unwrap();
            mac.update(signed.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        };
        format!("{signed}.{signature}")
    }

    fn valid_claims() -> String {
        format!(
            r#"{{"sub":"alice","role":"customer","exp":{}}}"#,
            now().timestamp() + 60
        )
    }

    #[track_caller]
    fn assert_invalid(token: &str) {
        match keys().verify(token, now()) {
            Err(Unauthenticated::Invalid(_)) => {}
            other => panic!("expected Invalid for {token:.60?}, got {other:?}"),
        }
    }

    #[test]
    fn a_signed_token_verifies_to_its_subject_and_role() {
        let token = keys().sign("alice", Role::Auditor, Duration::minutes(5), now());
        let principal = keys().verify(&token, now()).unwrap();
        assert_eq!(principal, Actor::new("alice", Role::Auditor));
    }

    #[test]
    fn issued_tokens_are_standard_compact_jws() {
        let token = keys().sign("alice", Role::Agent, Duration::minutes(5), now());
        let [header, claims, _signature] = token.split('.').collect::<Vec<_>>()[..] else {
            panic!("not three parts: {token}");
        };
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "HS256", "typ": "JWT"}));
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        let iat = now().timestamp();
        assert_eq!(
            claims,
            serde_json::json!({"sub": "alice", "role": "agent", "iat": iat, "exp": iat + 300})
        );
    }

    #[test]
    fn a_token_past_its_expiry_and_the_leeway_is_expired() {
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), now());
        let later = now() + Duration::minutes(5) + Duration::seconds(31);
        assert!(matches!(
            keys().verify(&token, later),
            Err(Unauthenticated::Expired)
        ));
    }

    #[test]
    fn a_token_just_expired_is_accepted_within_the_leeway() {
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), now());
        let later = now() + Duration::minutes(5) + Duration::seconds(30);
        assert!(keys().verify(&token, later).is_ok());
    }

    #[test]
    fn a_tampered_payload_is_invalid() {
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), now());
        let [header, _, signature] = token.split('.').collect::<Vec<_>>()[..] else {
            panic!("not three parts: {token}");
        };
        let escalated = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"alice","role":"operator","exp":{}}}"#,
            now().timestamp() + 300
        ));
        assert_invalid(&format!("{header}.{escalated}.{signature}"));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_invalid() {
        let other = JwtKeys::new(&[7; 32]).unwrap();
        let token = other.sign("alice", Role::Customer, Duration::minutes(5), now());
        assert_invalid(&token);
    }

    #[test]
    fn an_unsigned_alg_none_token_is_invalid() {
        assert_invalid(&forge(r#"{"alg":"none"}"#, &valid_claims(), b""));
        assert_invalid(&forge(
            r#"{"alg":"none","typ":"JWT"}"#,
            &valid_claims(),
            b"",
        ));
        // Even with a correct HS256 signature attached.
        assert_invalid(&forge(r#"{"alg":"none"}"#, &valid_claims(), SECRET));
    }

    #[test]
    fn other_algorithms_are_invalid_even_when_signed_with_the_secret() {
        for alg in ["HS512", "RS256", "hs256", "HS256 ", "ES256"] {
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
            assert_invalid(&forge(&header, &valid_claims(), SECRET));
        }
        assert_invalid(&forge(r#"{"typ":"JWT"}"#, &valid_claims(), SECRET));
        assert_invalid(&forge(r#"{"alg":null}"#, &valid_claims(), SECRET));
    }

    #[test]
    fn a_header_naming_alg_twice_is_invalid() {
        let header = r#"{"alg":"HS256","alg":"none"}"#;
        assert_invalid(&forge(header, &valid_claims(), SECRET));
    }

    #[test]
    fn a_correctly_signed_foreign_token_is_accepted() {
        // Same claims as another issuer would produce, without `typ` and `iat`.
        let token = forge(r#"{"alg":"HS256"}"#, &valid_claims(), SECRET);
        assert_eq!(keys().verify(&token, now()).unwrap().subject, "alice");
    }

    #[test]
    fn an_unknown_role_claim_is_invalid() {
        let claims = format!(
            r#"{{"sub":"alice","role":"admin","exp":{}}}"#,
            now().timestamp() + 60
        );
        assert_invalid(&forge(r#"{"alg":"HS256"}"#, &claims, SECRET));
    }

    #[test]
    fn missing_or_malformed_claims_are_invalid() {
        let exp = now().timestamp() + 60;
        for claims in [
            format!(r#"{{"role":"customer","exp":{exp}}}"#),
            format!(r#"{{"sub":"","role":"customer","exp":{exp}}}"#),
            format!(r#"{{"sub":42,"role":"customer","exp":{exp}}}"#),
            format!(r#"{{"sub":"alice","exp":{exp}}}"#),
            r#"{"sub":"alice","role":"customer"}"#.to_owned(),
            r#"{"sub":"alice","role":"customer","exp":"tomorrow"}"#.to_owned(),
            r#"{"sub":"alice","role":"customer","exp":1e400}"#.to_owned(),
            r#"{"sub":"alice","role":"customer","exp":99999999999999999999}"#.to_owned(),
            format!(r#"{{"sub":"alice","role":"customer","exp":{exp},"nbf":{exp}}}"#),
            "[]".to_owned(),
            "not json".to_owned(),
        ] {
            assert_invalid(&forge(r#"{"alg":"HS256"}"#, &claims, SECRET));
        }
    }

    #[test]
    fn garbage_is_invalid_and_never_panics() {
        let huge = "a".repeat(MAX_TOKEN_LEN + 1);
        let valid = keys().sign("alice", Role::Customer, Duration::minutes(5), now());
        let padded = format!("{valid}==");
        let extra_part = format!("{valid}.");
        let with_whitespace = format!(" {valid}");
        let cases = [
            "",
            ".",
            "..",
            "...",
            "a.b.c",
            "a.b",
            "!!!.@@@.###",
            "eyJhbGciOiJIUzI1NiJ9..",
            "eyJhbGciOiJIUzI1NiJ9.e30.",
            "\u{0}\u{ffff}.é.ü",
            &huge,
            &padded,
            &extra_part,
            &with_whitespace,
        ];
        for token in cases {
            assert_invalid(token);
        }
    }

    #[test]
    fn truncated_tokens_are_invalid() {
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), now());
        for end in 0..token.len() {
            assert_invalid(&token[..end]);
        }
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(matches!(JwtKeys::new(&[1; 31]), Err(Error::WeakSecret)));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert_eq!(format!("{:?}", keys()), "JwtKeys(..)");
    }
}
