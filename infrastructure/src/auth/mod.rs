//! Bearer tokens: the keys that sign and check them ([`JwtKeys`], the application's
//! [`application::auth::TokenVerifier`]), the key sets they may come from and the secret kept
//! in the data directory.

mod jwt;
mod key_set;
mod secret;

pub use jwt::{DEFAULT_MAX_LIFETIME, JwtKeys, LEEWAY_SECONDS, MIN_SECRET_LEN, TokenRules};
pub use secret::{load_or_create_secret, parse_secret};

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use application::api_keys::ApiKeys;
    use application::auth::Authenticator;
    use application::{Actor, Role, Unauthenticated};
    use chrono::{Duration, Utc};

    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(&[42; 32]).unwrap()
    }

    /// An authenticator whose key store is never reached: for paths that must not need it.
    fn offline() -> Authenticator {
        let pool = sqlx::PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let store = crate::PgApiKeys::new(pool);
        Authenticator::new(Arc::new(keys()), ApiKeys::new(Arc::new(store)))
    }

    #[track_caller]
    fn assert_invalid(result: Result<Actor, application::Error>) {
        assert!(
            matches!(
                result,
                Err(application::Error::Unauthenticated(
                    Unauthenticated::Invalid(_)
                ))
            ),
            "{result:?}"
        );
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
            Err(application::Error::Unauthenticated(
                Unauthenticated::Missing
            ))
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
            Err(application::Error::Unauthenticated(
                Unauthenticated::Expired
            ))
        ));
    }

    #[test]
    fn error_texts_never_echo_the_credential() {
        let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.";
        let error = keys().verify(token, Utc::now()).unwrap_err();
        assert!(!error.to_string().contains("eyJ"), "{error}");
    }
}
