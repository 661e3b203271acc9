//! Test databases: a fresh SQLite file, and a fresh PostgreSQL database per test when
//! `CHAT_TEST_DATABASE_URL` names a server.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chat_store::{
    DatabaseConnection, SqlBlockRepository, SqlConversationRepository, SqlMessageRepository,
    SqlMuteRepository, SqlUserRepository, StoreConfig, connect, migrate,
};
use chat_testkit::contract::Repositories;
use sea_orm::ConnectionTrait;
use tempfile::TempDir;

/// Every repository over one connection pool.
pub fn repositories(db: &DatabaseConnection) -> Repositories {
    Repositories {
        users: Arc::new(SqlUserRepository::new(db.clone())),
        conversations: Arc::new(SqlConversationRepository::new(db.clone())),
        messages: Arc::new(SqlMessageRepository::new(db.clone())),
        blocks: Arc::new(SqlBlockRepository::new(db.clone())),
        mutes: Arc::new(SqlMuteRepository::new(db.clone())),
    }
}

/// A fresh SQLite database in a temporary file (real concurrency: several connections, WAL),
/// not yet migrated. Keep the directory alive as long as the database.
pub async fn sqlite_file() -> (TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.db");
    let cfg = StoreConfig::new(format!("sqlite://{}?mode=rwc", path.display()));
    let db = connect(&cfg).await.unwrap();
    (dir, db)
}

/// A fresh, empty PostgreSQL database, dropped by [`PgDatabase::drop_now`].
pub struct PgDatabase {
    base_url: String,
    name: String,
    pub db: DatabaseConnection,
}

impl PgDatabase {
    /// Creates `chat_t_<random>` on the server of `CHAT_TEST_DATABASE_URL`; `None` (after saying
    /// so) when the variable is unset.
    pub async fn create() -> Option<Self> {
        let Ok(base_url) = std::env::var("CHAT_TEST_DATABASE_URL") else {
            eprintln!("skipped: CHAT_TEST_DATABASE_URL not set");
            return None;
        };
        let name = format!("chat_t_{}", uuid::Uuid::new_v4().simple());
        let admin = connect(&StoreConfig {
            max_connections: 1,
            ..StoreConfig::new(&base_url)
        })
        .await
        .expect("CHAT_TEST_DATABASE_URL is reachable");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let cfg = StoreConfig {
            max_connections: 20,
            ..StoreConfig::new(with_database(&base_url, &name))
        };
        let db = connect(&cfg).await.unwrap();
        Some(Self { base_url, name, db })
    }

    /// Closes the pool and drops the database, best effort.
    pub async fn drop_now(self) {
        let _ = self.db.close().await;
        if let Ok(admin) = connect(&StoreConfig {
            max_connections: 1,
            ..StoreConfig::new(&self.base_url)
        })
        .await
        {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            if let Err(e) = admin.execute_unprepared(&sql).await {
                eprintln!("could not drop {}: {e}", self.name);
            }
            let _ = admin.close().await;
        }
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(authority_start);
    let (authority, path_and_query) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let query = path_and_query
        .find('?')
        .map_or("", |i| &path_and_query[i..]);
    format!("{head}{authority}/{name}{query}")
}

/// Runs `check` on a fresh, empty PostgreSQL database and drops it afterwards, even when the
/// check fails; does nothing (but say so) without `CHAT_TEST_DATABASE_URL`.
pub async fn with_postgres<F, Fut>(check: F)
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_postgres_url(|_, db| check(db)).await;
}

/// [`with_postgres`], handing `check` the database's URL too (to open pools of its own).
pub async fn with_postgres_url<F, Fut>(check: F)
where
    F: FnOnce(String, DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let url = with_database(&pg.base_url, &pg.name);
    let outcome = tokio::spawn(check(url, pg.db.clone())).await;
    pg.drop_now().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Migrations run twice (the second changes nothing), then all the way down (every table is
/// dropped) and up again, with a few repository contracts on the schema each time.
pub async fn migrations_run_twice_and_down_then_up_again(db: &DatabaseConnection) {
    use chat_migrations::{Migrator, MigratorTrait};
    use chat_testkit::contract::{block_repository_contract, user_repository_contract};

    migrated(db).await;
    let r = migrated(db).await;
    user_repository_contract(&r).await;
    block_repository_contract(&r).await;

    Migrator::down(db, None).await.unwrap();
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
    let r = migrated(db).await;
    user_repository_contract(&r).await;
    block_repository_contract(&r).await;
    assert!(
        Migrator::get_pending_migrations(db)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A user's creation time is the first sighting (no port reads it; the row keeps it): later
/// upserts, with or without a name, and a conversation with them leave it; a conversation
/// creates its new users at its own creation time.
pub async fn users_keep_the_time_they_were_first_seen(db: &DatabaseConnection) {
    use chat_domain::{ConversationId, DisplayName, OneToOnePair, Timestamp, UserId};
    use sea_orm::{DbBackend, FromQueryResult, Statement};
    use uuid::Uuid;

    #[derive(Debug, FromQueryResult)]
    struct Row {
        created_at: time::OffsetDateTime,
    }
    let first_seen = |user: UserId| async move {
        let sql = if db.get_database_backend() == DbBackend::Postgres {
            "SELECT created_at FROM users WHERE id = $1"
        } else {
            "SELECT created_at FROM users WHERE id = ?"
        };
        let stmt =
            Statement::from_sql_and_values(db.get_database_backend(), sql, [user.get().into()]);
        Row::find_by_statement(stmt)
            .one(db)
            .await
            .unwrap()
            .map(|r| i64::try_from(r.created_at.unix_timestamp_nanos() / 1_000_000).unwrap())
            .map(Timestamp::from_millis)
    };
    let at = |ms: i64| Timestamp::from_millis(1_769_509_800_000 + ms);
    let name = |n: &str| Some(DisplayName::new(n).unwrap());
    let r = migrated(db).await;
    let (ada, bob, cy) = (
        UserId::new(Uuid::new_v4()),
        UserId::new(Uuid::new_v4()),
        UserId::new(Uuid::new_v4()),
    );
    r.users.upsert_user(ada, None, at(1)).await.unwrap();
    r.users.upsert_user(ada, None, at(5_000)).await.unwrap();
    r.users
        .upsert_user(ada, name("Ada"), at(6_000))
        .await
        .unwrap();
    r.users
        .upsert_user(ada, name("Ada L."), at(7_000))
        .await
        .unwrap();
    assert_eq!(first_seen(ada).await, Some(at(1)), "the first sighting");
    r.conversations
        .find_or_create_one_to_one(
            OneToOnePair::new(ada, bob).unwrap(),
            ConversationId::new(Uuid::new_v4()),
            at(8_000),
        )
        .await
        .unwrap();
    assert_eq!(
        first_seen(bob).await,
        Some(at(8_000)),
        "created with the conversation"
    );
    assert_eq!(
        first_seen(ada).await,
        Some(at(1)),
        "an existing user is left as it was"
    );
    assert_eq!(first_seen(cy).await, None, "never seen");
}

/// Migrates and hands back the repositories.
pub async fn migrated(db: &DatabaseConnection) -> Repositories {
    migrate(db).await.unwrap();
    repositories(db)
}

/// The migration that keeps unread counts fills them for messages stored before it: undo it
/// (and the later ones), store messages the way the old schema did, migrate up again, and
/// compare each participant's count with the messages others sent after their marker.
pub async fn unread_counts_are_filled_for_existing_messages(db: &DatabaseConnection) {
    use chat_migrations::{Migrator, MigratorTrait};
    use uuid::Uuid;

    migrate(db).await.unwrap();
    let later = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m20261126_000008_add_unread_count")
        .expect("the migration exists");
    Migrator::down(db, Some(u32::try_from(later + 1).unwrap()))
        .await
        .unwrap();
    let probe = db
        .execute_unprepared("SELECT unread_count FROM participants")
        .await;
    assert!(probe.is_err(), "the column is gone after down");

    let backend = db.get_database_backend();
    // Ids bound as values (each backend stores uuids its own way); `?` numbered for PostgreSQL.
    let run = |sql: &str, values: Vec<sea_orm::Value>| {
        let mut numbered = String::new();
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' && backend == sea_orm::DbBackend::Postgres {
                n += 1;
                numbered.push_str(&format!("${n}"));
            } else {
                numbered.push(c);
            }
        }
        let stmt = sea_orm::Statement::from_sql_and_values(backend, numbered, values);
        async move { db.execute_raw(stmt).await.unwrap() }
    };
    let (ada, bob, conv) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let at = "'2026-11-26T08:00:00.000Z'";
    run(
        &format!(
            "INSERT INTO users (id, name, created_at) VALUES (?, NULL, {at}), (?, NULL, {at})"
        ),
        vec![ada.into(), bob.into()],
    )
    .await;
    run(
        &format!(
            "INSERT INTO conversations (id, kind, direct_key, created_at, last_sequence) \
             VALUES (?, 'one_to_one', 'k', {at}, 5)"
        ),
        vec![conv.into()],
    )
    .await;
    // ada has read up to 1, bob up to 3.
    run(
        &format!(
            "INSERT INTO participants (conversation_id, user_id, joined_at, last_read_sequence) \
             VALUES (?, ?, {at}, 1), (?, ?, {at}, 3)"
        ),
        vec![conv.into(), ada.into(), conv.into(), bob.into()],
    )
    .await;
    // Sequences 1..=5: ada, bob, ada, bob, ada.
    for seq in 1..=5 {
        let sender = if seq % 2 == 1 { ada } else { bob };
        run(
            &format!(
                "INSERT INTO messages (id, conversation_id, sender_id, sender_device_id, \
                 server_sequence, content, created_at) VALUES (?, ?, ?, 'd1', {seq}, 'm', {at})"
            ),
            vec![Uuid::new_v4().into(), conv.into(), sender.into()],
        )
        .await;
    }

    migrate(db).await.unwrap();
    let counts = repositories(db);
    use chat_domain::{ConversationId, UserId};
    let conv = ConversationId::new(conv);
    // ada: bob's messages after 1 are 2 and 4; bob: ada's after 3 is 5.
    let ada_unread = counts
        .conversations
        .unread_count(conv, UserId::new(ada))
        .await;
    let bob_unread = counts
        .conversations
        .unread_count(conv, UserId::new(bob))
        .await;
    assert_eq!(ada_unread.unwrap(), 2);
    assert_eq!(bob_unread.unwrap(), 1);
}
