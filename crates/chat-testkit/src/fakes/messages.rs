//! The fake [`MessageRepository`].

use chat_domain::{
    error::RepoError,
    ids::{ConversationId, DeviceId, MessageId, UserId},
    message::{AppendOutcome, Collision, NewMessage, StoredMessage, classify_collision},
    paging::{HistoryAnchor, HistoryQuery},
    ports::{CheckedAppend, ContextVersion, HistoryPage, MessageRepository},
    read_marker::ReadTarget,
    sequence::{ClientSequence, ServerSequence},
    time::Timestamp,
};

use super::{FakeDb, db::DbState};

/// Messages in a [`FakeDb`]. Appends assign gap-free sequences under the database lock and
/// recognise resends and conflicts from the unique keys (message id; conversation, sender,
/// device and client sequence), as the SQL adapter does from its unique constraints.
#[derive(Debug, Clone)]
pub struct FakeMessageRepository {
    db: FakeDb,
}

impl FakeMessageRepository {
    /// Over `db`.
    #[must_use]
    pub fn new(db: FakeDb) -> Self {
        Self { db }
    }
}

impl DbState {
    /// What a collision with the message stored at `key` means for `new`.
    fn collide(
        &self,
        key: (ConversationId, ServerSequence),
        new: &NewMessage,
    ) -> Result<AppendOutcome, RepoError> {
        let existing = &self.messages[&key];
        match classify_collision(existing, new) {
            Collision::Duplicate => Ok(AppendOutcome::Duplicate(self.named(existing))),
            Collision::Conflict => Err(RepoError::Conflict),
        }
    }

    /// Stores a message under the lock: unique keys first (resend or conflict), then the next
    /// sequence.
    fn insert_message(&mut self, msg: NewMessage) -> Result<AppendOutcome, RepoError> {
        if let Some(&key) = self.message_ids.get(&msg.id) {
            return self.collide(key, &msg);
        }
        let client_key = msg.client_sequence.map(|cs| {
            let device = msg.sender_device_id.clone();
            (msg.conversation_id, msg.sender_id, device, cs)
        });
        if let Some(&key) = client_key
            .as_ref()
            .and_then(|k| self.client_sequences.get(k))
        {
            return self.collide(key, &msg);
        }
        let conversation = self
            .conversations
            .get_mut(&msg.conversation_id)
            .ok_or(RepoError::NotFound)?;
        let sequence = conversation.last_sequence.next();
        conversation.last_sequence = sequence;
        let stored = StoredMessage {
            id: msg.id,
            conversation_id: msg.conversation_id,
            sender_id: msg.sender_id,
            sender_name: None,
            sender_device_id: msg.sender_device_id,
            client_sequence: msg.client_sequence,
            server_sequence: sequence,
            content: msg.content,
            created_at: msg.created_at,
        };
        let key = (msg.conversation_id, sequence);
        self.message_ids.insert(msg.id, key);
        if let Some(client_key) = client_key {
            self.client_sequences.insert(client_key, key);
        }
        let created = self.named(&stored);
        self.messages.insert(key, stored);
        Ok(AppendOutcome::Created(created))
    }
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[async_trait::async_trait]
impl MessageRepository for FakeMessageRepository {
    async fn append_if_current(
        &self,
        msg: NewMessage,
        expected: ContextVersion,
    ) -> Result<CheckedAppend, RepoError> {
        let mut state = self.db.open()?;
        let (conversation, sender) = (msg.conversation_id, msg.sender_id);
        // As the SQL adapter: a stale version is answered before any unique key is looked at.
        if !state.conversations.contains_key(&conversation) {
            return Err(RepoError::NotFound);
        }
        if state.context_version(conversation) != expected {
            return Ok(CheckedAppend::StaleContext);
        }
        let outcome = state.insert_message(msg)?;
        let recipients = match outcome {
            AppendOutcome::Created(_) => state.recipients(conversation, sender),
            AppendOutcome::Duplicate(_) => Vec::new(),
        };
        Ok(CheckedAppend::Done {
            outcome,
            recipients,
        })
    }

    async fn find_message(&self, id: MessageId) -> Result<Option<StoredMessage>, RepoError> {
        let state = self.db.open()?;
        Ok(state
            .message_ids
            .get(&id)
            .map(|key| state.named(&state.messages[key])))
    }

    async fn list_history(
        &self,
        conversation: ConversationId,
        query: HistoryQuery,
    ) -> Result<HistoryPage, RepoError> {
        let state = self.db.open()?;
        let in_range = |m: &&StoredMessage| {
            query.from.is_none_or(|from| m.created_at >= from)
                && query.to.is_none_or(|to| m.created_at <= to)
        };
        let matching: Vec<&StoredMessage> = state
            .conversation_messages(conversation)
            .filter(in_range)
            .collect();
        let limit = usize_of(query.limit.get().into());
        let (page, has_more) = match query.anchor {
            HistoryAnchor::Newest { offset } => {
                let end = matching.len().saturating_sub(usize_of(offset));
                let start = end.saturating_sub(limit);
                (&matching[start..end], start > 0)
            }
            HistoryAnchor::Before(before) => {
                let end = matching.partition_point(|m| m.server_sequence < before);
                let start = end.saturating_sub(limit);
                (&matching[start..end], start > 0)
            }
            HistoryAnchor::After(after) => {
                let start = matching.partition_point(|m| m.server_sequence <= after);
                let end = matching.len().min(start.saturating_add(limit));
                (&matching[start..end], end < matching.len())
            }
        };
        Ok(HistoryPage {
            items: page.iter().map(|m| state.named(m)).collect(),
            has_more,
        })
    }

    async fn resolve_read_target(
        &self,
        conversation: ConversationId,
        target: ReadTarget,
    ) -> Result<Option<ServerSequence>, RepoError> {
        let state = self.db.open()?;
        let by_instant = target.at.and_then(|at| {
            state
                .conversation_messages(conversation)
                .filter(|m| m.created_at <= at)
                .map(|m| m.server_sequence)
                .max()
        });
        let by_ids = target
            .message_ids
            .iter()
            .filter_map(|id| state.message_ids.get(id))
            .filter(|(conv, _)| *conv == conversation)
            .map(|&(_, sequence)| sequence)
            .max();
        Ok([target.sequence, by_instant, by_ids]
            .into_iter()
            .flatten()
            .max())
    }

    async fn list_pending(
        &self,
        cursors: Vec<(ConversationId, ServerSequence)>,
        limit: u32,
    ) -> Result<HistoryPage, RepoError> {
        let state = self.db.open()?;
        let mut cursors = cursors;
        cursors.sort_unstable();
        cursors.dedup_by_key(|(conversation, _)| *conversation);
        let mut pending = cursors.iter().flat_map(|&(conversation, after)| {
            state
                .conversation_messages(conversation)
                .filter(move |m| m.server_sequence > after)
        });
        let items: Vec<StoredMessage> = pending
            .by_ref()
            .take(usize_of(limit.into()))
            .map(|m| state.named(m))
            .collect();
        let has_more = pending.next().is_some();
        Ok(HistoryPage { items, has_more })
    }

    async fn first_sequences_after(
        &self,
        conversations: Vec<ConversationId>,
        instant: Timestamp,
    ) -> Result<Vec<(ConversationId, ServerSequence)>, RepoError> {
        let state = self.db.open()?;
        let mut conversations = conversations;
        conversations.sort_unstable();
        conversations.dedup();
        Ok(conversations
            .into_iter()
            .filter_map(|c| {
                state
                    .conversation_messages(c)
                    .filter(|m| m.created_at > instant)
                    .map(|m| m.server_sequence)
                    .min()
                    .map(|first| (c, first))
            })
            .collect())
    }

    async fn last_client_sequence(
        &self,
        conversation: ConversationId,
        sender: UserId,
        device: DeviceId,
    ) -> Result<Option<ClientSequence>, RepoError> {
        let state = self.db.open()?;
        Ok(state
            .conversation_messages(conversation)
            .filter(|m| m.sender_id == sender && m.sender_device_id == device)
            .filter_map(|m| m.client_sequence)
            .max())
    }
}
