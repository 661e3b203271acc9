//! `ReadService::mark_read` (contract 4.2).

use mockall::predicate::eq;

use super::{Mocks, NOW, conv, conversation, msg_id, participant, run, seq, user};
use crate::{
    error::RepoError,
    events::{Audience, ReadReceipt, ServerEvent, UnreadUpdate},
    mute::Mute,
    rate_limit::{Quota, RateDecision, RateLimitKey, RateLimitedAction},
    read_marker::{MarkerAdvance, MarkerMove, ReadMarker, ReadTarget},
    sequence::ServerSequence,
    service::{MarkRead, MarkReadError, RateLimited, ReadAck},
    time::Timestamp,
};

const READER: u128 = 1;
const OTHER: u128 = 2;
const EARLIER: Timestamp = Timestamp::from_millis(1_000);

fn target() -> ReadTarget {
    ReadTarget::new(Some(seq(5)), None, vec![msg_id(9)]).unwrap()
}

fn read(by: u128) -> MarkRead {
    MarkRead {
        user_id: user(by),
        conversation_id: conv(1),
        target: target(),
    }
}

fn advance(moved: MarkerMove, unread_count: u64) -> MarkerAdvance {
    MarkerAdvance {
        moved,
        unread_count,
    }
}

/// A participant, the rate limit allowing.
fn ready() -> Mocks {
    let mut m = Mocks::new();
    m.with_conversation(&conversation(
        conv(1),
        vec![participant(READER), participant(OTHER)],
    ));
    m.allow_rate();
    m
}

#[test]
fn a_read_that_moves_the_marker_updates_the_reader_and_tells_the_conversation() {
    let mut m = ready();
    m.messages
        .expect_resolve_read_target()
        .with(eq(conv(1)), eq(target()))
        .times(1)
        .returning(|_, _| Ok(Some(seq(5))));
    let moved = ReadMarker {
        sequence: seq(5),
        read_at: Some(NOW),
    };
    m.conversations
        .expect_advance_read_marker()
        .with(eq(conv(1)), eq(user(READER)), eq(seq(5)), eq(NOW))
        .times(1)
        .returning(move |_, _, _, _| Ok(advance(MarkerMove::Advanced(moved), 2)));
    // The count comes with the marker, never read apart.
    m.conversations.expect_unread_count().never();
    m.mutes.expect_find_mute().returning(|c, u| {
        Ok(Some(Mute {
            conversation_id: c,
            user_id: u,
            muted_at: EARLIER,
            muted_until: None,
        }))
    });
    let published = m.record_publishes();

    let ack = run(m.services().reads.mark_read(read(READER))).unwrap();

    assert_eq!(
        ack,
        ReadAck {
            conversation_id: conv(1),
            last_read_sequence: seq(5),
            last_read_at: Some(NOW),
            updated_at: NOW,
            new_unread_count: 2,
            advanced: true,
        }
    );
    assert_eq!(
        published.take(),
        vec![
            (
                Audience::User(user(READER)),
                ServerEvent::UnreadCountUpdated(UnreadUpdate {
                    conversation_id: conv(1),
                    unread_count: 2,
                    updated_at: NOW,
                    last_read_sequence: seq(5),
                    last_read_at: Some(NOW),
                    muted: true,
                })
            ),
            (
                Audience::Conversation(conv(1)),
                ServerEvent::ReadReceiptReceived(ReadReceipt {
                    conversation_id: conv(1),
                    user_id: user(READER),
                    last_read_sequence: seq(5),
                    last_read_at: Some(NOW),
                })
            ),
        ]
    );
}

#[test]
fn an_older_target_publishes_nothing_and_acks_the_current_marker() {
    let mut m = ready();
    m.messages
        .expect_resolve_read_target()
        .returning(|_, _| Ok(Some(seq(5))));
    let current = ReadMarker {
        sequence: seq(7),
        read_at: Some(EARLIER),
    };
    m.conversations
        .expect_advance_read_marker()
        .times(1)
        .returning(move |_, _, _, _| Ok(advance(MarkerMove::Unchanged(current), 0)));
    // The count comes with the marker, never read apart.
    m.conversations.expect_unread_count().never();
    m.mutes.expect_find_mute().never();
    m.publisher.expect_publish().never();

    let ack = run(m.services().reads.mark_read(read(READER))).unwrap();

    assert_eq!(
        ack,
        ReadAck {
            conversation_id: conv(1),
            last_read_sequence: seq(7),
            last_read_at: Some(EARLIER),
            updated_at: NOW,
            new_unread_count: 0,
            advanced: false,
        }
    );
}

#[test]
fn a_target_that_names_no_message_proposes_the_start() {
    let mut m = ready();
    m.messages
        .expect_resolve_read_target()
        .returning(|_, _| Ok(None));
    m.conversations
        .expect_advance_read_marker()
        .with(
            eq(conv(1)),
            eq(user(READER)),
            eq(ServerSequence::ZERO),
            eq(NOW),
        )
        .times(1)
        .returning(|_, _, _, _| {
            Ok(advance(
                MarkerMove::Unchanged(ReadMarker {
                    sequence: ServerSequence::ZERO,
                    read_at: None,
                }),
                3,
            ))
        });
    // The count comes with the marker, never read apart.
    m.conversations.expect_unread_count().never();
    m.publisher.expect_publish().never();
    let ack = run(m.services().reads.mark_read(read(READER))).unwrap();
    assert_eq!(ack.last_read_sequence, ServerSequence::ZERO);
    assert_eq!(ack.new_unread_count, 3);
}

#[test]
fn a_marker_the_store_cannot_find_is_not_participant() {
    let mut m = ready();
    m.messages
        .expect_resolve_read_target()
        .returning(|_, _| Ok(Some(seq(5))));
    m.conversations
        .expect_advance_read_marker()
        .times(1)
        .returning(|_, _, _, _| Err(RepoError::NotFound));
    m.conversations.expect_unread_count().never();
    m.publisher.expect_publish().never();
    let got = run(m.services().reads.mark_read(read(READER)));
    assert!(matches!(got, Err(MarkReadError::NotParticipant)), "{got:?}");
}

#[test]
fn other_store_failures_stay_storage_errors() {
    let mut m = ready();
    m.messages
        .expect_resolve_read_target()
        .returning(|_, _| Ok(Some(seq(5))));
    m.conversations
        .expect_advance_read_marker()
        .returning(|_, _, _, _| Err(RepoError::unavailable("db down")));
    m.publisher.expect_publish().never();
    let got = run(m.services().reads.mark_read(read(READER)));
    assert!(
        matches!(got, Err(MarkReadError::Repo(RepoError::Unavailable(_)))),
        "{got:?}"
    );
}

#[test]
fn a_non_participant_is_refused_before_the_rate_limit_and_the_marker() {
    for found in [
        None,
        Some(conversation(
            conv(1),
            vec![participant(OTHER), participant(3)],
        )),
    ] {
        let mut m = Mocks::new();
        m.conversations
            .expect_find_conversation()
            .return_once(move |_| Ok(found));
        m.rate_limiter.expect_check().never();
        m.messages.expect_resolve_read_target().never();
        m.conversations.expect_advance_read_marker().never();
        m.publisher.expect_publish().never();
        let got = run(m.services().reads.mark_read(read(READER)));
        assert!(matches!(got, Err(MarkReadError::NotParticipant)), "{got:?}");
    }
}

#[test]
fn a_rate_limited_read_never_moves_the_marker() {
    let mut m = Mocks::new();
    m.with_conversation(&conversation(
        conv(1),
        vec![participant(READER), participant(OTHER)],
    ));
    m.rate_limiter
        .expect_check()
        .with(
            eq(RateLimitKey {
                user_id: user(READER),
                action: RateLimitedAction::MessageRead,
            }),
            eq(Quota::per_minute(60)),
            eq(NOW),
        )
        .returning(|_, _, _| {
            Ok(RateDecision::Limited {
                retry_after_secs: 3,
            })
        });
    m.messages.expect_resolve_read_target().never();
    m.conversations.expect_advance_read_marker().never();
    m.publisher.expect_publish().never();
    let got = run(m.services().reads.mark_read(read(READER)));
    assert!(
        matches!(
            got,
            Err(MarkReadError::RateLimited(RateLimited {
                retry_after_secs: 3
            }))
        ),
        "{got:?}"
    );
}
