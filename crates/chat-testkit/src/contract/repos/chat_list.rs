//! The chat list: order, paging, and what each entry says.

use chat_domain::{
    Block, ConversationId, Mute, ServerSequence, UserId, conversation::ChatListEntry,
};

use super::fixtures::{at, conversation, limit, name, send, user};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    a_user_without_conversations_has_an_empty_chat_list(r).await;
    the_chat_list_is_ordered_by_newest_activity_and_paged(r).await;
    an_entry_carries_participants_last_message_and_unread_count(r).await;
    an_entry_is_muted_only_while_a_mute_is_in_force(r).await;
    an_entry_says_who_blocked_whom(r).await;
}

fn ids(items: &[ChatListEntry]) -> Vec<ConversationId> {
    items.iter().map(|e| e.conversation_id).collect()
}

async fn entry(
    r: &Repositories,
    viewer: UserId,
    conversation: ConversationId,
    now: i64,
) -> ChatListEntry {
    let page = r
        .conversations
        .list_chat_list(viewer, limit(100), 0, at(now))
        .await
        .unwrap();
    page.items
        .into_iter()
        .find(|e| e.conversation_id == conversation)
        .expect("the conversation is in the viewer's chat list")
}

async fn a_user_without_conversations_has_an_empty_chat_list(r: &Repositories) {
    let page = r
        .conversations
        .list_chat_list(user(), limit(20), 0, at(0))
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.total, 0);
}

async fn the_chat_list_is_ordered_by_newest_activity_and_paged(r: &Repositories) {
    let (ada, bob, cy, dee) = (user(), user(), user(), user());
    // Instants with and without a fraction of a second, out of creation order.
    let old_but_active = conversation(r, ada, bob, at(0)).await;
    let newest_created = conversation(r, ada, cy, at(2_000)).await;
    let middle = conversation(r, ada, dee, at(1_000)).await;
    send(r, old_but_active.id, bob, at(2_500)).await;
    send(r, middle.id, dee, at(1_999)).await;
    conversation(r, bob, cy, at(9_000)).await; // not ada's

    let want = vec![old_but_active.id, newest_created.id, middle.id];
    let page = r
        .conversations
        .list_chat_list(ada, limit(20), 0, at(10_000))
        .await
        .unwrap();
    assert_eq!(ids(&page.items), want);
    assert_eq!(page.total, 3);
    let updated: Vec<_> = page.items.iter().map(|e| e.updated_at).collect();
    assert_eq!(
        updated,
        vec![at(2_500), at(2_000), at(1_999)],
        "last message, else creation"
    );

    let first = r
        .conversations
        .list_chat_list(ada, limit(2), 0, at(10_000))
        .await
        .unwrap();
    assert_eq!(ids(&first.items), want[..2].to_vec());
    assert_eq!(
        first.total, 3,
        "the total counts every conversation, not the page"
    );
    let second = r
        .conversations
        .list_chat_list(ada, limit(2), 2, at(10_000))
        .await
        .unwrap();
    assert_eq!(ids(&second.items), want[2..].to_vec());
    let past = r
        .conversations
        .list_chat_list(ada, limit(2), 3, at(10_000))
        .await
        .unwrap();
    assert!(past.items.is_empty());
    assert_eq!(past.total, 3);

    send(r, middle.id, ada, at(3_000)).await;
    let page = r
        .conversations
        .list_chat_list(ada, limit(1), 0, at(10_000))
        .await
        .unwrap();
    assert_eq!(
        ids(&page.items),
        vec![middle.id],
        "a new message moves it to the top"
    );
}

async fn an_entry_carries_participants_last_message_and_unread_count(r: &Repositories) {
    let (ada, bob) = (user(), user());
    r.users
        .upsert_user(bob, Some(name("Bob")), at(0))
        .await
        .unwrap();
    let conv = conversation(r, ada, bob, at(0)).await;
    let empty = entry(r, ada, conv.id, 1).await;
    assert_eq!(empty.last_message, None);
    assert_eq!(empty.unread_count, 0);
    assert_eq!(empty.updated_at, at(0));

    send(r, conv.id, bob, at(10)).await;
    send(r, conv.id, ada, at(11)).await;
    let last = send(r, conv.id, bob, at(12)).await;
    let e = entry(r, ada, conv.id, 20).await;
    assert_eq!(e.kind, conv.kind);
    assert_eq!(e.last_message.as_ref(), Some(&last));
    assert_eq!(e.last_message.unwrap().sender_name, Some(name("Bob")));
    assert_eq!(e.unread_count, 2, "only others' messages");
    assert_eq!(e.updated_at, at(12));
    assert_eq!(e.participants.len(), 2);
    assert_eq!(
        e.participants
            .iter()
            .find(|p| p.user_id == bob)
            .unwrap()
            .name,
        Some(name("Bob"))
    );
    assert!(!e.muted && !e.blocked_by_me && !e.blocked_me);

    r.conversations
        .advance_read_marker(conv.id, ada, ServerSequence::new(3), at(30))
        .await
        .unwrap();
    let e = entry(r, ada, conv.id, 40).await;
    assert_eq!(e.unread_count, 0);
    let me = e.participants.iter().find(|p| p.user_id == ada).unwrap();
    assert_eq!(me.last_read_sequence, ServerSequence::new(3));
    assert_eq!(
        entry(r, bob, conv.id, 40).await.unread_count,
        1,
        "ada's 2nd message"
    );
}

async fn an_entry_is_muted_only_while_a_mute_is_in_force(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    let mute = |until: Option<i64>| Mute {
        conversation_id: conv.id,
        user_id: ada,
        muted_at: at(100),
        muted_until: until.map(at),
    };
    assert!(!entry(r, ada, conv.id, 150).await.muted);
    r.mutes.upsert_mute(mute(Some(1_500))).await.unwrap();
    assert!(entry(r, ada, conv.id, 1_499).await.muted, "before the end");
    assert!(
        !entry(r, ada, conv.id, 1_500).await.muted,
        "ends at mutedUntil"
    );
    assert!(
        !entry(r, bob, conv.id, 1_000).await.muted,
        "a mute is the muter's only"
    );
    r.mutes.upsert_mute(mute(None)).await.unwrap();
    assert!(
        entry(r, ada, conv.id, 1_000_000).await.muted,
        "without an end, until unmuted"
    );
    r.mutes.delete_mute(conv.id, ada).await.unwrap();
    assert!(!entry(r, ada, conv.id, 150).await.muted);
}

async fn an_entry_says_who_blocked_whom(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    let elsewhere = conversation(r, ada, cy, at(0)).await;
    r.blocks
        .insert_block(Block {
            conversation_id: conv.id,
            blocker_id: ada,
            blocked_id: bob,
            blocked_at: at(5),
        })
        .await
        .unwrap();
    let flags = |e: ChatListEntry| (e.blocked_by_me, e.blocked_me);
    assert_eq!(flags(entry(r, ada, conv.id, 10).await), (true, false));
    assert_eq!(flags(entry(r, bob, conv.id, 10).await), (false, true));
    assert_eq!(
        flags(entry(r, ada, elsewhere.id, 10).await),
        (false, false),
        "per conversation"
    );
    r.blocks.delete_block(conv.id, ada, bob).await.unwrap();
    assert_eq!(flags(entry(r, bob, conv.id, 10).await), (false, false));
}
