//! [`SqlMuteRepository`].

use chat_domain::{ConversationId, Mute, RepoError, Timestamp, UserId, ports::MuteRepository};
use sea_orm::{DatabaseConnection, EntityTrait, FromQueryResult};

use crate::{
    entities::mutes,
    error::{is_foreign_key_violation, repo_err},
    mapping,
    select::MUTE_IN_FORCE,
    sql::stmt,
    versions::{Moves, change_and_bump},
};

/// Mutes, in the `mutes` table.
#[derive(Debug, Clone)]
pub struct SqlMuteRepository {
    db: DatabaseConnection,
}

impl SqlMuteRepository {
    /// A repository over `db`.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl MuteRepository for SqlMuteRepository {
    async fn upsert_mute(&self, mute: Mute) -> Result<Mute, RepoError> {
        let backend = self.db.get_database_backend();
        let sql = "INSERT INTO mutes (conversation_id, user_id, muted_at, muted_until) \
                   VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id, user_id) \
                   DO UPDATE SET muted_at = excluded.muted_at, muted_until = excluded.muted_until \
                   RETURNING *";
        let values = vec![
            mute.conversation_id.get().into(),
            mute.user_id.get().into(),
            mapping::time_value(backend, mute.muted_at)?,
            mapping::opt_time_value(backend, mute.muted_until)?,
        ];
        let key = |m: &mutes::Model| m.conversation_id;
        let stored = change_and_bump(&self.db, sql, values, Moves::TheirConversation, key)
            .await
            .map(|rows| rows.into_iter().next());
        match stored {
            Ok(Some(row)) => mapping::mute(row),
            Ok(None) => Err(RepoError::internal("upsert returned no row")),
            Err(e) if is_foreign_key_violation(&e) => Err(RepoError::NotFound),
            Err(e) => Err(repo_err(e)),
        }
    }

    async fn find_mute(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<Option<Mute>, RepoError> {
        mutes::Entity::find_by_id((conversation.get(), user.get()))
            .one(&self.db)
            .await
            .map_err(repo_err)?
            .map(mapping::mute)
            .transpose()
    }

    async fn list_user_mutes(&self, user: UserId, now: Timestamp) -> Result<Vec<Mute>, RepoError> {
        let backend = self.db.get_database_backend();
        let sql = format!(
            "SELECT * FROM mutes WHERE user_id = ? AND {MUTE_IN_FORCE} \
             ORDER BY muted_at, conversation_id"
        );
        let values = vec![user.get().into(), mapping::time_value(backend, now)?];
        let rows = mutes::Model::find_by_statement(stmt(backend, &sql, values))
            .all(&self.db)
            .await
            .map_err(repo_err)?;
        mapping::all(rows, mapping::mute)
    }

    async fn delete_mute(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<Option<Mute>, RepoError> {
        let sql = "DELETE FROM mutes WHERE conversation_id = ? AND user_id = ? RETURNING *";
        let values = vec![conversation.get().into(), user.get().into()];
        let key = |m: &mutes::Model| m.conversation_id;
        change_and_bump(&self.db, sql, values, Moves::TheirConversation, key)
            .await
            .map_err(repo_err)?
            .into_iter()
            .next()
            .map(mapping::mute)
            .transpose()
    }
}
