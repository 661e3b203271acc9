//! Unread counts: kept on the participant's row (`participants.unread_count`). An append
//! increments it for every other active participant in its own transaction (under the
//! conversation's row lock); moving the read marker subtracts the messages others sent between
//! the old and the new marker, all of which are committed (the new marker is clamped to the
//! conversation's committed `last_sequence`).

use chat_domain::{ConversationId, RepoError, UserId};
use sea_orm::{DatabaseConnection, FromQueryResult};
use uuid::Uuid;

use crate::{
    error::repo_err,
    mapping,
    select::ACTIVE_CONVERSATIONS,
    sql::{marks, stmt},
};

#[derive(Debug, FromQueryResult)]
struct UnreadRow {
    conversation_id: Uuid,
    unread: i64,
}

/// Unread counts of `user`'s active conversations (only `within`, when given).
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
        "SELECT p.conversation_id AS conversation_id, p.unread_count AS unread \
         {ACTIVE_CONVERSATIONS}{filter}"
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

/// The increment of an append, for SQLite (`?` placeholders: conversation, sender): every
/// other active participant's count goes up by one; their markers and new counts come back.
pub(crate) const COUNT_APPENDED: &str = "UPDATE participants SET unread_count = unread_count + 1 \
    WHERE conversation_id = ? AND user_id <> ? AND left_at IS NULL \
    RETURNING user_id, last_read_sequence, last_read_at, unread_count AS unread";
