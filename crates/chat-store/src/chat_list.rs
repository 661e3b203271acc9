//! The chat list: one page in a fixed number of queries, whatever its size (the page, then its
//! participants, last messages, unread counts, mutes and blocks, each batched by conversation).

use std::collections::{HashMap, HashSet};

use chat_domain::{
    ConversationId, PageLimit, RepoError, Timestamp, UserId,
    conversation::{ChatListEntry, ChatListPage},
};
use sea_orm::{DatabaseConnection, FromQueryResult, Value};
use uuid::Uuid;

use crate::{
    entities::{blocks, conversations},
    error::repo_err,
    mapping,
    select::{self, ACTIVE_CONVERSATIONS, MUTE_IN_FORCE, participants_of},
    sql::{marks, stmt},
    unread::unread_by_conversation,
};

#[derive(Debug, FromQueryResult)]
struct CountRow {
    n: i64,
}

#[derive(Debug, FromQueryResult)]
struct MutedRow {
    conversation_id: Uuid,
}

/// `user`'s chat list page, newest activity (last message, else creation) first.
pub(crate) async fn page(
    db: &DatabaseConnection,
    user: UserId,
    limit: PageLimit,
    offset: u64,
    now: Timestamp,
) -> Result<ChatListPage, RepoError> {
    let backend = db.get_database_backend();
    let me: Value = user.get().into();

    let total_sql = format!("SELECT COUNT(*) AS n {ACTIVE_CONVERSATIONS}");
    let total = CountRow::find_by_statement(stmt(backend, &total_sql, vec![me.clone()]))
        .one(db)
        .await
        .map_err(repo_err)?
        .map_or(0, |r| mapping::to_count(r.n));

    let page_sql = format!(
        "SELECT c.* {ACTIVE_CONVERSATIONS} \
         ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT ? OFFSET ?"
    );
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let values = vec![me.clone(), i64::from(limit.get()).into(), offset.into()];
    let rows = conversations::Model::find_by_statement(stmt(backend, &page_sql, values))
        .all(db)
        .await
        .map_err(repo_err)?;
    if rows.is_empty() {
        return Ok(ChatListPage {
            items: Vec::new(),
            total,
        });
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let in_ids = marks(ids.len());
    let id_values = || ids.iter().map(|&id| Value::from(id));

    let mut participants: HashMap<Uuid, Vec<_>> = HashMap::new();
    for row in participants_of(db, &ids).await.map_err(repo_err)? {
        participants
            .entry(row.participant.conversation_id)
            .or_default()
            .push(mapping::participant(row)?);
    }

    // Each conversation's newest message (the same plan as from `conversations` first, on
    // both backends: `c` by its key, then `m` by the sequence index).
    let last_sql = format!(
        "JOIN conversations c ON c.id = m.conversation_id AND c.last_sequence = m.server_sequence \
         WHERE c.id IN ({in_ids})"
    );
    let mut last: HashMap<Uuid, _> = select::messages(db, &last_sql, id_values().collect())
        .await?
        .into_iter()
        .map(|m| (m.conversation_id.get(), m))
        .collect();

    let unread: HashMap<ConversationId, u64> = unread_by_conversation(db, user, Some(&ids))
        .await?
        .into_iter()
        .collect();

    let muted_sql = format!(
        "SELECT conversation_id FROM mutes WHERE user_id = ? AND conversation_id IN ({in_ids}) \
         AND {MUTE_IN_FORCE}"
    );
    let mut values = vec![me.clone()];
    values.extend(id_values());
    values.push(mapping::time_value(backend, now)?);
    let muted: HashSet<Uuid> = MutedRow::find_by_statement(stmt(backend, &muted_sql, values))
        .all(db)
        .await
        .map_err(repo_err)?
        .into_iter()
        .map(|r| r.conversation_id)
        .collect();

    let blocks_sql = format!(
        "SELECT * FROM blocks WHERE conversation_id IN ({in_ids}) AND (blocker_id = ? OR blocked_id = ?)"
    );
    let mut values: Vec<Value> = id_values().collect();
    values.extend([me.clone(), me]);
    let blocks = blocks::Model::find_by_statement(stmt(backend, &blocks_sql, values))
        .all(db)
        .await
        .map_err(repo_err)?;

    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let id = ConversationId::new(row.id);
        let created_at = mapping::from_datetime(row.created_at)?;
        let updated_at = match row.last_message_at {
            Some(at) => mapping::from_datetime(at)?,
            None => created_at,
        };
        let here = blocks.iter().filter(|b| b.conversation_id == row.id);
        items.push(ChatListEntry {
            conversation_id: id,
            kind: mapping::kind(&row.kind)?,
            participants: participants.remove(&row.id).unwrap_or_default(),
            last_message: last.remove(&row.id),
            unread_count: unread.get(&id).copied().unwrap_or(0),
            muted: muted.contains(&row.id),
            blocked_by_me: here.clone().any(|b| b.blocker_id == user.get()),
            blocked_me: here.clone().any(|b| b.blocked_id == user.get()),
            updated_at,
        });
    }
    Ok(ChatListPage { items, total })
}
