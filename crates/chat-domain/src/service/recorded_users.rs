//! The users this process recorded, with the name it recorded: a token naming the same needs
//! no write (every connect and REST call authenticates). Bounded (a `quick_cache` cache): past
//! its capacity the coldest users are evicted, and recorded again on their next token.

use quick_cache::sync::{Cache, EntryAction, EntryResult};

use crate::{ids::UserId, user::DisplayName};

/// Users a process remembers as recorded by default.
const RECORDED_USERS_CAPACITY: usize = 100_000;

/// Recorded users and their names, by id.
#[derive(Debug)]
pub(super) struct RecordedUsers {
    users: Cache<UserId, Option<DisplayName>>,
}

impl Default for RecordedUsers {
    fn default() -> Self {
        Self::with_capacity(RECORDED_USERS_CAPACITY)
    }
}

impl RecordedUsers {
    /// At most about `capacity` users.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            users: Cache::new(capacity),
        }
    }

    /// Whether recording `user` with `name` would change nothing: the user is recorded, and
    /// `name` is none or the one recorded.
    pub(super) fn covers(&self, user: UserId, name: Option<&DisplayName>) -> bool {
        self.users
            .get(&user)
            .is_some_and(|had| name.is_none() || had.as_ref() == name)
    }

    /// Remembers that `user` was recorded, with `name` when given (without one, a name
    /// recorded earlier is kept).
    pub(super) fn record(&self, user: UserId, name: Option<DisplayName>) {
        if name.is_some() {
            self.users.insert(user, name);
            return;
        }
        let entry = self
            .users
            .entry(&user, None, |_, _| EntryAction::Retain(()));
        if let EntryResult::Vacant(slot) = entry {
            // Err: a concurrent record with a name took the slot; it is the better entry.
            let _ = slot.insert(None);
        }
    }

    /// How many users are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.users.len()
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn user(n: u128) -> UserId {
        UserId::new(Uuid::from_u128(n))
    }

    fn name(s: &str) -> DisplayName {
        DisplayName::new(s).unwrap()
    }

    #[test]
    fn an_unknown_user_is_not_covered() {
        let recorded = RecordedUsers::default();
        assert!(!recorded.covers(user(1), None));
        assert!(!recorded.covers(user(1), Some(&name("Ann"))));
    }

    #[test]
    fn a_user_recorded_without_a_name_is_covered_only_without_one() {
        let recorded = RecordedUsers::default();
        recorded.record(user(1), None);
        assert!(recorded.covers(user(1), None));
        assert!(!recorded.covers(user(1), Some(&name("Ann"))));
    }

    #[test]
    fn a_recorded_name_is_kept_until_another_is_recorded() {
        let recorded = RecordedUsers::default();
        recorded.record(user(1), Some(name("Ann")));
        recorded.record(user(1), None);
        assert!(recorded.covers(user(1), Some(&name("Ann"))));
        assert!(recorded.covers(user(1), None));
        recorded.record(user(1), Some(name("Bea")));
        assert!(recorded.covers(user(1), Some(&name("Bea"))));
        assert!(!recorded.covers(user(1), Some(&name("Ann"))));
    }

    #[test]
    fn the_memory_stays_within_its_capacity() {
        let recorded = RecordedUsers::with_capacity(64);
        for n in 0..10_000 {
            recorded.record(user(n), Some(name("Ann")));
        }
        assert!(recorded.len() <= 64, "{} remembered", recorded.len());
        assert!(recorded.len() >= 32, "{} remembered", recorded.len());
        // A user who keeps coming back stays remembered while others come and go.
        recorded.record(user(1), None);
        for n in 20_000..30_000 {
            assert!(recorded.covers(user(1), None), "forgotten at {n}");
            recorded.record(user(n), None);
        }
    }
}
