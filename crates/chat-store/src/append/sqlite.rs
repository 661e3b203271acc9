//! SQLite: an append is one `BEGIN IMMEDIATE` transaction (SQLite has one writer at a time;
//! appends of a node take turns, see `group`).

use chat_domain::message::NewMessage;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, Value};

use super::attempt::{Attempt, INSERT_COLUMNS, MessageValues, missed};
use crate::{
    mapping::RecipientRow,
    sql::{begin_write, finish, stmt},
    unread::COUNT_APPENDED,
};

#[derive(Debug, FromQueryResult)]
struct SequenceRow {
    seq: Option<i64>,
}

/// The bound values of the insert, in the column order of `INSERT_COLUMNS`, with `seq`.
fn insert_values(msg: &NewMessage, v: &MessageValues, seq: Value) -> Vec<Value> {
    vec![
        msg.id.get().into(),
        msg.conversation_id.get().into(),
        msg.sender_id.get().into(),
        msg.sender_device_id.as_str().into(),
        v.client_sequence.into(),
        seq,
        msg.content.as_str().into(),
        msg.client_timestamp.map(|t| t.millis()).into(),
        v.created_at.clone(),
    ]
}

/// SQLite: one `BEGIN IMMEDIATE` transaction: take the next sequence (checking the version in
/// the same `UPDATE`), insert, read the recipients, commit. Any failure rolls back at once, so
/// a refused insert consumes no sequence.
pub(super) async fn in_transaction(
    db: &DatabaseConnection,
    msg: &NewMessage,
    v: &MessageValues,
) -> Result<Attempt, DbErr> {
    let backend = db.get_database_backend();
    let txn = begin_write(db).await?;
    let result = async {
        let bump = "UPDATE conversations SET last_sequence = last_sequence + 1, \
                    last_message_at = ? WHERE id = ? AND context_version = ? \
                    RETURNING last_sequence AS seq";
        let values = vec![
            v.created_at.clone(),
            msg.conversation_id.get().into(),
            v.expected.into(),
        ];
        let bumped = SequenceRow::find_by_statement(stmt(backend, bump, values))
            .one(&txn)
            .await?;
        let Some(seq) = bumped.and_then(|r| r.seq) else {
            return missed(&txn, msg.conversation_id).await;
        };
        let insert = format!("{INSERT_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        txn.execute_raw(stmt(backend, &insert, insert_values(msg, v, seq.into())))
            .await?;
        let counted = vec![msg.conversation_id.get().into(), msg.sender_id.get().into()];
        let mut recipients =
            RecipientRow::find_by_statement(stmt(backend, COUNT_APPENDED, counted))
                .all(&txn)
                .await?;
        recipients.sort_by_key(|r| r.user_id);
        Ok(Attempt::Stored { seq, recipients })
    }
    .await;
    finish(txn, result).await
}
