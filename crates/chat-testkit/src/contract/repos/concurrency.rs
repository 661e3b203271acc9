//! Appends under concurrency: gap-free sequences, one row per message id, conflicts decided
//! by the unique keys whichever writer wins. Each appends at its conversation's current
//! context version, which nothing moves here.

use chat_domain::{NewMessage, RepoError, ServerSequence, message::AppendOutcome};

use super::fixtures::{at, conversation, new_message, numbered, user, version};
use crate::contract::Repositories;

/// Concurrent appends (tokio tasks): 8 writers × 250 messages into one conversation get exactly
/// the sequences 1..=2000; 20 concurrent sends of one message id store one row and answer 19
/// duplicates of it; the same id from another sender or into another conversation, and a
/// taken client sequence, are conflicts whichever append wins.
pub async fn append_concurrency_contract(r: &Repositories) {
    concurrent_writers_get_gap_free_unique_sequences(r).await;
    concurrent_resends_store_one_message(r).await;
    racing_an_id_from_another_sender_is_a_conflict(r).await;
    racing_an_id_into_another_conversation_is_a_conflict(r).await;
    racing_a_client_sequence_with_another_id_is_a_conflict(r).await;
}

async fn append_all(
    r: &Repositories,
    msgs: Vec<NewMessage>,
) -> Vec<Result<AppendOutcome, RepoError>> {
    let tasks: Vec<_> = msgs
        .into_iter()
        .map(|m| {
            let r = r.clone();
            tokio::spawn(async move { r.append_at_current_version(m).await })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn last_sequence(r: &Repositories, conv: chat_domain::ConversationId) -> u64 {
    r.conversations
        .find_conversation(conv)
        .await
        .unwrap()
        .unwrap()
        .last_sequence
        .get()
}

async fn concurrent_writers_get_gap_free_unique_sequences(r: &Repositories) {
    const WRITERS: usize = 8;
    const EACH: usize = 250;
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    // Read once: nothing moves it while the writers append.
    let v = version(r, conv).await;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let r = r.clone();
            let sender = if w % 2 == 0 { ada } else { bob };
            tokio::spawn(async move {
                let mut seqs = Vec::with_capacity(EACH);
                for i in 0..EACH {
                    let msg = new_message(conv, sender, "load", at(i64::try_from(i).unwrap()));
                    match r.append_at(msg, v).await.unwrap() {
                        AppendOutcome::Created(m) => seqs.push(m.server_sequence.get()),
                        AppendOutcome::Duplicate(_) => panic!("fresh ids are never duplicates"),
                    }
                }
                seqs
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in writers {
        let seqs = w.await.unwrap();
        assert!(
            seqs.windows(2).all(|p| p[0] < p[1]),
            "one writer's appends are ordered"
        );
        all.extend(seqs);
    }
    all.sort_unstable();
    let want: Vec<u64> = (1..=u64::try_from(WRITERS * EACH).unwrap()).collect();
    assert_eq!(all, want, "exactly 1..=2000, no gap, no duplicate");
    assert_eq!(last_sequence(r, conv).await, 2_000);
}

async fn concurrent_resends_store_one_message(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let msg = new_message(conv, ada, "once", at(42));
    let outcomes = append_all(r, vec![msg.clone(); 20]).await;
    let mut created = Vec::new();
    let mut duplicates = Vec::new();
    for o in outcomes {
        match o.unwrap() {
            AppendOutcome::Created(m) => created.push(m),
            AppendOutcome::Duplicate(m) => duplicates.push(m),
        }
    }
    assert_eq!(created.len(), 1, "one append stores it");
    assert_eq!(duplicates.len(), 19, "every other one is a duplicate");
    let original = &created[0];
    for d in &duplicates {
        assert_eq!(d, original, "duplicates answer with the original");
    }
    assert_eq!(original.server_sequence, ServerSequence::new(1));
    assert_eq!(original.created_at, at(42));
    assert_eq!(
        last_sequence(r, conv).await,
        1,
        "duplicates take no sequence"
    );
    assert_eq!(
        r.messages.find_message(msg.id).await.unwrap().as_ref(),
        Some(original)
    );
}

/// Exactly one of two racing appends is stored; the other is a conflict.
fn one_created_one_conflict(outcomes: Vec<Result<AppendOutcome, RepoError>>, case: &str) {
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(AppendOutcome::Created(_))))
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|o| matches!(o, Err(RepoError::Conflict)))
        .count();
    assert_eq!((created, conflicts), (1, 1), "{case}: {outcomes:?}");
}

async fn racing_an_id_from_another_sender_is_a_conflict(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let mine = new_message(conv, ada, "mine", at(1));
    let theirs = NewMessage {
        sender_id: bob,
        ..mine.clone()
    };
    one_created_one_conflict(append_all(r, vec![mine, theirs]).await, "another sender");
    assert_eq!(last_sequence(r, conv).await, 1);
}

async fn racing_an_id_into_another_conversation_is_a_conflict(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let here = conversation(r, ada, bob, at(0)).await.id;
    let there = conversation(r, ada, cy, at(0)).await.id;
    let first = new_message(here, ada, "here", at(1));
    let second = NewMessage {
        conversation_id: there,
        ..first.clone()
    };
    one_created_one_conflict(
        append_all(r, vec![first, second]).await,
        "another conversation",
    );
    assert_eq!(
        last_sequence(r, here).await + last_sequence(r, there).await,
        1
    );
}

async fn racing_a_client_sequence_with_another_id_is_a_conflict(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let a = numbered(conv, ada, "phone", 3);
    let b = numbered(conv, ada, "phone", 3);
    one_created_one_conflict(append_all(r, vec![a, b]).await, "a taken client sequence");
    assert_eq!(last_sequence(r, conv).await, 1);
}
