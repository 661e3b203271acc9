//! Rate limits: a sliding-window log per key, in sharded maps.

use std::collections::HashMap;

use chat_domain::{
    error::RepoError,
    ports::RateLimiter,
    rate_limit::{Quota, RateDecision, RateLimitKey, prune_window, sliding_window},
    time::Timestamp,
};

use crate::shards::Shards;

/// Fewest checks in a shard between two sweeps of its idle keys.
const MIN_CHECKS_PER_SWEEP: usize = 256;

/// The in-process [`RateLimiter`]: per key, the instants of the actions it allowed within the
/// window, run through [`sliding_window`]. Each check is atomic under its key's shard lock.
///
/// Memory stays bounded: a check prunes its key's log and drops the key once the log is empty,
/// and every so many checks a shard sweeps out the keys whose window has passed (amortised
/// O(1)), so a user who stops acting leaves nothing behind for long.
#[derive(Debug)]
pub struct MemoryRateLimiter {
    shards: Shards<LimiterShard>,
}

#[derive(Debug, Default)]
struct LimiterShard {
    logs: HashMap<RateLimitKey, Log>,
    checks_since_sweep: usize,
    held_after_sweep: usize,
}

#[derive(Debug)]
struct Log {
    /// Instants of the allowed actions still in the window.
    allowed: Vec<Timestamp>,
    /// The window of the quota last checked against, for sweeping.
    window_ms: i64,
}

impl LimiterShard {
    fn check(&mut self, key: RateLimitKey, quota: Quota, now: Timestamp) -> RateDecision {
        if quota.limit == 0 {
            // Outside `Quota`'s documented range (and `sliding_window` would index out of
            // bounds): nothing passes, ever.
            let secs = quota.window_ms.div_euclid(1_000).saturating_add(1);
            return RateDecision::Limited {
                retry_after_secs: u64::try_from(secs).unwrap_or(1).max(1),
            };
        }
        let log = self.logs.entry(key).or_insert_with(|| Log {
            allowed: Vec::new(),
            window_ms: quota.window_ms,
        });
        log.window_ms = quota.window_ms;
        prune_window(&mut log.allowed, now, quota);
        let decision = sliding_window(&log.allowed, now, quota);
        if decision == RateDecision::Allowed {
            log.allowed.push(now);
        }
        if log.allowed.is_empty() {
            self.logs.remove(&key);
        }
        self.checks_since_sweep += 1;
        if self.checks_since_sweep >= self.held_after_sweep.max(MIN_CHECKS_PER_SWEEP) {
            self.sweep(now);
        }
        decision
    }

    /// Drops every key none of whose allowed actions is still in its window at `now`.
    fn sweep(&mut self, now: Timestamp) {
        self.logs.retain(|_, log| {
            let since = now.plus_millis(-log.window_ms);
            log.allowed.iter().any(|&t| t > since)
        });
        self.checks_since_sweep = 0;
        self.held_after_sweep = self.logs.len();
    }
}

impl MemoryRateLimiter {
    /// An empty limiter with the default number of shards.
    #[must_use]
    pub fn new() -> Self {
        Self::with_shards(Shards::<LimiterShard>::default_count())
    }

    /// An empty limiter with `count` shards (at least one).
    #[must_use]
    pub fn with_shards(count: usize) -> Self {
        Self {
            shards: Shards::new(count),
        }
    }
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(
        &self,
        key: RateLimitKey,
        quota: Quota,
        now: Timestamp,
    ) -> Result<RateDecision, RepoError> {
        Ok(self.shards.lock(&key).check(key, quota, now))
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::{ids::UserId, rate_limit::RateLimitedAction};
    use uuid::Uuid;

    use super::*;

    fn key() -> RateLimitKey {
        RateLimitKey {
            user_id: UserId::new(Uuid::new_v4()),
            action: RateLimitedAction::MessageSend,
        }
    }

    fn held(limiter: &MemoryRateLimiter) -> usize {
        limiter.shards.lock_index(0).logs.len()
    }

    #[tokio::test]
    async fn a_zero_quota_refuses_everything_and_keeps_no_key() {
        let limiter = MemoryRateLimiter::with_shards(1);
        let quota = Quota {
            limit: 0,
            window_ms: 1_000,
        };
        let decision = limiter.check(key(), quota, Timestamp::EPOCH).await.unwrap();
        assert!(matches!(decision, RateDecision::Limited { .. }));
        assert_eq!(held(&limiter), 0);
    }

    #[tokio::test]
    async fn keys_whose_window_has_passed_are_swept_away() {
        let limiter = MemoryRateLimiter::with_shards(1);
        let quota = Quota {
            limit: 1,
            window_ms: 1_000,
        };
        for _ in 0..MIN_CHECKS_PER_SWEEP - 1 {
            limiter.check(key(), quota, Timestamp::EPOCH).await.unwrap();
        }
        assert_eq!(held(&limiter), MIN_CHECKS_PER_SWEEP - 1);
        // The next check comes after every window has passed and triggers the sweep.
        let later = Timestamp::from_millis(1_000);
        limiter.check(key(), quota, later).await.unwrap();
        assert_eq!(held(&limiter), 1, "only the fresh key is left");
    }

    #[tokio::test]
    async fn a_key_pruned_to_nothing_is_reused_from_scratch() {
        let limiter = MemoryRateLimiter::with_shards(1);
        let quota = Quota {
            limit: 1,
            window_ms: 100,
        };
        let k = key();
        let at = Timestamp::from_millis;
        assert_eq!(
            limiter.check(k, quota, at(0)).await.unwrap(),
            RateDecision::Allowed
        );
        assert!(matches!(
            limiter.check(k, quota, at(99)).await.unwrap(),
            RateDecision::Limited {
                retry_after_secs: 1
            }
        ));
        assert_eq!(
            limiter.check(k, quota, at(100)).await.unwrap(),
            RateDecision::Allowed
        );
        assert_eq!(held(&limiter), 1);
    }
}
