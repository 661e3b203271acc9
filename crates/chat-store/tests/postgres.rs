//! The repository contracts and the migrations, on PostgreSQL: each test gets its own fresh
//! database on the server of `CHAT_TEST_DATABASE_URL`, and says it skipped without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use chat_domain::{
    ConversationId, DeviceId, MessageContent, MessageId, NewMessage, OneToOnePair, Timestamp,
    UserId,
    ports::{CheckedAppend, ContextVersion},
};
use chat_migrations::{Migrator, MigratorTrait};
use chat_store::{StoreConfig, connect, migrate};
use chat_testkit::contract::{Repositories, run_repository_contracts};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use support::{migrated, with_database, with_postgres, with_postgres_url};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_passes_the_repository_contracts() {
    with_postgres(|db| async move {
        let r = migrated(&db).await;
        run_repository_contracts(&r).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_run_twice_and_down_then_up_again() {
    with_postgres(|db| async move {
        support::migrations_run_twice_and_down_then_up_again(&db).await;
    })
    .await;
}

/// Nodes started together on a new database (issue 20): five `migrate` calls at once, each
/// over a pool of its own, all succeed, on five fresh databases in turn; then `migrate` on the
/// up-to-date database changes nothing, and no migration lock is left held.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_migrations_on_a_new_database_all_succeed() {
    const NODES: usize = 5;
    for round in 0..5 {
        with_postgres_url(move |url, db| async move {
            let nodes: Vec<_> = (0..NODES)
                .map(|_| {
                    let url = url.clone();
                    tokio::spawn(async move {
                        let pool = connect(&StoreConfig::new(url)).await.unwrap();
                        let migrated = migrate(&pool).await;
                        pool.close().await.unwrap();
                        migrated
                    })
                })
                .collect();
            for (node, outcome) in nodes.into_iter().enumerate() {
                if let Err(e) = outcome.await.unwrap() {
                    panic!(
                        "round {round}, node {node}: {e}: {:?}",
                        std::error::Error::source(&e)
                    );
                }
            }
            assert!(
                Migrator::get_pending_migrations(&db)
                    .await
                    .unwrap()
                    .is_empty()
            );

            let before = applied(&db).await;
            assert_eq!(
                before.len(),
                Migrator::migrations().len(),
                "each applied once"
            );
            migrate(&db).await.unwrap();
            assert_eq!(
                applied(&db).await,
                before,
                "up to date: nothing applied again"
            );
            let held = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap();
            assert_eq!(held, 0, "the migration lock is released");
        })
        .await;
    }
}

/// The migrations recorded as applied, with when.
async fn applied(db: &DatabaseConnection) -> Vec<(String, i64)> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT version, applied_at FROM seaql_migrations ORDER BY version",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get("", "version").unwrap(),
                r.try_get("", "applied_at").unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_users_keep_the_time_they_were_first_seen() {
    with_postgres(|db| async move {
        support::users_keep_the_time_they_were_first_seen(&db).await;
    })
    .await;
}

/// Runs `sql` (with `$1` the conversation, `$2` `ada`) in a transaction that holds the
/// conversation's row lock while ada's `append_if_current` at the version read before starts
/// and waits for it; commits; returns what the append answered.
async fn append_behind(db: &DatabaseConnection, r: &Repositories, sql: &[&str]) -> CheckedAppend {
    let (ada, bob) = (UserId::new(Uuid::new_v4()), UserId::new(Uuid::new_v4()));
    let pair = OneToOnePair::new(ada, bob).unwrap();
    let id = ConversationId::new(Uuid::new_v4());
    let now = Timestamp::from_millis(1_769_509_800_000);
    r.conversations
        .find_or_create_one_to_one(pair, id, now)
        .await
        .unwrap();
    let v: ContextVersion = r
        .conversations
        .fetch_send_context(id)
        .await
        .unwrap()
        .unwrap()
        .version;
    let txn = db.begin().await.unwrap();
    for s in sql {
        let values = [id.get().into(), ada.get().into()];
        let stmt = Statement::from_sql_and_values(DbBackend::Postgres, *s, values);
        txn.execute_raw(stmt).await.unwrap();
    }
    let msg = NewMessage {
        id: MessageId::new(Uuid::new_v4()),
        conversation_id: id,
        sender_id: ada,
        sender_device_id: DeviceId::new("d1").unwrap(),
        client_sequence: None,
        content: MessageContent::from_trusted("behind".to_owned()),
        client_timestamp: None,
        created_at: now,
    };
    let messages = r.messages.clone();
    let waiting = tokio::spawn(async move { messages.append_if_current(msg, v).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the append waits for the row lock");
    txn.commit().await.unwrap();
    let outcome = waiting.await.unwrap().unwrap();
    if let CheckedAppend::Done { recipients, .. } = &outcome {
        let counted = r.conversations.unread_count(id, bob).await.unwrap();
        assert_eq!(recipients[0].unread_count, counted, "as read afterwards");
    }
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_counts_a_message_committed_while_the_append_waited() {
    with_postgres(|db| async move {
        let r = migrated(&db).await;
        // Another append (as the store writes one): its message and its count are not in the
        // waiting statement's snapshot.
        let other_append = [
            "UPDATE conversations SET last_sequence = last_sequence + 1 WHERE id = $1",
            "INSERT INTO messages (id, conversation_id, sender_id, sender_device_id, \
             server_sequence, content, created_at) \
             VALUES (gen_random_uuid(), $1, $2, 'd0', 1, 'first', now())",
            "UPDATE participants SET unread_count = unread_count + 1 \
             WHERE conversation_id = $1 AND user_id <> $2",
        ];
        let CheckedAppend::Done {
            outcome,
            recipients,
        } = append_behind(&db, &r, &other_append).await
        else {
            panic!("the version did not move");
        };
        assert_eq!(outcome.message().server_sequence.get(), 2);
        assert_eq!(
            recipients[0].unread_count, 2,
            "the first message counts too"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_append_waiting_behind_a_version_bump_is_stale() {
    with_postgres(|db| async move {
        let r = migrated(&db).await;
        let bump = [
            "UPDATE conversations SET context_version = context_version + 1 \
                     WHERE id = $1 AND $2::uuid IS NOT NULL",
        ];
        let outcome = append_behind(&db, &r, &bump).await;
        assert_eq!(outcome, CheckedAppend::StaleContext);
    })
    .await;
}

#[test]
fn test_database_urls_keep_the_server_and_swap_the_database() {
    let cases = [
        (
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://postgres@127.0.0.1:5432/x",
        ),
        (
            "postgres://u:p@h/test?sslmode=disable",
            "postgres://u:p@h/x?sslmode=disable",
        ),
        ("postgres://h:5432", "postgres://h:5432/x"),
    ];
    for (url, want) in cases {
        assert_eq!(with_database(url, "x"), want);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_fills_unread_counts_for_messages_stored_before_the_migration() {
    with_postgres(|db| async move {
        support::unread_counts_are_filled_for_existing_messages(&db).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_fills_groups_and_changes_for_conversations_stored_before_the_migration() {
    with_postgres(|db| async move {
        support::groups_and_changes_are_filled_for_existing_conversations(&db).await;
    })
    .await;
}
