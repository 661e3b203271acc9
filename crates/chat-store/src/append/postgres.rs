//! PostgreSQL: appends go through one statement that takes any number of messages of distinct
//! conversations (their rows as one JSON array), so that concurrent sends share a statement,
//! a transaction and a WAL flush (group commit, see `group`). A statement of one message is
//! the ordinary path; every ack still follows the commit of its own message.
//!
//! The statement locks the conversations' rows in id order (`FOR UPDATE` below a sort), so two
//! batches in flight at once never wait on each other in a cycle; the row lock serialises the
//! appends of a conversation and the writes that move its context version. Each message takes
//! its conversation's next sequence and is inserted only while the version is the expected
//! one; every other active participant's `unread_count` goes up by one in the same statement,
//! and the new counts come back. A conversation's sequence moves only with a row inserted, so
//! nothing leaves a gap: alone, a unique violation rolls the statement back.
//!
//! A batch of several messages leaves out the messages that collide with stored ones (`ON
//! CONFLICT DO NOTHING`: resends, and ids or client sequences taken), so that one does not
//! fail the others. A message the batch did not store (resend, stale version, missing
//! conversation, or a failed batch) is appended again on its own, where the unique
//! constraints decide duplicates and conflicts as always.

use chat_domain::message::NewMessage;
use sea_orm::{DatabaseConnection, DbBackend, DbErr, FromQueryResult, Statement};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::attempt::{Attempt, INSERT_COLUMNS, MessageValues, missed};
use crate::mapping::RecipientRow;

/// One message as the statement reads it: a row of its JSON input, serialised once.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) conversation: Uuid,
    json: String,
}

impl Row {
    pub(super) fn new(msg: &NewMessage, v: &MessageValues) -> Self {
        Self {
            conversation: msg.conversation_id.get(),
            json: json!({
                "id": msg.id.get().to_string(),
                "conversation_id": msg.conversation_id.get().to_string(),
                "sender_id": msg.sender_id.get().to_string(),
                "device": msg.sender_device_id.as_str(),
                "client_sequence": v.client_sequence,
                "content": msg.content.as_str(),
                "client_timestamp": msg.client_timestamp.map(|t| t.millis()),
                "created_at": msg.created_at.to_rfc3339(),
                "expected": v.expected,
            })
            .to_string(),
        }
    }
}

/// The statement for `rows` (`$1`, a JSON array); `skip_resends` leaves out the messages
/// that collide with a stored one (id or client sequence), instead of failing on them.
///
/// Written for the plan: `= ANY(ARRAY(…))` finds the conversations by their primary key (an
/// `IN (SELECT …)` over a function's rows, which the planner guesses at 100, becomes a
/// sequential scan). Resends are left out by `ON CONFLICT DO NOTHING`, which probes the unique
/// indexes themselves: an earlier `NOT EXISTS` on the client sequence let the planner pick
/// `idx_messages_conversation_created_at` and filter, a plan that a connection kept once
/// prepared while the table was small, and that scanned each conversation's whole history on
/// every append (measured: tuples fetched per message growing from 6 to over 300 within two
/// minutes of `chat-bench throughput` on a fresh database). The conversation's sequence moves
/// only for the rows inserted, so a skipped message leaves no gap.
fn statement(rows: &[&Row], skip_resends: bool) -> Statement {
    let skip = if skip_resends {
        " ON CONFLICT DO NOTHING"
    } else {
        ""
    };
    let sql = format!(
        "WITH input AS (SELECT * FROM json_to_recordset($1::json) AS i(id uuid, \
         conversation_id uuid, sender_id uuid, device text, client_sequence int8, content text, \
         client_timestamp int8, created_at timestamptz, expected int8)), \
         locked AS (SELECT c.id, c.last_sequence, c.context_version FROM conversations c \
         WHERE c.id = ANY(ARRAY(SELECT conversation_id FROM input)) ORDER BY c.id FOR UPDATE), \
         accepted AS (SELECT i.*, l.last_sequence + 1 AS seq FROM input i \
         JOIN locked l ON l.id = i.conversation_id \
         WHERE l.context_version = i.expected), \
         ins AS ({INSERT_COLUMNS} SELECT a.id, a.conversation_id, a.sender_id, a.device, \
         a.client_sequence, a.seq, a.content, a.client_timestamp, a.created_at FROM accepted a\
         {skip} RETURNING id, conversation_id, sender_id, server_sequence, created_at), \
         bumped AS (UPDATE conversations c SET last_sequence = ins.server_sequence, \
         last_message_at = ins.created_at FROM ins WHERE c.id = ins.conversation_id \
         RETURNING c.id), \
         counted AS (UPDATE participants p SET unread_count = p.unread_count + 1 FROM ins \
         WHERE p.conversation_id = ins.conversation_id AND p.user_id <> ins.sender_id \
         AND p.left_at IS NULL \
         RETURNING ins.id AS message_id, p.user_id, p.last_read_sequence, p.last_read_at, \
         p.unread_count) \
         SELECT ins.conversation_id, ins.server_sequence AS seq, c.user_id, \
         c.last_read_sequence, c.last_read_at, c.unread_count AS unread \
         FROM ins LEFT JOIN counted c ON c.message_id = ins.id \
         ORDER BY ins.conversation_id, c.user_id"
    );
    let mut input = String::from("[");
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            input.push(',');
        }
        input.push_str(&row.json);
    }
    input.push(']');
    Statement::from_sql_and_values(DbBackend::Postgres, sql, vec![input.into()])
}

/// One row of the result: a stored message, with one other participant (or none).
#[derive(Debug, FromQueryResult)]
struct AppendedRow {
    conversation_id: Uuid,
    seq: i64,
    user_id: Option<Uuid>,
    last_read_sequence: Option<i64>,
    last_read_at: Option<OffsetDateTime>,
    unread: Option<i64>,
}

/// Appends `rows` (distinct conversations) in one statement. Returns what was stored, by
/// conversation (a batch holds one message per conversation), in the order of the
/// conversations' ids; a message whose conversation is missing from it was not stored. Not by
/// message id: two messages of one batch may share an id, and the one skipped must not be
/// answered with the other's outcome.
pub(super) async fn stored(
    db: &DatabaseConnection,
    rows: &[&Row],
    skip_resends: bool,
) -> Result<Vec<(Uuid, Attempt)>, DbErr> {
    let result = AppendedRow::find_by_statement(statement(rows, skip_resends))
        .all(db)
        .await?;
    let mut out: Vec<(Uuid, Attempt)> = Vec::new();
    for r in result {
        let recipient = match (r.user_id, r.last_read_sequence, r.unread) {
            (Some(user_id), Some(last_read_sequence), Some(unread)) => Some(RecipientRow {
                user_id,
                last_read_sequence,
                last_read_at: r.last_read_at,
                unread,
            }),
            _ => None,
        };
        match out.last_mut() {
            Some((conversation, Attempt::Stored { recipients, .. }))
                if *conversation == r.conversation_id =>
            {
                recipients.extend(recipient);
            }
            _ => out.push((
                r.conversation_id,
                Attempt::Stored {
                    seq: r.seq,
                    recipients: recipient.into_iter().collect(),
                },
            )),
        }
    }
    Ok(out)
}

/// One message on its own: stored, or why not (a unique violation comes back as the error).
pub(super) async fn attempt(db: &DatabaseConnection, row: &Row) -> Result<Attempt, DbErr> {
    match stored(db, &[row], false).await?.pop() {
        Some((_, attempt)) => Ok(attempt),
        None => missed(db, chat_domain::ConversationId::new(row.conversation)).await,
    }
}
