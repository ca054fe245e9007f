//! Why a caller could not be authenticated.

/// Why a caller could not be authenticated.
///
/// [`Missing`](Self::Missing), [`Invalid`](Self::Invalid) and [`Expired`](Self::Expired) are
/// verdicts on the caller and all mean 401; their texts are safe to show and never echo the
/// credential. The rest are not the caller's fault: [`Store`](Self::Store) means the
/// credential store could not be asked (a 5xx), while [`WeakSecret`](Self::WeakSecret) only
/// comes from configuration.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Neither a bearer token nor an API key was presented.
    #[error("missing credentials: send `Authorization: Bearer <token>` or `X-Api-Key`")]
    Missing,
    /// The credential is malformed, forged, unknown or revoked. The reason is a fixed text.
    #[error("invalid credentials: {0}")]
    Invalid(&'static str),
    /// The token was genuine but its `exp` has passed.
    #[error("expired credentials")]
    Expired,
    /// The configured JWT secret is shorter than 32 bytes.
    #[error("the JWT secret must be at least 32 bytes")]
    WeakSecret,
    /// The credential store could not be reached or failed.
    #[error("credential store unavailable")]
    Store(#[source] application::Error),
}
