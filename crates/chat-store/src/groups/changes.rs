//! The change log as one member may see it: only changes inside their windows, and of those
//! about a message only the ones whose message is inside them too. The windows are joined in
//! the SQL that reads the changes (nothing outside them is read); messages are read as stored
//! now, so erasing one erases it from every change.

use std::collections::HashMap;

use chat_domain::{
    ConversationId, MessageId, PageLimit, RepoError, StoredMessage, UserId,
    change::{Change, ChangeBody, ChangeKind, ChangeSequence},
    ports::ChangePage,
};
use sea_orm::{DatabaseConnection, FromQueryResult, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{event_json, windows};
use crate::{error::repo_err, mapping, select, sql::marks, sql::stmt};

#[derive(Debug, FromQueryResult)]
struct ChangeRow {
    change_sequence: i64,
    kind: String,
    at: OffsetDateTime,
    message_id: Option<Uuid>,
    data: Option<String>,
}

#[derive(Debug, FromQueryResult)]
struct HeadRow {
    last_change_sequence: i64,
}

/// A window of the reader (`w`, the user bound) holding `what` (a SQL condition on `w`).
fn in_a_window(what: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM memberships w WHERE w.conversation_id = ch.conversation_id \
         AND w.user_id = ? AND {what})"
    )
}

/// Up to `limit` changes after `after` that `user` may see, ascending.
pub(super) async fn page(
    db: &DatabaseConnection,
    id: ConversationId,
    user: UserId,
    after: ChangeSequence,
    limit: PageLimit,
) -> Result<ChangePage, RepoError> {
    let backend = db.get_database_backend();
    let change_inside = in_a_window(
        "ch.change_sequence >= w.from_change \
         AND (w.until_change IS NULL OR ch.change_sequence <= w.until_change)",
    );
    let message_inside = in_a_window(
        "m.server_sequence >= w.from_sequence \
         AND (w.until_sequence IS NULL OR m.server_sequence <= w.until_sequence)",
    );
    let sql = format!(
        "SELECT ch.change_sequence, ch.kind, ch.at, ch.message_id, ch.data \
         FROM conversation_changes ch LEFT JOIN messages m ON m.id = ch.message_id \
         WHERE ch.conversation_id = ? AND ch.change_sequence > ? AND {change_inside} \
         AND (m.id IS NULL OR {message_inside}) \
         ORDER BY ch.change_sequence LIMIT ?"
    );
    let values: Vec<Value> = vec![
        id.get().into(),
        mapping::change_value(after).into(),
        user.get().into(),
        user.get().into(),
        (i64::from(limit.get()) + 1).into(),
    ];
    let mut rows = ChangeRow::find_by_statement(stmt(backend, &sql, values))
        .all(db)
        .await
        .map_err(repo_err)?;
    let wanted = usize::try_from(limit.get()).unwrap_or(usize::MAX);
    let has_more = rows.len() > wanted;
    rows.truncate(wanted);

    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.message_id).collect();
    let messages = messages_by_id(db, &ids).await?;
    let items = mapping::all(rows, |r| change(id, r, &messages))?;

    let head = HeadRow::find_by_statement(stmt(
        backend,
        "SELECT last_change_sequence FROM conversations WHERE id = ?",
        vec![id.get().into()],
    ))
    .one(db)
    .await
    .map_err(repo_err)?
    .map_or(Ok(ChangeSequence::ZERO), |r| {
        mapping::to_change(r.last_change_sequence)
    })?;
    let last_change = windows(db, id, user).await?.change_head(head);
    Ok(ChangePage {
        items,
        has_more,
        last_change,
    })
}

async fn messages_by_id(
    db: &DatabaseConnection,
    ids: &[Uuid],
) -> Result<HashMap<MessageId, StoredMessage>, RepoError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rest = format!("WHERE m.id IN ({})", marks(ids.len()));
    let values = ids.iter().map(|&id| id.into()).collect();
    let found = select::messages(db, &rest, values).await?;
    Ok(found.into_iter().map(|m| (m.id, m)).collect())
}

fn change(
    id: ConversationId,
    r: ChangeRow,
    messages: &HashMap<MessageId, StoredMessage>,
) -> Result<Change, RepoError> {
    let kind =
        ChangeKind::parse(&r.kind).ok_or_else(|| RepoError::internal("stored change kind"))?;
    let body = match (kind, r.message_id, r.data) {
        (ChangeKind::Message, Some(message), _) => ChangeBody::Message(
            messages
                .get(&MessageId::new(message))
                .cloned()
                .ok_or_else(|| RepoError::internal("a change's message is missing"))?,
        ),
        (ChangeKind::Member | ChangeKind::Conversation, _, Some(data)) => {
            ChangeBody::Group(event_json::decode(&data)?)
        }
        // Edits, deletes and reactions are not stored yet (phase B and issue 16).
        _ => return Err(RepoError::internal("stored change has no body")),
    };
    Ok(Change {
        conversation_id: id,
        sequence: mapping::to_change(r.change_sequence)?,
        at: mapping::from_datetime(r.at)?,
        body,
    })
}
