//! `MuteService` (contract 4.5).

use mockall::predicate::eq;

use super::{Mocks, NOW, conv, conversation, participant, run, send_cmd, send_context, user};
use crate::{
    events::{Audience, ServerEvent},
    mute::{Mute, MuteUntilInPast},
    ports::RecipientState,
    rate_limit::{Quota, RateDecision, RateLimitKey, RateLimitedAction},
    sequence::ServerSequence,
    service::{MuteError, RateLimited},
    time::Timestamp,
};

const ADA: u128 = 1;
const BOB: u128 = 2;

fn ada_and_bob() -> Mocks {
    let mut m = Mocks::new();
    m.with_conversation(&conversation(
        conv(1),
        vec![participant(ADA), participant(BOB)],
    ));
    m
}

fn mute_until(until: Option<Timestamp>) -> Mute {
    Mute {
        conversation_id: conv(1),
        user_id: user(ADA),
        muted_at: NOW,
        muted_until: until,
    }
}

#[test]
fn a_muted_until_not_in_the_future_is_refused_before_any_port_call() {
    for until in [NOW, NOW.plus_millis(-1), Timestamp::EPOCH] {
        // No expectation at all: any port call but the clock panics.
        let m = Mocks::new();
        let got = run(m.services().mutes.mute(user(ADA), conv(1), Some(until)));
        assert!(
            matches!(got, Err(MuteError::UntilInPast(MuteUntilInPast))),
            "{until}: {got:?}"
        );
    }
}

#[test]
fn a_mute_is_stored_and_the_user_is_told() {
    for until in [
        None,
        Some(NOW.plus_millis(1)),
        Some(NOW.plus_millis(86_400_000)),
    ] {
        let mut m = ada_and_bob();
        m.allow_rate();
        m.mutes
            .expect_upsert_mute()
            .with(eq(mute_until(until)))
            .times(1)
            .returning(Ok);
        let published = m.record_publishes();

        let got = run(m.services().mutes.mute(user(ADA), conv(1), until)).unwrap();

        assert_eq!(got, mute_until(until));
        assert_eq!(
            published.take(),
            vec![(
                Audience::User(user(ADA)),
                ServerEvent::ConversationMuted(mute_until(until))
            )],
            "{until:?}"
        );
    }
}

#[test]
fn a_non_participant_cannot_mute_or_unmute() {
    for unmute in [false, true] {
        let mut m = ada_and_bob();
        m.rate_limiter.expect_check().never();
        m.mutes.expect_upsert_mute().never();
        m.mutes.expect_delete_mute().never();
        m.publisher.expect_publish().never();
        let services = m.services();
        let got = if unmute {
            run(services.mutes.unmute(user(3), conv(1))).map(|_| ())
        } else {
            run(services.mutes.mute(user(3), conv(1), None)).map(|_| ())
        };
        assert!(matches!(got, Err(MuteError::NotParticipant)), "{got:?}");
    }
}

#[test]
fn a_rate_limited_mute_changes_nothing() {
    let mut m = ada_and_bob();
    m.rate_limiter
        .expect_check()
        .with(
            eq(RateLimitKey {
                user_id: user(ADA),
                action: RateLimitedAction::Mute,
            }),
            eq(Quota::per_minute(5)),
            eq(NOW),
        )
        .returning(|_, _, _| {
            Ok(RateDecision::Limited {
                retry_after_secs: 4,
            })
        });
    m.mutes.expect_upsert_mute().never();
    m.publisher.expect_publish().never();
    let got = run(m.services().mutes.mute(user(ADA), conv(1), None));
    assert!(
        matches!(
            got,
            Err(MuteError::RateLimited(RateLimited {
                retry_after_secs: 4
            }))
        ),
        "{got:?}"
    );
}

#[test]
fn an_unmute_tells_the_user_only_when_a_mute_was_lifted() {
    for lifted in [None, Some(mute_until(None))] {
        let mut m = ada_and_bob();
        // Unmuting is never counted nor refused for rate (4.3).
        m.rate_limiter.expect_check().never();
        let answer = lifted.clone();
        m.mutes
            .expect_delete_mute()
            .with(eq(conv(1)), eq(user(ADA)))
            .times(1)
            .return_once(move |_, _| Ok(answer));
        let published = m.record_publishes();

        let got = run(m.services().mutes.unmute(user(ADA), conv(1))).unwrap();

        assert_eq!(got, lifted);
        let want = if lifted.is_some() {
            vec![(
                Audience::User(user(ADA)),
                ServerEvent::ConversationUnmuted {
                    conversation_id: conv(1),
                },
            )]
        } else {
            vec![]
        };
        assert_eq!(published.take(), want);
    }
}

/// A send caches the conversation's context; a mute or an unmute on this node forgets it, so
/// the next send reads the new one and flags the unread update accordingly.
#[test]
fn a_mute_or_an_unmute_makes_the_next_send_read_the_context_again() {
    let pair = || conversation(conv(1), vec![participant(ADA), participant(BOB)]);
    let bob_muted = Mute {
        user_id: user(BOB),
        ..mute_until(None)
    };
    let plain = |v| send_context(pair(), vec![], vec![], v);
    let muted = |v| send_context(pair(), vec![], vec![bob_muted.clone()], v);
    let bob = RecipientState {
        user_id: user(BOB),
        unread_count: 1,
        last_read_sequence: ServerSequence::ZERO,
        last_read_at: None,
    };
    for unmute in [false, true] {
        let mut m = ada_and_bob();
        m.allow_rate();
        let contexts = if unmute {
            vec![muted(1), plain(2)]
        } else {
            vec![plain(1), muted(2)]
        };
        let fetches = m.with_send_contexts(conv(1), contexts);
        let appends = m.with_appends_creating(vec![bob.clone()]);
        m.mutes.expect_upsert_mute().returning(Ok);
        let lifted = bob_muted.clone();
        m.mutes
            .expect_delete_mute()
            .returning(move |_, _| Ok(Some(lifted.clone())));
        let published = m.record_publishes();
        let services = m.services();
        let bob_is_muted = |published: Vec<(Audience, ServerEvent)>| -> Vec<bool> {
            published
                .into_iter()
                .filter_map(|(_, e)| match e {
                    ServerEvent::UnreadCountUpdated(u) => Some(u.muted),
                    _ => None,
                })
                .collect()
        };

        run(services.messaging.send(send_cmd(ADA, conv(1), 1))).unwrap();
        assert_eq!(bob_is_muted(published.take()), vec![unmute]);
        if unmute {
            run(services.mutes.unmute(user(BOB), conv(1))).unwrap();
        } else {
            run(services.mutes.mute(user(BOB), conv(1), None)).unwrap();
        }
        published.take();
        run(services.messaging.send(send_cmd(ADA, conv(1), 2))).unwrap();

        assert_eq!(fetches.count(), 2, "unmute: {unmute}");
        assert_eq!(appends.versions(), vec![1, 2], "unmute: {unmute}");
        assert_eq!(
            bob_is_muted(published.take()),
            vec![!unmute],
            "unmute: {unmute}"
        );
    }
}
