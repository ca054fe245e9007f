//! The aggregates this process wrote last, kept so that the next command on one of them is
//! decided without loading its stream.
//!
//! Nothing here is trusted blindly: a decision made on a kept aggregate is appended with the
//! kept version and head hash, and the append's head check refuses it when the stream has
//! moved on (another process wrote to it, or the kept copy is wrong for any reason). The
//! repository then loads the stream and decides again, as it does for an aggregate it does
//! not keep.
//!
//! Memory is bounded by two generations: new entries go into the young one; when it is half
//! the capacity, it becomes the old one and the previous old one is dropped. An entry used
//! again moves back into the young generation, so what is in use stays.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::event_log::Position;

/// An aggregate as this process left it after its last append.
#[derive(Debug, Clone)]
pub struct Kept<A> {
    pub aggregate: A,
    /// The stream's version after that append.
    pub version: i64,
    /// The hash of the stream's last event.
    pub head_hash: Vec<u8>,
    /// The global position of the stream's last event.
    pub position: Position,
}

/// Kept aggregates of one type, by id. See the module documentation.
#[derive(Debug)]
pub struct AggregateCache<A> {
    generations: Mutex<Generations<A>>,
    capacity: usize,
}

#[derive(Debug)]
struct Generations<A> {
    young: HashMap<String, Kept<A>>,
    old: HashMap<String, Kept<A>>,
}

impl<A> AggregateCache<A> {
    /// Keeps up to `capacity` aggregates (0: none).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            generations: Mutex::new(Generations {
                young: HashMap::new(),
                old: HashMap::new(),
            }),
            capacity,
        }
    }

    /// Takes the kept aggregate `id` out, if there is one: whoever takes it decides on it and
    /// puts back what it appended, or nothing.
    pub fn take(&self, id: &str) -> Option<Kept<A>> {
        let mut generations = self.lock();
        generations
            .young
            .remove(id)
            .or_else(|| generations.old.remove(id))
    }

    /// What `look` sees in the kept aggregate `id`, if there is one, leaving it kept.
    pub fn peek<R>(&self, id: &str, look: impl FnOnce(&Kept<A>) -> R) -> Option<R> {
        let generations = self.lock();
        generations
            .young
            .get(id)
            .or_else(|| generations.old.get(id))
            .map(look)
    }

    /// Keeps `kept` as aggregate `id`.
    pub fn put(&self, id: &str, kept: Kept<A>) {
        if self.capacity == 0 {
            return;
        }
        let mut generations = self.lock();
        generations.old.remove(id);
        generations.young.insert(id.to_owned(), kept);
        if generations.young.len() >= self.capacity.div_ceil(2) {
            generations.old = std::mem::take(&mut generations.young);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations<A>> {
        self.generations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(version: i64) -> Kept<i64> {
        Kept {
            aggregate: version,
            version,
            head_hash: vec![],
            position: Position::START,
        }
    }

    #[test]
    fn an_aggregate_is_taken_once() {
        let cache = AggregateCache::new(8);
        cache.put("a", kept(1));
        assert_eq!(cache.take("a").map(|k| k.version), Some(1));
        assert!(cache.take("a").is_none());
    }

    #[test]
    fn it_keeps_at_most_its_capacity_and_what_is_used_stays() {
        let cache = AggregateCache::new(4);
        cache.put("used", kept(0));
        for i in 1..=100 {
            cache.put(&i.to_string(), kept(i));
            // Used on every round: taken and put back.
            let used = cache.take("used").expect("kept while in use");
            cache.put("used", used);
            let held = {
                let g = cache.lock();
                g.young.len() + g.old.len()
            };
            assert!(held <= 4, "{held} kept with a capacity of 4");
        }
        assert!(cache.take("1").is_none(), "the oldest entries are dropped");
    }

    #[test]
    fn a_capacity_of_zero_keeps_nothing() {
        let cache = AggregateCache::new(0);
        cache.put("a", kept(1));
        assert!(cache.take("a").is_none());
    }
}
