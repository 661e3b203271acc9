//! Reading messages in pages: a conversation's history, and what a returning device missed.

use chat_domain::{
    ConversationId, HistoryAnchor, HistoryQuery, RepoError, ServerSequence, ports::HistoryPage,
};
use sea_orm::{DatabaseConnection, Value};

use crate::{mapping, select};

/// One page of history, ascending. One extra row is fetched to tell whether more exist in the
/// paging direction (older for `Newest` and `Before`, newer for `After`).
pub(crate) async fn page(
    db: &DatabaseConnection,
    conversation: ConversationId,
    query: HistoryQuery,
) -> Result<HistoryPage, RepoError> {
    let backend = db.get_database_backend();
    let mut sql = String::from("WHERE m.conversation_id = ?");
    let mut values: Vec<Value> = vec![conversation.get().into()];
    if let Some(from) = query.from {
        sql.push_str(" AND m.created_at >= ?");
        values.push(mapping::time_value(backend, from)?);
    }
    if let Some(to) = query.to {
        sql.push_str(" AND m.created_at <= ?");
        values.push(mapping::time_value(backend, to)?);
    }
    let fetch = i64::from(query.limit.get()) + 1;
    let (ascending, offset) = match query.anchor {
        HistoryAnchor::Newest { offset } => (false, i64::try_from(offset).unwrap_or(i64::MAX)),
        HistoryAnchor::Before(seq) => {
            sql.push_str(" AND m.server_sequence < ?");
            values.push(mapping::seq_value(seq).into());
            (false, 0)
        }
        HistoryAnchor::After(seq) => {
            sql.push_str(" AND m.server_sequence > ?");
            values.push(mapping::seq_value(seq).into());
            (true, 0)
        }
    };
    let order = if ascending { "ASC" } else { "DESC" };
    sql.push_str(&format!(
        " ORDER BY m.server_sequence {order} LIMIT ? OFFSET ?"
    ));
    values.extend([fetch.into(), offset.into()]);

    let mut items = select::messages(db, &sql, values).await?;
    let has_more = items.len() > usize::try_from(query.limit.get()).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(query.limit.get()).unwrap_or(usize::MAX));
    if !ascending {
        items.reverse();
    }
    Ok(HistoryPage { items, has_more })
}

/// The messages after each cursor, ordered by (conversation, sequence), at most `limit`, in
/// one query.
pub(crate) async fn pending(
    db: &DatabaseConnection,
    cursors: &[(ConversationId, ServerSequence)],
    limit: u32,
) -> Result<HistoryPage, RepoError> {
    if cursors.is_empty() {
        return Ok(HistoryPage {
            items: Vec::new(),
            has_more: false,
        });
    }
    let terms = vec!["(m.conversation_id = ? AND m.server_sequence > ?)"; cursors.len()];
    let sql = format!(
        "WHERE {} ORDER BY m.conversation_id, m.server_sequence LIMIT ?",
        terms.join(" OR ")
    );
    let mut values: Vec<Value> = Vec::with_capacity(cursors.len() * 2 + 1);
    for &(conversation, after) in cursors {
        values.push(conversation.get().into());
        values.push(mapping::seq_value(after).into());
    }
    values.push((i64::from(limit) + 1).into());
    let mut items = select::messages(db, &sql, values).await?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = items.len() > limit;
    items.truncate(limit);
    Ok(HistoryPage { items, has_more })
}
