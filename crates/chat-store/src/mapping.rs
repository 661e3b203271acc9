//! Conversions between rows and domain types, in one place. Instants are stored with
//! millisecond precision; on SQLite they are written as fixed-width RFC 3339 text
//! (`2026-11-25T21:39:34.980Z`) so that text comparison and ordering follow time.

use crate::entities::{blocks, conversations, messages, mutes, participants};
use chat_domain::{
    Block, ClientSequence, ConversationId, ConversationKind, DeviceId, DisplayName, MessageContent,
    MessageId, Mute, Participant, RepoError, ServerSequence, StoredMessage, Timestamp, UserId,
    change::ChangeSequence,
    conversation::Conversation,
    group::{GroupTitle, Role},
    ports::{ContextVersion, RecipientState},
};
use sea_orm::{DbBackend, FromQueryResult, Value};
use time::OffsetDateTime;
use uuid::Uuid;

/// A message with its sender's name.
#[derive(Debug, FromQueryResult)]
pub(crate) struct MessageRow {
    #[sea_orm(nested)]
    pub message: messages::Model,
    pub sender_name: Option<String>,
}

/// A participant with their name.
#[derive(Debug, FromQueryResult)]
pub(crate) struct ParticipantRow {
    #[sea_orm(nested)]
    pub participant: participants::Model,
    pub name: Option<String>,
}

/// Another participant right after an append: marker and unread count.
#[derive(Debug, FromQueryResult)]
pub(crate) struct RecipientRow {
    pub user_id: Uuid,
    pub last_read_sequence: i64,
    pub last_read_at: Option<OffsetDateTime>,
    pub unread: i64,
}

fn corrupt(what: &str) -> RepoError {
    RepoError::internal(format!("stored {what} is invalid"))
}

/// An instant as `time` sees it.
pub(crate) fn to_datetime(ts: Timestamp) -> Result<OffsetDateTime, RepoError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts.millis()) * 1_000_000)
        .map_err(RepoError::internal)
}

/// A stored instant, truncated to the millisecond.
pub(crate) fn from_datetime(dt: OffsetDateTime) -> Result<Timestamp, RepoError> {
    i64::try_from(dt.unix_timestamp_nanos().div_euclid(1_000_000))
        .map(Timestamp::from_millis)
        .map_err(|_| corrupt("instant"))
}

/// The value to bind for an instant: a `timestamptz` on PostgreSQL, fixed-width RFC 3339 text
/// on SQLite.
pub(crate) fn time_value(backend: DbBackend, ts: Timestamp) -> Result<Value, RepoError> {
    let dt = to_datetime(ts)?;
    if backend == DbBackend::Postgres {
        return Ok(dt.into());
    }
    if !(0..=9999).contains(&dt.year()) {
        return Err(RepoError::internal("instant outside years 0..=9999"));
    }
    // The domain's one text form is fixed-width, so text order is time order.
    Ok(ts.to_rfc3339().into())
}

/// [`time_value`] of an optional instant.
pub(crate) fn opt_time_value(
    backend: DbBackend,
    ts: Option<Timestamp>,
) -> Result<Value, RepoError> {
    match ts {
        Some(ts) => time_value(backend, ts),
        None if backend == DbBackend::Postgres => Ok(Value::TimeDateTimeWithTimeZone(None)),
        None => Ok(Value::String(None)),
    }
}

fn opt_instant(dt: Option<OffsetDateTime>) -> Result<Option<Timestamp>, RepoError> {
    dt.map(from_datetime).transpose()
}

/// A sequence as stored (sequences never reach `i64::MAX`; larger ones saturate).
pub(crate) fn seq_value(seq: ServerSequence) -> i64 {
    i64::try_from(seq.get()).unwrap_or(i64::MAX)
}

/// A stored sequence.
pub(crate) fn to_seq(n: i64) -> Result<ServerSequence, RepoError> {
    u64::try_from(n)
        .map(ServerSequence::new)
        .map_err(|_| corrupt("sequence"))
}

/// A change sequence as stored (never near `i64::MAX`; larger ones saturate).
pub(crate) fn change_value(seq: ChangeSequence) -> i64 {
    i64::try_from(seq.get()).unwrap_or(i64::MAX)
}

/// A stored change sequence.
pub(crate) fn to_change(n: i64) -> Result<ChangeSequence, RepoError> {
    u64::try_from(n)
        .map(ChangeSequence::new)
        .map_err(|_| corrupt("change sequence"))
}

/// A count from SQL.
pub(crate) fn to_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A context version as stored.
pub(crate) fn version_value(v: ContextVersion) -> Result<i64, RepoError> {
    i64::try_from(v.0).map_err(|_| RepoError::internal("context version too large"))
}

/// A stored context version.
pub(crate) fn to_version(n: i64) -> Result<ContextVersion, RepoError> {
    u64::try_from(n)
        .map(ContextVersion)
        .map_err(|_| corrupt("context version"))
}

/// A stored client sequence.
pub(crate) fn client_seq_value(seq: Option<ClientSequence>) -> Result<Option<i64>, RepoError> {
    seq.map(|s| {
        i64::try_from(s.get()).map_err(|_| RepoError::internal("client sequence too large"))
    })
    .transpose()
}

pub(crate) fn display_name(name: Option<String>) -> Result<Option<DisplayName>, RepoError> {
    name.map(|n| DisplayName::new(&n).map_err(|_| corrupt("display name")))
        .transpose()
}

/// The stored conversation kind.
pub(crate) fn kind(raw: &str) -> Result<ConversationKind, RepoError> {
    ConversationKind::parse(raw).ok_or_else(|| corrupt("conversation kind"))
}

pub(crate) fn message(r: MessageRow) -> Result<StoredMessage, RepoError> {
    let m = r.message;
    Ok(StoredMessage {
        id: MessageId::new(m.id),
        conversation_id: ConversationId::new(m.conversation_id),
        sender_id: UserId::new(m.sender_id),
        sender_name: display_name(r.sender_name)?,
        sender_device_id: DeviceId::new(&m.sender_device_id).map_err(|_| corrupt("device id"))?,
        client_sequence: m
            .client_sequence
            .map(|n| u64::try_from(n).map(ClientSequence::new))
            .transpose()
            .map_err(|_| corrupt("client sequence"))?,
        server_sequence: to_seq(m.server_sequence)?,
        content: MessageContent::from_trusted(m.content),
        created_at: from_datetime(m.created_at)?,
    })
}

pub(crate) fn participant(r: ParticipantRow) -> Result<Participant, RepoError> {
    let p = r.participant;
    Ok(Participant {
        user_id: UserId::new(p.user_id),
        name: display_name(r.name)?,
        role: Role::parse(&p.role).ok_or_else(|| corrupt("role"))?,
        joined_at: from_datetime(p.joined_at)?,
        left_at: opt_instant(p.left_at)?,
        last_read_sequence: to_seq(p.last_read_sequence)?,
        last_read_at: opt_instant(p.last_read_at)?,
    })
}

/// A conversation row with its participants.
pub(crate) fn conversation(
    row: conversations::Model,
    participants: Vec<ParticipantRow>,
) -> Result<Conversation, RepoError> {
    Ok(Conversation {
        id: ConversationId::new(row.id),
        kind: kind(&row.kind)?,
        title: row
            .title
            .as_deref()
            .map(|t| GroupTitle::new(t).map_err(|_| corrupt("title")))
            .transpose()?,
        created_at: from_datetime(row.created_at)?,
        last_sequence: to_seq(row.last_sequence)?,
        participants: all(participants, participant)?,
    })
}

pub(crate) fn recipient(r: RecipientRow) -> Result<RecipientState, RepoError> {
    Ok(RecipientState {
        user_id: UserId::new(r.user_id),
        unread_count: to_count(r.unread),
        last_read_sequence: to_seq(r.last_read_sequence)?,
        last_read_at: opt_instant(r.last_read_at)?,
    })
}

pub(crate) fn block(m: blocks::Model) -> Result<Block, RepoError> {
    Ok(Block {
        conversation_id: ConversationId::new(m.conversation_id),
        blocker_id: UserId::new(m.blocker_id),
        blocked_id: UserId::new(m.blocked_id),
        blocked_at: from_datetime(m.blocked_at)?,
    })
}

pub(crate) fn mute(m: mutes::Model) -> Result<Mute, RepoError> {
    Ok(Mute {
        conversation_id: ConversationId::new(m.conversation_id),
        user_id: UserId::new(m.user_id),
        muted_at: from_datetime(m.muted_at)?,
        muted_until: opt_instant(m.muted_until)?,
    })
}

/// Maps every row, failing on the first bad one.
pub(crate) fn all<R, T>(
    rows: Vec<R>,
    f: impl Fn(R) -> Result<T, RepoError>,
) -> Result<Vec<T>, RepoError> {
    rows.into_iter().map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_instants_are_fixed_width_and_round_trip() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_500, "1970-01-01T00:00:01.500Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
        ];
        for (ms, text) in cases {
            let ts = Timestamp::from_millis(ms);
            assert_eq!(
                time_value(DbBackend::Sqlite, ts).ok(),
                Some(Value::from(text))
            );
            let dt = to_datetime(ts).ok();
            assert_eq!(dt.and_then(|d| from_datetime(d).ok()), Some(ts));
        }
    }
}
