//! [`SqlBlockRepository`].

use chat_domain::{Block, ConversationId, RepoError, UserId, ports::BlockRepository};
use sea_orm::{DatabaseConnection, FromQueryResult, Value};

use crate::{
    entities::blocks,
    error::{is_foreign_key_violation, repo_err},
    mapping,
    sql::{retry_busy, stmt},
};

/// Blocks, in the `blocks` table.
#[derive(Debug, Clone)]
pub struct SqlBlockRepository {
    db: DatabaseConnection,
}

impl SqlBlockRepository {
    /// A repository over `db`.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn rows(&self, sql: &str, values: Vec<Value>) -> Result<Vec<Block>, RepoError> {
        let rows =
            blocks::Model::find_by_statement(stmt(self.db.get_database_backend(), sql, values))
                .all(&self.db)
                .await
                .map_err(repo_err)?;
        mapping::all(rows, mapping::block)
    }
}

#[async_trait::async_trait]
impl BlockRepository for SqlBlockRepository {
    async fn insert_block(&self, block: Block) -> Result<Block, RepoError> {
        let backend = self.db.get_database_backend();
        // The no-op update makes the statement return the standing row, untouched, atomically.
        let sql = "INSERT INTO blocks (conversation_id, blocker_id, blocked_id, blocked_at) \
                   VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id, blocker_id, blocked_id) \
                   DO UPDATE SET blocked_at = blocks.blocked_at RETURNING *";
        let values = vec![
            block.conversation_id.get().into(),
            block.blocker_id.get().into(),
            block.blocked_id.get().into(),
            mapping::time_value(backend, block.blocked_at)?,
        ];
        let stored = retry_busy(|| {
            blocks::Model::find_by_statement(stmt(backend, sql, values.clone())).one(&self.db)
        })
        .await;
        match stored {
            Ok(Some(row)) => mapping::block(row),
            Ok(None) => Err(RepoError::internal("upsert returned no row")),
            Err(e) if is_foreign_key_violation(&e) => Err(RepoError::NotFound),
            Err(e) => Err(repo_err(e)),
        }
    }

    async fn list_conversation_blocks(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<Block>, RepoError> {
        let sql = "SELECT * FROM blocks WHERE conversation_id = ? \
                   ORDER BY blocked_at, blocker_id, blocked_id";
        self.rows(sql, vec![conversation.get().into()]).await
    }

    async fn list_user_blocks(&self, user: UserId) -> Result<Vec<Block>, RepoError> {
        let sql = "SELECT * FROM blocks WHERE blocker_id = ? \
                   ORDER BY blocked_at, conversation_id, blocked_id";
        self.rows(sql, vec![user.get().into()]).await
    }

    async fn list_blocks_involving(&self, user: UserId) -> Result<Vec<Block>, RepoError> {
        let sql = "SELECT * FROM blocks WHERE blocker_id = ? OR blocked_id = ? \
                   ORDER BY blocked_at, conversation_id, blocker_id, blocked_id";
        self.rows(sql, vec![user.get().into(), user.get().into()])
            .await
    }

    async fn delete_block(
        &self,
        conversation: ConversationId,
        blocker: UserId,
        blocked: UserId,
    ) -> Result<Option<Block>, RepoError> {
        let backend = self.db.get_database_backend();
        let sql = "DELETE FROM blocks WHERE conversation_id = ? AND blocker_id = ? \
                   AND blocked_id = ? RETURNING *";
        let values = vec![
            conversation.get().into(),
            blocker.get().into(),
            blocked.get().into(),
        ];
        retry_busy(|| {
            blocks::Model::find_by_statement(stmt(backend, sql, values.clone())).one(&self.db)
        })
        .await
        .map_err(repo_err)?
        .map(mapping::block)
        .transpose()
    }
}
