//! Whether the database can commit now, for `GET /health/ready` (protocol 4.6: `503` while
//! the database cannot commit).
//!
//! A ping is not enough: a database that answers `SELECT 1` may still be unable to take a
//! message (a table locked by a migration or an operator, a server in recovery or read-only).
//! The check begins a write transaction and takes, on PostgreSQL, the lock an append takes on
//! each table it writes (`ROW EXCLUSIVE`, waiting at most [`LOCK_WAIT`]), then rolls back:
//! nothing is written, and no lock stays. On SQLite `BEGIN IMMEDIATE` takes the write lock
//! (waiting at most the busy timeout). The whole check gives up after [`CHECK_LIMIT`].

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};

use crate::{error::StoreError, sql::begin_write};

/// How long the check waits for a table lock (PostgreSQL).
const LOCK_WAIT: &str = "500ms";
/// How long the whole check may take (the pool's acquire timeout included).
const CHECK_LIMIT: Duration = Duration::from_secs(2);

/// Whether the database can commit an append now.
///
/// # Errors
/// [`StoreError::CannotCommit`] when it cannot: unreachable, a lock in the way, read-only, or
/// no answer within 2 s.
pub async fn can_commit(db: &DatabaseConnection) -> Result<(), StoreError> {
    match tokio::time::timeout(CHECK_LIMIT, check(db)).await {
        Ok(result) => result.map_err(StoreError::CannotCommit),
        Err(_) => Err(StoreError::CannotCommit(DbErr::Custom(
            "no answer within 2 s".to_owned(),
        ))),
    }
}

async fn check(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = begin_write(db).await?;
    let result = if db.get_database_backend() == DbBackend::Postgres {
        async {
            txn.execute_unprepared(&format!("SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
                .await?;
            txn.execute_unprepared(
                "LOCK TABLE conversations, participants, messages IN ROW EXCLUSIVE MODE",
            )
            .await
        }
        .await
        .map(drop)
    } else {
        Ok(())
    };
    let rollback = txn.rollback().await;
    result.and(rollback)
}
