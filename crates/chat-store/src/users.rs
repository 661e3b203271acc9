//! [`SqlUserRepository`].

use chat_domain::{
    DisplayName, RepoError, Timestamp, UserId,
    ports::{Revocation, UserRepository},
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult,
    prelude::TimeDateTimeWithTimeZone,
};
use uuid::Uuid;

use crate::{
    error::repo_err,
    mapping,
    sql::{retry_busy, stmt},
    versions::{Moves, change_and_bump},
};

/// The start of every insert of users.
const INSERT: &str = "INSERT INTO users (id, name, created_at) VALUES";

/// Inserts `n` users without a name (bind each one's id and creation time), leaving those
/// that exist as they are.
pub(crate) fn insert_unnamed(n: usize) -> String {
    let rows = vec!["(?, NULL, ?)"; n].join(", ");
    format!("{INSERT} {rows} ON CONFLICT (id) DO NOTHING")
}

#[derive(Debug, FromQueryResult)]
struct IdRow {
    id: Uuid,
}

#[derive(Debug, FromQueryResult)]
struct RevocationRow {
    id: Uuid,
    tokens_revoked_at: TimeDateTimeWithTimeZone,
}

impl RevocationRow {
    fn into_domain(self) -> Result<Revocation, RepoError> {
        Ok(Revocation {
            user_id: UserId::new(self.id),
            at: mapping::from_datetime(self.tokens_revoked_at)?,
        })
    }
}

/// Users, in the `users` table.
#[derive(Debug, Clone)]
pub struct SqlUserRepository {
    db: DatabaseConnection,
}

impl SqlUserRepository {
    /// A repository over `db`.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl UserRepository for SqlUserRepository {
    async fn upsert_user(
        &self,
        id: UserId,
        name: Option<DisplayName>,
        now: Timestamp,
    ) -> Result<(), RepoError> {
        let backend = self.db.get_database_backend();
        let created_at = mapping::time_value(backend, now)?;
        let Some(name) = name else {
            let sql = insert_unnamed(1);
            let values = vec![id.get().into(), created_at];
            retry_busy(|| self.db.execute_raw(stmt(backend, &sql, values.clone())))
                .await
                .map_err(repo_err)?;
            return Ok(());
        };
        // The row comes back only when inserted or renamed (an unchanged name writes nothing),
        // and then the user's conversations move their context version.
        let distinct = if backend == DbBackend::Postgres {
            "IS DISTINCT FROM"
        } else {
            "IS NOT"
        };
        let sql = format!(
            "{INSERT} (?, ?, ?) ON CONFLICT (id) \
             DO UPDATE SET name = excluded.name WHERE users.name {distinct} excluded.name \
             RETURNING id"
        );
        let values = vec![id.get().into(), name.as_str().into(), created_at];
        change_and_bump(
            &self.db,
            &sql,
            values,
            Moves::UsersConversations,
            |r: &IdRow| r.id,
        )
        .await
        .map_err(repo_err)?;
        Ok(())
    }

    async fn revoke_tokens(&self, id: UserId, at: Timestamp) -> Result<(), RepoError> {
        let backend = self.db.get_database_backend();
        let when = mapping::time_value(backend, at)?;
        let insert = insert_unnamed(1);
        let values = vec![id.get().into(), when.clone()];
        retry_busy(|| self.db.execute_raw(stmt(backend, &insert, values.clone())))
            .await
            .map_err(repo_err)?;
        // The point only moves forward (the text form on SQLite sorts as time does).
        let update = "UPDATE users SET tokens_revoked_at = ? WHERE id = ? \
                      AND (tokens_revoked_at IS NULL OR tokens_revoked_at < ?)";
        let values = vec![when.clone(), id.get().into(), when];
        retry_busy(|| self.db.execute_raw(stmt(backend, update, values.clone())))
            .await
            .map_err(repo_err)?;
        Ok(())
    }

    async fn revoked_at(&self, id: UserId) -> Result<Option<Timestamp>, RepoError> {
        let backend = self.db.get_database_backend();
        let sql = "SELECT id, tokens_revoked_at FROM users \
                   WHERE id = ? AND tokens_revoked_at IS NOT NULL";
        let row = RevocationRow::find_by_statement(stmt(backend, sql, vec![id.get().into()]))
            .one(&self.db)
            .await
            .map_err(repo_err)?;
        row.map(|r| r.into_domain().map(|r| r.at)).transpose()
    }

    async fn revocations_after(
        &self,
        after: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Revocation>, RepoError> {
        let backend = self.db.get_database_backend();
        let (sql, mut values) = match after {
            Some(after) => (
                "SELECT id, tokens_revoked_at FROM users WHERE tokens_revoked_at > ? \
                 ORDER BY tokens_revoked_at, id LIMIT ?",
                vec![mapping::time_value(backend, after)?],
            ),
            None => (
                "SELECT id, tokens_revoked_at FROM users WHERE tokens_revoked_at IS NOT NULL \
                 ORDER BY tokens_revoked_at, id LIMIT ?",
                Vec::new(),
            ),
        };
        values.push(i64::from(limit).into());
        let rows = RevocationRow::find_by_statement(stmt(backend, sql, values))
            .all(&self.db)
            .await
            .map_err(repo_err)?;
        rows.into_iter().map(RevocationRow::into_domain).collect()
    }
}
