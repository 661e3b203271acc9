//! `TypingService` (contract 4.3).

use mockall::predicate::eq;

use super::{Mocks, NOW, block, conv, conversation, participant, run, socket, user};
use crate::{
    block::BlockSide,
    events::{Audience, ServerEvent},
    ids::SocketId,
    rate_limit::{Quota, RateDecision, RateLimitKey, RateLimitedAction},
    service::{RateLimited, TypingAck, TypingError, TypingKey},
    time::Timestamp,
};

const ADA: u128 = 1;
const BOB: u128 = 2;

fn key(who: u128) -> TypingKey {
    TypingKey {
        conversation_id: conv(1),
        user_id: user(who),
    }
}

fn s1() -> SocketId {
    socket("s-1")
}

fn indicator(who: u128, is_typing: bool, expires_at: Option<Timestamp>) -> (Audience, ServerEvent) {
    indicator_except("s-1", who, is_typing, expires_at)
}

fn indicator_except(
    except: &str,
    who: u128,
    is_typing: bool,
    expires_at: Option<Timestamp>,
) -> (Audience, ServerEvent) {
    (
        Audience::ConversationExcept(conv(1), socket(except)),
        ServerEvent::TypingIndicator {
            conversation_id: conv(1),
            user_id: user(who),
            is_typing,
            expires_at,
        },
    )
}

/// Ada and Bob, no block, the rate limit allowing.
fn ready() -> Mocks {
    let mut m = Mocks::new();
    m.with_conversation(&conversation(
        conv(1),
        vec![participant(ADA), participant(BOB)],
    ));
    m.with_blocks(conv(1), vec![]);
    m.allow_rate();
    m
}

#[test]
fn a_start_broadcasts_to_the_conversation_but_the_typing_socket() {
    let mut m = ready();
    let published = m.record_publishes();
    let ack = run(m.services().typing.start(key(ADA), s1())).unwrap();
    let expires = NOW.plus_millis(3_000);
    assert_eq!(
        ack,
        TypingAck {
            conversation_id: conv(1),
            is_typing: true,
            expires_at: Some(expires),
        }
    );
    assert_eq!(published.take(), vec![indicator(ADA, true, Some(expires))]);
}

#[test]
fn a_repeat_start_within_a_second_refreshes_without_broadcasting() {
    let mut m = ready();
    let clock = m.clock.clone();
    let published = m.record_publishes();
    let services = m.services();
    // (ms after NOW, broadcasts?, expires_at as ms after NOW)
    let steps = [
        (0, true, 3_000),
        (500, false, 3_500),
        (999, false, 3_999),
        (1_000, true, 4_000),
    ];
    for (at, broadcasts, expires) in steps {
        clock.set(NOW.plus_millis(at));
        let ack = run(services.typing.start(key(ADA), s1())).unwrap();
        assert_eq!(ack.expires_at, Some(NOW.plus_millis(expires)), "at {at}");
        let got = published.take();
        let want = if broadcasts {
            vec![indicator(ADA, true, Some(NOW.plus_millis(expires)))]
        } else {
            vec![]
        };
        assert_eq!(got, want, "at {at}");
    }
}

#[test]
fn typing_into_a_conversation_with_a_block_is_refused_and_stop_is_allowed() {
    let cases = [(ADA, BlockSide::YouBlocked), (BOB, BlockSide::UserBlocked)];
    for (who, side) in cases {
        let mut m = Mocks::new();
        m.with_conversation(&conversation(
            conv(1),
            vec![participant(ADA), participant(BOB)],
        ));
        m.blocks
            .expect_list_conversation_blocks()
            .with(eq(conv(1)))
            .times(1)
            .returning(|c| Ok(vec![block(c, ADA, BOB)]));
        // Neither the refused start nor the stop reaches the rate limiter.
        m.rate_limiter.expect_check().never();
        m.publisher.expect_publish().never();
        let services = m.services();

        let started = run(services.typing.start(key(who), s1()));
        assert!(
            matches!(started, Err(TypingError::Blocked(s)) if s == side),
            "user {who}: {started:?}"
        );
        let stopped = run(services.typing.stop(key(who), s1())).unwrap();
        assert_eq!(
            stopped,
            TypingAck {
                conversation_id: conv(1),
                is_typing: false,
                expires_at: None,
            }
        );
    }
}

#[test]
fn a_stop_clears_a_standing_indicator_once() {
    let mut m = ready();
    let published = m.record_publishes();
    let services = m.services();
    run(services.typing.start(key(ADA), s1())).unwrap();
    published.take();
    run(services.typing.stop(key(ADA), s1())).unwrap();
    assert_eq!(published.take(), vec![indicator(ADA, false, None)]);
    run(services.typing.stop(key(ADA), s1())).unwrap();
    assert_eq!(published.take(), vec![]);
}

#[test]
fn the_timer_clears_the_indicator_only_once_it_has_expired() {
    let mut m = ready();
    let clock = m.clock.clone();
    let published = m.record_publishes();
    let services = m.services();
    run(services.typing.start(key(ADA), s1())).unwrap();
    published.take();

    clock.set(NOW.plus_millis(2_999));
    run(services.typing.expire(key(ADA)));
    assert_eq!(published.take(), vec![]);

    clock.set(NOW.plus_millis(3_000));
    run(services.typing.expire(key(ADA)));
    assert_eq!(published.take(), vec![indicator(ADA, false, None)]);

    run(services.typing.expire(key(ADA)));
    assert_eq!(published.take(), vec![]);
}

#[test]
fn a_socket_that_leaves_clears_its_indicators_and_only_its_own() {
    let mut m = ready();
    let published = m.record_publishes();
    let services = m.services();
    run(services.typing.start(key(ADA), s1())).unwrap();
    run(services.typing.start(key(BOB), socket("s-2"))).unwrap();
    published.take();

    run(services.typing.clear_socket(&s1()));

    assert_eq!(published.take(), vec![indicator(ADA, false, None)]);
}

#[test]
fn two_sockets_of_one_user_share_one_indicator_and_one_timer() {
    let mut m = ready();
    let clock = m.clock.clone();
    let published = m.record_publishes();
    let services = m.services();
    run(services.typing.start(key(ADA), s1())).unwrap();
    assert_eq!(
        published.take(),
        vec![indicator(ADA, true, Some(NOW.plus_millis(3_000)))]
    );
    // The second device types 2 s later, over a second after the broadcast: broadcast again.
    clock.set(NOW.plus_millis(2_000));
    run(services.typing.start(key(ADA), socket("s-2"))).unwrap();
    assert_eq!(
        published.take(),
        vec![indicator_except(
            "s-2",
            ADA,
            true,
            Some(NOW.plus_millis(5_000))
        )]
    );
    // The first device's timer fires: the user is still typing.
    clock.set(NOW.plus_millis(3_000));
    run(services.typing.expire(key(ADA)));
    assert_eq!(published.take(), vec![]);
    // The first device leaves: the second still types.
    run(services.typing.clear_socket(&s1()));
    assert_eq!(published.take(), vec![]);
    // The second device's timer clears it, for everyone but the second device.
    clock.set(NOW.plus_millis(5_000));
    run(services.typing.expire(key(ADA)));
    assert_eq!(
        published.take(),
        vec![indicator_except("s-2", ADA, false, None)]
    );
}

#[test]
fn a_stop_from_another_socket_of_the_user_clears_the_indicator() {
    let mut m = ready();
    let published = m.record_publishes();
    let services = m.services();
    run(services.typing.start(key(ADA), s1())).unwrap();
    published.take();
    run(services.typing.stop(key(ADA), socket("s-2"))).unwrap();
    assert_eq!(
        published.take(),
        vec![indicator_except("s-2", ADA, false, None)]
    );
    run(services.typing.clear_socket(&s1()));
    assert_eq!(published.take(), vec![], "already cleared");
}

#[test]
fn a_stop_never_reaches_the_rate_limiter_and_succeeds_over_the_quota() {
    let mut m = Mocks::new();
    m.with_conversation(&conversation(
        conv(1),
        vec![participant(ADA), participant(BOB)],
    ));
    m.rate_limiter.expect_check().never();
    m.publisher.expect_publish().never();
    let stopped = run(m.services().typing.stop(key(ADA), s1())).unwrap();
    assert!(!stopped.is_typing);
}

#[test]
fn a_non_participant_cannot_type_and_no_block_is_read() {
    let mut m = Mocks::new();
    m.with_conversation(&conversation(
        conv(1),
        vec![participant(BOB), participant(3)],
    ));
    m.blocks.expect_list_conversation_blocks().never();
    m.rate_limiter.expect_check().never();
    m.publisher.expect_publish().never();
    let services = m.services();
    let started = run(services.typing.start(key(ADA), s1()));
    assert!(
        matches!(started, Err(TypingError::NotParticipant)),
        "{started:?}"
    );
    let stopped = run(services.typing.stop(key(ADA), s1()));
    assert!(
        matches!(stopped, Err(TypingError::NotParticipant)),
        "{stopped:?}"
    );
}

#[test]
fn a_rate_limited_start_broadcasts_nothing() {
    let mut m = Mocks::new();
    m.with_conversation(&conversation(
        conv(1),
        vec![participant(ADA), participant(BOB)],
    ));
    m.with_blocks(conv(1), vec![]);
    m.rate_limiter
        .expect_check()
        .with(
            eq(RateLimitKey {
                user_id: user(ADA),
                action: RateLimitedAction::Typing,
            }),
            eq(Quota::per_minute(30)),
            eq(NOW),
        )
        .returning(|_, _, _| {
            Ok(RateDecision::Limited {
                retry_after_secs: 9,
            })
        });
    m.publisher.expect_publish().never();
    let got = run(m.services().typing.start(key(ADA), s1()));
    assert!(
        matches!(
            got,
            Err(TypingError::RateLimited(RateLimited {
                retry_after_secs: 9
            }))
        ),
        "{got:?}"
    );
}
