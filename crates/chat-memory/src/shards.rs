//! A fixed set of mutex-guarded shards chosen by key hash, so that no single process-wide lock
//! sits on the hot path. A shard's lock is taken for one short, synchronous step and never held
//! across an `await`.

use std::{
    hash::{BuildHasher, Hash, RandomState},
    sync::{Mutex, MutexGuard, PoisonError},
    thread,
};

/// Shards of state `S`, each behind its own lock.
#[derive(Debug)]
pub(crate) struct Shards<S> {
    shards: Box<[Mutex<S>]>,
    hasher: RandomState,
}

impl<S: Default> Shards<S> {
    /// `count` shards (at least one).
    pub(crate) fn new(count: usize) -> Self {
        let shards = (0..count.max(1))
            .map(|_| Mutex::new(S::default()))
            .collect();
        Self {
            shards,
            hasher: RandomState::new(),
        }
    }

    /// Four shards per available core, rounded up to a power of two, between 4 and 256.
    pub(crate) fn default_count() -> usize {
        let cores = thread::available_parallelism().map_or(4, std::num::NonZero::get);
        cores.saturating_mul(4).next_power_of_two().clamp(4, 256)
    }
}

impl<S> Shards<S> {
    /// Locks the shard that holds `key`.
    ///
    /// A poisoned lock is taken over: every update under these locks is a few map operations
    /// that cannot panic half-way, so the state behind a poisoned lock is still consistent.
    pub(crate) fn lock<K: Hash + ?Sized>(&self, key: &K) -> MutexGuard<'_, S> {
        let len = u64::try_from(self.shards.len()).unwrap_or(u64::MAX);
        let index = usize::try_from(self.hasher.hash_one(key) % len).unwrap_or(0);
        self.lock_index(index)
    }

    /// How many shards there are.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.len()
    }

    /// Locks shard `index` (modulo the shard count).
    pub(crate) fn lock_index(&self, index: usize) -> MutexGuard<'_, S> {
        let shard = &self.shards[index % self.shards.len()];
        shard.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_always_lands_in_the_same_shard() {
        let shards: Shards<Vec<u32>> = Shards::new(8);
        for key in 0..100_u32 {
            shards.lock(&key).push(key);
        }
        for key in 0..100_u32 {
            assert!(shards.lock(&key).contains(&key), "{key}");
        }
        let total: usize = (0..shards.len()).map(|i| shards.lock_index(i).len()).sum();
        assert_eq!(total, 100);
    }

    #[test]
    fn a_zero_shard_count_still_makes_one_shard() {
        let shards: Shards<u32> = Shards::new(0);
        assert_eq!(shards.len(), 1);
        *shards.lock("any") += 1;
        assert_eq!(*shards.lock_index(0), 1);
    }

    #[test]
    fn the_default_count_is_a_power_of_two_in_range() {
        let n = Shards::<()>::default_count();
        assert!(n.is_power_of_two() && (4..=256).contains(&n), "{n}");
    }
}
