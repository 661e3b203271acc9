//! The fake [`ConversationRepository`].

use chat_domain::{
    change::GroupEvent,
    conversation::{
        ChatListEntry, ChatListPage, Conversation, ConversationKind, Created, OneToOnePair,
        Participant,
    },
    error::RepoError,
    ids::{ConversationId, UserId},
    paging::PageLimit,
    ports::{ConversationRepository, RecipientState, SendContext},
    read_marker::{MarkerAdvance, MarkerMove, ReadMarker, advance_marker, unread_count},
    resume::ConversationHead,
    sequence::ServerSequence,
    time::Timestamp,
    user::User,
};

use super::{FakeDb, db::DbState};

/// Conversations, participants and read markers in a [`FakeDb`].
#[derive(Debug, Clone)]
pub struct FakeConversationRepository {
    db: FakeDb,
}

impl FakeConversationRepository {
    /// Over `db`.
    #[must_use]
    pub fn new(db: FakeDb) -> Self {
        Self { db }
    }
}

impl DbState {
    /// `user`'s unread count in `conversation`, or `NotFound` when not an active participant.
    fn unread_of(&self, conversation: ConversationId, user: UserId) -> Result<u64, RepoError> {
        let marker = self
            .conversations
            .get(&conversation)
            .and_then(|c| c.participant(user))
            .filter(|p| p.is_active())
            .ok_or(RepoError::NotFound)?
            .last_read_sequence;
        let messages = self
            .conversation_messages(conversation)
            .map(|m| (m.server_sequence, m.sender_id));
        Ok(unread_count(user, marker, messages))
    }

    /// The active participants of `conversation` other than `sender`, with their unread counts.
    pub(super) fn recipients(
        &self,
        conversation: ConversationId,
        sender: UserId,
    ) -> Vec<RecipientState> {
        let Some(conv) = self.conversations.get(&conversation) else {
            return Vec::new();
        };
        let mut recipients: Vec<RecipientState> = conv
            .participants
            .iter()
            .filter(|p| p.user_id != sender && p.is_active())
            .map(|p| RecipientState {
                user_id: p.user_id,
                unread_count: self.unread_of(conversation, p.user_id).unwrap_or(0),
                last_read_sequence: p.last_read_sequence,
                last_read_at: p.last_read_at,
            })
            .collect();
        recipients.sort_by_key(|r| r.user_id);
        recipients
    }

    fn chat_list_entry(&self, id: ConversationId, user: UserId, now: Timestamp) -> ChatListEntry {
        let conversation = self.conversation(id).unwrap();
        let last_message = self
            .conversation_messages(id)
            .next_back()
            .map(|m| self.named(m));
        let blocks = self.blocks.iter().filter(|b| b.conversation_id == id);
        ChatListEntry {
            conversation_id: id,
            kind: conversation.kind,
            unread_count: self.unread_of(id, user).unwrap_or(0),
            muted: self
                .mutes
                .get(&(id, user))
                .is_some_and(|m| m.is_active(now)),
            blocked_by_me: blocks.clone().any(|b| b.blocker_id == user),
            blocked_me: blocks.clone().any(|b| b.blocked_id == user),
            updated_at: last_message
                .as_ref()
                .map_or(conversation.created_at, |m| m.created_at),
            last_message,
            participants: conversation.participants,
        }
    }
}

#[async_trait::async_trait]
impl ConversationRepository for FakeConversationRepository {
    async fn find_or_create_one_to_one(
        &self,
        pair: OneToOnePair,
        new_id: ConversationId,
        now: Timestamp,
    ) -> Result<(Conversation, Created), RepoError> {
        let mut state = self.db.open()?;
        if let Some(&id) = state.pairs.get(&pair) {
            return Ok((state.conversation(id).unwrap(), Created::Existing));
        }
        if state.conversations.contains_key(&new_id) {
            return Err(RepoError::Conflict);
        }
        let participants = pair.users().map(|user_id| {
            state.users.entry(user_id).or_insert(User {
                id: user_id,
                name: None,
                created_at: now,
            });
            Participant {
                user_id,
                name: None,
                role: chat_domain::group::Role::Member,
                joined_at: now,
                left_at: None,
                last_read_sequence: ServerSequence::ZERO,
                last_read_at: None,
            }
        });
        let conversation = Conversation {
            id: new_id,
            kind: ConversationKind::OneToOne,
            title: None,
            created_at: now,
            last_sequence: ServerSequence::ZERO,
            participants: participants.to_vec(),
        };
        state.conversations.insert(new_id, conversation);
        state.pairs.insert(pair, new_id);
        let created = GroupEvent::Created {
            kind: ConversationKind::OneToOne,
            title: None,
            created_by: None,
            member_ids: pair.users().to_vec(),
        };
        state.record_creation(new_id, created, now);
        Ok((state.conversation(new_id).unwrap(), Created::New))
    }

    async fn find_conversation(
        &self,
        id: ConversationId,
    ) -> Result<Option<Conversation>, RepoError> {
        Ok(self.db.open()?.conversation(id))
    }

    async fn fetch_send_context(
        &self,
        id: ConversationId,
    ) -> Result<Option<SendContext>, RepoError> {
        let state = self.db.open()?;
        let Some(conversation) = state.conversation(id) else {
            return Ok(None);
        };
        let mut blocks: Vec<_> = state
            .blocks
            .iter()
            .filter(|b| b.conversation_id == id)
            .cloned()
            .collect();
        blocks.sort_by_key(|b| (b.blocked_at, b.blocker_id, b.blocked_id));
        let mut mutes: Vec<_> = state
            .mutes
            .values()
            .filter(|m| m.conversation_id == id)
            .cloned()
            .collect();
        mutes.sort_by_key(|m| (m.muted_at, m.user_id));
        Ok(Some(SendContext {
            conversation,
            blocks,
            mutes,
            version: state.context_version(id),
        }))
    }

    async fn list_conversation_heads(
        &self,
        user: UserId,
    ) -> Result<Vec<ConversationHead>, RepoError> {
        let state = self.db.open()?;
        Ok(state
            .conversations_of(user)
            .into_iter()
            .map(|id| ConversationHead {
                conversation_id: id,
                last_sequence: state.conversations[&id].last_sequence,
            })
            .collect())
    }

    async fn list_chat_list(
        &self,
        user: UserId,
        limit: PageLimit,
        offset: u64,
        now: Timestamp,
    ) -> Result<ChatListPage, RepoError> {
        let state = self.db.open()?;
        let mut entries: Vec<ChatListEntry> = state
            .conversations_of(user)
            .into_iter()
            .map(|id| state.chat_list_entry(id, user, now))
            .collect();
        // Newest activity first; ties newest id first, so that pages are stable.
        entries.sort_by(|a, b| {
            (b.updated_at, b.conversation_id).cmp(&(a.updated_at, a.conversation_id))
        });
        let total = u64::try_from(entries.len()).unwrap();
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(limit.get()).unwrap();
        let items = entries.into_iter().skip(skip).take(take).collect();
        Ok(ChatListPage { items, total })
    }

    async fn advance_read_marker(
        &self,
        conversation: ConversationId,
        user: UserId,
        proposed: ServerSequence,
        now: Timestamp,
    ) -> Result<MarkerAdvance, RepoError> {
        let mut state = self.db.open()?;
        let conv = state
            .conversations
            .get_mut(&conversation)
            .ok_or(RepoError::NotFound)?;
        let last_sequence = conv.last_sequence;
        let participant = conv
            .participants
            .iter_mut()
            .find(|p| p.user_id == user && p.is_active())
            .ok_or(RepoError::NotFound)?;
        let current = ReadMarker {
            sequence: participant.last_read_sequence,
            read_at: participant.last_read_at,
        };
        let moved = advance_marker(current, proposed, last_sequence, now);
        if let MarkerMove::Advanced(marker) = moved {
            participant.last_read_sequence = marker.sequence;
            participant.last_read_at = marker.read_at;
        }
        // Under the same lock as the move: the count after this very marker.
        let unread_count = state.unread_of(conversation, user)?;
        Ok(MarkerAdvance {
            moved,
            unread_count,
        })
    }

    async fn unread_count(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<u64, RepoError> {
        self.db.open()?.unread_of(conversation, user)
    }

    async fn unread_counts(&self, user: UserId) -> Result<Vec<(ConversationId, u64)>, RepoError> {
        let state = self.db.open()?;
        state
            .conversations_of(user)
            .into_iter()
            .map(|id| Ok((id, state.unread_of(id, user)?)))
            .collect()
    }
}
