//! [`StoreError`] for setup, and the one mapping of sea-orm errors to `RepoError`.

use chat_domain::RepoError;
use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};

/// Setting up the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached.
    #[error("could not connect to the database")]
    Connect(#[source] DbErr),
    /// A migration failed.
    #[error("could not migrate the database")]
    Migrate(#[source] DbErr),
    /// The database cannot commit now (unreachable, failing, or a lock in the way).
    #[error("the database cannot commit")]
    CannotCommit(#[source] DbErr),
}

/// SQLite result codes that mean "another connection holds the lock": `SQLITE_BUSY` and
/// `SQLITE_LOCKED` and their extended codes.
const SQLITE_BUSY_CODES: [&str; 6] = ["5", "6", "261", "262", "517", "773"];

/// PostgreSQL SQLSTATEs that say the database cannot serve now, whatever the request: too
/// many connections, shutdowns, a lock not granted within `lock_timeout`, a statement cancelled
/// (`statement_timeout`), and the whole connection-exception class.
fn pg_outage(code: &str) -> bool {
    code.starts_with("08")
        || matches!(
            code,
            "53300" | "55P03" | "57014" | "57P01" | "57P02" | "57P03"
        )
}

/// PostgreSQL SQLSTATEs after which the same request may succeed later: the outages, and a
/// serialization failure or deadlock (which concern the rows at hand).
fn pg_transient(code: &str) -> bool {
    pg_outage(code) || matches!(code, "40001" | "40P01")
}

/// Maps a sea-orm error: outages (pool timeouts, connection and I/O failures, lock timeouts)
/// become `Unavailable`, anything else `Internal`. Constraint violations that a method gives a
/// meaning to are recognised by that method first (see [`is_unique_violation`]).
pub(crate) fn repo_err(err: DbErr) -> RepoError {
    if is_transient(&err) {
        RepoError::unavailable(err)
    } else {
        RepoError::internal(err)
    }
}

fn is_transient(err: &DbErr) -> bool {
    classify(err, pg_transient)
}

/// Whether `err` says the database cannot serve now (unreachable, pool exhausted, a lock or
/// statement timeout, SQLite busy), as opposed to a problem of the rows at hand (a constraint,
/// a deadlock, a serialization failure) that the same write alone may not meet again.
pub(crate) fn is_outage(err: &DbErr) -> bool {
    classify(err, pg_outage)
}

fn classify(err: &DbErr, pg: fn(&str) -> bool) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match &**e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Protocol(_) => true,
                sqlx::Error::Database(db) => db
                    .code()
                    .is_some_and(|code| SQLITE_BUSY_CODES.contains(&code.as_ref()) || pg(&code)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether the statement broke a unique constraint (primary keys included).
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether the statement referenced a row that does not exist.
pub(crate) fn is_foreign_key_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// Whether SQLite refused because another connection held the lock past the busy timeout.
pub(crate) fn is_sqlite_busy(err: &DbErr) -> bool {
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => match &**e {
            sqlx::Error::Database(db) => db
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some_and(|_| {
                    db.code()
                        .is_some_and(|code| SQLITE_BUSY_CODES.contains(&code.as_ref()))
                }),
            _ => false,
        },
        _ => false,
    }
}
