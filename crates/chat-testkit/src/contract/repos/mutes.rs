//! [`MuteRepository`](chat_domain::ports::MuteRepository) checks.

use chat_domain::{ConversationId, Mute, UserId};

use super::fixtures::{at, conversation, user};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    a_mute_is_stored_and_found(r).await;
    a_later_mute_replaces_the_earlier_one(r).await;
    an_expired_mute_is_found_but_not_listed(r).await;
    a_users_mutes_in_force_are_listed_oldest_first(r).await;
    lifting_a_mute_returns_it_once(r).await;
}

fn mute(conv: ConversationId, who: UserId, since: i64, until: Option<i64>) -> Mute {
    Mute {
        conversation_id: conv,
        user_id: who,
        muted_at: at(since),
        muted_until: until.map(at),
    }
}

async fn a_mute_is_stored_and_found(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    assert_eq!(r.mutes.find_mute(conv, ada).await.unwrap(), None);
    let m = mute(conv, ada, 1_000, Some(2_500));
    assert_eq!(r.mutes.upsert_mute(m.clone()).await.unwrap(), m);
    assert_eq!(r.mutes.find_mute(conv, ada).await.unwrap(), Some(m));
    assert_eq!(
        r.mutes.find_mute(conv, bob).await.unwrap(),
        None,
        "per user"
    );
}

async fn a_later_mute_replaces_the_earlier_one(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    r.mutes
        .upsert_mute(mute(conv, ada, 10, Some(100)))
        .await
        .unwrap();
    let forever = mute(conv, ada, 20, None);
    assert_eq!(r.mutes.upsert_mute(forever.clone()).await.unwrap(), forever);
    assert_eq!(r.mutes.find_mute(conv, ada).await.unwrap(), Some(forever));
    let bounded = mute(conv, ada, 30, Some(5_000));
    r.mutes.upsert_mute(bounded.clone()).await.unwrap();
    assert_eq!(r.mutes.find_mute(conv, ada).await.unwrap(), Some(bounded));
}

async fn an_expired_mute_is_found_but_not_listed(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let m = mute(conv, ada, 0, Some(1_000));
    r.mutes.upsert_mute(m.clone()).await.unwrap();
    assert_eq!(
        r.mutes.list_user_mutes(ada, at(999)).await.unwrap(),
        vec![m.clone()]
    );
    assert!(
        r.mutes
            .list_user_mutes(ada, at(1_000))
            .await
            .unwrap()
            .is_empty(),
        "over at mutedUntil"
    );
    assert!(
        r.mutes
            .list_user_mutes(ada, at(1_001))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        r.mutes.find_mute(conv, ada).await.unwrap(),
        Some(m),
        "expired or not"
    );
}

async fn a_users_mutes_in_force_are_listed_oldest_first(r: &Repositories) {
    let (ada, bob, cy, dee) = (user(), user(), user(), user());
    let with_bob = conversation(r, ada, bob, at(0)).await.id;
    let with_cy = conversation(r, ada, cy, at(0)).await.id;
    let with_dee = conversation(r, ada, dee, at(0)).await.id;
    let newest = mute(with_bob, ada, 2_000, None);
    let oldest = mute(with_cy, ada, 1_000, Some(10_000));
    let expired = mute(with_dee, ada, 500, Some(1_999));
    for m in [
        newest.clone(),
        oldest.clone(),
        expired,
        mute(with_bob, bob, 1, None),
    ] {
        r.mutes.upsert_mute(m).await.unwrap();
    }
    assert_eq!(
        r.mutes.list_user_mutes(ada, at(2_000)).await.unwrap(),
        vec![oldest, newest.clone()]
    );
    assert_eq!(
        r.mutes.list_user_mutes(ada, at(10_000)).await.unwrap(),
        vec![newest]
    );
    assert!(
        r.mutes
            .list_user_mutes(user(), at(0))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn lifting_a_mute_returns_it_once(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let m = mute(conv, ada, 5, None);
    r.mutes.upsert_mute(m.clone()).await.unwrap();
    assert_eq!(r.mutes.delete_mute(conv, bob).await.unwrap(), None);
    assert_eq!(r.mutes.delete_mute(conv, ada).await.unwrap(), Some(m));
    assert_eq!(r.mutes.delete_mute(conv, ada).await.unwrap(), None);
    assert_eq!(r.mutes.find_mute(conv, ada).await.unwrap(), None);
    assert!(
        r.mutes
            .list_user_mutes(ada, at(10))
            .await
            .unwrap()
            .is_empty()
    );
}
