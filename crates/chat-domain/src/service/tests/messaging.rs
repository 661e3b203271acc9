//! `MessagingService::send` (contract 4.1).

use mockall::predicate::eq;

use super::{
    Mocks, NOW, block, conv, conversation, device, msg_id, name, participant, run, seq, socket,
    stored, user,
};
use crate::{
    block::BlockSide,
    conversation::Conversation,
    error::RepoError,
    events::{Audience, Delivery, ServerEvent, UnreadUpdate},
    message::{AppendOutcome, MessageContent, NewMessage},
    mute::Mute,
    rate_limit::{Quota, RateDecision, RateLimitKey, RateLimitedAction},
    sequence::ClientSequence,
    service::{RateLimited, SendMessage, SendMessageError},
    time::Timestamp,
};

const ADA: u128 = 1;
const BOB: u128 = 2;

/// Ada (named) and Bob, Bob's marker at 3.
fn ada_and_bob() -> Conversation {
    let mut ada = participant(ADA);
    ada.name = Some(name("Ada"));
    let mut bob = participant(BOB);
    bob.last_read_sequence = seq(3);
    bob.last_read_at = Some(Timestamp::from_millis(42));
    conversation(conv(1), vec![ada, bob])
}

fn send_from(sender: u128) -> SendMessage {
    SendMessage {
        sender_id: user(sender),
        device_id: device("laptop"),
        socket_id: socket("s-1"),
        conversation_id: conv(1),
        message_id: msg_id(1),
        content: MessageContent::from_trusted("hello".into()),
        client_sequence: Some(ClientSequence::new(7)),
        client_timestamp: Some(Timestamp::from_millis(99)),
    }
}

/// Nothing past the participant check may be touched.
fn expect_nothing_after_checks(m: &mut Mocks) {
    m.messages.expect_append().never();
    m.publisher.expect_publish().never();
    m.conversations.expect_unread_count().never();
    m.mutes.expect_find_mute().never();
}

#[test]
fn a_non_participant_is_refused_before_blocks_are_read() {
    let mut left = participant(ADA);
    left.left_at = Some(Timestamp::from_millis(5));
    let cases: [(&str, Option<Conversation>); 3] = [
        ("no such conversation", None),
        (
            "not among the participants",
            Some(conversation(
                conv(1),
                vec![participant(BOB), participant(3)],
            )),
        ),
        (
            "left the conversation",
            Some(conversation(conv(1), vec![left, participant(BOB)])),
        ),
    ];
    for (case, found) in cases {
        let mut m = Mocks::new();
        m.conversations
            .expect_find_conversation()
            .with(eq(conv(1)))
            .return_once(move |_| Ok(found));
        m.blocks.expect_list_conversation_blocks().never();
        m.rate_limiter.expect_check().never();
        expect_nothing_after_checks(&mut m);
        let got = run(m.services().messaging.send(send_from(ADA)));
        assert!(
            matches!(got, Err(SendMessageError::NotParticipant)),
            "{case}: {got:?}"
        );
    }
}

#[test]
fn a_blocked_send_is_refused_before_the_rate_limit_and_stores_nothing() {
    let cases = [
        (
            "Ada blocked Bob",
            block(conv(1), ADA, BOB),
            BlockSide::YouBlocked,
        ),
        (
            "Bob blocked Ada",
            block(conv(1), BOB, ADA),
            BlockSide::UserBlocked,
        ),
    ];
    for (case, standing, side) in cases {
        let mut m = Mocks::new();
        m.with_conversation(&ada_and_bob());
        m.with_blocks(conv(1), vec![standing]);
        m.rate_limiter.expect_check().never();
        expect_nothing_after_checks(&mut m);
        let got = run(m.services().messaging.send(send_from(ADA)));
        assert!(
            matches!(got, Err(SendMessageError::Blocked(s)) if s == side),
            "{case}: {got:?}"
        );
    }
}

#[test]
fn a_rate_limited_send_never_appends() {
    let mut m = Mocks::new();
    m.with_conversation(&ada_and_bob());
    m.with_blocks(conv(1), vec![]);
    m.rate_limiter
        .expect_check()
        .with(
            eq(RateLimitKey {
                user_id: user(ADA),
                action: RateLimitedAction::MessageSend,
            }),
            eq(Quota::per_minute(10)),
            eq(NOW),
        )
        .times(1)
        .returning(|_, _, _| {
            Ok(RateDecision::Limited {
                retry_after_secs: 42,
            })
        });
    // Over the quota, the id is looked up once (a resend would still be answered): not stored.
    m.messages
        .expect_find_message()
        .with(eq(msg_id(1)))
        .times(1)
        .returning(|_| Ok(None));
    expect_nothing_after_checks(&mut m);
    let got = run(m.services().messaging.send(send_from(ADA)));
    assert!(
        matches!(
            got,
            Err(SendMessageError::RateLimited(RateLimited {
                retry_after_secs: 42
            }))
        ),
        "{got:?}"
    );
}

#[test]
fn a_new_message_is_stored_then_delivered_received_and_counted_for_the_other_participant() {
    let mut m = Mocks::new();
    m.with_conversation(&ada_and_bob());
    m.with_blocks(conv(1), vec![]);
    m.allow_rate();
    let want_new = NewMessage {
        id: msg_id(1),
        conversation_id: conv(1),
        sender_id: user(ADA),
        sender_device_id: device("laptop"),
        client_sequence: Some(ClientSequence::new(7)),
        content: MessageContent::from_trusted("hello".into()),
        client_timestamp: Some(Timestamp::from_millis(99)),
        created_at: NOW,
    };
    m.messages
        .expect_append()
        .with(eq(want_new))
        .times(1)
        .returning(|_| Ok(AppendOutcome::Created(stored(msg_id(1), conv(1), ADA, 4))));
    m.conversations
        .expect_unread_count()
        .with(eq(conv(1)), eq(user(BOB)))
        .times(1)
        .returning(|_, _| Ok(1));
    m.mutes
        .expect_find_mute()
        .with(eq(conv(1)), eq(user(BOB)))
        .times(1)
        .returning(|_, _| Ok(None));
    let published = m.record_publishes();

    let delivery = run(m.services().messaging.send(send_from(ADA))).unwrap();

    let mut message = stored(msg_id(1), conv(1), ADA, 4);
    message.sender_name = Some(name("Ada"));
    assert_eq!(
        delivery,
        Delivery {
            message: message.clone(),
            duplicate: false
        }
    );
    assert_eq!(
        published.take(),
        vec![
            (
                Audience::Socket(socket("s-1")),
                ServerEvent::MessageDelivered(delivery)
            ),
            (
                Audience::Conversation(conv(1)),
                ServerEvent::MessageReceived(message)
            ),
            (
                Audience::User(user(BOB)),
                ServerEvent::UnreadCountUpdated(UnreadUpdate {
                    conversation_id: conv(1),
                    unread_count: 1,
                    updated_at: NOW,
                    last_read_sequence: seq(3),
                    last_read_at: Some(Timestamp::from_millis(42)),
                    muted: false,
                })
            ),
        ]
    );
}

#[test]
fn the_unread_update_says_muted_only_while_a_mute_is_in_force() {
    let mute = |until: Option<i64>| Mute {
        conversation_id: conv(1),
        user_id: user(BOB),
        muted_at: Timestamp::EPOCH,
        muted_until: until.map(Timestamp::from_millis),
    };
    let cases = [
        ("no mute", None, false),
        ("mute without end", Some(mute(None)), true),
        ("mute until later", Some(mute(Some(NOW.millis() + 1))), true),
        ("mute ending now", Some(mute(Some(NOW.millis()))), false),
        ("mute expired", Some(mute(Some(NOW.millis() - 1))), false),
    ];
    for (case, found, want) in cases {
        let mut m = Mocks::new();
        m.with_conversation(&ada_and_bob());
        m.with_blocks(conv(1), vec![]);
        m.allow_rate();
        m.messages
            .expect_append()
            .returning(|_| Ok(AppendOutcome::Created(stored(msg_id(1), conv(1), ADA, 4))));
        m.conversations
            .expect_unread_count()
            .returning(|_, _| Ok(1));
        m.mutes
            .expect_find_mute()
            .with(eq(conv(1)), eq(user(BOB)))
            .return_once(move |_, _| Ok(found));
        let published = m.record_publishes();
        run(m.services().messaging.send(send_from(ADA))).unwrap();
        let muted: Vec<bool> = published
            .take()
            .into_iter()
            .filter_map(|(_, e)| match e {
                ServerEvent::UnreadCountUpdated(u) => Some(u.muted),
                _ => None,
            })
            .collect();
        assert_eq!(muted, vec![want], "{case}");
    }
}

#[test]
fn a_duplicate_append_publishes_only_the_duplicate_delivery_to_the_socket() {
    let mut m = Mocks::new();
    m.with_conversation(&ada_and_bob());
    m.with_blocks(conv(1), vec![]);
    m.allow_rate();
    let original = stored(msg_id(1), conv(1), ADA, 2);
    let answer = original.clone();
    m.messages
        .expect_append()
        .times(1)
        .return_once(move |_| Ok(AppendOutcome::Duplicate(answer)));
    m.conversations.expect_unread_count().never();
    m.mutes.expect_find_mute().never();
    let published = m.record_publishes();

    let delivery = run(m.services().messaging.send(send_from(ADA))).unwrap();

    assert!(delivery.duplicate);
    assert_eq!(delivery.message.server_sequence, seq(2));
    assert_eq!(delivery.message.created_at, original.created_at);
    assert_eq!(
        published.take(),
        vec![(
            Audience::Socket(socket("s-1")),
            ServerEvent::MessageDelivered(delivery)
        )]
    );
}

#[test]
fn append_errors_map_to_send_errors_and_publish_nothing() {
    type Case = (
        &'static str,
        fn() -> RepoError,
        fn(&SendMessageError) -> bool,
    );
    let cases: [Case; 2] = [
        (
            "conflict",
            || RepoError::Conflict,
            |e| matches!(e, SendMessageError::Conflict),
        ),
        (
            "unavailable",
            || RepoError::unavailable("db down"),
            |e| matches!(e, SendMessageError::Repo(RepoError::Unavailable(_))),
        ),
    ];
    for (case, error, want) in cases {
        let mut m = Mocks::new();
        m.with_conversation(&ada_and_bob());
        m.with_blocks(conv(1), vec![]);
        m.allow_rate();
        m.messages
            .expect_append()
            .times(1)
            .returning(move |_| Err(error()));
        m.publisher.expect_publish().never();
        m.conversations.expect_unread_count().never();
        let got = run(m.services().messaging.send(send_from(ADA))).unwrap_err();
        assert!(want(&got), "{case}: {got:?}");
    }
}

#[test]
fn a_failing_publisher_does_not_fail_a_committed_send() {
    let mut m = Mocks::new();
    m.with_conversation(&ada_and_bob());
    m.with_blocks(conv(1), vec![]);
    m.allow_rate();
    m.messages
        .expect_append()
        .times(1)
        .returning(|_| Ok(AppendOutcome::Created(stored(msg_id(1), conv(1), ADA, 4))));
    m.conversations
        .expect_unread_count()
        .returning(|_, _| Ok(1));
    m.mutes.expect_find_mute().returning(|_, _| Ok(None));
    m.publisher
        .expect_publish()
        .times(3)
        .returning(|_, _| Err(RepoError::unavailable("broker down")));

    let delivery = run(m.services().messaging.send(send_from(ADA))).unwrap();

    assert_eq!(delivery.message.server_sequence, seq(4));
    assert!(!delivery.duplicate);
}

#[test]
fn a_failing_unread_count_skips_that_update_but_not_the_send() {
    let mut m = Mocks::new();
    m.with_conversation(&ada_and_bob());
    m.with_blocks(conv(1), vec![]);
    m.allow_rate();
    m.messages
        .expect_append()
        .returning(|_| Ok(AppendOutcome::Created(stored(msg_id(1), conv(1), ADA, 4))));
    m.conversations
        .expect_unread_count()
        .returning(|_, _| Err(RepoError::unavailable("db down")));
    m.mutes.expect_find_mute().returning(|_, _| Ok(None));
    let published = m.record_publishes();

    assert!(run(m.services().messaging.send(send_from(ADA))).is_ok());

    let kinds: Vec<Audience> = published.take().into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        kinds,
        vec![
            Audience::Socket(socket("s-1")),
            Audience::Conversation(conv(1))
        ]
    );
}

#[test]
fn a_stored_sender_name_is_kept() {
    let mut m = Mocks::new();
    m.with_conversation(&ada_and_bob());
    m.with_blocks(conv(1), vec![]);
    m.allow_rate();
    m.messages.expect_append().returning(|_| {
        let mut s = stored(msg_id(1), conv(1), ADA, 4);
        s.sender_name = Some(name("Ada Lovelace"));
        Ok(AppendOutcome::Created(s))
    });
    m.conversations
        .expect_unread_count()
        .returning(|_, _| Ok(1));
    m.mutes.expect_find_mute().returning(|_, _| Ok(None));
    let _published = m.record_publishes();
    let delivery = run(m.services().messaging.send(send_from(ADA))).unwrap();
    assert_eq!(delivery.message.sender_name, Some(name("Ada Lovelace")));
}
