//! `PresenceService` (contract 4.4), directly and through connect and disconnect.

use mockall::predicate::eq;

use super::{Mocks, NOW, block, conv, device, run, socket, user};
use crate::{
    error::RepoError,
    events::{Audience, ServerEvent},
    presence::{
        PresenceChange,
        PresenceStatus::{self, Away, Offline, Online},
    },
    resume::ConversationHead,
    sequence::ServerSequence,
    service::{Departure, PresenceUpdateError},
};

const ADA: u128 = 1;
const BOB: u128 = 2;

fn change(before: PresenceStatus, after: PresenceStatus) -> PresenceChange {
    PresenceChange { before, after }
}

fn changed_to(status: PresenceStatus) -> ServerEvent {
    ServerEvent::PresenceChanged {
        user_id: user(ADA),
        status,
        last_seen_at: NOW,
    }
}

/// Ada is in conversations 1, 2 and 3.
fn ada_in_three_conversations(m: &mut Mocks) {
    m.conversations
        .expect_list_conversation_heads()
        .with(eq(user(ADA)))
        .returning(|_| {
            Ok([1, 2, 3]
                .map(|c| ConversationHead {
                    conversation_id: conv(c),
                    last_sequence: ServerSequence::ZERO,
                })
                .to_vec())
        });
}

#[test]
fn an_update_is_announced_only_when_the_aggregate_changes() {
    let cases = [
        (Online, change(Online, Away), Some(Away)),
        (Online, change(Away, Online), Some(Online)),
        (Away, change(Online, Online), None),
        (Online, change(Online, Online), None),
        (Away, change(Away, Away), None),
    ];
    for (set, aggregate, announced) in cases {
        let mut m = Mocks::new();
        m.presence
            .expect_set_connection_status()
            .with(eq(user(ADA)), eq(socket("s-1")), eq(set), eq(NOW))
            .times(1)
            .returning(move |_, _, _, _| Ok(aggregate));
        if announced.is_some() {
            ada_in_three_conversations(&mut m);
            m.blocks
                .expect_list_blocks_involving()
                .returning(|_| Ok(vec![]));
        } else {
            m.conversations.expect_list_conversation_heads().never();
            m.publisher.expect_publish().never();
        }
        let published = m.record_publishes();

        let got = run(m.services().presence.update(user(ADA), socket("s-1"), set)).unwrap();

        assert_eq!(got, set);
        let want: Vec<_> = announced
            .into_iter()
            .flat_map(|s| [1, 2, 3].map(|c| (Audience::Conversation(conv(c)), changed_to(s))))
            .collect();
        assert_eq!(published.take(), want, "{set:?} {aggregate:?}");
    }
}

#[test]
fn a_change_is_not_announced_where_a_block_stands_either_way() {
    let mut m = Mocks::new();
    m.presence
        .expect_set_connection_status()
        .returning(|_, _, _, _| Ok(change(Online, Away)));
    ada_in_three_conversations(&mut m);
    m.blocks
        .expect_list_blocks_involving()
        .with(eq(user(ADA)))
        // Bob blocked Ada in 1; Ada blocked Bob in 3.
        .returning(|_| Ok(vec![block(conv(1), BOB, ADA), block(conv(3), ADA, BOB)]));
    let published = m.record_publishes();

    run(m.services().presence.update(user(ADA), socket("s-1"), Away)).unwrap();

    assert_eq!(
        published.take(),
        vec![(Audience::Conversation(conv(2)), changed_to(Away))]
    );
}

#[test]
fn the_last_socket_leaving_announces_offline() {
    let mut m = Mocks::new();
    m.conversations
        .expect_list_conversation_heads()
        .returning(|_| Ok(vec![]))
        .times(1);
    m.sessions
        .expect_list_user_sessions()
        .returning(|_| Ok(vec![]));
    m.messages
        .expect_first_sequences_after()
        .returning(|_, _| Ok(vec![]));
    m.sessions
        .expect_insert_resume_point()
        .returning(|_, _| Ok(()));
    m.sessions.expect_delete_session().returning(|_| Ok(None));
    m.presence
        .expect_remove_connection()
        .returning(|_, _, _| Ok(change(Away, Offline)));
    ada_in_three_conversations(&mut m);
    m.blocks
        .expect_list_blocks_involving()
        .returning(|_| Ok(vec![]));
    let published = m.record_publishes();

    run(m.services().sessions.disconnect(
        user(ADA),
        device("laptop"),
        socket("s-1"),
        Departure::Deliberate,
        NOW,
    ))
    .unwrap();

    assert_eq!(
        published.take(),
        [1, 2, 3].map(|c| (Audience::Conversation(conv(c)), changed_to(Offline)))
    );
}

#[test]
fn a_failing_presence_store_fails_the_update_and_announces_nothing() {
    let mut m = Mocks::new();
    m.presence
        .expect_set_connection_status()
        .returning(|_, _, _, _| Err(RepoError::unavailable("cache down")));
    m.publisher.expect_publish().never();
    let got = run(m.services().presence.update(user(ADA), socket("s-1"), Away));
    assert!(
        matches!(
            got,
            Err(PresenceUpdateError::Repo(RepoError::Unavailable(_)))
        ),
        "{got:?}"
    );
}

#[test]
fn a_failure_listing_rooms_does_not_fail_the_update() {
    let mut m = Mocks::new();
    m.presence
        .expect_set_connection_status()
        .returning(|_, _, _, _| Ok(change(Online, Away)));
    m.conversations
        .expect_list_conversation_heads()
        .returning(|_| Err(RepoError::unavailable("db down")));
    m.publisher.expect_publish().never();
    let got = run(m.services().presence.update(user(ADA), socket("s-1"), Away));
    assert_eq!(got.unwrap(), Away);
}
