//! Rate limits: how many requests one principal, and one client address, may make.
//!
//! Each key gets a steady rate of requests per second and bursts of twice as many (the
//! generic cell rate algorithm of `governor`). A request over its key's limit is refused
//! with `RATE_LIMITED` (429 and `Retry-After` on REST) before it costs anything more. An
//! IPv6 client is keyed by its /64 ([`address_key`]). Keys
//! whose state has returned to that of a new key are forgotten every minute, so a stream
//! of new addresses cannot grow the table without bound.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use application::Actor;
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
        let burst = per_second.saturating_add(per_second.get());
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

    /// Counts a request of `actor` (its principal: role and subject).
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] when it is over its limit.
    pub fn actor(&self, actor: &Actor) -> Result<(), ApiError> {
        let Some(limit) = &self.principal else {
            return Ok(());
        };
        limit.check(&actor.principal()).map_err(refusal)
    }

    /// Counts a request from `address`.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] when it is over its limit.
    pub fn address(&self, address: IpAddr) -> Result<(), ApiError> {
        let Some(limit) = &self.address else {
            return Ok(());
        };
        limit.check(&address_key(address)).map_err(refusal)
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

/// The client an address stands for: an IPv4 address itself; for IPv6 its /64, which one
/// subscriber usually holds whole (keying by full addresses would let it rotate freely).
#[must_use]
pub fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

fn refusal(wait: Duration) -> ApiError {
    ApiError::RateLimited { retry_after: wait }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_slash_64_and_a_mapped_ipv4_one_its_address() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(one), address_key(same_64));
        assert_ne!(address_key(one), address_key(other_64));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(address_key(mapped), IpAddr::from([10, 0, 0, 1]));
    }

    #[test]
    fn a_key_over_its_burst_waits_and_others_do_not() {
        let throttle = Throttle::new(NonZeroU32::new(1), NonZeroU32::new(1));
        let alice = Actor::new("alice", application::Role::Customer);
        assert!(throttle.actor(&alice).is_ok());
        assert!(throttle.actor(&alice).is_ok());
        let Err(ApiError::RateLimited { retry_after }) = throttle.actor(&alice) else {
            panic!("the third request in a burst of two passed");
        };
        assert!(retry_after <= Duration::from_secs(1), "{retry_after:?}");
        assert!(
            throttle
                .actor(&Actor::new("bob", application::Role::Customer))
                .is_ok()
        );
        // The same subject in another role is another principal.
        assert!(
            throttle
                .actor(&Actor::new("alice", application::Role::Operator))
                .is_ok()
        );
    }
}
