//! Signing and verifying bearer tokens (compact JWS, RFC 7515/7519) through `jsonwebtoken`.
//!
//! Every key has its algorithm pinned: a token is checked only with the key its `kid` names
//! (a token without `kid`, with the server's own secret) and only when its `alg` is that
//! key's. `exp` is required and may lie at most the maximum lifetime ahead; `iss` and `aud`
//! are required when configured.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use application::auth::TokenVerifier;
use application::{Actor, Role, Unauthenticated};

use super::key_set::{self, VerifyingKey};
use crate::Error;

/// Shortest secret accepted: the HS256 key should be as long as its output (RFC 7518 §3.2).
pub const MIN_SECRET_LEN: usize = 32;
/// Longest token looked at: far beyond any token we issue, and a bound on the work an
/// anonymous caller can ask for.
const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Clock skew tolerated between the issuer and this server.
pub const LEEWAY_SECONDS: i64 = 30;
/// The longest a token may be valid by default (`--jwt-max-lifetime`).
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::days(7);

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRules {
    /// `exp` at most this far after `iat` (and after now): longer-lived tokens are refused.
    pub max_lifetime: Duration,
    /// When set, `iss` must be present and equal.
    pub issuer: Option<String>,
    /// When set, `aud` must be present and contain it.
    pub audience: Option<String>,
}

impl Default for TokenRules {
    fn default() -> Self {
        Self {
            max_lifetime: DEFAULT_MAX_LIFETIME,
            issuer: None,
            audience: None,
        }
    }
}

/// The keys that sign and verify bearer tokens: the server's own HS256 secret, which signs
/// (`domainflow token`) and verifies tokens without `kid` or with its own, and any keys of a
/// key set ([`JwtKeys::with_key_set`]) by `kid`.
#[derive(Clone)]
pub struct JwtKeys {
    signing: EncodingKey,
    /// The `kid` of the server's own secret.
    own_kid: String,
    keys: HashMap<String, VerifyingKey>,
    rules: TokenRules,
}

impl JwtKeys {
    /// Keys from the server's own shared secret, with the default rules.
    ///
    /// # Errors
    /// [`Error::WeakSecret`] when `secret` is shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &[u8]) -> Result<Self, Error> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(Error::WeakSecret);
        }
        let own_kid = own_kid(secret);
        let mut keys = HashMap::new();
        keys.insert(
            own_kid.clone(),
            VerifyingKey {
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret),
            },
        );
        Ok(Self {
            signing: EncodingKey::from_secret(secret),
            own_kid,
            keys,
            rules: TokenRules::default(),
        })
    }

    /// The same keys under `rules`.
    #[must_use]
    pub fn with_rules(mut self, rules: TokenRules) -> Self {
        self.rules = rules;
        self
    }

    /// These keys and those of a JSON Web Key Set (RFC 7517): each needs a `kid` of its own
    /// and an `alg` of HS256 (`kty: oct`, a previous secret kept for rotation), RS256
    /// (`kty: RSA`) or EdDSA (`kty: OKP`, Ed25519), an identity provider's public keys.
    ///
    /// # Errors
    /// [`Error::KeySet`] naming the key at fault.
    pub fn with_key_set(mut self, json: &str) -> Result<Self, Error> {
        for (kid, key) in key_set::parse(json)? {
            if kid == self.own_kid || self.keys.contains_key(&kid) {
                return Err(Error::KeySet(format!("the kid {kid:?} is used twice")));
            }
            self.keys.insert(kid, key);
        }
        Ok(self)
    }

    /// The rules tokens must satisfy.
    #[must_use]
    pub fn rules(&self) -> &TokenRules {
        &self.rules
    }

    /// The `kid` the server's own tokens carry.
    #[must_use]
    pub fn own_kid(&self) -> &str {
        &self.own_kid
    }

    /// A token for `subject` in `role`, issued at `now` and valid for `ttl`, signed with the
    /// server's own secret (with the configured `iss` and `aud`). A token with an empty
    /// subject is issued but never accepted by [`verify`](Self::verify).
    #[must_use]
    pub fn sign(&self, subject: &str, role: Role, ttl: Duration, now: DateTime<Utc>) -> String {
        let iat = now.timestamp();
        let mut claims = serde_json::json!({
            "sub": subject,
            "role": role.as_str(),
            "iat": iat,
            "exp": iat.saturating_add(ttl.num_seconds()),
        });
        if let Some(issuer) = &self.rules.issuer {
            claims["iss"] = issuer.clone().into();
        }
        if let Some(audience) = &self.rules.audience {
            claims["aud"] = audience.clone().into();
        }
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.own_kid.clone());
        // Encoding a JSON value with an HMAC key cannot fail.
        jsonwebtoken::encode(&header, &claims, &self.signing).unwrap_or_default()
    }

    /// Who `token` speaks for, if one of these keys signed it and it holds at `now` (give or
    /// take 30 seconds).
    ///
    /// # Errors
    /// [`Unauthenticated::Expired`] for a genuine token past its `exp`;
    /// [`Unauthenticated::Invalid`] for everything else: too long, malformed, an unknown
    /// `kid`, an `alg` other than its key's, a critical header, a wrong signature, a missing
    /// or wrong `iss` or `aud`, a lifetime beyond the maximum, or claims without a `sub`, a
    /// known `role` and an integer `exp`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Actor, Unauthenticated> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Unauthenticated::Invalid("token too long"));
        }
        let header_part = token.split('.').next().unwrap_or_default();
        // Read before the signature is checked only to choose the key and refuse what no key
        // may accept; nothing in it is trusted.
        let header: HeaderSeen =
            decode_json(header_part).ok_or(Unauthenticated::Invalid("malformed token header"))?;
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
        let kid = header.kid.as_deref().unwrap_or(&self.own_kid);
        let key = self
            .keys
            .get(kid)
            .ok_or(Unauthenticated::Invalid("unknown token key id"))?;
        if header.alg != algorithm_name(key.algorithm) {
            return Err(Unauthenticated::Invalid("unsupported token algorithm"));
        }

        let mut validation = Validation::new(key.algorithm);
        // Time is checked below against `now`; the library would read the clock itself.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims.clear();
        validation.validate_aud = self.rules.audience.is_some();
        if let Some(issuer) = &self.rules.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        if let Some(audience) = &self.rules.audience {
            validation.set_audience(&[audience]);
            validation.required_spec_claims.insert("aud".into());
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|error| Unauthenticated::Invalid(reason(&error)))?
            .claims;
        self.check_time(&claims, now)?;
        if claims.sub.is_empty() {
            return Err(Unauthenticated::Invalid("token has no subject"));
        }
        let role = claims
            .role
            .parse()
            .map_err(|_| Unauthenticated::Invalid("unknown role in token"))?;
        Ok(Actor::new(claims.sub, role))
    }

    fn check_time(&self, claims: &Claims, now: DateTime<Utc>) -> Result<(), Unauthenticated> {
        let now = now.timestamp();
        let max = self.rules.max_lifetime.num_seconds();
        if now > claims.exp.saturating_add(LEEWAY_SECONDS) {
            return Err(Unauthenticated::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| now < nbf.saturating_sub(LEEWAY_SECONDS))
        {
            return Err(Unauthenticated::Invalid("token not yet valid"));
        }
        if let Some(iat) = claims.iat {
            if iat > now.saturating_add(LEEWAY_SECONDS) {
                return Err(Unauthenticated::Invalid("token issued in the future"));
            }
            if claims.exp.saturating_sub(iat) > max {
                return Err(Unauthenticated::Invalid(
                    "token lifetime exceeds the maximum",
                ));
            }
        }
        if claims.exp.saturating_sub(now) > max.saturating_add(LEEWAY_SECONDS) {
            return Err(Unauthenticated::Invalid(
                "token lifetime exceeds the maximum",
            ));
        }
        Ok(())
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

/// The `kid` of a shared secret: `local-` and the first 8 bytes of its SHA-256, so tokens
/// signed before a rotation still name the secret that signed them.
fn own_kid(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    format!("local-{}", crate::secret_file::hex(&digest[..8]))
}

/// The name of `algorithm` in a JWS header.
fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::HS256 => "HS256",
        Algorithm::RS256 => "RS256",
        Algorithm::EdDSA => "EdDSA",
        _ => "",
    }
}

/// Why `jsonwebtoken` refused a token, in words for the log (never the token).
fn reason(error: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::InvalidSignature => "bad token signature",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "unsupported token algorithm"
        }
        ErrorKind::InvalidIssuer => "wrong token issuer",
        ErrorKind::InvalidAudience => "wrong token audience",
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => "token has no issuer",
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => "token has no audience",
        ErrorKind::Json(_) => "malformed token claims",
        _ => "malformed token",
    }
}

/// The header fields we look at. Duplicate fields fail to parse, so a token cannot show one
/// `alg` to us and another to someone else.
#[derive(Deserialize)]
struct HeaderSeen {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

/// The claims we look at; `iss` and `aud` are checked by `jsonwebtoken`, others ignored.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    role: String,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac};

    use super::*;

    type HmacSha256 = Hmac<Sha256>;

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
        assert_eq!(
            header,
            serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": keys().own_kid()})
        );
        assert!(keys().own_kid().starts_with("local-"));
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
        // HS256 is the only algorithm of the server's own secret.
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

    fn claims_for(lifetime: i64, extra: &str) -> String {
        let iat = now().timestamp();
        format!(
            r#"{{"sub":"alice","role":"customer","iat":{iat},"exp":{}{extra}}}"#,
            iat + lifetime
        )
    }

    #[test]
    fn a_token_beyond_the_maximum_lifetime_is_invalid() {
        let week = DEFAULT_MAX_LIFETIME.num_seconds();
        assert!(
            keys()
                .verify(
                    &forge(r#"{"alg":"HS256"}"#, &claims_for(week, ""), SECRET),
                    now()
                )
                .is_ok()
        );
        assert_invalid(&forge(
            r#"{"alg":"HS256"}"#,
            &claims_for(week + 1, ""),
            SECRET,
        ));
        // Without iat, measured from now.
        let far = format!(
            r#"{{"sub":"alice","role":"customer","exp":{}}}"#,
            now().timestamp() + week + LEEWAY_SECONDS + 1
        );
        assert_invalid(&forge(r#"{"alg":"HS256"}"#, &far, SECRET));
        // Issued in the future.
        let ahead = format!(
            r#"{{"sub":"alice","role":"customer","iat":{},"exp":{}}}"#,
            now().timestamp() + 120,
            now().timestamp() + 180
        );
        assert_invalid(&forge(r#"{"alg":"HS256"}"#, &ahead, SECRET));
        // A shorter maximum is honoured.
        let short = keys().with_rules(TokenRules {
            max_lifetime: Duration::hours(1),
            ..TokenRules::default()
        });
        let token = forge(r#"{"alg":"HS256"}"#, &claims_for(3601, ""), SECRET);
        assert!(matches!(
            short.verify(&token, now()),
            Err(Unauthenticated::Invalid(_))
        ));
    }

    #[test]
    fn issuer_and_audience_are_required_when_configured() {
        let strict = keys().with_rules(TokenRules {
            issuer: Some("https://id.example".into()),
            audience: Some("domainflow".into()),
            ..TokenRules::default()
        });
        let verify = |extra: &str| {
            strict.verify(
                &forge(r#"{"alg":"HS256"}"#, &claims_for(60, extra), SECRET),
                now(),
            )
        };
        assert!(verify(r#","iss":"https://id.example","aud":"domainflow""#).is_ok());
        assert!(verify(r#","iss":"https://id.example","aud":["other","domainflow"]"#).is_ok());
        for extra in [
            "",
            r#","iss":"https://id.example""#,
            r#","aud":"domainflow""#,
            r#","iss":"https://evil.example","aud":"domainflow""#,
            r#","iss":"https://id.example","aud":"other""#,
        ] {
            assert!(
                matches!(verify(extra), Err(Unauthenticated::Invalid(_))),
                "{extra}"
            );
        }
        // What it signs carries both.
        let own = strict.sign("alice", Role::Customer, Duration::minutes(5), now());
        assert!(strict.verify(&own, now()).is_ok());
        // Without rules an audience in a token is no reason to refuse it.
        assert!(
            keys()
                .verify(
                    &forge(
                        r#"{"alg":"HS256"}"#,
                        &claims_for(60, r#","aud":"x""#),
                        SECRET
                    ),
                    now()
                )
                .is_ok()
        );
    }

    /// A key set with `keys`, as JSON.
    fn key_set(keys: &[serde_json::Value]) -> String {
        serde_json::json!({ "keys": keys }).to_string()
    }

    #[test]
    fn a_previous_secret_kept_in_the_key_set_still_verifies_its_tokens_by_kid() {
        let old_secret = [9u8; 32];
        let old = JwtKeys::new(&old_secret).unwrap();
        let issued = old.sign("alice", Role::Customer, Duration::minutes(5), now());
        // After a rotation to SECRET, the old secret's tokens fail ...
        assert_invalid(&issued);
        // ... unless the old secret is kept under its kid.
        let rotated = keys()
            .with_key_set(&key_set(&[serde_json::json!({
                "kty": "oct", "kid": old.own_kid(), "alg": "HS256",
                "k": URL_SAFE_NO_PAD.encode(old_secret),
            })]))
            .unwrap();
        assert_eq!(rotated.verify(&issued, now()).unwrap().subject, "alice");
        let fresh = rotated.sign("bob", Role::Customer, Duration::minutes(5), now());
        assert_eq!(rotated.verify(&fresh, now()).unwrap().subject, "bob");
        // A kid nobody has is refused, even with a valid signature.
        let unknown = forge(r#"{"alg":"HS256","kid":"nobody"}"#, &valid_claims(), SECRET);
        assert_invalid(&unknown);
    }

    fn rsa_keys() -> (JwtKeys, jsonwebtoken::EncodingKey) {
        let jwk: serde_json::Value =
            serde_json::from_str(include_str!("testdata/rsa-test-key.jwk.json")).unwrap();
        let keys = keys().with_key_set(&key_set(&[jwk])).unwrap();
        let private =
            jsonwebtoken::EncodingKey::from_rsa_der(include_bytes!("testdata/rsa-test-key.der"));
        (keys, private)
    }

    fn signed(alg: Algorithm, kid: &str, claims: &str, key: &jsonwebtoken::EncodingKey) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        let claims: serde_json::Value = serde_json::from_str(claims).unwrap();
        jsonwebtoken::encode(&header, &claims, key).unwrap()
    }

    #[test]
    fn an_identity_providers_rs256_key_verifies_its_tokens_and_only_as_rs256() {
        let (keys, private) = rsa_keys();
        let token = signed(Algorithm::RS256, "idp-rsa", &valid_claims(), &private);
        assert_eq!(keys.verify(&token, now()).unwrap().subject, "alice");
        // Under another kid, or none, it is not the provider's key that checks it.
        assert!(
            keys.verify(
                &signed(Algorithm::RS256, "other", &valid_claims(), &private),
                now()
            )
            .is_err()
        );
        // The key confusion attack: HS256 signed with the public key's bytes, naming its kid.
        let jwk: serde_json::Value =
            serde_json::from_str(include_str!("testdata/rsa-test-key.jwk.json")).unwrap();
        let public = jwk["n"].as_str().unwrap().as_bytes();
        let confused = forge(
            r#"{"alg":"HS256","kid":"idp-rsa"}"#,
            &valid_claims(),
            public,
        );
        assert!(matches!(
            keys.verify(&confused, now()),
            Err(Unauthenticated::Invalid(_))
        ));
        // An RS256 token naming the server's own HS256 kid is refused too.
        let own = keys.own_kid().to_owned();
        assert!(
            keys.verify(
                &signed(Algorithm::RS256, &own, &valid_claims(), &private),
                now()
            )
            .is_err()
        );
    }

    #[test]
    fn an_ed25519_key_verifies_eddsa_tokens() {
        use ring::signature::KeyPair as _;
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        let keys = keys()
            .with_key_set(&key_set(&[serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "kid": "idp-ed", "alg": "EdDSA", "x": x,
            })]))
            .unwrap();
        let private = jsonwebtoken::EncodingKey::from_ed_der(pkcs8.as_ref());
        let token = signed(Algorithm::EdDSA, "idp-ed", &valid_claims(), &private);
        assert_eq!(keys.verify(&token, now()).unwrap().subject, "alice");
        let [header, _, signature] = token.split('.').collect::<Vec<_>>()[..] else {
            panic!("not three parts");
        };
        let other = URL_SAFE_NO_PAD
            .encode(claims_for(60, r#","role":"operator""#).replace(r#""role":"customer","#, ""));
        assert_invalid(&format!("{header}.{other}.{signature}"));
    }

    #[test]
    fn a_malformed_key_set_is_refused_naming_the_key() {
        let refused = |set: &[serde_json::Value]| match keys().with_key_set(&key_set(set)) {
            Err(Error::KeySet(why)) => why,
            other => panic!("{set:?} was accepted: {:?}", other.map(|_| ())),
        };
        let secret = URL_SAFE_NO_PAD.encode([1u8; 32]);
        assert!(
            refused(&[serde_json::json!({"kty": "oct", "alg": "HS256", "k": secret})])
                .contains("no kid")
        );
        assert!(
            refused(&[serde_json::json!({"kty": "oct", "kid": "a", "k": secret})])
                .contains("no alg")
        );
        assert!(
            refused(&[serde_json::json!({"kty": "oct", "kid": "a", "alg": "RS256", "k": secret})])
                .contains("alg must be")
        );
        assert!(
            refused(&[serde_json::json!({"kty": "oct", "kid": "a", "alg": "HS512", "k": secret})])
                .contains("alg must be")
        );
        assert!(
            refused(&[
                serde_json::json!({"kty": "oct", "kid": "a", "alg": "HS256", "k": "c2hvcnQ"})
            ])
            .contains("32 bytes")
        );
        assert!(refused(&[serde_json::json!({"kty": "oct", "kid": "a", "alg": "HS256", "use": "enc", "k": secret})]).contains("use"));
        let twice = serde_json::json!({"kty": "oct", "kid": "a", "alg": "HS256", "k": secret});
        assert!(refused(&[twice.clone(), twice]).contains("twice"));
        assert!(matches!(keys().with_key_set("[]"), Err(Error::KeySet(_))));
    }
}
