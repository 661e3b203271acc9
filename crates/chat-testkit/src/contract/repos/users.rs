//! [`UserRepository`](chat_domain::ports::UserRepository) checks, through what shows a user:
//! their name as a participant and as the sender of messages. (When a user was first seen is
//! stored but read by no port; the SQL adapters' own tests check it.)

use chat_domain::{ConversationId, DisplayName, UserId, ports::Revocation};

use super::fixtures::{at, conversation, name, send, send_context, user};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    a_user_seen_without_a_name_stays_unnamed(r).await;
    a_user_is_created_once_and_a_repeat_changes_nothing(r).await;
    a_given_name_is_set_and_an_absent_name_keeps_the_current_one(r).await;
    messages_show_their_senders_current_name(r).await;
    a_revocation_point_only_moves_forward_and_is_listed_in_order(r).await;
}

/// The name `who` shows as a participant of `conv`.
async fn shown(r: &Repositories, conv: ConversationId, who: UserId) -> Option<DisplayName> {
    r.conversations
        .find_conversation(conv)
        .await
        .unwrap()
        .expect("the conversation exists")
        .participant(who)
        .expect("a participant")
        .name
        .clone()
}

async fn a_user_seen_without_a_name_stays_unnamed(r: &Repositories) {
    let (ada, bob) = (user(), user());
    r.users.upsert_user(ada, None, at(1)).await.unwrap();
    let conv = conversation(r, ada, bob, at(2)).await.id;
    assert_eq!(shown(r, conv, ada).await, None);
    assert_eq!(
        shown(r, conv, bob).await,
        None,
        "first seen by the conversation"
    );
}

async fn a_user_is_created_once_and_a_repeat_changes_nothing(r: &Repositories) {
    let (ada, bob) = (user(), user());
    r.users
        .upsert_user(ada, Some(name("Ada")), at(1))
        .await
        .unwrap();
    let conv = conversation(r, ada, bob, at(2)).await.id;
    let before = send_context(r, conv).await;
    r.users.upsert_user(ada, None, at(5_000)).await.unwrap();
    r.users
        .upsert_user(ada, Some(name("Ada")), at(6_000))
        .await
        .unwrap();
    r.users.upsert_user(bob, None, at(7_000)).await.unwrap();
    assert_eq!(
        send_context(r, conv).await,
        before,
        "nothing changed, not even the version"
    );
}

async fn a_given_name_is_set_and_an_absent_name_keeps_the_current_one(r: &Repositories) {
    let (ada, bob) = (user(), user());
    r.users
        .upsert_user(ada, Some(name("Ada")), at(10))
        .await
        .unwrap();
    let conv = conversation(r, ada, bob, at(11)).await.id;
    assert_eq!(shown(r, conv, ada).await, Some(name("Ada")));

    r.users.upsert_user(ada, None, at(20)).await.unwrap();
    assert_eq!(
        shown(r, conv, ada).await,
        Some(name("Ada")),
        "no name given: the name stays"
    );

    r.users
        .upsert_user(ada, Some(name("Ada Lovelace")), at(30))
        .await
        .unwrap();
    assert_eq!(
        shown(r, conv, ada).await,
        Some(name("Ada Lovelace")),
        "a new name replaces the old"
    );
    assert_eq!(shown(r, conv, bob).await, None, "only ada's");
}

async fn messages_show_their_senders_current_name(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let before = send(r, conv, ada, at(1)).await;
    assert_eq!(before.sender_name, None);
    r.users
        .upsert_user(ada, Some(name("Ada")), at(2))
        .await
        .unwrap();
    let after = send(r, conv, ada, at(3)).await;
    for id in [before.id, after.id] {
        let found = r.messages.find_message(id).await.unwrap().unwrap();
        assert_eq!(
            found.sender_name,
            Some(name("Ada")),
            "read with the name now"
        );
    }
}

async fn a_revocation_point_only_moves_forward_and_is_listed_in_order(r: &Repositories) {
    let (ada, bob, never_seen) = (user(), user(), user());
    r.users.upsert_user(ada, None, at(1)).await.unwrap();
    assert_eq!(
        r.users.revoked_at(ada).await.unwrap(),
        None,
        "never revoked"
    );
    assert_eq!(
        r.users.revoked_at(never_seen).await.unwrap(),
        None,
        "unknown"
    );

    r.users.revoke_tokens(ada, at(9_000)).await.unwrap();
    r.users.revoke_tokens(ada, at(5_000)).await.unwrap();
    assert_eq!(
        r.users.revoked_at(ada).await.unwrap(),
        Some(at(9_000)),
        "an older point changes nothing"
    );
    // a user never seen is created by the revocation
    r.users.revoke_tokens(bob, at(7_000)).await.unwrap();
    assert_eq!(r.users.revoked_at(bob).await.unwrap(), Some(at(7_000)));
    let conv = conversation(r, bob, ada, at(8_000)).await.id;
    assert_eq!(
        shown(r, conv, bob).await,
        None,
        "the row was created, unnamed"
    );

    let ours = |list: Vec<Revocation>| -> Vec<Revocation> {
        list.into_iter()
            .filter(|x| x.user_id == ada || x.user_id == bob)
            .collect()
    };
    let all = ours(r.users.revocations_after(None, 1_000).await.unwrap());
    assert_eq!(
        all,
        vec![
            Revocation {
                user_id: bob,
                at: at(7_000)
            },
            Revocation {
                user_id: ada,
                at: at(9_000)
            },
        ],
        "oldest first"
    );
    let later = ours(
        r.users
            .revocations_after(Some(at(7_000)), 1_000)
            .await
            .unwrap(),
    );
    assert_eq!(
        later,
        vec![Revocation {
            user_id: ada,
            at: at(9_000)
        }],
        "strictly later"
    );
    r.users.revoke_tokens(bob, at(12_000)).await.unwrap();
    let later = ours(
        r.users
            .revocations_after(Some(at(9_000)), 1_000)
            .await
            .unwrap(),
    );
    assert_eq!(
        later,
        vec![Revocation {
            user_id: bob,
            at: at(12_000)
        }],
        "a point moved is listed again"
    );
    assert_eq!(
        r.users
            .revocations_after(Some(at(0)), 1)
            .await
            .unwrap()
            .len(),
        1,
        "at most limit"
    );
}
