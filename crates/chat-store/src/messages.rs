//! [`SqlMessageRepository`]: appends with gap-free sequences, and the reads of messages.

use chat_domain::{
    ClientSequence, ConversationId, DeviceId, MessageId, RepoError, ServerSequence, UserId,
    message::{AppendOutcome, Collision, NewMessage, StoredMessage, classify_collision},
    paging::HistoryQuery,
    ports::{HistoryPage, MessageRepository},
    read_marker::ReadTarget,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult, Value};

use crate::{
    error::{is_unique_violation, repo_err},
    history,
    mapping::{self, MESSAGE_COLUMNS, MessageRow},
    sql::{begin_write, finish, marks, retry_busy, stmt},
};

/// Messages, in the `messages` table; sequences from `conversations.last_sequence`.
#[derive(Debug, Clone)]
pub struct SqlMessageRepository {
    db: DatabaseConnection,
}

#[derive(Debug, FromQueryResult)]
struct SequenceRow {
    seq: Option<i64>,
}

/// The values of a new message that are computed once, before any attempt.
#[derive(Debug)]
struct MessageValues {
    client_sequence: Option<i64>,
    created_at: Value,
}

const INSERT_MESSAGE: &str = "INSERT INTO messages (id, conversation_id, sender_id, \
    sender_device_id, client_sequence, server_sequence, content, client_timestamp, created_at) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

impl SqlMessageRepository {
    /// A repository over `db`.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// One transaction: take the next sequence (the `UPDATE` comes first, so it takes the row
    /// lock on PostgreSQL and SQLite's write lock is already held), insert, commit. Any failure
    /// rolls back at once, so a refused insert consumes no sequence. `None`: no such conversation.
    async fn insert_next(
        &self,
        msg: &NewMessage,
        row: &MessageValues,
    ) -> Result<Option<i64>, DbErr> {
        let backend = self.db.get_database_backend();
        if backend == DbBackend::Postgres {
            return self.insert_next_in_one_statement(msg, row).await;
        }
        let txn = begin_write(&self.db).await?;
        let bump = "UPDATE conversations SET last_sequence = last_sequence + 1, \
                    last_message_at = ? WHERE id = ? RETURNING last_sequence AS seq";
        let bump_values = vec![row.created_at.clone(), msg.conversation_id.get().into()];
        let result = async {
            let bumped = SequenceRow::find_by_statement(stmt(backend, bump, bump_values))
                .one(&txn)
                .await?;
            let Some(seq) = bumped.and_then(|r| r.seq) else {
                return Ok(None);
            };
            let values = vec![
                msg.id.get().into(),
                msg.conversation_id.get().into(),
                msg.sender_id.get().into(),
                msg.sender_device_id.as_str().into(),
                row.client_sequence.into(),
                seq.into(),
                msg.content.as_str().into(),
                msg.client_timestamp.map(|t| t.millis()).into(),
                row.created_at.clone(),
            ];
            txn.execute_raw(stmt(backend, INSERT_MESSAGE, values))
                .await?;
            Ok(Some(seq))
        }
        .await;
        finish(txn, result).await
    }

    /// PostgreSQL: the sequence bump and the insert as one statement, so one round trip. The
    /// statement is its own transaction: the row lock on the conversation serialises appends,
    /// and a unique violation rolls the bump back with the insert (no gap).
    async fn insert_next_in_one_statement(
        &self,
        msg: &NewMessage,
        row: &MessageValues,
    ) -> Result<Option<i64>, DbErr> {
        let sql = "WITH bumped AS (UPDATE conversations SET last_sequence = last_sequence + 1, \
                   last_message_at = ? WHERE id = ? RETURNING last_sequence) \
                   INSERT INTO messages (id, conversation_id, sender_id, sender_device_id, \
                   client_sequence, server_sequence, content, client_timestamp, created_at) \
                   SELECT ?, ?, ?, ?, ?, bumped.last_sequence, ?, ?, ? FROM bumped \
                   RETURNING server_sequence AS seq";
        let values = vec![
            row.created_at.clone(),
            msg.conversation_id.get().into(),
            msg.id.get().into(),
            msg.conversation_id.get().into(),
            msg.sender_id.get().into(),
            msg.sender_device_id.as_str().into(),
            row.client_sequence.into(),
            msg.content.as_str().into(),
            msg.client_timestamp.map(|t| t.millis()).into(),
            row.created_at.clone(),
        ];
        let inserted = SequenceRow::find_by_statement(stmt(DbBackend::Postgres, sql, values))
            .one(&self.db)
            .await?;
        Ok(inserted.and_then(|r| r.seq))
    }

    /// After a unique violation: the row holding the colliding key decides.
    async fn resolve_collision(&self, msg: &NewMessage) -> Result<AppendOutcome, RepoError> {
        let existing = match self.find_message(msg.id).await? {
            Some(m) => Some(m),
            None => match msg.client_sequence {
                Some(seq) => {
                    self.find_by_client_sequence(
                        msg.conversation_id,
                        msg.sender_id,
                        &msg.sender_device_id,
                        seq,
                    )
                    .await?
                }
                None => None,
            },
        };
        let existing = existing
            .ok_or_else(|| RepoError::internal("unique violation without a colliding message"))?;
        match classify_collision(&existing, msg) {
            Collision::Duplicate => Ok(AppendOutcome::Duplicate(existing)),
            Collision::Conflict => Err(RepoError::Conflict),
        }
    }

    async fn find_by_client_sequence(
        &self,
        conversation: ConversationId,
        sender: UserId,
        device: &DeviceId,
        seq: ClientSequence,
    ) -> Result<Option<StoredMessage>, RepoError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN users u ON u.id = m.sender_id \
             WHERE m.conversation_id = ? AND m.sender_id = ? AND m.sender_device_id = ? \
             AND m.client_sequence = ?"
        );
        let values = vec![
            conversation.get().into(),
            sender.get().into(),
            device.as_str().into(),
            mapping::client_seq_value(Some(seq))?.into(),
        ];
        self.one_message(&sql, values).await
    }

    async fn one_message(
        &self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Option<StoredMessage>, RepoError> {
        MessageRow::find_by_statement(stmt(self.db.get_database_backend(), sql, values))
            .one(&self.db)
            .await
            .map_err(repo_err)?
            .map(mapping::message)
            .transpose()
    }
}

#[async_trait::async_trait]
impl MessageRepository for SqlMessageRepository {
    async fn append(&self, msg: NewMessage) -> Result<AppendOutcome, RepoError> {
        let backend = self.db.get_database_backend();
        let row = MessageValues {
            client_sequence: mapping::client_seq_value(msg.client_sequence)?,
            created_at: mapping::time_value(backend, msg.created_at)?,
        };
        match retry_busy(|| self.insert_next(&msg, &row)).await {
            Ok(Some(seq)) => {
                Ok(AppendOutcome::Created(StoredMessage {
                    id: msg.id,
                    conversation_id: msg.conversation_id,
                    sender_id: msg.sender_id,
                    // The caller knows the participants' names; no extra query here.
                    sender_name: None,
                    sender_device_id: msg.sender_device_id,
                    client_sequence: msg.client_sequence,
                    server_sequence: mapping::to_seq(seq)?,
                    content: msg.content,
                    created_at: msg.created_at,
                }))
            }
            Ok(None) => Err(RepoError::NotFound),
            Err(e) if is_unique_violation(&e) => self.resolve_collision(&msg).await,
            Err(e) => Err(repo_err(e)),
        }
    }

    async fn find_message(&self, id: MessageId) -> Result<Option<StoredMessage>, RepoError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN users u ON u.id = m.sender_id \
             WHERE m.id = ?"
        );
        self.one_message(&sql, vec![id.get().into()]).await
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
