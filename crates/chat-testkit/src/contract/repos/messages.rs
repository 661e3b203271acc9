//! [`MessageRepository`](chat_domain::ports::MessageRepository) checks: appends, duplicates,
//! conflicts, lookups, read targets, pending messages and client sequences.

use chat_domain::{
    ClientSequence, MessageContent, RepoError, ServerSequence, Timestamp, message::AppendOutcome,
    read_marker::ReadTarget,
};

use super::fixtures::{
    append_created, at, conversation, device, message_id, name, new_message, numbered, send, user,
};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    appends_get_consecutive_sequences_from_one_per_conversation(r).await;
    an_appended_message_is_stored_as_given(r).await;
    a_resend_by_the_same_sender_is_a_duplicate_of_the_original(r).await;
    the_same_id_from_another_sender_is_a_conflict(r).await;
    the_same_id_in_another_conversation_is_a_conflict(r).await;
    a_client_sequence_taken_by_another_id_is_a_conflict(r).await;
    client_sequences_are_per_conversation_sender_and_device(r).await;
    the_last_client_sequence_is_the_newest_committed(r).await;
    read_targets_resolve_to_the_furthest_named_message(r).await;
    pending_messages_follow_each_cursor_in_order(r).await;
    the_first_sequence_after_an_instant_is_found_per_conversation(r).await;
}

fn seq(n: u64) -> ServerSequence {
    ServerSequence::new(n)
}

async fn last_sequence(r: &Repositories, conv: chat_domain::ConversationId) -> ServerSequence {
    r.conversations
        .find_conversation(conv)
        .await
        .unwrap()
        .unwrap()
        .last_sequence
}

async fn appends_get_consecutive_sequences_from_one_per_conversation(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let first = conversation(r, ada, bob, at(0)).await;
    let second = conversation(r, ada, cy, at(0)).await;
    for n in 1..=3 {
        assert_eq!(send(r, first.id, ada, at(1)).await.server_sequence, seq(n));
    }
    assert_eq!(
        send(r, second.id, cy, at(1)).await.server_sequence,
        seq(1),
        "numbering is per conversation"
    );
    assert_eq!(send(r, first.id, bob, at(1)).await.server_sequence, seq(4));
}

async fn an_appended_message_is_stored_as_given(r: &Repositories) {
    let (ada, bob) = (user(), user());
    r.users
        .upsert_user(ada, Some(name("Ada")), at(0))
        .await
        .unwrap();
    let conv = conversation(r, ada, bob, at(0)).await;
    let mut msg = numbered(conv.id, ada, "web-1", 7);
    msg.content = MessageContent::from_trusted("line one\n\tline two é😀".to_owned());
    msg.client_timestamp = Some(at(-3));
    msg.created_at = at(1_234);
    let stored = append_created(r, msg.clone()).await;
    assert_eq!(stored.id, msg.id);
    assert_eq!(stored.conversation_id, conv.id);
    assert_eq!(stored.sender_id, ada);
    assert_eq!(stored.sender_device_id, device("web-1"));
    assert_eq!(stored.client_sequence, Some(ClientSequence::new(7)));
    assert_eq!(stored.server_sequence, seq(1));
    assert_eq!(stored.content, msg.content);
    assert_eq!(stored.created_at, at(1_234));
    assert_eq!(r.messages.find_message(msg.id).await.unwrap(), Some(stored));
    assert_eq!(r.messages.find_message(message_id()).await.unwrap(), None);
}

async fn a_resend_by_the_same_sender_is_a_duplicate_of_the_original(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    let original = append_created(r, new_message(conv.id, ada, "first", at(10))).await;
    let mut resend = new_message(conv.id, ada, "edited on the way", at(99));
    resend.id = original.id;
    let outcome = r.append_at_current_version(resend).await.unwrap();
    assert_eq!(
        outcome,
        AppendOutcome::Duplicate(original.clone()),
        "the original, as stored"
    );
    assert_eq!(
        last_sequence(r, conv.id).await,
        seq(1),
        "a duplicate takes no sequence"
    );
    assert_eq!(
        send(r, conv.id, bob, at(11)).await.server_sequence,
        seq(2),
        "no gap after it"
    );
}

async fn the_same_id_from_another_sender_is_a_conflict(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    let original = send(r, conv.id, ada, at(1)).await;
    let mut theirs = new_message(conv.id, bob, "mine now", at(2));
    theirs.id = original.id;
    assert!(matches!(
        r.append_at_current_version(theirs).await,
        Err(RepoError::Conflict)
    ));
    assert_eq!(
        last_sequence(r, conv.id).await,
        seq(1),
        "a conflict takes no sequence"
    );
    assert_eq!(
        r.messages.find_message(original.id).await.unwrap(),
        Some(original)
    );
}

async fn the_same_id_in_another_conversation_is_a_conflict(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let here = conversation(r, ada, bob, at(0)).await;
    let there = conversation(r, ada, cy, at(0)).await;
    let original = send(r, here.id, ada, at(1)).await;
    let mut elsewhere = new_message(there.id, ada, "again", at(2));
    elsewhere.id = original.id;
    assert!(matches!(
        r.append_at_current_version(elsewhere).await,
        Err(RepoError::Conflict)
    ));
    assert_eq!(last_sequence(r, there.id).await, ServerSequence::ZERO);
    assert_eq!(send(r, there.id, cy, at(3)).await.server_sequence, seq(1));
}

async fn a_client_sequence_taken_by_another_id_is_a_conflict(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    append_created(r, numbered(conv.id, ada, "phone", 1)).await;
    let taken = numbered(conv.id, ada, "phone", 1);
    assert!(matches!(
        r.append_at_current_version(taken).await,
        Err(RepoError::Conflict)
    ));
    assert_eq!(last_sequence(r, conv.id).await, seq(1));
    let next = append_created(r, numbered(conv.id, ada, "phone", 2)).await;
    assert_eq!(next.server_sequence, seq(2));
}

async fn client_sequences_are_per_conversation_sender_and_device(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    let other = conversation(r, ada, cy, at(0)).await;
    append_created(r, numbered(conv.id, ada, "phone", 1)).await;
    append_created(r, numbered(conv.id, ada, "laptop", 1)).await;
    append_created(r, numbered(conv.id, bob, "phone", 1)).await;
    append_created(r, numbered(other.id, ada, "phone", 1)).await;
    for _ in 0..2 {
        append_created(r, new_message(conv.id, ada, "no client sequence", at(1))).await;
    }
    assert_eq!(last_sequence(r, conv.id).await, seq(5));
}

async fn the_last_client_sequence_is_the_newest_committed(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    let last = |dev: &'static str| r.messages.last_client_sequence(conv.id, ada, device(dev));
    assert_eq!(last("phone").await.unwrap(), None);
    for n in [1, 2, 5] {
        append_created(r, numbered(conv.id, ada, "phone", n)).await;
    }
    append_created(r, numbered(conv.id, ada, "laptop", 9)).await;
    append_created(r, numbered(conv.id, bob, "phone", 11)).await;
    append_created(r, new_message(conv.id, ada, "unnumbered", at(1))).await;
    assert_eq!(last("phone").await.unwrap(), Some(ClientSequence::new(5)));
    assert_eq!(last("laptop").await.unwrap(), Some(ClientSequence::new(9)));
    assert_eq!(last("tablet").await.unwrap(), None);
}

async fn read_targets_resolve_to_the_furthest_named_message(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    let other = conversation(r, ada, cy, at(0)).await;
    let mut sent = Vec::new();
    for ms in [1_000, 1_500, 2_000, 2_001] {
        sent.push(send(r, conv.id, bob, at(ms)).await);
    }
    let foreign = send(r, other.id, cy, at(5_000)).await;
    let resolve = |t: ReadTarget| r.messages.resolve_read_target(conv.id, t);
    let target = |s: Option<u64>, t: Option<Timestamp>, ids: Vec<_>| ReadTarget {
        sequence: s.map(seq),
        at: t,
        message_ids: ids,
    };

    assert_eq!(
        resolve(target(Some(3), None, vec![])).await.unwrap(),
        Some(seq(3)),
        "explicit"
    );
    assert_eq!(
        resolve(target(None, Some(at(1_500)), vec![]))
            .await
            .unwrap(),
        Some(seq(2)),
        "at or before, inclusive"
    );
    assert_eq!(
        resolve(target(None, Some(at(1_999)), vec![]))
            .await
            .unwrap(),
        Some(seq(2))
    );
    assert_eq!(
        resolve(target(None, Some(at(9_000)), vec![]))
            .await
            .unwrap(),
        Some(seq(4))
    );
    assert_eq!(
        resolve(target(None, Some(at(999)), vec![])).await.unwrap(),
        None,
        "before the first message"
    );
    let ids = vec![sent[2].id, sent[0].id];
    assert_eq!(
        resolve(target(None, None, ids)).await.unwrap(),
        Some(seq(3)),
        "the newest of the ids"
    );
    assert_eq!(
        resolve(target(None, None, vec![foreign.id, message_id()]))
            .await
            .unwrap(),
        None,
        "other conversations' ids are ignored"
    );
    let all = target(Some(1), Some(at(1_000)), vec![sent[3].id]);
    assert_eq!(
        resolve(all).await.unwrap(),
        Some(seq(4)),
        "the furthest of the three"
    );
    let explicit_wins = target(Some(4), Some(at(1_000)), vec![sent[1].id]);
    assert_eq!(resolve(explicit_wins).await.unwrap(), Some(seq(4)));
}

async fn pending_messages_follow_each_cursor_in_order(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let mut convs = [
        conversation(r, ada, bob, at(0)).await.id,
        conversation(r, ada, cy, at(0)).await.id,
    ];
    convs.sort();
    let [low, high] = convs;
    for i in 0..4 {
        send(r, low, ada, at(i)).await;
        send(r, high, ada, at(i)).await;
    }
    let keys = |p: &chat_domain::ports::HistoryPage| {
        p.items
            .iter()
            .map(|m| (m.conversation_id, m.server_sequence.get()))
            .collect::<Vec<_>>()
    };
    let cursors = vec![(high, seq(2)), (low, seq(1))];
    let page = r.messages.list_pending(cursors.clone(), 500).await.unwrap();
    assert_eq!(
        keys(&page),
        vec![(low, 2), (low, 3), (low, 4), (high, 3), (high, 4)]
    );
    assert!(!page.has_more);

    let page = r.messages.list_pending(cursors.clone(), 4).await.unwrap();
    assert_eq!(keys(&page), vec![(low, 2), (low, 3), (low, 4), (high, 3)]);
    assert!(page.has_more, "one more is owed");
    let page = r.messages.list_pending(cursors, 5).await.unwrap();
    assert!(!page.has_more, "exactly the limit is not more");

    let caught_up = r
        .messages
        .list_pending(vec![(low, seq(4)), (high, seq(9))], 10)
        .await
        .unwrap();
    assert!(caught_up.items.is_empty() && !caught_up.has_more);
    let none = r.messages.list_pending(vec![], 10).await.unwrap();
    assert!(none.items.is_empty() && !none.has_more);
}

async fn the_first_sequence_after_an_instant_is_found_per_conversation(r: &Repositories) {
    let (ada, bob, cy, dee) = (user(), user(), user(), user());
    let busy = conversation(r, ada, bob, at(0)).await.id;
    let quiet = conversation(r, ada, cy, at(0)).await.id;
    let empty = conversation(r, ada, dee, at(0)).await.id;
    // Created out of order (several nodes' clocks): the first *sequence* created after counts.
    for created in [100, 300, 200, 400] {
        send(r, busy, ada, at(created)).await;
    }
    send(r, quiet, ada, at(50)).await;
    let mut found = r
        .messages
        .first_sequences_after(vec![busy, quiet, empty], at(150))
        .await
        .unwrap();
    found.sort();
    assert_eq!(found, vec![(busy, seq(2))], "{found:?}");
    assert_eq!(
        r.messages
            .first_sequences_after(vec![busy], at(300))
            .await
            .unwrap(),
        vec![(busy, seq(4))],
        "strictly after"
    );
    assert_eq!(
        r.messages
            .first_sequences_after(vec![busy, quiet], at(0))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        r.messages
            .first_sequences_after(vec![], at(0))
            .await
            .unwrap()
            .is_empty()
    );
}
