//! The write path of messages: the next sequence of the conversation, the insert and the other
//! participants' unread counts, in one transaction (one statement on PostgreSQL, shared by
//! concurrent appends: `group`), optionally conditioned on the conversation's context version.
//!
//! A stale version is answered before a duplicate is recognised: with the version moved, the
//! conditional `UPDATE` matches no row, nothing is inserted and no unique key is touched, so a
//! resend under a stale context gets `StaleContext`; the caller re-reads the context, checks
//! again and retries, and the retry recognises the duplicate.

use std::sync::Arc;

use chat_domain::{
    ClientSequence, ConversationId, DeviceId, RepoError, UserId,
    message::{AppendOutcome, Collision, NewMessage, StoredMessage, classify_collision},
    ports::{CheckedAppend, ContextVersion},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult, Value};

use crate::{
    error::{is_unique_violation, repo_err},
    mapping::{self, RecipientRow},
    select,
    send_context::current_version,
    sql::{begin_write, finish, retry_busy, stmt},
    unread::COUNT_APPENDED,
};

mod group;
mod postgres;

pub(crate) use group::GroupCommit;
use group::Reply;

/// The values of a new message computed once, before any attempt.
#[derive(Debug)]
struct MessageValues {
    client_sequence: Option<i64>,
    created_at: Value,
    /// The version the append is conditioned on, if any.
    expected: Option<i64>,
}

/// What one attempt did.
#[derive(Debug)]
enum Attempt {
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

#[derive(Debug, FromQueryResult)]
struct SequenceRow {
    seq: Option<i64>,
}

/// Appends `msg`; when `expected` is given, only while the conversation's context version is
/// `expected`, reporting the other active participants' unread counts. A unique violation is
/// a duplicate or a conflict, decided by the row holding the colliding key.
pub(crate) async fn append(
    db: &DatabaseConnection,
    group: &Arc<GroupCommit>,
    msg: NewMessage,
    expected: Option<ContextVersion>,
) -> Result<CheckedAppend, RepoError> {
    let backend = db.get_database_backend();
    let values = MessageValues {
        client_sequence: mapping::client_seq_value(msg.client_sequence)?,
        created_at: mapping::time_value(backend, msg.created_at)?,
        expected: expected.map(mapping::version_value).transpose()?,
    };
    let attempt = if backend == DbBackend::Postgres {
        match group.append(postgres::Row::new(&msg, &values)).await {
            Reply::Done(outcome) => outcome,
            Reply::Alone => postgres::attempt(db, &postgres::Row::new(&msg, &values)).await,
        }
    } else {
        let _turn = group.sqlite_turn().await;
        retry_busy(|| in_transaction(db, &msg, &values)).await
    };
    match attempt {
        Ok(Attempt::Stored { seq, recipients }) => Ok(CheckedAppend::Done {
            outcome: AppendOutcome::Created(StoredMessage {
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
            }),
            recipients: mapping::all(recipients, mapping::recipient)?,
        }),
        Ok(Attempt::NoConversation) => Err(RepoError::NotFound),
        Ok(Attempt::Stale) => Ok(CheckedAppend::StaleContext),
        Err(e) if is_unique_violation(&e) => Ok(CheckedAppend::Done {
            outcome: resolve_collision(db, &msg).await?,
            recipients: Vec::new(),
        }),
        Err(e) => Err(repo_err(e)),
    }
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

const INSERT_COLUMNS: &str = "INSERT INTO messages (id, conversation_id, sender_id, \
    sender_device_id, client_sequence, server_sequence, content, client_timestamp, created_at)";

/// SQLite: one `BEGIN IMMEDIATE` transaction: take the next sequence (checking the version in
/// the same `UPDATE`), insert, read the recipients, commit. Any failure rolls back at once, so
/// a refused insert consumes no sequence.
async fn in_transaction(
    db: &DatabaseConnection,
    msg: &NewMessage,
    v: &MessageValues,
) -> Result<Attempt, DbErr> {
    let backend = db.get_database_backend();
    let txn = begin_write(db).await?;
    let result = async {
        let guard = if v.expected.is_some() {
            " AND context_version = ?"
        } else {
            ""
        };
        let bump = format!(
            "UPDATE conversations SET last_sequence = last_sequence + 1, last_message_at = ? \
             WHERE id = ?{guard} RETURNING last_sequence AS seq"
        );
        let mut values = vec![v.created_at.clone(), msg.conversation_id.get().into()];
        values.extend(v.expected.map(Value::from));
        let bumped = SequenceRow::find_by_statement(stmt(backend, &bump, values))
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

/// The sequence `UPDATE` matched no row: the conversation is missing, or its version moved.
async fn missed<C: ConnectionTrait>(conn: &C, id: ConversationId) -> Result<Attempt, DbErr> {
    Ok(match current_version(conn, id).await? {
        None => Attempt::NoConversation,
        Some(_) => Attempt::Stale,
    })
}

/// After a unique violation: the row holding the colliding key decides.
async fn resolve_collision(
    db: &DatabaseConnection,
    msg: &NewMessage,
) -> Result<AppendOutcome, RepoError> {
    let existing = match select::message_by_id(db, msg.id).await? {
        Some(m) => Some(m),
        None => match msg.client_sequence {
            Some(seq) => {
                by_client_sequence(
                    db,
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

async fn by_client_sequence(
    db: &DatabaseConnection,
    conversation: ConversationId,
    sender: UserId,
    device: &DeviceId,
    seq: ClientSequence,
) -> Result<Option<StoredMessage>, RepoError> {
    let rest = "WHERE m.conversation_id = ? AND m.sender_id = ? AND m.sender_device_id = ? \
                AND m.client_sequence = ?";
    let values = vec![
        conversation.get().into(),
        sender.get().into(),
        device.as_str().into(),
        mapping::client_seq_value(Some(seq))?.into(),
    ];
    select::one_message(db, rest, values).await
}
