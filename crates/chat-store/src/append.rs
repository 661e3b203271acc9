//! The write path of messages: the next sequence of the conversation, the insert and the other
//! participants' unread counts, in one transaction (one statement on PostgreSQL, shared by
//! concurrent appends: `group`), conditioned on the conversation's context version.
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
use sea_orm::{DatabaseConnection, DbBackend};

use crate::{
    error::{is_sqlite_busy, is_unique_violation, repo_err},
    mapping, select,
    sql::{BUSY_BUDGET, retry_busy_within},
};

mod attempt;
mod group;
mod postgres;
mod sqlite;

use attempt::{Attempt, MessageValues};
pub(crate) use group::GroupCommit;
use group::Reply;

/// How long a SQLite append waits for this node's turn to write, at most (with the 1 s busy
/// timeout, the request stays within 3 s).
const SQLITE_TURN_WAIT: std::time::Duration = std::time::Duration::from_millis(1_500);
/// After a SQLite write failed busy, an append that waited this long for its turn answers
/// `unavailable` without trying.
const SQLITE_FAILING_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Appends `msg` only while the conversation's context version is `expected`, reporting the
/// other active participants' unread counts. A unique violation is a duplicate or a conflict,
/// decided by the row holding the colliding key.
pub(crate) async fn append(
    db: &DatabaseConnection,
    group: &Arc<GroupCommit>,
    msg: NewMessage,
    expected: ContextVersion,
) -> Result<CheckedAppend, RepoError> {
    let backend = db.get_database_backend();
    let values = MessageValues {
        client_sequence: mapping::client_seq_value(msg.client_sequence)?,
        created_at: mapping::time_value(backend, msg.created_at)?,
        expected: mapping::version_value(expected)?,
    };
    let attempt = if backend == DbBackend::Postgres {
        match group.append(postgres::Row::new(&msg, &values)).await {
            Reply::Done(outcome) => outcome,
            Reply::Alone => postgres::attempt(db, &postgres::Row::new(&msg, &values)).await,
            Reply::Refused(why) => return Err(RepoError::unavailable(why)),
        }
    } else {
        // Behind a write lock held elsewhere, the appends queued here answer `unavailable`
        // instead of each waiting out the busy timeout in turn: the wait for a turn is
        // bounded, and after a write that failed busy, one that already waited a while for its
        // turn does not try.
        let waiting = std::time::Instant::now();
        let Ok(_turn) = tokio::time::timeout(SQLITE_TURN_WAIT, group.sqlite_turn()).await else {
            return Err(RepoError::unavailable("no turn to write in time"));
        };
        if group.failing() && waiting.elapsed() >= SQLITE_FAILING_WAIT {
            return Err(RepoError::unavailable("the database is locked"));
        }
        // What the turn took comes off the retries' budget.
        let budget = BUSY_BUDGET.saturating_sub(waiting.elapsed());
        let written = retry_busy_within(budget, || sqlite::in_transaction(db, &msg, &values)).await;
        group.set_failing(written.as_ref().is_err_and(is_sqlite_busy));
        written
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
