//! Rate limits: how many requests one principal, and one client address, may make.
//!
//! Each key gets a steady rate of requests per second and bursts of twice as many (the
//! generic cell rate algorithm of `governor`). A request over its key's limit is refused
//! with `RATE_LIMITED` (429 and `Retry-After` on REST) before it costs anything more. Keys
//! whose state has returned to that of a new key are forgotten every minute, so a stream
//! of new addresses cannot grow the table without bound.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use tokio::sync::watch;

use crate::error::ApiError;

/// How often keys back to their initial state are dropped.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// One limit over keys of type `K`.
struct Limit<K: Hash + Eq + Clone> {
    limiter: RateLimiter<K, HashMapStateStore<K>, DefaultClock>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(per_second: NonZeroU32) -> Self {
        let burst = per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        let clock = DefaultClock::default();
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: RateLimiter::hashmap_with_clock(quota, clock.clone()),
            clock,
        }
    }

    /// `Err` with the time until `key` may make one more request.
    fn check(&self, key: &K) -> Result<(), Duration> {
        self.limiter
            .check_key(key)
            .map_err(|refused| refused.wait_time_from(self.clock.now()))
    }

    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The server's rate limits: per authenticated principal and per client IP address.
pub struct Throttle {
    principal: Option<Limit<String>>,
    address: Option<Limit<IpAddr>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("principal", &self.principal.is_some())
            .field("address", &self.address.is_some())
            .finish()
    }
}

impl Throttle {
    /// Limits of `per_principal` and `per_address` requests per second (`None`: none).
    #[must_use]
    pub fn new(per_principal: Option<NonZeroU32>, per_address: Option<NonZeroU32>) -> Self {
        Self {
            principal: per_principal.map(Limit::new),
            address: per_address.map(Limit::new),
        }
    }

    /// Counts a request of the principal `key` (its role and subject).
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] when it is over its limit.
    pub fn principal(&self, key: &str) -> Result<(), ApiError> {
        let Some(limit) = &self.principal else {
            return Ok(());
        };
        limit.check(&key.to_owned()).map_err(refusal)
    }

    /// Counts a request from `address`.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] when it is over its limit.
    pub fn address(&self, address: IpAddr) -> Result<(), ApiError> {
        let Some(limit) = &self.address else {
            return Ok(());
        };
        limit.check(&address).map_err(refusal)
    }

    /// Drops forgotten keys every minute until `stopped` turns `true`.
    pub async fn sweep(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = stopped.wait_for(|stop| *stop) => return,
            }
            if let Some(limit) = &self.principal {
                limit.sweep();
            }
            if let Some(limit) = &self.address {
                limit.sweep();
            }
        }
    }
}

fn refusal(wait: Duration) -> ApiError {
    ApiError::RateLimited { retry_after: wait }
}
