//! [`ConversationRepository`](chat_domain::ports::ConversationRepository) checks: creation,
//! lookup and heads.

use std::collections::BTreeSet;

use chat_domain::{
    ConversationKind, ServerSequence, conversation::Created, resume::ConversationHead,
};

use super::fixtures::{at, conversation, conversation_id, name, pair, send, user};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    creating_a_one_to_one_conversation_creates_both_users_and_participants(r).await;
    the_same_pair_in_either_order_finds_the_existing_conversation(r).await;
    participants_carry_the_users_names(r).await;
    concurrent_creations_for_one_pair_yield_one_conversation(r).await;
    an_unknown_conversation_is_not_found(r).await;
    a_conversation_reports_its_newest_sequence(r).await;
    heads_list_every_conversation_of_the_user_with_its_newest_sequence(r).await;
}

async fn creating_a_one_to_one_conversation_creates_both_users_and_participants(r: &Repositories) {
    let (ada, bob, id) = (user(), user(), conversation_id());
    let (conv, created) = r
        .conversations
        .find_or_create_one_to_one(pair(ada, bob), id, at(7))
        .await
        .unwrap();
    assert_eq!(created, Created::New);
    assert_eq!(conv.id, id, "a new conversation takes the given id");
    assert_eq!(conv.kind, ConversationKind::OneToOne);
    assert_eq!(conv.created_at, at(7));
    assert_eq!(conv.last_sequence, ServerSequence::ZERO);
    let members: BTreeSet<_> = conv.participants.iter().map(|p| p.user_id).collect();
    assert_eq!(members, BTreeSet::from([ada, bob]));
    for p in &conv.participants {
        assert_eq!(p.joined_at, at(7));
        assert!(p.is_active());
        assert_eq!(p.last_read_sequence, ServerSequence::ZERO);
        assert_eq!(p.last_read_at, None);
        assert_eq!(p.name, None, "both users are new, unnamed");
    }
    assert_eq!(
        r.conversations.find_conversation(id).await.unwrap(),
        Some(conv)
    );
    // The users exist: naming one shows in the conversation.
    r.users
        .upsert_user(bob, Some(name("Bob")), at(8))
        .await
        .unwrap();
    let found = r
        .conversations
        .find_conversation(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.participant(bob).unwrap().name, Some(name("Bob")));
}

async fn the_same_pair_in_either_order_finds_the_existing_conversation(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let first = conversation(r, ada, bob, at(0)).await;
    let other_id = conversation_id();
    let (again, created) = r
        .conversations
        .find_or_create_one_to_one(pair(bob, ada), other_id, at(99))
        .await
        .unwrap();
    assert_eq!(created, Created::Existing);
    assert_eq!(again, first, "the existing conversation, unchanged");
    assert_eq!(
        r.conversations.find_conversation(other_id).await.unwrap(),
        None
    );
}

async fn participants_carry_the_users_names(r: &Repositories) {
    let (ada, bob) = (user(), user());
    r.users
        .upsert_user(ada, Some(name("Ada")), at(0))
        .await
        .unwrap();
    let conv = conversation(r, ada, bob, at(1)).await;
    assert_eq!(conv.participant(ada).unwrap().name, Some(name("Ada")));
    assert_eq!(conv.participant(bob).unwrap().name, None);
}

async fn concurrent_creations_for_one_pair_yield_one_conversation(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let repo = r.conversations.clone();
            let p = if i % 2 == 0 {
                pair(ada, bob)
            } else {
                pair(bob, ada)
            };
            tokio::spawn(async move {
                repo.find_or_create_one_to_one(p, conversation_id(), at(i))
                    .await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    let mut new = 0;
    for t in tasks {
        let (conv, created) = t.await.unwrap().unwrap();
        ids.insert(conv.id);
        new += usize::from(created == Created::New);
        assert_eq!(conv.participants.len(), 2);
    }
    assert_eq!(ids.len(), 1, "one conversation per pair");
    assert_eq!(new, 1, "exactly one call created it");
}

async fn an_unknown_conversation_is_not_found(r: &Repositories) {
    assert_eq!(
        r.conversations
            .find_conversation(conversation_id())
            .await
            .unwrap(),
        None
    );
}

async fn a_conversation_reports_its_newest_sequence(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    send(r, conv.id, ada, at(1)).await;
    send(r, conv.id, bob, at(2)).await;
    let found = r
        .conversations
        .find_conversation(conv.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.last_sequence, ServerSequence::new(2));
}

async fn heads_list_every_conversation_of_the_user_with_its_newest_sequence(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let with_bob = conversation(r, ada, bob, at(0)).await;
    let with_cy = conversation(r, ada, cy, at(0)).await;
    let not_ada = conversation(r, bob, cy, at(0)).await;
    send(r, with_bob.id, bob, at(1)).await;
    send(r, with_bob.id, ada, at(2)).await;
    send(r, not_ada.id, bob, at(3)).await;

    let mut heads = r.conversations.list_conversation_heads(ada).await.unwrap();
    heads.sort_by_key(|h| h.conversation_id);
    let mut want = vec![
        ConversationHead {
            conversation_id: with_bob.id,
            last_sequence: ServerSequence::new(2),
        },
        ConversationHead {
            conversation_id: with_cy.id,
            last_sequence: ServerSequence::ZERO,
        },
    ];
    want.sort_by_key(|h| h.conversation_id);
    assert_eq!(heads, want);
    assert!(
        r.conversations
            .list_conversation_heads(user())
            .await
            .unwrap()
            .is_empty()
    );
}
