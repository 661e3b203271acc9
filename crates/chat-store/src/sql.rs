//! Raw SQL shared by both backends: statements are written once with `?` placeholders and
//! numbered (`$1`, `$2`, …) for PostgreSQL; write transactions take SQLite's write lock up front.

use std::time::Duration;

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, Value,
};

use crate::error::is_sqlite_busy;

/// A statement for `backend` from SQL written with `?` placeholders (none inside literals).
pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => number_placeholders(sql),
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0_usize;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// `?, ?, ?` for an `IN (…)` list of `n` values.
pub(crate) fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`, so it waits (busy
/// timeout) for the write lock at the start instead of failing when it upgrades from reading.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Commits on success; on failure rolls back at once (before anything else reads: on
/// PostgreSQL the failed transaction is aborted, on SQLite it still holds the write lock) and
/// hands back the original error.
pub(crate) async fn finish<T>(
    txn: DatabaseTransaction,
    result: Result<T, DbErr>,
) -> Result<T, DbErr> {
    match result {
        Ok(value) => {
            txn.commit().await?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "rolling back a failed write failed");
            }
            Err(e)
        }
    }
}

/// How many times a write that SQLite refused as busy is tried again.
const BUSY_RETRIES: u32 = 8;
/// No retry starts this long after the first attempt did: with the 1 s busy timeout, a write
/// is tried at most twice when each waits out the busy timeout, and answered within about
/// 2.2 s (protocol 4.6: within 3 s). A busy answer that comes early (a snapshot that cannot be
/// upgraded to write) is retried more often within the same budget.
pub(crate) const BUSY_BUDGET: Duration = Duration::from_millis(1_200);

/// Runs `op` again (after a short, growing pause) while SQLite reports the database busy
/// before [`BUSY_BUDGET`] is spent. Other errors, and PostgreSQL, pass through at once.
pub(crate) async fn retry_busy<T, F, Fut>(op: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DbErr>>,
{
    retry_busy_within(BUSY_BUDGET, op).await
}

/// [`retry_busy`] with a budget of its own (what is left of the request's).
pub(crate) async fn retry_busy_within<T, F, Fut>(budget: Duration, mut op: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DbErr>>,
{
    let mut attempt = 0;
    let start = std::time::Instant::now();
    loop {
        match op().await {
            Err(e) if attempt < BUSY_RETRIES && start.elapsed() < budget && is_sqlite_busy(&e) => {
                attempt += 1;
                tracing::debug!(attempt, "sqlite busy, retrying the write");
                tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let sql = "SELECT 1 WHERE a = ? AND b IN (?, ?)";
        assert_eq!(
            stmt(DbBackend::Postgres, sql, vec![]).sql,
            "SELECT 1 WHERE a = $1 AND b IN ($2, $3)"
        );
        assert_eq!(stmt(DbBackend::Sqlite, sql, vec![]).sql, sql);
        assert_eq!(marks(3), "?, ?, ?");
    }
}
