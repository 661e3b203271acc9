//! [`fetch_send_context`](chat_domain::ports::ConversationRepository::fetch_send_context) and
//! the context version: what a send checks, and every write that moves it.

use chat_domain::{Block, ConversationId, Mute, UserId, ports::ContextVersion};

use super::fixtures::{at, conversation, conversation_id, name, send, send_context, user, version};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    an_unknown_conversation_has_no_send_context(r).await;
    a_send_context_holds_named_participants_blocks_and_mutes(r).await;
    appends_and_read_markers_leave_the_version_alone(r).await;
    a_new_block_and_a_lifted_one_move_the_version_a_repeat_does_not(r).await;
    every_mute_and_a_lifted_one_move_the_version(r).await;
    a_changed_name_moves_every_conversation_of_the_user(r).await;
}

fn block(conv: ConversationId, by: UserId, of: UserId, ms: i64) -> Block {
    Block {
        conversation_id: conv,
        blocker_id: by,
        blocked_id: of,
        blocked_at: at(ms),
    }
}

fn mute(conv: ConversationId, who: UserId, until: Option<i64>) -> Mute {
    Mute {
        conversation_id: conv,
        user_id: who,
        muted_at: at(5),
        muted_until: until.map(at),
    }
}

/// Asserts that `step` moved the version from `before` (and returns the new one).
async fn moved(
    r: &Repositories,
    conv: ConversationId,
    before: ContextVersion,
    step: &str,
) -> ContextVersion {
    let after = version(r, conv).await;
    assert!(
        after > before,
        "{step} moves the version ({before:?} → {after:?})"
    );
    after
}

async fn unmoved(r: &Repositories, conv: ConversationId, before: ContextVersion, step: &str) {
    assert_eq!(
        version(r, conv).await,
        before,
        "{step} leaves the version alone"
    );
}

async fn an_unknown_conversation_has_no_send_context(r: &Repositories) {
    let found = r.conversations.fetch_send_context(conversation_id()).await;
    assert_eq!(found.unwrap(), None);
}

async fn a_send_context_holds_named_participants_blocks_and_mutes(r: &Repositories) {
    let (ada, bob) = (user(), user());
    r.users
        .upsert_user(ada, Some(name("Ada")), at(0))
        .await
        .unwrap();
    let conv = conversation(r, ada, bob, at(0)).await.id;
    send(r, conv, bob, at(1)).await;
    let blocked = block(conv, ada, bob, 10);
    r.blocks.insert_block(blocked.clone()).await.unwrap();
    let expired = mute(conv, bob, Some(6));
    let forever = mute(conv, ada, None);
    for m in [expired.clone(), forever.clone()] {
        r.mutes.upsert_mute(m).await.unwrap();
    }
    let ctx = send_context(r, conv).await;
    let found = r.conversations.find_conversation(conv).await.unwrap();
    assert_eq!(
        Some(&ctx.conversation),
        found.as_ref(),
        "as find_conversation"
    );
    let names = |u| ctx.conversation.participant(u).map(|p| p.name.clone());
    assert_eq!(names(ada), Some(Some(name("Ada"))));
    assert_eq!(names(bob), Some(None));
    assert_eq!(ctx.conversation.last_sequence.get(), 1);
    assert_eq!(ctx.blocks, vec![blocked]);
    let mut mutes = ctx.mutes.clone();
    mutes.sort_by_key(|m| m.user_id);
    let mut want = vec![expired, forever];
    want.sort_by_key(|m| m.user_id);
    assert_eq!(mutes, want, "every participant's mute, expired or not");
    let other = conversation(r, ada, user(), at(0)).await.id;
    let clean = send_context(r, other).await;
    assert!(
        clean.blocks.is_empty() && clean.mutes.is_empty(),
        "per conversation"
    );
}

async fn appends_and_read_markers_leave_the_version_alone(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let v = version(r, conv).await;
    let last = send(r, conv, ada, at(1)).await;
    unmoved(r, conv, v, "an append").await;
    r.conversations
        .advance_read_marker(conv, bob, last.server_sequence, at(2))
        .await
        .unwrap();
    unmoved(r, conv, v, "a read marker").await;
}

async fn a_new_block_and_a_lifted_one_move_the_version_a_repeat_does_not(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let elsewhere = conversation(r, ada, user(), at(0)).await.id;
    let (v, other) = (version(r, conv).await, version(r, elsewhere).await);
    r.blocks
        .insert_block(block(conv, ada, bob, 1))
        .await
        .unwrap();
    let v = moved(r, conv, v, "a new block").await;
    r.blocks
        .insert_block(block(conv, ada, bob, 2))
        .await
        .unwrap();
    unmoved(r, conv, v, "blocking again").await;
    r.blocks
        .insert_block(block(conv, bob, ada, 3))
        .await
        .unwrap();
    let v = moved(r, conv, v, "a block the other way").await;
    assert!(
        r.blocks
            .delete_block(conv, ada, bob)
            .await
            .unwrap()
            .is_some()
    );
    let v = moved(r, conv, v, "a lifted block").await;
    assert!(
        r.blocks
            .delete_block(conv, ada, bob)
            .await
            .unwrap()
            .is_none()
    );
    unmoved(r, conv, v, "lifting a block that does not stand").await;
    unmoved(r, elsewhere, other, "a block in another conversation").await;
}

async fn every_mute_and_a_lifted_one_move_the_version(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let v = version(r, conv).await;
    r.mutes
        .upsert_mute(mute(conv, ada, Some(100)))
        .await
        .unwrap();
    let v = moved(r, conv, v, "a mute").await;
    r.mutes.upsert_mute(mute(conv, ada, None)).await.unwrap();
    let v = moved(r, conv, v, "a replacing mute").await;
    r.mutes.upsert_mute(mute(conv, ada, None)).await.unwrap();
    let v = moved(r, conv, v, "the same mute again").await;
    assert!(r.mutes.delete_mute(conv, ada).await.unwrap().is_some());
    let v = moved(r, conv, v, "a lifted mute").await;
    assert!(r.mutes.delete_mute(conv, ada).await.unwrap().is_none());
    unmoved(r, conv, v, "lifting a mute that does not stand").await;
}

async fn a_changed_name_moves_every_conversation_of_the_user(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let convs = [
        conversation(r, ada, bob, at(0)).await.id,
        conversation(r, ada, cy, at(0)).await.id,
    ];
    let theirs = conversation(r, bob, cy, at(0)).await.id;
    let mut vs = [version(r, convs[0]).await, version(r, convs[1]).await];
    let not_ada = version(r, theirs).await;
    r.users
        .upsert_user(ada, Some(name("Ada")), at(1))
        .await
        .unwrap();
    for (c, v) in convs.iter().zip(&mut vs) {
        *v = moved(r, *c, *v, "a first name").await;
    }
    r.users
        .upsert_user(ada, Some(name("Ada")), at(2))
        .await
        .unwrap();
    r.users.upsert_user(ada, None, at(3)).await.unwrap();
    for (c, v) in convs.iter().zip(&vs) {
        unmoved(r, *c, *v, "the same name, or none").await;
    }
    r.users
        .upsert_user(ada, Some(name("Ada L.")), at(4))
        .await
        .unwrap();
    for (c, v) in convs.iter().zip(&vs) {
        moved(r, *c, *v, "a new name").await;
    }
    let ctx = send_context(r, convs[1]).await;
    let shown = ctx
        .conversation
        .participant(ada)
        .and_then(|p| p.name.clone());
    assert_eq!(shown, Some(name("Ada L.")), "read with the new name");
    unmoved(r, theirs, not_ada, "another user's rename").await;
    r.users
        .upsert_user(user(), Some(name("New")), at(5))
        .await
        .unwrap();
}
