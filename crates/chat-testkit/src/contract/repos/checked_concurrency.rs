//! [`append_if_current`](chat_domain::ports::MessageRepository::append_if_current) under
//! concurrency: gap-free sequences with unread counts exact as of each message, and blocks
//! racing with appends ordered against them by the context version.

use std::{collections::HashMap, time::Duration};

use chat_domain::{
    Block, ConversationId, ServerSequence, UserId,
    message::AppendOutcome,
    ports::{CheckedAppend, ContextVersion, RecipientState},
};

use super::fixtures::{at, conversation, new_message, send_context, user, version};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    checked_writers_get_gap_free_sequences_and_exact_unread_counts(r).await;
    no_append_at_an_old_version_commits_after_a_racing_block(r).await;
    appends_across_conversations_with_resends_and_moving_markers_keep_counts_exact(r).await;
    one_id_in_two_conversations_at_once_conflicts_and_spares_the_others(r).await;
}

/// One committed append.
#[derive(Debug)]
struct Committed {
    seq: u64,
    sender: UserId,
    /// The version it was made with.
    version: ContextVersion,
    recipients: Vec<RecipientState>,
}

/// `count` appends of `sender`, each at the version last read; a stale one re-reads the
/// version and is retried.
async fn writer(
    r: Repositories,
    conv: ConversationId,
    sender: UserId,
    count: usize,
) -> Vec<Committed> {
    let mut v = version(&r, conv).await;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let msg = new_message(conv, sender, "load", at(i64::try_from(i).unwrap()));
        loop {
            match r.messages.append_if_current(msg.clone(), v).await.unwrap() {
                CheckedAppend::Done {
                    outcome: AppendOutcome::Created(m),
                    recipients,
                } => {
                    let seq = m.server_sequence.get();
                    out.push(Committed {
                        seq,
                        sender,
                        version: v,
                        recipients,
                    });
                    break;
                }
                CheckedAppend::Done { outcome, .. } => {
                    panic!("fresh ids are never duplicates: {outcome:?}")
                }
                CheckedAppend::StaleContext => v = version(&r, conv).await,
            }
        }
    }
    out
}

/// Runs `writers` writers (alternately `a` and `b`) of `each` appends; every commit, by
/// sequence, after checking that each writer's own commits are ordered and that the
/// sequences are exactly `1..=writers × each`.
async fn run_writers(
    r: &Repositories,
    conv: ConversationId,
    pair: [UserId; 2],
    writers: usize,
    each: usize,
) -> Vec<Committed> {
    let tasks: Vec<_> = (0..writers)
        .map(|w| tokio::spawn(writer(r.clone(), conv, pair[w % 2], each)))
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        let mine = t.await.unwrap();
        assert!(
            mine.windows(2).all(|p| p[0].seq < p[1].seq),
            "one writer's appends are ordered"
        );
        all.extend(mine);
    }
    all.sort_by_key(|c| c.seq);
    let seqs: Vec<u64> = all.iter().map(|c| c.seq).collect();
    let want: Vec<u64> = (1..=u64::try_from(writers * each).unwrap()).collect();
    assert_eq!(seqs, want, "gap-free, no duplicate");
    all
}

async fn checked_writers_get_gap_free_sequences_and_exact_unread_counts(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let all = run_writers(r, conv, [ada, bob], 8, 100).await;
    // No marker moved: a recipient's unread count at sequence n is the number of messages up
    // to n that the other one sent.
    let mut sent_by: HashMap<UserId, u64> = HashMap::new();
    for c in &all {
        *sent_by.entry(c.sender).or_default() += 1;
        let other = if c.sender == ada { bob } else { ada };
        let [recipient] = c.recipients.as_slice() else {
            panic!("one recipient at {}: {:?}", c.seq, c.recipients);
        };
        assert_eq!(recipient.user_id, other);
        assert_eq!(recipient.last_read_sequence.get(), 0);
        let want = sent_by.get(&c.sender).copied().unwrap_or(0);
        assert_eq!(
            recipient.unread_count, want,
            "unread count as of sequence {}",
            c.seq
        );
    }
    let last = all.last().unwrap();
    let ctx = send_context(r, conv).await;
    assert_eq!(ctx.conversation.last_sequence.get(), last.seq);
}

async fn no_append_at_an_old_version_commits_after_a_racing_block(r: &Repositories) {
    const ROUNDS: usize = 5;
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let first = version(r, conv).await;
    let toggler = {
        let r = r.clone();
        tokio::spawn(async move {
            // After each change: the version and the newest sequence, read together.
            let mut seen = Vec::with_capacity(2 * ROUNDS);
            for round in 0..ROUNDS {
                tokio::time::sleep(Duration::from_millis(2)).await;
                let block = Block {
                    conversation_id: conv,
                    blocker_id: ada,
                    blocked_id: bob,
                    blocked_at: at(i64::try_from(round).unwrap()),
                };
                r.blocks.insert_block(block).await.unwrap();
                let ctx = send_context(&r, conv).await;
                seen.push((ctx.version, ctx.conversation.last_sequence.get()));
                tokio::time::sleep(Duration::from_millis(2)).await;
                r.blocks
                    .delete_block(conv, ada, bob)
                    .await
                    .unwrap()
                    .unwrap();
                let ctx = send_context(&r, conv).await;
                seen.push((ctx.version, ctx.conversation.last_sequence.get()));
            }
            seen
        })
    };
    let all = run_writers(r, conv, [ada, bob], 4, 60).await;
    let seen = toggler.await.unwrap();
    assert!(
        all.windows(2).all(|p| p[0].version <= p[1].version),
        "by sequence, the versions appends were made with never go back"
    );
    for (after, newest) in &seen {
        for c in all.iter().filter(|c| c.version < *after) {
            assert!(
                c.seq <= *newest,
                "sequence {} at {:?} committed after the version became {after:?}",
                c.seq,
                c.version
            );
        }
    }
    let late = new_message(conv, ada, "late", at(9));
    let outcome = r.messages.append_if_current(late, first).await.unwrap();
    assert_eq!(
        outcome,
        CheckedAppend::StaleContext,
        "the first version is long gone"
    );
}

/// Many conversations written at once (an adapter may share statements between them), each
/// message sent twice (the second a resend), while each conversation's `b` moves its read
/// marker: every sequence is used once, every resend returns the original, and the unread
/// counts read afterwards are exactly the messages the other one sent after each marker.
async fn appends_across_conversations_with_resends_and_moving_markers_keep_counts_exact(
    r: &Repositories,
) {
    const CONVERSATIONS: usize = 12;
    const EACH: usize = 15;
    let mut tasks = Vec::new();
    let mut convs = Vec::new();
    for _ in 0..CONVERSATIONS {
        let (a, b) = (user(), user());
        let conv = conversation(r, a, b, at(0)).await.id;
        convs.push((conv, a, b));
        for sender in [a, b] {
            let r = r.clone();
            tasks.push(tokio::spawn(async move {
                let mut sent = Vec::new();
                let mut v = version(&r, conv).await;
                for i in 0..EACH {
                    let msg = new_message(conv, sender, "spread", at(i64::try_from(i).unwrap()));
                    let mut seqs = Vec::new();
                    while seqs.len() < 2 {
                        match r.messages.append_if_current(msg.clone(), v).await.unwrap() {
                            CheckedAppend::Done { outcome, .. } => {
                                assert_eq!(outcome.is_duplicate(), !seqs.is_empty());
                                seqs.push(outcome.message().server_sequence.get());
                            }
                            CheckedAppend::StaleContext => v = version(&r, conv).await,
                        }
                    }
                    assert_eq!(seqs[0], seqs[1], "a resend returns the original");
                    sent.push((conv, sender, seqs[0]));
                }
                sent
            }));
        }
        let r = r.clone();
        let marker = tokio::spawn(async move {
            for step in 1..=EACH {
                let to = ServerSequence::new(u64::try_from(step * 2).unwrap());
                r.conversations
                    .advance_read_marker(conv, b, to, at(100))
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
            Vec::new()
        });
        tasks.push(marker);
    }
    let mut sent = Vec::new();
    for t in tasks {
        sent.extend(t.await.unwrap());
    }
    for (conv, a, b) in convs {
        let mut seqs: Vec<u64> = sent
            .iter()
            .filter(|(c, ..)| *c == conv)
            .map(|&(.., s)| s)
            .collect();
        seqs.sort_unstable();
        let want: Vec<u64> = (1..=u64::try_from(2 * EACH).unwrap()).collect();
        assert_eq!(seqs, want, "gap-free, no duplicate");
        let ctx = send_context(r, conv).await;
        for (me, other) in [(a, b), (b, a)] {
            let marker = ctx
                .conversation
                .participant(me)
                .unwrap()
                .last_read_sequence
                .get();
            let want = sent
                .iter()
                .filter(|&&(c, s, seq)| c == conv && s == other && seq > marker)
                .count();
            let got = r.conversations.unread_count(conv, me).await.unwrap();
            assert_eq!(
                got,
                u64::try_from(want).unwrap(),
                "unread after marker {marker}"
            );
        }
    }
}

/// Appends racing in many conversations, two of them with the same message id: exactly one of
/// the two is stored and the other is a conflict, and every other message is stored (an
/// adapter that writes them in one statement must not lose the others to the collision).
async fn one_id_in_two_conversations_at_once_conflicts_and_spares_the_others(r: &Repositories) {
    const CONVERSATIONS: usize = 16;
    // Not the first: an adapter that writes the first arrival at once and batches the rest gets
    // both in one batch.
    const SHARING: [usize; 2] = [5, 6];
    let shared = super::fixtures::message_id();
    let mut tasks = Vec::new();
    for c in 0..CONVERSATIONS {
        let (a, b) = (user(), user());
        let conv = conversation(r, a, b, at(0)).await.id;
        let v = version(r, conv).await;
        let mut msg = new_message(conv, a, "race", at(1));
        if SHARING.contains(&c) {
            msg.id = shared;
        }
        let r = r.clone();
        tasks.push(tokio::spawn(async move {
            (c, r.messages.append_if_current(msg, v).await)
        }));
    }
    let mut shared_outcomes = Vec::new();
    for t in tasks {
        let (c, outcome) = t.await.unwrap();
        if SHARING.contains(&c) {
            shared_outcomes.push(outcome);
            continue;
        }
        match outcome {
            Ok(CheckedAppend::Done {
                outcome: AppendOutcome::Created(m),
                ..
            }) => assert_eq!(m.server_sequence.get(), 1),
            other => panic!("conversation {c}: {other:?}"),
        }
    }
    let created: Vec<_> = shared_outcomes
        .iter()
        .filter_map(|o| match o {
            Ok(CheckedAppend::Done {
                outcome: AppendOutcome::Created(m),
                ..
            }) => Some(m.conversation_id),
            _ => None,
        })
        .collect();
    let conflicts = shared_outcomes
        .iter()
        .filter(|o| matches!(o, Err(chat_domain::RepoError::Conflict)))
        .count();
    assert_eq!((created.len(), conflicts), (1, 1), "{shared_outcomes:?}");
    // The one acknowledged as stored is the one stored, in its own conversation.
    let stored = r.messages.find_message(shared).await.unwrap().unwrap();
    assert_eq!(created, [stored.conversation_id], "{shared_outcomes:?}");
}
