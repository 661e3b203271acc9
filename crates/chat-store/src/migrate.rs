//! [`migrate`]: bringing the schema up to date, one process at a time.
//!
//! Nodes started together on a new PostgreSQL database used to race on the migrations (two
//! `CREATE TABLE`s of one name collide in `pg_type`, issue 20), and a node that lost the race
//! failed to start. On PostgreSQL the run now holds a session-level advisory lock
//! ([`MIGRATION_LOCK`]): the other nodes wait for it, then find every migration applied and
//! carry on.
//!
//! The lock and the migrations share ONE connection of their own, opened for the run (a pool
//! of exactly one connection, never recycled) and closed after it:
//! - a session-level lock belongs to the connection that took it, and the application pool
//!   hands each statement any of its connections: a lock taken through it would stay with
//!   whichever connection ran it, and the unlock could run on another and release nothing;
//! - were the migrations to run through the pool while another connection held the lock, the
//!   loss of that connection (a network cut, a proxy's idle timeout) would release the lock
//!   while they went on, and a second node would start migrating beside them. On one
//!   connection, losing it fails the migration in progress along with the lock;
//! - a connection outside the pool leaves the pool whole (one of one connection taken for the
//!   lock would leave none to migrate with). It also means that the lock ends with the
//!   connection whatever happens: an error, a panic, a cancelled start.
//!
//! SQLite takes no lock beyond its own: a SQLite database belongs to one node (the embedded
//! default). SQLite serialises each write on its file lock, statement by statement, not a
//! whole run of migrations, so processes must not migrate one file at the same time.

use chat_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseConnectionType, DbBackend, DbErr,
    SqlxPostgresConnector, Statement, sqlx::postgres::PgPoolOptions,
};

use crate::error::StoreError;

/// The key of the PostgreSQL advisory lock held while migrating: `chat-mig` in ASCII. Only
/// the migrations of this schema take it.
const MIGRATION_LOCK: i64 = 0x6368_6174_2d6d_6967;

/// Brings the schema up to date (idempotent). On PostgreSQL one process migrates at a time:
/// the others wait, then find the migrations applied (see the module docs).
///
/// # Errors
/// [`StoreError::Connect`] when the migration's own connection cannot be opened,
/// [`StoreError::Migrate`] when the lock or a migration fails.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), StoreError> {
    let DatabaseConnectionType::SqlxPostgresPoolConnection(_) = &db.inner else {
        return Migrator::up(db, None).await.map_err(StoreError::Migrate);
    };
    let own = own_connection(db).await.map_err(StoreError::Connect)?;
    let result = migrate_locked(&own).await;
    // Closing it ends the session, and with it the lock, whatever happened above.
    if let Err(error) = own.close().await {
        tracing::warn!(%error, "closing the migration's connection failed");
    }
    result.map_err(StoreError::Migrate)
}

/// A pool of exactly one connection to the database of `db`, with its options, that keeps
/// its connection for as long as it lives.
async fn own_connection(db: &DatabaseConnection) -> Result<DatabaseConnection, DbErr> {
    let pool = db.get_postgres_connection_pool();
    let one = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(pool.options().get_acquire_timeout())
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .connect_with((*pool.connect_options()).clone())
        .await
        .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e))))?;
    Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(one))
}

/// Takes the lock on `own` (waiting for another process's run), migrates on `own`, and
/// releases the lock.
async fn migrate_locked(own: &DatabaseConnection) -> Result<(), DbErr> {
    // The pool's lock and statement timeouts are for requests: a migration may wait for a
    // lock and run as long as it needs.
    own.execute_unprepared("SET lock_timeout = 0; SET statement_timeout = 0")
        .await?;
    if !lock_call(own, "pg_try_advisory_lock").await? {
        tracing::info!("another process is migrating the database; waiting for it");
        own.execute_raw(lock_statement("pg_advisory_lock")).await?;
    }
    let migrated = Migrator::up(own, None).await;
    match lock_call(own, "pg_advisory_unlock").await {
        Ok(true) => {}
        // Closing the connection releases it anyway.
        Ok(false) => tracing::warn!("the migration lock was not held at the end of the run"),
        Err(error) => tracing::warn!(%error, "releasing the migration lock failed"),
    }
    migrated
}

/// Calls the advisory lock function `function` on [`MIGRATION_LOCK`]; what it answered.
async fn lock_call(own: &DatabaseConnection, function: &str) -> Result<bool, DbErr> {
    own.query_one_raw(lock_statement(function))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("{function} returned no row")))?
        .try_get("", "answer")
}

fn lock_statement(function: &str) -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("SELECT {function}($1) AS answer"),
        [MIGRATION_LOCK.into()],
    )
}
