//! [`append_if_current`](chat_domain::ports::MessageRepository::append_if_current): commits
//! only at the current context version, and reports the other participants' unread counts.

use chat_domain::{
    ConversationId, NewMessage, RepoError, ServerSequence,
    message::AppendOutcome,
    ports::{CheckedAppend, ContextVersion, RecipientState},
};

use super::fixtures::{
    at, conversation, conversation_id, new_message, numbered, send, user, version,
};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    the_current_version_commits_and_reports_unread_counts(r).await;
    a_stale_version_stores_nothing_and_takes_no_sequence(r).await;
    an_unknown_conversation_is_not_found(r).await;
    a_resend_is_a_duplicate_without_recipients(r).await;
    conflicts_are_refused_as_with_append(r).await;
}

/// `append_if_current` at the conversation's current version.
pub(super) async fn checked(r: &Repositories, msg: NewMessage) -> CheckedAppend {
    let v = version(r, msg.conversation_id).await;
    r.messages.append_if_current(msg, v).await.unwrap()
}

async fn last_sequence(r: &Repositories, conv: ConversationId) -> u64 {
    let found = r.conversations.find_conversation(conv).await.unwrap();
    found.unwrap().last_sequence.get()
}

async fn the_current_version_commits_and_reports_unread_counts(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    send(r, conv, ada, at(1)).await;
    send(r, conv, bob, at(2)).await;
    send(r, conv, ada, at(3)).await;
    r.conversations
        .advance_read_marker(conv, bob, ServerSequence::new(1), at(50))
        .await
        .unwrap();
    let msg = new_message(conv, ada, "checked", at(60));
    let CheckedAppend::Done {
        outcome: AppendOutcome::Created(created),
        recipients,
    } = checked(r, msg.clone()).await
    else {
        panic!("expected a created message");
    };
    assert_eq!(created.id, msg.id);
    assert_eq!(created.server_sequence, ServerSequence::new(4));
    assert_eq!(created.created_at, at(60));
    let stored = r.messages.find_message(msg.id).await.unwrap().unwrap();
    assert_eq!(stored.server_sequence, created.server_sequence);
    assert_eq!(
        recipients,
        vec![RecipientState {
            user_id: bob,
            unread_count: 2,
            last_read_sequence: ServerSequence::new(1),
            last_read_at: Some(at(50)),
        }],
        "the other participant: ada's 3 and 4 are unread, bob's own 2 is not"
    );
    let afterwards = r.conversations.unread_count(conv, bob).await.unwrap();
    assert_eq!(afterwards, 2, "as read afterwards");

    let reply = new_message(conv, bob, "reply", at(61));
    let CheckedAppend::Done { recipients, .. } = checked(r, reply).await else {
        panic!("expected a created message");
    };
    assert_eq!(recipients.len(), 1);
    assert_eq!(
        (recipients[0].user_id, recipients[0].unread_count),
        (ada, 2),
        "bob's 2 and 5; ada never read"
    );
    assert_eq!(recipients[0].last_read_at, None);
}

async fn a_stale_version_stores_nothing_and_takes_no_sequence(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    send(r, conv, ada, at(1)).await;
    let old = version(r, conv).await;
    let mute = chat_domain::Mute {
        conversation_id: conv,
        user_id: bob,
        muted_at: at(2),
        muted_until: None,
    };
    r.mutes.upsert_mute(mute).await.unwrap();
    let msg = new_message(conv, ada, "late", at(3));
    let outcome = r
        .messages
        .append_if_current(msg.clone(), old)
        .await
        .unwrap();
    assert_eq!(outcome, CheckedAppend::StaleContext);
    assert_eq!(r.messages.find_message(msg.id).await.unwrap(), None);
    assert_eq!(last_sequence(r, conv).await, 1, "no sequence taken");
    let ahead = ContextVersion(version(r, conv).await.0 + 1);
    let outcome = r.messages.append_if_current(msg.clone(), ahead).await;
    assert_eq!(
        outcome.unwrap(),
        CheckedAppend::StaleContext,
        "only the current one"
    );
    let CheckedAppend::Done { outcome, .. } = checked(r, msg).await else {
        panic!("the current version commits");
    };
    assert_eq!(
        outcome.message().server_sequence,
        ServerSequence::new(2),
        "no gap"
    );
}

async fn an_unknown_conversation_is_not_found(r: &Repositories) {
    for v in [ContextVersion(0), ContextVersion(7)] {
        let msg = new_message(conversation_id(), user(), "nowhere", at(1));
        let outcome = r.messages.append_if_current(msg, v).await;
        assert!(matches!(outcome, Err(RepoError::NotFound)), "{outcome:?}");
    }
}

async fn a_resend_is_a_duplicate_without_recipients(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let first = numbered(conv, ada, "phone", 1);
    checked(r, first.clone()).await;
    let original = r.messages.find_message(first.id).await.unwrap().unwrap();
    let resend = NewMessage {
        created_at: at(99),
        ..first
    };
    assert_eq!(
        checked(r, resend).await,
        CheckedAppend::Done {
            outcome: AppendOutcome::Duplicate(original),
            recipients: Vec::new(),
        }
    );
    assert_eq!(
        last_sequence(r, conv).await,
        1,
        "a duplicate takes no sequence"
    );
}

async fn conflicts_are_refused_as_with_append(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let conv = conversation(r, ada, bob, at(0)).await.id;
    let other = conversation(r, ada, cy, at(0)).await.id;
    let original = numbered(conv, ada, "phone", 1);
    checked(r, original.clone()).await;
    let from_bob = NewMessage {
        sender_id: bob,
        client_sequence: None,
        ..original.clone()
    };
    let elsewhere = NewMessage {
        conversation_id: other,
        client_sequence: None,
        ..original.clone()
    };
    let taken = numbered(conv, ada, "phone", 1);
    for (m, case) in [
        (from_bob, "the id from another sender"),
        (elsewhere, "the id in another conversation"),
        (taken, "a taken client sequence"),
    ] {
        let v = version(r, m.conversation_id).await;
        let outcome = r.messages.append_if_current(m, v).await;
        assert!(
            matches!(outcome, Err(RepoError::Conflict)),
            "{case}: {outcome:?}"
        );
    }
    assert_eq!(last_sequence(r, conv).await, 1);
    assert_eq!(last_sequence(r, other).await, 0);
}
