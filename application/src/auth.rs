//! Who is calling: a bearer token, checked by whatever signs them ([`TokenVerifier`]), or an
//! API key ([`ApiKeys`]), never both.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::api_keys::ApiKeys;
use crate::{Actor, Error, Unauthenticated};

/// Checks bearer tokens.
pub trait TokenVerifier: Send + Sync {
    /// The actor `token` names, if it is genuine and valid at `now`.
    ///
    /// # Errors
    /// [`Unauthenticated::Invalid`] or [`Unauthenticated::Expired`].
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Actor, Unauthenticated>;
}

/// Authenticates requests by bearer token or API key.
#[derive(Clone)]
pub struct Authenticator {
    tokens: Arc<dyn TokenVerifier>,
    api_keys: ApiKeys,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Checks tokens with `tokens` and API keys with `api_keys`.
    #[must_use]
    pub fn new(tokens: Arc<dyn TokenVerifier>, api_keys: ApiKeys) -> Self {
        Self { tokens, api_keys }
    }

    /// Who sent a request with these `Authorization` and `X-Api-Key` values.
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] when neither is given, when both are, when
    /// `Authorization` is not `Bearer <token>`, or the credential does not hold; the key
    /// store's error when API keys cannot be looked up.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        api_key: Option<&str>,
    ) -> Result<Actor, Error> {
        let checked = self.check(authorization, api_key).await;
        // A credential that was sent and did not hold is worth a line (which kind and why,
        // never the credential); no credential at all is an anonymous caller, not a failure.
        if let Err(Error::Unauthenticated(why)) = &checked
            && *why != Unauthenticated::Missing
        {
            let credential = if api_key.is_some() {
                "api key"
            } else {
                "bearer token"
            };
            tracing::info!(credential, reason = %why, "authentication failed");
        }
        checked
    }

    async fn check(
        &self,
        authorization: Option<&str>,
        api_key: Option<&str>,
    ) -> Result<Actor, Error> {
        match (authorization, api_key) {
            (None, None) => Err(Unauthenticated::Missing.into()),
            // Two credentials could name two callers; picking one silently would hide that.
            (Some(_), Some(_)) => {
                Err(Unauthenticated::Invalid("send a bearer token or an API key, not both").into())
            }
            (Some(authorization), None) => Ok(self
                .tokens
                .verify(bearer_token(authorization)?, Utc::now())?),
            (None, Some(key)) => self.api_keys.authenticate(key.trim()).await,
        }
    }
}

/// The token in `Bearer <token>`; the scheme is case-insensitive (RFC 7235).
fn bearer_token(authorization: &str) -> Result<&str, Unauthenticated> {
    let expected = Unauthenticated::Invalid("expected `Authorization: Bearer <token>`");
    let (scheme, token) = authorization.trim().split_once(' ').ok_or(expected)?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(Unauthenticated::Invalid("unsupported authorization scheme"));
    }
    match token.trim() {
        "" => Err(expected),
        token => Ok(token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bearer_schemes_with_a_token_pass() {
        assert_eq!(bearer_token("Bearer abc"), Ok("abc"));
        assert_eq!(bearer_token(" bearer  abc "), Ok("abc"));
        for header in ["Basic abc", "Token abc", "abc", "Bearer", "Bearer ", ""] {
            assert!(
                matches!(bearer_token(header), Err(Unauthenticated::Invalid(_))),
                "{header:?}"
            );
        }
    }
}
