//! The real clock and the production id generator.

use std::time::{SystemTime, UNIX_EPOCH};

use chat_domain::{
    ports::{Clock, IdGenerator},
    time::Timestamp,
};
use uuid::Uuid;

/// The system's wall clock, in Unix epoch milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
            // A clock set before 1970: count backwards.
            Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |m| -m),
        };
        Timestamp::from_millis(millis)
    }
}

/// Time-ordered ids (`Uuid::now_v7()`).
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_uuid(&self) -> Uuid {
        Uuid::now_v7()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_is_close_to_now_and_never_runs_backwards_across_calls() {
        // 2024-01-01T00:00:00Z; any real clock is past it.
        let first = SystemClock.now();
        assert!(first.millis() > 1_704_067_200_000, "{first}");
        let second = SystemClock.now();
        assert!(second.millis_since(first) >= 0);
    }

    #[test]
    fn ids_are_version_7_distinct_and_time_ordered() {
        let ids: Vec<Uuid> = (0..100).map(|_| UuidV7Ids.new_uuid()).collect();
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted, ids,
            "v7 ids from one process are unique and ascending"
        );
    }
}
