//! Rate limits: the sliding-window log in Redis, so every node counts against one log.

use std::sync::LazyLock;

use async_trait::async_trait;
use chat_domain::{
    error::RepoError,
    ports::RateLimiter,
    rate_limit::{Quota, RateDecision, RateLimitKey, sliding_window},
    time::Timestamp,
};
use fred::{
    prelude::Pool,
    types::{Value, scripts::Script},
};
use uuid::Uuid;

use crate::{config::RedisConfig, error::repo_error, keys::Keys};

static SLIDING_WINDOW: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(include_str!("scripts/rate_limit.lua")));

/// The Redis [`RateLimiter`]: per (user, action), a sorted set of the instants of the allowed
/// actions, checked and appended by one Lua script (atomic, one round trip) with the rule of
/// [`sliding_window`]. Instants are the caller's `now`, so nodes must keep their clocks in
/// step (NTP); the set expires a window after its newest entry.
#[derive(Debug, Clone)]
pub struct RedisRateLimiter {
    pool: Pool,
    keys: Keys,
}

impl RedisRateLimiter {
    /// A limiter over `pool` with the prefix of `config`.
    #[must_use]
    pub fn new(pool: Pool, config: &RedisConfig) -> Self {
        Self {
            pool,
            keys: Keys::new(&config.key_prefix),
        }
    }
}

/// The decision for the script's reply: 0 is allowed, else the ms until a slot frees.
fn decision(wait_ms: i64) -> RateDecision {
    if wait_ms <= 0 {
        return RateDecision::Allowed;
    }
    let secs = u64::try_from(wait_ms.saturating_add(999) / 1_000).unwrap_or(1);
    RateDecision::Limited {
        retry_after_secs: secs.max(1),
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(
        &self,
        key: RateLimitKey,
        quota: Quota,
        now: Timestamp,
    ) -> Result<RateDecision, RepoError> {
        if quota.limit == 0 {
            // Nothing passes and nothing is stored; the rule says when to retry.
            return Ok(sliding_window(&[], now, quota));
        }
        // Unique per action even when two nodes act on one key in the same millisecond.
        let member = format!("{}:{}", now.millis(), Uuid::new_v4().simple());
        let args: Vec<Value> = vec![
            now.millis().into(),
            quota.window_ms.max(0).into(),
            i64::from(quota.limit).into(),
            member.into(),
        ];
        let wait_ms: i64 = SLIDING_WINDOW
            .evalsha_with_reload(self.pool.next(), vec![self.keys.rate_limit(key)], args)
            .await
            .map_err(repo_error)?;
        Ok(decision(wait_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_reply_becomes_whole_seconds_of_at_least_one() {
        let cases = [
            (0, RateDecision::Allowed),
            (
                1,
                RateDecision::Limited {
                    retry_after_secs: 1,
                },
            ),
            (
                1_000,
                RateDecision::Limited {
                    retry_after_secs: 1,
                },
            ),
            (
                1_001,
                RateDecision::Limited {
                    retry_after_secs: 2,
                },
            ),
            (
                60_000,
                RateDecision::Limited {
                    retry_after_secs: 60,
                },
            ),
        ];
        for (wait_ms, want) in cases {
            assert_eq!(decision(wait_ms), want, "{wait_ms} ms");
        }
    }
}
