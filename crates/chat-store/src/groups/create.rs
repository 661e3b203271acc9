//! What every new conversation writes besides its row and participants: a window for each
//! first member, opening at change 1, and change 1 itself (its creation).

use chat_domain::{ConversationId, RepoError, Timestamp, UserId, change::GroupEvent};
use sea_orm::{ConnectionTrait, DbErr, Value};

use super::event_json;
use crate::{mapping, sql::stmt};

/// The bound values of [`write`]: the stored event and the instant, prepared outside the
/// transaction (they cannot fail inside it).
#[derive(Debug, Clone)]
pub(crate) struct Creation {
    id: ConversationId,
    members: Vec<UserId>,
    data: String,
    at: Value,
}

impl Creation {
    /// Change 1 of conversation `id`, `created` (a `GroupEvent::Created` naming its first
    /// members), at `now`.
    pub(crate) fn new(
        backend: sea_orm::DbBackend,
        id: ConversationId,
        created: &GroupEvent,
        now: Timestamp,
    ) -> Result<Self, RepoError> {
        let GroupEvent::Created { member_ids, .. } = created else {
            return Err(RepoError::internal("a creation is a Created event"));
        };
        Ok(Self {
            id,
            members: member_ids.clone(),
            data: event_json::encode(created)?,
            at: mapping::time_value(backend, now)?,
        })
    }

    /// Writes the windows and change 1 (the conversation row says `last_change_sequence` 1).
    pub(crate) async fn write<C: ConnectionTrait>(&self, txn: &C) -> Result<(), DbErr> {
        let backend = txn.get_database_backend();
        let id: Value = self.id.get().into();
        if !self.members.is_empty() {
            let rows = vec!["(?, ?, 1, NULL, 1, NULL)"; self.members.len()].join(", ");
            let sql = format!(
                "INSERT INTO memberships (conversation_id, user_id, from_change, until_change, \
                 from_sequence, until_sequence) VALUES {rows}"
            );
            let values = self
                .members
                .iter()
                .flat_map(|m| [id.clone(), m.get().into()])
                .collect();
            txn.execute_raw(stmt(backend, &sql, values)).await?;
        }
        let change = "INSERT INTO conversation_changes (conversation_id, change_sequence, kind, \
                      at, message_id, data) VALUES (?, 1, 'conversation', ?, NULL, ?)";
        let values = vec![id, self.at.clone(), self.data.as_str().into()];
        txn.execute_raw(stmt(backend, change, values)).await?;
        Ok(())
    }
}
