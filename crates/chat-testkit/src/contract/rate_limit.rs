//! The [`RateLimiter`] contract: a sliding window per (user, action), where a refused action is
//! not counted and at most `limit` pass in any window, even when checks race.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use chat_domain::{
    ids::UserId,
    ports::RateLimiter,
    rate_limit::{
        Quota, RateDecision,
        RateDecision::{Allowed, Limited},
        RateLimitKey, RateLimitedAction,
    },
    time::Timestamp,
};
use uuid::Uuid;

/// Racing checks of one key in the concurrency check.
const RACERS: usize = 40;

/// Runs every rate limiter check against `limiter`. Uses fresh random users, so other suites
/// may share the limiter, and explicit instants near the wall clock (no sleeping). The
/// concurrency check spawns tasks on the current tokio runtime: run the suite on a
/// multi-thread runtime so that they really race.
pub async fn rate_limiter_contract(limiter: Arc<dyn RateLimiter>) {
    let base = wall_clock();
    the_limit_passes_and_the_next_is_refused(limiter.as_ref(), base).await;
    refused_actions_are_not_counted(limiter.as_ref(), base).await;
    retry_after_is_whole_seconds_until_a_slot_frees(limiter.as_ref(), base).await;
    keys_are_independent_per_user_and_per_action(limiter.as_ref(), base).await;
    racing_checks_let_exactly_the_limit_through(&limiter, base).await;
}

fn wall_clock() -> Timestamp {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    Timestamp::from_millis(i64::try_from(since.as_millis()).unwrap())
}

fn key(action: RateLimitedAction) -> RateLimitKey {
    RateLimitKey {
        user_id: UserId::new(Uuid::new_v4()),
        action,
    }
}

fn per(limit: u32, window_ms: i64) -> Quota {
    Quota { limit, window_ms }
}

async fn check(
    limiter: &dyn RateLimiter,
    k: RateLimitKey,
    q: Quota,
    at: Timestamp,
) -> RateDecision {
    limiter.check(k, q, at).await.unwrap()
}

async fn the_limit_passes_and_the_next_is_refused(limiter: &dyn RateLimiter, base: Timestamp) {
    let k = key(RateLimitedAction::MessageSend);
    let quota = Quota::per_minute(3);
    for i in 0..3 {
        assert_eq!(
            check(limiter, k, quota, base).await,
            Allowed,
            "action {i} of 3"
        );
    }
    let refused = check(limiter, k, quota, base).await;
    assert_eq!(
        refused,
        Limited {
            retry_after_secs: 60
        },
        "the fourth in the same instant"
    );
}

async fn refused_actions_are_not_counted(limiter: &dyn RateLimiter, base: Timestamp) {
    let k = key(RateLimitedAction::MessageRead);
    let quota = per(2, 1_000);
    let at = |ms| base.plus_millis(ms);
    // Had the refusals at +500 and +999 been counted, +1000 would be refused too.
    let steps = [
        (0, true),
        (0, true),
        (500, false),
        (999, false),
        (1_000, true),
        (1_000, true),
    ];
    for (ms, allowed) in steps {
        let decision = check(limiter, k, quota, at(ms)).await;
        assert_eq!(decision == Allowed, allowed, "at +{ms} ms: {decision:?}");
    }
    assert!(
        matches!(check(limiter, k, quota, at(1_999)).await, Limited { .. }),
        "at +1999 ms"
    );
    assert_eq!(
        check(limiter, k, quota, at(2_000)).await,
        Allowed,
        "at +2000 ms"
    );
}

async fn retry_after_is_whole_seconds_until_a_slot_frees(
    limiter: &dyn RateLimiter,
    base: Timestamp,
) {
    let k = key(RateLimitedAction::Typing);
    let quota = Quota::per_minute(2);
    let at = |ms| base.plus_millis(ms);
    assert_eq!(check(limiter, k, quota, at(0)).await, Allowed);
    assert_eq!(check(limiter, k, quota, at(30_000)).await, Allowed);
    let cases = [(30_001, 30), (58_999, 2), (59_999, 1)];
    for (ms, secs) in cases {
        let decision = check(limiter, k, quota, at(ms)).await;
        assert_eq!(
            decision,
            Limited {
                retry_after_secs: secs
            },
            "at +{ms} ms"
        );
    }
    assert_eq!(
        check(limiter, k, quota, at(60_000)).await,
        Allowed,
        "the first slot freed"
    );
}

async fn keys_are_independent_per_user_and_per_action(limiter: &dyn RateLimiter, base: Timestamp) {
    let quota = Quota::per_minute(1);
    let ada_blocks = key(RateLimitedAction::Block);
    let ada_mutes = RateLimitKey {
        action: RateLimitedAction::Mute,
        ..ada_blocks
    };
    let bob_blocks = key(RateLimitedAction::Block);
    assert_eq!(check(limiter, ada_blocks, quota, base).await, Allowed);
    assert!(matches!(
        check(limiter, ada_blocks, quota, base).await,
        Limited { .. }
    ));
    assert_eq!(
        check(limiter, ada_mutes, quota, base).await,
        Allowed,
        "another action"
    );
    assert_eq!(
        check(limiter, bob_blocks, quota, base).await,
        Allowed,
        "another user"
    );
}

async fn racing_checks_let_exactly_the_limit_through(
    limiter: &Arc<dyn RateLimiter>,
    base: Timestamp,
) {
    let k = key(RateLimitedAction::MessageSend);
    let quota = Quota::per_minute(7);
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let limiter = Arc::clone(limiter);
            tokio::spawn(async move { limiter.check(k, quota, base).await.unwrap() })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        if task.await.unwrap() == Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 7, "of {RACERS} racing checks");
    assert!(matches!(
        check(limiter.as_ref(), k, quota, base).await,
        Limited { .. }
    ));
}
