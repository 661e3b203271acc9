//! `ConversationService`: creation, chat list, history, block and mute lists (contract 6).

use std::collections::BTreeMap;

use mockall::predicate::eq;
use uuid::Uuid;

use super::{
    Mocks, NOW, block, conv, conversation, msg_id, name, participant, run, seq, stored, user,
};
use crate::{
    conversation::{
        ChatListEntry, ChatListPage, ConversationKind, Created, OneToOnePair, SameUserError,
    },
    ids::ConversationId,
    mute::Mute,
    paging::{HistoryAnchor, HistoryQuery, PageLimit},
    ports::HistoryPage,
    presence::PresenceStatus::{Away, Offline, Online},
    service::{CreateConversationError, HistoryError},
    time::Timestamp,
};

const ADA: u128 = 1;
const BOB: u128 = 2;
const CAROL: u128 = 3;
const DAN: u128 = 4;

#[test]
fn a_conversation_with_yourself_is_refused_before_any_port_call() {
    let mut m = Mocks::new();
    m.ids.expect_new_uuid().never();
    m.conversations.expect_find_or_create_one_to_one().never();
    m.publisher.expect_join_conversation().never();
    let got = run(m
        .services()
        .conversations
        .create_one_to_one(user(ADA), user(ADA)));
    assert!(
        matches!(got, Err(CreateConversationError::SameUser(SameUserError))),
        "{got:?}"
    );
}

#[test]
fn a_new_conversation_puts_both_users_live_sockets_in_its_room_and_an_existing_one_nobody() {
    for created in [Created::New, Created::Existing] {
        let mut m = Mocks::new();
        m.ids
            .expect_new_uuid()
            .times(1)
            .returning(|| Uuid::from_u128(0xAB));
        let new_id = ConversationId::new(Uuid::from_u128(0xAB));
        let found = conversation(new_id, vec![participant(ADA), participant(BOB)]);
        let answer = found.clone();
        m.conversations
            .expect_find_or_create_one_to_one()
            .with(
                eq(OneToOnePair::new(user(BOB), user(ADA)).unwrap()),
                eq(new_id),
                eq(NOW),
            )
            .times(1)
            .return_once(move |_, _, _| Ok((answer, created)));
        let joins = usize::from(created == Created::New);
        for who in [ADA, BOB] {
            m.publisher
                .expect_join_conversation()
                .with(eq(user(who)), eq(new_id))
                .times(joins)
                .returning(|_, _| Ok(()));
        }
        m.publisher.expect_publish().never();

        let got = run(m
            .services()
            .conversations
            .create_one_to_one(user(BOB), user(ADA)))
        .unwrap();

        assert_eq!(got, (found, created));
    }
}

fn entry(c: u128, other: u128, blocked_by_me: bool, blocked_me: bool) -> ChatListEntry {
    let mut other = participant(other);
    other.name = Some(name("Other"));
    ChatListEntry {
        conversation_id: conv(c),
        kind: ConversationKind::OneToOne,
        participants: vec![participant(ADA), other],
        last_message: None,
        unread_count: 0,
        muted: false,
        blocked_by_me,
        blocked_me,
        updated_at: NOW,
    }
}

#[test]
fn the_chat_list_hides_presence_where_a_block_stands() {
    let mut m = Mocks::new();
    let limit = PageLimit::new(20, PageLimit::CHAT_LIST_MAX).unwrap();
    m.conversations
        .expect_list_chat_list()
        .with(eq(user(ADA)), eq(limit), eq(40), eq(NOW))
        .times(1)
        .returning(|_, _, _, _| {
            Ok(ChatListPage {
                items: vec![
                    entry(1, BOB, false, false),
                    entry(2, CAROL, true, false),
                    entry(3, DAN, false, true),
                ],
                total: 43,
            })
        });
    m.presence
        .expect_fetch_presence()
        .with(eq(vec![user(ADA), user(BOB), user(CAROL), user(DAN)]))
        .times(1)
        .returning(|users| Ok(users.into_iter().map(|u| (u, Online)).collect()));

    let list = run(m.services().conversations.chat_list(user(ADA), limit, 40)).unwrap();

    assert_eq!(list.total, 43);
    let others: Vec<_> = list
        .items
        .iter()
        .map(|i| {
            let p = i
                .participants
                .iter()
                .find(|p| p.user_id != user(ADA))
                .unwrap();
            (
                i.entry.conversation_id,
                p.user_id,
                p.presence,
                p.name.clone(),
            )
        })
        .collect();
    assert_eq!(
        others,
        vec![
            (conv(1), user(BOB), Online, Some(name("Other"))),
            (conv(2), user(CAROL), Offline, Some(name("Other"))),
            (conv(3), user(DAN), Offline, Some(name("Other"))),
        ]
    );
}

#[test]
fn the_chat_list_shows_users_the_store_does_not_know_as_offline() {
    let mut m = Mocks::new();
    m.conversations
        .expect_list_chat_list()
        .returning(|_, _, _, _| {
            Ok(ChatListPage {
                items: vec![entry(1, BOB, false, false), entry(2, CAROL, false, false)],
                total: 2,
            })
        });
    m.presence
        .expect_fetch_presence()
        .returning(|_| Ok(BTreeMap::from([(user(BOB), Away)])));
    let list =
        run(m
            .services()
            .conversations
            .chat_list(user(ADA), PageLimit::CHAT_LIST_DEFAULT, 0))
        .unwrap();
    let presence: Vec<_> = list
        .items
        .iter()
        .map(|i| i.participants[1].presence)
        .collect();
    assert_eq!(presence, vec![Away, Offline]);
}

#[test]
fn an_empty_chat_list_asks_no_presence() {
    let mut m = Mocks::new();
    m.conversations
        .expect_list_chat_list()
        .returning(|_, _, _, _| {
            Ok(ChatListPage {
                items: vec![],
                total: 0,
            })
        });
    m.presence.expect_fetch_presence().never();
    let list =
        run(m
            .services()
            .conversations
            .chat_list(user(ADA), PageLimit::CHAT_LIST_DEFAULT, 0))
        .unwrap();
    assert!(list.items.is_empty());
}

fn query() -> HistoryQuery {
    HistoryQuery {
        limit: PageLimit::HISTORY_DEFAULT,
        anchor: HistoryAnchor::Newest { offset: 0 },
        from: None,
        to: None,
    }
}

#[test]
fn history_lists_who_read_each_message_the_sender_excepted() {
    let mut m = Mocks::new();
    let mut ada = participant(ADA);
    ada.name = Some(name("Ada"));
    ada.last_read_sequence = seq(3);
    let mut bob = participant(BOB);
    bob.last_read_sequence = seq(1);
    m.with_conversation(&conversation(conv(1), vec![ada, bob]));
    m.messages
        .expect_list_history()
        .with(eq(conv(1)), eq(query()))
        .times(1)
        .returning(|c, _| {
            Ok(HistoryPage {
                items: vec![
                    stored(msg_id(1), c, ADA, 1),
                    stored(msg_id(2), c, ADA, 2),
                    stored(msg_id(3), c, BOB, 3),
                    stored(msg_id(4), c, BOB, 4),
                ],
                has_more: true,
            })
        });

    let view = run(m
        .services()
        .conversations
        .history(user(BOB), conv(1), query()))
    .unwrap();

    assert!(view.has_more);
    let read_by: Vec<_> = view
        .items
        .iter()
        .map(|h| (h.message.server_sequence, h.read_by.clone()))
        .collect();
    assert_eq!(
        read_by,
        vec![
            (seq(1), vec![user(BOB)]),
            (seq(2), vec![]),
            (seq(3), vec![user(ADA)]),
            (seq(4), vec![]),
        ]
    );
    assert_eq!(view.items[0].message.sender_name, Some(name("Ada")));
    assert_eq!(view.items[2].message.sender_name, None);
}

#[test]
fn history_is_refused_to_non_participants() {
    let mut left = participant(ADA);
    left.left_at = Some(Timestamp::from_millis(5));
    let cases = [
        ("no such conversation", None),
        (
            "someone else's",
            Some(conversation(
                conv(1),
                vec![participant(BOB), participant(CAROL)],
            )),
        ),
        (
            "left it",
            Some(conversation(conv(1), vec![left, participant(BOB)])),
        ),
    ];
    for (case, found) in cases {
        let mut m = Mocks::new();
        m.conversations
            .expect_find_conversation()
            .return_once(move |_| Ok(found));
        m.messages.expect_list_history().never();
        let got = run(m
            .services()
            .conversations
            .history(user(ADA), conv(1), query()));
        assert!(
            matches!(got, Err(HistoryError::NotParticipant)),
            "{case}: {got:?}"
        );
    }
}

#[test]
fn the_block_and_mute_lists_are_the_users_own_with_mutes_in_force_now() {
    let mut m = Mocks::new();
    m.blocks
        .expect_list_user_blocks()
        .with(eq(user(ADA)))
        .returning(|_| Ok(vec![block(conv(1), ADA, BOB)]));
    let mute = Mute {
        conversation_id: conv(2),
        user_id: user(ADA),
        muted_at: Timestamp::EPOCH,
        muted_until: None,
    };
    let answer = mute.clone();
    m.mutes
        .expect_list_user_mutes()
        .with(eq(user(ADA)), eq(NOW))
        .return_once(move |_, _| Ok(vec![answer]));
    let services = m.services();
    assert_eq!(
        run(services.conversations.list_blocks(user(ADA))).unwrap(),
        vec![block(conv(1), ADA, BOB)]
    );
    assert_eq!(
        run(services.conversations.list_mutes(user(ADA))).unwrap(),
        vec![mute]
    );
}
