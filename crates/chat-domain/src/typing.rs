//! Typing indicators: a 1 s throttle on repeated starts and an automatic clear after a timeout.
//!
//! [`TypingTracker`] is a pure state machine keyed by whatever the adapter chooses (typically
//! conversation, user and socket). The adapter owns the timers: it calls [`TypingTracker::expire`]
//! when a returned `expires_at` passes and broadcasts the clear when that says so.

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

#[derive(Debug, Clone, Copy)]
struct Typing {
    broadcast_at: Timestamp,
    expires_at: Timestamp,
}

/// Who is typing where.
#[derive(Debug)]
pub struct TypingTracker<K> {
    policy: TypingPolicy,
    typing: HashMap<K, Typing>,
}

impl<K: Eq + Hash + Clone> TypingTracker<K> {
    /// An empty tracker.
    #[must_use]
    pub fn new(policy: TypingPolicy) -> Self {
        Self {
            policy,
            typing: HashMap::new(),
        }
    }

    /// A `typing:start` at `now`.
    pub fn start(&mut self, key: K, now: Timestamp) -> TypingStart {
        let expires_at = now.plus_millis(self.policy.timeout_ms);
        match self.typing.get_mut(&key) {
            Some(t)
                if t.expires_at > now
                    && now.millis_since(t.broadcast_at) < self.policy.throttle_ms =>
            {
                t.expires_at = expires_at;
                TypingStart::Refreshed { expires_at }
            }
            _ => {
                self.typing.insert(
                    key,
                    Typing {
                        broadcast_at: now,
                        expires_at,
                    },
                );
                TypingStart::Broadcast { expires_at }
            }
        }
    }

    /// A `typing:stop` (or a disconnect): whether a clear must be broadcast.
    pub fn stop(&mut self, key: &K) -> bool {
        self.typing.remove(key).is_some()
    }

    /// A timer for `key` fired at `now`: whether the indicator has now expired and a clear must
    /// be broadcast (false when it was refreshed or stopped meanwhile).
    pub fn expire(&mut self, key: &K, now: Timestamp) -> bool {
        match self.typing.get(key) {
            Some(t) if t.expires_at <= now => {
                self.typing.remove(key);
                true
            }
            _ => false,
        }
    }

    /// The keys matching `pred` that are typing (to clear them at disconnect), removed.
    pub fn remove_where(&mut self, mut pred: impl FnMut(&K) -> bool) -> Vec<K> {
        let keys: Vec<K> = self.typing.keys().filter(|k| pred(k)).cloned().collect();
        for k in &keys {
            self.typing.remove(k);
        }
        keys
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
                    let got = t.start("k", at(now));
                    assert_eq!(
                        matches!(got, TypingStart::Broadcast { .. }),
                        broadcast,
                        "{step:?}"
                    );
                    assert_eq!(got.expires_at(), at(expires), "{step:?}");
                }
                Expire(now, clears) => assert_eq!(t.expire(&"k", at(now)), clears, "{step:?}"),
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
        assert!(matches!(t.start(1, at(0)), TypingStart::Broadcast { .. }));
        assert!(matches!(t.start(1, at(600)), TypingStart::Broadcast { .. }));
    }

    #[test]
    fn disconnect_clears_every_indicator_of_the_socket() {
        let mut t = TypingTracker::new(TypingPolicy::default());
        t.start(("c1", "s1"), at(0));
        t.start(("c2", "s1"), at(0));
        t.start(("c1", "s2"), at(0));
        let mut gone = t.remove_where(|k| k.1 == "s1");
        gone.sort_unstable();
        assert_eq!(gone, vec![("c1", "s1"), ("c2", "s1")]);
        assert_eq!(t.len(), 1);
    }
}
