//! Who is calling: bearer tokens ([`JwtKeys`]), API keys ([`ApiKeys`]) and the one
//! [`Authenticator`] that reads either from a request.

mod error;
mod jwt;
mod secret;

use application::api_keys::ApiKeys;
use chrono::Utc;

/// Who is calling, once authenticated: the application's actor.
pub use application::Actor as Principal;
pub use application::Role;
pub use error::AuthError;
pub use jwt::{JwtKeys, MIN_SECRET_LEN};
pub use secret::load_or_create_secret;

/// Authenticates requests by bearer token or API key.
#[derive(Debug, Clone)]
pub struct Authenticator {
    jwt: JwtKeys,
    api_keys: ApiKeys,
}

impl Authenticator {
    /// Checks tokens with `jwt` and API keys with `api_keys`.
    #[must_use]
    pub fn new(jwt: JwtKeys, api_keys: ApiKeys) -> Self {
        Self { jwt, api_keys }
    }

    /// Who sent a request with these `Authorization` and `X-Api-Key` header values.
    ///
    /// # Errors
    /// [`AuthError::Missing`] when neither is given; [`AuthError::Invalid`] when both are,
    /// when `Authorization` is not `Bearer <token>`, or the credential is not good;
    /// [`AuthError::Expired`] for an expired token; [`AuthError::Store`] when API keys
    /// cannot be looked up.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        api_key: Option<&str>,
    ) -> Result<Principal, AuthError> {
        match (authorization, api_key) {
            (None, None) => Err(AuthError::Missing),
            // Two credentials could name two callers; picking one silently would hide that.
            (Some(_), Some(_)) => Err(AuthError::Invalid(
                "send a bearer token or an API key, not both",
            )),
            (Some(authorization), None) => {
                self.jwt.verify(bearer_token(authorization)?, Utc::now())
            }
            (None, Some(key)) => self
                .api_keys
                .authenticate(key.trim())
                .await
                .map_err(|error| match error {
                    application::Error::Unauthenticated(reason) => AuthError::Invalid(reason),
                    other => AuthError::Store(other),
                }),
        }
    }
}

/// The token in `Bearer <token>`; the scheme is case-insensitive (RFC 7235).
fn bearer_token(authorization: &str) -> Result<&str, AuthError> {
    let (scheme, token) = authorization
        .trim()
        .split_once(' ')
        .ok_or(AuthError::Invalid(
            "expected `Authorization: Bearer <token>`",
        ))?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(AuthError::Invalid("unsupported authorization scheme"));
    }
    match token.trim() {
        "" => Err(AuthError::Invalid(
            "expected `Authorization: Bearer <token>`",
        )),
        token => Ok(token),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(&[42; 32]).unwrap()
    }

    /// An authenticator whose key store is never reached: for paths that must not need it.
    fn offline() -> Authenticator {
        let pool = sqlx::PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let store = infrastructure::PgApiKeys::new(pool);
        Authenticator::new(keys(), ApiKeys::new(std::sync::Arc::new(store)))
    }

    #[track_caller]
    fn assert_invalid(result: Result<Principal, AuthError>) {
        assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
    }

    #[tokio::test]
    async fn a_bearer_token_authenticates() {
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), Utc::now());
        for header in [format!("Bearer {token}"), format!("bearer  {token} ")] {
            let principal = offline().authenticate(Some(&header), None).await.unwrap();
            assert_eq!(principal.subject, "alice");
            assert_eq!(principal.role, Role::Customer);
        }
    }

    #[tokio::test]
    async fn no_credentials_are_missing() {
        assert!(matches!(
            offline().authenticate(None, None).await,
            Err(AuthError::Missing)
        ));
    }

    #[tokio::test]
    async fn other_schemes_and_bare_tokens_are_invalid() {
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), Utc::now());
        for header in [
            format!("Basic {token}"),
            format!("Token {token}"),
            token.clone(),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            String::new(),
        ] {
            assert_invalid(offline().authenticate(Some(&header), None).await);
        }
    }

    #[tokio::test]
    async fn a_bearer_token_and_an_api_key_together_are_invalid() {
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), Utc::now());
        let header = format!("Bearer {token}");
        assert_invalid(offline().authenticate(Some(&header), Some("df_x")).await);
    }

    #[tokio::test]
    async fn an_expired_bearer_token_is_expired() {
        let issued = Utc::now() - Duration::hours(1);
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), issued);
        let header = format!("Bearer {token}");
        assert!(matches!(
            offline().authenticate(Some(&header), None).await,
            Err(AuthError::Expired)
        ));
    }

    #[test]
    fn error_texts_never_echo_the_credential() {
        let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.";
        let error = keys().verify(token, Utc::now()).unwrap_err();
        assert!(!error.to_string().contains("eyJ"), "{error}");
    }
}
