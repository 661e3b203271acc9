//! What one attempt at storing a message takes and answers, shared by both backends' write
//! paths (`postgres`, `sqlite`) and the batches of `group`.

use chat_domain::ConversationId;
use sea_orm::{ConnectionTrait, DbErr, Value};

use crate::{mapping::RecipientRow, send_context::current_version};

/// The values of a new message computed once, before any attempt.
#[derive(Debug)]
pub(super) struct MessageValues {
    pub(super) client_sequence: Option<i64>,
    pub(super) created_at: Value,
    /// The version the append is conditioned on.
    pub(super) expected: i64,
}

/// What one attempt did.
#[derive(Debug)]
pub(super) enum Attempt {
    /// Stored at `seq`, with the other active participants' markers and new unread counts.
    Stored {
        seq: i64,
        recipients: Vec<RecipientRow>,
    },
    /// No such conversation.
    NoConversation,
    /// The conversation's context version is not the expected one.
    Stale,
}

/// The insert of a message, its columns in the order both backends bind them.
pub(super) const INSERT_COLUMNS: &str = "INSERT INTO messages (id, conversation_id, sender_id, \
    sender_device_id, client_sequence, server_sequence, content, client_timestamp, created_at)";

/// The sequence `UPDATE` matched no row: the conversation is missing, or its version moved.
pub(super) async fn missed<C: ConnectionTrait>(
    conn: &C,
    id: ConversationId,
) -> Result<Attempt, DbErr> {
    Ok(match current_version(conn, id).await? {
        None => Attempt::NoConversation,
        Some(_) => Attempt::Stale,
    })
}
