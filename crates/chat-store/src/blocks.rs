//! [`SqlBlockRepository`].

use chat_domain::{Block, ConversationId, RepoError, UserId, ports::BlockRepository};
use sea_orm::{DatabaseConnection, FromQueryResult, Value};

use crate::{
    entities::blocks,
    error::{is_foreign_key_violation, repo_err},
    mapping,
    select::conversation_blocks,
    sql::stmt,
    versions::{Moves, change_and_bump},
};

/// The one block of a (conversation, blocker, blocked) key, bound in that order.
const BY_KEY: &str = "WHERE conversation_id = ? AND blocker_id = ? AND blocked_id = ?";

/// How many times a block is stored again after it was lifted between its insert and its read.
const INSERT_ATTEMPTS: usize = 3;

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
        // Only a new block moves the version; a standing one is returned untouched. When it is
        // lifted between the insert and the read, the insert is tried again.
        let insert = "INSERT INTO blocks (conversation_id, blocker_id, blocked_id, blocked_at) \
                      VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id, blocker_id, blocked_id) \
                      DO NOTHING RETURNING *";
        let key = || -> Vec<Value> {
            vec![
                block.conversation_id.get().into(),
                block.blocker_id.get().into(),
                block.blocked_id.get().into(),
            ]
        };
        let mut values = key();
        values.push(mapping::time_value(backend, block.blocked_at)?);
        for _ in 0..INSERT_ATTEMPTS {
            let inserted = change_and_bump(
                &self.db,
                insert,
                values.clone(),
                Moves::TheirConversation,
                |b: &blocks::Model| b.conversation_id,
            )
            .await;
            match inserted {
                Ok(rows) => {
                    if let Some(row) = rows.into_iter().next() {
                        return mapping::block(row);
                    }
                }
                Err(e) if is_foreign_key_violation(&e) => return Err(RepoError::NotFound),
                Err(e) => return Err(repo_err(e)),
            }
            let standing = format!("SELECT * FROM blocks {BY_KEY}");
            if let Some(existing) = self.rows(&standing, key()).await?.into_iter().next() {
                return Ok(existing);
            }
        }
        Err(RepoError::unavailable(
            "the block kept being lifted while it was stored",
        ))
    }

    async fn list_conversation_blocks(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<Block>, RepoError> {
        let rows = conversation_blocks(&self.db, conversation)
            .await
            .map_err(repo_err)?;
        mapping::all(rows, mapping::block)
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
        let sql = format!("DELETE FROM blocks {BY_KEY} RETURNING *");
        let values = vec![
            conversation.get().into(),
            blocker.get().into(),
            blocked.get().into(),
        ];
        change_and_bump(
            &self.db,
            &sql,
            values,
            Moves::TheirConversation,
            |b: &blocks::Model| b.conversation_id,
        )
        .await
        .map_err(repo_err)?
        .into_iter()
        .next()
        .map(mapping::block)
        .transpose()
    }
}
