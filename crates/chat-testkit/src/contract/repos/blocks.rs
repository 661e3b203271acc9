//! [`BlockRepository`](chat_domain::ports::BlockRepository) checks.

use chat_domain::{Block, ConversationId, UserId};

use super::fixtures::{at, conversation, user};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    a_block_is_stored_and_listed_for_its_conversation(r).await;
    blocking_again_returns_the_standing_block_unchanged(r).await;
    blocks_in_both_directions_stand_apart(r).await;
    a_users_blocks_are_those_they_made_oldest_first(r).await;
    blocks_involving_a_user_include_made_and_received(r).await;
    lifting_a_block_returns_it_once(r).await;
}

fn block(conv: ConversationId, by: UserId, of: UserId, ms: i64) -> Block {
    Block {
        conversation_id: conv,
        blocker_id: by,
        blocked_id: of,
        blocked_at: at(ms),
    }
}

async fn a_block_is_stored_and_listed_for_its_conversation(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    assert!(
        r.blocks
            .list_conversation_blocks(conv)
            .await
            .unwrap()
            .is_empty()
    );
    let b = block(conv, ada, bob, 1_500);
    assert_eq!(r.blocks.insert_block(b.clone()).await.unwrap(), b);
    assert_eq!(
        r.blocks.list_conversation_blocks(conv).await.unwrap(),
        vec![b]
    );
}

async fn blocking_again_returns_the_standing_block_unchanged(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let first = block(conv, ada, bob, 10);
    r.blocks.insert_block(first.clone()).await.unwrap();
    let again = r
        .blocks
        .insert_block(block(conv, ada, bob, 20))
        .await
        .unwrap();
    assert_eq!(again, first, "the original time stays");
    assert_eq!(
        r.blocks.list_conversation_blocks(conv).await.unwrap(),
        vec![first]
    );
}

async fn blocks_in_both_directions_stand_apart(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let ada_blocks = block(conv, ada, bob, 10);
    let bob_blocks = block(conv, bob, ada, 20);
    r.blocks.insert_block(ada_blocks.clone()).await.unwrap();
    r.blocks.insert_block(bob_blocks.clone()).await.unwrap();
    let mut listed = r.blocks.list_conversation_blocks(conv).await.unwrap();
    listed.sort_by_key(|b| b.blocked_at);
    assert_eq!(listed, vec![ada_blocks.clone(), bob_blocks]);
    r.blocks.delete_block(conv, bob, ada).await.unwrap();
    assert_eq!(
        r.blocks.list_conversation_blocks(conv).await.unwrap(),
        vec![ada_blocks]
    );
}

async fn a_users_blocks_are_those_they_made_oldest_first(r: &Repositories) {
    let (ada, bob, cy, dee) = (user(), user(), user(), user());
    let with_bob = conversation(r, ada, bob, at(0)).await.id;
    let with_cy = conversation(r, ada, cy, at(0)).await.id;
    let with_dee = conversation(r, ada, dee, at(0)).await.id;
    let newer = block(with_bob, ada, bob, 2_000);
    let older = block(with_cy, ada, cy, 1_999);
    r.blocks.insert_block(newer.clone()).await.unwrap();
    r.blocks.insert_block(older.clone()).await.unwrap();
    r.blocks
        .insert_block(block(with_dee, dee, ada, 5))
        .await
        .unwrap(); // received, not made
    assert_eq!(
        r.blocks.list_user_blocks(ada).await.unwrap(),
        vec![older, newer]
    );
    assert!(r.blocks.list_user_blocks(user()).await.unwrap().is_empty());
}

async fn blocks_involving_a_user_include_made_and_received(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let with_bob = conversation(r, ada, bob, at(0)).await.id;
    let with_cy = conversation(r, ada, cy, at(0)).await.id;
    let not_ada = conversation(r, bob, cy, at(0)).await.id;
    let made = block(with_bob, ada, bob, 1);
    let received = block(with_cy, cy, ada, 2);
    for b in [made.clone(), received.clone(), block(not_ada, bob, cy, 3)] {
        r.blocks.insert_block(b).await.unwrap();
    }
    let mut involving = r.blocks.list_blocks_involving(ada).await.unwrap();
    involving.sort_by_key(|b| b.blocked_at);
    assert_eq!(involving, vec![made, received]);
}

async fn lifting_a_block_returns_it_once(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let b = block(conv, ada, bob, 10);
    r.blocks.insert_block(b.clone()).await.unwrap();
    assert_eq!(
        r.blocks.delete_block(conv, bob, ada).await.unwrap(),
        None,
        "the other direction never stood"
    );
    assert_eq!(
        r.blocks.delete_block(conv, ada, bob).await.unwrap(),
        Some(b)
    );
    assert_eq!(r.blocks.delete_block(conv, ada, bob).await.unwrap(), None);
    assert!(
        r.blocks
            .list_conversation_blocks(conv)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(r.blocks.list_user_blocks(ada).await.unwrap().is_empty());
    assert!(
        r.blocks
            .list_blocks_involving(bob)
            .await
            .unwrap()
            .is_empty()
    );
    let again = block(conv, ada, bob, 30);
    assert_eq!(
        r.blocks.insert_block(again.clone()).await.unwrap(),
        again,
        "a lifted block can stand again, anew"
    );
}
