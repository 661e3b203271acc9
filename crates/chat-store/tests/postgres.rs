//! The repository contracts and the migrations, on PostgreSQL: each test gets its own fresh
//! database on the server of `CHAT_TEST_DATABASE_URL`, and says it skipped without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chat_migrations::{Migrator, MigratorTrait};
use chat_testkit::contract::{
    block_repository_contract, run_repository_contracts, user_repository_contract,
};
use sea_orm::ConnectionTrait;
use support::{migrated, with_database, with_postgres};

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
        migrated(&db).await;
        let r = migrated(&db).await;
        user_repository_contract(&r).await;

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
        user_repository_contract(&r).await;
        block_repository_contract(&r).await;
        assert!(
            Migrator::get_pending_migrations(&db)
                .await
                .unwrap()
                .is_empty()
        );
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
