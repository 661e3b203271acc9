//! The REST reads and the conversation creation of contract section 6.

use std::{collections::BTreeSet, sync::Arc};

use super::participant_conversation;
use crate::{
    block::Block,
    conversation::{
        ChatListEntry, ChatListParticipant, Conversation, Created, OneToOnePair, Participant,
        SameUserError,
    },
    error::RepoError,
    ids::{ConversationId, UserId},
    message::StoredMessage,
    mute::Mute,
    paging::{HistoryQuery, PageLimit},
    ports::{
        BlockRepository, Clock, ConversationRepository, EventPublisher, IdGenerator,
        MessageRepository, MuteRepository, PresenceStore,
    },
    presence::PresenceStatus,
    resume::ConversationHead,
};

/// Why creating a conversation failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateConversationError {
    /// The other participant is the caller.
    #[error(transparent)]
    SameUser(#[from] SameUserError),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Why reading history failed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Not a participant (or no such conversation).
    #[error("not a participant of this conversation")]
    NotParticipant,
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// A message as history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryMessage {
    /// The message.
    pub message: StoredMessage,
    /// The participants, the sender excepted, whose marker has reached it.
    pub read_by: Vec<UserId>,
}

/// A page of history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryView {
    /// Ascending by sequence.
    pub items: Vec<HistoryMessage>,
    /// Whether more exist in the paging direction.
    pub has_more: bool,
}

/// A chat list entry with its participants' presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatListItem {
    /// The entry as stored.
    pub entry: ChatListEntry,
    /// Its participants with names and presence.
    pub participants: Vec<ChatListParticipant>,
}

/// A page of the chat list, presence filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatList {
    /// Newest activity first.
    pub items: Vec<ChatListItem>,
    /// How many conversations in all.
    pub total: u64,
}

/// Conversations and the REST reads.
pub struct ConversationService {
    conversations: Arc<dyn ConversationRepository>,
    messages: Arc<dyn MessageRepository>,
    blocks: Arc<dyn BlockRepository>,
    mutes: Arc<dyn MuteRepository>,
    presence: Arc<dyn PresenceStore>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for ConversationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversationService")
            .finish_non_exhaustive()
    }
}

/// The participants of a conversation, the sender excepted, whose marker reached `message`.
#[must_use]
pub fn read_by(message: &StoredMessage, participants: &[Participant]) -> Vec<UserId> {
    participants
        .iter()
        .filter(|p| {
            p.user_id != message.sender_id && p.last_read_sequence >= message.server_sequence
        })
        .map(|p| p.user_id)
        .collect()
}

impl ConversationService {
    /// A conversation service over these ports.
    #[must_use]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per port it uses; each is its own type, so none can be swapped"
    )]
    pub fn new(
        conversations: Arc<dyn ConversationRepository>,
        messages: Arc<dyn MessageRepository>,
        blocks: Arc<dyn BlockRepository>,
        mutes: Arc<dyn MuteRepository>,
        presence: Arc<dyn PresenceStore>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            conversations,
            messages,
            blocks,
            mutes,
            presence,
            publisher,
            clock,
            ids,
        }
    }

    /// Returns the one-to-one conversation of `actor` and `other`, creating it when there is
    /// none; on creation, puts both users' live sockets into its room.
    ///
    /// # Errors
    /// [`CreateConversationError`].
    #[tracing::instrument(skip_all, fields(user.id = %actor))]
    pub async fn create_one_to_one(
        &self,
        actor: UserId,
        other: UserId,
    ) -> Result<(Conversation, Created), CreateConversationError> {
        let pair = OneToOnePair::new(actor, other)?;
        let id = ConversationId::new(self.ids.new_uuid());
        let (conversation, created) = self
            .conversations
            .find_or_create_one_to_one(pair, id, self.clock.now())
            .await?;
        if created == Created::New {
            for user in pair.users() {
                if let Err(error) = self
                    .publisher
                    .join_conversation(user, conversation.id)
                    .await
                {
                    tracing::warn!(error = %error, user.id = %user, "joining a new conversation's room failed");
                }
            }
        }
        Ok((conversation, created))
    }

    /// A page of `user`'s chat list with the other participants' presence (shown offline
    /// where a block stands).
    ///
    /// # Errors
    /// The repository's.
    pub async fn chat_list(
        &self,
        user: UserId,
        limit: PageLimit,
        offset: u64,
    ) -> Result<ChatList, RepoError> {
        let page = self
            .conversations
            .list_chat_list(user, limit, offset, self.clock.now())
            .await?;
        let everyone: BTreeSet<UserId> = page
            .items
            .iter()
            .flat_map(|e| e.participants.iter().map(|p| p.user_id))
            .collect();
        let presence = if everyone.is_empty() {
            Default::default()
        } else {
            self.presence
                .fetch_presence(everyone.into_iter().collect())
                .await?
        };
        let items = page
            .items
            .into_iter()
            .map(|entry| {
                let hidden = entry.blocked_by_me || entry.blocked_me;
                let participants = entry
                    .participants
                    .iter()
                    .map(|p| ChatListParticipant {
                        user_id: p.user_id,
                        name: p.name.clone(),
                        presence: if hidden && p.user_id != user {
                            PresenceStatus::Offline
                        } else {
                            presence
                                .get(&p.user_id)
                                .copied()
                                .unwrap_or(PresenceStatus::Offline)
                        },
                    })
                    .collect();
                ChatListItem {
                    entry,
                    participants,
                }
            })
            .collect();
        Ok(ChatList {
            items,
            total: page.total,
        })
    }

    /// A page of a conversation's history, with `readBy`.
    ///
    /// # Errors
    /// [`HistoryError`].
    #[tracing::instrument(skip_all, fields(user.id = %user, conversation.id = %conversation))]
    pub async fn history(
        &self,
        user: UserId,
        conversation: ConversationId,
        query: HistoryQuery,
    ) -> Result<HistoryView, HistoryError> {
        let found = participant_conversation(&*self.conversations, user, conversation)
            .await?
            .ok_or(HistoryError::NotParticipant)?;
        let page = self.messages.list_history(conversation, query).await?;
        let items = page
            .items
            .into_iter()
            .map(|mut message| {
                if message.sender_name.is_none() {
                    message.sender_name = found
                        .participant(message.sender_id)
                        .and_then(|p| p.name.clone());
                }
                let read_by = read_by(&message, &found.participants);
                HistoryMessage { message, read_by }
            })
            .collect();
        Ok(HistoryView {
            items,
            has_more: page.has_more,
        })
    }

    /// The blocks `user` made.
    ///
    /// # Errors
    /// The repository's.
    pub async fn list_blocks(&self, user: UserId) -> Result<Vec<Block>, RepoError> {
        self.blocks.list_user_blocks(user).await
    }

    /// The mutes of `user` in force now.
    ///
    /// # Errors
    /// The repository's.
    pub async fn list_mutes(&self, user: UserId) -> Result<Vec<Mute>, RepoError> {
        self.mutes.list_user_mutes(user, self.clock.now()).await
    }

    /// The newest sequence of each conversation `user` is an active member of (`sync:hint`,
    /// contract 4.6: read after a node may have missed live events).
    ///
    /// # Errors
    /// The repository's.
    pub async fn heads(&self, user: UserId) -> Result<Vec<ConversationHead>, RepoError> {
        self.conversations.list_conversation_heads(user).await
    }
}
