//! The fake repositories keep the port promises: the shared repository contract suites, plus
//! the flows that need the repositories to share one database.

#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use chat_domain::{
    AppendOutcome, ConversationId, DeviceId, HistoryAnchor, HistoryQuery, MessageContent,
    MessageId, NewMessage, PageLimit, RepoError, ServerSequence, Timestamp, UserId, block::Block,
    conversation::OneToOnePair, mute::Mute, sequence::ClientSequence,
};
use chat_testkit::{
    contract::{Repositories, repos::run_repository_contracts},
    fakes::{FakeDb, fake_repositories},
};
use uuid::Uuid;

fn user() -> UserId {
    UserId::new(Uuid::new_v4())
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_769_509_800_000 + ms)
}

async fn conversation(repos: &Repositories, a: UserId, b: UserId, ms: i64) -> ConversationId {
    let pair = OneToOnePair::new(a, b).unwrap();
    let new_id = ConversationId::new(Uuid::new_v4());
    let (conv, _) = repos
        .conversations
        .find_or_create_one_to_one(pair, new_id, at(ms))
        .await
        .unwrap();
    conv.id
}

fn message(conv: ConversationId, sender: UserId, ms: i64) -> NewMessage {
    NewMessage {
        id: MessageId::new(Uuid::new_v4()),
        conversation_id: conv,
        sender_id: sender,
        sender_device_id: DeviceId::new("phone").unwrap(),
        client_sequence: None,
        content: MessageContent::from_trusted("hi".into()),
        client_timestamp: None,
        created_at: at(ms),
    }
}

async fn send(repos: &Repositories, conv: ConversationId, sender: UserId, ms: i64) -> u64 {
    let outcome = repos
        .append_at_current_version(message(conv, sender, ms))
        .await
        .unwrap();
    outcome.message().server_sequence.get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fake_repositories_keep_the_repository_contracts() {
    run_repository_contracts(&fake_repositories().0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_get_gap_free_sequences() {
    let (repos, db) = fake_repositories();
    let (ada, bob) = (user(), user());
    let conv = conversation(&repos, ada, bob, 0).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let repos = repos.clone();
            tokio::spawn(async move {
                repos
                    .append_at_current_version(message(conv, ada, i))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut sequences = Vec::new();
    for task in tasks {
        sequences.push(task.await.unwrap().message().server_sequence.get());
    }
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=50).collect::<Vec<u64>>());
    assert_eq!(db.messages_of(conv).len(), 50);
    let found = repos
        .conversations
        .find_conversation(conv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.last_sequence, ServerSequence::new(50));
}

#[tokio::test]
async fn resends_are_duplicates_and_foreign_reuse_conflicts() {
    let (repos, db) = fake_repositories();
    let (ada, bob) = (user(), user());
    let conv = conversation(&repos, ada, bob, 0).await;
    let mut first = message(conv, ada, 1);
    first.client_sequence = Some(ClientSequence::new(1));
    let created = repos
        .append_at_current_version(first.clone())
        .await
        .unwrap();
    let again = repos
        .append_at_current_version(first.clone())
        .await
        .unwrap();
    assert_eq!(again, AppendOutcome::Duplicate(created.message().clone()));

    let by_bob = NewMessage {
        sender_id: bob,
        ..first.clone()
    };
    let same_client_sequence = NewMessage {
        id: MessageId::new(Uuid::new_v4()),
        ..first
    };
    for clash in [by_bob, same_client_sequence] {
        let refused = repos.append_at_current_version(clash).await;
        assert!(matches!(refused, Err(RepoError::Conflict)), "{refused:?}");
    }
    assert_eq!(db.message_count(), 1, "nothing more was saved");
}

#[tokio::test]
async fn markers_move_forward_clamped_and_count_only_others_messages() {
    let (repos, _) = fake_repositories();
    let (ada, bob) = (user(), user());
    let conv = conversation(&repos, ada, bob, 0).await;
    for (i, sender) in [bob, ada, bob].into_iter().enumerate() {
        send(&repos, conv, sender, i64::try_from(i).unwrap()).await;
    }
    let convs = &repos.conversations;
    assert_eq!(convs.unread_count(conv, ada).await.unwrap(), 2);
    let moved = convs
        .advance_read_marker(conv, ada, ServerSequence::new(9), at(5))
        .await;
    assert_eq!(
        moved.unwrap().marker().sequence,
        ServerSequence::new(3),
        "clamped"
    );
    let back = convs
        .advance_read_marker(conv, ada, ServerSequence::new(1), at(6))
        .await;
    assert_eq!(
        back.unwrap().marker().sequence,
        ServerSequence::new(3),
        "never back"
    );
    assert_eq!(convs.unread_count(conv, ada).await.unwrap(), 0);
    assert_eq!(convs.unread_counts(bob).await.unwrap(), vec![(conv, 1)]);
    let stranger = convs
        .advance_read_marker(conv, user(), ServerSequence::new(1), at(7))
        .await;
    assert!(matches!(stranger, Err(RepoError::NotFound)));
}

#[tokio::test]
async fn history_pages_back_and_forward_in_ascending_order() {
    let (repos, _) = fake_repositories();
    let (ada, bob) = (user(), user());
    let conv = conversation(&repos, ada, bob, 0).await;
    for i in 1..=7 {
        send(&repos, conv, ada, i * 10).await;
    }
    let page = |anchor, limit, from: Option<i64>| HistoryQuery {
        limit: PageLimit::new(limit, PageLimit::HISTORY_MAX).unwrap(),
        anchor,
        from: from.map(at),
        to: None,
    };
    let cases = [
        (
            page(HistoryAnchor::Newest { offset: 0 }, 3, None),
            vec![5, 6, 7],
            true,
        ),
        (
            page(HistoryAnchor::Newest { offset: 5 }, 3, None),
            vec![1, 2],
            false,
        ),
        (
            page(HistoryAnchor::Before(ServerSequence::new(5)), 3, None),
            vec![2, 3, 4],
            true,
        ),
        (
            page(HistoryAnchor::Before(ServerSequence::new(3)), 3, None),
            vec![1, 2],
            false,
        ),
        (
            page(HistoryAnchor::After(ServerSequence::new(2)), 3, None),
            vec![3, 4, 5],
            true,
        ),
        (
            page(HistoryAnchor::After(ServerSequence::new(4)), 3, None),
            vec![5, 6, 7],
            false,
        ),
        (
            page(HistoryAnchor::Newest { offset: 0 }, 9, Some(50)),
            vec![5, 6, 7],
            false,
        ),
    ];
    for (query, want, more) in cases {
        let got = repos.messages.list_history(conv, query).await.unwrap();
        let seqs: Vec<u64> = got.items.iter().map(|m| m.server_sequence.get()).collect();
        assert_eq!((seqs, got.has_more), (want, more), "{query:?}");
    }
}

#[tokio::test]
async fn chat_list_is_newest_activity_first_with_flags() {
    let (repos, _) = fake_repositories();
    let (ada, bob, eve) = (user(), user(), user());
    let quiet = conversation(&repos, ada, bob, 100).await;
    let busy = conversation(&repos, ada, eve, 0).await;
    send(&repos, busy, eve, 200).await;
    let block = Block {
        conversation_id: quiet,
        blocker_id: ada,
        blocked_id: bob,
        blocked_at: at(1),
    };
    repos.blocks.insert_block(block).await.unwrap();
    let mute = Mute {
        conversation_id: busy,
        user_id: ada,
        muted_at: at(1),
        muted_until: Some(at(500)),
    };
    repos.mutes.upsert_mute(mute).await.unwrap();

    let limit = PageLimit::new(10, PageLimit::CHAT_LIST_MAX).unwrap();
    let list = repos
        .conversations
        .list_chat_list(ada, limit, 0, at(300))
        .await
        .unwrap();
    assert_eq!(list.total, 2);
    let ids: Vec<ConversationId> = list.items.iter().map(|e| e.conversation_id).collect();
    assert_eq!(ids, vec![busy, quiet]);
    let (b, q) = (&list.items[0], &list.items[1]);
    assert_eq!((b.unread_count, b.muted, b.updated_at), (1, true, at(200)));
    assert_eq!(
        (q.blocked_by_me, q.blocked_me, q.updated_at),
        (true, false, at(100))
    );
    let later = repos
        .conversations
        .list_chat_list(ada, limit, 1, at(600))
        .await
        .unwrap();
    assert_eq!(later.items.len(), 1, "offset skips");
    let for_bob = repos
        .conversations
        .list_chat_list(bob, limit, 0, at(600))
        .await
        .unwrap();
    assert!(for_bob.items[0].blocked_me);
}

#[tokio::test]
async fn pending_messages_come_by_conversation_then_sequence_up_to_the_limit() {
    let (repos, _) = fake_repositories();
    let (ada, bob, eve) = (user(), user(), user());
    let one = conversation(&repos, ada, bob, 0).await;
    let two = conversation(&repos, ada, eve, 0).await;
    for i in 0..3 {
        send(&repos, one, bob, i).await;
        send(&repos, two, eve, i).await;
    }
    let cursors = vec![(two, ServerSequence::new(1)), (one, ServerSequence::new(0))];
    let all = repos
        .messages
        .list_pending(cursors.clone(), 10)
        .await
        .unwrap();
    let got: Vec<_> = all
        .items
        .iter()
        .map(|m| (m.conversation_id, m.server_sequence.get()))
        .collect();
    let mut want = vec![(one, 1), (one, 2), (one, 3), (two, 2), (two, 3)];
    want.sort_by_key(|&(c, s)| (c, s));
    assert_eq!((got, all.has_more), (want, false));
    let page = repos.messages.list_pending(cursors, 4).await.unwrap();
    assert_eq!((page.items.len(), page.has_more), (4, true));
}

#[tokio::test]
async fn an_unavailable_database_fails_every_call_until_it_is_back() {
    let (repos, db): (Repositories, FakeDb) = fake_repositories();
    db.set_unavailable(true);
    let unknown = ConversationId::new(Uuid::new_v4());
    let refused = repos.conversations.find_conversation(unknown).await;
    assert!(
        matches!(refused, Err(RepoError::Unavailable(_))),
        "{refused:?}"
    );
    db.set_unavailable(false);
    assert_eq!(
        repos
            .conversations
            .find_conversation(unknown)
            .await
            .unwrap(),
        None
    );
}
