//! `BlockService` (contract 4.5).

use mockall::predicate::eq;

use super::{
    Mocks, NOW, block, conv, conversation, participant, run, send_cmd, send_context, user,
};
use crate::{
    block::{Block, BlockSide, BlockTargetError},
    error::RepoError,
    events::{Audience, ServerEvent},
    rate_limit::{Quota, RateDecision, RateLimitKey, RateLimitedAction},
    service::{BlockError, RateLimited, SendMessageError, UnblockOutcome},
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

/// Nothing may change after a refused check.
fn expect_no_change(m: &mut Mocks) {
    m.blocks.expect_insert_block().never();
    m.blocks.expect_delete_block().never();
    m.publisher.expect_leave_conversation().never();
    m.publisher.expect_join_conversation().never();
    m.publisher.expect_publish().never();
}

fn ada_blocks_bob_now() -> Block {
    Block {
        blocked_at: NOW,
        ..block(conv(1), ADA, BOB)
    }
}

#[test]
fn invalid_targets_are_refused_before_the_rate_limit() {
    type Want = fn(&BlockError) -> bool;
    let cases: [(&str, u128, u128, Want); 3] = [
        ("yourself", ADA, ADA, |e| {
            matches!(e, BlockError::InvalidTarget(BlockTargetError::SelfBlock))
        }),
        ("a stranger", ADA, 3, |e| {
            matches!(
                e,
                BlockError::InvalidTarget(BlockTargetError::TargetNotParticipant)
            )
        }),
        ("by a non-participant", 3, BOB, |e| {
            matches!(e, BlockError::NotParticipant)
        }),
    ];
    for (case, actor, target, want) in cases {
        for unblock in [false, true] {
            let mut m = ada_and_bob();
            m.rate_limiter.expect_check().never();
            expect_no_change(&mut m);
            let services = m.services();
            let got = if unblock {
                run(services.blocks.unblock(user(actor), conv(1), user(target))).map(|_| ())
            } else {
                run(services.blocks.block(user(actor), conv(1), user(target))).map(|_| ())
            };
            let error = got.unwrap_err();
            assert!(want(&error), "{case} (unblock: {unblock}): {error:?}");
        }
    }
}

#[test]
fn a_missing_conversation_is_not_participant() {
    let mut m = Mocks::new();
    m.conversations
        .expect_find_conversation()
        .returning(|_| Ok(None));
    m.rate_limiter.expect_check().never();
    expect_no_change(&mut m);
    let got = run(m.services().blocks.block(user(ADA), conv(1), user(BOB)));
    assert!(matches!(got, Err(BlockError::NotParticipant)), "{got:?}");
}

#[test]
fn a_rate_limited_block_changes_nothing() {
    let mut m = ada_and_bob();
    m.rate_limiter
        .expect_check()
        .with(
            eq(RateLimitKey {
                user_id: user(ADA),
                action: RateLimitedAction::Block,
            }),
            eq(Quota::per_minute(5)),
            eq(NOW),
        )
        .returning(|_, _, _| {
            Ok(RateDecision::Limited {
                retry_after_secs: 12,
            })
        });
    expect_no_change(&mut m);
    let got = run(m.services().blocks.block(user(ADA), conv(1), user(BOB)));
    assert!(
        matches!(
            got,
            Err(BlockError::RateLimited(RateLimited {
                retry_after_secs: 12
            }))
        ),
        "{got:?}"
    );
}

#[test]
fn a_block_is_stored_the_blocked_user_leaves_the_room_and_the_blocker_is_told() {
    let mut m = ada_and_bob();
    m.allow_rate();
    m.blocks
        .expect_insert_block()
        .with(eq(ada_blocks_bob_now()))
        .times(1)
        .returning(Ok);
    m.publisher
        .expect_leave_conversation()
        .with(eq(user(BOB)), eq(conv(1)))
        .times(1)
        .returning(|_, _| Ok(()));
    let published = m.record_publishes();

    let got = run(m.services().blocks.block(user(ADA), conv(1), user(BOB))).unwrap();

    assert_eq!(got, ada_blocks_bob_now());
    assert_eq!(
        published.take(),
        vec![(
            Audience::User(user(ADA)),
            ServerEvent::UserBlocked(ada_blocks_bob_now())
        )]
    );
}

#[test]
fn blocking_again_returns_the_standing_block() {
    let mut m = ada_and_bob();
    m.allow_rate();
    let standing = block(conv(1), ADA, BOB);
    let answer = standing.clone();
    m.blocks
        .expect_insert_block()
        .times(1)
        .return_once(move |_| Ok(answer));
    m.publisher
        .expect_leave_conversation()
        .returning(|_, _| Ok(()));
    let _published = m.record_publishes();
    let got = run(m.services().blocks.block(user(ADA), conv(1), user(BOB))).unwrap();
    assert_eq!(got, standing);
}

#[test]
fn a_block_stands_even_when_the_room_and_the_publisher_fail() {
    let mut m = ada_and_bob();
    m.allow_rate();
    m.blocks.expect_insert_block().returning(Ok);
    m.publisher
        .expect_leave_conversation()
        .times(1)
        .returning(|_, _| Err(RepoError::unavailable("adapter down")));
    m.publisher
        .expect_publish()
        .times(1)
        .returning(|_, _| Err(RepoError::unavailable("adapter down")));
    let got = run(m.services().blocks.block(user(ADA), conv(1), user(BOB)));
    assert_eq!(got.unwrap(), ada_blocks_bob_now());
}

#[test]
fn unblocking_what_was_not_blocked_publishes_nothing() {
    let mut m = ada_and_bob();
    // Unblocking is never counted nor refused for rate (4.3).
    m.rate_limiter.expect_check().never();
    m.blocks
        .expect_delete_block()
        .with(eq(conv(1)), eq(user(ADA)), eq(user(BOB)))
        .times(1)
        .returning(|_, _, _| Ok(None));
    m.blocks.expect_list_conversation_blocks().never();
    m.publisher.expect_join_conversation().never();
    m.publisher.expect_publish().never();
    let got = run(m.services().blocks.unblock(user(ADA), conv(1), user(BOB))).unwrap();
    assert_eq!(got, UnblockOutcome::NotBlocked);
}

#[test]
fn an_unblock_rejoins_the_blocked_user_unless_another_block_keeps_them_out() {
    let cases = [
        ("no other block", vec![], true),
        ("Bob blocked Ada too", vec![block(conv(1), BOB, ADA)], true),
        (
            "a third user blocked Bob",
            vec![block(conv(1), 3, BOB)],
            false,
        ),
    ];
    for (case, remaining, rejoins) in cases {
        let mut m = ada_and_bob();
        m.rate_limiter.expect_check().never();
        m.blocks
            .expect_delete_block()
            .times(1)
            .returning(|c, _, _| Ok(Some(block(c, ADA, BOB))));
        m.with_blocks(conv(1), remaining);
        m.publisher
            .expect_join_conversation()
            .with(eq(user(BOB)), eq(conv(1)))
            .times(usize::from(rejoins))
            .returning(|_, _| Ok(()));
        let published = m.record_publishes();

        let got = run(m.services().blocks.unblock(user(ADA), conv(1), user(BOB))).unwrap();

        assert_eq!(
            got,
            UnblockOutcome::Lifted(block(conv(1), ADA, BOB)),
            "{case}"
        );
        assert_eq!(
            published.take(),
            vec![(
                Audience::User(user(ADA)),
                ServerEvent::UserUnblocked(block(conv(1), ADA, BOB))
            )],
            "{case}"
        );
    }
}

/// A send caches the conversation's context; a block or an unblock on this node forgets it, so
/// the next send reads the new one (and obeys it at once, without a stale append first).
#[test]
fn a_block_or_an_unblock_makes_the_next_send_read_the_context_again() {
    let pair = || conversation(conv(1), vec![participant(ADA), participant(BOB)]);
    let free = send_context(pair(), vec![], vec![], 1);
    let blocked = send_context(pair(), vec![block(conv(1), ADA, BOB)], vec![], 1);
    let free_again = send_context(pair(), vec![], vec![], 2);
    let blocked_again = send_context(pair(), vec![block(conv(1), ADA, BOB)], vec![], 2);
    for unblock in [false, true] {
        let mut m = ada_and_bob();
        m.allow_rate();
        let contexts = if unblock {
            vec![blocked.clone(), free_again.clone()]
        } else {
            vec![free.clone(), blocked_again.clone()]
        };
        let fetches = m.with_send_contexts(conv(1), contexts);
        let appends = m.with_appends_creating(vec![]);
        m.blocks.expect_insert_block().returning(Ok);
        m.blocks
            .expect_delete_block()
            .returning(|c, _, _| Ok(Some(block(c, ADA, BOB))));
        m.with_blocks(conv(1), vec![]);
        m.publisher
            .expect_leave_conversation()
            .returning(|_, _| Ok(()));
        m.publisher
            .expect_join_conversation()
            .returning(|_, _| Ok(()));
        let _published = m.record_publishes();
        let services = m.services();

        let first = run(services.messaging.send(send_cmd(ADA, conv(1), 1)));
        assert_eq!(first.is_ok(), !unblock, "unblock: {unblock}: {first:?}");
        if unblock {
            run(services.blocks.unblock(user(ADA), conv(1), user(BOB))).unwrap();
        } else {
            run(services.blocks.block(user(ADA), conv(1), user(BOB))).unwrap();
        }
        let second = run(services.messaging.send(send_cmd(ADA, conv(1), 2)));

        assert_eq!(fetches.count(), 2, "unblock: {unblock}");
        if unblock {
            assert!(second.is_ok(), "{second:?}");
            assert_eq!(appends.versions(), vec![2]);
        } else {
            assert!(
                matches!(
                    second,
                    Err(SendMessageError::Blocked(BlockSide::YouBlocked))
                ),
                "{second:?}"
            );
            assert_eq!(appends.versions(), vec![1]);
        }
    }
}
