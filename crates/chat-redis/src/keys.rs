//! Every Redis key the adapters use, built in one place.
//!
//! All keys start with the configured prefix. Keys of one user carry the user id as a hash
//! tag (`{…}`), so the keys a script or pipeline touches for one user live in one cluster slot.
//!
//! | key                                     | type   | holds                                      |
//! |-----------------------------------------|--------|--------------------------------------------|
//! | `{p}:socket:{socket}`                   | string | JSON of a live socket's session (TTL)      |
//! | `{p}:{{user}}:sockets`                  | set    | the user's live socket ids (TTL)           |
//! | `{p}:{{user}}:resume:{device}`          | string | JSON of a device's resume point (TTL)      |
//! | `{p}:{{user}}:presence`                 | hash   | socket → `status:lease_expiry_ms`          |
//! | `{p}:{{user}}:last_seen`                | string | ms when the user last went offline         |
//! | `{p}:{{user}}:rate:{action}`            | zset   | allowed actions in the window, by instant  |
//! | `{p}:presence:leases`                   | zset   | `user socket` of every connection, by lease expiry (the sweep's index) |

use std::sync::Arc;

use chat_domain::{
    ids::{DeviceId, SocketId, UserId},
    rate_limit::RateLimitKey,
};

/// Builds the keys under one prefix. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: Arc<str>,
}

impl Keys {
    /// Keys under `prefix` (without the trailing colon; one is added).
    #[must_use]
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: Arc::from(prefix.trim_end_matches(':')),
        }
    }

    /// The prefix, without the trailing colon.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// One socket's session.
    #[must_use]
    pub fn socket(&self, socket: &SocketId) -> String {
        format!("{}:socket:{}", self.prefix, socket.as_str())
    }

    /// The set of a user's live sockets.
    #[must_use]
    pub fn user_sockets(&self, user: UserId) -> String {
        format!("{}:{{{user}}}:sockets", self.prefix)
    }

    /// One device's resume point.
    #[must_use]
    pub fn resume_point(&self, user: UserId, device: &DeviceId) -> String {
        format!("{}:{{{user}}}:resume:{}", self.prefix, device.as_str())
    }

    /// A user's connections and their statuses and leases.
    #[must_use]
    pub fn presence(&self, user: UserId) -> String {
        format!("{}:{{{user}}}:presence", self.prefix)
    }

    /// When a user last went offline.
    #[must_use]
    pub fn last_seen(&self, user: UserId) -> String {
        format!("{}:{{{user}}}:last_seen", self.prefix)
    }

    /// The index of every connection's lease (`user socket`, scored by expiry), which the
    /// sweep reads to find lapsed ones. One key for all users: it is only read and written by
    /// itself, never in a script with a user's keys.
    #[must_use]
    pub fn presence_leases(&self) -> String {
        format!("{}:presence:leases", self.prefix)
    }

    /// The log of one (user, action) rate limit.
    #[must_use]
    pub fn rate_limit(&self, key: RateLimitKey) -> String {
        format!(
            "{}:{{{}}}:rate:{}",
            self.prefix,
            key.user_id,
            key.action.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::rate_limit::RateLimitedAction;
    use uuid::Uuid;

    use super::*;

    /// The hash tag Redis Cluster hashes: between the first `{` and the next `}`.
    fn hash_tag(key: &str) -> Option<&str> {
        let open = key.find('{')?;
        let close = key[open + 1..].find('}')?;
        Some(&key[open + 1..open + 1 + close])
    }

    #[test]
    fn every_key_of_one_user_shares_the_users_hash_tag() {
        let keys = Keys::new("chat:");
        let user = UserId::new(Uuid::from_u128(7));
        let device = DeviceId::new("we{ir}d").unwrap();
        let rate = RateLimitKey {
            user_id: user,
            action: RateLimitedAction::Typing,
        };
        let tag = user.to_string();
        for key in [
            keys.user_sockets(user),
            keys.resume_point(user, &device),
            keys.presence(user),
            keys.last_seen(user),
            keys.rate_limit(rate),
        ] {
            assert!(key.starts_with("chat:{"), "{key}");
            assert_eq!(hash_tag(&key), Some(tag.as_str()), "{key}");
        }
    }

    #[test]
    fn keys_are_prefixed_and_distinct_per_thing() {
        let keys = Keys::new("p");
        let user = UserId::new(Uuid::from_u128(1));
        assert_eq!(keys.socket(&SocketId::new("s1")), "p:socket:s1");
        assert_eq!(
            keys.presence(user),
            format!("p:{{{user}}}:presence"),
            "the user id is the hash tag"
        );
        assert_ne!(keys.presence(user), keys.last_seen(user));
        assert_eq!(keys.prefix(), "p");
    }
}
