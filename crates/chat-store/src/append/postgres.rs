//! PostgreSQL: an append is one statement (one round trip), its own transaction. The
//! conversation's row lock, taken by the `UPDATE`, serialises the appends of a conversation
//! and the writes that move its context version; a unique violation rolls the sequence bump
//! back with the insert (no gap).
//!
//! The conditioned form also reports the other participants' unread counts. Every part of a
//! statement reads the snapshot taken when it started, so the counting subquery sees neither
//! the new message (hence `+ 1`: it is after every marker and from someone else) nor a message
//! committed by an append that held the row lock while this one waited for it. The statement
//! therefore also reads `last_sequence` from its snapshot (`seen`): when the new sequence is
//! `seen + 1` the snapshot holds every earlier message and the counts are exact (the common
//! case); otherwise they are read again, exactly as of the new sequence, in a second query.

use chat_domain::message::NewMessage;
use sea_orm::{DatabaseConnection, DbErr, FromQueryResult, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Attempt, INSERT_COLUMNS, MessageValues, SequenceRow, missed, pg};
use crate::{mapping::RecipientRow, unread::recipients_at};

/// `$1` created at, `$2` conversation, `$3` id, `$4` sender, `$5` device, `$6` client
/// sequence, `$7` content, `$8` client timestamp; `{guard}` may add `$9`, the version.
fn bump_and_insert(guard: &str) -> String {
    format!(
        "WITH bumped AS (UPDATE conversations SET last_sequence = last_sequence + 1, \
         last_message_at = $1 WHERE id = $2{guard} RETURNING last_sequence), \
         ins AS ({INSERT_COLUMNS} SELECT $3, $2, $4, $5, $6, bumped.last_sequence, $7, $8, $1 \
         FROM bumped RETURNING server_sequence) "
    )
}

/// What the conditioned statement selects after the insert: one row per other active
/// participant (or one row of nulls when there is none).
const RECIPIENTS: &str = "SELECT ins.server_sequence AS seq, \
    (SELECT c.last_sequence FROM conversations c WHERE c.id = $2) AS seen, \
    p.user_id, p.last_read_sequence, p.last_read_at, \
    (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = $2 \
    AND m.server_sequence > p.last_read_sequence AND m.sender_id <> p.user_id) + 1 AS unread \
    FROM ins LEFT JOIN participants p ON p.conversation_id = $2 AND p.user_id <> $4 \
    AND p.left_at IS NULL ORDER BY p.user_id";

#[derive(Debug, FromQueryResult)]
struct AppendedRow {
    seq: i64,
    seen: Option<i64>,
    user_id: Option<Uuid>,
    last_read_sequence: Option<i64>,
    last_read_at: Option<OffsetDateTime>,
    unread: i64,
}

pub(super) async fn attempt(
    db: &DatabaseConnection,
    msg: &NewMessage,
    v: &MessageValues,
) -> Result<Attempt, DbErr> {
    let mut values: Vec<Value> = vec![
        v.created_at.clone(),
        msg.conversation_id.get().into(),
        msg.id.get().into(),
        msg.sender_id.get().into(),
        msg.sender_device_id.as_str().into(),
        v.client_sequence.into(),
        msg.content.as_str().into(),
        msg.client_timestamp.map(|t| t.millis()).into(),
    ];
    let Some(expected) = v.expected else {
        let sql = bump_and_insert("") + "SELECT server_sequence AS seq FROM ins";
        let inserted = SequenceRow::find_by_statement(pg(sql, values))
            .one(db)
            .await?;
        return Ok(match inserted.and_then(|r| r.seq) {
            Some(seq) => Attempt::Stored {
                seq,
                recipients: Vec::new(),
            },
            None => Attempt::NoConversation,
        });
    };
    values.push(expected.into());
    let sql = bump_and_insert(" AND context_version = $9") + RECIPIENTS;
    let rows = AppendedRow::find_by_statement(pg(sql, values))
        .all(db)
        .await?;
    let Some(seq) = rows.first().map(|r| r.seq) else {
        return missed(db, msg.conversation_id).await;
    };
    let complete_snapshot = rows.first().and_then(|r| r.seen) == Some(seq - 1);
    let recipients = if complete_snapshot {
        from_snapshot(rows)
    } else {
        // Committed: a failure here must not turn the stored message into an error.
        match recipients_at(db, msg.conversation_id, msg.sender_id, seq).await {
            Ok(exact) => exact,
            Err(e) => {
                tracing::warn!(error = %e, "re-reading unread counts failed; using the snapshot");
                from_snapshot(rows)
            }
        }
    };
    Ok(Attempt::Stored { seq, recipients })
}

fn from_snapshot(rows: Vec<AppendedRow>) -> Vec<RecipientRow> {
    rows.into_iter()
        .filter_map(|r| {
            Some(RecipientRow {
                user_id: r.user_id?,
                last_read_sequence: r.last_read_sequence?,
                last_read_at: r.last_read_at,
                unread: r.unread,
            })
        })
        .collect()
}
