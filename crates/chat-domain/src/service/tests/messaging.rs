//! `MessagingService::send` (contract 4.1): one `fetch_send_context` on a cache miss, the rules
//! checked on it, the rate limit counted once, one `append_if_current` at the context's version
//! (read again and re-checked when the version moved).

use mockall::predicate::eq;

use super::{
    Mocks, NOW, block, conv, conversation, created, device, msg_id, name, participant, run,
    send_cmd, send_context, seq, stale, stored, user,
};
use crate::{
    block::{Block, BlockSide},
    conversation::Conversation,
    error::RepoError,
    events::{Audience, Delivery, ServerEvent, UnreadUpdate},
    message::{AppendOutcome, MessageContent, NewMessage},
    mute::Mute,
    ports::{CheckedAppend, ContextVersion, RecipientState, SendContext},
    rate_limit::{Quota, RateDecision, RateLimitKey, RateLimitedAction},
    sequence::ClientSequence,
    service::{RateLimited, SendMessage, SendMessageError},
    time::Timestamp,
};

const ADA: u128 = 1;
const BOB: u128 = 2;
const CAROL: u128 = 3;

/// The version the contexts of these tests are read at, unless a test moves it.
const V: u64 = 7;

/// Ada (named) and Bob. Bob's marker here (1) is older than what the append reports (3): the
/// unread update must come from the append.
fn ada_and_bob() -> Conversation {
    let mut ada = participant(ADA);
    ada.name = Some(name("Ada"));
    let mut bob = participant(BOB);
    bob.last_read_sequence = seq(1);
    conversation(conv(1), vec![ada, bob])
}

/// Ada and Bob's context, with `blocks` and `mutes`, at `version`.
fn context(blocks: Vec<Block>, mutes: Vec<Mute>, version: u64) -> SendContext {
    send_context(ada_and_bob(), blocks, mutes, version)
}

/// Bob right after Ada's message: two unread, marker at 3.
fn bob_after_append() -> RecipientState {
    RecipientState {
        user_id: user(BOB),
        unread_count: 2,
        last_read_sequence: seq(3),
        last_read_at: Some(Timestamp::from_millis(42)),
    }
}

fn recipient(n: u128, unread_count: u64) -> RecipientState {
    RecipientState {
        user_id: user(n),
        unread_count,
        last_read_sequence: seq(0),
        last_read_at: None,
    }
}

fn mute_of(n: u128, until: Option<i64>) -> Mute {
    Mute {
        conversation_id: conv(1),
        user_id: user(n),
        muted_at: Timestamp::EPOCH,
        muted_until: until.map(Timestamp::from_millis),
    }
}

fn send_from(sender: u128) -> SendMessage {
    send_cmd(sender, conv(1), 1)
}

/// The old send path (conversation, blocks, unread counts, mutes read one by one) is never
/// taken.
fn expect_no_old_reads(m: &mut Mocks) {
    m.conversations.expect_find_conversation().never();
    m.blocks.expect_list_conversation_blocks().never();
    m.conversations.expect_unread_count().never();
    m.mutes.expect_find_mute().never();
}

/// Nothing is stored or published.
fn expect_nothing_stored(m: &mut Mocks) {
    m.messages.expect_append_if_current().never();
    m.publisher.expect_publish().never();
}

/// The unread updates among `published`: (to whom, count, muted).
fn unread_updates(published: Vec<(Audience, ServerEvent)>) -> Vec<(Audience, u64, bool)> {
    published
        .into_iter()
        .filter_map(|(a, e)| match e {
            ServerEvent::UnreadCountUpdated(u) => Some((a, u.unread_count, u.muted)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_non_participant_is_refused_before_anything_else_is_read() {
    let mut left = participant(ADA);
    left.left_at = Some(Timestamp::from_millis(5));
    let cases: [(&str, Option<SendContext>); 3] = [
        ("no such conversation", None),
        (
            "not among the participants",
            Some(send_context(
                conversation(conv(1), vec![participant(BOB), participant(CAROL)]),
                vec![],
                vec![],
                V,
            )),
        ),
        (
            "left the conversation",
            Some(send_context(
                conversation(conv(1), vec![left, participant(BOB)]),
                vec![],
                vec![],
                V,
            )),
        ),
    ];
    for (case, found) in cases {
        let mut m = Mocks::new();
        m.conversations
            .expect_fetch_send_context()
            .with(eq(conv(1)))
            .times(1)
            .return_once(move |_| Ok(found));
        m.rate_limiter.expect_check().never();
        m.messages.expect_find_message().never();
        expect_no_old_reads(&mut m);
        expect_nothing_stored(&mut m);
        let got = run(m.services().messaging.send(send_from(ADA)));
        assert!(
            matches!(got, Err(SendMessageError::NotParticipant)),
            "{case}: {got:?}"
        );
    }
}

#[test]
fn a_failing_context_read_fails_the_send_before_the_rate_limit() {
    let mut m = Mocks::new();
    m.conversations
        .expect_fetch_send_context()
        .times(1)
        .returning(|_| Err(RepoError::unavailable("db down")));
    m.rate_limiter.expect_check().never();
    m.messages.expect_find_message().never();
    expect_no_old_reads(&mut m);
    expect_nothing_stored(&mut m);
    let got = run(m.services().messaging.send(send_from(ADA)));
    assert!(
        matches!(got, Err(SendMessageError::Repo(RepoError::Unavailable(_)))),
        "{got:?}"
    );
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
        let fetches = m.with_send_contexts(conv(1), vec![context(vec![standing], vec![], V)]);
        m.rate_limiter.expect_check().never();
        m.messages.expect_find_message().never();
        expect_no_old_reads(&mut m);
        expect_nothing_stored(&mut m);
        let got = run(m.services().messaging.send(send_from(ADA)));
        assert!(
            matches!(got, Err(SendMessageError::Blocked(s)) if s == side),
            "{case}: {got:?}"
        );
        assert_eq!(fetches.count(), 1, "{case}");
    }
}

#[test]
fn a_rate_limited_send_never_appends() {
    let cases = [
        ("never stored", None),
        (
            "the id is another sender's",
            Some(stored(msg_id(1), conv(1), BOB, 2)),
        ),
        (
            "the id is in another conversation",
            Some(stored(msg_id(1), conv(2), ADA, 2)),
        ),
    ];
    for (case, found) in cases {
        let mut m = Mocks::new();
        m.with_send_contexts(conv(1), vec![context(vec![], vec![], V)]);
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
        // Over the quota the id is looked up, once (a resend would still be answered).
        m.messages
            .expect_find_message()
            .with(eq(msg_id(1)))
            .times(1)
            .return_once(move |_| Ok(found));
        expect_no_old_reads(&mut m);
        expect_nothing_stored(&mut m);
        let got = run(m.services().messaging.send(send_from(ADA)));
        assert!(
            matches!(
                got,
                Err(SendMessageError::RateLimited(RateLimited {
                    retry_after_secs: 42
                }))
            ),
            "{case}: {got:?}"
        );
    }
}

#[test]
fn over_the_quota_a_resend_of_a_stored_message_gets_the_original_as_a_duplicate() {
    let mut m = Mocks::new();
    m.with_send_contexts(conv(1), vec![context(vec![], vec![], V)]);
    m.rate_limiter.expect_check().times(1).returning(|_, _, _| {
        Ok(RateDecision::Limited {
            retry_after_secs: 42,
        })
    });
    let original = stored(msg_id(1), conv(1), ADA, 2);
    let answer = original.clone();
    m.messages
        .expect_find_message()
        .with(eq(msg_id(1)))
        .times(1)
        .return_once(move |_| Ok(Some(answer)));
    m.messages.expect_append_if_current().never();
    expect_no_old_reads(&mut m);
    let published = m.record_publishes();

    let delivery = run(m.services().messaging.send(send_from(ADA))).unwrap();

    let mut message = original;
    message.sender_name = Some(name("Ada"));
    assert_eq!(
        delivery,
        Delivery {
            message,
            duplicate: true
        }
    );
    assert_eq!(
        published.take(),
        vec![(
            Audience::Conversation(conv(1)),
            ServerEvent::MessageReceived(delivery.message)
        )],
        "a resend is broadcast again (receivers drop repeats), and counts nothing"
    );
}

#[test]
fn a_new_message_is_appended_at_the_context_version_then_delivered_received_and_counted() {
    let mut m = Mocks::new();
    let fetches = m.with_send_contexts(conv(1), vec![context(vec![], vec![], V)]);
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
        .returning(|_, _, _| Ok(RateDecision::Allowed));
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
        .expect_append_if_current()
        .with(eq(want_new), eq(ContextVersion(V)))
        .times(1)
        .returning(|_, _| {
            Ok(CheckedAppend::Done {
                outcome: AppendOutcome::Created(stored(msg_id(1), conv(1), ADA, 4)),
                recipients: vec![bob_after_append()],
            })
        });
    m.messages.expect_find_message().never();
    expect_no_old_reads(&mut m);
    let published = m.record_publishes();

    let delivery = run(m.services().messaging.send(send_from(ADA))).unwrap();

    assert_eq!(fetches.count(), 1);
    // The name the repository left out comes from the context.
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
                Audience::Conversation(conv(1)),
                ServerEvent::MessageReceived(message)
            ),
            (
                Audience::User(user(BOB)),
                ServerEvent::UnreadCountUpdated(UnreadUpdate {
                    conversation_id: conv(1),
                    unread_count: 2,
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
fn the_unread_update_says_muted_only_while_a_mute_in_the_context_is_in_force() {
    let cases = [
        ("no mute", vec![], false),
        ("mute without end", vec![mute_of(BOB, None)], true),
        (
            "mute until later",
            vec![mute_of(BOB, Some(NOW.millis() + 1))],
            true,
        ),
        (
            "mute ending now",
            vec![mute_of(BOB, Some(NOW.millis()))],
            false,
        ),
        (
            "mute expired",
            vec![mute_of(BOB, Some(NOW.millis() - 1))],
            false,
        ),
        ("only the sender muted", vec![mute_of(ADA, None)], false),
    ];
    for (case, mutes, want) in cases {
        let mut m = Mocks::new();
        m.with_send_contexts(conv(1), vec![context(vec![], mutes, V)]);
        m.allow_rate();
        m.with_appends(vec![created(4, vec![bob_after_append()])]);
        expect_no_old_reads(&mut m);
        let published = m.record_publishes();
        run(m.services().messaging.send(send_from(ADA))).unwrap();
        assert_eq!(
            unread_updates(published.take()),
            vec![(Audience::User(user(BOB)), 2, want)],
            "{case}"
        );
    }
}

#[test]
fn each_recipient_the_append_reports_gets_one_unread_update_with_its_own_mute() {
    let three = send_context(
        conversation(
            conv(1),
            vec![participant(ADA), participant(BOB), participant(CAROL)],
        ),
        vec![],
        vec![mute_of(CAROL, None)],
        V,
    );
    let mut m = Mocks::new();
    m.with_send_contexts(conv(1), vec![three]);
    m.allow_rate();
    m.with_appends(vec![created(
        4,
        vec![recipient(BOB, 1), recipient(CAROL, 5)],
    )]);
    expect_no_old_reads(&mut m);
    let published = m.record_publishes();
    run(m.services().messaging.send(send_from(ADA))).unwrap();
    assert_eq!(
        unread_updates(published.take()),
        vec![
            (Audience::User(user(BOB)), 1, false),
            (Audience::User(user(CAROL)), 5, true),
        ]
    );
}

#[test]
fn a_duplicate_append_publishes_only_the_duplicate_delivery_to_the_socket() {
    let mut m = Mocks::new();
    m.with_send_contexts(conv(1), vec![context(vec![], vec![], V)]);
    m.allow_rate();
    let original = stored(msg_id(1), conv(1), ADA, 2);
    let answer = original.clone();
    m.messages
        .expect_append_if_current()
        .times(1)
        .return_once(move |_, _| {
            Ok(CheckedAppend::Done {
                outcome: AppendOutcome::Duplicate(answer),
                recipients: vec![],
            })
        });
    m.messages.expect_find_message().never();
    expect_no_old_reads(&mut m);
    let published = m.record_publishes();

    let delivery = run(m.services().messaging.send(send_from(ADA))).unwrap();

    assert!(delivery.duplicate);
    assert_eq!(delivery.message.server_sequence, seq(2));
    assert_eq!(delivery.message.created_at, original.created_at);
    assert_eq!(
        published.take(),
        vec![(
            Audience::Conversation(conv(1)),
            ServerEvent::MessageReceived(delivery.message)
        )],
        "a resend is broadcast again (receivers drop repeats), and counts nothing"
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
        m.with_send_contexts(conv(1), vec![context(vec![], vec![], V)]);
        m.allow_rate();
        m.messages
            .expect_append_if_current()
            .times(1)
            .returning(move |_, _| Err(error()));
        m.messages.expect_find_message().never();
        m.publisher.expect_publish().never();
        expect_no_old_reads(&mut m);
        let got = run(m.services().messaging.send(send_from(ADA))).unwrap_err();
        assert!(want(&got), "{case}: {got:?}");
    }
}

#[test]
fn a_failing_publisher_does_not_fail_a_committed_send() {
    let mut m = Mocks::new();
    m.with_send_contexts(conv(1), vec![context(vec![], vec![], V)]);
    m.allow_rate();
    m.with_appends(vec![created(4, vec![bob_after_append()])]);
    expect_no_old_reads(&mut m);
    m.publisher
        .expect_publish()
        .times(2)
        .returning(|_, _| Err(RepoError::unavailable("broker down")));

    let delivery = run(m.services().messaging.send(send_from(ADA))).unwrap();

    assert_eq!(delivery.message.server_sequence, seq(4));
    assert!(!delivery.duplicate);
}

#[test]
fn a_stored_sender_name_is_kept() {
    let mut m = Mocks::new();
    m.with_send_contexts(conv(1), vec![context(vec![], vec![], V)]);
    m.allow_rate();
    m.messages.expect_append_if_current().returning(|_, _| {
        let mut s = stored(msg_id(1), conv(1), ADA, 4);
        s.sender_name = Some(name("Ada Lovelace"));
        Ok(CheckedAppend::Done {
            outcome: AppendOutcome::Created(s),
            recipients: vec![bob_after_append()],
        })
    });
    let _published = m.record_publishes();
    let delivery = run(m.services().messaging.send(send_from(ADA))).unwrap();
    assert_eq!(delivery.message.sender_name, Some(name("Ada Lovelace")));
}

// --- The context cache and the conditioned append -------------------------------------------

#[test]
fn a_cached_context_makes_the_next_send_of_the_conversation_one_storage_call() {
    let mut m = Mocks::new();
    let fetches = m.with_send_contexts(conv(1), vec![context(vec![], vec![], V)]);
    m.allow_rate();
    let appends = m.with_appends_creating(vec![]);
    m.messages.expect_find_message().never();
    expect_no_old_reads(&mut m);
    let _published = m.record_publishes();
    let services = m.services();

    run(services.messaging.send(send_cmd(ADA, conv(1), 1))).unwrap();
    assert_eq!((fetches.count(), appends.count()), (1, 1), "a miss reads");

    // Any sender of the conversation: no read, one append at the cached version.
    for (n, sender) in (2..).zip([ADA, BOB, ADA]) {
        let before = (fetches.count(), appends.count());
        let delivery = run(services.messaging.send(send_cmd(sender, conv(1), n))).unwrap();
        assert_eq!(
            (fetches.count() - before.0, appends.count() - before.1),
            (0, 1),
            "send {n}"
        );
        assert_eq!(delivery.message.server_sequence, seq(n.try_into().unwrap()));
    }
    assert_eq!(appends.versions(), vec![V; 4]);
}

#[test]
fn the_cache_is_per_conversation() {
    let mut m = Mocks::new();
    let first = m.with_send_contexts(conv(1), vec![context(vec![], vec![], V)]);
    let other = send_context(
        conversation(conv(2), vec![participant(ADA), participant(CAROL)]),
        vec![],
        vec![],
        3,
    );
    let second = m.with_send_contexts(conv(2), vec![other]);
    m.allow_rate();
    let appends = m.with_appends_creating(vec![]);
    let _published = m.record_publishes();
    let services = m.services();

    run(services.messaging.send(send_cmd(ADA, conv(1), 1))).unwrap();
    run(services.messaging.send(send_cmd(ADA, conv(2), 2))).unwrap();
    run(services.messaging.send(send_cmd(ADA, conv(1), 3))).unwrap();
    run(services.messaging.send(send_cmd(ADA, conv(2), 4))).unwrap();

    assert_eq!((first.count(), second.count()), (1, 1));
    assert_eq!(appends.versions(), vec![V, 3, V, 3]);
}

#[test]
fn a_stale_context_is_read_again_and_the_send_retried_at_the_new_version() {
    // The fresh context renamed Ada and has Bob muted: the delivery follows it.
    let mut renamed = ada_and_bob();
    renamed.participants[0].name = Some(name("Ada L."));
    let fresh = send_context(renamed, vec![], vec![mute_of(BOB, None)], V + 1);
    let mut m = Mocks::new();
    let fetches = m.with_send_contexts(conv(1), vec![context(vec![], vec![], V), fresh]);
    m.rate_limiter
        .expect_check()
        .times(1)
        .returning(|_, _, _| Ok(RateDecision::Allowed));
    let appends = m.with_appends(vec![stale(), created(4, vec![bob_after_append()])]);
    m.messages.expect_find_message().never();
    expect_no_old_reads(&mut m);
    let published = m.record_publishes();

    let delivery = run(m.services().messaging.send(send_from(ADA))).unwrap();

    assert_eq!(fetches.count(), 2);
    assert_eq!(appends.versions(), vec![V, V + 1]);
    assert_eq!(delivery.message.sender_name, Some(name("Ada L.")));
    assert_eq!(
        unread_updates(published.take()),
        vec![(Audience::User(user(BOB)), 2, true)]
    );
}

#[test]
fn after_a_stale_context_the_rules_run_again_on_the_fresh_one() {
    let mut left = participant(ADA);
    left.left_at = Some(Timestamp::from_millis(5));
    type Want = fn(&SendMessageError) -> bool;
    let cases: [(&str, SendContext, Want); 3] = [
        (
            "Bob blocked Ada meanwhile",
            context(vec![block(conv(1), BOB, ADA)], vec![], V + 1),
            |e| matches!(e, SendMessageError::Blocked(BlockSide::UserBlocked)),
        ),
        (
            "Ada blocked Bob meanwhile",
            context(vec![block(conv(1), ADA, BOB)], vec![], V + 1),
            |e| matches!(e, SendMessageError::Blocked(BlockSide::YouBlocked)),
        ),
        (
            "Ada left meanwhile",
            send_context(
                conversation(conv(1), vec![left, participant(BOB)]),
                vec![],
                vec![],
                V + 1,
            ),
            |e| matches!(e, SendMessageError::NotParticipant),
        ),
    ];
    for (case, fresh, want) in cases {
        let mut m = Mocks::new();
        let fetches = m.with_send_contexts(conv(1), vec![context(vec![], vec![], V), fresh]);
        m.rate_limiter
            .expect_check()
            .times(1)
            .returning(|_, _, _| Ok(RateDecision::Allowed));
        // The first append finds the version moved; no second one.
        let appends = m.with_appends(vec![stale()]);
        m.messages.expect_find_message().never();
        m.publisher.expect_publish().never();
        expect_no_old_reads(&mut m);

        let got = run(m.services().messaging.send(send_from(ADA))).unwrap_err();

        assert!(want(&got), "{case}: {got:?}");
        assert_eq!(fetches.count(), 2, "{case}");
        assert_eq!(appends.versions(), vec![V], "{case}");
    }
}

#[test]
fn the_rate_limit_is_counted_once_across_retries() {
    let mut m = Mocks::new();
    let contexts = (1..=3).map(|v| context(vec![], vec![], v)).collect();
    m.with_send_contexts(conv(1), contexts);
    m.rate_limiter
        .expect_check()
        .times(1)
        .returning(|_, _, _| Ok(RateDecision::Allowed));
    let appends = m.with_appends(vec![stale(), stale(), created(4, vec![])]);
    let _published = m.record_publishes();

    run(m.services().messaging.send(send_from(ADA))).unwrap();

    assert_eq!(appends.versions(), vec![1, 2, 3]);
}

#[test]
fn four_stale_contexts_in_a_row_give_up_as_unavailable() {
    let mut m = Mocks::new();
    let contexts = (1..=5).map(|v| context(vec![], vec![], v)).collect();
    m.with_send_contexts(conv(1), contexts);
    m.rate_limiter
        .expect_check()
        .times(1)
        .returning(|_, _, _| Ok(RateDecision::Allowed));
    let appends = m.with_appends(vec![stale(), stale(), stale(), stale()]);
    m.messages.expect_find_message().never();
    m.publisher.expect_publish().never();
    expect_no_old_reads(&mut m);

    let got = run(m.services().messaging.send(send_from(ADA)));

    assert!(
        matches!(got, Err(SendMessageError::Repo(RepoError::Unavailable(_)))),
        "{got:?}"
    );
    assert_eq!(appends.versions(), vec![1, 2, 3, 4]);
}

#[test]
fn a_stale_cached_context_is_bypassed_then_replaced_by_the_fresh_one() {
    let mut m = Mocks::new();
    let fetches = m.with_send_contexts(
        conv(1),
        vec![context(vec![], vec![], V), context(vec![], vec![], V + 1)],
    );
    m.allow_rate();
    // Send 1 caches V; send 2 finds it stale, reads V + 1 (the cache still holds V) and
    // retries; send 3 uses V + 1 without a read.
    let appends = m.with_appends(vec![
        created(1, vec![]),
        stale(),
        created(2, vec![]),
        created(3, vec![]),
    ]);
    let _published = m.record_publishes();
    let services = m.services();

    for n in 1..=3 {
        run(services.messaging.send(send_cmd(ADA, conv(1), n))).unwrap();
    }

    assert_eq!(fetches.count(), 2);
    assert_eq!(appends.versions(), vec![V, V, V + 1, V + 1]);
}
