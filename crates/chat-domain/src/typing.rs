//! Typing indicators: per user, not per device (contract 4.3). A 1 s throttle on repeated
//! starts, an automatic clear after a timeout, and a clear when the last device that typed
//! leaves.
//!
//! [`TypingTracker`] is a pure state machine over indicators keyed by whatever the adapter
//! chooses (typically conversation and user), each remembering which of the user's devices
//! (sockets, `S`) typed since it went up. The latest start or stop from any of them decides.
//! The adapter owns the timers: it calls [`TypingTracker::expire`] when a returned
//! `expires_at` passes and broadcasts the clear when that says so.

use std::{collections::HashMap, hash::Hash};

use crate::time::Timestamp;

/// Typing timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypingPolicy {
    /// Auto-clear after the last start (`CHAT_TYPING_TIMEOUT_MS`).
    pub timeout_ms: i64,
    /// A repeat start within this refreshes the timer without a broadcast.
    pub throttle_ms: i64,
}

impl Default for TypingPolicy {
    fn default() -> Self {
        Self {
            timeout_ms: 3_000,
            throttle_ms: 1_000,
        }
    }
}

/// What a `typing:start` leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypingStart {
    /// Broadcast `isTyping: true` with this expiry.
    Broadcast {
        /// When it clears by itself.
        expires_at: Timestamp,
    },
    /// Within the throttle: the timer moves to this expiry, nothing is broadcast.
    Refreshed {
        /// When it clears by itself.
        expires_at: Timestamp,
    },
}

impl TypingStart {
    /// When the indicator clears by itself unless started again.
    #[must_use]
    pub const fn expires_at(self) -> Timestamp {
        match self {
            Self::Broadcast { expires_at } | Self::Refreshed { expires_at } => expires_at,
        }
    }
}

#[derive(Debug, Clone)]
struct Typing<S> {
    broadcast_at: Timestamp,
    expires_at: Timestamp,
    /// The devices that started since the indicator went up (few: a user's devices).
    typists: Vec<S>,
    /// The one whose start set `expires_at`.
    last: S,
}

/// Who is typing where.
#[derive(Debug)]
pub struct TypingTracker<K, S> {
    policy: TypingPolicy,
    typing: HashMap<K, Typing<S>>,
}

impl<K: Eq + Hash + Clone, S: Eq + Clone> TypingTracker<K, S> {
    /// An empty tracker.
    #[must_use]
    pub fn new(policy: TypingPolicy) -> Self {
        Self {
            policy,
            typing: HashMap::new(),
        }
    }

    /// A `typing:start` from device `by` at `now`.
    pub fn start(&mut self, key: K, by: S, now: Timestamp) -> TypingStart {
        let expires_at = now.plus_millis(self.policy.timeout_ms);
        match self.typing.get_mut(&key) {
            Some(t) if t.expires_at > now => {
                if !t.typists.contains(&by) {
                    t.typists.push(by.clone());
                }
                t.last = by;
                t.expires_at = expires_at;
                if now.millis_since(t.broadcast_at) < self.policy.throttle_ms {
                    TypingStart::Refreshed { expires_at }
                } else {
                    t.broadcast_at = now;
                    TypingStart::Broadcast { expires_at }
                }
            }
            _ => {
                self.typing.insert(
                    key,
                    Typing {
                        broadcast_at: now,
                        expires_at,
                        typists: vec![by.clone()],
                        last: by,
                    },
                );
                TypingStart::Broadcast { expires_at }
            }
        }
    }

    /// A `typing:stop` from any device of the user: whether a clear must be broadcast.
    pub fn stop(&mut self, key: &K) -> bool {
        self.typing.remove(key).is_some()
    }

    /// A timer for `key` fired at `now`: when the indicator has now expired, the device whose
    /// start it was (the clear is broadcast to everyone else); `None` when it was refreshed or
    /// stopped meanwhile.
    pub fn expire(&mut self, key: &K, now: Timestamp) -> Option<S> {
        match self.typing.get(key) {
            Some(t) if t.expires_at <= now => self.typing.remove(key).map(|t| t.last),
            _ => None,
        }
    }

    /// Device `gone` left: the indicators whose last typing device it was, removed (to be
    /// cleared). Indicators another device of the user still types in stay.
    pub fn leave(&mut self, gone: &S) -> Vec<K> {
        let mut cleared = Vec::new();
        self.typing.retain(|key, t| {
            t.typists.retain(|s| s != gone);
            if t.typists.is_empty() {
                cleared.push(key.clone());
                false
            } else {
                if t.last == *gone
                    && let Some(other) = t.typists.last()
                {
                    t.last = other.clone();
                }
                true
            }
        });
        cleared
    }

    /// How many indicators are up.
    #[must_use]
    pub fn len(&self) -> usize {
        self.typing.len()
    }

    /// Whether no indicator is up.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.typing.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn throttle_and_timeout_as_a_table() {
        // A script of (time, action) and what each step yields.
        #[derive(Debug)]
        enum Step {
            Start(i64, bool, i64), // at, broadcast?, expires_at
            Expire(i64, bool),     // at, clears?
            Stop(bool),            // clears?
        }
        use Step::*;
        let script = [
            Start(0, true, 3_000),
            Start(500, false, 3_500),
            Expire(3_000, false),
            Start(999, false, 3_999),
            Start(1_000, true, 4_000),
            Expire(3_999, false),
            Expire(4_000, true),
            Expire(4_001, false),
            Start(4_100, true, 7_100),
            Stop(true),
            Stop(false),
            Expire(7_100, false),
        ];
        let mut t = TypingTracker::new(TypingPolicy::default());
        for step in script {
            match step {
                Start(now, broadcast, expires) => {
                    let got = t.start("k", "s1", at(now));
                    assert_eq!(
                        matches!(got, TypingStart::Broadcast { .. }),
                        broadcast,
                        "{step:?}"
                    );
                    assert_eq!(got.expires_at(), at(expires), "{step:?}");
                }
                Expire(now, clears) => {
                    assert_eq!(t.expire(&"k", at(now)).is_some(), clears, "{step:?}");
                }
                Stop(clears) => assert_eq!(t.stop(&"k"), clears, "{step:?}"),
            }
        }
        assert!(t.is_empty());
    }

    #[test]
    fn a_start_after_expiry_broadcasts_again_even_within_the_throttle() {
        let mut t = TypingTracker::new(TypingPolicy {
            timeout_ms: 500,
            throttle_ms: 1_000,
        });
        assert!(matches!(
            t.start(1, 's', at(0)),
            TypingStart::Broadcast { .. }
        ));
        assert!(matches!(
            t.start(1, 's', at(600)),
            TypingStart::Broadcast { .. }
        ));
    }

    #[test]
    fn the_users_devices_share_one_indicator_and_the_latest_start_sets_the_timer() {
        let mut t = TypingTracker::new(TypingPolicy::default());
        assert!(matches!(
            t.start("k", "phone", at(0)),
            TypingStart::Broadcast { .. }
        ));
        // The laptop's start within the throttle only refreshes.
        assert_eq!(
            t.start("k", "laptop", at(500)),
            TypingStart::Refreshed {
                expires_at: at(3_500)
            }
        );
        // The phone's timer (3 000) does not clear what the laptop refreshed.
        assert_eq!(t.expire(&"k", at(3_000)), None);
        // The clear at the laptop's timer is the laptop's (the others see it).
        assert_eq!(t.expire(&"k", at(3_500)), Some("laptop"));
        assert!(t.is_empty());
    }

    #[test]
    fn a_stop_from_any_device_of_the_user_clears() {
        let mut t = TypingTracker::new(TypingPolicy::default());
        t.start("k", "phone", at(0));
        assert!(t.stop(&"k"), "the laptop never typed, yet its stop decides");
        assert_eq!(t.expire(&"k", at(3_000)), None, "no clear after the stop");
    }

    #[test]
    fn leaving_clears_only_when_the_last_typing_device_left() {
        let mut t = TypingTracker::new(TypingPolicy::default());
        t.start(("c1", "ada"), "phone", at(0));
        t.start(("c2", "ada"), "phone", at(0));
        t.start(("c1", "ada"), "laptop", at(100));
        t.start(("c1", "bob"), "bob-phone", at(0));
        let mut gone = t.leave(&"phone");
        gone.sort_unstable();
        assert_eq!(gone, vec![("c2", "ada")], "the laptop still types in c1");
        assert_eq!(t.leave(&"laptop"), vec![("c1", "ada")]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.leave(&"nobody"), Vec::<(&str, &str)>::new());
    }

    #[test]
    fn when_the_timers_device_left_the_clear_is_another_typists() {
        let mut t = TypingTracker::new(TypingPolicy::default());
        t.start("k", "phone", at(0));
        t.start("k", "laptop", at(100));
        assert!(t.leave(&"laptop").is_empty());
        assert_eq!(t.expire(&"k", at(3_100)), Some("phone"));
    }
}
