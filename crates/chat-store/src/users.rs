//! [`SqlUserRepository`].

use chat_domain::{DisplayName, RepoError, Timestamp, UserId, ports::UserRepository};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult};
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
}
