//! How many requests are served at once: at most `max_in_flight` in all, and at most
//! `max_in_flight_per_address` for one client address, so one client sending its bodies
//! slowly cannot take every place. A request beyond either is refused at once (503
//! `UNAVAILABLE` with `Retry-After`) rather than queued.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;
use crate::throttle::address_key;

/// Requests in flight per client address.
type Counts = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// The places of requests in flight.
#[derive(Debug)]
pub struct InFlight {
    total: Arc<Semaphore>,
    max_total: usize,
    per_address: Counts,
    max_per_address: usize,
}

/// A request's place: given back when dropped.
#[derive(Debug)]
pub struct Place {
    _total: OwnedSemaphorePermit,
    address: Option<(IpAddr, Counts)>,
}

impl InFlight {
    /// `max_total` places, `max_per_address` of them for one address.
    #[must_use]
    pub fn new(max_total: usize, max_per_address: usize) -> Self {
        Self {
            total: Arc::new(Semaphore::new(max_total)),
            max_total,
            per_address: Arc::default(),
            max_per_address,
        }
    }

    /// A place for a request from `address` (when known).
    ///
    /// # Errors
    /// [`ApiError::Overloaded`] when the server or that address has none left.
    pub fn enter(&self, address: Option<IpAddr>) -> Result<Place, ApiError> {
        let total = Arc::clone(&self.total).try_acquire_owned().map_err(|_| {
            ApiError::Overloaded(format!(
                "the server is serving its limit of {} requests at once; retry shortly",
                self.max_total
            ))
        })?;
        let Some(address) = address.map(address_key) else {
            return Ok(Place {
                _total: total,
                address: None,
            });
        };
        let mut counts = self
            .per_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(address).or_insert(0);
        if *count >= self.max_per_address {
            return Err(ApiError::Overloaded(format!(
                "this client address has its limit of {} requests at once; retry shortly",
                self.max_per_address
            )));
        }
        *count += 1;
        Ok(Place {
            _total: total,
            address: Some((address, Arc::clone(&self.per_address))),
        })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some((address, counts)) = self.address.take() {
            let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(count) = counts.get_mut(&address) {
                *count -= 1;
                if *count == 0 {
                    counts.remove(&address);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_share_and_its_places_come_back() {
        let in_flight = InFlight::new(4, 2);
        let one: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        let first = in_flight.enter(Some(one)).unwrap();
        let _second = in_flight.enter(Some(one)).unwrap();
        assert!(matches!(
            in_flight.enter(Some(one)),
            Err(ApiError::Overloaded(_))
        ));
        let _third = in_flight.enter(Some(other)).unwrap();
        drop(first);
        let _again = in_flight.enter(Some(one)).unwrap();
        let _fourth = in_flight.enter(None).unwrap();
        // Four places in all: the fifth request is refused whatever its address.
        assert!(matches!(
            in_flight.enter(Some(other)),
            Err(ApiError::Overloaded(_))
        ));
    }

    #[test]
    fn a_refused_request_takes_no_place() {
        let in_flight = InFlight::new(2, 1);
        let one: IpAddr = [10, 0, 0, 1].into();
        let _held = in_flight.enter(Some(one)).unwrap();
        assert!(in_flight.enter(Some(one)).is_err());
        assert!(in_flight.enter(Some([10, 0, 0, 2].into())).is_ok());
    }
}
