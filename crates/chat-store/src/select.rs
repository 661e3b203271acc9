//! The selects that several modules read through, each spelled once: messages with their
//! sender's name, participants with theirs, a conversation's blocks, and a user's active
//! conversations (and when a mute is in force). Written with `?` placeholders, as [`stmt`] takes them for both backends.

use chat_domain::{ConversationId, MessageId, RepoError, StoredMessage};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, Value};
use uuid::Uuid;

use crate::{
    entities::blocks,
    error::repo_err,
    mapping::{self, MessageRow, ParticipantRow},
    sql::{marks, stmt},
};

/// Messages `m` with their sender's name (the columns of a [`MessageRow`]); the caller goes on
/// with `WHERE …` (or a join on `m`, then `WHERE …`), `ORDER BY …`, `LIMIT …`.
const MESSAGES: &str =
    "SELECT m.*, u.name AS sender_name FROM messages m LEFT JOIN users u ON u.id = m.sender_id";

/// Participants `p` with their name (the columns of a [`ParticipantRow`]); the caller goes on
/// with `WHERE …`, `ORDER BY …`.
pub(crate) const PARTICIPANTS: &str =
    "SELECT p.*, u.name AS name FROM participants p LEFT JOIN users u ON u.id = p.user_id";

/// A user's active participations `p` with their conversations `c`, the user bound first:
/// `SELECT … {ACTIVE_CONVERSATIONS} …`.
pub(crate) const ACTIVE_CONVERSATIONS: &str = "FROM participants p \
    JOIN conversations c ON c.id = p.conversation_id WHERE p.user_id = ? AND p.left_at IS NULL";

/// A condition on `mutes`: the mute is in force at the bound instant.
pub(crate) const MUTE_IN_FORCE: &str = "(muted_until IS NULL OR muted_until > ?)";

/// The messages of [`MESSAGES`] followed by `rest` (`WHERE …` and what follows), with
/// their senders' names.
pub(crate) async fn messages(
    db: &DatabaseConnection,
    rest: &str,
    values: Vec<Value>,
) -> Result<Vec<StoredMessage>, RepoError> {
    let sql = format!("{MESSAGES} {rest}");
    let rows = MessageRow::find_by_statement(stmt(db.get_database_backend(), &sql, values))
        .all(db)
        .await
        .map_err(repo_err)?;
    mapping::all(rows, mapping::message)
}

/// The message of [`MESSAGES`] followed by `rest`, a condition on a unique key.
pub(crate) async fn one_message(
    db: &DatabaseConnection,
    rest: &str,
    values: Vec<Value>,
) -> Result<Option<StoredMessage>, RepoError> {
    Ok(messages(db, rest, values).await?.into_iter().next())
}

/// A message by id, with its sender's name.
pub(crate) async fn message_by_id(
    db: &DatabaseConnection,
    id: MessageId,
) -> Result<Option<StoredMessage>, RepoError> {
    one_message(db, "WHERE m.id = ?", vec![id.get().into()]).await
}

/// The participants (names included) of the given conversations, oldest joiner first.
pub(crate) async fn participants_of<C: ConnectionTrait>(
    conn: &C,
    conversations: &[Uuid],
) -> Result<Vec<ParticipantRow>, DbErr> {
    if conversations.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{PARTICIPANTS} WHERE p.conversation_id IN ({}) ORDER BY p.joined_at, p.user_id",
        marks(conversations.len())
    );
    let values = conversations.iter().map(|&c| c.into()).collect();
    ParticipantRow::find_by_statement(stmt(conn.get_database_backend(), &sql, values))
        .all(conn)
        .await
}

/// The blocks standing in a conversation, oldest first.
pub(crate) async fn conversation_blocks<C: ConnectionTrait>(
    conn: &C,
    conversation: ConversationId,
) -> Result<Vec<blocks::Model>, DbErr> {
    let sql = "SELECT * FROM blocks WHERE conversation_id = ? \
               ORDER BY blocked_at, blocker_id, blocked_id";
    let values = vec![conversation.get().into()];
    blocks::Model::find_by_statement(stmt(conn.get_database_backend(), sql, values))
        .all(conn)
        .await
}
