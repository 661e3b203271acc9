//! Rate limits: one quota per user per action, enforced as a sliding window log.
//!
//! The limiter keeps, per key, the instants of the actions it allowed within the last window.
//! At most `limit` actions pass in any window, wherever it starts: a fixed window lets twice
//! the limit through around its edge, and GCRA or a token bucket let a full burst plus the
//! refill through (nearly twice the limit) in some window. The log costs at most `limit`
//! instants per key, and the contract's limits are small. The in-process limiter runs
//! [`sliding_window`]; the Redis one runs the same rule in a Lua script.

use crate::{ids::UserId, time::Timestamp};

/// The actions that are rate limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RateLimitedAction {
    /// `message:send`.
    MessageSend,
    /// `message:read` and `POST /conversations/{id}/read`.
    MessageRead,
    /// `typing:start` (a `typing:stop` is never counted nor refused).
    Typing,
    /// Block (unblocking is never counted nor refused).
    Block,
    /// Mute (unmuting is never counted nor refused).
    Mute,
    /// Group creation, member changes, role and title changes (leaving and `requestId`
    /// replays excepted).
    GroupAdmin,
}

impl RateLimitedAction {
    /// A stable name, for keys and metrics.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MessageSend => "message_send",
            Self::MessageRead => "message_read",
            Self::Typing => "typing",
            Self::Block => "block",
            Self::Mute => "mute",
            Self::GroupAdmin => "group_admin",
        }
    }
}

/// `limit` actions per `window_ms`, with bursts up to `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// How many per window (at least 1).
    pub limit: u32,
    /// The window, in milliseconds.
    pub window_ms: i64,
}

impl Quota {
    /// `limit` per minute.
    #[must_use]
    pub const fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            window_ms: 60_000,
        }
    }
}

/// The quota of each action (`CHAT_RATE_LIMIT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitPolicy {
    /// `message:send`, default 10/min.
    pub message_send: Quota,
    /// `message:read`, default 60/min.
    pub message_read: Quota,
    /// `typing:start`, default 30/min.
    pub typing: Quota,
    /// block, default 5/min.
    pub block: Quota,
    /// mute, default 5/min.
    pub mute: Quota,
    /// group administration, default 30/min.
    pub group_admin: Quota,
}

impl Default for RateLimitPolicy {
    fn default() -> Self {
        Self {
            message_send: Quota::per_minute(10),
            message_read: Quota::per_minute(60),
            typing: Quota::per_minute(30),
            block: Quota::per_minute(5),
            mute: Quota::per_minute(5),
            group_admin: Quota::per_minute(30),
        }
    }
}

impl RateLimitPolicy {
    /// The quota of `action`.
    #[must_use]
    pub const fn quota(&self, action: RateLimitedAction) -> Quota {
        match action {
            RateLimitedAction::MessageSend => self.message_send,
            RateLimitedAction::MessageRead => self.message_read,
            RateLimitedAction::Typing => self.typing,
            RateLimitedAction::Block => self.block,
            RateLimitedAction::Mute => self.mute,
            RateLimitedAction::GroupAdmin => self.group_admin,
        }
    }
}

/// What a limiter is asked about: one user doing one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimitKey {
    /// Who.
    pub user_id: UserId,
    /// What.
    pub action: RateLimitedAction,
}

/// A limiter's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Go ahead; counted.
    Allowed,
    /// Refused; not counted. Try again after this many whole seconds (at least 1).
    Limited {
        /// `retryAfter` on the wire.
        retry_after_secs: u64,
    },
}

/// The sliding-window rule. `recent` holds the instants of the key's earlier allowed actions
/// (any order; those older than the window are ignored). The action at `now` is allowed while
/// fewer than `limit` fall in the window `(now - window, now]`; otherwise it is refused, not
/// counted, and may retry once enough of them have left the window.
#[must_use]
pub fn sliding_window(recent: &[Timestamp], now: Timestamp, quota: Quota) -> RateDecision {
    let since = now.plus_millis(-quota.window_ms);
    let mut in_window: Vec<Timestamp> = recent.iter().copied().filter(|&t| t > since).collect();
    let limit = usize::try_from(quota.limit).unwrap_or(usize::MAX);
    if in_window.len() < limit {
        return RateDecision::Allowed;
    }
    if limit == 0 {
        // A quota of zero refuses everything; try again after a window.
        let secs = u64::try_from(quota.window_ms.max(1_000) / 1_000).unwrap_or(1);
        return RateDecision::Limited {
            retry_after_secs: secs,
        };
    }
    in_window.sort_unstable();
    // Once the (len - limit + 1) oldest have left the window, one more fits.
    let freeing = in_window[in_window.len() - limit];
    let wait_ms = freeing
        .plus_millis(quota.window_ms)
        .millis_since(now)
        .max(1);
    let secs = u64::try_from((wait_ms + 999) / 1_000).unwrap_or(1).max(1);
    RateDecision::Limited {
        retry_after_secs: secs,
    }
}

/// Drops from `recent` the instants that have left the window at `now`.
pub fn prune_window(recent: &mut Vec<Timestamp>, now: Timestamp, quota: Quota) {
    let since = now.plus_millis(-quota.window_ms);
    recent.retain(|&t| t > since);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    /// Runs a limiter over `times`, keeping the log as an adapter would.
    fn run(quota: Quota, times: &[i64]) -> Vec<RateDecision> {
        let mut log = Vec::new();
        times
            .iter()
            .map(|&t| {
                prune_window(&mut log, at(t), quota);
                let d = sliding_window(&log, at(t), quota);
                if d == RateDecision::Allowed {
                    log.push(at(t));
                }
                d
            })
            .collect()
    }

    fn allowed(ds: &[RateDecision]) -> Vec<bool> {
        ds.iter().map(|d| *d == RateDecision::Allowed).collect()
    }

    #[test]
    fn a_burst_of_the_limit_passes_and_the_next_is_refused() {
        let got = run(Quota::per_minute(10), &[0; 11]);
        assert_eq!(allowed(&got), [vec![true; 10], vec![false]].concat());
        assert_eq!(
            got[10],
            RateDecision::Limited {
                retry_after_secs: 60
            }
        );
    }

    #[test]
    fn refused_attempts_are_not_counted_and_slots_free_as_the_window_slides() {
        let quota = Quota::per_minute(3);
        let times = [
            0, 10_000, 20_000, 30_000, 59_999, 60_000, 60_001, 70_000, 80_000,
        ];
        let want = [true, true, true, false, false, true, false, true, true];
        assert_eq!(allowed(&run(quota, &times)), want);
    }

    #[test]
    fn no_window_edge_lets_more_than_the_limit_through() {
        // Whatever the timing, at most `limit` pass in any 60 s span.
        let quota = Quota::per_minute(5);
        let times: Vec<i64> = (0..400).map(|i| i * 499).collect();
        let ok = allowed(&run(quota, &times));
        let passed: Vec<i64> = times
            .iter()
            .zip(ok)
            .filter_map(|(t, ok)| ok.then_some(*t))
            .collect();
        assert!(
            passed.len() >= 5 * 3,
            "the limiter starves: {}",
            passed.len()
        );
        for (i, &t) in passed.iter().enumerate() {
            let in_window = passed[i..].iter().take_while(|&&u| u < t + 60_000).count();
            assert!(in_window <= 5, "{in_window} allowed in the minute from {t}");
        }
    }

    #[test]
    fn retry_after_is_whole_seconds_until_a_slot_frees() {
        let quota = Quota::per_minute(2);
        let log = [at(0), at(30_000)];
        let cases = [
            (30_000, 30),
            (30_001, 30),
            (58_999, 2),
            (59_000, 1),
            (59_999, 1),
        ];
        for (now, secs) in cases {
            assert_eq!(
                sliding_window(&log, at(now), quota),
                RateDecision::Limited {
                    retry_after_secs: secs
                },
                "at {now}"
            );
        }
        assert_eq!(
            sliding_window(&log, at(60_000), quota),
            RateDecision::Allowed
        );
    }

    #[test]
    fn a_zero_quota_refuses_everything_without_panicking() {
        let quota = Quota {
            limit: 0,
            window_ms: 60_000,
        };
        assert_eq!(
            sliding_window(&[], at(0), quota),
            RateDecision::Limited {
                retry_after_secs: 60
            }
        );
    }

    #[test]
    fn the_policy_defaults_are_the_contract_defaults() {
        let p = RateLimitPolicy::default();
        let cases = [
            (RateLimitedAction::MessageSend, 10),
            (RateLimitedAction::MessageRead, 60),
            (RateLimitedAction::Typing, 30),
            (RateLimitedAction::Block, 5),
            (RateLimitedAction::Mute, 5),
        ];
        for (action, limit) in cases {
            assert_eq!(p.quota(action), Quota::per_minute(limit), "{action:?}");
        }
    }
}
