//! The repository contracts and the migrations, on SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chat_domain::{RepoError, UserId};
use chat_migrations::{Migrator, MigratorTrait};
use chat_store::{StoreConfig, connect};
use chat_testkit::contract::{Repositories, run_repository_contracts};
use sea_orm::ConnectionTrait;
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
    migrated(&db).await;
    let r = migrated(&db).await;
    smoke(&r).await;

    Migrator::down(&db, None).await.unwrap();
    for table in [
        "users",
        "conversations",
        "participants",
        "messages",
        "blocks",
        "mutes",
    ] {
        let probe = db
            .execute_unprepared(&format!("SELECT 1 FROM {table}"))
            .await;
        assert!(probe.is_err(), "{table} is dropped");
    }
    let r = migrated(&db).await;
    smoke(&r).await;
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn smoke(r: &Repositories) {
    chat_testkit::contract::user_repository_contract(r).await;
    chat_testkit::contract::block_repository_contract(r).await;
}

#[tokio::test]
async fn a_closed_pool_is_reported_unavailable_not_internal() {
    let (_dir, db) = sqlite_file().await;
    let r = migrated(&db).await;
    db.close().await.unwrap();
    let err = r.users.find_user(UserId::new(Uuid::new_v4())).await;
    assert!(matches!(err, Err(RepoError::Unavailable(_))), "{err:?}");
}

#[tokio::test]
async fn sqlite_fills_unread_counts_for_messages_stored_before_the_migration() {
    let (_dir, db) = sqlite_file().await;
    support::unread_counts_are_filled_for_existing_messages(&db).await;
}
