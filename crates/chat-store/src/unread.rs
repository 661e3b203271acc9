//! Unread counts, always derived: messages others sent after a participant's read marker.

use chat_domain::{ConversationId, RepoError, UserId};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};
use uuid::Uuid;

use crate::{
    error::repo_err,
    mapping::{self, RecipientRow},
    sql::{marks, stmt},
};

#[derive(Debug, FromQueryResult)]
struct UnreadRow {
    conversation_id: Uuid,
    unread: i64,
}

/// Derived unread counts of `user`'s active conversations (only `within`, when given).
pub(crate) async fn unread_by_conversation(
    db: &DatabaseConnection,
    user: UserId,
    within: Option<&[Uuid]>,
) -> Result<Vec<(ConversationId, u64)>, RepoError> {
    let mut values = vec![user.get().into()];
    let mut filter = String::new();
    if let Some(ids) = within {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        filter = format!(" AND p.conversation_id IN ({})", marks(ids.len()));
        values.extend(ids.iter().map(|&c| c.into()));
    }
    let sql = format!(
        "SELECT p.conversation_id AS conversation_id, COUNT(m.id) AS unread \
         FROM participants p LEFT JOIN messages m ON m.conversation_id = p.conversation_id \
         AND m.server_sequence > p.last_read_sequence AND m.sender_id <> p.user_id \
         WHERE p.user_id = ? AND p.left_at IS NULL{filter} GROUP BY p.conversation_id"
    );
    let rows = UnreadRow::find_by_statement(stmt(db.get_database_backend(), &sql, values))
        .all(db)
        .await
        .map_err(repo_err)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                ConversationId::new(r.conversation_id),
                mapping::to_count(r.unread),
            )
        })
        .collect())
}

/// The active participants of `conversation` other than `sender`, each with their marker and
/// their unread count as of the message at `sequence` (messages after it are not counted, so
/// the count is exact for that message however many appends followed).
pub(crate) async fn recipients_at<C: ConnectionTrait>(
    conn: &C,
    conversation: ConversationId,
    sender: UserId,
    sequence: i64,
) -> Result<Vec<RecipientRow>, DbErr> {
    let sql = "SELECT p.user_id, p.last_read_sequence, p.last_read_at, \
               (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = p.conversation_id \
               AND m.server_sequence > p.last_read_sequence AND m.server_sequence <= ? \
               AND m.sender_id <> p.user_id) AS unread \
               FROM participants p WHERE p.conversation_id = ? AND p.user_id <> ? \
               AND p.left_at IS NULL ORDER BY p.user_id";
    let values = vec![
        sequence.into(),
        conversation.get().into(),
        sender.get().into(),
    ];
    RecipientRow::find_by_statement(stmt(conn.get_database_backend(), sql, values))
        .all(conn)
        .await
}
