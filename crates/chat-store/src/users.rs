//! [`SqlUserRepository`].

use chat_domain::{DisplayName, RepoError, Timestamp, UserId, ports::UserRepository, user::User};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::{
    entities::users,
    error::repo_err,
    mapping,
    sql::{retry_busy, stmt},
};

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
        let on_conflict = if name.is_some() {
            "DO UPDATE SET name = excluded.name"
        } else {
            "DO NOTHING"
        };
        let sql = format!(
            "INSERT INTO users (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) {on_conflict}"
        );
        let values = vec![
            id.get().into(),
            name.map(|n| n.as_str().to_owned()).into(),
            mapping::time_value(backend, now)?,
        ];
        retry_busy(|| self.db.execute_raw(stmt(backend, &sql, values.clone())))
            .await
            .map_err(repo_err)?;
        Ok(())
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, RepoError> {
        users::Entity::find_by_id(id.get())
            .one(&self.db)
            .await
            .map_err(repo_err)?
            .map(mapping::user)
            .transpose()
    }
}
