//! A settable clock and a deterministic id generator.

use std::sync::{
    Arc,
    atomic::{AtomicI64, AtomicU64, Ordering},
};

use chat_domain::{
    ports::{Clock, IdGenerator},
    time::Timestamp,
};
use uuid::Uuid;

/// A [`Clock`] that stands still until told otherwise. Clones share one time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl ManualClock {
    /// Where [`ManualClock::new`] starts: 2026-01-27T10:30:00Z.
    pub const START: Timestamp = Timestamp::from_millis(1_769_509_800_000);

    /// A clock at [`ManualClock::START`].
    #[must_use]
    pub fn new() -> Self {
        Self::at(Self::START)
    }

    /// A clock at `now`.
    #[must_use]
    pub fn at(now: Timestamp) -> Self {
        Self {
            millis: Arc::new(AtomicI64::new(now.millis())),
        }
    }

    /// Sets the time (backwards too).
    pub fn set(&self, now: Timestamp) {
        self.millis.store(now.millis(), Ordering::SeqCst);
    }

    /// Moves the time by `millis` (negative: backwards) and returns the new time.
    pub fn advance(&self, millis: i64) -> Timestamp {
        let before = self.millis.fetch_add(millis, Ordering::SeqCst);
        Timestamp::from_millis(before).plus_millis(millis)
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

/// An [`IdGenerator`] yielding `Uuid::from_u128(1)`, `…(2)`, … (or from a chosen start).
/// Clones share one counter.
#[derive(Debug, Clone)]
pub struct SequentialIds {
    next: Arc<AtomicU64>,
}

impl SequentialIds {
    /// Ids from 1.
    #[must_use]
    pub fn new() -> Self {
        Self::starting_at(1)
    }

    /// Ids from `first`.
    #[must_use]
    pub fn starting_at(first: u64) -> Self {
        Self {
            next: Arc::new(AtomicU64::new(first)),
        }
    }

    /// The id the next call will yield (without taking it).
    #[must_use]
    pub fn peek(&self) -> Uuid {
        Uuid::from_u128(self.next.load(Ordering::SeqCst).into())
    }
}

impl Default for SequentialIds {
    fn default() -> Self {
        Self::new()
    }
}

impl IdGenerator for SequentialIds {
    fn new_uuid(&self) -> Uuid {
        Uuid::from_u128(self.next.fetch_add(1, Ordering::SeqCst).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = ManualClock::new();
        let shared = clock.clone();
        assert_eq!(clock.now(), ManualClock::START);
        assert_eq!(shared.advance(1_500), ManualClock::START.plus_millis(1_500));
        assert_eq!(clock.now(), ManualClock::START.plus_millis(1_500));
        clock.set(Timestamp::EPOCH);
        assert_eq!(shared.now(), Timestamp::EPOCH);
    }

    #[test]
    fn sequential_ids_count_up_from_their_start() {
        let ids = SequentialIds::starting_at(7);
        let shared = ids.clone();
        assert_eq!(ids.peek(), Uuid::from_u128(7));
        assert_eq!(ids.new_uuid(), Uuid::from_u128(7));
        assert_eq!(shared.new_uuid(), Uuid::from_u128(8));
        assert_eq!(SequentialIds::new().new_uuid(), Uuid::from_u128(1));
    }
}
