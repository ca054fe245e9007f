//! What a resolver knows about its request: the server state, the caller (authenticated
//! lazily, so anonymous operations never need credentials) and the `Idempotency-Key`.

use application::event_log::CommandMetadata;
use async_graphql::Context;
use axum::http::HeaderMap;
use tokio::sync::OnceCell;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The credentials of an HTTP request, checked the first time a resolver asks who is
/// calling and remembered for the rest of the request.
#[derive(Debug)]
pub struct LazyCaller {
    headers: HeaderMap,
    caller: OnceCell<Result<Caller, ApiError>>,
}

impl LazyCaller {
    /// The credentials in `headers`, not checked yet.
    #[must_use]
    pub fn new(headers: HeaderMap) -> Self {
        Self {
            headers,
            caller: OnceCell::new(),
        }
    }

    /// The credentials in `headers`, already checked (as `checked`): resolvers take that
    /// answer, and the request is not counted against the rate limit again.
    #[must_use]
    pub fn checked(headers: HeaderMap, checked: Result<Caller, ApiError>) -> Self {
        Self {
            headers,
            caller: OnceCell::new_with(Some(checked)),
        }
    }

    /// The authenticated caller.
    ///
    /// # Errors
    /// [`ApiError::Unauthenticated`] when the credentials are missing or do not hold.
    pub async fn get(&self, state: &AppState) -> Result<&Caller, ApiError> {
        self.caller
            .get_or_init(|| Caller::from_headers(state, &self.headers))
            .await
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The request's `Idempotency-Key`, present only when the operation is a single mutation
/// field (so the key names exactly one command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub String);

/// The server state of the request.
///
/// # Errors
/// `INTERNAL` when the request was built without it.
pub fn state<'a>(ctx: &Context<'a>) -> Result<&'a AppState, async_graphql::Error> {
    ctx.data::<AppState>().map_err(|e| {
        ApiError::Internal(format!("GraphQL request without state: {}", e.message)).to_graphql()
    })
}

/// The caller: a [`Caller`] put into the request as is (e.g. by a transport that has
/// already authenticated), else the request's [`LazyCaller`].
///
/// # Errors
/// `UNAUTHENTICATED` when there is neither, or the credentials do not hold.
pub async fn caller(ctx: &Context<'_>) -> Result<Caller, async_graphql::Error> {
    if let Some(caller) = ctx.data_opt::<Caller>() {
        return Ok(caller.clone());
    }
    let unauthenticated = || {
        ApiError::Unauthenticated(
            "authentication required: send a bearer token or an API key".into(),
        )
    };
    let Some(lazy) = ctx.data_opt::<LazyCaller>() else {
        return Err(unauthenticated().to_graphql());
    };
    let state = state(ctx)?;
    lazy.get(state).await.cloned().map_err(|e| e.to_graphql())
}

/// The metadata of the one command a mutation runs: its id derives from the
/// `Idempotency-Key` when the request has one.
#[must_use]
pub fn metadata(ctx: &Context<'_>, caller: &Caller) -> CommandMetadata {
    let key = ctx.data_opt::<IdempotencyKey>().map(|key| key.0.as_str());
    caller.metadata(key)
}
