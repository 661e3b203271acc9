//! The repository contracts and the migrations, on SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chat_domain::{ConversationId, RepoError, UserId};
use chat_store::{StoreConfig, connect};
use chat_testkit::contract::run_repository_contracts;
use support::{migrated, sqlite_file};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sqlite_file_passes_the_repository_contracts() {
    let (_dir, db) = sqlite_file().await;
    let r = migrated(&db).await;
    run_repository_contracts(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_in_memory_sqlite_database_passes_the_repository_contracts() {
    let cfg = StoreConfig {
        max_connections: 8,
        ..StoreConfig::new("sqlite::memory:")
    };
    let db = connect(&cfg).await.unwrap();
    let r = migrated(&db).await;
    run_repository_contracts(&r).await;
}

#[tokio::test]
async fn sqlite_migrations_run_twice_and_down_then_up_again() {
    let (_dir, db) = sqlite_file().await;
    support::migrations_run_twice_and_down_then_up_again(&db).await;
}

#[tokio::test]
async fn sqlite_users_keep_the_time_they_were_first_seen() {
    let (_dir, db) = sqlite_file().await;
    support::users_keep_the_time_they_were_first_seen(&db).await;
}

#[tokio::test]
async fn a_closed_pool_is_reported_unavailable_not_internal() {
    let (_dir, db) = sqlite_file().await;
    let r = migrated(&db).await;
    db.close().await.unwrap();
    let err = r
        .conversations
        .find_conversation(ConversationId::new(Uuid::new_v4()))
        .await;
    assert!(matches!(err, Err(RepoError::Unavailable(_))), "{err:?}");
}

#[tokio::test]
async fn sqlite_fills_unread_counts_for_messages_stored_before_the_migration() {
    let (_dir, db) = sqlite_file().await;
    support::unread_counts_are_filled_for_existing_messages(&db).await;
}

/// Many sends at once on a small pool: SQLite takes one writer at a time, so appends take
/// turns on the node instead of each waiting for a pooled connection and then the write lock
/// (under CPU load, a third or more of them timed out acquiring and were `unavailable`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_sends_on_a_small_pool_is_stored_whole() {
    use chat_domain::{
        DeviceId, MessageContent, MessageId, NewMessage, OneToOnePair, Timestamp,
        message::AppendOutcome,
    };

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.db");
    let cfg = StoreConfig {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_millis(250),
        ..StoreConfig::new(format!("sqlite://{}?mode=rwc", path.display()))
    };
    let db = connect(&cfg).await.unwrap();
    let r = migrated(&db).await;
    let now = Timestamp::from_millis(1_769_509_800_000);
    let mut conversations = Vec::new();
    for _ in 0..8 {
        let (ada, bob) = (UserId::new(Uuid::new_v4()), UserId::new(Uuid::new_v4()));
        let (conv, _) = r
            .conversations
            .find_or_create_one_to_one(
                OneToOnePair::new(ada, bob).unwrap(),
                ConversationId::new(Uuid::new_v4()),
                now,
            )
            .await
            .unwrap();
        let version = r
            .conversations
            .fetch_send_context(conv.id)
            .await
            .unwrap()
            .unwrap()
            .version;
        conversations.push((conv.id, ada, version));
    }
    let sends = (0..240).map(|n| {
        let (conversation_id, sender_id, version) = conversations[n % conversations.len()];
        let r = r.clone();
        tokio::spawn(async move {
            r.append_at(
                NewMessage {
                    id: MessageId::new(Uuid::new_v4()),
                    conversation_id,
                    sender_id,
                    sender_device_id: DeviceId::new("d1").unwrap(),
                    client_sequence: None,
                    content: MessageContent::from_trusted(format!("burst {n}")),
                    client_timestamp: None,
                    created_at: now,
                },
                version,
            )
            .await
        })
    });
    let mut failed = Vec::new();
    for send in sends.collect::<Vec<_>>() {
        let outcome = send.await.unwrap();
        if !matches!(outcome, Ok(AppendOutcome::Created(_))) {
            failed.push(outcome);
        }
    }
    assert!(
        failed.is_empty(),
        "{} not stored: {:?}",
        failed.len(),
        failed.first()
    );
}

#[tokio::test]
async fn sqlite_fills_groups_and_changes_for_conversations_stored_before_the_migration() {
    let (_dir, db) = sqlite_file().await;
    support::groups_and_changes_are_filled_for_existing_conversations(&db).await;
}
