//! [`SqlMessageRepository`]: appends with gap-free sequences (the write path is in `append`),
//! and the reads of messages.

use std::sync::Arc;

use chat_domain::{
    ClientSequence, ConversationId, DeviceId, MessageId, RepoError, ServerSequence, Timestamp,
    UserId,
    message::{NewMessage, StoredMessage},
    paging::HistoryQuery,
    ports::{CheckedAppend, ContextVersion, HistoryPage, MessageRepository},
    read_marker::ReadTarget,
};
use sea_orm::{DatabaseConnection, FromQueryResult, Value};

use crate::{
    append::{self, GroupCommit},
    error::repo_err,
    history, mapping, select,
    sql::{marks, stmt},
};

/// Messages, in the `messages` table; sequences from `conversations.last_sequence`.
#[derive(Debug, Clone)]
pub struct SqlMessageRepository {
    db: DatabaseConnection,
    /// Shared by the clones: concurrent appends share statements on PostgreSQL.
    group: Arc<GroupCommit>,
}

#[derive(Debug, FromQueryResult)]
struct SequenceRow {
    seq: Option<i64>,
}

#[derive(Debug, FromQueryResult)]
struct FirstRow {
    conversation_id: uuid::Uuid,
    seq: Option<i64>,
}

impl SqlMessageRepository {
    /// A repository over `db`.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            group: Arc::new(GroupCommit::new(db.clone())),
            db,
        }
    }

    /// A repository over `db` whose grouped appends (PostgreSQL) go through `writer`, a pool
    /// of its own (one connection is enough: one statement is in flight at a time), so that
    /// they always reach the same, warm database backend.
    #[must_use]
    pub fn with_writer(db: DatabaseConnection, writer: DatabaseConnection) -> Self {
        Self {
            group: Arc::new(GroupCommit::new(writer)),
            db,
        }
    }
}

#[async_trait::async_trait]
impl MessageRepository for SqlMessageRepository {
    async fn append_if_current(
        &self,
        msg: NewMessage,
        expected: ContextVersion,
    ) -> Result<CheckedAppend, RepoError> {
        append::append(&self.db, &self.group, msg, expected).await
    }

    async fn find_message(&self, id: MessageId) -> Result<Option<StoredMessage>, RepoError> {
        select::message_by_id(&self.db, id).await
    }

    async fn list_history(
        &self,
        conversation: ConversationId,
        query: HistoryQuery,
    ) -> Result<HistoryPage, RepoError> {
        history::page(&self.db, conversation, query).await
    }

    async fn resolve_read_target(
        &self,
        conversation: ConversationId,
        target: ReadTarget,
    ) -> Result<Option<ServerSequence>, RepoError> {
        let backend = self.db.get_database_backend();
        let mut terms = Vec::new();
        let mut values = vec![conversation.get().into()];
        if let Some(at) = target.at {
            terms.push("created_at <= ?".to_owned());
            values.push(mapping::time_value(backend, at)?);
        }
        if !target.message_ids.is_empty() {
            terms.push(format!("id IN ({})", marks(target.message_ids.len())));
            values.extend(target.message_ids.iter().map(|id| Value::from(id.get())));
        }
        let named = if terms.is_empty() {
            None
        } else {
            let sql = format!(
                "SELECT MAX(server_sequence) AS seq FROM messages WHERE conversation_id = ? AND ({})",
                terms.join(" OR ")
            );
            SequenceRow::find_by_statement(stmt(backend, &sql, values))
                .one(&self.db)
                .await
                .map_err(repo_err)?
                .and_then(|r| r.seq)
                .map(mapping::to_seq)
                .transpose()?
        };
        Ok(named.max(target.sequence))
    }

    async fn list_pending(
        &self,
        cursors: Vec<(ConversationId, ServerSequence)>,
        limit: u32,
    ) -> Result<HistoryPage, RepoError> {
        history::pending(&self.db, &cursors, limit).await
    }

    async fn first_sequences_after(
        &self,
        conversations: Vec<ConversationId>,
        instant: Timestamp,
    ) -> Result<Vec<(ConversationId, ServerSequence)>, RepoError> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.db.get_database_backend();
        // One row per conversation; the (conversation_id, created_at) index serves each.
        let sql = format!(
            "SELECT conversation_id, MIN(server_sequence) AS seq FROM messages \
             WHERE conversation_id IN ({}) AND created_at > ? GROUP BY conversation_id",
            marks(conversations.len())
        );
        let mut values: Vec<Value> = conversations.iter().map(|c| c.get().into()).collect();
        values.push(mapping::time_value(backend, instant)?);
        let rows = FirstRow::find_by_statement(stmt(backend, &sql, values))
            .all(&self.db)
            .await
            .map_err(repo_err)?;
        rows.into_iter()
            .filter_map(|r| Some((r.conversation_id, r.seq?)))
            .map(|(c, seq)| Ok((ConversationId::new(c), mapping::to_seq(seq)?)))
            .collect()
    }

    async fn last_client_sequence(
        &self,
        conversation: ConversationId,
        sender: UserId,
        device: DeviceId,
    ) -> Result<Option<ClientSequence>, RepoError> {
        let sql = "SELECT MAX(client_sequence) AS seq FROM messages \
                   WHERE conversation_id = ? AND sender_id = ? AND sender_device_id = ?";
        let values = vec![
            conversation.get().into(),
            sender.get().into(),
            device.as_str().into(),
        ];
        let row = SequenceRow::find_by_statement(stmt(self.db.get_database_backend(), sql, values))
            .one(&self.db)
            .await
            .map_err(repo_err)?;
        row.and_then(|r| r.seq)
            .map(|n| u64::try_from(n).map(ClientSequence::new))
            .transpose()
            .map_err(|_| RepoError::internal("stored client sequence is negative"))
    }
}
