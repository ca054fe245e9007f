//! Per-stream locks, so commands on one hot aggregate (a SKU every order touches) queue in
//! the process instead of racing each other into concurrency conflicts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// A lock per key, created on demand and dropped when no one holds or waits for it.
#[derive(Debug, Default)]
pub struct StreamLocks {
    locks: Mutex<HashMap<String, Weak<AsyncMutex<()>>>>,
}

impl StreamLocks {
    /// Waits for the lock of `key`; it is released when the guard drops.
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self
                .locks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
                lock
            } else {
                // Forget locks nobody holds any more before adding one.
                locks.retain(|_, lock| lock.strong_count() > 0);
                let lock = Arc::new(AsyncMutex::new(()));
                locks.insert(key.to_owned(), Arc::downgrade(&lock));
                lock
            }
        };
        lock.lock_owned().await
    }
}
